package app

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/cocreate"
	"github.com/shelflive/shelflive/internal/fans"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/presale"
)

// Co-creation (共创). Staff open a draft product with option groups; fans
// vote on its group page and on the card the host pushes into a room (one
// vote per person per option group, changeable until it closes); counts go
// out as cocreate.results at most every 250 ms per draft, on the draft's
// topic (cocreate:<id>, the group page) and its room. Closing and the
// pre-sale made from the winning combination are guaranteed events
// (cocreate.closed). The room also carries the group card (group.card):
// the topic group its viewers are invited to join.

// draftDirty holds drafts whose counts changed since the last flush.
type draftDirty struct {
	mu     sync.Mutex
	drafts map[int64]*cocreate.Draft // draft id -> latest counts
}

// DraftInput is what staff send to open a draft.
type DraftInput struct {
	Name     string     `json:"name"`
	Story    string     `json:"story"`
	Origin   string     `json:"origin"`
	Images   []string   `json:"images"`
	GroupID  int64      `json:"group_id"`
	TrialID  int64      `json:"trial_id"`
	ClosesAt *time.Time `json:"closes_at"`
	Groups   []struct {
		Name    string   `json:"name"`
		Options []string `json:"options"`
	} `json:"option_groups"`
}

// DraftTopic is the realtime topic of a draft's card outside rooms.
func DraftTopic(id int64) string { return "cocreate:" + strconv.FormatInt(id, 10) }

// CreateDraft opens a draft for votes.
func (a *App) CreateDraft(ctx context.Context, p *identity.Principal, in DraftInput) (*cocreate.Draft, error) {
	d := &cocreate.Draft{MerchantID: p.MerchantID, Name: in.Name, Story: in.Story, Origin: in.Origin, Images: in.Images, GroupID: in.GroupID, TrialID: in.TrialID,
		ClosesAt: in.ClosesAt, CreatedBy: p.Name}
	if d.ClosesAt != nil {
		t := d.ClosesAt.UTC()
		d.ClosesAt = &t
	}
	for _, g := range in.Groups {
		og := cocreate.OptionGroup{Name: g.Name}
		for _, o := range g.Options {
			og.Options = append(og.Options, cocreate.Option{Text: o})
		}
		d.Groups = append(d.Groups, og)
	}
	if err := d.Validate(a.Now()); err != nil {
		return nil, err
	}
	if err := a.Cocreate.CreateDraft(ctx, d); err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "cocreate.create", fmt.Sprintf("cocreate:%d", d.ID), d.Name)
	return d, nil
}

// VoteDraft records a fan's choice in the option's group (replacing their
// earlier one there); rooms and group pages see the counts within 250 ms.
func (a *App) VoteDraft(ctx context.Context, p *identity.Principal, draftID, optionID int64) (*cocreate.Draft, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, apperr.ErrLoginRequired
	}
	d, err := a.Cocreate.Vote(ctx, p.MerchantID, draftID, p.SubjectID, optionID, a.Now())
	if err != nil {
		return nil, err
	}
	a.draftsDirty.mu.Lock()
	if a.draftsDirty.drafts == nil {
		a.draftsDirty.drafts = map[int64]*cocreate.Draft{}
	}
	a.draftsDirty.drafts[d.ID] = d
	a.draftsDirty.mu.Unlock()
	return d, nil
}

// CloseDraft closes voting now and shows the final counts.
func (a *App) CloseDraft(ctx context.Context, p *identity.Principal, draftID int64) (*cocreate.Draft, error) {
	d, err := a.Cocreate.CloseDraft(ctx, p.MerchantID, draftID, a.Now())
	if err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "cocreate.close", fmt.Sprintf("cocreate:%d", d.ID), "")
	a.draftChanged(d, "cocreate.closed")
	return d, nil
}

// PushDraft shows the draft's card in a room (the host's push): viewers
// vote there, and late joiners find it in the room's snapshot.
func (a *App) PushDraft(ctx context.Context, p *identity.Principal, draftID int64, room *live.Room) (*cocreate.Draft, error) {
	if err := a.Cocreate.SetRoom(ctx, p.MerchantID, draftID, room.ID); err != nil {
		return nil, err
	}
	d, err := a.Cocreate.Draft(ctx, p.MerchantID, draftID)
	if err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "cocreate.push", "room:"+room.Slug, fmt.Sprintf("cocreate:%d", d.ID))
	a.publish(room.Topic(), "cocreate.card", map[string]any{"draft": d})
	return d, nil
}

// draftChanged tells the draft's topic and its room (guaranteed events).
func (a *App) draftChanged(d *cocreate.Draft, typ string) {
	a.draftsDirty.mu.Lock()
	delete(a.draftsDirty.drafts, d.ID)
	a.draftsDirty.mu.Unlock()
	data := map[string]any{"draft": d}
	if d.RoomID != 0 {
		a.publish(live.RoomTopic(d.RoomID), typ, data)
	}
	a.publish(DraftTopic(d.ID), typ, data)
}

// flushDrafts publishes the counts of drafts that got votes since the last tick.
func (a *App) flushDrafts() {
	a.draftsDirty.mu.Lock()
	dirty := a.draftsDirty.drafts
	a.draftsDirty.drafts = nil
	a.draftsDirty.mu.Unlock()
	for _, d := range dirty {
		data := map[string]any{"draft": d}
		if d.RoomID != 0 {
			a.publish(live.RoomTopic(d.RoomID), "cocreate.results", data)
		}
		a.publish(DraftTopic(d.ID), "cocreate.results", data)
	}
}

