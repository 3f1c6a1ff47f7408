package insight_test

import (
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
	b.Successes, b.Trials = 3, 12
	if c = insight.Compare("asked", a, b); !c.AcrossRooms || c.Enough || c.Winner != "" || !strings.HasPrefix(c.Verdict, "跨直播间对比") || !strings.Contains(c.Verdict, "数据还不够") {
		t.Fatalf("across rooms, too little data: %+v", c)
	}
	b.Room = a.Room
	if c = insight.Compare("asked", a, b); c.AcrossRooms || strings.Contains(c.Verdict, "跨直播间") || strings.Contains(c.Verdict, "周五上新") {
		t.Fatalf("one room: %+v", c)
	}
}
