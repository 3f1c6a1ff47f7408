package app

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/webhooks"
)

// Outgoing webhooks are queued after the state change committed, keyed by
// what happened (order 7 paid, lot 3 held for the 2nd time …), so the same
// event emitted again — a provider retrying its callback, two nodes
// noticing the same change — is delivered once. A crash between the state
// commit and the queueing loses that notification (docs/WEBHOOKS.md says
// so); the callback path closes the gap by emitting on every retry too.

// emit queues one event for the merchant's endpoints that want it and
// wakes the dispatcher. Failures are logged: a webhook never fails a buy.
func (a *App) emit(merchantID int64, typ, key string, data any) {
	if a.Webhooks == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, err := webhooks.Message(typ, a.Now(), data)
	if err == nil {
		var n int
		n, err = a.Webhooks.Enqueue(ctx, merchantID, typ, key, body, 0)
		if n > 0 && a.WebhookKick != nil {
			a.WebhookKick()
		}
	}
	if err != nil {
		a.Logger.Error("webhooks: queue event", "type", typ, "key", key, "err", err)
	}
}

// webhookOrder is what receivers learn of an order: no contact data (an ERP
// that needs the address reads the order through the API with a token
// allowed to see it).
func webhookOrder(o *order.Order) map[string]any {
	return map[string]any{"order": map[string]any{
		"id": o.ID, "number": o.Number, "status": o.Status, "fulfilment": o.Fulfilment, "store_id": o.StoreID,
		"room_id": o.RoomID, "flash_sale_id": o.SaleID, "guide_code": o.GuideCode,
		"total_fen": o.TotalFen, "refunded_fen": o.RefundedFen, "lines": o.Lines,
		"created_at": o.CreatedAt, "paid_at": o.PaidAt, "completed_at": o.CompletedAt, "cancelled_at": o.CancelledAt,
	}}
}

// emitOrder queues order.<status> (and order.refunded when money went back).
func (a *App) emitOrder(o *order.Order) {
	id := strconv.FormatInt(o.ID, 10)
	switch o.Status {
	case order.PendingPayment:
		a.emit(o.MerchantID, "order.created", "order.created:"+id, webhookOrder(o))
	case order.Paid, order.Ready, order.Shipped, order.Completed, order.Cancelled:
		typ := "order." + string(o.Status)
		a.emit(o.MerchantID, typ, typ+":"+id, webhookOrder(o))
	}
	if o.RefundedFen > 0 {
		a.emit(o.MerchantID, "order.refunded", fmt.Sprintf("order.refunded:%s:%d", id, o.RefundedFen), webhookOrder(o))
	}
}

// emitLot queues lot.held or lot.released; each hold episode is its own event.
func (a *App) emitLot(merchantID int64, lot *inventory.Lot, by *identity.Principal, reason string) {
	typ := "lot.released"
	if lot.Hold {
		typ = "lot.held"
	}
	key := fmt.Sprintf("%s:%d:%d", typ, lot.ID, a.Now().UnixMilli())
	a.emit(merchantID, typ, key, map[string]any{"lot": map[string]any{
		"id": lot.ID, "code": lot.Code, "sku_id": lot.SKUID, "produced_at": lot.ProducedAt, "expires_at": lot.ExpiresAt,
		"hold": lot.Hold, "reason": reason, "by": by.Name,
	}})
}

// emitRoom queues room.started or room.ended.
func (a *App) emitRoom(r *live.Room) {
	var typ string
	switch r.Status {
	case live.Live:
		typ = "room.started"
	case live.Ended:
		typ = "room.ended"
	default:
		return
	}
	at := a.Now()
	if r.StartedAt != nil && typ == "room.started" {
		at = *r.StartedAt
	}
	a.emit(r.MerchantID, typ, fmt.Sprintf("%s:%d:%d", typ, r.ID, at.UnixMilli()), map[string]any{"room": map[string]any{
		"id": r.ID, "slug": r.Slug, "title": r.Title, "status": r.Status, "started_at": r.StartedAt,
	}})
}

// WebhookInput is what staff send to create or change an endpoint.
type WebhookInput struct {
	URL         *string  `json:"url"`
	Description *string  `json:"description"`
	Events      []string `json:"events"`
	Enabled     *bool    `json:"enabled"`
}

