package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/insight"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/realtime"
	"github.com/shelflive/shelflive/internal/stores"
)

// PostComment moderates and stores a comment, then fans it out.
func (a *App) PostComment(ctx context.Context, p *identity.Principal, room *live.Room, text string) (*live.Comment, error) {
	if p == nil {
		return nil, apperr.ErrLoginRequired.With("登录后才能发言", "Log in to comment.")
	}
	if p.MerchantID != room.MerchantID {
		return nil, apperr.ErrNotFound
	}
	if room.Status == live.Ended {
		return nil, live.ErrRoomEnded
	}
	staff := p.IsStaff()
	if !staff {
		if err := a.restricted(ctx, room, p); err != nil {
			return nil, err
		}
	}
	user := UserKey(p)
	text, err := a.Moderator.Check(user, text, staff, a.Now())
	if err == nil && !staff {
		text, err = a.screen(ctx, room, text)
	}
	if err != nil {
		if !staff && spam(err) {
			a.strike(ctx, room, p)
		}
		return nil, err
	}
	review, err := a.reviewComment(ctx, room, staff, text)
	if err != nil {
		return nil, err
	}
	kind := "customer"
	if staff {
		kind = "staff"
	}
	c := &live.Comment{RoomID: room.ID, MerchantID: room.MerchantID, AuthorKind: kind, AuthorID: p.SubjectID, AuthorName: p.Name, Body: text}
	if err := a.Live.AddComment(ctx, c); err != nil {
		return nil, err
	}
	a.Hub.PublishComment(room.Topic(), realtime.Comment{ID: strconv.FormatInt(c.ID, 10), User: user, Name: c.AuthorName, Text: c.Body, Host: staff, At: c.CreatedAt})
	if !staff {
		a.flagComment(room, c, review)
	}
	a.Comments.Queue(insight.CommentJob{CommentID: c.ID, MerchantID: room.MerchantID, RoomID: room.ID, Pinned: room.PinnedProductID,
		Lineup: room.ProductIDs, Text: c.Body, Staff: staff, At: c.CreatedAt}) // read later, never waited for
	a.enterByComment(ctx, p, room, c.Body) // a 福袋's keyword enters its draw
	return c, nil
}

// UserKey is the realtime identity of a caller: own comments and personal
// messages are routed by it.
func UserKey(p *identity.Principal) string {
	if p == nil {
		return ""
	}
	if p.Kind == identity.KindCustomer {
		return "c" + strconv.FormatInt(p.SubjectID, 10)
	}
	return "s" + strconv.FormatInt(p.SubjectID, 10)
}

// ErrInvalidLikeCount refuses a like batch out of 1..50.
var ErrInvalidLikeCount = apperr.InvalidField("count", "invalid_count", "点赞次数须为1到50", "Count must be between 1 and 50.")

// Like adds taps; the hub aggregates them and the total is saved in batches.
func (a *App) Like(ctx context.Context, room *live.Room, n int) error {
	if n < 1 || n > 50 {
		return ErrInvalidLikeCount
	}
	a.Hub.AddLikes(room.Topic(), n)
	a.likeMu.Lock()
	if a.pendingLikes == nil {
		a.pendingLikes = map[int64]int64{}
	}
	a.pendingLikes[room.ID] += int64(n)
	a.likeMu.Unlock()
	return nil
}

// flushLikes persists like totals; losing the last second of taps in a crash is acceptable.
func (a *App) flushLikes(ctx context.Context) {
	a.likeMu.Lock()
	pending := a.pendingLikes
	a.pendingLikes = nil
	a.likeMu.Unlock()
	for id, n := range pending {
		a.recordLikes(id, n)
		if err := a.Live.AddLikes(ctx, id, n); err != nil {
			a.Logger.Error("save likes", "room", id, "err", err)
		}
	}
}

