package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/fans"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/order"
)

// Members: joining, the card, points settled from orders, member prices,
// and the one segment check (InSegment) that rooms restricted to a
// segment, their orders and their WebSocket topic all ask.

// audienceCache remembers each room's segment for a second, so the
// publish paths (one lookup per event) do not read the database each time.
type audienceCache struct {
	mu    sync.Mutex
	rooms map[int64]audienceEntry
}

type audienceEntry struct {
	seg *members.Segment
	at  time.Time
}

// audienceTTL bounds how long another node may keep publishing a room's
// goods on the public topic after it was restricted (this node forgets at once).
const audienceTTL = time.Second

// RoomAudience is the segment a room is restricted to, nil when it is open.
func (a *App) RoomAudience(ctx context.Context, roomID int64) (*members.Segment, error) {
	if a.Members == nil || roomID == 0 {
		return nil, nil
	}
	now := time.Now()
	a.audience.mu.Lock()
	e, ok := a.audience.rooms[roomID]
	a.audience.mu.Unlock()
	if ok && now.Sub(e.at) < audienceTTL {
		return e.seg, nil
	}
	seg, err := a.Members.Audience(ctx, roomID)
	if err != nil {
		return nil, err
	}
	a.audience.mu.Lock()
	if a.audience.rooms == nil {
		a.audience.rooms = map[int64]audienceEntry{}
	}
	a.audience.rooms[roomID] = audienceEntry{seg, now}
	a.audience.mu.Unlock()
	return seg, nil
}

// CommerceTopic is where a room's goods events (cards, product updates,
// flash sales, coupon cards, trace cards) go: the room's public topic, or its lineup
// topic when the room is restricted to a segment, so viewers outside it
// never receive them. When the audience cannot be read, the lineup topic
// (fail closed: members miss an event rather than strangers get one).
func (a *App) CommerceTopic(ctx context.Context, roomID int64) string {
	seg, err := a.RoomAudience(ctx, roomID)
	if err != nil {
		a.Logger.Warn("room audience", "room", roomID, "err", err)
		return live.LineupTopic(roomID)
	}
	if seg != nil {
		return live.LineupTopic(roomID)
	}
	return live.RoomTopic(roomID)
}

// InSegment is the one segment check: is the caller (a customer of the
// merchant) in seg? Staff are not customers and are never in a segment;
// anonymous callers are in none.
func (a *App) InSegment(ctx context.Context, p *identity.Principal, merchantID int64, seg members.Segment) (bool, error) {
	if p == nil || p.Kind != identity.KindCustomer || p.MerchantID != merchantID || a.Members == nil {
		return false, nil
	}
	if seg.Kind == members.SegFanGroup {
		if a.groups() == nil {
			return false, nil
		}
		return a.groups().InGroup(ctx, merchantID, seg.GroupID, p.SubjectID)
	}
	prog, err := a.Members.Program(ctx, merchantID)
	if err != nil {
		return false, err
	}
	return a.Members.InSegment(ctx, merchantID, p.SubjectID, seg, prog)
}

// Admitted reports whether p may see and buy a room's goods: always for
// an open room and for staff of its merchant, otherwise when p is in the
// room's segment. The gate (what to show instead) is set when not.
func (a *App) Admitted(ctx context.Context, p *identity.Principal, room *live.Room) (bool, *members.Gate, error) {
	seg, err := a.RoomAudience(ctx, room.ID)
	if err != nil || seg == nil {
		return err == nil, nil, err
	}
	if p.IsStaff() && p.MerchantID == room.MerchantID {
		return true, nil, nil
	}
	in, err := a.InSegment(ctx, p, room.MerchantID, *seg)
	if err != nil {
		return false, nil, err
	}
	if in {
		return true, nil, nil
	}
	g, err := a.gate(ctx, room.MerchantID, *seg)
	return false, g, err
}

