package app

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/batch"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/order"
)

// Coupon cards: the host pushes a coupon into the room, every viewer may
// grab it at once. As with flash sales, the leader keeps one in-memory
// coupons.Allocator per live coupon (who got one, how many are left) and a
// single writer commits the winners' claims in batches; a viewer hears
// "yours" only after the batch holding their claim committed. Losers
// ("gone", "you have it") never reach the database.

type couponEngine struct {
	mu    sync.Mutex
	live  map[int64]*liveCoupon
	queue *batch.Queue[*grabReq]
	dirty map[int64]bool
}

type liveCoupon struct {
	alloc *coupons.Allocator
	topic string
}

type grabReq struct {
	g     *coupons.Grab
	alloc *coupons.Allocator
}

func (a *App) couponEng() *couponEngine {
	a.couponOnce.Do(func() {
		a.couponE = &couponEngine{live: map[int64]*liveCoupon{}, dirty: map[int64]bool{},
			queue: batch.New(16384, 12288, 512, a.issueClaims, func(r *grabReq) { r.g.Err = coupons.ErrBusy; r.settle() })}
	})
	return a.couponE
}

// issueClaims commits a batch of winners' claims (the queue's writer).
func (a *App) issueClaims(batch []*grabReq) {
	gs := make([]*coupons.Grab, len(batch))
	for i, r := range batch {
		gs[i] = r.g
	}
	if err := a.Coupons.IssueBatch(context.Background(), gs); err != nil {
		for _, g := range gs {
			g.Err, g.Claim = err, nil
		}
	}
	for _, r := range batch {
		r.settle()
	}
}

// settle ends a Take: a claim that was not written goes back.
func (r *grabReq) settle() {
	if r.g.Err != nil {
		r.alloc.GiveBack(r.g.CustomerID)
	}
	r.alloc.Settle()
}

// startCoupons runs the claim writer until ctx ends (and, on one node,
// rebuilds the live coupons' allocators from the database).
func (a *App) startCoupons(ctx context.Context) {
	e := a.couponEng()
	if a.Coupons == nil {
		return
	}
	if a.Leases == nil {
		a.loadLiveCoupons(ctx)
	}
	go e.queue.Run(ctx)
}

// loadLiveCoupons rebuilds allocators of live coupons (start, or on
// becoming the leader): the remaining budget is units minus the claims
// written, and each customer's count is theirs in the database.
func (a *App) loadLiveCoupons(ctx context.Context) {
	if a.Coupons == nil {
		return
	}
	list, held, err := a.Coupons.Live(ctx)
	if err != nil {
		a.Logger.Error("coupons: load live", "err", err)
		return
	}
	e := a.couponEng()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range list {
		if c.RoomID == 0 {
			continue
		}
		e.live[c.ID] = &liveCoupon{alloc: coupons.NewAllocator(c, held[c.ID]), topic: live.RoomTopic(c.RoomID)}
		e.dirty[c.ID] = true
	}
}

// dropCoupons forgets allocators when the lease is lost; their unwritten
// claims fail at the commit fence and are given back.
func (a *App) dropCoupons() {
	e := a.couponEng()
	e.mu.Lock()
	old := e.live
	e.live = map[int64]*liveCoupon{}
	e.mu.Unlock()
	for _, lc := range old {
		go lc.alloc.Close()
	}
}

// CouponInput is what the merchant sends to create a coupon.
type CouponInput struct {
	Kind         coupons.Kind  `json:"kind"`
	Title        string        `json:"title"`
	Room         string        `json:"room,omitempty"` // slug of the room whose viewers grab it
	AmountFen    int64         `json:"amount_fen"`
	MinSpendFen  int64         `json:"min_spend_fen"`
	PercentOff   int64         `json:"percent_off"`
	MaxOffFen    int64         `json:"max_off_fen"`
	BudgetCount  int64         `json:"budget_count"`
	BudgetFen    int64         `json:"budget_fen"`
	PerUserLimit int64         `json:"per_user_limit"`
	ValidFrom    *time.Time    `json:"valid_from,omitempty"`  // default now
	ValidUntil   *time.Time    `json:"valid_until,omitempty"` // default ValidDays after ValidFrom
	ValidDays    int           `json:"valid_days,omitempty"`  // default 7
	Scope        coupons.Scope `json:"scope"`
	// Override is an owner's, for a title with blocking compliance findings.
	Override *Override `json:"override,omitempty"`
}

