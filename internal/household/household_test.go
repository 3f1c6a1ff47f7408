package household_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/household"
)

// TestEstimateLearnsTheRate: a household drinking a fifth of its milk a day,
// read every 3 hours with sensor noise and a refill, gets a rate near 0.2
// and a run-out within a few hours of the truth; the refill keeps the rate;
// replayed old readings change nothing.
func TestEstimateLearnsTheRate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	const rate = 0.2 // per day
	level := 1.0
	var e household.Estimate
	at := start
	for i := 0; i < 40; i++ { // 5 days
		at = at.Add(3 * time.Hour)
		level -= rate * 3 / 24
		if i == 20 {
			level = 0.95 // refilled
		}
		noisy := math.Min(1, math.Max(0, level+(rng.Float64()-0.5)*0.02))
		e = e.Observe(household.Reading{Category: "乳品", Level: noisy, At: at})
	}
	if math.Abs(e.Rate-rate) > 0.03 {
		t.Fatalf("rate %.3f, want about %.2f", e.Rate, rate)
	}
	truth := at.Add(time.Duration(level / rate * 24 * float64(time.Hour)))
	if e.RunoutAt == nil || e.RunoutAt.Sub(truth).Abs() > 6*time.Hour {
		t.Fatalf("run-out %v, truth %v", e.RunoutAt, truth)
	}
	before := e
	e = e.Observe(household.Reading{Category: "乳品", Level: 0.01, At: at.Add(-time.Hour)})
	if e != before {
		t.Fatalf("an old reading changed the estimate: %+v → %+v", before, e)
	}
}

func TestDue(t *testing.T) {
	now := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC) // 12:00 in Shanghai
	runout := now.Add(20 * time.Hour)
	e := household.Estimate{Level: 0.2, Samples: 5, Rate: 0.25, RunoutAt: &runout}
	if !e.Due(now) {
		t.Fatal("a category running out in 20 h is due")
	}
	far := now.Add(5 * 24 * time.Hour)
	for name, x := range map[string]household.Estimate{
		"few readings": {Level: 0.2, Samples: 2, Rate: 0.25, RunoutAt: &runout},
		"far off":      {Level: 0.2, Samples: 5, Rate: 0.05, RunoutAt: &far},
		"still full":   {Level: 0.8, Samples: 5, Rate: 1, RunoutAt: &runout},
		"no rate":      {Level: 0.2, Samples: 5},
	} {
		if x.Due(now) {
			t.Errorf("%s: due", name)
		}
	}
}

func TestCheckReadings(t *testing.T) {
	now := time.Now().UTC()
	good := []household.Reading{{Category: " 乳品 ", Level: 0.4}}
	if err := household.CheckReadings(good, now); err != nil || good[0].Category != "乳品" || good[0].At != now {
		t.Fatalf("%v %+v", err, good)
	}
	for name, rs := range map[string][]household.Reading{
		"none":     nil,
		"level":    {{Category: "乳品", Level: 1.2}},
		"nan":      {{Category: "乳品", Level: math.NaN()}},
		"category": {{Category: "", Level: 0.1}},
		"future":   {{Category: "乳品", Level: 0.1, At: now.Add(time.Hour)}},
		"ancient":  {{Category: "乳品", Level: 0.1, At: now.Add(-40 * 24 * time.Hour)}},
		"too many": make([]household.Reading, 101),
	} {
		if err := household.CheckReadings(rs, now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