func (a *App) gate(ctx context.Context, merchantID int64, seg members.Segment) (*members.Gate, error) {
	prog, err := a.Members.Program(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	name, url := "", ""
	if seg.Kind == members.SegFanGroup && a.groups() != nil {
		name, url, _ = a.groups().GroupName(ctx, merchantID, seg.GroupID)
	}
	g := members.GateOf(seg, prog, name, url)
	return &g, nil
}

// checkAudience refuses an order in a room restricted to a segment the
// buyer is not in (segment_required).
func (a *App) checkAudience(ctx context.Context, p *identity.Principal, roomID int64) error {
	if roomID == 0 {
		return nil
	}
	// Most rooms are for everyone: the audience is cached, so an order or
	// a coupon grab in such a room reads no room row (a grab stampede spent
	// a quarter of its CPU loading the room here).
	if seg, err := a.RoomAudience(ctx, roomID); err != nil || seg == nil {
		return err
	}
	room, err := a.Live.RoomByID(ctx, roomID)
	if err != nil {
		return nil // an unknown room restricts nothing (CreateOrder drops it)
	}
	ok, _, err := a.Admitted(ctx, p, room)
	if err != nil {
		return err
	}
	if !ok {
		return members.ErrNotInSegment
	}
	return nil
}

// RoomFor is the room's state as p may see it: for a room restricted to a
// segment and a viewer outside it, without the goods (lineup, pinned card,
// flash sales, replay jumps) and with the gate that says how to get in.
func (a *App) RoomFor(ctx context.Context, p *identity.Principal, slug string) (*RoomState, error) {
	st, err := a.RoomBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	a.fillMemberPrices(ctx, st)
	seg, err := a.RoomAudience(ctx, st.Room.ID)
	if err != nil || seg == nil {
		return st, err
	}
	ok, g, err := a.Admitted(ctx, p, st.Room)
	if err != nil {
		return nil, err
	}
	if !ok {
		st.lock(g)
		return st, nil
	}
	st.Gate, err = a.gate(ctx, st.Room.MerchantID, *seg) // admitted: the page still says whom it is for
	return st, err
}

// lock takes the goods out of a room state for viewers outside its segment.
func (st *RoomState) lock(g *members.Gate) {
	r := *st.Room
	r.ProductIDs, r.PinnedProductID = nil, 0
	st.Room = &r
	st.Products, st.Pinned, st.Flash, st.Clips, st.ClipPages, st.Coupons = nil, nil, nil, nil, nil, []coupons.Coupon{}
	st.Gate, st.Locked, st.MemberPrices = g, true, nil
}

// fillMemberPrices puts the member prices of the room's SKUs in its state
// (the page shows them to members; the order's transaction charges them).
func (a *App) fillMemberPrices(ctx context.Context, st *RoomState) {
	if a.Members == nil {
		return
	}
	prices, err := a.Members.MemberPrices(ctx, st.Room.MerchantID)
	if err != nil || len(prices) == 0 {
		return
	}
	for _, p := range st.Products {
		for _, k := range p.SKUs {
			if mp, ok := prices[k.ID]; ok && mp < k.PriceFen {
				if st.MemberPrices == nil {
					st.MemberPrices = map[string]int64{}
				}
				st.MemberPrices[strconv.FormatInt(k.ID, 10)] = mp
			}
		}
	}
}

// SetRoomAudience restricts a room to a segment (nil opens it). Fan-group
// segments need the fan groups to be wired (members.ErrGroupsMissing).
func (a *App) SetRoomAudience(ctx context.Context, p *identity.Principal, room *live.Room, seg *members.Segment) (*members.Segment, error) {
	if err := a.validAudience(ctx, p, seg); err != nil {
		return nil, err
	}
	if err := a.Members.SetAudience(ctx, p.MerchantID, room.ID, seg); err != nil {
		return nil, err
	}
	a.audienceSet(ctx, p, room, seg)
	return seg, nil
}

// validAudience checks a segment (nil: open) before it is stored: a fan
// group must exist, a tier must be one of the programme's.
func (a *App) validAudience(ctx context.Context, p *identity.Principal, seg *members.Segment) error {
	if seg == nil {
		return nil
	}
	if err := seg.Validate(); err != nil {
		return err
	}
	if seg.Kind == members.SegFanGroup {
		if a.groups() == nil {
			return members.ErrGroupsMissing
		}
		if _, _, err := a.groups().GroupName(ctx, p.MerchantID, seg.GroupID); err != nil {
			return members.ErrSegment.At("group_id").Wrap(err)
		}
	}
	if seg.Kind == members.SegTier {
		prog, err := a.Members.Program(ctx, p.MerchantID)
		if err != nil {
			return err
		}
		if seg.Tier >= len(prog.Tiers) {
			return members.ErrSegment.At("tier")
		}
	}
	return nil
}

// audienceSet follows a stored audience change: this node switches topics
// at once, the change is audited and viewers already in the room reload
// what they may see.
func (a *App) audienceSet(ctx context.Context, p *identity.Principal, room *live.Room, seg *members.Segment) {
	a.audience.mu.Lock()
	delete(a.audience.rooms, room.ID)
	a.audience.mu.Unlock()
	detail := "open"
	if seg != nil {
		detail = seg.Marshal()
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "room.audience", "room:"+room.Slug, detail)
	a.publish(room.Topic(), "room.audience", map[string]any{"restricted": seg != nil})
}

// JoinMembership makes the caller a member of the merchant (idempotent).
func (a *App) JoinMembership(ctx context.Context, p *identity.Principal, source string) (*members.Card, bool, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, false, apperr.ErrLoginRequired
	}
	source = strings.TrimSpace(source)
	if len(source) > 80 {
		source = source[:80]
	}
	m, joined, err := a.Members.Join(ctx, p.MerchantID, p.SubjectID, source)
	if err != nil {
		return nil, false, err
	}
	prog, err := a.Members.Program(ctx, p.MerchantID)
	if err != nil {
		return nil, false, err
	}
	c := prog.CardOf(m)
	return &c, joined, nil
}

