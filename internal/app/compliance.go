package app

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/compliance"
	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
)

// Override is an owner's explicit decision to go ahead although texts break
// a blocking rule (a room going live, a live edit or price, a coupon's
// title). A role alone is never an override: the request must carry one,
// and it is audited with its reason.
type Override struct {
	Reason string `json:"reason"`
}

// BlockedError answers a go-live whose review found blocking texts; it
// unwraps to compliance.ErrBlocked (409 compliance_blocked) and carries the
// review so the studio can show every finding.
type BlockedError struct{ Review *compliance.Review }

func (e *BlockedError) Error() string { return compliance.ErrBlocked.Error() }
func (e *BlockedError) Unwrap() error { return compliance.ErrBlocked }

// ProblemMember is the problem+json extension the API adds: the review.
func (e *BlockedError) ProblemMember() (string, any) { return "review", e.Review }

// CommentError refuses a host's or guide's comment that breaks a blocking
// rule, with the findings; it unwraps to compliance.ErrHostCommentBlocked.
type CommentError struct{ Result compliance.Result }

func (e *CommentError) Error() string { return compliance.ErrHostCommentBlocked.Error() }
func (e *CommentError) Unwrap() error { return compliance.ErrHostCommentBlocked }

// ProblemMember is the problem+json extension the API adds: the findings.
func (e *CommentError) ProblemMember() (string, any) { return "findings", e.Result.Findings }

// productItems are the texts of a product a shopper reads: on the card,
// the product page and in the assistant's answers, reviewed under the
// product's type (ordinary food when it has none).
func productItems(p *catalog.Product) []compliance.Item {
	in := compliance.Input{Context: compliance.CtxProduct, ProductType: compliance.ProductType(p.ProductType), ProductID: p.ID}
	if in.ProductType == "" {
		in.ProductType = compliance.OrdinaryFood
	}
	src := fmt.Sprintf("product:%d.", p.ID)
	items := []compliance.Item{
		{Source: src + "name", Text: p.Name, Input: in},
		{Source: src + "name_en", Text: p.NameEN, Input: in}, // the English page and card show it
		{Source: src + "subtitle", Text: p.Subtitle, Input: in},
		{Source: src + "description", Text: p.Description, Input: in},
		{Source: src + "specs", Text: p.Specs, Input: in},
		{Source: src + "ingredients", Text: p.Ingredients, Input: in},
		{Source: src + "origin", Text: p.Origin, Input: in},
	}
	for _, k := range p.SKUs {
		items = append(items, compliance.Item{Source: fmt.Sprintf("%ssku:%s", src, k.Code), Text: k.Name, Input: in})
	}
	return items
}

// changedItems are the items of next whose text (or how it is read: a new
// product type) differs from prev's at the same source: what an edit newly
// shows.
func changedItems(prev, next []compliance.Item) []compliance.Item {
	before := make(map[string]compliance.Item, len(prev))
	for _, it := range prev {
		before[it.Source] = it
	}
	var out []compliance.Item
	for _, it := range next {
		if b, ok := before[it.Source]; !ok || b.Text != it.Text || b.Input != it.Input {
			out = append(out, it)
		}
	}
	return out
}

// ReviewProduct reviews a product's texts (the admin shows the findings
// after a save; they warn, they do not refuse the save).
func (a *App) ReviewProduct(ctx context.Context, p *catalog.Product) (*compliance.Review, error) {
	if a.Compliance == nil {
		return nil, nil
	}
	rev, err := a.Compliance.ReviewItems(ctx, p.MerchantID, productItems(p))
	if err != nil {
		return nil, err
	}
	if err := a.judgeWrittenPrices(ctx, rev, p.MerchantID, p); err != nil {
		return nil, err
	}
	return rev, a.addPriceReview(ctx, rev, p.MerchantID, true, p)
}

// ReviewRoom reviews what a room shows before it goes live: its title, the
// host's script, and the texts of every product in its lineup.
func (a *App) ReviewRoom(ctx context.Context, room *live.Room) (*compliance.Review, error) {
	if a.Compliance == nil {
		return &compliance.Review{Texts: []compliance.Labeled{}}, nil
	}
	items := []compliance.Item{{Source: "title", Text: room.Title, Input: compliance.Input{Context: compliance.CtxTitle}}}
	script, err := a.Compliance.Store.Script(ctx, room.MerchantID, room.ID)
	if err != nil {
		return nil, err
	}
	items = append(items, compliance.Item{Source: "script", Text: script, Input: compliance.Input{Context: compliance.CtxScript}})
	var prods []*catalog.Product
	for _, id := range room.ProductIDs {
		p, err := a.Catalog.Product(ctx, room.MerchantID, id)
		if err != nil {
			continue // a product deleted since; the lineup shows it no more
		}
		items = append(items, productItems(p)...)
		prods = append(prods, p)
	}
	rev, err := a.Compliance.ReviewItems(ctx, room.MerchantID, items)
	if err != nil {
		return nil, err
	}
	if err := a.judgeWrittenPrices(ctx, rev, room.MerchantID, prods...); err != nil {
		return nil, err
	}
	return rev, a.addPriceReview(ctx, rev, room.MerchantID, false, prods...)
}

