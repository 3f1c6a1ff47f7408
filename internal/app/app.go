// Package app is the use-case layer: it runs each thing a person does (buy,
// pay, pin a card, comment) across the domain stores, and tells the room
// what changed after the transaction committed.
package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"github.com/shelflive/shelflive/internal/aftersales"
	"github.com/shelflive/shelflive/internal/wxmini"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/clips"
	"github.com/shelflive/shelflive/internal/cocreate"
	"github.com/shelflive/shelflive/internal/compliance"
	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/draws"

	"github.com/shelflive/shelflive/internal/fans"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/freshness"
	"github.com/shelflive/shelflive/internal/guides"
	"github.com/shelflive/shelflive/internal/household"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/insight"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/moderation"
	"github.com/shelflive/shelflive/internal/notify"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/presale"
	"github.com/shelflive/shelflive/internal/promotions"
	"github.com/shelflive/shelflive/internal/realtime"
	"github.com/shelflive/shelflive/internal/stores"
	"github.com/shelflive/shelflive/internal/trials"
	"github.com/shelflive/shelflive/internal/webhooks"
)

// Auditor records staff actions that must not be editable.
type Auditor interface {
	Audit(ctx context.Context, merchantID int64, actor, action, object, detail string) error
	AuditLog(ctx context.Context, merchantID int64, limit int) ([]identity.AuditEntry, error)
}

// AuditLog lists recent staff actions.
func (a *App) AuditLog(ctx context.Context, merchantID int64, limit int) ([]identity.AuditEntry, error) {
	return a.Audit.AuditLog(ctx, merchantID, limit)
}