// MembershipView is the card for 我的 (nil Card: not a member yet).
type MembershipView struct {
	Member  bool            `json:"member"`
	Card    *members.Card   `json:"card,omitempty"`
	Ledger  []members.Entry `json:"ledger,omitempty"`
	Program members.Program `json:"program"`
	// Offers are the coupons the programme gives for points, with the coupon.
	Offers []PointsOffer `json:"offers"`
}

// PointsOffer is an exchange offer with its coupon, for the card.
type PointsOffer struct {
	members.Offer
	Coupon coupons.Coupon `json:"coupon"`
}

// pointsOffers resolves the programme's offers to their coupons (offers
// whose coupon is gone are left out).
func (a *App) pointsOffers(ctx context.Context, prog members.Program) []PointsOffer {
	out := []PointsOffer{}
	if a.Coupons == nil {
		return out
	}
	for _, o := range prog.Exchange {
		if c, err := a.Coupons.Get(ctx, prog.MerchantID, o.CouponID); err == nil && c.Issued < c.BudgetCount {
			out = append(out, PointsOffer{Offer: o, Coupon: *c})
		}
	}
	return out
}

// ExchangePoints gives the caller one coupon of an exchange offer for its
// points, both in one transaction; the Idempotency-Key makes a retry the
// same exchange.
func (a *App) ExchangePoints(ctx context.Context, p *identity.Principal, couponID int64, idemKey string) (*members.Entry, int64, *members.Card, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, 0, nil, apperr.ErrLoginRequired
	}
	if idemKey == "" || len(idemKey) > 80 {
		return nil, 0, nil, order.ErrIdempotencyKey
	}
	prog, err := a.Members.Program(ctx, p.MerchantID)
	if err != nil {
		return nil, 0, nil, err
	}
	offer := prog.OfferFor(couponID)
	if offer == nil {
		return nil, 0, nil, members.ErrNoOffer
	}
	e, claim, err := a.Members.ExchangePoints(ctx, p.MerchantID, p.SubjectID, *offer, idemKey)
	if err != nil {
		return nil, 0, nil, err
	}
	m, err := a.Members.Membership(ctx, p.MerchantID, p.SubjectID)
	if err != nil {
		return nil, 0, nil, err
	}
	c := prog.CardOf(m)
	return e, claim, &c, nil
}