// CreateCoupon stores a draft coupon whose title passed the compliance
// review (checkCouponTitle).
func (a *App) CreateCoupon(ctx context.Context, p *identity.Principal, in CouponInput) (*coupons.Coupon, error) {
	c := &coupons.Coupon{MerchantID: p.MerchantID, Kind: in.Kind, Title: in.Title, AmountFen: in.AmountFen, MinSpendFen: in.MinSpendFen, PercentOff: in.PercentOff,
		MaxOffFen: in.MaxOffFen, BudgetCount: in.BudgetCount, BudgetFen: in.BudgetFen, PerUserLimit: in.PerUserLimit, Scope: in.Scope}
	if c.PerUserLimit == 0 {
		c.PerUserLimit = 1
	}
	c.ValidFrom = a.Now()
	if in.ValidFrom != nil {
		c.ValidFrom = in.ValidFrom.UTC()
	}
	days := in.ValidDays
	if days <= 0 {
		days = 7
	}
	c.ValidUntil = c.ValidFrom.Add(time.Duration(days) * 24 * time.Hour)
	if in.ValidUntil != nil {
		c.ValidUntil = in.ValidUntil.UTC()
	}
	if in.Room != "" {
		room, err := a.Live.RoomBySlug(ctx, in.Room)
		if err != nil {
			return nil, apperr.NotFoundAs(err, coupons.ErrUnknownRoom) // an outage is not bad input
		}
		if at := p.AtStore(); room.MerchantID != p.MerchantID || (at != 0 && room.StoreID != at) {
			return nil, coupons.ErrUnknownRoom
		}
		c.RoomID = room.ID
	} else if p.AtStore() != 0 {
		// A whole-shop coupon is the merchant's money across every store:
		// staff bound to one store make coupons for their studio's rooms.
		return nil, coupons.ErrRoomRequired.With("门店员工只能为本店直播间建券", "Staff of one store make coupons for their store's rooms only.")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	overridden, err := a.checkCouponTitle(ctx, p, c, in.Override)
	if err != nil {
		return nil, err
	}
	if err := a.Coupons.Create(ctx, c); err != nil {
		return nil, err
	}
	a.auditOverride(ctx, overridden)
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "coupon.create", "coupon:"+itoa64(c.ID), c.Title)
	return c, nil
}

// couponScope is which coupons a staff member reads: every coupon of the
// merchant, or, for staff bound to one store (a store's host), their
// store's: the coupons of its rooms, and the whole-shop coupons that apply
// at it (no store in their scope, or this one). Coupons of other stores'
// rooms or of the brand's rooms, and whole-shop coupons only for other
// stores, are not theirs, as those rooms and orders are not.
type couponScope struct {
	at    int64          // 0: staff of every store
	rooms map[int64]bool // the store's rooms
}

func (a *App) couponScopeOf(ctx context.Context, p *identity.Principal) (*couponScope, error) {
	sc := &couponScope{at: p.AtStore()}
	if sc.at == 0 {
		return sc, nil
	}
	rooms, err := a.Live.ListRooms(ctx, p.MerchantID)
	if err != nil {
		return nil, err // an outage, not an empty list
	}
	sc.rooms = map[int64]bool{}
	for _, r := range rooms {
		if r.StoreID == sc.at {
			sc.rooms[r.ID] = true
		}
	}
	return sc, nil
}

// sees reports whether the coupon is in the scope.
func (sc *couponScope) sees(c *coupons.Coupon) bool {
	switch {
	case sc.at == 0:
		return true
	case c.RoomID != 0:
		return sc.rooms[c.RoomID]
	default:
		return len(c.Scope.StoreIDs) == 0 || slices.Contains(c.Scope.StoreIDs, sc.at)
	}
}

// costOf reports whether a cost report row is in the scope: a store's
// staff see their rooms' coupons only. A whole-shop coupon's figures are
// the merchant's, summed over every store's orders.
func (sc *couponScope) costOf(r *coupons.ReportRow) bool {
	return sc.at == 0 || (r.RoomID != 0 && sc.rooms[r.RoomID])
}

// StaffCoupons lists the coupons the staff member reads (newest first;
// roomID 0: every room), see couponScope.
func (a *App) StaffCoupons(ctx context.Context, p *identity.Principal, roomID int64) ([]coupons.Coupon, error) {
	// The database applies couponScope.sees for the store (ListFilter.StoreID)
	// before taking the newest ListMax, so no room list is read here.
	return a.Coupons.List(ctx, p.MerchantID, coupons.ListFilter{RoomID: roomID, StoreID: p.AtStore()})
}

