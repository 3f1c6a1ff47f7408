// Package app is the use-case layer: it runs each thing a person does (buy,
// pay, pin a card, comment) across the domain stores, and tells the room
// what changed after the transaction committed.
package app

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shelflive/shelflive/internal/aftersales"
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
	"github.com/shelflive/shelflive/internal/wxmini"
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