// MyMembership is the caller's card, their latest points entries and the
// programme's tiers.
func (a *App) MyMembership(ctx context.Context, p *identity.Principal) (*MembershipView, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, apperr.ErrLoginRequired
	}
	prog, err := a.Members.Program(ctx, p.MerchantID)
	if err != nil {
		return nil, err
	}
	v := &MembershipView{Program: prog, Offers: a.pointsOffers(ctx, prog)}
	m, err := a.Members.Membership(ctx, p.MerchantID, p.SubjectID)
	if err == members.ErrNotMember {
		return v, nil
	}
	if err != nil {
		return nil, err
	}
	c := prog.CardOf(m)
	v.Member, v.Card = true, &c
	if v.Ledger, err = a.Members.Ledger(ctx, p.MerchantID, p.SubjectID, 20); err != nil {
		return nil, err
	}
	return v, nil
}

// SaveMemberProgram validates and stores the merchant's tiers and points rate.
func (a *App) SaveMemberProgram(ctx context.Context, p *identity.Principal, prog members.Program) (members.Program, error) {
	if err := prog.Validate(); err != nil {
		return prog, err
	}
	for _, o := range prog.Exchange {
		if a.Coupons == nil {
			return prog, members.ErrOffer
		}
		if _, err := a.Coupons.Get(ctx, p.MerchantID, o.CouponID); err != nil {
			// Another shop's coupon, or none, is bad input; an outage stays one.
			return prog, apperr.NotFoundAs(err, members.ErrOffer)
		}
	}
	prog.MerchantID = p.MerchantID
	if err := a.Members.SaveProgram(ctx, prog); err != nil {
		return prog, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "members.program", "member_program", fmt.Sprintf("%s, %d tiers, %d points/yuan", prog.Basis, len(prog.Tiers), prog.PointsPerYuan))
	return a.Members.Program(ctx, p.MerchantID)
}

// SetMemberPrice sets or clears (0) a SKU's member price.
func (a *App) SetMemberPrice(ctx context.Context, p *identity.Principal, skuID, priceFen int64) error {
	if err := a.Members.SetMemberPrice(ctx, p.MerchantID, skuID, priceFen); err != nil {
		return err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "members.price", fmt.Sprintf("sku:%d", skuID), fmt.Sprintf("%d fen", priceFen))
	return nil
}

// settlePoints brings a paid (or refunded) order's points up to date right
// after the change committed; the leader's sweep (settleDuePoints) catches
// whatever a crash in between left.
func (a *App) settlePoints(o *order.Order) {
	if a.Members == nil || o.PaidAt == nil {
		return
	}
	if _, err := a.Members.SettleOrder(context.Background(), o.MerchantID, o.ID); err != nil {
		a.Logger.Warn("points: settle", "order", o.ID, "err", err)
	}
}

// settleDuePoints settles members' orders of the last 30 days whose points
// lag behind the order (leader only, every few seconds).
func (a *App) settleDuePoints(ctx context.Context) {
	if a.Members == nil {
		return
	}
	due, err := a.Members.UnsettledOrders(ctx, a.Now().Add(-30*24*time.Hour), 200)
	if err != nil {
		a.Logger.Error("points: due", "err", err)
		return
	}
	for _, r := range due {
		if _, err := a.Members.SettleOrder(ctx, r.MerchantID, r.OrderID); err != nil {
			a.Logger.Warn("points: settle", "order", r.OrderID, "err", err)
		}
	}
}

// commerceTopicOf maps a room topic (as running flash sales keep it) to
// where that room's goods events go now.
func (a *App) commerceTopicOf(roomTopic string) string {
	id, err := strconv.ParseInt(strings.TrimPrefix(roomTopic, "room:"), 10, 64)
	if err != nil {
		return roomTopic
	}
	return a.CommerceTopic(context.Background(), id)
}

