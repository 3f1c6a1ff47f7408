package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/aftersales"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/stores"
)

// AskAftersale records a customer's after-sales request about their own
// order (仅退款, 退货退款 or a quality complaint with photos) and tells the
// store's staff.
func (a *App) AskAftersale(ctx context.Context, p *identity.Principal, orderID int64, ask aftersales.Ask) (*aftersales.Request, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, apperr.ErrNotFound
	}
	if _, err := a.CustomerOrder(ctx, p, orderID); err != nil {
		return nil, err // another buyer's order is not found, whatever the ask
	}
	if err := ask.Validate(); err != nil {
		return nil, err
	}
	r := &aftersales.Request{MerchantID: p.MerchantID, OrderID: orderID, CustomerID: p.SubjectID}
	if err := a.Aftersales.Create(ctx, r, ask, a.Now()); err != nil {
		return nil, err
	}
	a.aftersaleChanged(r, "aftersale.requested")
	return r, nil
}

// DecideAftersale is the merchant's review: approve (the refund goes to
// the vendor after the decision commits) or reject with a reason. Staff
// bound to a store decide only that store's requests.
func (a *App) DecideAftersale(ctx context.Context, p *identity.Principal, id int64, approve bool, note string, received bool) (*aftersales.Request, error) {
	r, err := a.Aftersales.Get(ctx, p.MerchantID, id)
	if err != nil {
		return nil, err
	}
	if at := p.AtStore(); at != 0 && r.StoreID != at {
		return nil, apperr.ErrNotFound // staff of another store
	}
	note = strings.TrimSpace(note)
	if len([]rune(note)) > aftersales.MaxNoteRunes {
		return nil, aftersales.ErrNote
	}
	if !approve && note == "" {
		return nil, aftersales.ErrRejectNote
	}
	return a.decide(ctx, aftersales.Decision{MerchantID: p.MerchantID, ID: id, Approve: approve, Note: note, Actor: p.Name, Received: received, StoreID: p.AtStore()})
}

func (a *App) decide(ctx context.Context, d aftersales.Decision) (*aftersales.Request, error) {
	r, err := a.Aftersales.Decide(ctx, d)
	if err != nil {
		return nil, err
	}
	if r.RefundNo != "" {
		a.submitAftersaleRefund(ctx, r)
		if again, err := a.Aftersales.Get(ctx, r.MerchantID, r.ID); err == nil {
			r = again
		}
	}
	a.aftersaleChanged(r, "aftersale.decided")
	return r, nil
}

// submitAftersaleRefund sends the request's one refund to the vendor (a
// failure leaves it pending: the reconciler sends it again under the same
// refund number).
func (a *App) submitAftersaleRefund(ctx context.Context, r *aftersales.Request) {
	list, err := a.Payments.Refunds(ctx, r.MerchantID, r.OrderID)
	if err != nil {
		a.Logger.Warn("aftersale refund: list", "aftersale", r.ID, "err", err)
		return
	}
	for i := range list {
		if list[i].RefundNo == r.RefundNo && list[i].Status == "pending" {
			a.submitRefund(ctx, &list[i])
		}
	}
}

// WithdrawAftersale lets the customer take back an open request.
func (a *App) WithdrawAftersale(ctx context.Context, p *identity.Principal, id int64) (*aftersales.Request, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, apperr.ErrNotFound
	}
	r, err := a.Aftersales.Withdraw(ctx, p.MerchantID, p.SubjectID, id)
	if err != nil {
		return nil, err
	}
	a.aftersaleChanged(r, "aftersale.decided")
	return r, nil
}

// aftersaleChanged tells the buyer's order page and the store's staff.
func (a *App) aftersaleChanged(r *aftersales.Request, staffType string) {
	a.publish(live.OrderTopic(r.OrderID), "aftersale.status", map[string]any{"id": r.ID, "status": r.Status})
	a.publish(live.StaffTopic(r.MerchantID), staffType, r)
	a.publish(live.StoreTopic(r.StoreID), staffType, r)
	if o, err := a.Orders.Get(context.Background(), r.MerchantID, r.OrderID); err == nil && r.Status != aftersales.Requested {
		a.orderChanged(o)
	}
}