// CouponReport is the cost per coupon the staff member reads (roomID 0:
// every room), see couponScope.costOf.
func (a *App) CouponReport(ctx context.Context, p *identity.Principal, roomID int64) ([]coupons.ReportRow, error) {
	sc, err := a.couponScopeOf(ctx, p)
	if err != nil {
		return nil, err
	}
	rows, err := a.Coupons.Report(ctx, p.MerchantID, roomID)
	if err != nil {
		return nil, err
	}
	out := rows[:0]
	for i := range rows {
		if sc.costOf(&rows[i]) {
			out = append(out, rows[i])
		}
	}
	return out, nil
}

// StaffCoupon loads one coupon the staff member reads; another store's is
// not found, like its rooms and orders.
func (a *App) StaffCoupon(ctx context.Context, p *identity.Principal, id int64) (*coupons.Coupon, error) {
	c, err := a.Coupons.Get(ctx, p.MerchantID, id)
	if err != nil {
		return nil, err
	}
	sc, err := a.couponScopeOf(ctx, p)
	if err != nil {
		return nil, err
	}
	if !sc.sees(c) {
		return nil, apperr.ErrNotFound
	}
	return c, nil
}

// CouponSegmentIssues lists a coupon's issues to segments, newest first,
// for staff who read the coupon.
func (a *App) CouponSegmentIssues(ctx context.Context, p *identity.Principal, id int64) ([]coupons.SegmentIssue, error) {
	if _, err := a.StaffCoupon(ctx, p, id); err != nil {
		return nil, err
	}
	return a.Coupons.SegmentIssues(ctx, p.MerchantID, id)
}

// ownCoupon loads a coupon for staff; a store's host only their studio's.
func (a *App) ownCoupon(ctx context.Context, p *identity.Principal, id int64) (*coupons.Coupon, error) {
	c, err := a.Coupons.Get(ctx, p.MerchantID, id)
	if err != nil {
		return nil, err
	}
	if err := a.storeRoom(ctx, p, c.RoomID); err != nil {
		return nil, err // for a store's host a whole-shop coupon (no room) is not found too
	}
	return c, nil
}

// PushCoupon puts a draft coupon's card into its room: from now viewers
// grab it. The allocator lives on the leader.
func (a *App) PushCoupon(ctx context.Context, p *identity.Principal, id int64) (*coupons.Coupon, error) {
	if !a.IsLeader() {
		return nil, a.notLeader()
	}
	c, err := a.ownCoupon(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if c.RoomID == 0 {
		return nil, coupons.ErrNoRoom
	}
	if !a.Now().Before(c.ValidUntil) {
		return nil, coupons.ErrWindow.With("券已过期", "The coupon has expired.")
	}
	ok, err := a.Coupons.SetStatus(ctx, p.MerchantID, id, coupons.Draft, coupons.Live)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, coupons.ErrNotDraft
	}
	now := a.Now()
	c.Status, c.PushedAt = coupons.Live, &now
	e := a.couponEng()
	lc := &liveCoupon{alloc: coupons.NewAllocator(*c, nil), topic: live.RoomTopic(c.RoomID)}
	e.mu.Lock()
	e.live[c.ID] = lc
	e.mu.Unlock()
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "coupon.push", "coupon:"+itoa64(c.ID), "room:"+itoa64(c.RoomID))
	a.publish(a.commerceTopicOf(lc.topic), "coupon.pushed", map[string]any{"coupon": c})
	return c, nil
}

// EndCoupon stops grabbing (host); coupons already grabbed stay usable in
// their window.
func (a *App) EndCoupon(ctx context.Context, p *identity.Principal, id int64) (*coupons.Coupon, error) {
	if !a.IsLeader() {
		return nil, a.notLeader()
	}
	c, err := a.ownCoupon(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := a.endCoupon(ctx, c); err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "coupon.end", "coupon:"+itoa64(c.ID), "")
	return a.Coupons.Get(ctx, p.MerchantID, id)
}

func (a *App) endCoupon(ctx context.Context, c *coupons.Coupon) error {
	e := a.couponEng()
	e.mu.Lock()
	lc := e.live[c.ID]
	delete(e.live, c.ID)
	e.mu.Unlock()
	if lc != nil {
		lc.alloc.Close() // waits for in-flight claims to be written
	}
	if _, err := a.Coupons.SetStatus(ctx, c.MerchantID, c.ID, coupons.Live, coupons.Closed); err != nil {
		return err
	}
	if c.RoomID != 0 {
		a.publish(a.CommerceTopic(ctx, c.RoomID), "coupon.ended", map[string]any{"coupon_id": c.ID})
	}
	return nil
}

