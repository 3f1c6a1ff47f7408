package compliance_test

import (
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/compliance"
)

// TestJudgeListPrice: a struck-through list price must be the lowest price
// of the 7 days before the current price started.
func TestJudgeListPrice(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	pp := func(fen int64, ago time.Duration) catalog.PricePoint {
		return catalog.PricePoint{PriceFen: fen, At: now.Add(-ago)}
	}
	for _, c := range []struct {
		name      string
		list, now int64
		hist      []catalog.PricePoint
		sev       compliance.Severity
		lowest    int64
	}{
		{"NoListPrice", 0, 3900, []catalog.PricePoint{pp(3900, 30*day)}, "", 0},
		{"ListNotAbovePrice", 3900, 3900, nil, "", 0},
		{"BackedByTheWeekBefore", 6900, 3900, []catalog.PricePoint{pp(6900, 20*day), pp(3900, 2*day)}, "", 6900},
		{"LowerPriceInTheWeek", 6900, 3900, []catalog.PricePoint{pp(6900, 20*day), pp(5900, 5*day), pp(3900, 2*day)}, compliance.Block, 5900},
		{"LowerPriceJustBeforeTheWeek", 6900, 3900, []catalog.PricePoint{pp(4900, 30*day), pp(6900, 10*day), pp(3900, 2*day)}, "", 6900},
		{"NewSKU", 6900, 3900, []catalog.PricePoint{pp(3900, 1*day)}, compliance.NeedsEvidence, 0},
		{"HistoryShorterThanTheWeek", 6900, 3900, []catalog.PricePoint{pp(6900, 3*day), pp(3900, 1*day)}, compliance.NeedsEvidence, 6900},
		{"ShortHistoryButLower", 6900, 3900, []catalog.PricePoint{pp(5900, 3*day), pp(3900, 1*day)}, compliance.Block, 5900},
		// an edit being reviewed: the new price is not in the history yet, the cut is now
		{"EditCutsNow", 6900, 3900, []catalog.PricePoint{pp(6900, 30*day)}, "", 6900},
		{"EditCutsNowAfterASale", 6900, 3900, []catalog.PricePoint{pp(6900, 30*day), pp(4900, 3*day)}, compliance.Block, 4900},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := compliance.JudgeListPrice(c.list, c.now, c.hist, now)
			if v.Severity != c.sev || (c.sev != "" && v.LowestFen != c.lowest) {
				t.Fatalf("%+v, want %q lowest %d", v, c.sev, c.lowest)
			}
		})
	}
	// The finding cites the law and the figures; a price record on file
	// satisfies a missing history, not a false list price.
	rs := compliance.Base()
	f := rs.ListPriceFinding(compliance.PriceVerdict{Severity: compliance.Block, LowestFen: 5900}, 6900, 1)
	if f == nil || f.Rule != "price-false" || f.Law == "" || f.Match != "划线价 ¥69.00" || f.Span != (compliance.Span{0, 10}) {
		t.Fatalf("%+v", f)
	}
	withRecord := rs.With("m1", nil, []compliance.Evidence{{Kind: compliance.EvPrice, ProductID: 1, Reference: "POS 流水 11-28"}}, now)
	if f := withRecord.ListPriceFinding(compliance.PriceVerdict{Severity: compliance.NeedsEvidence}, 6900, 1); f != nil {
		t.Fatalf("record on file, still %+v", f)
	}
	if f := withRecord.ListPriceFinding(compliance.PriceVerdict{Severity: compliance.Block, LowestFen: 5900}, 6900, 1); f == nil {
		t.Fatal("a record on file excused a false list price")
	}
}