// App holds every store and service; cmd/shelflive sets the fields once.
type App struct {
	Identity  *identity.Service
	Users     identity.Store
	Catalog   catalog.Store
	Stores    stores.Repo
	Inventory inventory.Store
	Live      live.Store
	Orders    order.Store
	Payments  payment.Store
	Provider  *payment.Dev // the built-in dev provider (offered only when Pay.DevPayments)
	Pay       Payments     // real vendors: merchants' accounts, callbacks, the reconciler
	SMS       SMSConfig    // login codes: the install's provider and each shop's sign name and template
	Hub       realtime.Hub
	Audit     Auditor
	Media     Media // nil: rooms show their poster
	// Clips keeps product clips; Clipper cuts them from recordings (the
	// embedded video server; nil: no clips are cut).
	Clips    clips.Store
	Clipper  clips.Cutter
	clipJobs clipWorker
	Privacy  Privacy
	Flash    flashsale.Store
	// Analytics records viewer sessions, card events, shares and likes off
	// the hot path; nil is analytics off.
	Analytics *insight.Recorder
	Insight   insight.ActivityStore
	// Comments reads what viewers' comments are about (product, intent,
	// sentiment) off the hot path; nil is off. Signals reads it back.
	Comments *insight.Reader
	Signals  insight.SignalStore
	// FlashNaive switches flash sales to the naive hot-row design; only
	// `shelflive bench flashsale` uses it, as the baseline it measures against.
	FlashNaive bool
	NaiveFlash interface {
		NaiveBuy(ctx context.Context, po *flashsale.PendingOrder, limit int64) error
	}
	Logger *slog.Logger
	Now    func() time.Time

	// Guides keeps commission rates and reads guides' orders; Shares signs
	// and checks share codes (attribution nobody can forge).
	Guides guides.Store
	Shares *guides.Signer
	// WeCom sends lives to guides' WeCom customers; nil: off.
	WeCom *WeCom
	// WeChatTickets caches the official accounts' JS-SDK tickets for all nodes.
	WeChatTickets TicketCache
	// Channels sends reminders by Web Push and SMS (nil: inbox only).
	Channels *Channels
	// MiniProgram checks WeChat mini-program logins (nil: the install has none).
	MiniProgram *wxmini.Client
	// MiniGrants keeps what viewers allowed of the mini-program's
	// subscribe messages.
	MiniGrants notify.MiniGrants
	// Reminders keeps live subscriptions (预约) and viewers' inboxes.
	Reminders   notify.Store
	lastReminds time.Time

	// Polls keeps room polls; pollsDirty holds counts not yet published.
	Polls      promotions.PollStore
	pollsDirty pollDirty

	// Coupons keeps coupons and buyers' wallets; CouponNaive switches
	// grabbing to one hot-row transaction per grab (the baseline `shelflive
	// bench coupons` measures against).
	Coupons     coupons.Store
	CouponNaive bool
	couponOnce  sync.Once
	couponE     *couponEngine
	// Household keeps linked fridges, their estimates and pushes (nil: off).
	Household     household.Store
	lastHousehold time.Time

	// Fans keeps topic groups, their members, posts and comments.
	Fans fans.Store

	// Presales keeps pre-sales to a minimum order (以销定产); presalesDirty
	// holds those whose progress the room has not seen yet.
	Presales      presale.Store
	presalesDirty presaleDirty
	// Cocreate keeps co-creation drafts and their votes; draftsDirty holds
	// counts not yet published.
	Cocreate    cocreate.Store
	draftsDirty draftDirty
	// Draws keeps 福袋 draws; DrawPrizes gives coupon prizes.
	Draws      draws.Store
	DrawPrizes PrizeIssuer
	drawsDirty drawDirty
	// Trials keeps new-product trials (内测): applications, selections,
	// sample orders and feedback.
	Trials           trials.Store
	lastTrialReminds time.Time

	// Clearance keeps near-expiry rules and clearance sessions.
	Clearance freshness.Store

	// Aftersales keeps customers' after-sales requests (nil: none).
	Aftersales     aftersales.Store
	lastAftersales time.Time
	// Tracking keeps delivery orders' shipments and polls their provider.
	Tracking Tracking
	// Pickup sends "your slot ends soon" (nil: none).
	Pickup SlotReminder
	// Members keeps memberships, points, member prices and room audiences;
	// Groups answers fan-group segments (nil until fan groups are wired).
	Members    members.Store
	Groups     members.GroupChecker
	audience   audienceCache
	lastPoints time.Time

	// Webhooks queues events for merchants' endpoints (nil: none);
	// WebhookKick wakes the dispatcher after something was queued.
	Webhooks    webhooks.Store
	WebhookKick func()
	// WebhooksAllowPrivate lets endpoints use http:// and private or
	// loopback addresses (an ERP on the shop's LAN; tests).
	WebhooksAllowPrivate bool

	ReserveFor time.Duration // how long an unpaid order holds its stock
	Moderator  *live.Moderator
	// Moderation keeps word lists, mutes and bans, and reports; Words
	// caches each merchant's list for the comment path and Strikes counts
	// refused spam toward an automatic mute. Nil Moderation: none of it.
	Moderation moderation.Store
	Words      *moderation.WordCache
	Strikes    *moderation.Strikes
	// Compliance reviews rooms before they go live, product texts and
	// comments during a live; nil switches the review off.
	Compliance *compliance.Service
	// Assist is the studio's host assistant; nil answers offline without
	// cold-chain verdicts or sentiment.
	Assist *Assistant

	// Leases, NodeID and SelfURL elect one node for cluster-wide work; nil
	// Leases means this node always leads (one process).
	Leases     Leases
	NodeID     string
	SelfURL    func() string
	leader     atomic.Bool
	leaderAddr atomic.Pointer[string]

	likeMu       sync.Mutex
	pendingLikes map[int64]int64

	flashOnce sync.Once
	flashEng  *flashEngine

	stockMu    sync.Mutex
	stockDirty map[int64]map[int64]bool // room -> product ids whose stock changed
}