// DeleteComment hides a comment everywhere (host moderation).
func (a *App) DeleteComment(ctx context.Context, p *identity.Principal, room *live.Room, id int64) error {
	if err := a.Live.DeleteComment(ctx, p.MerchantID, room.ID, id); err != nil {
		return err
	}
	_, err := a.Hub.DeleteComment(room.Topic(), strconv.FormatInt(id, 10))
	return err
}

// Pin pushes a product card to every viewer of the room.
// The pin_id in the answer and in the card.pinned event is the same, so a
// client (a load tool, an integration) can match its request to the event.
func (a *App) Pin(ctx context.Context, p *identity.Principal, room *live.Room, productID int64, ov *Override) (*catalog.Product, string, error) {
	prod, err := a.Catalog.Product(ctx, p.MerchantID, productID)
	if err != nil {
		return nil, "", apperr.NotFoundAs(err, catalog.ErrUnknownProduct)
	}
	overridden, err := a.checkPin(ctx, p, room, prod, ov)
	if err != nil {
		return nil, "", err
	}
	at := a.Now()
	if err := a.Live.Pin(ctx, p.MerchantID, room.ID, productID, at); err != nil {
		return nil, "", err
	}
	a.auditOverride(ctx, overridden)
	pinID := strconv.FormatInt(room.ID, 36) + "-" + strconv.FormatInt(at.UnixNano(), 36)
	a.publish(a.CommerceTopic(ctx, room.ID), "card.pinned", map[string]any{"product": prod, "pin_id": pinID})
	return prod, pinID, nil
}

// Unpin removes the pinned card.
func (a *App) Unpin(ctx context.Context, p *identity.Principal, room *live.Room) error {
	if err := a.Live.Pin(ctx, p.MerchantID, room.ID, 0, a.Now()); err != nil {
		return err
	}
	a.publish(a.CommerceTopic(ctx, room.ID), "card.unpinned", map[string]any{})
	return nil
}

// SetPrice changes a SKU's price live; rooms showing it update. A price
// under a struck-through list price passes the list-price rule first
// (checkLivePrice); blocking findings need an owner's override.
func (a *App) SetPrice(ctx context.Context, p *identity.Principal, skuID, priceFen int64, ov *Override) (*catalog.Product, error) {
	sku, prod, err := a.Catalog.SKU(ctx, p.MerchantID, skuID)
	if err != nil {
		return nil, err
	}
	overridden, err := a.checkLivePrice(ctx, p, prod, sku, priceFen, ov)
	if err != nil {
		return nil, err
	}
	if err := a.Catalog.SetPrice(ctx, p.MerchantID, skuID, priceFen); err != nil {
		return nil, err
	}
	a.auditOverride(ctx, overridden)
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "price.change", "sku:"+sku.Code, fmt.Sprintf("%d -> %d fen", sku.PriceFen, priceFen))
	return a.ProductChanged(ctx, p.MerchantID, prod.ID)
}

// ProductChanged publishes a product's fresh state to every room that shows it.
func (a *App) ProductChanged(ctx context.Context, merchantID, productID int64) (*catalog.Product, error) {
	prod, err := a.Catalog.Product(ctx, merchantID, productID)
	if err != nil {
		return nil, err
	}
	rooms, err := a.Live.ListRooms(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	for _, r := range rooms {
		if r.Status != live.Live {
			continue
		}
		for _, id := range r.ProductIDs {
			if id == productID {
				a.publish(a.CommerceTopic(ctx, r.ID), "product.updated", map[string]any{"product": prod})
				break
			}
		}
	}
	return prod, nil
}

// SetRoomStatus goes live, ends, or reopens a room. Going live first
// passes the compliance review (title, script, lineup texts); blocking
// findings refuse it unless an owner sends an explicit override.
func (a *App) SetRoomStatus(ctx context.Context, p *identity.Principal, room *live.Room, next live.Status, ov *Override) (*live.Room, error) {
	var overridden *overrideAudit
	if next == live.Live && room.Status != live.Live {
		var err error
		if overridden, err = a.checkGoLive(ctx, p, room, ov); err != nil {
			return nil, err
		}
	}
	if err := room.Transition(next, a.Now()); err != nil {
		return nil, err
	}
	if err := a.Live.UpdateRoom(ctx, room); err != nil {
		return nil, err
	}
	a.auditOverride(ctx, overridden)
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "room."+string(next), "room:"+room.Slug, "")
	a.publish(room.Topic(), "room.status", map[string]any{"status": room.Status})
	a.emitRoom(room)
	if next == live.Ended {
		a.clipsAfterEnd(ctx, room) // each product's explanation becomes a clip
	}
	return room, nil
}