// checkGoLive runs the review for a room about to go live: nil when it may,
// a *BlockedError when it may not. An owner's override lets it through; its
// audit is returned, to record once the room is saved (see complianceGate).
func (a *App) checkGoLive(ctx context.Context, p *identity.Principal, room *live.Room, ov *Override) (*overrideAudit, error) {
	rev, err := a.ReviewRoom(ctx, room)
	if err != nil {
		return nil, err
	}
	return a.complianceGate(p, rev, ov, "room.live.override", "room:"+room.Slug)
}

// complianceGate decides on a review: nil when nothing blocks; a *BlockedError
// without an override; with one, only an owner passes, with a reason, and
// the gate returns the override's audit (action on subject, with the
// blocking findings). It records nothing itself: the caller records it with
// auditOverride once the action is saved, so an action that then fails
// (bad input, a conflict, an outage) leaves no override in the log.
func (a *App) complianceGate(p *identity.Principal, rev *compliance.Review, ov *Override, action, subject string) (*overrideAudit, error) {
	if !rev.Blocking {
		return nil, nil
	}
	if ov == nil {
		return nil, &BlockedError{Review: rev}
	}
	if p == nil || p.Role != identity.RoleOwner {
		return nil, compliance.ErrOverrideForbidden
	}
	reason := strings.TrimSpace(ov.Reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return nil, compliance.ErrOverrideReason
	}
	var blocked []string
	for _, t := range rev.Texts {
		for _, f := range t.Findings {
			if f.Severity == compliance.Block {
				blocked = append(blocked, t.Source+" "+f.Rule+" 「"+f.Match+"」")
			}
		}
	}
	detail := "reason: " + reason + "; rules " + rev.RulesVersion + "; " + strings.Join(blocked, "; ")
	return &overrideAudit{merchantID: p.MerchantID, actor: p.Name, action: action, subject: subject, detail: detail}, nil
}

// overrideAudit is an override a compliance gate accepted, as the audit log
// will hold it; nil when nothing was overridden.
type overrideAudit struct {
	merchantID                     int64
	actor, action, subject, detail string
}

// auditOverride records o (nil: nothing to record). Call it only after the
// overridden action is saved. The action stands by then, so a failed audit
// write is logged rather than answered.
func (a *App) auditOverride(ctx context.Context, o *overrideAudit) {
	if o == nil {
		return
	}
	if err := a.Audit.Audit(ctx, o.merchantID, o.actor, o.action, o.subject, o.detail); err != nil {
		a.Logger.Error("audit override", "action", o.action, "subject", o.subject, "err", err)
	}
}

// The go-live review is not the only gate: once a room is live, whatever
// staff change that viewers then read is reviewed the same way before it
// is stored — a new title, products added to the lineup, a product pinned
// from outside the lineup, an edited text of a product a live room shows.
// Only what the change adds is reviewed, so texts an owner already let
// through at go-live do not refuse unrelated edits.

// checkLiveRoomEdit reviews an edit of a live room: the title when it
// changed, and the products it adds to the lineup (productIDs nil: the
// lineup is unchanged).
func (a *App) checkLiveRoomEdit(ctx context.Context, p *identity.Principal, old, next *live.Room, productIDs []int64, ov *Override) (*overrideAudit, error) {
	if a.Compliance == nil || old.Status != live.Live {
		return nil, nil
	}
	var items []compliance.Item
	if next.Title != old.Title {
		items = append(items, compliance.Item{Source: "title", Text: next.Title, Input: compliance.Input{Context: compliance.CtxTitle}})
	}
	had := map[int64]bool{}
	for _, id := range old.ProductIDs {
		had[id] = true
	}
	for _, id := range productIDs {
		if had[id] {
			continue
		}
		prod, err := a.Catalog.Product(ctx, next.MerchantID, id)
		if err != nil {
			continue // the lineup store refuses unknown products with its own error
		}
		items = append(items, productItems(prod)...)
	}
	if len(items) == 0 {
		return nil, nil
	}
	rev, err := a.Compliance.ReviewItems(ctx, next.MerchantID, items)
	if err != nil {
		return nil, err
	}
	return a.complianceGate(p, rev, ov, "room.edit.override", "room:"+next.Slug)
}