// Start runs the background work: reservation expiry and coalesced stock
// events. It returns when ctx ends.
func (a *App) Start(ctx context.Context) {
	a.campaign(ctx)
	a.startFlash(ctx)
	a.startCoupons(ctx)
	a.startChannels(ctx)
	a.startClips(ctx)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastExpiry, lastReconcile := time.Time{}, a.Now()
	for {
		select {
		case <-ctx.Done():
			a.flushLikes(context.Background())
			if a.Leases != nil && a.leader.Load() {
				a.Leases.ReleaseLease(context.Background(), leaderLease, a.NodeID) // hand over at once
			}
			return
		case <-tick.C:
			a.flushStock(ctx)
			a.flushPolls()
			a.flushPresales(ctx)
			a.flushDrafts()
			a.flushFlash()
			a.flushCoupons()
			if a.Draws != nil {
				a.flushDraws(ctx)
			}
			if a.Now().Sub(lastExpiry) >= time.Second {
				lastExpiry = a.Now()
				a.campaign(ctx)
				if a.IsLeader() {
					a.expireDue(ctx)
					a.closeDuePolls(ctx)
					a.presaleTick(ctx)
					a.closeDueDrafts(ctx)
					if a.Now().Sub(a.lastPoints) >= 5*time.Second {
						a.lastPoints = a.Now()
						a.settleDuePoints(ctx)
					}
					if a.Now().Sub(a.lastReminds) >= 5*time.Second {
						a.lastReminds = a.Now()
						a.remindDue(ctx)
					}
					if a.Now().Sub(a.lastAftersales) >= 5*time.Second {
						a.lastAftersales = a.Now()
						a.aftersaleTick(ctx)
						a.retryFailedRefunds(ctx)
					}
					a.householdDue(ctx)
					a.pollShipments(ctx)
					a.tickFlash(ctx)
					a.tickCoupons(ctx)
					a.tickDraws(ctx)
					a.tickTrials(ctx)
					a.syncFlashHolds(ctx)
					a.reconcileTick(ctx, &lastReconcile)
				}
				a.flushLikes(ctx)
			} else if a.IsLeader() {
				a.tickFlash(ctx)
			}
		}
	}
}

func (a *App) expireDue(ctx context.Context) {
	for {
		expired, err := a.Orders.ExpireDue(ctx, a.Now(), 200)
		if err != nil {
			a.Logger.Error("expire reservations", "err", err)
			return
		}
		for i := range expired {
			a.orderChanged(&expired[i])
		}
		if len(expired) < 200 {
			return
		}
	}
}

// markStock remembers that a product's stock changed in a room; viewers get
// one product.updated event per product per 250 ms, not one per order.
func (a *App) markStock(roomID, productID int64) {
	if roomID == 0 {
		return
	}
	a.stockMu.Lock()
	defer a.stockMu.Unlock()
	if a.stockDirty == nil {
		a.stockDirty = map[int64]map[int64]bool{}
	}
	if a.stockDirty[roomID] == nil {
		a.stockDirty[roomID] = map[int64]bool{}
	}
	a.stockDirty[roomID][productID] = true
}

func (a *App) flushStock(ctx context.Context) {
	a.stockMu.Lock()
	dirty := a.stockDirty
	a.stockDirty = nil
	a.stockMu.Unlock()
	for roomID, products := range dirty {
		for pid := range products {
			a.publishProduct(ctx, roomID, pid)
		}
	}
}

func (a *App) publishProduct(ctx context.Context, roomID, productID int64) {
	room, err := a.roomByID(ctx, roomID)
	if err != nil {
		return
	}
	p, err := a.Catalog.Product(ctx, room.MerchantID, productID)
	if err != nil {
		return
	}
	a.publish(a.CommerceTopic(ctx, roomID), "product.updated", map[string]any{"product": p})
}

func (a *App) publish(topic, typ string, data any) {
	if _, err := a.Hub.Publish(topic, typ, data); err != nil {
		a.Logger.Error("publish", "topic", topic, "type", typ, "err", err)
	}
}

// roomByID serves event paths, which know a room only by its public id.
func (a *App) roomByID(ctx context.Context, id int64) (*live.Room, error) {
	return a.Live.RoomByID(ctx, id)
}

