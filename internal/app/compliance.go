package app

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/compliance"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
)

// Override is an owner's explicit decision to put a room live although its
// texts break a blocking rule. A role alone is never an override: the
// request must carry one, and it is audited with its reason.
type Override struct {
	Reason string `json:"reason"`
}

// BlockedError answers a go-live whose review found blocking texts; it
// unwraps to compliance.ErrBlocked (409 compliance_blocked) and carries the
// review so the studio can show every finding.
type BlockedError struct{ Review *compliance.Review }

func (e *BlockedError) Error() string { return compliance.ErrBlocked.Error() }
func (e *BlockedError) Unwrap() error { return compliance.ErrBlocked }

// CommentError refuses a host's or guide's comment that breaks a blocking
// rule, with the findings; it unwraps to compliance.ErrHostCommentBlocked.
type CommentError struct{ Result compliance.Result }

func (e *CommentError) Error() string { return compliance.ErrHostCommentBlocked.Error() }
func (e *CommentError) Unwrap() error { return compliance.ErrHostCommentBlocked }

// productItems are the texts of a product a shopper reads. Products carry
// no product type yet, so they are reviewed as ordinary food.
func productItems(p *catalog.Product) []compliance.Item {
	in := compliance.Input{Context: compliance.CtxProduct, ProductType: compliance.OrdinaryFood, ProductID: p.ID}
	src := fmt.Sprintf("product:%d.", p.ID)
	return []compliance.Item{
		{Source: src + "name", Text: p.Name, Input: in},
		{Source: src + "subtitle", Text: p.Subtitle, Input: in},
		{Source: src + "description", Text: p.Description, Input: in},
	}
}

// ReviewProduct reviews a product's texts (the admin shows the findings
// after a save; they warn, they do not refuse the save).
func (a *App) ReviewProduct(ctx context.Context, p *catalog.Product) (*compliance.Review, error) {
	if a.Compliance == nil {
		return nil, nil
	}
	return a.Compliance.ReviewItems(ctx, p.MerchantID, productItems(p))
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
	for _, id := range room.ProductIDs {
		p, err := a.Catalog.Product(ctx, room.MerchantID, id)
		if err != nil {
			continue // a product deleted since; the lineup shows it no more
		}
		items = append(items, productItems(p)...)
	}
	return a.Compliance.ReviewItems(ctx, room.MerchantID, items)
}

// checkGoLive runs the review for a room about to go live: nil when it may,
// a *BlockedError when it may not. An owner's override lets it through and
// is audited with its reason and the blocking findings.
func (a *App) checkGoLive(ctx context.Context, p *identity.Principal, room *live.Room, ov *Override) error {
	rev, err := a.ReviewRoom(ctx, room)
	if err != nil {
		return err
	}
	if !rev.Blocking {
		return nil
	}
	if ov == nil {
		return &BlockedError{Review: rev}
	}
	if p == nil || p.Role != identity.RoleOwner {
		return compliance.ErrOverrideForbidden
	}
	reason := strings.TrimSpace(ov.Reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return compliance.ErrOverrideReason
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
	return a.Audit.Audit(ctx, p.MerchantID, p.Name, "room.live.override", "room:"+room.Slug, detail)
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
	res := rs.Check(text, compliance.Input{Context: compliance.CtxComment, ProductType: compliance.OrdinaryFood})
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