// checkPin reviews a product pinned in a live room from outside its lineup
// (the lineup was reviewed when the room went live or the product joined it).
func (a *App) checkPin(ctx context.Context, p *identity.Principal, room *live.Room, prod *catalog.Product, ov *Override) (*overrideAudit, error) {
	if a.Compliance == nil || room.Status != live.Live {
		return nil, nil
	}
	for _, id := range room.ProductIDs {
		if id == prod.ID {
			return nil, nil
		}
	}
	rev, err := a.Compliance.ReviewItems(ctx, room.MerchantID, productItems(prod))
	if err != nil {
		return nil, err
	}
	return a.complianceGate(p, rev, ov, "room.pin.override", fmt.Sprintf("room:%s product:%d", room.Slug, prod.ID))
}

// checkProductEdit reviews the texts an edit changes of a product that a
// live room shows (in its lineup or pinned); other products only get the
// findings with their save.
func (a *App) checkProductEdit(ctx context.Context, p *identity.Principal, old, next *catalog.Product, ov *Override) (*overrideAudit, error) {
	if a.Compliance == nil {
		return nil, nil
	}
	items := changedItems(productItems(old), productItems(next))
	priced := changedPrices(old, next)
	if len(items) == 0 && len(priced.SKUs) == 0 {
		return nil, nil
	}
	shown, err := a.shownLive(ctx, old.MerchantID, old.ID)
	if err != nil || !shown {
		return nil, err
	}
	rev, err := a.Compliance.ReviewItems(ctx, old.MerchantID, items)
	if err != nil {
		return nil, err
	}
	if err := a.judgeWrittenPrices(ctx, rev, old.MerchantID, next); err != nil {
		return nil, err
	}
	if err := a.addPriceReview(ctx, rev, old.MerchantID, true, priced); err != nil {
		return nil, err
	}
	return a.complianceGate(p, rev, ov, "product.edit.override", fmt.Sprintf("product:%d", old.ID))
}

// changedPrices is next with only the SKUs whose price or list price the
// edit changes (new SKUs included).
func changedPrices(old, next *catalog.Product) *catalog.Product {
	was := map[int64]catalog.SKU{}
	for _, k := range old.SKUs {
		was[k.ID] = k
	}
	out := &catalog.Product{ID: next.ID}
	for _, k := range next.SKUs {
		if o, ok := was[k.ID]; !ok || o.PriceFen != k.PriceFen || o.ListPriceFen != k.ListPriceFen {
			out.SKUs = append(out.SKUs, k)
		}
	}
	return out
}

// couponItems are a coupon's words: its title on the room's card, in the
// wallet and in an issued coupon's inbox message, read as a pinned text.
func couponItems(c *coupons.Coupon) []compliance.Item {
	return []compliance.Item{{Source: "coupon.title", Text: c.Title, Input: compliance.Input{Context: compliance.CtxPinned}}}
}

// ReviewCoupon reviews a coupon's title (the create answer shows the
// findings, as a product save does); nil without a compliance engine.
func (a *App) ReviewCoupon(ctx context.Context, c *coupons.Coupon) (*compliance.Review, error) {
	if a.Compliance == nil {
		return nil, nil
	}
	return a.Compliance.ReviewItems(ctx, c.MerchantID, couponItems(c))
}

// checkCouponTitle gates a new coupon: its title cannot be edited and
// reaches viewers as soon as the card is pushed or the coupon issued, so
// a blocking finding refuses the coupon (409 compliance_blocked with the
// review) unless an owner overrides it, audited as coupon.create.override.
func (a *App) checkCouponTitle(ctx context.Context, p *identity.Principal, c *coupons.Coupon, ov *Override) (*overrideAudit, error) {
	rev, err := a.ReviewCoupon(ctx, c)
	if err != nil || rev == nil {
		return nil, err
	}
	return a.complianceGate(p, rev, ov, "coupon.create.override", "coupon:"+c.Title)
}

// checkRoomTexts reviews what a host puts on every viewer's screen besides
// the lineup — a poll's question and options, a draw's title — as pinned
// texts: a blocking finding refuses it (409 compliance_blocked with the
// review; the host rephrases, there is no override for these).
func (a *App) checkRoomTexts(ctx context.Context, room *live.Room, source string, texts ...string) error {
	if a.Compliance == nil {
		return nil
	}
	items := make([]compliance.Item, 0, len(texts))
	for i, t := range texts {
		src := source
		if i > 0 {
			src = fmt.Sprintf("%s.option:%d", source, i)
		}
		items = append(items, compliance.Item{Source: src, Text: t, Input: compliance.Input{Context: compliance.CtxPinned}})
	}
	rev, err := a.Compliance.ReviewItems(ctx, room.MerchantID, items)
	if err != nil {
		return err
	}
	if rev.Blocking {
		return &BlockedError{Review: rev}
	}
	return nil
}

