package insight_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/shelflive/shelflive/internal/insight"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Fatalf("%s = %.6f, want %.6f ± %g", what, got, want, tol)
	}
}

// TestZTestPublished checks the z-test against statsmodels' documented
// example: proportions_ztest(count=[5, 12], nobs=[83, 99]) has p = 0.159
// (z = −1.408 for the first minus the second; ours is B minus A), and
// against the normal table: z = 1.96 ⇔ p = 0.05.
func TestZTestPublished(t *testing.T) {
	z, p := insight.ZTest(5, 83, 12, 99)
	near(t, "p", p, 0.159, 0.0005)
	near(t, "z", z, 1.408, 0.001)
	near(t, "survival(1.96)", 2*distuv.UnitNormal.Survival(1.96), 0.05, 0.0001)
	if _, p := insight.ZTest(0, 0, 3, 10); p != 1 {
		t.Fatalf("no trials: p %v", p)
	}
}

// TestProbBBeatsA checks the closed form against values known exactly and
// against numerical integration of the two Beta densities.
func TestProbBBeatsA(t *testing.T) {
	// Beta(1,1) vs Beta(2,1): P = E[X] for X ~ Beta(2,1) = 2/3.
	near(t, "0/0 vs 1/1", insight.ProbBBeatsA(0, 0, 1, 1), 2.0/3, 1e-12)
	near(t, "0/0 vs 0/1", insight.ProbBBeatsA(0, 0, 0, 1), 1.0/3, 1e-12)
	near(t, "same data", insight.ProbBBeatsA(40, 400, 40, 400), 0.5, 1e-9)
	for _, c := range [][4]int64{{5, 83, 12, 99}, {20, 400, 48, 380}, {3, 50, 1, 60}} {
		a := distuv.Beta{Alpha: float64(1 + c[0]), Beta: float64(1 + c[1] - c[0])}
		b := distuv.Beta{Alpha: float64(1 + c[2]), Beta: float64(1 + c[3] - c[2])}
		// P(B > A) = ∫ f_B(x) F_A(x) dx
		want := quad.Fixed(func(x float64) float64 { return b.Prob(x) * a.CDF(x) }, 0, 1, 2000, nil, 0)
		near(t, "integral", insight.ProbBBeatsA(c[0], c[1], c[2], c[3]), want, 1e-6)
	}
}

// TestCompareVerdict: the verdict declines before there is enough data,
// names the winner when both tests agree, and says "no clear difference"
// otherwise, in both languages.
func TestCompareVerdict(t *testing.T) {
	a := insight.Arm{Name: "桂花乌龙"}
	b := insight.Arm{Name: "白桃乌龙"}
	a.Successes, a.Trials, b.Successes, b.Trials = 2, 20, 9, 20
	c := insight.Compare("converted", a, b)
	if c.Enough || c.Winner != "" || !strings.Contains(c.Verdict, "数据还不够") || !strings.Contains(c.VerdictEN, "Not enough data") {
		t.Fatalf("too little data: %+v", c)
	}
	a.Successes, a.Trials, b.Successes, b.Trials = 20, 400, 48, 380
	c = insight.Compare("converted", a, b)
	if !c.Enough || c.Winner != "b" || c.P >= 0.05 || c.PBBeatsA <= 0.95 || !strings.HasPrefix(c.Verdict, "白桃乌龙 转化更好") || !strings.HasPrefix(c.VerdictEN, "白桃乌龙 converts better") {
		t.Fatalf("B wins: %+v", c)
	}
	a.Successes, b.Successes = 48, 20
	a.Trials, b.Trials = 380, 400
	if c = insight.Compare("asked", a, b); c.Winner != "a" || !strings.HasPrefix(c.Verdict, "桂花乌龙 被问得更多") {
		t.Fatalf("A wins: %+v", c)
	}
	a.Successes, a.Trials, b.Successes, b.Trials = 30, 300, 33, 300
	if c = insight.Compare("asked", a, b); c.Winner != "" || !strings.Contains(c.Verdict, "差别不显著") || !strings.Contains(c.VerdictEN, "No clear difference") {
		t.Fatalf("no difference: %+v", c)
	}
}

