package app

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/draws"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
)

// 福袋 draws: the host opens one with its commitment (the seed's hash)
// shown at once; viewers enter by a comment with the keyword, a like or a
// follow (预约 of the room) while it is open; when the window closes (or
// the host draws early) the leader applies the bot rule, computes the
// winners from the seed and the sorted eligible entries, reveals the seed
// and gives the prizes. internal/draws says exactly how.

// PrizeIssuer gives a winner a coupon of the prize coupon's budget.
type PrizeIssuer interface {
	IssuePrize(ctx context.Context, merchantID, couponID, customerID, seq int64) (int64, error)
}

type drawDirty struct {
	mu    sync.Mutex
	draws map[int64]int64 // draw -> room
	// open caches each room's open comment draws for a second, so a busy
	// room's comments do not each read the draws table.
	open map[int64]openDraws
}

type openDraws struct {
	at   time.Time
	list []draws.Draw
}

type deviceKey struct{}

// WithDevice carries the caller's device fingerprint (a hash the web
// layer makes of its visitor cookie, or address and user agent) to the
// draw entry, for the bot rule.
func WithDevice(ctx context.Context, device string) context.Context {
	return context.WithValue(ctx, deviceKey{}, device)
}

func deviceFrom(ctx context.Context) string {
	d, _ := ctx.Value(deviceKey{}).(string)
	return d
}

// DrawInput is what the host sends.
type DrawInput struct {
	Title         string          `json:"title"`
	Entry         draws.EntryKind `json:"entry"`
	Keyword       string          `json:"keyword,omitempty"`
	Winners       int             `json:"winners"`
	PrizeKind     draws.PrizeKind `json:"prize_kind"`
	PrizeCouponID int64           `json:"prize_coupon_id,omitempty"`
	PrizeSKUID    int64           `json:"prize_sku_id,omitempty"`
	PrizeStoreID  int64           `json:"prize_store_id,omitempty"`
	Minutes       int             `json:"minutes"` // entry window, from now
}

// CreateDraw opens a draw in the room; the room sees its commitment now.
func (a *App) CreateDraw(ctx context.Context, p *identity.Principal, room *live.Room, in DrawInput) (*draws.Draw, error) {
	now := a.Now()
	d := &draws.Draw{MerchantID: p.MerchantID, RoomID: room.ID, Title: in.Title, Entry: in.Entry, Keyword: in.Keyword, Winners: in.Winners,
		PrizeKind: in.PrizeKind, PrizeCouponID: in.PrizeCouponID, PrizeSKUID: in.PrizeSKUID, PrizeStoreID: in.PrizeStoreID,
		OpensAt: now, ClosesAt: now.Add(time.Duration(in.Minutes) * time.Minute),
		AtStore: p.AtStore()} // a store's host gives a free item from their store's stock only
	if in.Minutes < 1 {
		return nil, draws.ErrWindow
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if d.PrizeKind == draws.PrizeCoupon && p.AtStore() != 0 {
		// A store's host gives only coupons they read (couponScope): not
		// another store's budget. The others answer as a coupon that does
		// not exist; an outage stays one.
		if _, err := a.StaffCoupon(ctx, p, d.PrizeCouponID); err != nil {
			return nil, apperr.NotFoundAs(err, draws.ErrPrizeCoupon)
		}
	}
	if err := a.checkRoomTexts(ctx, room, "draw", d.Title); err != nil {
		return nil, err
	}
	seed, commitment := draws.NewSeed()
	d.SetSecretSeed(seed)
	d.Commitment = commitment
	if err := a.Draws.Create(ctx, d); err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "draw.open", "room:"+room.Slug, d.Title+" commitment="+commitment)
	a.drawsDirty.mu.Lock()
	delete(a.drawsDirty.open, room.ID) // comments see the new draw at once
	a.drawsDirty.mu.Unlock()
	a.publish(room.Topic(), "draw.opened", map[string]any{"draw": d})
	return d, nil
}

