package app

import (
	"context"
	"fmt"

	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
)

// ColdChainHolder implements coldchain.Holder with the use-case layer:
// SetHold (audit + the product card republished to live rooms, held
// stock unsellable) and the release of unpaid reservations on the lot,
// whose buyers and the studio are told like any other order change.
// It lived in web until the tidy of issue 22: holding lots and cancelling
// orders is a use case, not HTTP.
type ColdChainHolder struct {
	App      *App
	Releaser interface {
		ReleaseUnpaidOnLotAt(ctx context.Context, merchantID, lotID, storeID int64) ([]int64, error)
	}
}

var (
	_ coldchain.Holder      = ColdChainHolder{}
	_ coldchain.StoreHolder = ColdChainHolder{}
)

// coldChainMonitor is the principal the automatic holds act as: audit rows
// name it, and it has the quality role's rights and no more.
func coldChainMonitor(merchantID int64) *identity.Principal {
	return &identity.Principal{Kind: identity.KindToken, MerchantID: merchantID, Role: identity.RoleQuality, Name: "冷链监控 cold-chain monitor"}
}

// HoldLot implements coldchain.Holder.
func (h ColdChainHolder) HoldLot(ctx context.Context, merchantID, lotID int64, reason string) error {
	mon := coldChainMonitor(merchantID)
	if _, err := h.App.SetHold(ctx, mon, lotID, true, reason); err != nil {
		return err
	}
	return h.releaseUnpaid(ctx, mon, merchantID, lotID, 0)
}

// HoldLotAt implements coldchain.StoreHolder: only the store's units stop
// selling, and only that store's unpaid reservations on the lot are let go.
func (h ColdChainHolder) HoldLotAt(ctx context.Context, merchantID, lotID, storeID int64, reason string) error {
	mon := coldChainMonitor(merchantID)
	if _, err := h.App.SetStoreHold(ctx, mon, lotID, storeID, true, reason); err != nil {
		return err
	}
	return h.releaseUnpaid(ctx, mon, merchantID, lotID, storeID)
}

// ReleaseLotAt implements coldchain.StoreHolder.
func (h ColdChainHolder) ReleaseLotAt(ctx context.Context, merchantID, lotID, storeID int64, reason string) error {
	_, err := h.App.SetStoreHold(ctx, coldChainMonitor(merchantID), lotID, storeID, false, reason)
	return err
}

func (h ColdChainHolder) releaseUnpaid(ctx context.Context, mon *identity.Principal, merchantID, lotID, storeID int64) error {
	ids, err := h.Releaser.ReleaseUnpaidOnLotAt(ctx, merchantID, lotID, storeID)
	if err != nil {
		return fmt.Errorf("release unpaid on lot %d: %w", lotID, err)
	}
	var cancelled []*order.Order
	for _, id := range ids {
		o, err := h.App.Orders.Get(ctx, merchantID, id)
		if err != nil {
			continue
		}
		h.App.Audit.Audit(ctx, merchantID, mon.Name, "order.cancel", "order:"+o.Number, fmt.Sprintf("lot %d on cold-chain hold", lotID))
		h.App.PublishOrder(o, "order.updated", "lot_on_hold")
		cancelled = append(cancelled, o)
	}
	// The food cannot be handed over: no payment for it either. The
	// vendors are asked apart from the alarm's path (a live may have many
	// unpaid orders, each up to 5 s at the vendors).
	go func(ctx context.Context) {
		for _, o := range cancelled {
			h.App.closeVendorOrders(ctx, o)
		}
	}(context.WithoutCancel(ctx))
	return nil
}

// ReleaseLot implements coldchain.Holder.
func (h ColdChainHolder) ReleaseLot(ctx context.Context, merchantID, lotID int64, reason string) error {
	_, err := h.App.SetHold(ctx, coldChainMonitor(merchantID), lotID, false, reason)
	return err
}

// AlarmPublisher returns a coldchain.Service.OnAlarm that tells the studio
// and admin (staff stream) about alarms as they open, clear and resolve.
func AlarmPublisher(a *App) func(*coldchain.Alarm) {
	return func(al *coldchain.Alarm) {
		if a.Hub != nil {
			a.publish(live.StaffTopic(al.MerchantID), "coldchain.alarm", al)
		}
	}
}