// TestCompareShownBoth: viewers counted in both arms are named after the
// verdict, which otherwise stays as it was; nobody shared, nothing added.
func TestCompareShownBoth(t *testing.T) {
	a := insight.Arm{Name: "桂花乌龙", Successes: 20, Trials: 400}
	b := insight.Arm{Name: "白桃乌龙", Successes: 48, Trials: 380}
	plain := insight.Compare("converted", a, b)
	if c := plain.WithShownBoth(0); c != plain {
		t.Fatalf("nobody shared changed the comparison: %+v", c)
	}
	c := plain.WithShownBoth(380)
	if c.ShownBoth != 380 || c.Winner != plain.Winner || !strings.HasPrefix(c.Verdict, plain.Verdict+"。注意：其中 380 位观众两款卡片都看到了，两组并不独立") ||
		!strings.HasPrefix(c.VerdictEN, plain.VerdictEN+". Note: 380 viewers saw both cards, so the two groups are not independent") {
		t.Fatalf("shared viewers: %+v", c)
	}
}

// TestCompareAcrossRooms: arms from two rooms make a comparison across
// rooms: the verdict says so first (different audiences and times, rates
// per viewer shown the card in its own room) and names each arm with its
// room, so the same product in two lives reads as two variants; arms of
// one room stay as they were.
func TestCompareAcrossRooms(t *testing.T) {
	a := insight.Arm{Name: "白桃乌龙", NameEN: "White peach oolong", Room: "tea-fri", RoomTitle: "周五上新", Successes: 6, Trials: 40}
	b := insight.Arm{Name: "白桃乌龙", NameEN: "White peach oolong", Room: "tea-sat", RoomTitle: "周六复播", Successes: 22, Trials: 40}
	c := insight.Compare("converted", a, b)
	if !c.AcrossRooms || c.Winner != "b" ||
		!strings.HasPrefix(c.Verdict, "跨直播间对比（两场的观众和时间都不同，比例按各自直播间里看到卡片的观众计算）：白桃乌龙（周六复播） 转化更好") ||
		!strings.Contains(c.Verdict, "白桃乌龙（周五上新） 15.0%（6/40）") || !strings.HasSuffix(c.Verdict, "双比例z检验 p < 0.001；B 胜出概率 > 99.9%") ||
		!strings.HasSuffix(c.VerdictEN, "two-proportion z-test p < 0.001; P(B beats A) > 99.9%") ||
		!strings.HasPrefix(c.VerdictEN, "Across two rooms (different audiences and times; each rate is per viewer shown the card in its own room): White peach oolong (周六复播) converts better") {
		t.Fatalf("across rooms: %+v", c)
	}
	// Rooms with an English title go by it in the English verdict (the
	// Chinese one is unchanged); the tests are named in both languages.
	a.RoomTitleEN, b.RoomTitleEN = "Friday launch", "Saturday rerun"
	if en := insight.Compare("converted", a, b); en.Verdict != c.Verdict || !strings.Contains(en.VerdictEN, "): White peach oolong (Saturday rerun) converts better") ||
		!strings.Contains(en.VerdictEN, "White peach oolong (Friday launch) 15.0% (6/40)") || strings.Contains(en.VerdictEN, "周") ||
		!strings.HasPrefix(en.Tests, "two-proportion z-test") || !strings.HasPrefix(en.TestsZH, "两比例 z 检验") {
		t.Fatalf("across rooms, English titles: %+v", en)
	}
	b.Successes, b.Trials = 3, 12
	if c = insight.Compare("asked", a, b); !c.AcrossRooms || c.Enough || c.Winner != "" || !strings.HasPrefix(c.Verdict, "跨直播间对比") || !strings.Contains(c.Verdict, "数据还不够") {
		t.Fatalf("across rooms, too little data: %+v", c)
	}
	b.Room = a.Room
	if c = insight.Compare("asked", a, b); c.AcrossRooms || strings.Contains(c.Verdict, "跨直播间") || strings.Contains(c.Verdict, "周五上新") {
		t.Fatalf("one room: %+v", c)
	}
}