// tickCoupons ends live coupons whose window is over (leader).
func (a *App) tickCoupons(ctx context.Context) {
	e := a.couponEng()
	e.mu.Lock()
	var due []coupons.Coupon
	for _, lc := range e.live {
		if c := lc.alloc.Coupon(); !a.Now().Before(c.ValidUntil) {
			due = append(due, c)
		}
	}
	e.mu.Unlock()
	for i := range due {
		if err := a.endCoupon(ctx, &due[i]); err != nil {
			a.Logger.Warn("coupon: end", "coupon", due[i].ID, "err", err)
		}
	}
}

// GrabCoupon gives a viewer one of a live coupon card's coupons. Answers:
// the claim (written), coupon_gone, coupon_claim_limit, coupon_not_live,
// busy_retry (queue full: the page says try again).
func (a *App) GrabCoupon(ctx context.Context, p *identity.Principal, id int64) (*coupons.Claim, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, apperr.ErrLoginRequired
	}
	if !a.IsLeader() {
		return nil, a.notLeader()
	}
	e := a.couponEng()
	e.mu.Lock()
	lc := e.live[id]
	e.mu.Unlock()
	if lc == nil || lc.alloc.Coupon().MerchantID != p.MerchantID {
		// Another shop's coupon is unknown here; one of this shop that is
		// not live says so.
		if _, err := a.Coupons.Get(ctx, p.MerchantID, id); err != nil {
			return nil, err
		}
		return nil, coupons.ErrNotLive
	}
	if err := a.checkAudience(ctx, p, lc.alloc.Coupon().RoomID); err != nil {
		return nil, err // a room for a segment hands its cards to the segment only
	}
	g := &coupons.Grab{MerchantID: p.MerchantID, CouponID: id, CustomerID: p.SubjectID}
	if a.CouponNaive {
		g.Seq = 0
		err := a.Coupons.IssueNaive(ctx, g)
		if err != nil {
			return nil, err
		}
		e.markDirty(id)
		return g.Claim, nil
	}
	if e.queue.Busy() {
		return nil, coupons.ErrBusy
	}
	seq, err := lc.alloc.Take(p.SubjectID)
	if err != nil {
		return nil, err
	}
	g.Seq = seq
	if !e.queue.Do(&grabReq{g: g, alloc: lc.alloc}) {
		lc.alloc.GiveBack(p.SubjectID)
		lc.alloc.Settle()
		return nil, coupons.ErrBusy
	}
	e.markDirty(id)
	if g.Err != nil {
		if errors.Is(g.Err, coupons.ErrGone) || errors.Is(g.Err, coupons.ErrClaimLimit) || errors.Is(g.Err, coupons.ErrNotLive) {
			return nil, g.Err
		}
		a.Logger.Warn("coupon: issue batch", "coupon", id, "err", g.Err)
		return nil, coupons.ErrBusy
	}
	c := lc.alloc.Coupon()
	g.Claim.Coupon = &c
	return g.Claim, nil
}

func (e *couponEngine) markDirty(id int64) {
	e.mu.Lock()
	e.dirty[id] = true
	e.mu.Unlock()
}

// flushCoupons publishes what is left of each coupon card that changed:
// one coupon.stock per card per tick however many grabbed.
func (a *App) flushCoupons() {
	e := a.couponEng()
	type ev struct {
		topic string
		data  map[string]any
	}
	var out []ev
	e.mu.Lock()
	for id := range e.dirty {
		if lc := e.live[id]; lc != nil {
			rem := lc.alloc.Remaining()
			out = append(out, ev{lc.topic, map[string]any{"coupon_id": id, "remaining": rem, "gone": rem == 0}})
		}
	}
	e.dirty = map[int64]bool{}
	e.mu.Unlock()
	for _, o := range out {
		a.publish(a.commerceTopicOf(o.topic), "coupon.stock", o.data) // a room for a segment: its lineup topic
	}
}

// roomCoupons lists a room's live coupon cards with what is left, for its
// snapshot.
func (a *App) roomCoupons(ctx context.Context, merchantID, roomID int64) []coupons.Coupon {
	out := []coupons.Coupon{}
	if a.Coupons == nil {
		return out
	}
	// The database keeps the live ones before its cap: a room's many
	// drafts and ended coupons do not crowd out a live card.
	list, err := a.Coupons.List(ctx, merchantID, coupons.ListFilter{RoomID: roomID, LiveAt: a.Now()})
	if err != nil {
		return out
	}
	e := a.couponEng()
	for _, c := range list {
		e.mu.Lock()
		if lc := e.live[c.ID]; lc != nil {
			c.Remaining = lc.alloc.Remaining()
		}
		e.mu.Unlock()
		out = append(out, c)
	}
	return out
}