// RoomState is what a viewer's page needs to draw the room; it is also the
// realtime snapshot of the room topic.
type RoomState struct {
	Room *live.Room `json:"room"`
	// Gate is set when the room is restricted to a segment: whom it is for
	// and the way in; Locked when this state is for a viewer outside it
	// (no goods in it).
	Gate   *members.Gate `json:"gate,omitempty"`
	Locked bool          `json:"locked,omitempty"`
	// MemberPrices maps SKU ids to member prices (fen) for the lineup's
	// SKUs that have one: what a member's order will charge.
	MemberPrices map[string]int64  `json:"member_prices,omitempty"`
	Merchant     string            `json:"merchant"`
	Pinned       *catalog.Product  `json:"pinned,omitempty"`
	Products     []catalog.Product `json:"products"`
	Viewers      int               `json:"viewers"`
	Likes        int64             `json:"likes"`
	Playback     *Playback         `json:"playback,omitempty"`
	Flash        []FlashView       `json:"flash_sales"`
	Clips        []Clip            `json:"clips,omitempty"`      // replay jumps per product, once the live ended
	ClipPages    []ClipLink        `json:"clip_pages,omitempty"` // each product's explanation as a clip of its own, once cut
	Poll         *promotions.Poll  `json:"poll,omitempty"`       // the open poll, or one that closed in the last 10 minutes
	Coupons      []coupons.Coupon  `json:"coupons"`              // live coupon cards with what is left
	Presale      *presale.Presale  `json:"presale,omitempty"`    // the open pre-sale, or the one settled in the last day
	Draws        []draws.Draw      `json:"draws"`                // open 福袋 draws (commitment) and those drawn in the last 10 minutes (seed)
	// Cocreate is the co-creation draft pushed to the room (open, or closed
	// in the last 10 minutes); Group the topic group it invites to join.
	Cocreate *cocreate.Draft `json:"cocreate,omitempty"`
	Group    *fans.Group     `json:"group,omitempty"`
	Trials   []trials.Trial  `json:"trials"` // open new-product trials (内测) of the room: a card links to /trials/{id}
}

// RoomBySlug loads a room's state for its public page.
func (a *App) RoomBySlug(ctx context.Context, slug string) (*RoomState, error) {
	r, err := a.Live.RoomBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	return a.roomState(ctx, r)
}

func (a *App) roomState(ctx context.Context, r *live.Room) (*RoomState, error) {
	m, err := a.Users.Merchant(ctx, r.MerchantID)
	if err != nil {
		return nil, err
	}
	if m.Disabled { // the operator closed the shop: its rooms are off
		return nil, identity.ErrShopClosed
	}
	all, err := a.Catalog.ListProducts(ctx, r.MerchantID)
	if err != nil {
		return nil, err
	}
	byID := map[int64]catalog.Product{}
	for _, p := range all {
		byID[p.ID] = p
	}
	st := &RoomState{Room: r, Merchant: m.Name, Products: []catalog.Product{}, Viewers: a.Hub.Viewers(r.Topic()), Likes: a.likes(r)}
	for _, id := range r.ProductIDs {
		if p, ok := byID[id]; ok && p.Active {
			st.Products = append(st.Products, p)
		}
	}
	if p, ok := byID[r.PinnedProductID]; ok {
		st.Pinned = &p
	}
	a.fillMedia(ctx, st)
	a.fillClipLinks(ctx, st)
	st.Flash = a.roomFlash(ctx, r.MerchantID, r.ID)
	st.Poll = a.roomPoll(ctx, r)
	st.Coupons = a.roomCoupons(ctx, r.MerchantID, r.ID)
	st.Presale = a.roomPresale(ctx, r)
	st.Draws = a.roomDraws(ctx, r)
	st.Cocreate = a.roomDraft(ctx, r)
	st.Group = a.roomGroup(ctx, r)
	st.Trials = a.roomTrials(ctx, r)
	return st, nil
}

func (a *App) likes(r *live.Room) int64 {
	if n := a.Hub.Likes(r.Topic()); n > r.Likes {
		return n
	}
	return r.Likes
}