// ErrNoGTIN refuses a trace card for a product without a GTIN.
var ErrNoGTIN = apperr.InvalidField("product_id", "no_gtin", "该商品没有GTIN，无法溯源", "This product has no GTIN to trace.")

// PushTraceCard shows every viewer where a product comes from: a card with
// the link to its public trace page (origin, cold chain, verdict).
func (a *App) PushTraceCard(ctx context.Context, p *identity.Principal, room *live.Room, productID int64) (map[string]any, error) {
	prod, err := a.Catalog.Product(ctx, p.MerchantID, productID)
	if err != nil {
		return nil, apperr.NotFoundAs(err, catalog.ErrUnknownProduct)
	}
	gtin := ""
	for _, k := range prod.SKUs {
		if k.GTIN != "" {
			gtin = k.GTIN
			break
		}
	}
	if gtin == "" {
		return nil, ErrNoGTIN
	}
	card := map[string]any{"product_id": prod.ID, "name": prod.Name, "name_en": prod.NameEN, "image": prod.Image, "origin": prod.Origin, "url": "/trace/01/" + gtin}
	a.publish(a.CommerceTopic(ctx, room.ID), "trace.card", card)
	return card, nil
}

// CreateRoom stores a scheduled room with its lineup (productIDs; nil for
// none) in one transaction, audits it and returns its state. A bad store,
// an unknown product or a taken slug leaves nothing behind.
func (a *App) CreateRoom(ctx context.Context, p *identity.Principal, room *live.Room, productIDs []int64) (*RoomState, error) {
	room.MerchantID = p.MerchantID
	if err := room.Validate(); err != nil {
		return nil, err
	}
	if err := a.checkStore(ctx, p.MerchantID, room.StoreID); err != nil {
		return nil, err
	}
	if err := a.Live.CreateRoomWithLineup(ctx, room, productIDs); err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "room.create", "room:"+room.Slug, "")
	return a.RoomBySlug(ctx, room.Slug)
}

// UpdateRoom saves a room's settings and, when productIDs is not nil, its
// lineup, in one transaction, and returns its state. old is the room as
// stored: when it is live, a new title or added products are reviewed
// first (checkLiveRoomEdit) and blocking ones need ov.
func (a *App) UpdateRoom(ctx context.Context, p *identity.Principal, old, room *live.Room, productIDs []int64, ov *Override) (*RoomState, error) {
	if err := room.Validate(); err != nil {
		return nil, err
	}
	if err := a.checkStore(ctx, p.MerchantID, room.StoreID); err != nil {
		return nil, err
	}
	overridden, err := a.checkLiveRoomEdit(ctx, p, old, room, productIDs, ov)
	if err != nil {
		return nil, err
	}
	if err := a.Live.UpdateRoomWithLineup(ctx, room, productIDs); err != nil {
		return nil, err
	}
	a.auditOverride(ctx, overridden)
	return a.RoomBySlug(ctx, room.Slug)
}

// checkStore accepts storeID 0 (the brand's own) or a store of the
// merchant; another tenant's store is unknown, an outage stays an outage.
func (a *App) checkStore(ctx context.Context, merchantID, storeID int64) error {
	if storeID == 0 {
		return nil
	}
	_, err := a.Stores.Store(ctx, merchantID, storeID)
	if errors.Is(err, apperr.ErrNotFound) {
		return stores.ErrUnknownStore
	}
	return err
}
