package compliance_test

import (
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/compliance"
)

func TestCheckFindings(t *testing.T) {
	rs := compliance.Base()
	t.Run("SpanInRunes", func(t *testing.T) {
		res := rs.Check("能治高血压，100%有效", compliance.Input{Context: compliance.CtxProduct})
		if res.Verdict != compliance.Violation || !res.Blocking() {
			t.Fatalf("verdict %s", res.Verdict)
		}
		want := map[string]compliance.Span{"ad17-treatment": {0, 2}, "ad17-disease-mention": {2, 5}, "ad28-false": {6, 12}}
		for _, f := range res.Findings {
			if sp, ok := want[f.Rule]; !ok || sp != f.Span {
				t.Errorf("finding %s %v %q, want %v", f.Rule, f.Span, f.Match, want)
			}
			if f.Law == "" || f.Explanation == "" || f.Suggestion == "" {
				t.Errorf("finding %s lacks law/explanation/suggestion: %+v", f.Rule, f)
			}
			delete(want, f.Rule)
		}
		if len(want) > 0 {
			t.Errorf("missing %v", want)
		}
	})
	t.Run("FullWidthAndCase", func(t *testing.T) {
		res := rs.Check("ＴＯＰ１好物", compliance.Input{})
		if len(res.Findings) != 1 || res.Findings[0].Span != (compliance.Span{0, 4}) || res.Findings[0].Match != "ＴＯＰ１" {
			t.Fatalf("%+v", res.Findings)
		}
	})
	t.Run("AllowedPhraseExempts", func(t *testing.T) {
		for _, s := range []string{"最佳食用期：3天", "开封后最好冷藏", "第一批春茶", "本场最低价"} {
			if res := rs.Check(s, compliance.Input{}); res.Verdict != compliance.OK {
				t.Errorf("%q: %s %+v", s, res.Verdict, res.Findings)
			}
		}
	})
	t.Run("Rewrite", func(t *testing.T) {
		res := rs.Check("最好吃的苹果", compliance.Input{})
		if len(res.Findings) != 1 || res.Findings[0].Replacement == nil || *res.Findings[0].Replacement != "好吃" {
			t.Fatalf("%+v", res.Findings)
		}
	})
	t.Run("ProductType", func(t *testing.T) {
		ordinary := rs.Check("增强免疫力", compliance.Input{Context: compliance.CtxComment, ProductType: compliance.OrdinaryFood})
		health := rs.Check("增强免疫力", compliance.Input{Context: compliance.CtxComment, ProductType: compliance.HealthFood})
		if ordinary.Verdict != compliance.Violation || health.Verdict != compliance.NeedsProof {
			t.Fatalf("ordinary %s, health %s", ordinary.Verdict, health.Verdict)
		}
		// The disclaimer rule applies to product texts, not to comments.
		prod := rs.Check("鱼油软胶囊", compliance.Input{Context: compliance.CtxProduct, ProductType: compliance.HealthFood})
		if len(prod.Findings) != 1 || prod.Findings[0].Rule != "ad18-disclaimer" || prod.Findings[0].Severity != compliance.Warn {
			t.Fatalf("%+v", prod.Findings)
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		in := compliance.Input{Context: "tweet"}
		if err := in.Validate(); err != compliance.ErrContext {
			t.Fatal(err)
		}
		in = compliance.Input{ProductType: "drug"}
		if err := in.Validate(); err != compliance.ErrProductType {
			t.Fatal(err)
		}
	})
}

func TestMerchantLayer(t *testing.T) {
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	past := now.Add(-time.Hour)
	terms := []compliance.Term{{ID: 1, Term: "秒杀全网", Severity: compliance.Block}, {ID: 2, Term: "爆款", Severity: compliance.Warn}}
	evidence := []compliance.Evidence{
		{Kind: compliance.EvTrademark, Term: "第一坊", Reference: "第12345678号"},
		{Kind: compliance.EvRanking, Term: "2025年天猫坚果类目销量第一", Reference: "天猫年度榜单"},
		{Kind: compliance.EvOrganic, ProductID: 7, Reference: "有机认证 No.123"},
		{Kind: compliance.EvOrigin, Term: "五常大米", Reference: "地理标志授权", ValidUntil: &past},
	}
	rs := compliance.Base().With("m1", terms, evidence, now)
	cases := []struct {
		name, text string
		productID  int64
		want       compliance.Verdict
	}{
		{"OwnBlockTerm", "秒杀全网的价格", 0, compliance.Violation},
		{"OwnWarnTerm", "今日爆款", 0, compliance.Violation},
		{"TrademarkExempt", "第一坊酱鸭", 0, compliance.OK},
		{"RankingWithEvidence", "2025年天猫坚果类目销量第一的碧根果", 0, compliance.OK},
		{"RankingWithoutMatchingEvidence", "抖音销量第一", 0, compliance.NeedsProof},
		{"CertificateForThatProduct", "有机黄豆", 7, compliance.OK},
		{"CertificateOtherProduct", "有机黄豆", 8, compliance.NeedsProof},
		{"ExpiredEvidence", "五常大米", 0, compliance.NeedsProof},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := rs.Check(c.text, compliance.Input{Context: compliance.CtxProduct, ProductID: c.productID})
			if res.Verdict != c.want {
				t.Fatalf("%q: %s, want %s: %+v", c.text, res.Verdict, c.want, res.Findings)
			}
		})
	}
	// The base set is untouched by a merchant's layer.
	if compliance.Base().Check("第一坊酱鸭", compliance.Input{}).Verdict != compliance.Violation {
		t.Fatal("merchant trademark leaked into the base rules")
	}
}