// IssueCouponToSegment gives one coupon to every customer of a segment at
// once (members, a tier, a fan group, past buyers of a category, a store's
// customers), each told in their inbox; once per request key (the
// Idempotency-Key): a repeat answers the first issue and issues nothing.
func (a *App) IssueCouponToSegment(ctx context.Context, p *identity.Principal, couponID int64, seg members.Segment, key string) (*coupons.SegmentIssue, error) {
	c, err := a.ownCoupon(ctx, p, couponID) // another tenant's coupon is unknown, whatever else is wrong
	if err != nil {
		return nil, err
	}
	if key == "" || len(key) > 80 {
		return nil, order.ErrIdempotencyKey
	}
	if a.Members == nil {
		return nil, members.ErrSegment
	}
	if err := seg.Validate(); err != nil {
		return nil, err
	}
	if seg.Kind == members.SegFanGroup && a.groups() == nil {
		return nil, members.ErrGroupsMissing
	}
	prog, err := a.Members.Program(ctx, p.MerchantID)
	if err != nil {
		return nil, err
	}
	until := c.ValidUntil.In(cn.Shanghai).Format("1月2日 15:04")
	untilEN := c.ValidUntil.In(cn.Shanghai).Format("Jan 2 15:04")
	body := "送你一张「" + c.Title + "」，" + until + " 前有效，下单时自动使用最划算的券"
	bodyEN := "A coupon for you: " + c.Title + ", valid until " + untilEN + " (China time); checkout applies your best coupon."
	in := &coupons.SegmentIssue{MerchantID: p.MerchantID, CouponID: c.ID, Segment: seg, Key: key, By: p.Name}
	if err := a.Coupons.IssueToSegment(ctx, in, prog, "优惠券已到账："+c.Title, body, bodyEN); err != nil {
		return nil, err
	}
	if !in.Repeated {
		a.Audit.Audit(ctx, p.MerchantID, p.Name, "coupon.issue_segment", "coupon:"+itoa64(c.ID), seg.Marshal()+" → "+itoa64(in.Issued))
	}
	return in, nil
}

// Quote is what the checkout shows before the buyer confirms: the
// subtotal, the best coupon and its saving, and every coupon that applies.
type Quote struct {
	SubtotalFen int64            `json:"subtotal_fen"`
	SavedFen    int64            `json:"saved_fen"`
	TotalFen    int64            `json:"total_fen"`
	Best        *coupons.Option  `json:"best,omitempty"`
	Options     []coupons.Option `json:"options"`
}

// QuoteCoupons weighs the buyer's wallet against a cart with the rule the
// order store applies when it creates the order (coupons.Best).
func (a *App) QuoteCoupons(ctx context.Context, p *identity.Principal, req *order.Request) (*Quote, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, apperr.ErrLoginRequired
	}
	cart := coupons.Cart{StoreID: req.StoreID, RoomID: req.RoomID, FlashSale: req.SaleID != 0, Now: a.Now()}
	var memberPrice map[int64]int64 // what the order's transaction will charge a member
	if req.SaleID == 0 {
		memberPrice = a.memberPricesOf(ctx, p)
	}
	for _, it := range req.Items {
		sku, prod, err := a.Catalog.SKU(ctx, p.MerchantID, it.SKUID)
		if err != nil {
			return nil, err
		}
		if it.Quantity <= 0 || it.Quantity > order.MaxQuantity {
			return nil, apperr.ErrInvalidQuantity.At("items")
		}
		unit := sku.PriceFen
		if mp, ok := memberPrice[sku.ID]; ok && mp > 0 && mp < unit {
			unit = mp
		}
		cart.Lines = append(cart.Lines, coupons.Line{ProductID: prod.ID, Category: prod.Category, TotalFen: it.Quantity * unit})
	}
	first, err := a.Coupons.FirstOrder(ctx, p.MerchantID, p.SubjectID)
	if err != nil {
		return nil, err
	}
	cart.FirstOrder = first
	wallet, err := a.Coupons.Wallet(ctx, p.MerchantID, p.SubjectID)
	if err != nil {
		return nil, err
	}
	q := &Quote{SubtotalFen: cart.SubtotalFen()}
	q.Best, q.Options = coupons.Best(&cart, wallet)
	if req.Coupon == "none" {
		q.Best = nil
	}
	if q.Best != nil {
		q.SavedFen = q.Best.SavedFen
	}
	q.TotalFen = q.SubtotalFen - q.SavedFen
	return q, nil
}
