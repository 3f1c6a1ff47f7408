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
// (RoomTitleEN for the English verdict, when the room has one) name the
// live it ran in; two arms in different rooms make the comparison
// one across rooms.
type Arm struct {
	ProductID   int64   `json:"product_id"`
	Name        string  `json:"name"`
	NameEN      string  `json:"name_en,omitempty"`
	Room        string  `json:"room,omitempty"`
	RoomTitle   string  `json:"room_title,omitempty"`
	RoomTitleEN string  `json:"room_title_en,omitempty"`
	Successes   int64   `json:"successes"`
	Trials      int64   `json:"trials"`
	Rate        float64 `json:"rate"`
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
	TestsZH     string  `json:"tests_zh"`   // the same in Chinese, for the dashboard's Chinese page
	ShownBoth   int64   `json:"shown_both"` // viewers counted in both arms (see WithShownBoth)
	// Paired is McNemar's test on the viewers shown both cards, when they
	// are most of each arm (see WithPairs); P, PBBeatsA and the verdict are
	// then its, and Z is 0.
	Paired *PairedTest `json:"paired,omitempty"`
	// PairsUnlinked: the viewers shown both were most of each arm, but
	// their outcomes could not be told apart (see WithPairs), so the
	// independent tests answer, with the note, and the verdict says why.
	PairsUnlinked bool `json:"pairs_unlinked,omitempty"`
}

// Pairs counts the viewers shown both cards by their two outcomes: the
// table McNemar's test reads. Both and Neither are the concordant pairs,
// AOnly and BOnly the discordant ones.
type Pairs struct {
	AOnly   int64 `json:"a_only"`
	BOnly   int64 `json:"b_only"`
	Both    int64 `json:"both"`
	Neither int64 `json:"neither"`
}

// Add counts one viewer by their outcome on A and on B.
func (p *Pairs) Add(a, b bool) {
	switch {
	case a && b:
		p.Both++
	case a:
		p.AOnly++
	case b:
		p.BOnly++
	default:
		p.Neither++
	}
}

// Viewers is how many viewers the table counts.
func (p Pairs) Viewers() int64 { return p.AOnly + p.BOnly + p.Both + p.Neither }

// PairedTest is McNemar's test on Pairs. Test says which form gave P:
// "exact_binomial" below McNemarExactBelow discordant pairs, else
// "chi_square_cc" (ChiSquare is its statistic).
type PairedTest struct {
	Pairs
	Test      string  `json:"test"`
	ChiSquare float64 `json:"chi_square,omitempty"`
	P         float64 `json:"p_value"`
}

// McNemarExactBelow: with fewer discordant pairs the exact binomial test
// is used (the chi-square approximation is poor for small counts).
const McNemarExactBelow = 25

// McNemar is McNemar's test (two-sided) that two paired proportions are
// equal, from the discordant pairs alone: b viewers with the outcome on A
// only, c on B only. Under the null each discordant pair falls either way
// with probability 1/2, so with n = b + c:
//
//	exact (n < 25):  p = min(1, 2 · Σ_{k=0}^{min(b,c)} C(n, k) / 2^n)
//	otherwise:       χ² = (|b − c| − 1)² / n  (continuity corrected, 1 df), p = P(χ²₁ > χ²)
//
// No discordant pair: nothing tells the cards apart, p = 1.
func McNemar(b, c int64) (chi2, p float64, exact bool) {
	n := b + c
	if n == 0 {
		return 0, 1, true
	}
	if n < McNemarExactBelow {
		cdf := distuv.Binomial{N: float64(n), P: 0.5}.CDF(float64(min(b, c)))
		return 0, math.Min(1, 2*cdf), true
	}
	d := math.Max(0, math.Abs(float64(b-c))-1)
	chi2 = d * d / float64(n)
	return chi2, distuv.ChiSquared{K: 1}.Survival(chi2), false
}

// PairedBBeatsA is P(p_B > p_A) for paired outcomes: with a uniform
// Dirichlet prior on the four cells, p_B − p_A = π(B only) − π(A only),
// and q = π(B only) / (π(A only) + π(B only)) is Beta(1 + c, 1 + b) a
// posteriori, so P(p_B > p_A) = P(q > 1/2) (= P(Binomial(b+c+1, 1/2) ≤ c)).
func PairedBBeatsA(b, c int64) float64 {
	return distuv.Beta{Alpha: float64(1 + c), Beta: float64(1 + b)}.Survival(0.5)
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
		Tests:   "two-proportion z-test (pooled, two-sided); Beta-binomial P(B beats A) with uniform priors",
		TestsZH: "两比例 z 检验（合并比例，双侧）；Beta-二项模型 P(B 胜 A)，均匀先验"}
	c.Z, c.P = ZTest(a.Successes, a.Trials, b.Successes, b.Trials)
	c.PBBeatsA = ProbBBeatsA(a.Successes, a.Trials, b.Successes, b.Trials)
	ok := func(x Arm) bool {
		return x.Trials >= MinTrials && x.Successes >= MinSuccesses && x.Trials-x.Successes >= MinSuccesses
	}
	c.Enough = ok(a) && ok(b)
	w := c.words()
	pv, pb, pbEN := c.figures()
	figures := fmt.Sprintf("%s；双比例z检验 %s；B 胜出概率 %s", c.rates(), pv, pb)
	figuresEN := fmt.Sprintf("%s; two-proportion z-test %s; P(B beats A) %s", c.ratesEN(), pv, pbEN)
	need := fmt.Sprintf("每款至少需要 %d 位看到的观众，其中有%s和没有%s的各至少 %d 位", MinTrials, w.what, w.what, MinSuccesses)
	needEN := fmt.Sprintf("each variant needs at least %d viewers who saw it and %d with and without the outcome", MinTrials, MinSuccesses)
	c.decide(figures, figuresEN, need, needEN)
	return c
}