// Snapshot is the realtime hub's snapshot function.
func (a *App) Snapshot(topic string) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kind, idStr, _ := strings.Cut(topic, ":")
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err == nil && (kind == "room" || kind == "lineup") {
		r, err := a.roomByID(ctx, id)
		if err != nil {
			return nil, err
		}
		st, err := a.roomState(ctx, r)
		if err != nil {
			return nil, err
		}
		// A restricted room's public topic carries no goods; its lineup
		// topic (subscribers checked by web.apiWS) carries them.
		a.fillMemberPrices(ctx, st)
		if seg, err := a.RoomAudience(ctx, r.ID); err != nil {
			return nil, err
		} else if seg != nil {
			g, err := a.gate(ctx, r.MerchantID, *seg)
			if err != nil {
				return nil, err
			}
			if kind == "room" {
				st.lock(g)
			} else {
				st.Gate = g
			}
		}
		return st, nil
	}
	if rest, ok := strings.CutPrefix(topic, "cocreate:"); ok && a.Cocreate != nil {
		if id, err := strconv.ParseInt(rest, 10, 64); err == nil {
			d, err := a.Cocreate.PublicDraft(ctx, id)
			if err != nil {
				return nil, err
			}
			return map[string]any{"draft": d}, nil
		}
	}
	if rest, ok := strings.CutPrefix(topic, "presale:"); ok && a.Presales != nil {
		if id, err := strconv.ParseInt(rest, 10, 64); err == nil {
			ps, err := a.Presales.PublicPresale(ctx, id)
			if err != nil {
				return nil, err
			}
			return map[string]any{"presale": ps}, nil
		}
	}
	return map[string]any{}, nil
}

// requestHash fingerprints an order request so a reused Idempotency-Key with a
// different body is refused instead of silently returning another order.
func requestHash(req *order.Request) string {
	b, _ := json.Marshal(req)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ErrFlashStore refuses a flash-sale order for another store than the sale's.
var ErrFlashStore = apperr.InvalidField("store_id", "flash_store", "秒杀商品只能在指定门店自提", "Flash sale orders are picked up at the sale's store.")

// contactPhone is the phone an order is for: the one the buyer typed
// (normalised), or their account's. The account is read either way: an
// order needs a customer who exists.
func (a *App) contactPhone(ctx context.Context, p *identity.Principal, typed string) (string, error) {
	c, err := a.Users.Customer(ctx, p.MerchantID, p.SubjectID)
	if err != nil {
		return "", err
	}
	if typed == "" {
		return c.Phone, nil
	}
	return identity.NormalizePhone(typed)
}

// CreateOrder reserves stock and creates an order for a logged-in customer.
func (a *App) CreateOrder(ctx context.Context, p *identity.Principal, req *order.Request, idemKey string) (*order.Order, bool, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, false, apperr.ErrLoginRequired
	}
	if req.SaleID != 0 {
		if !a.IsLeader() {
			if a.flash().soldOutRecently(req.SaleID, a.Now()) {
				return a.soldOutHere(ctx, p, req.SaleID, idemKey)
			}
			return nil, false, a.notLeader() // the leader allocates flash sales
		}
		// A flash sale sells from its own store.
		e := a.flash()
		e.mu.Lock()
		rs := e.sales[req.SaleID]
		e.mu.Unlock()
		if rs == nil {
			return nil, false, flashsale.ErrNotRunning
		}
		if req.StoreID == 0 {
			req.StoreID = rs.alloc.Sale().StoreID
		} else if req.StoreID != rs.alloc.Sale().StoreID {
			return nil, false, ErrFlashStore
		}
	}
	// The client names no guide: only a share code this server signed
	// becomes the order's attribution (the sharer's guide code).
	req.GuideCode = a.Attribute(ctx, p, req.GuideCode)
	if err := req.Validate(); err != nil {
		return nil, false, err
	}
	if len(idemKey) > 100 {
		return nil, false, order.ErrIdempotencyKey
	}
	if req.RoomID > 0 {
		if _, err := a.Live.Room(ctx, p.MerchantID, req.RoomID); err != nil {
			req.RoomID = 0 // a stale room id must not fail a purchase
		}
	}
	gateRoom := req.RoomID
	if req.SaleID != 0 {
		gateRoom = a.saleRoom(req.SaleID)
	}
	if err := a.checkAudience(ctx, p, gateRoom); err != nil {
		return nil, false, err // a room for a segment sells to the segment only
	}
	if req.SaleID != 0 {
		return a.createFlashOrder(ctx, p, req, idemKey)
	}
	phone, err := a.contactPhone(ctx, p, req.Phone)
	if err != nil {
		return nil, false, err
	}
	o := &order.Order{MerchantID: p.MerchantID, CustomerID: p.SubjectID, RoomID: req.RoomID, GuideCode: req.GuideCode,
		Fulfilment: req.Fulfilment, StoreID: req.StoreID, ContactName: req.Name, ContactPhone: phone, Address: req.Address,
		IdempotencyKey: idemKey, RequestHash: requestHash(req), ReserveExpiresAt: a.Now().Add(a.ReserveFor), CouponPick: req.Coupon}
	if req.PickupSlot != nil && req.Fulfilment == order.Pickup {
		o.PickupSlotAsked = req.PickupSlot.UTC()
	}
	if req.Fulfilment == order.Delivery {
		o.DeliveryLat, o.DeliveryLng = req.Lat, req.Lng
		if req.DeliverySlot != nil {
			o.PickupSlotAsked = req.DeliverySlot.UTC()
		}
	}
	created, err := a.Orders.Create(ctx, o, req.Items)
	if err != nil {
		return nil, false, err
	}
	if created {
		for _, ln := range o.Lines {
			a.markStock(o.RoomID, ln.ProductID)
		}
		a.PublishOrder(o, "order.created", "")
		a.emitOrder(o)
	}
	return o, created, nil
}

