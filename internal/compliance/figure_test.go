package compliance_test

import (
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/compliance"
)

// priceRef is the price-reference finding of text (the engine's own).
func priceRef(t *testing.T, text string) compliance.Finding {
	t.Helper()
	for _, f := range compliance.Base().Check(text, compliance.Input{Context: compliance.CtxProduct}).Findings {
		if f.Rule == "price-reference" {
			return f
		}
	}
	t.Fatalf("%q: no price-reference finding", text)
	return compliance.Finding{}
}

// TestPriceFigure reads the earlier price written right after a claim of
// the shop's own earlier price, and nothing else.
func TestPriceFigure(t *testing.T) {
	for _, tc := range []struct {
		text string
		fen  int64
		ok   bool
	}{
		{"原价99元，今天49", 9900, true},
		{"原价：¥99.00 直播间49", 9900, true},
		{"原价 ￥12.5", 1250, true},
		{"以前卖128现在只要88", 12800, true},
		{"日常价为39.90元", 3990, true},
		{"原價99元", 9900, true},       // traditional characters, as written
		{"原价九十九", 0, false},         // no figure
		{"市场价99元", 0, false},        // another seller's price: evidence only
		{"原价1234567890元", 0, false}, // not a grocery price
		{"原价0元", 0, false},
	} {
		fen, ok := compliance.PriceFigure(tc.text, priceRef(t, tc.text))
		if fen != tc.fen || ok != tc.ok {
			t.Errorf("%q: %d %v, want %d %v", tc.text, fen, ok, tc.fen, tc.ok)
		}
	}
}

// TestFigureFinding: the history blocks a figure above a lower price of the
// 7 days before the current one, backs one that was the lowest for the
// whole window, and cannot tell with a short history.
func TestFigureFinding(t *testing.T) {
	rs := compliance.Base()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	f := priceRef(t, "原价59元")
	judge := func(hist []catalog.PricePoint) *compliance.Finding {
		return rs.FigureFinding(f, 5900, compliance.JudgeListPrice(5900, 2900, hist, now), 7)
	}
	if got := judge([]catalog.PricePoint{{PriceFen: 5900, At: now.Add(-30 * day)}, {PriceFen: 3900, At: now.Add(-3 * day)}}); got == nil || got.Severity != compliance.Block || got.Rule != "price-false" || got.Span != f.Span {
		t.Fatalf("sold at ¥39 3 days ago: %+v", got)
	}
	if got := judge([]catalog.PricePoint{{PriceFen: 5900, At: now.Add(-30 * day)}}); got != nil {
		t.Fatalf("¥59 for 30 days before the cut backs it: %+v", got)
	}
	if got := judge([]catalog.PricePoint{{PriceFen: 5900, At: now.Add(-2 * day)}}); got == nil || got.Severity != compliance.NeedsEvidence || got.Rule != "price-reference" {
		t.Fatalf("2 days of history cannot tell: %+v", got)
	}
}