// CreateWebhook validates and stores an endpoint with a fresh secret, which
// the caller shows once.
func (a *App) CreateWebhook(ctx context.Context, p *identity.Principal, in WebhookInput) (*webhooks.Endpoint, error) {
	e := &webhooks.Endpoint{MerchantID: p.MerchantID, Events: in.Events, Secret: webhooks.NewSecret()}
	if in.URL != nil {
		e.URL = *in.URL
	}
	if in.Description != nil {
		e.Description = *in.Description
	}
	if err := e.Validate(a.WebhooksAllowPrivate); err != nil {
		return nil, err
	}
	if err := a.Webhooks.CreateEndpoint(ctx, e); err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "webhook.create", fmt.Sprintf("webhook:%d", e.ID), e.URL)
	return e, nil
}

// UpdateWebhook changes the fields sent; rotate gives the endpoint a new
// secret (shown once in the answer).
func (a *App) UpdateWebhook(ctx context.Context, p *identity.Principal, id int64, in WebhookInput, rotate bool) (*webhooks.Endpoint, error) {
	e, err := a.Webhooks.Endpoint(ctx, p.MerchantID, id)
	if err != nil {
		return nil, err
	}
	if in.URL != nil {
		e.URL = *in.URL
	}
	if in.Description != nil {
		e.Description = *in.Description
	}
	if in.Events != nil {
		e.Events = in.Events
	}
	if in.Enabled != nil {
		e.Enabled = *in.Enabled
	}
	if err := e.Validate(a.WebhooksAllowPrivate); err != nil {
		return nil, err
	}
	action := "webhook.update"
	if rotate {
		e.Secret, action = webhooks.NewSecret(), "webhook.rotate_secret"
	}
	if err := a.Webhooks.UpdateEndpoint(ctx, e); err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, action, fmt.Sprintf("webhook:%d", e.ID), e.URL)
	if !rotate {
		e.Secret = ""
	}
	return e, nil
}

// DeleteWebhook removes an endpoint and its log.
func (a *App) DeleteWebhook(ctx context.Context, p *identity.Principal, id int64) error {
	if err := a.Webhooks.DeleteEndpoint(ctx, p.MerchantID, id); err != nil {
		return err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "webhook.delete", fmt.Sprintf("webhook:%d", id), "")
	return nil
}

// TestWebhook queues a webhook.test message to one endpoint.
func (a *App) TestWebhook(ctx context.Context, p *identity.Principal, id int64) error {
	e, err := a.Webhooks.Endpoint(ctx, p.MerchantID, id)
	if err != nil {
		return err
	}
	body, _ := webhooks.Message(webhooks.TestEvent, a.Now(), map[string]any{"endpoint_id": e.ID, "by": p.Name})
	if _, err := a.Webhooks.Enqueue(ctx, p.MerchantID, webhooks.TestEvent, webhooks.NewMessageID(), body, e.ID); err != nil {
		return err
	}
	if a.WebhookKick != nil {
		a.WebhookKick()
	}
	return nil
}

// ReplayWebhookDelivery sends a finished delivery again (same webhook-id).
func (a *App) ReplayWebhookDelivery(ctx context.Context, p *identity.Principal, id int64) (*webhooks.Delivery, error) {
	d, err := a.Webhooks.Replay(ctx, p.MerchantID, id)
	if err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "webhook.replay", fmt.Sprintf("webhook_delivery:%d", id), d.MessageID)
	if a.WebhookKick != nil {
		a.WebhookKick()
	}
	return d, nil
}

// WebhookDisabled records that ShelfLive switched an endpoint off after
// repeated failures, for the admin (audit log and the staff stream).
func (a *App) WebhookDisabled(ctx context.Context, merchantID, endpointID int64) {
	a.Audit.Audit(ctx, merchantID, "system", "webhook.disabled", fmt.Sprintf("webhook:%d", endpointID), fmt.Sprintf("%d deliveries failed for good in a row", webhooks.DisableAfter))
	a.publish(live.StaffTopic(merchantID), "webhook.disabled", map[string]any{"endpoint_id": endpointID})
}
