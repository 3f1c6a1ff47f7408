package compliance

import (
	"fmt"
	"time"

	"github.com/shelflive/shelflive/internal/catalog"
)

// A struck-through list price (划线价) beside a SKU's price says "this is
// what it cost before". 《明码标价和禁止价格欺诈规定》§13: a compared earlier
// price must be the lowest price of the 7 days before the cut. ListPrice
// judges one against the SKU's own price history (catalog.PricePoint rows,
// written on every price change):
//
//   - no list price, or one not above today's price: nothing is claimed;
//   - the history shows a price in the 7 days before the current price
//     started that is lower than the list price: the list price is false
//     (block, rule price-false);
//   - the history does not reach 7 days before the cut (a new SKU, or a
//     history that starts with this price): needs_evidence (price-reference),
//     satisfied by a previous_price record on file for the product;
//   - otherwise it is backed: nothing to say.

// PriceWindow is how far before a cut the compared price must hold.
const PriceWindow = 7 * 24 * time.Hour

// PriceVerdict is what a SKU's history says of its list price.
type PriceVerdict struct {
	Severity  Severity // "" when the list price is backed or not a claim
	LowestFen int64    // the lowest price of the window (0 when none is known)
	CutAt     time.Time
}

// JudgeListPrice applies the rule to one SKU. hist is its history from at
// least 7 days before the current price started, oldest first; a current
// price not yet in it (an edit being reviewed) starts at now.
func JudgeListPrice(listFen, priceFen int64, hist []catalog.PricePoint, now time.Time) PriceVerdict {
	if listFen <= 0 || listFen <= priceFen {
		return PriceVerdict{}
	}
	cut := now
	end := len(hist) // hist[:end] is what came before the current price
	if end > 0 && hist[end-1].PriceFen == priceFen {
		for end > 0 && hist[end-1].PriceFen == priceFen {
			end--
		}
		cut = hist[end].At
	}
	from := cut.Add(-PriceWindow)
	lowest, covered := int64(-1), false
	for i := 0; i < end; i++ {
		p := hist[i]
		next := cut
		if i+1 < end {
			next = hist[i+1].At
		}
		if !next.After(from) { // over before the window began
			continue
		}
		if !p.At.After(from) {
			covered = true // a price was in force when the window began
		}
		if lowest < 0 || p.PriceFen < lowest {
			lowest = p.PriceFen
		}
	}
	switch {
	case lowest < 0: // no earlier price at all
		return PriceVerdict{Severity: NeedsEvidence, CutAt: cut}
	case listFen > lowest:
		return PriceVerdict{Severity: Block, LowestFen: lowest, CutAt: cut}
	case !covered:
		return PriceVerdict{Severity: NeedsEvidence, LowestFen: lowest, CutAt: cut}
	}
	return PriceVerdict{LowestFen: lowest, CutAt: cut}
}

// ListPriceFinding turns a verdict into a finding on the text shown to
// shoppers (as ListPriceText writes it), citing the base rule's law.
func (rs *Ruleset) ListPriceFinding(v PriceVerdict, listFen int64, productID int64) *Finding {
	if v.Severity == "" {
		return nil
	}
	if v.Severity == NeedsEvidence && rs.HasEvidence(EvPrice, productID) {
		return nil
	}
	id := "price-reference"
	expl := "划线价须是降价前7日内的最低成交价；这个规格在降价前7日没有价格记录，请上传前7日成交价记录，或去掉划线价。"
	explEN := "A list price must be the lowest price of the 7 days before the cut; this SKU has no price record for those days. File a 7-day price record or remove the list price."
	if v.Severity == Block {
		id = "price-false"
		expl = fmt.Sprintf("划线价须是降价前7日内的最低成交价；这个规格降价前7日最低卖过 %s，划线价 %s 高于它，属虚构原价。", Yuan(v.LowestFen), Yuan(listFen))
		explEN = fmt.Sprintf("A list price must be the lowest price of the 7 days before the cut; this SKU sold at %s in those days, below the list price %s.", Yuan(v.LowestFen), Yuan(listFen))
	}
	law, lawEN, sugg := "《明码标价和禁止价格欺诈规定》第十三条、第十九条", "Price Marking and Anti-Price-Fraud Provisions art. 13, 19", "把划线价改为降价前7日内的最低价，或去掉划线价"
	for _, r := range rs.rules {
		if r.ID == id {
			law, lawEN = r.Law, r.LawEN
		}
	}
	if v.Severity == Block && v.LowestFen > 0 {
		sugg = "把划线价改为 " + Yuan(v.LowestFen) + " 或去掉划线价"
	}
	text := ListPriceText(listFen)
	f := &Finding{Rule: id, Law: law, LawEN: lawEN, Span: Span{0, len([]rune(text))}, Match: text, Severity: v.Severity,
		Explanation: expl, ExplanationEN: explEN, Suggestion: sugg, SuggestionEN: "Use the lowest price of the 7 days before the cut, or no list price."}
	if v.Severity == NeedsEvidence {
		f.Evidence = EvPrice
	}
	return f
}

// ListPriceText is how a list price reads in a review.
func ListPriceText(listFen int64) string { return "划线价 " + Yuan(listFen) }

// Yuan writes fen as ¥12.30.
func Yuan(fen int64) string { return fmt.Sprintf("¥%d.%02d", fen/100, fen%100) }

// HasEvidence reports evidence of kind on file for the product (or for all
// products) with no narrower term.
func (rs *Ruleset) HasEvidence(kind string, productID int64) bool {
	for i := range rs.evidence {
		e := &rs.evidence[i]
		if e.Kind == kind && e.Term == "" && (e.ProductID == 0 || e.ProductID == productID) {
			return true
		}
	}
	return false
}
