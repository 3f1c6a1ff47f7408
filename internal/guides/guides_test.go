package guides_test

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/guides"
)

func TestShareCodes(t *testing.T) {
	g := &guides.Signer{Key: []byte("k1")}
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	code := g.Sign(7, guides.Sharer{Kind: guides.KindStaff, ID: 42}, now)
	if len(code) > 32 {
		t.Fatalf("code %q longer than an order keeps", code)
	}
	s, at, ok := g.Verify(7, code, now.Add(time.Hour))
	if !ok || s.ID != 42 || s.Kind != guides.KindStaff || !at.Equal(now) {
		t.Fatalf("verify: %+v %v %v", s, at, ok)
	}
	bad := map[string]string{
		"other shop":      "",
		"other key":       "",
		"stale":           "",
		"guide named":     "g-li",
		"id changed":      "s1a" + code[strings.Index(code, "."):],
		"mac cut":         code[:len(code)-1],
		"future":          g.Sign(7, guides.Sharer{Kind: guides.KindStaff, ID: 42}, now.Add(time.Hour)),
		"unknown kind":    "x" + code[1:],
		"leading zero id": "s016" + code[3:],
	}
	for name, c := range bad {
		var ok bool
		switch name {
		case "other shop":
			_, _, ok = g.Verify(8, code, now)
		case "other key":
			_, _, ok = (&guides.Signer{Key: []byte("k2")}).Verify(7, code, now)
		case "stale":
			_, _, ok = g.Verify(7, code, now.Add(guides.CodeTTL+time.Second))
		default:
			_, _, ok = g.Verify(7, c, now)
		}
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
	// Last touch: the cookie holds the code and when it was opened.
	cookie := g.Touch(7, code, now.Add(time.Hour))
	if got, ok := g.Touched(7, cookie, now.Add(guides.Window)); !ok || got != code {
		t.Fatalf("touch within the window: %q %v", got, ok)
	}
	if _, ok := g.Touched(7, cookie, now.Add(time.Hour+guides.Window+time.Second)); ok {
		t.Fatal("a touch older than the window still attributes")
	}
	moved := strings.Replace(cookie, "~", "~1", 1)
	if _, ok := g.Touched(7, moved, now.Add(2*time.Hour)); ok {
		t.Fatal("a cookie with a changed time verified")
	}
}

func TestRatesFor(t *testing.T) {
	rs := guides.Rates{{RateBP: 300}, {Category: "乳品", RateBP: 500}, {ProductID: 9, RateBP: 800}}
	if err := rs.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p    int64
		cat  string
		want int64
	}{{9, "乳品", 800}, {3, "乳品", 500}, {3, "水果", 300}} {
		if got := rs.For(c.p, c.cat); got != c.want {
			t.Errorf("For(%d,%s) = %d, want %d", c.p, c.cat, got, c.want)
		}
	}
	if (guides.Rates{}).For(1, "") != 0 {
		t.Error("no rates: not 0")
	}
	for _, bad := range []guides.Rates{{{RateBP: -1}}, {{RateBP: 5001}}, {{ProductID: 1, Category: "chilled", RateBP: 1}}, {{Category: " 水果", RateBP: 1}}, {{Category: "一二三四五六七八九十一二三四五六七八九十一", RateBP: 1}}, {{RateBP: 1}, {RateBP: 2}}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestStatementAddsUp: for random orders with random refunds and rates, the
// statement's bases add up to Σ (total − refunded), the summaries to the
// lines, and each line's commission is its base × rate rounded half up.
func TestStatementAddsUp(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	cats := []string{"chilled", "frozen", "ambient"}
	for round := 0; round < 200; round++ {
		var orders []guides.OrderRow
		var want int64
		for i := 0; i < 1+rng.Intn(20); i++ {
			o := guides.OrderRow{OrderID: int64(i + 1), GuideCode: []string{"g-a", "g-b"}[rng.Intn(2)], StoreID: int64(1 + rng.Intn(2))}
			for j := 0; j < 1+rng.Intn(4); j++ {
				l := guides.OrderLine{ProductID: int64(rng.Intn(5)), Category: cats[rng.Intn(3)], Quantity: 1, TotalFen: int64(rng.Intn(10000))}
				o.Lines = append(o.Lines, l)
				o.TotalFen += l.TotalFen
			}
			if rng.Intn(3) == 0 && o.TotalFen > 0 {
				o.RefundedFen = rng.Int63n(o.TotalFen + 1)
			}
			want += o.TotalFen - o.RefundedFen
			orders = append(orders, o)
		}
		rates := guides.Rates{{RateBP: int64(rng.Intn(1000))}, {Category: "chilled", RateBP: int64(rng.Intn(1000))}, {ProductID: 2, RateBP: int64(rng.Intn(1000))}}
		st := guides.BuildStatement("2026-12", time.Time{}, time.Time{}, orders, rates)
		if st.Total.BaseFen != want {
			t.Fatalf("round %d: base %d, orders say %d", round, st.Total.BaseFen, want)
		}
		var lines guides.Summary
		for _, l := range st.Lines {
			if l.BaseFen < 0 || l.RefundFen < 0 || l.BaseFen+l.RefundFen != l.SalesFen {
				t.Fatalf("line %+v: base + refund ≠ sales", l)
			}
			if l.CommissionFen != (l.BaseFen*l.RateBP+5000)/10000 {
				t.Fatalf("line %+v: commission", l)
			}
			lines.BaseFen += l.BaseFen
			lines.CommissionFen += l.CommissionFen
		}
		var sums guides.Summary
		for _, s := range st.Summaries {
			sums.BaseFen += s.BaseFen
			sums.CommissionFen += s.CommissionFen
			sums.Orders += s.Orders
		}
		if lines.BaseFen != st.Total.BaseFen || sums.BaseFen != st.Total.BaseFen || lines.CommissionFen != st.Total.CommissionFen || sums.CommissionFen != st.Total.CommissionFen || sums.Orders != int64(len(orders)) {
			t.Fatalf("round %d: lines %+v, summaries %+v, total %+v", round, lines, sums, st.Total)
		}
	}
}