// TestMcNemar checks McNemar's test against values worked by hand from its
// formulas (n = b + c discordant pairs):
//
//	exact, n < 25: p = min(1, 2·Σ_{k≤min(b,c)} C(n,k)/2^n)
//	  b=2, c=8:   2·(C(10,0)+C(10,1)+C(10,2))/2^10 = 2·56/1024 = 0.109375
//	  b=5, c=17:  2·(1+22+231+1540+7315+26334)/2^22 = 2·35443/4194304 = 0.016900539…
//	chi-square with continuity correction, n ≥ 25: χ² = (|b−c|−1)²/n, p = P(χ²₁ > χ²) = erfc(√(χ²/2))
//	  b=10, c=25: χ² = 14²/35 = 5.6, p = erfc(√2.8) = 0.017960…
//	  b=10, c=26: χ² = 15²/36 = 6.25, p = erfc(√3.125) = 0.012419…
func TestMcNemar(t *testing.T) {
	for _, c := range []struct {
		b, c      int64
		chi2, p   float64
		wantExact bool
	}{
		{2, 8, 0, 0.109375, true},
		{8, 2, 0, 0.109375, true},
		{5, 17, 0, 2 * 35443.0 / 4194304, true},
		{3, 3, 0, 1, true}, // 2·P(X ≤ 3 | n=6) > 1: capped
		{0, 0, 0, 1, true},
		{10, 25, 5.6, math.Erfc(math.Sqrt(2.8)), false},
		{10, 26, 6.25, math.Erfc(math.Sqrt(3.125)), false},
		{13, 13, 0, 1, false}, // |b−c| < 1: no correction below zero
	} {
		chi2, p, exact := insight.McNemar(c.b, c.c)
		if exact != c.wantExact {
			t.Fatalf("b=%d c=%d: exact %v", c.b, c.c, exact)
		}
		near(t, fmt.Sprintf("χ²(%d,%d)", c.b, c.c), chi2, c.chi2, 1e-12)
		near(t, fmt.Sprintf("p(%d,%d)", c.b, c.c), p, c.p, 1e-9)
	}
	near(t, "erfc(√2.8)", math.Erfc(math.Sqrt(2.8)), 0.017960, 1e-6)
}

// TestPairedBBeatsA: q ~ Beta(1+c, 1+b), P(q > 1/2) = P(Binomial(b+c+1, 1/2) ≤ c):
// b=2, c=8: 1 − (C(11,9)+C(11,10)+C(11,11))/2^11 = 1 − 67/2048 = 1981/2048;
// no discordant pair: Beta(1,1), 1/2; the mirror image: 1 − itself.
func TestPairedBBeatsA(t *testing.T) {
	near(t, "b=2 c=8", insight.PairedBBeatsA(2, 8), 1981.0/2048, 1e-12)
	near(t, "b=8 c=2", insight.PairedBBeatsA(8, 2), 67.0/2048, 1e-12)
	near(t, "none", insight.PairedBBeatsA(0, 0), 0.5, 1e-12)
}

// TestComparePaired: when the viewers shown both cards are most of each
// arm, the verdict is McNemar's on their two outcomes (not the independent
// z-test), says so in both languages, and declines without enough
// discordant pairs; a few shared viewers keep the independent tests and
// the note.
func TestComparePaired(t *testing.T) {
	// The demo replay's 120 viewers: 14 asked about A, 30 about B, 4 both.
	a := insight.Arm{Name: "桂花乌龙", NameEN: "Osmanthus oolong", Successes: 14, Trials: 120}
	b := insight.Arm{Name: "白桃乌龙", NameEN: "White peach oolong", Successes: 30, Trials: 120}
	indep := insight.Compare("asked", a, b)
	c := indep.WithPairs(insight.Pairs{AOnly: 10, BOnly: 26, Both: 4, Neither: 80})
	if c.Paired == nil || c.Paired.Test != "chi_square_cc" || c.Paired.ChiSquare != 6.25 || c.ShownBoth != 120 || c.Z != 0 {
		t.Fatalf("paired: %+v %+v", c, c.Paired)
	}
	near(t, "p", c.P, math.Erfc(math.Sqrt(3.125)), 1e-9)
	near(t, "P(B beats A)", c.PBBeatsA, insight.PairedBBeatsA(10, 26), 0)
	if c.P == indep.P || !c.Enough || c.Winner != "b" || !strings.HasPrefix(c.Verdict, "白桃乌龙 被问得更多：桂花乌龙 11.7%（14/120） 对 白桃乌龙 25.0%（30/120）；同一批观众看到了两款，按每位观众的两个结果做 McNemar 配对检验（卡方检验，连续性校正）：两款都看到的 120 位观众中，只问了桂花乌龙的 10 位、只问了白桃乌龙的 26 位、两款都问了的 4 位、都没有的 80 位，p = 0.012") ||
		strings.Contains(c.Verdict, "双比例z检验") || strings.Contains(c.Verdict, "并不独立") ||
		!strings.HasPrefix(c.VerdictEN, "White peach oolong is asked about more: ") || !strings.Contains(c.VerdictEN, "McNemar's paired test (chi-square with continuity correction) on each viewer's two outcomes: of 120 viewers shown both, 10 asked about Osmanthus oolong only, 26 White peach oolong only, 4 both, 80 neither, p = 0.012") ||
		!strings.HasPrefix(c.Tests, "McNemar") {
		t.Fatalf("paired verdict: %+v", c)
	}
	// Few discordant pairs: the exact test, and 2 + 8 is not enough to call.
	b.Successes = 20 // 8 + 12
	c = insight.Compare("asked", a, b).WithPairs(insight.Pairs{AOnly: 2, BOnly: 8, Both: 12, Neither: 98})
	near(t, "exact p", c.P, 0.109375, 1e-12)
	if c.Paired.Test != "exact_binomial" || !c.Enough || c.Winner != "" || !strings.Contains(c.Verdict, "两款差别不显著") || !strings.Contains(c.Verdict, "精确二项检验") || !strings.Contains(c.VerdictEN, "exact binomial") {
		t.Fatalf("exact: %+v", c)
	}
	// A product against itself: every pair concordant, nothing to call.
	c = insight.Compare("asked", a, a).WithPairs(insight.Pairs{Both: 14, Neither: 106})
	if c.Enough || c.Winner != "" || c.P != 1 || !strings.HasPrefix(c.Verdict, "数据还不够，暂不下结论：配对检验至少需要 30 位两款都看到的观众") || !strings.Contains(c.VerdictEN, "the paired test needs at least 30 viewers shown both cards") {
		t.Fatalf("concordant: %+v", c)
	}
	// One viewer of 120 shared (two lives): the independent tests and the note.
	c = indep.WithPairs(insight.Pairs{Neither: 1})
	if c.Paired != nil || c != indep.WithShownBoth(1) {
		t.Fatalf("few shared: %+v", c)
	}
}