// StaffOrderView is an order as a staff topic carries it: a summary of
// OrderView(nil, o), the view for staff without customer.pii, because every
// subscriber of staff:<merchant> and store:<store> gets the same frame.
func StaffOrderView(o *order.Order) map[string]any {
	v := OrderView(nil, o)
	return map[string]any{"id": v.ID, "number": v.Number, "status": v.Status, "status_label": v.Status.Label(), "total_fen": v.TotalFen,
		"lines": v.Lines, "room_id": v.RoomID, "store_id": v.StoreID, "fulfilment": v.Fulfilment, "contact_phone": v.ContactPhone, "created_at": v.CreatedAt}
}

// PublishOrder tells every stream that shows o what happened to it: the
// order's own topic (status), the merchant's staff topic and the store's
// (staffType: order.created or order.updated). Each carries the view for
// the least privileged subscriber it may have (OrderView(nil, o)): the
// buyer's page reads the rest from the API. reason, if set, says why
// (e.g. lot_on_hold).
func (a *App) PublishOrder(o *order.Order, staffType, reason string) {
	status := map[string]any{"order": OrderView(nil, o)}
	if reason != "" {
		status["reason"] = reason
	}
	if staffType == "order.updated" {
		a.publish(live.OrderTopic(o.ID), "order.status", status)
	}
	v := StaffOrderView(o)
	a.publish(live.StaffTopic(o.MerchantID), staffType, v)
	a.publish(live.StoreTopic(o.StoreID), staffType, v)
}

// orderChanged tells the buyer's order page, the studio and the room.
func (a *App) orderChanged(o *order.Order) {
	a.PublishOrder(o, "order.updated", "")
	a.emitOrder(o)
	a.presaleOrderChanged(o)
	a.settlePoints(o) // paid: points earned; refunded: taken back
	switch o.Status {
	case order.Cancelled, order.Expired:
		for _, ln := range o.Lines {
			a.markStock(o.RoomID, ln.ProductID)
		}
		a.flashReleased(context.Background(), o)
	}
}

