package insight

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/shelflive/shelflive/internal/apperr"
)

// ErrNotInRoom refuses an A/B comparison of a product the room does not sell
// (another merchant's product or an unknown id included); At("b") names B's.
var ErrNotInRoom = apperr.InvalidField("a", "product_not_in_room", "该商品不在这场直播中", "That product is not in this live.")

// ErrUnknownRoom refuses a second room (room_b) the caller does not run: an
// unknown slug, another merchant's room, or, for staff bound to one store,
// another store's room. All three read the same, so the answer tells
// nothing about rooms the caller may not see.
var ErrUnknownRoom = apperr.InvalidField("room_b", "unknown_room", "找不到 B 款所在的直播间", "No such room for variant B.")

// ZTest is the two-proportion z-test (pooled variance, two-sided): is the
// share of successes different between A and B?
func ZTest(xa, na, xb, nb int64) (z, p float64) {
	if na <= 0 || nb <= 0 {
		return 0, 1
	}
	pa, pb := float64(xa)/float64(na), float64(xb)/float64(nb)
	pool := float64(xa+xb) / float64(na+nb)
	se := math.Sqrt(pool * (1 - pool) * (1/float64(na) + 1/float64(nb)))
	if se == 0 {
		return 0, 1
	}
	z = (pb - pa) / se
	return z, 2 * distuv.UnitNormal.Survival(math.Abs(z))
}

// ProbBBeatsA is P(p_B > p_A) when each rate has a uniform prior and the
// observed successes, i.e. p ~ Beta(1 + x, 1 + n − x), computed exactly
// with the closed form for two Beta variables (a sum over B's successes).
func ProbBBeatsA(xa, na, xb, nb int64) float64 {
	aA, bA := float64(1+xa), float64(1+na-xa)
	aB, bB := float64(1+xb), float64(1+nb-xb)
	lbeta := func(a, b float64) float64 {
		la, _ := math.Lgamma(a)
		lb, _ := math.Lgamma(b)
		lab, _ := math.Lgamma(a + b)
		return la + lb - lab
	}
	total := 0.0
	for i := 0.0; i < aB; i++ {
		total += math.Exp(lbeta(aA+i, bA+bB) - math.Log(bB+i) - lbeta(1+i, bB) - lbeta(aA, bA))
	}
	return math.Min(1, math.Max(0, total))
}

// Arm is one variant's count: successes out of trials. Room and RoomTitle
// name the live it ran in; two arms in different rooms make the comparison
// one across rooms.
type Arm struct {
	ProductID int64   `json:"product_id"`
	Name      string  `json:"name"`
	NameEN    string  `json:"name_en,omitempty"`
	Room      string  `json:"room,omitempty"`
	RoomTitle string  `json:"room_title,omitempty"`
	Successes int64   `json:"successes"`
	Trials    int64   `json:"trials"`
	Rate      float64 `json:"rate"`
}

// Comparison is one A/B question answered with both tests. AcrossRooms:
// A and B ran in different lives (different audiences and times), so each
// rate is over the viewers shown the card in its own room, and the verdict
// says so.
type Comparison struct {
	Metric      string  `json:"metric"` // asked | converted
	AcrossRooms bool    `json:"across_rooms"`
	A           Arm     `json:"a"`
	B           Arm     `json:"b"`
	Z           float64 `json:"z"`
	P           float64 `json:"p_value"`
	PBBeatsA    float64 `json:"p_b_beats_a"`
	Enough      bool    `json:"enough_data"`
	Winner      string  `json:"winner"` // a | b | "" (no call)
	Verdict     string  `json:"verdict"`
	VerdictEN   string  `json:"verdict_en"`
	Tests       string  `json:"tests"`
	ShownBoth   int64   `json:"shown_both"` // viewers counted in both arms (see WithShownBoth)
}

// WithShownBoth notes n viewers who were shown both cards and so are in
// both arms. Both tests take the arms as independent samples; with shared
// viewers (in one live, usually all of them) they are not, and the
// verdict says so rather than sounding surer than the data allow.
func (c Comparison) WithShownBoth(n int64) Comparison {
	c.ShownBoth = n
	if n <= 0 {
		return c
	}
	c.Verdict += fmt.Sprintf("。注意：其中 %d 位观众两款卡片都看到了，两组并不独立，以上检验会显得比实际更有把握", n)
	c.VerdictEN += fmt.Sprintf(". Note: %d viewers saw both cards, so the two groups are not independent and the tests read surer than the data allow", n)
	return c
}

// Minimum data before a call: each arm needs this many trials and this many
// successes and failures (the normal approximation of the z-test holds).
const (
	MinTrials    = 30
	MinSuccesses = 5
)