// checkLivePrice reviews a price the host changes live (the studio's price
// tool) against the list-price rule, as an edit of the product would be:
// a struck-through 划线价 above the new price must be the lowest price
// charged in the 7 days before the new price starts. Only products a live
// room shows are gated, like edits; the price is stored only if it passes
// or an owner overrides (audited).
func (a *App) checkLivePrice(ctx context.Context, p *identity.Principal, prod *catalog.Product, sku *catalog.SKU, priceFen int64, ov *Override) (*overrideAudit, error) {
	if a.Compliance == nil || sku.ListPriceFen <= 0 || sku.ListPriceFen <= priceFen || sku.PriceFen == priceFen {
		return nil, nil
	}
	shown, err := a.shownLive(ctx, p.MerchantID, prod.ID)
	if err != nil || !shown {
		return nil, err
	}
	rev, err := a.Compliance.ReviewItems(ctx, p.MerchantID, nil)
	if err != nil {
		return nil, err
	}
	next := *sku
	next.PriceFen = priceFen
	if err := a.addPriceReview(ctx, rev, p.MerchantID, true, &catalog.Product{ID: prod.ID, SKUs: []catalog.SKU{next}}); err != nil {
		return nil, err
	}
	return a.complianceGate(p, rev, ov, "price.change.override", "sku:"+sku.Code)
}

// shownLive reports whether a live room of the merchant shows the product.
func (a *App) shownLive(ctx context.Context, merchantID, productID int64) (bool, error) {
	rooms, err := a.Live.ListRooms(ctx, merchantID)
	if err != nil {
		return false, err
	}
	for _, r := range rooms {
		if r.Status != live.Live {
			continue
		}
		if r.PinnedProductID == productID {
			return true, nil
		}
		for _, id := range r.ProductIDs {
			if id == productID {
				return true, nil
			}
		}
	}
	return false, nil
}

// reviewComment checks a comment during a live. A host's or guide's comment
// with a blocking finding is refused; a viewer's is published anyway and
// flagged to the studio (viewers are not advertisers, but the host should
// not repeat it). The check is in memory: the merchant's rules are cached.
func (a *App) reviewComment(ctx context.Context, room *live.Room, staff bool, text string) (*compliance.Result, error) {
	if a.Compliance == nil {
		return nil, nil
	}
	rs, err := a.Compliance.Rules(ctx, room.MerchantID)
	if err != nil {
		return nil, err
	}
	in := compliance.Input{Context: compliance.CtxComment, ProductType: compliance.OrdinaryFood}
	if staff && room.PinnedProductID != 0 { // a host speaks about the pinned product: its type's rules
		if prod, err := a.Catalog.Product(ctx, room.MerchantID, room.PinnedProductID); err == nil && prod.ProductType != "" {
			in.ProductType, in.ProductID = compliance.ProductType(prod.ProductType), prod.ID
		}
	}
	res := rs.Check(text, in)
	if staff && res.Blocking() {
		return nil, &CommentError{Result: res}
	}
	return &res, nil
}

// flagComment tells the studio that a viewer's comment breaks a rule.
func (a *App) flagComment(room *live.Room, c *live.Comment, res *compliance.Result) {
	if res == nil || res.Verdict != compliance.Violation {
		return
	}
	a.publish(live.StaffTopic(room.MerchantID), "comment.flagged", map[string]any{
		"room": room.Slug, "comment_id": c.ID, "author": c.AuthorName, "text": c.Body, "findings": res.Findings,
	})
}