// StartPayment creates (or reuses) a payment intent for an unpaid order
// with the provider and method the buyer's page picked, and asks the
// provider what the page does next (JSAPI parameters, H5 URL, QR code URL).
func (a *App) StartPayment(ctx context.Context, p *identity.Principal, orderID int64, req PayRequest) (*payment.Intent, error) {
	if req.Provider == "" && req.Method == "" {
		req.Provider, req.Method = "dev", payment.MethodPage // pages from before the provider choice
	}
	if !validMethod(req.Provider, req.Method) {
		return nil, payment.ErrBadMethod
	}
	o, err := a.CustomerOrder(ctx, p, orderID)
	if err != nil {
		return nil, err
	}
	if o.Status != order.PendingPayment {
		return nil, order.ErrNotPayable
	}
	if a.Now().After(o.ReserveExpiresAt) {
		return nil, order.ErrExpired
	}
	if req.Method == payment.MethodMiniProgram {
		if req.OpenID, err = a.MiniProgramOpenID(ctx, p); err != nil {
			return nil, err
		}
	}
	prov, err := a.provider(ctx, o.MerchantID, req.Provider)
	if err != nil {
		return nil, err
	}
	in, err := a.Payments.PendingIntent(ctx, o.MerchantID, o.ID, req.Provider, req.Method)
	if err != nil {
		in = &payment.Intent{MerchantID: o.MerchantID, OrderID: o.ID, Provider: req.Provider, Method: req.Method, Intent: payment.NewIntentID(), AmountFen: o.TotalFen}
		if err := a.Payments.CreateIntent(ctx, in); err != nil {
			return nil, err
		}
	}
	sr := payment.StartRequest{Method: req.Method, Description: "订单 " + o.Number, ClientIP: req.ClientIP, OpenID: req.OpenID,
		ReturnURL: req.ReturnURL, ExpiresAt: o.ReserveExpiresAt}
	if req.Provider != "dev" {
		sr.NotifyURL = a.NotifyURL(req.Provider, o.MerchantID)
		if m, err := a.Users.Merchant(ctx, o.MerchantID); err == nil {
			sr.Description = m.Name + " 订单 " + o.Number
		}
	}
	act, err := prov.Start(ctx, in, sr)
	if err != nil {
		return nil, err
	}
	in.Action, in.PayURL = act, act.PayURL
	if act.H5URL != "" {
		in.PayURL = act.H5URL
	}
	return in, nil
}

// CustomerOrder loads an order only for the customer who placed it (or staff of its merchant).
func (a *App) CustomerOrder(ctx context.Context, p *identity.Principal, id int64) (*order.Order, error) {
	if p == nil {
		return nil, apperr.ErrUnauthorized
	}
	o, err := a.Orders.Get(ctx, p.MerchantID, id)
	if err != nil {
		return nil, err
	}
	if p.Kind == identity.KindCustomer && o.CustomerID != p.SubjectID {
		return nil, apperr.ErrNotFound
	}
	return o, nil
}

// PaymentCallback applies a verified provider notification. A payment for
// an order that no longer takes it is kept and refunded (payment.Store.ApplyPaid).
func (a *App) PaymentCallback(ctx context.Context, n *payment.Notification) error {
	return a.applyPaid(ctx, n, a.Provider.Name())
}

// DevPay plays the dev provider: the buyer confirmed on the simulated page,
// so the "provider" sends its signed callback over HTTP.
func (a *App) DevPay(ctx context.Context, intentID string) (*payment.Intent, error) {
	in, err := a.Payments.IntentByID(ctx, intentID)
	if err != nil {
		return nil, err
	}
	if in.Status == "paid" {
		return in, nil
	}
	if o, err := a.Orders.Get(ctx, in.MerchantID, in.OrderID); err == nil && o.Status != order.PendingPayment {
		if o.Status == order.Expired {
			return nil, order.ErrExpired
		}
		return nil, order.ErrNotPayable
	}
	err = a.Provider.Notify(ctx, payment.Notification{Intent: in.Intent, Status: "paid", AmountFen: in.AmountFen, ProviderRef: "dev_" + strconv.FormatInt(a.Now().UnixNano(), 36)}, a.Now())
	if err != nil {
		return nil, err
	}
	return a.Payments.IntentByID(ctx, intentID)
}

// Fulfil moves an order along on behalf of staff and records it. Staff
// bound to a store move only that store's orders; a pickup order is never
// shipped and is completed only through the buyer's code (VerifyPickup); a
// delivery order is shipped with its carrier and number (ShipOrder).
func (a *App) Fulfil(ctx context.Context, p *identity.Principal, id int64, next order.Status) (*order.Order, error) {
	if o, done, err := a.fulfilDelivery(ctx, p, id, next); done {
		return o, err
	}
	return a.move(ctx, order.Move{MerchantID: p.MerchantID, ID: id, To: next, StoreID: p.AtStore(), Actor: p.Name})
}