// closeDueDrafts closes drafts whose time ran out (leader only).
func (a *App) closeDueDrafts(ctx context.Context) {
	if a.Cocreate == nil {
		return
	}
	due, err := a.Cocreate.DueDrafts(ctx, a.Now())
	if err != nil {
		a.Logger.Error("cocreate: due", "err", err)
		return
	}
	for _, x := range due {
		d, err := a.Cocreate.CloseDraft(ctx, x.MerchantID, x.ID, a.Now())
		if err != nil {
			a.Logger.Error("cocreate: close", "draft", x.ID, "err", err)
			continue
		}
		a.draftChanged(d, "cocreate.closed")
	}
}

// roomDraft is the draft last pushed to the room while it is open, or
// closed in the last 10 minutes (the result), for the room's snapshot.
func (a *App) roomDraft(ctx context.Context, r *live.Room) *cocreate.Draft {
	if a.Cocreate == nil {
		return nil
	}
	list, err := a.Cocreate.Drafts(ctx, r.MerchantID, cocreate.Filter{RoomID: r.ID, Limit: 1})
	if err != nil || len(list) == 0 {
		return nil
	}
	d := list[0]
	if d.Status == cocreate.Open || (d.ClosedAt != nil && a.Now().Sub(*d.ClosedAt) < 10*time.Minute) {
		return &d
	}
	return nil
}

// DraftPresaleInput is what staff send to make the winning combination a
// pre-sale: the pre-sale's terms (as PresaleInput, without the SKU) and
// how the product is stored.
type DraftPresaleInput struct {
	PresaleInput
	Storage catalog.StorageClass `json:"storage"`
}

// DraftToPresale closes the draft, takes each option group's leading
// option (the first listed on a tie) and opens a pre-sale (粉丝共创款) of a
// new product named after that combination — product, SKU, pre-sale and
// the draft's link in one transaction. The pre-sale then runs as any
// other: its progress shows in its room and its group.
func (a *App) DraftToPresale(ctx context.Context, p *identity.Principal, draftID int64, in DraftPresaleInput) (*cocreate.Draft, *presale.Presale, error) {
	d, err := a.Cocreate.Draft(ctx, p.MerchantID, draftID)
	if err != nil {
		return nil, nil, err
	}
	if d.PresaleID != 0 {
		return nil, nil, cocreate.ErrPresale
	}
	if _, err := d.Winner(); err != nil {
		return nil, nil, err
	}
	if d.Status == cocreate.Open { // the votes are final before the winner is taken
		if d, err = a.CloseDraft(ctx, p, draftID); err != nil {
			return nil, nil, err
		}
	}
	name, err := d.WinnerName()
	if err != nil {
		return nil, nil, err
	}
	if in.Title == "" {
		in.Title = "粉丝共创款 " + d.Name
	}
	if in.Description == "" {
		in.Description = d.Story
	}
	if in.GroupID == 0 {
		in.GroupID = d.GroupID
	}
	if in.RoomID == 0 {
		in.RoomID = d.RoomID
	}
	ps := presaleFromInput(p, in.PresaleInput)
	if err := ps.ValidateTerms(a.Now()); err != nil {
		return nil, nil, err
	}
	if err := a.reviewPresale(ctx, p.MerchantID, ps); err != nil {
		return nil, nil, err
	}
	w, _ := d.Winner()
	sku := ""
	for i, o := range w {
		if i > 0 {
			sku += " / "
		}
		sku += o.Text
	}
	prod := &catalog.Product{Name: name, Description: d.Story, Origin: d.Origin, Storage: in.Storage, Active: true,
		SKUs: []catalog.SKU{{Code: "cocreate-" + strconv.FormatInt(d.ID, 10), Name: sku, PriceFen: ps.PriceFen, Active: true}}}
	if len(d.Images) > 0 {
		prod.Image = d.Images[0]
	}
	if err := a.Cocreate.ToPresale(ctx, p.MerchantID, d.ID, prod, ps); err != nil {
		return nil, nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "cocreate.presale", fmt.Sprintf("cocreate:%d", d.ID), fmt.Sprintf("presale:%d %s", ps.ID, name))
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "presale.create", fmt.Sprintf("presale:%d", ps.ID), ps.Title)
	if d, err = a.Cocreate.Draft(ctx, p.MerchantID, d.ID); err != nil {
		return nil, nil, err
	}
	a.draftChanged(d, "cocreate.closed")
	a.publishPresale(ps, "presale.progress")
	return d, ps, nil
}

// PushGroupCard invites a room's viewers to join a topic group: the card
// shows at once (group.card) and stays in the room's snapshot.
func (a *App) PushGroupCard(ctx context.Context, p *identity.Principal, room *live.Room, g *fans.Group) error {
	if g.MerchantID != p.MerchantID {
		return apperr.ErrNotFound.At("group")
	}
	if err := a.Fans.SetRoomGroup(ctx, p.MerchantID, room.ID, g.ID); err != nil {
		return err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "group.card", "room:"+room.Slug, g.Slug)
	a.publish(room.Topic(), "group.card", map[string]any{"group": g})
	return nil
}

// roomGroup is the group a room invites to join: the card the host pushed,
// else the group a group-only room is restricted to.
func (a *App) roomGroup(ctx context.Context, r *live.Room) *fans.Group {
	if a.Fans == nil {
		return nil
	}
	if g, err := a.Fans.RoomGroup(ctx, r.MerchantID, r.ID); err == nil && g != nil {
		return g
	}
	if seg, err := a.RoomAudience(ctx, r.ID); err == nil && seg != nil && seg.Kind == members.SegFanGroup {
		if g, err := a.groupByID(ctx, r.MerchantID, seg.GroupID); err == nil {
			return g
		}
	}
	return nil
}