// WithPairs answers the comparison from each shared viewer's two outcomes
// when the viewers shown both cards are most of each arm (in one live,
// nearly everyone): McNemar's test on p and the paired P(B beats A)
// replace the two tests that take the arms as independent, and the
// verdict says so. With fewer shared viewers (two lives of one shop) it
// keeps the independent tests and notes the shared viewers (WithShownBoth).
//
// The table also needs the outcomes: a viewer is tied to what they asked
// and bought only through the customer their events carry, and a live
// recorded before events carried one (migration 2902) has every viewer in
// "neither" although its arms count askers and buyers. The table's
// outcomes on a card (A only + both, B only + both) are some of its arm's
// (the same askers and buyers, among the shared viewers tied to a
// customer); in one live nearly every asker and buyer was shown both, so
// when the table holds fewer than half of either arm's outcomes they are
// missing, not absent, and McNemar would read them as "neither". Then the
// independent tests answer with the note, and the verdict says the pairs
// could not be linked (PairsUnlinked).
func (c Comparison) WithPairs(p Pairs) Comparison {
	n := p.Viewers()
	if 2*n <= c.A.Trials || 2*n <= c.B.Trials {
		return c.WithShownBoth(n)
	}
	if 2*(p.AOnly+p.Both) < c.A.Successes || 2*(p.BOnly+p.Both) < c.B.Successes {
		c = c.WithShownBoth(n)
		c.PairsUnlinked = true
		c.Verdict += "；这些观众的提问和下单对不上人（多半是观众事件还没记录顾客时的直播），做不了配对检验，以上是按独立两组的检验"
		c.VerdictEN += "; their questions and purchases cannot be linked to them (most likely a live recorded before viewers' events carried the customer), so the paired test could not be formed and these are the tests for independent groups"
		return c
	}
	c.ShownBoth = n
	chi2, pval, exact := McNemar(p.AOnly, p.BOnly)
	t := &PairedTest{Pairs: p, Test: "chi_square_cc", ChiSquare: chi2, P: pval}
	form, formEN := "卡方检验，连续性校正", "chi-square with continuity correction"
	if exact {
		t.Test, form, formEN = "exact_binomial", "精确二项检验", "exact binomial"
	}
	c.Paired, c.Z, c.P, c.PBBeatsA = t, 0, pval, PairedBBeatsA(p.AOnly, p.BOnly)
	c.Enough = n >= MinTrials && p.AOnly+p.BOnly >= MinSuccesses
	c.TestsZH = "对两款都看到的观众做 McNemar 配对检验（不一致对少于 25 用精确二项检验，否则用连续性校正的卡方检验；双侧）；P(B 胜 A) = P(q > 1/2)，q ~ Beta(1 + 只 B, 1 + 只 A)"
	c.Tests = "McNemar's test on the viewers shown both cards (exact binomial below 25 discordant pairs, else chi-square with continuity correction; two-sided); P(B beats A) = P(q > 1/2), q ~ Beta(1 + B only, 1 + A only)"
	w := c.words()
	pv, pb, pbEN := c.figures()
	figures := fmt.Sprintf("%s；同一批观众看到了两款，按每位观众的两个结果做 McNemar 配对检验（%s）：两款都看到的 %d 位观众中，只%s%s的 %d 位、只%s%s的 %d 位、两款都%s的 %d 位、都没有的 %d 位，%s；B 胜出概率 %s",
		c.rates(), form, n, w.did, c.zh(c.A), p.AOnly, w.did, c.zh(c.B), p.BOnly, w.did, p.Both, p.Neither, pv, pb)
	figuresEN := fmt.Sprintf("%s; the same viewers saw both cards, so McNemar's paired test (%s) on each viewer's two outcomes: of %d viewers shown both, %d %s %s only, %d %s only, %d both, %d neither, %s; P(B beats A) %s",
		c.ratesEN(), formEN, n, p.AOnly, w.didEN, c.en(c.A), p.BOnly, c.en(c.B), p.Both, p.Neither, pv, pbEN)
	need := fmt.Sprintf("配对检验至少需要 %d 位两款都看到的观众，其中只对一款有%s的至少 %d 位", MinTrials, w.what, MinSuccesses)
	needEN := fmt.Sprintf("the paired test needs at least %d viewers shown both cards and %d of them with the outcome for one card only", MinTrials, MinSuccesses)
	c.Winner = ""
	c.decide(figures, figuresEN, need, needEN)
	return c
}