// TestComparePairsUnlinked: a live recorded before viewers' events carried
// the customer has its 120 viewers shown both cards in "neither" although
// 14 asked about A and 30 about B. The table cannot stand for those
// outcomes: the independent tests answer with the note on shared viewers,
// and the verdict says the pairs could not be linked. Half of each arm's
// outcomes in the table is enough for the paired test.
func TestComparePairsUnlinked(t *testing.T) {
	a := insight.Arm{Name: "桂花乌龙", NameEN: "Osmanthus oolong", Successes: 14, Trials: 120}
	b := insight.Arm{Name: "白桃乌龙", NameEN: "White peach oolong", Successes: 30, Trials: 120}
	indep := insight.Compare("asked", a, b)
	for _, p := range []insight.Pairs{
		{Neither: 120}, // no viewer tied to a customer
		{AOnly: 1, Both: 6, BOnly: 8, Neither: 105}, // 7 of A's 14, 14 of B's 30
		{AOnly: 2, Both: 1, Neither: 117},           // a returning viewer or two
	} {
		c := indep.WithPairs(p)
		if c.Paired != nil || !c.PairsUnlinked || c.ShownBoth != 120 || c.Z != indep.Z || c.P != indep.P || c.PBBeatsA != indep.PBBeatsA ||
			c.Enough != indep.Enough || c.Winner != "b" || c.Tests != indep.Tests ||
			!strings.HasPrefix(c.Verdict, indep.WithShownBoth(120).Verdict+"；这些观众的提问和下单对不上人") || !strings.Contains(c.Verdict, "做不了配对检验") ||
			!strings.HasPrefix(c.VerdictEN, indep.WithShownBoth(120).VerdictEN+"; their questions and purchases cannot be linked to them") ||
			!strings.Contains(c.VerdictEN, "the paired test could not be formed") {
			t.Fatalf("unlinked %+v: %+v", p, c)
		}
	}
	// Half of each arm's outcomes linked: paired.
	if c := indep.WithPairs(insight.Pairs{AOnly: 1, Both: 6, BOnly: 9, Neither: 104}); c.Paired == nil || c.PairsUnlinked || strings.Contains(c.Verdict, "对不上") {
		t.Fatalf("half linked: %+v", c)
	}
	// No outcome in either arm: nothing to link, the paired test declines.
	none := insight.Compare("converted", insight.Arm{Name: "A", Trials: 120}, insight.Arm{Name: "B", Trials: 120}).WithPairs(insight.Pairs{Neither: 120})
	if none.Paired == nil || none.PairsUnlinked || none.Enough {
		t.Fatalf("no outcomes: %+v", none)
	}
}
