package compliance_test

import (
	"testing"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/compliance"
)

// TestWritingAround: spacers between Han characters, zero-width characters
// and traditional characters do not hide a claim; the span still points at
// the words as written (spacers included); digits, Latin words and Chinese
// sentence punctuation keep words apart.
func TestWritingAround(t *testing.T) {
	rs := compliance.Base()
	type want struct {
		rule  string
		span  compliance.Span
		match string
	}
	for _, c := range []struct {
		text string
		in   compliance.Input
		want want
	}{
		{"能 治 高 血 压", compliance.Input{Context: compliance.CtxComment}, want{"ad17-treatment", compliance.Span{0, 3}, "能 治"}},
		{"这款能\u200b治咳嗽", compliance.Input{Context: compliance.CtxScript}, want{"ad17-treatment", compliance.Span{2, 5}, "能\u200b治"}},
		{"绝.对.有效", compliance.Input{}, want{"ad9-absolute", compliance.Span{0, 3}, "绝.对"}},
		{"全 网 最 低 价 草莓", compliance.Input{Context: compliance.CtxTitle}, want{"ad28-false", compliance.Span{0, 9}, "全 网 最 低 价"}},
		{"國家級 好米", compliance.Input{Context: compliance.CtxTitle}, want{"ad9-absolute", compliance.Span{0, 3}, "國家級"}},
		{"全網最低價", compliance.Input{Context: compliance.CtxTitle}, want{"ad28-false", compliance.Span{0, 5}, "全網最低價"}},
		{"吃了藥到病除", compliance.Input{}, want{"ad17-treatment", compliance.Span{2, 6}, "藥到病除"}},
		{"全·网·最·低·价", compliance.Input{}, want{"ad28-false", compliance.Span{0, 9}, "全·网·最·低·价"}},
	} {
		res := rs.Check(c.text, c.in)
		found := false
		for _, f := range res.Findings {
			if f.Rule == c.want.rule {
				found = true
				if f.Span != c.want.span || f.Match != c.want.match || f.Severity != compliance.Block {
					t.Errorf("%q: %s span %v %q %s, want %v %q block", c.text, f.Rule, f.Span, f.Match, f.Severity, c.want.span, c.want.match)
				}
			}
		}
		if !found {
			t.Errorf("%q: no %s finding: %+v", c.text, c.want.rule, res.Findings)
		}
	}
	// Words stay apart where the spacing means something.
	for _, s := range []string{"主播 最 喜 欢 哪 个", "能 不 能 送 到 浦 东", "什麼時候發貨", "草莓 · 蓝莓 · 车厘子", "第1 名字写错了", "周末 A 级草莓 3 斤"} {
		if res := rs.Check(s, compliance.Input{Context: compliance.CtxComment}); res.Verdict != compliance.OK {
			t.Errorf("%q: %s %+v", s, res.Verdict, res.Findings)
		}
	}
	// A health-food text without its disclaimer: the span is the end of the
	// text as written, not of the normalised one.
	text := "增 强 免 疫 力"
	res := rs.Check(text, compliance.Input{Context: compliance.CtxProduct, ProductType: compliance.HealthFood})
	n := utf8.RuneCountInString(text)
	for _, f := range res.Findings {
		if f.Rule == "ad18-disclaimer" && f.Span != (compliance.Span{n, n}) {
			t.Errorf("disclaimer span %v, want [%d,%d]", f.Span, n, n)
		}
	}
}

// FuzzCheckSpans: whatever the text, every span lies inside it and its
// Match is the text's runes at the span.
func FuzzCheckSpans(f *testing.F) {
	for _, s := range []string{"能 治 高 血 压", "国\u200b家\u200b级", "全.网.最.低.价", "100% 有效", "", " ", "·治·", "國家級\u200b"} {
		f.Add(s)
	}
	rs := compliance.Base()
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		rn := []rune(s)
		for _, ctx := range []compliance.Context{compliance.CtxComment, compliance.CtxProduct} {
			res := rs.Check(s, compliance.Input{Context: ctx, ProductType: compliance.HealthFood})
			for _, fd := range res.Findings {
				if fd.Span[0] < 0 || fd.Span[1] > len(rn) || fd.Span[0] > fd.Span[1] {
					t.Fatalf("%q: span %v outside %d runes", s, fd.Span, len(rn))
				}
				if fd.Span[0] < fd.Span[1] && string(rn[fd.Span[0]:fd.Span[1]]) != fd.Match {
					t.Fatalf("%q: span %v is %q, match %q", s, fd.Span, string(rn[fd.Span[0]:fd.Span[1]]), fd.Match)
				}
			}
		}
	})
}