// saleRoom is the room of a running flash sale (0 when it is not running
// here; CreateOrder refuses those anyway).
func (a *App) saleRoom(saleID int64) int64 {
	e := a.flash()
	e.mu.Lock()
	defer e.mu.Unlock()
	if rs := e.sales[saleID]; rs != nil {
		return rs.alloc.Sale().RoomID
	}
	return 0
}

// RedeemRequest is a counter redemption: the member shows their card
// number, staff take points for a gift or a service.
type RedeemRequest struct {
	Number string `json:"number"`
	Points int64  `json:"points"`
	Note   string `json:"note"`
}

// RedeemPoints takes points off a member's balance at the counter, once per
// idempotency key (a retried request is the same redemption).
func (a *App) RedeemPoints(ctx context.Context, p *identity.Principal, req RedeemRequest, idemKey string) (*members.Entry, *members.Card, error) {
	if idemKey == "" || len(idemKey) > 80 {
		return nil, nil, order.ErrIdempotencyKey
	}
	if len([]rune(req.Note)) > 60 {
		req.Note = string([]rune(req.Note)[:60])
	}
	m, err := a.Members.MembershipByNumber(ctx, p.MerchantID, strings.TrimSpace(req.Number))
	if err != nil {
		return nil, nil, err
	}
	e, err := a.Members.SpendPoints(ctx, p.MerchantID, m.CustomerID, req.Points, "redeem:"+idemKey, req.Note)
	if err != nil {
		return nil, nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "members.redeem", "member:"+m.Number, fmt.Sprintf("%d points: %s", req.Points, req.Note))
	if m, err = a.Members.Membership(ctx, p.MerchantID, m.CustomerID); err != nil {
		return nil, nil, err
	}
	prog, err := a.Members.Program(ctx, p.MerchantID)
	if err != nil {
		return nil, nil, err
	}
	c := prog.CardOf(m)
	return e, &c, nil
}

// groups answers fan-group segments: the wired checker, or the fan groups
// of the fans domain (a member of a group has a role in it).
func (a *App) groups() members.GroupChecker {
	if a.Groups != nil {
		return a.Groups
	}
	if a.Fans != nil {
		return fanGroups{a.Fans}
	}
	return nil
}

// fanGroups adapts fans.Store to members.GroupChecker.
type fanGroups struct{ fans fans.Store }

func (f fanGroups) group(ctx context.Context, merchantID, groupID int64) (*fans.Group, error) {
	list, err := f.fans.Groups(ctx, merchantID) // a shop has a handful of groups
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == groupID {
			return &list[i], nil
		}
	}
	return nil, apperr.ErrNotFound
}

// InGroup: the group is the merchant's and the customer has a role in it.
func (f fanGroups) InGroup(ctx context.Context, merchantID, groupID, customerID int64) (bool, error) {
	if _, err := f.group(ctx, merchantID, groupID); err != nil {
		if errors.Is(err, apperr.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	role, err := f.fans.Role(ctx, groupID, customerID)
	return role != "", err
}

// GroupName is the group's name and its page.
func (f fanGroups) GroupName(ctx context.Context, merchantID, groupID int64) (string, string, error) {
	g, err := f.group(ctx, merchantID, groupID)
	if err != nil {
		return "", "", err
	}
	return g.Name, "/groups/" + g.Slug, nil
}

// memberPricesOf is the merchant's member prices when p is a member (nil
// otherwise): the coupon quote prices a cart as the order will.
func (a *App) memberPricesOf(ctx context.Context, p *identity.Principal) map[int64]int64 {
	if a.Members == nil || p == nil || p.Kind != identity.KindCustomer {
		return nil
	}
	if _, err := a.Members.Membership(ctx, p.MerchantID, p.SubjectID); err != nil {
		return nil
	}
	prices, err := a.Members.MemberPrices(ctx, p.MerchantID)
	if err != nil {
		return nil
	}
	return prices
}