// EnterDraw enters a viewer by a like or a follow (a comment draw is
// entered by commenting its keyword).
func (a *App) EnterDraw(ctx context.Context, p *identity.Principal, id int64) (*draws.Draw, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, apperr.ErrLoginRequired
	}
	d, err := a.Draws.Get(ctx, p.MerchantID, id)
	if err != nil {
		return nil, err
	}
	room, err := a.Live.Room(ctx, p.MerchantID, d.RoomID)
	if err != nil {
		return nil, err
	}
	switch d.Entry {
	case draws.ByComment:
		return nil, draws.ErrByComment.With("发送评论「"+d.Keyword+"」即可参与", "Comment “"+d.Keyword+"” to enter.")
	case draws.ByLike:
		if err := a.enter(ctx, p, d); err != nil {
			return nil, err
		}
		a.Like(ctx, room, 1) // the like that enters counts as one
	case draws.ByFollow:
		if err := a.enter(ctx, p, d); err != nil {
			return nil, err
		}
		// 关注: the viewer follows the room (its 预约 list; the product has
		// no separate follow list yet).
		if err := a.Reminders.Subscribe(ctx, p.MerchantID, room.ID, p.SubjectID); err != nil {
			a.Logger.Warn("draw: follow", "draw", d.ID, "err", err)
		}
	}
	d.Entrants++
	return d, nil
}

func (a *App) enter(ctx context.Context, p *identity.Principal, d *draws.Draw) error {
	if err := a.Draws.Enter(ctx, p.MerchantID, d.ID, draws.Entrant{CustomerID: p.SubjectID, Via: d.Entry, Device: deviceFrom(ctx)}); err != nil {
		return err
	}
	a.drawsDirty.mu.Lock()
	if a.drawsDirty.draws == nil {
		a.drawsDirty.draws = map[int64]int64{}
	}
	a.drawsDirty.draws[d.ID] = d.RoomID
	a.drawsDirty.mu.Unlock()
	return nil
}

// enterByComment enters a viewer whose comment carries the keyword of an
// open comment draw of the room (PostComment calls it after the comment
// was stored); a second time changes nothing.
func (a *App) enterByComment(ctx context.Context, p *identity.Principal, room *live.Room, text string) {
	if a.Draws == nil || p == nil || p.Kind != identity.KindCustomer {
		return
	}
	now := a.Now()
	a.drawsDirty.mu.Lock()
	cached, ok := a.drawsDirty.open[room.ID]
	a.drawsDirty.mu.Unlock()
	if !ok || now.Sub(cached.at) > time.Second || now.Before(cached.at) {
		all, err := a.Draws.RoomDraws(ctx, room.MerchantID, room.ID)
		if err != nil {
			return
		}
		cached = openDraws{at: now}
		for _, d := range all {
			if d.Status == draws.Open && d.Entry == draws.ByComment {
				cached.list = append(cached.list, d)
			}
		}
		a.drawsDirty.mu.Lock()
		if a.drawsDirty.open == nil {
			a.drawsDirty.open = map[int64]openDraws{}
		}
		a.drawsDirty.open[room.ID] = cached
		a.drawsDirty.mu.Unlock()
	}
	list := cached.list
	for i := range list {
		d := &list[i]
		if d.Status != draws.Open || d.Entry != draws.ByComment || !now.Before(d.ClosesAt) || !strings.Contains(text, d.Keyword) {
			continue
		}
		if err := a.enter(ctx, p, d); err != nil && !errors.Is(err, draws.ErrEntered) && !errors.Is(err, draws.ErrClosed) {
			a.Logger.Warn("draw: comment entry", "draw", d.ID, "err", err)
		}
	}
}

// DrawNow closes a draw early and draws it (host).
func (a *App) DrawNow(ctx context.Context, p *identity.Principal, id int64) (*draws.Result, error) {
	d, err := a.Draws.Get(ctx, p.MerchantID, id)
	if err != nil {
		return nil, err
	}
	if err := a.storeRoom(ctx, p, d.RoomID); err != nil {
		return nil, err
	}
	if d.Status == draws.Open {
		if err := a.runDraw(ctx, d); err != nil {
			return nil, err
		}
		a.Audit.Audit(ctx, p.MerchantID, p.Name, "draw.draw", "draw:"+strconv.FormatInt(d.ID, 10), "")
	}
	return a.Draws.Result(ctx, id)
}

// runDraw applies the bot rule, computes the winners, saves the result
// once, reveals the seed to the room and gives the prizes.
func (a *App) runDraw(ctx context.Context, d *draws.Draw) error {
	entrants, err := a.Draws.Entrants(ctx, d.ID)
	if err != nil {
		return err
	}
	excluded := draws.Exclude(entrants, d.OpensAt)
	var eligible []int64
	for _, e := range entrants {
		if excluded[e.CustomerID] == "" {
			eligible = append(eligible, e.CustomerID)
		}
	}
	winners, err := draws.Winners(d.SecretSeed(), eligible, d.Winners)
	if err != nil {
		return err
	}
	saved, err := a.Draws.SaveResult(ctx, d.ID, excluded, winners)
	if err != nil || !saved {
		return err // drawn already (another node, or the host at the same moment)
	}
	res, err := a.Draws.Result(ctx, d.ID)
	if err != nil {
		return err
	}
	a.publish(live.RoomTopic(d.RoomID), "draw.drawn", map[string]any{"draw": res.Draw, "winners": res.Winners, "eligible": len(res.Entries), "excluded": len(res.Excluded)})
	a.awardPrizes(ctx)
	return nil
}