// decideLapsed applies the lapse rule (aftersales.LapseActor) to requests
// the merchant did not review in time. The leader runs it; a request a
// clerk decides at the same moment is decided once (the store refuses the
// second decision).
func (a *App) decideLapsed(ctx context.Context) {
	if a.Aftersales == nil {
		return
	}
	list, err := a.Aftersales.Lapsed(ctx, a.Now(), 100)
	if err != nil {
		a.Logger.Error("aftersales: lapsed", "err", err)
		return
	}
	for _, r := range list {
		_, err := a.decide(ctx, aftersales.Decision{MerchantID: r.MerchantID, ID: r.ID, Approve: true, Actor: aftersales.LapseActor,
			Note: "商家未在时限内处理，系统自动同意 The store did not answer in time; approved automatically."})
		switch {
		case err == nil:
			a.Logger.Info("aftersale approved after the review lapsed", "aftersale", r.ID, "order", r.OrderNumber)
		case errors.Is(err, aftersales.ErrNotOpen):
		default:
			a.Logger.Warn("aftersales: lapse rule", "aftersale", r.ID, "err", err)
		}
	}
}

// PickupExpirer cancels pickup orders nobody collected within their
// store's pickup window and refunds them in full (same transaction as the
// cancel; the units go back on sale if still sellable).
type PickupExpirer interface {
	ExpirePickups(ctx context.Context, now time.Time, limit int) ([]order.Order, error)
}

// expirePickups refunds uncollected pickup orders (leader, every few
// seconds): each is cancelled once by the database, then its refund is
// sent to the vendor.
func (a *App) expirePickups(ctx context.Context) {
	pe, ok := a.Aftersales.(PickupExpirer)
	if !ok {
		return
	}
	list, err := pe.ExpirePickups(ctx, a.Now(), 50)
	if err != nil {
		a.Logger.Error("pickup window: expire", "err", err)
		return
	}
	for i := range list {
		a.Logger.Info("pickup not collected in time: cancelled and refunded", "order", list[i].Number)
		a.refundsPending(ctx, &list[i])
		if o, err := a.Orders.Get(ctx, list[i].MerchantID, list[i].ID); err == nil {
			a.orderChanged(o)
		}
	}
}

// SlotReminder writes "your slot ends soon" messages.
type SlotReminder interface {
	RemindSlotsEnding(ctx context.Context, now time.Time, lead time.Duration) (int64, error)
}

// aftersaleTick runs the after-sales and pickup jobs on the leader.
func (a *App) aftersaleTick(ctx context.Context) {
	if a.Pickup != nil {
		if n, err := a.Pickup.RemindSlotsEnding(ctx, a.Now(), stores.SlotEndingSoon); err != nil {
			a.Logger.Error("pickup slots: reminders", "err", err)
		} else if n > 0 {
			a.Logger.Info("pickup slot reminders sent", "messages", n)
		}
	}
	if a.Aftersales == nil {
		return
	}
	a.decideLapsed(ctx)
	a.expirePickups(ctx)
}

// SlotLister answers which pickup slots a store offers now.
type SlotLister interface {
	Slots(ctx context.Context, merchantID, storeID int64, now time.Time) (*stores.Store, []stores.Slot, error)
}

// StoreSlots lists a store's bookable pickup slots with the places left.
func (a *App) StoreSlots(ctx context.Context, merchantID, storeID int64) (*stores.Store, []stores.Slot, error) {
	sl, ok := a.Pickup.(SlotLister)
	if !ok {
		return nil, nil, stores.ErrUnknownStore
	}
	return sl.Slots(ctx, merchantID, storeID, a.Now())
}

// StaffAftersales lists the merchant's after-sales requests by f; staff
// bound to one store get that store's only.
func (a *App) StaffAftersales(ctx context.Context, p *identity.Principal, f aftersales.Filter) ([]aftersales.Request, error) {
	f.MerchantID, f.StoreID = p.MerchantID, p.AtStore()
	return a.Aftersales.List(ctx, f)
}
