package compliance

import (
	"fmt"
	"unicode"
)

// A 原价 written in a text ("原价99元，今天49") claims the same thing as a
// struck-through list price: that the product sold at that price before.
// When the figure is written right after the term, the SKU's own price
// history can judge it like a list price; a term without a figure, or one
// naming another seller's price (市场价, 专柜价 …), still needs evidence.

// ownPriceTerms are the price-reference terms that claim the shop's own
// earlier price.
var ownPriceTerms = map[string]bool{"原价": true, "原售价": true, "划线价": true, "日常价": true, "平时卖": true, "以前卖": true}

// PriceFigure reads the price written right after a price-reference finding
// f in text: "原价99", "原价：¥99.00", "原价 99 元", "以前卖128". ok is false
// when f is not a claim about the shop's own price or no figure follows.
func PriceFigure(text string, f Finding) (fen int64, ok bool) {
	if f.Rule != "price-reference" {
		return 0, false
	}
	if term, _ := normalize(f.Match, nil); !ownPriceTerms[string(term)] { // 原價, 原 价 as written
		return 0, false
	}
	rs := []rune(text)
	i := f.Span[1]
	skip := func(set string) {
		for i < len(rs) && (unicode.IsSpace(rs[i]) || containsRune(set, rs[i])) {
			i++
		}
	}
	skip("：:是为")
	skip("¥￥")
	var yuan, cents, digits int64
	for ; i < len(rs) && rs[i] >= '0' && rs[i] <= '9'; i++ {
		if digits++; digits > 7 { // ¥10,000,000 and up is not a grocery price
			return 0, false
		}
		yuan = yuan*10 + int64(rs[i]-'0')
	}
	if digits == 0 {
		return 0, false
	}
	if i+1 < len(rs) && rs[i] == '.' && rs[i+1] >= '0' && rs[i+1] <= '9' {
		i++
		for n := 0; n < 2; n++ {
			cents *= 10
			if i < len(rs) && rs[i] >= '0' && rs[i] <= '9' {
				cents += int64(rs[i] - '0')
				i++
			}
		}
	}
	return yuan*100 + cents, yuan*100+cents > 0
}

func containsRune(s string, r rune) bool {
	for _, c := range s {
		if c == r {
			return true
		}
	}
	return false
}

// FigureFinding judges a written earlier price by the SKU's history (v from
// JudgeListPrice with the figure as the list price). It returns the finding
// to show instead of f: a block when the history shows a lower price in the
// 7 days before the current one, nil when the history backs the figure, f
// itself when the history cannot tell.
func (rs *Ruleset) FigureFinding(f Finding, figureFen int64, v PriceVerdict, productID int64) *Finding {
	switch v.Severity {
	case "":
		return nil
	case NeedsEvidence:
		return &f
	}
	out := *rs.ListPriceFinding(v, figureFen, productID)
	out.Span, out.Match = f.Span, f.Match
	out.Explanation = fmt.Sprintf("文中“%s %s”是说此前卖这个价；这个商品在现价之前7日内最低卖过 %s，低于它，属虚构原价。", f.Match, Yuan(figureFen), Yuan(v.LowestFen))
	out.ExplanationEN = fmt.Sprintf("“%s %s” in the text claims an earlier price; this product sold at %s in the 7 days before its current price, below it.", f.Match, Yuan(figureFen), Yuan(v.LowestFen))
	out.Suggestion = "把原价改为 " + Yuan(v.LowestFen) + "，或删去原价只写直播间价"
	out.SuggestionEN = "Write " + Yuan(v.LowestFen) + " as the earlier price, or state only the live price."
	out.Replacement = nil
	return &out
}

// Refind passes each finding of l through replace (nil drops it) and sets
// l's verdict again; it reports whether any finding is left.
func (l *Labeled) Refind(replace func(Finding) *Finding) bool {
	out := make([]Finding, 0, len(l.Findings))
	for _, f := range l.Findings {
		if nf := replace(f); nf != nil {
			out = append(out, *nf)
		}
	}
	l.Findings = out
	l.Verdict = verdictOf(out)
	return len(out) > 0
}