// abWords is how a metric reads in a verdict.
type abWords struct{ what, whatEN, better, betterEN, did, didEN string }

func (c *Comparison) words() abWords {
	if c.Metric == "converted" {
		return abWords{"下单", "converts", "转化更好", "converts better", "买了", "bought"}
	}
	return abWords{"提问", "is asked about", "被问得更多", "is asked about more", "问了", "asked about"}
}

// Across rooms the names carry their room: the same product shown in two
// lives is two variants.
func (c *Comparison) zh(x Arm) string {
	if c.AcrossRooms {
		return x.Name + "（" + roomLabel(x) + "）"
	}
	return x.Name
}

func (c *Comparison) en(x Arm) string {
	name := x.Name
	if x.NameEN != "" {
		name = x.NameEN
	}
	if c.AcrossRooms {
		room := x.RoomTitleEN
		if room == "" {
			room = roomLabel(x)
		}
		return name + " (" + room + ")"
	}
	return name
}

func (c *Comparison) rates() string {
	a, b := c.A, c.B
	return fmt.Sprintf("%s %.1f%%（%d/%d） 对 %s %.1f%%（%d/%d）", c.zh(a), 100*a.Rate, a.Successes, a.Trials, c.zh(b), 100*b.Rate, b.Successes, b.Trials)
}

func (c *Comparison) ratesEN() string {
	a, b := c.A, c.B
	return fmt.Sprintf("%s %.1f%% (%d/%d) vs %s %.1f%% (%d/%d)", c.en(a), 100*a.Rate, a.Successes, a.Trials, c.en(b), 100*b.Rate, b.Successes, b.Trials)
}

// figures writes the p-value and P(B beats A) as a verdict shows them.
func (c *Comparison) figures() (pv, pb, pbEN string) {
	pv = fmt.Sprintf("p = %.3f", c.P)
	if c.P < 0.001 {
		pv = "p < 0.001" // not "p = 0.000": a p-value is never zero
	}
	// Nor is a probability from data 0 or 100 %: say beyond which it is.
	pb, pbEN = fmt.Sprintf("%.1f%%", 100*c.PBBeatsA), fmt.Sprintf("= %.1f%%", 100*c.PBBeatsA)
	switch {
	case c.PBBeatsA > 0.999:
		pb, pbEN = "> 99.9%", "> 99.9%"
	case c.PBBeatsA < 0.001:
		pb, pbEN = "< 0.1%", "< 0.1%"
	}
	return pv, pb, pbEN
}

// decide names a winner only with enough data, p < 0.05 and P(B beats A)
// beyond 95 % either way, and writes the verdict in Chinese and English;
// need says what "enough" is.
func (c *Comparison) decide(figures, figuresEN, need, needEN string) {
	w := c.words()
	switch {
	case !c.Enough:
		c.Verdict = "数据还不够，暂不下结论：" + need + "。目前 " + figures
		c.VerdictEN = "Not enough data to call it yet: " + needEN + ". So far: " + figuresEN
	case c.P < 0.05 && c.PBBeatsA > 0.95:
		c.Winner = "b"
		c.Verdict = fmt.Sprintf("%s %s：%s", c.zh(c.B), w.better, figures)
		c.VerdictEN = fmt.Sprintf("%s %s: %s", c.en(c.B), w.betterEN, figuresEN)
	case c.P < 0.05 && c.PBBeatsA < 0.05:
		c.Winner = "a"
		c.Verdict = fmt.Sprintf("%s %s：%s", c.zh(c.A), w.better, figures)
		c.VerdictEN = fmt.Sprintf("%s %s: %s", c.en(c.A), w.betterEN, figuresEN)
	default:
		c.Verdict = "两款差别不显著，还不能说哪款" + w.better + "：" + figures
		c.VerdictEN = "No clear difference yet in how often each " + w.whatEN + ": " + figuresEN
	}
	if c.AcrossRooms {
		c.Verdict = "跨直播间对比（两场的观众和时间都不同，比例按各自直播间里看到卡片的观众计算）：" + c.Verdict
		c.VerdictEN = "Across two rooms (different audiences and times; each rate is per viewer shown the card in its own room): " + c.VerdictEN
	}
}

// roomLabel names an arm's room: its title, else its slug.
func roomLabel(x Arm) string {
	if x.RoomTitle != "" {
		return x.RoomTitle
	}
	return x.Room
}