// TestPatterns: a claim worded around the term lists is caught by its
// rule's pattern with a span in runes, and a rules file whose pattern
// could match anywhere (no first character to look for) is refused.
func TestPatterns(t *testing.T) {
	rs := compliance.Base()
	res := rs.Check("老人家吃了血压稳稳的", compliance.Input{Context: compliance.CtxScript})
	var found bool
	for _, f := range res.Findings {
		if f.Rule == "ad17-treatment" {
			found = true
			if f.Span != (compliance.Span{5, 9}) || f.Match != "血压稳稳" || f.Suggestion == "" {
				t.Errorf("pattern finding %+v", f)
			}
		}
	}
	if !found || res.Verdict != compliance.Violation {
		t.Fatalf("paraphrased treatment claim not caught: %+v", res)
	}
	if res := rs.Check("医生让我少吃甜的，这款糖多吗", compliance.Input{Context: compliance.CtxComment}); res.Verdict != compliance.OK {
		t.Errorf("a viewer quoting a doctor is not an endorsement: %+v", res.Findings)
	}
	for _, bad := range []string{"(", ".*降血压", "[^a]降"} {
		_, err := compliance.Compile(compliance.RuleFile{Version: "t", Rules: []compliance.Rule{{ID: "x", Severity: compliance.Block, Explanation: "x", Patterns: []string{bad}}}})
		if err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

// TestEnglishRules: English claims are caught at word boundaries, the
// look-alikes inside longer words or allowed phrases are not, rewrites
// come with an English suggestion, and a merchant's English terms and
// evidence work as the Chinese ones do.
func TestEnglishRules(t *testing.T) {
	rs := compliance.Base()
	t.Run("WordBoundaries", func(t *testing.T) {
		for text, want := range map[string]compliance.Verdict{
			"This soup CURES colds":           compliance.Violation,
			"cured ham and secure checkout":   compliance.OK,
			"No.1 in taste":                   compliance.Violation,
			"Box no.10, the gift size":        compliance.OK,
			"Treats diabetes":                 compliance.Violation,
			"Treat yourself to a cold drink":  compliance.OK,
			"inorganic salt":                  compliance.OK,
			"organic salt":                    compliance.NeedsProof,
			"detox茶":                          compliance.Violation,
			"Best before the date on the lid": compliance.OK,
		} {
			if got := rs.Check(text, compliance.Input{}); got.Verdict != want {
				t.Errorf("%q: %s, want %s: %+v", text, got.Verdict, want, got.Findings)
			}
		}
	})
	t.Run("SpanAndEnglishRewrite", func(t *testing.T) {
		res := rs.Check("Simply the best rice", compliance.Input{})
		if len(res.Findings) != 1 {
			t.Fatalf("%+v", res.Findings)
		}
		f := res.Findings[0]
		if f.Rule != "ad9-absolute-en" || f.Span != (compliance.Span{7, 15}) || f.Match != "the best" ||
			f.Replacement == nil || *f.Replacement != "excellent" || f.SuggestionEN != "Write “excellent” instead of “the best”." {
			t.Fatalf("%+v", f)
		}
	})
	t.Run("MerchantLayer", func(t *testing.T) {
		now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		m := rs.With("m1", []compliance.Term{{ID: 1, Term: "Insane deal", Severity: compliance.Block}},
			[]compliance.Evidence{
				{Kind: compliance.EvOrganic, ProductID: 7, Reference: "Organic cert No.123"},
				{Kind: compliance.EvRanking, Term: "Best-selling snack on Tmall 2025", Reference: "Tmall annual list"},
				{Kind: compliance.EvTrademark, Term: "Number One Kitchen", Reference: "TM 87654321"},
			}, now)
		for _, c := range []struct {
			text string
			id   int64
			want compliance.Verdict
		}{
			{"an INSANE DEAL tonight", 0, compliance.Violation},
			{"insane dealers", 0, compliance.OK},
			{"100% organic brown rice", 7, compliance.OK},
			{"100% organic brown rice", 8, compliance.NeedsProof},
			{"Best-selling snack on Tmall 2025", 0, compliance.OK},
			{"Best-selling snack on JD", 0, compliance.NeedsProof},
			{"Number One Kitchen dumplings", 0, compliance.OK},
		} {
			if got := m.Check(c.text, compliance.Input{ProductID: c.id}); got.Verdict != c.want {
				t.Errorf("%q (product %d): %s, want %s: %+v", c.text, c.id, got.Verdict, c.want, got.Findings)
			}
		}
	})
}

// TestMoneyOffIsNoReferencePrice: 立减 takes money off the price paid now and
// names no earlier price, so a coupon title (checked as pinned) saying
// 立减10元 or 满99立减20 is fine; a text that compares with an earlier price
// (原价199, 比平时立减30) still needs the price record.
func TestMoneyOffIsNoReferencePrice(t *testing.T) {
	rs := compliance.Base()
	for _, c := range []struct {
		text  string
		want  compliance.Verdict
		match string // the price-reference finding's match, when one is wanted
	}{
		{"立减10元", compliance.OK, ""},
		{"满99立减20", compliance.OK, ""},
		{"下单立减5元，满减可叠加", compliance.OK, ""},
		{"原价199 现价99", compliance.NeedsProof, "原价"},
		{"比原价立减50元", compliance.NeedsProof, "原价"},
		{"比平时立减30元", compliance.NeedsProof, "比平时立减"},
		{"较门店价立减20", compliance.NeedsProof, "较门店价立减"},
		{"直降50元", compliance.NeedsProof, "直降"},
	} {
		res := rs.Check(c.text, compliance.Input{Context: compliance.CtxPinned})
		if res.Verdict != c.want {
			t.Errorf("%q: %s, want %s: %+v", c.text, res.Verdict, c.want, res.Findings)
			continue
		}
		if c.match != "" && (len(res.Findings) != 1 || res.Findings[0].Rule != "price-reference" || res.Findings[0].Match != c.match) {
			t.Errorf("%q: findings %+v, want one price-reference on %q", c.text, res.Findings, c.match)
		}
	}
}

// TestDisclaimerLanguage: a health-food text must say it cannot replace
// medicine in a language its readers read: a Chinese or bilingual text in
// Chinese (本品不能代替药物), an English-only one (a product's name_en) in
// English; each finding names its law in both languages.
func TestDisclaimerLanguage(t *testing.T) {
	rs := compliance.Base()
	in := compliance.Input{Context: compliance.CtxProduct, ProductType: compliance.HealthFood}
	for _, c := range []struct {
		text string
		rule string // the disclaimer finding wanted, "" for none
	}{
		{"Fish oil softgels, 60 capsules", "ad18-disclaimer-en"},
		{"Fish oil softgels. This product cannot replace medicine.", ""},
		{"Fish oil softgels. Not a substitute for medicine.", ""},
		{"FISH OIL. THIS PRODUCT CANNOT REPLACE MEDICINE", ""},
		{"鱼油软胶囊", "ad18-disclaimer"},
		{"鱼油软胶囊。本品不能代替药物。", ""},
		// Chinese readers need the Chinese statement; the English one does not do.
		{"鱼油软胶囊 This product cannot replace medicine.", "ad18-disclaimer"},
		{"Fish oil 鱼油。本品不能代替药物", ""},
	} {
		res := rs.Check(c.text, in)
		var got []string
		for _, f := range res.Findings {
			got = append(got, f.Rule)
		}
		if c.rule == "" && len(res.Findings) > 0 || c.rule != "" && (len(got) != 1 || got[0] != c.rule) {
			t.Errorf("%q: findings %v, want [%s]", c.text, got, c.rule)
			continue
		}
		if c.rule != "" {
			f := res.Findings[0]
			n := len([]rune(c.text))
			if f.Severity != compliance.Warn || f.Span != (compliance.Span{n, n}) || f.Replacement == nil || f.LawEN != "Advertising Law art. 18(2)" {
				t.Errorf("%q: %+v", c.text, f)
			}
			if c.rule == "ad18-disclaimer-en" && *f.Replacement != " This product cannot replace medicine." {
				t.Errorf("%q: replacement %q", c.text, *f.Replacement)
			}
		}
	}
	// Not on ordinary food, not in comments.
	if res := rs.Check("Fish oil softgels", compliance.Input{Context: compliance.CtxProduct}); len(res.Findings) != 0 {
		t.Errorf("ordinary food: %+v", res.Findings)
	}
	if res := rs.Check("Fish oil softgels", compliance.Input{Context: compliance.CtxComment, ProductType: compliance.HealthFood}); len(res.Findings) != 0 {
		t.Errorf("comment: %+v", res.Findings)
	}
	_, err := compliance.Compile(compliance.RuleFile{Version: "t", Rules: []compliance.Rule{{ID: "x", Severity: compliance.Warn, Explanation: "x", Required: []string{"x"}, RequiredLang: "fr"}}})
	if err == nil {
		t.Error("required_lang fr accepted")
	}
}

// TestLawEN: every finding names its law in English too — the base rules'
// (Chinese and English), a merchant's own term, a list price judged
// against the price history.
func TestLawEN(t *testing.T) {
	rs := compliance.Base()
	for _, r := range rs.Rules() {
		if r.LawEN == "" {
			t.Errorf("rule %s has no law_en", r.ID)
		}
	}
	m := rs.With("m1", []compliance.Term{{ID: 1, Term: "秒杀王", Severity: compliance.Block}}, nil, time.Now())
	want := map[string]string{
		"ad9-absolute":      "Advertising Law art. 9(3)",
		"ad17-treatment-en": "Advertising Law art. 17; Food Safety Law art. 73",
		"merchant-term-1":   "merchant's own rule",
		"price-reference":   "Price Marking and Anti-Price-Fraud Provisions art. 13, 19; Price Law art. 14",
	}
	got := map[string]string{}
	for _, text := range []string{"最好的苹果 cures colds", "秒杀王来了", "原价99"} {
		for _, f := range m.Check(text, compliance.Input{}).Findings {
			got[f.Rule] = f.LawEN
		}
	}
	for id, law := range want {
		if got[id] != law {
			t.Errorf("%s: law_en %q, want %q (all: %v)", id, got[id], law, got)
		}
	}
	v := compliance.PriceVerdict{Severity: compliance.Block, LowestFen: 5900}
	if f := rs.ListPriceFinding(v, 6900, 1); f == nil || f.LawEN != "Anti-Price-Fraud Provisions art. 19" {
		t.Errorf("list price finding %+v", f)
	}
}