// Compare answers one metric. It names a winner only with enough data,
// p < 0.05 and P(B beats A) beyond 95 % either way; otherwise it says why
// not, in Chinese and English.
func Compare(metric string, a, b Arm) Comparison {
	for _, arm := range []*Arm{&a, &b} {
		arm.Successes = min(arm.Successes, arm.Trials)
		if arm.Trials > 0 {
			arm.Rate = float64(arm.Successes) / float64(arm.Trials)
		}
	}
	c := Comparison{Metric: metric, A: a, B: b, AcrossRooms: a.Room != "" && b.Room != "" && a.Room != b.Room,
		Tests: "two-proportion z-test (pooled, two-sided); Beta-binomial P(B beats A) with uniform priors"}
	c.Z, c.P = ZTest(a.Successes, a.Trials, b.Successes, b.Trials)
	c.PBBeatsA = ProbBBeatsA(a.Successes, a.Trials, b.Successes, b.Trials)
	ok := func(x Arm) bool {
		return x.Trials >= MinTrials && x.Successes >= MinSuccesses && x.Trials-x.Successes >= MinSuccesses
	}
	c.Enough = ok(a) && ok(b)
	what, whatEN, better, betterEN := "提问", "is asked about", "被问得更多", "is asked about more"
	if metric == "converted" {
		what, whatEN, better, betterEN = "下单", "converts", "转化更好", "converts better"
	}
	// Across rooms the names carry their room: the same product shown in
	// two lives is two variants.
	zh := func(x Arm) string {
		if c.AcrossRooms {
			return x.Name + "（" + roomLabel(x) + "）"
		}
		return x.Name
	}
	en := func(x Arm) string {
		name := x.Name
		if x.NameEN != "" {
			name = x.NameEN
		}
		if c.AcrossRooms {
			return name + " (" + roomLabel(x) + ")"
		}
		return name
	}
	pv := fmt.Sprintf("p = %.3f", c.P)
	if c.P < 0.001 {
		pv = "p < 0.001" // not "p = 0.000": a p-value is never zero
	}
	// Nor is a probability from data 0 or 100 %: say beyond which it is.
	pb, pbEN := fmt.Sprintf("%.1f%%", 100*c.PBBeatsA), fmt.Sprintf("= %.1f%%", 100*c.PBBeatsA)
	switch {
	case c.PBBeatsA > 0.999:
		pb, pbEN = "> 99.9%", "> 99.9%"
	case c.PBBeatsA < 0.001:
		pb, pbEN = "< 0.1%", "< 0.1%"
	}
	figures := fmt.Sprintf("%s %.1f%%（%d/%d） 对 %s %.1f%%（%d/%d）；双比例z检验 %s；B 胜出概率 %s",
		zh(a), 100*a.Rate, a.Successes, a.Trials, zh(b), 100*b.Rate, b.Successes, b.Trials, pv, pb)
	figuresEN := fmt.Sprintf("%s %.1f%% (%d/%d) vs %s %.1f%% (%d/%d); two-proportion z-test %s; P(B beats A) %s",
		en(a), 100*a.Rate, a.Successes, a.Trials, en(b), 100*b.Rate, b.Successes, b.Trials, pv, pbEN)
	switch {
	case !c.Enough:
		c.Verdict = fmt.Sprintf("数据还不够，暂不下结论：每款至少需要 %d 位看到的观众，其中有%s和没有%s的各至少 %d 位。目前 %s", MinTrials, what, what, MinSuccesses, figures)
		c.VerdictEN = fmt.Sprintf("Not enough data to call it yet: each variant needs at least %d viewers who saw it and %d with and without the outcome. So far: %s", MinTrials, MinSuccesses, figuresEN)
	case c.P < 0.05 && c.PBBeatsA > 0.95:
		c.Winner = "b"
		c.Verdict = fmt.Sprintf("%s %s：%s", zh(b), better, figures)
		c.VerdictEN = fmt.Sprintf("%s %s: %s", en(b), betterEN, figuresEN)
	case c.P < 0.05 && c.PBBeatsA < 0.05:
		c.Winner = "a"
		c.Verdict = fmt.Sprintf("%s %s：%s", zh(a), better, figures)
		c.VerdictEN = fmt.Sprintf("%s %s: %s", en(a), betterEN, figuresEN)
	default:
		c.Verdict = "两款差别不显著，还不能说哪款" + better + "：" + figures
		c.VerdictEN = "No clear difference yet in how often each " + whatEN + ": " + figuresEN
	}
	if c.AcrossRooms {
		c.Verdict = "跨直播间对比（两场的观众和时间都不同，比例按各自直播间里看到卡片的观众计算）：" + c.Verdict
		c.VerdictEN = "Across two rooms (different audiences and times; each rate is per viewer shown the card in its own room): " + c.VerdictEN
	}
	return c
}

// roomLabel names an arm's room: its title, else its slug.
func roomLabel(x Arm) string {
	if x.RoomTitle != "" {
		return x.RoomTitle
	}
	return x.Room
}