// tickDraws draws the draws whose window closed and gives prizes still
// owed (leader; a prize is given at most once: the coupon claim's number
// and the prize order's Idempotency-Key are per draw and winner).
func (a *App) tickDraws(ctx context.Context) {
	if a.Draws == nil {
		return
	}
	due, err := a.Draws.Due(ctx, a.Now())
	if err != nil {
		a.Logger.Error("draws: due", "err", err)
		return
	}
	for i := range due {
		if err := a.runDraw(ctx, &due[i]); err != nil {
			a.Logger.Error("draws: draw", "draw", due[i].ID, "err", err)
		}
	}
	a.awardPrizes(ctx)
}

func (a *App) awardPrizes(ctx context.Context) {
	pending, err := a.Draws.PendingPrizes(ctx)
	if err != nil {
		a.Logger.Error("draws: prizes", "err", err)
		return
	}
	for _, pp := range pending {
		d := pp.Draw
		var claimID, orderID int64
		switch d.PrizeKind {
		case draws.PrizeCoupon:
			claimID, err = a.DrawPrizes.IssuePrize(ctx, d.MerchantID, d.PrizeCouponID, pp.CustomerID, -d.ID)
		case draws.PrizeFreeSKU:
			orderID, err = a.prizeOrder(ctx, &d, pp.CustomerID)
		}
		if err != nil {
			a.Logger.Warn("draws: prize", "draw", d.ID, "customer", pp.CustomerID, "err", err)
			continue
		}
		if err := a.Draws.SetPrize(ctx, d.ID, pp.CustomerID, claimID, orderID); err != nil {
			a.Logger.Warn("draws: prize saved", "draw", d.ID, "err", err)
		}
	}
}

// prizeOrder makes the winner's zero-price order: one unit of the prize
// SKU for pickup at the prize store, paid at once, reserved FEFO and
// checked sellable like any order.
func (a *App) prizeOrder(ctx context.Context, d *draws.Draw, customerID int64) (int64, error) {
	c, err := a.Users.Customer(ctx, d.MerchantID, customerID)
	if err != nil {
		return 0, err
	}
	o := &order.Order{MerchantID: d.MerchantID, CustomerID: customerID, RoomID: d.RoomID, DrawID: d.ID, Fulfilment: order.Pickup, StoreID: d.PrizeStoreID,
		ContactPhone: c.Phone, IdempotencyKey: "draw-" + strconv.FormatInt(d.ID, 10), RequestHash: "draw", ReserveExpiresAt: a.Now().Add(a.ReserveFor), CouponPick: "none"}
	created, err := a.Orders.Create(ctx, o, []order.Item{{SKUID: d.PrizeSKUID, Quantity: 1}})
	if err != nil {
		return 0, err
	}
	if created {
		a.PublishOrder(o, "order.created", "")
		a.emitOrder(o)
	}
	return o.ID, nil
}

// flushDraws publishes entrant counts of draws that got entries.
func (a *App) flushDraws(ctx context.Context) {
	a.drawsDirty.mu.Lock()
	dirty := a.drawsDirty.draws
	a.drawsDirty.draws = nil
	a.drawsDirty.mu.Unlock()
	for id, room := range dirty {
		d, err := a.Draws.ByID(ctx, id)
		if err != nil {
			continue
		}
		a.publish(live.RoomTopic(room), "draw.entries", map[string]any{"draw_id": id, "entrants": d.Entrants})
	}
}

// roomDraws is what the room's snapshot shows: open draws and those drawn
// in the last 10 minutes.
func (a *App) roomDraws(ctx context.Context, r *live.Room) []draws.Draw {
	out := []draws.Draw{}
	if a.Draws == nil {
		return out
	}
	list, err := a.Draws.RoomDraws(ctx, r.MerchantID, r.ID)
	if err != nil {
		return out
	}
	for _, d := range list {
		if d.Status == draws.Open || (d.DrawnAt != nil && a.Now().Sub(*d.DrawnAt) < 10*time.Minute) {
			out = append(out, d)
		}
	}
	return out
}