// move applies m and tells whoever watches the order.
func (a *App) move(ctx context.Context, m order.Move) (*order.Order, error) {
	o, err := a.Orders.Apply(ctx, m)
	if err != nil {
		return nil, err
	}
	if m.To == order.Cancelled && o.PaidAt != nil {
		a.refundsPending(ctx, o) // a real vendor refunds what was paid
	} else if m.To == order.Cancelled {
		a.closeVendorOrders(ctx, o) // an open QR code or cashier page can no longer be paid
	}
	a.orderChanged(o)
	return o, nil
}

// Pickup-code errors.
var (
	ErrOtherStore      = apperr.New(apperr.Conflict, "other_store", "该订单需在其他门店取货", "This order is for pickup at another store.")
	ErrAlreadyPickedUp = apperr.New(apperr.Conflict, "already_picked_up", "该订单已取货", "This order was already picked up.")
)

// VerifyPickup checks a buyer's pickup code at the caller's store and, with
// confirm, hands the order over. The lookup answers what the counter needs
// to hand the right bag over (number, lines, status, the masked contact) and
// never the code itself.
func (a *App) VerifyPickup(ctx context.Context, p *identity.Principal, code string, confirm bool) (*order.Order, error) {
	code, err := order.NormalizePickupCode(code)
	if err != nil {
		return nil, err
	}
	o, err := a.Orders.ByPickupCode(ctx, p.MerchantID, code)
	if err != nil {
		return nil, err
	}
	if at := p.AtStore(); at != 0 && o.StoreID != at {
		return nil, a.otherStore(ctx, o)
	}
	if !confirm {
		// Staff see before they hand anything over that a lot went on hold.
		if o.Status == order.Paid || o.Status == order.Ready {
			if o.HeldLots, err = a.Orders.HeldLots(ctx, p.MerchantID, o.ID); err != nil {
				return nil, err
			}
		}
		return o, nil
	}
	if o.Status == order.Completed {
		return nil, ErrAlreadyPickedUp
	}
	return a.move(ctx, order.Move{MerchantID: p.MerchantID, ID: o.ID, To: order.Completed, From: []order.Status{order.Paid, order.Ready},
		Refuse: order.ErrNotReady, StoreID: p.AtStore(), ByCode: true, Actor: p.Name})
}

// otherStore is ErrOtherStore naming the order's store, so the counter can
// send the customer on.
func (a *App) otherStore(ctx context.Context, o *order.Order) error {
	st, err := a.Stores.Store(ctx, o.MerchantID, o.StoreID)
	if err != nil {
		return ErrOtherStore
	}
	en := st.NameEN
	if en == "" {
		en = st.Name
	}
	return ErrOtherStore.With("该订单需在"+st.Name+"取货", "This order is for pickup at "+en+".")
}

// CancelUnpaid lets a buyer cancel their own unpaid order; stock returns.
// The status is checked in the cancelling transaction: a payment that
// commits first wins, and the buyer is told to ask the store for a refund.
func (a *App) CancelUnpaid(ctx context.Context, p *identity.Principal, id int64) (*order.Order, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, apperr.ErrForbidden
	}
	return a.move(ctx, order.Move{MerchantID: p.MerchantID, ID: id, To: order.Cancelled, CustomerID: p.SubjectID,
		From: []order.Status{order.PendingPayment}, Refuse: order.ErrContactStore})
}

// DevIntent shows the dev provider's page what it is asked to collect.
func (a *App) DevIntent(ctx context.Context, intentID string) (*payment.Intent, *order.Order, string, error) {
	in, err := a.Payments.IntentByID(ctx, intentID)
	if err != nil {
		return nil, nil, "", err
	}
	o, err := a.Orders.Get(ctx, in.MerchantID, in.OrderID)
	if err != nil {
		return nil, nil, "", err
	}
	m, err := a.Users.Merchant(ctx, in.MerchantID)
	if err != nil {
		return nil, nil, "", err
	}
	return in, o, m.Name, nil
}