// addPriceReview adds to rev each SKU whose struck-through list price its
// own price history does not back (compliance.JudgeListPrice): a list price
// above a price of the 7 days before the cut blocks; one with no record of
// those days needs a price record on file. The history is read per SKU
// that shows a list price above its price. blockingOnly keeps only false
// list prices: a product save does not pop up "needs a price record" on
// every save of a SKU that was never sold at its list price (the go-live
// review of a room lists those).
func (a *App) addPriceReview(ctx context.Context, rev *compliance.Review, merchantID int64, blockingOnly bool, prods ...*catalog.Product) error {
	rs, err := a.Compliance.Rules(ctx, merchantID)
	if err != nil {
		return err
	}
	now := a.Now()
	for _, p := range prods {
		for _, k := range p.SKUs {
			if k.ListPriceFen <= 0 || k.ListPriceFen <= k.PriceFen {
				continue
			}
			v, err := a.judgeListPrice(ctx, merchantID, k, now)
			if err != nil {
				return err
			}
			f := rs.ListPriceFinding(v, k.ListPriceFen, p.ID)
			if f == nil || (blockingOnly && f.Severity != compliance.Block) {
				continue
			}
			res := compliance.Result{Verdict: compliance.NeedsProof, Findings: []compliance.Finding{*f}}
			if f.Severity == compliance.Block {
				res.Verdict, rev.Blocking = compliance.Violation, true
			}
			rev.Texts = append(rev.Texts, compliance.Labeled{Source: fmt.Sprintf("product:%d.sku:%s.list_price", p.ID, k.Code),
				Text: compliance.ListPriceText(k.ListPriceFen), Result: res})
		}
	}
	return nil
}

// judgeWrittenPrices judges an earlier price written in a product's texts
// ("原价99元") by the product's price history, as a list price is: false
// blocks, backed needs nothing more, and only a history too short to tell
// leaves it needing evidence. Only products with one SKU on sale are
// judged: with several, the text does not say which SKU it means.
func (a *App) judgeWrittenPrices(ctx context.Context, rev *compliance.Review, merchantID int64, prods ...*catalog.Product) error {
	rs, err := a.Compliance.Rules(ctx, merchantID)
	if err != nil {
		return err
	}
	now := a.Now()
	for _, p := range prods {
		sku := onlySKUOnSale(p)
		if sku == nil {
			continue
		}
		prefix := fmt.Sprintf("product:%d.", p.ID)
		kept := rev.Texts[:0]
		for _, l := range rev.Texts {
			if strings.HasPrefix(l.Source, prefix) && !strings.HasSuffix(l.Source, ".list_price") {
				left, err := a.judgeFigures(ctx, &l, rs, merchantID, p.ID, *sku, now)
				if err != nil {
					return err
				}
				if !left {
					continue // nothing left to say about this text
				}
			}
			kept = append(kept, l)
		}
		rev.Texts = kept
	}
	rev.Blocking = false
	for _, l := range rev.Texts {
		rev.Blocking = rev.Blocking || l.Blocking()
	}
	return nil
}

// onlySKUOnSale is the product's one active SKU; nil when it has none or
// several (a written price does not say which it means).
func onlySKUOnSale(p *catalog.Product) *catalog.SKU {
	var sku *catalog.SKU
	for i := range p.SKUs {
		if p.SKUs[i].Active {
			if sku != nil {
				return nil
			}
			sku = &p.SKUs[i]
		}
	}
	return sku
}

// judgeFigures judges the earlier prices written in l by sku's history and
// reports whether any finding of l is left.
func (a *App) judgeFigures(ctx context.Context, l *compliance.Labeled, rs *compliance.Ruleset, merchantID, productID int64, sku catalog.SKU, now time.Time) (bool, error) {
	var err error
	left := l.Refind(func(f compliance.Finding) *compliance.Finding {
		fen, ok := compliance.PriceFigure(l.Text, f)
		if !ok || fen <= sku.PriceFen || err != nil {
			return &f
		}
		sku.ListPriceFen = fen
		var v compliance.PriceVerdict
		if v, err = a.judgeListPrice(ctx, merchantID, sku, now); err != nil {
			return &f
		}
		return rs.FigureFinding(f, fen, v, productID)
	})
	return left, err
}

// judgeListPrice reads a SKU's history far enough back to cover the 7 days
// before its current price started (a new SKU id 0 has none).
func (a *App) judgeListPrice(ctx context.Context, merchantID int64, k catalog.SKU, now time.Time) (compliance.PriceVerdict, error) {
	if k.ID == 0 {
		return compliance.JudgeListPrice(k.ListPriceFen, k.PriceFen, nil, now), nil
	}
	since := now.Add(-90 * 24 * time.Hour)
	hist, err := a.Catalog.PriceHistory(ctx, merchantID, k.ID, since)
	if err != nil {
		return compliance.PriceVerdict{}, err
	}
	v := compliance.JudgeListPrice(k.ListPriceFen, k.PriceFen, hist, now)
	if from := v.CutAt.Add(-compliance.PriceWindow); from.Before(since) { // a price older than the first read
		if hist, err = a.Catalog.PriceHistory(ctx, merchantID, k.ID, from); err != nil {
			return compliance.PriceVerdict{}, err
		}
		v = compliance.JudgeListPrice(k.ListPriceFen, k.PriceFen, hist, now)
	}
	return v, nil
}
