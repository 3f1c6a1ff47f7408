package freshness_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/freshness"
)

// TestLadderProperties: over random rules, prices and times, a ladder price
// is never below the floor, never above the regular price, never rises as
// expiry comes closer, and is 0 (not for sale) once the lot expired.
func TestLadderProperties(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	exp := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 2000; i++ {
		lead := 1 + rnd.IntN(30*24)
		r := freshness.Rule{Storage: catalog.Chilled, LeadHours: lead, FloorPercent: 1 + rnd.IntN(100)}
		hours, pct := lead, 100
		for n := 1 + rnd.IntN(5); n > 0 && hours > 0 && pct > 1; n-- {
			pct = 1 + rnd.IntN(pct)
			r.Ladder = append(r.Ladder, freshness.Step{HoursLeft: hours, Percent: pct})
			hours = rnd.IntN(hours)
		}
		if err := (freshness.Rules{r}).Validate(); err != nil {
			t.Fatalf("generated rule refused: %+v: %v", r, err)
		}
		regular := int64(1 + rnd.IntN(100_000))
		floor := (regular*int64(r.FloorPercent) + 99) / 100
		prev := regular
		for h := lead + 5; h >= -2; h -= 1 + rnd.IntN(7) {
			now := exp.Add(-time.Duration(h)*time.Hour - time.Duration(rnd.IntN(3600))*time.Second)
			p := r.Price(regular, exp, now)
			if !now.Before(exp) {
				if p != 0 {
					t.Fatalf("rule %+v: expired lot priced %d", r, p)
				}
				continue
			}
			if p < floor || p > regular {
				t.Fatalf("rule %+v regular %d: price %d outside [floor %d, regular] with %v left", r, regular, p, floor, exp.Sub(now))
			}
			if p > prev {
				t.Fatalf("rule %+v: price rose from %d to %d as expiry came closer", r, prev, p)
			}
			prev = p
		}
	}
}

func TestDefaultLadder(t *testing.T) {
	rs := freshness.DefaultRules()
	if err := rs.Validate(); err != nil {
		t.Fatal(err)
	}
	chilled, _ := rs.For(catalog.Chilled)
	exp := time.Date(2026, 12, 8, 20, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		left time.Duration
		want int64
	}{
		{72 * time.Hour, 1990}, {47 * time.Hour, 1592}, {20 * time.Hour, 1194}, {2 * time.Hour, 995}, {-time.Minute, 0},
	} {
		if got := chilled.Price(1990, exp, exp.Add(-c.left)); got != c.want {
			t.Errorf("chilled 19.90 with %v left: %d, want %d", c.left, got, c.want)
		}
	}
	// The floor wins over a steeper rung.
	steep := freshness.Rule{Storage: catalog.Chilled, LeadHours: 24, FloorPercent: 70, Ladder: []freshness.Step{{HoursLeft: 24, Percent: 50}}}
	if got := steep.Price(1000, exp, exp.Add(-time.Hour)); got != 700 {
		t.Errorf("floor 70%% of 10.00 with a 50%% rung: %d, want 700", got)
	}
}

func TestRulesValidate(t *testing.T) {
	for name, rs := range map[string]freshness.Rules{
		"ErrDuplicateStorage": {{Storage: catalog.Chilled, LeadHours: 24, FloorPercent: 50, Ladder: []freshness.Step{{HoursLeft: 24, Percent: 80}}}, {Storage: catalog.Chilled, LeadHours: 24, FloorPercent: 50, Ladder: []freshness.Step{{HoursLeft: 24, Percent: 80}}}},
		"ErrUnknownStorage":   {{Storage: "warm", LeadHours: 24, FloorPercent: 50, Ladder: []freshness.Step{{HoursLeft: 24, Percent: 80}}}},
		"ErrRisingPrice":      {{Storage: catalog.Chilled, LeadHours: 48, FloorPercent: 50, Ladder: []freshness.Step{{HoursLeft: 48, Percent: 60}, {HoursLeft: 24, Percent: 80}}}},
		"ErrRungPastLead":     {{Storage: catalog.Chilled, LeadHours: 24, FloorPercent: 50, Ladder: []freshness.Step{{HoursLeft: 48, Percent: 80}}}},
		"ErrNoLadder":         {{Storage: catalog.Chilled, LeadHours: 24, FloorPercent: 50}},
		"ErrFloorZero":        {{Storage: catalog.Chilled, LeadHours: 24, FloorPercent: 0, Ladder: []freshness.Step{{HoursLeft: 24, Percent: 80}}}},
	} {
		if err := rs.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCandidates(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	lots := []freshness.Lot{
		{SKUID: 1, SKUName: "500g", Storage: catalog.Chilled, ExpiresAt: now.Add(30 * time.Hour), Available: 12, RegularFen: 1990},
		{SKUID: 2, Storage: catalog.Chilled, ExpiresAt: now.Add(72 * time.Hour), Available: 5, RegularFen: 990}, // not yet
		{SKUID: 3, Storage: catalog.Chilled, ExpiresAt: now.Add(-time.Hour), Available: 5, RegularFen: 990},     // expired
		{SKUID: 4, Storage: catalog.Chilled, ExpiresAt: now.Add(5 * time.Hour), Available: 0, RegularFen: 990},  // none left
		{SKUID: 5, Storage: catalog.Ambient, ExpiresAt: now.Add(10 * 24 * time.Hour), Available: 3, RegularFen: 2990},
		{SKUID: 6, Storage: catalog.Chilled, ExpiresAt: now.Add(6 * time.Hour), Available: 2, RegularFen: 1000, SKUName: "2斤装"},
	}
	got := freshness.Candidates(freshness.DefaultRules(), lots, now)
	if len(got) != 3 || got[0].SKUID != 6 || got[1].SKUID != 1 || got[2].SKUID != 5 {
		t.Fatalf("candidates %+v, want SKUs 6, 1, 5 (soonest first)", got)
	}
	if got[0].PriceFen != 500 || got[0].GramsEach != 1000 || got[1].PriceFen != 1592 || got[1].GramsEach != 500 || got[2].PriceFen != 2242 {
		t.Fatalf("prices/weights %+v", got)
	}
}

func TestGramsIn(t *testing.T) {
	for in, want := range map[string]int64{"500g": 500, "1.5kg": 1500, "2斤": 1000, "250 克": 250, "1公斤装": 1000, "6 个": 0, "": 0, "350ML": 0} {
		if got := freshness.GramsIn(in); got != want {
			t.Errorf("GramsIn(%q) = %d, want %d", in, got, want)
		}
	}
}
