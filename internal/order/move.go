package order

import "github.com/shelflive/shelflive/internal/apperr"

// Move is one requested status change together with the conditions it
// needs. The store checks them (Check) on the row it locked, in the
// transaction that applies the move, so nothing that commits meanwhile — a
// payment callback, the expiry sweeper, another counter — can slip between
// the check and the write.
type Move struct {
	MerchantID int64
	ID         int64
	To         Status
	// From lists the statuses the order must be in (empty: any status
	// Allowed moves to To); Refuse is the error when it is not (default
	// ErrBadTransition).
	From   []Status
	Refuse error
	// CustomerID, when set, limits the move to that buyer's own order.
	CustomerID int64
	// StoreID, when set, limits the move to an order of that store (staff
	// bound to a store).
	StoreID int64
	// ByCode says the buyer's pickup code was checked: the only way a
	// pickup order is handed over.
	ByCode bool
	// Actor names who asked (staff name, "buyer", "system"); every cancel
	// by staff and every refund is written to the audit log with it, in the
	// same transaction.
	Actor string
}

// Rules for moves that depend on more than the status.
var (
	ErrContactStore    = apperr.New(apperr.Conflict, "contact_store", "已支付订单请联系门店取消退款", "Paid orders are cancelled by the store (refund).")
	ErrPickupNeedsCode = apperr.New(apperr.Conflict, "pickup_needs_code", "自提订单须在门店核验取货码后完成", "A pickup order is completed by checking its pickup code at the store.")
	ErrPickupNotShip   = apperr.New(apperr.Conflict, "pickup_not_shipped", "自提订单不发货，须凭买家取货码在门店交付", "A pickup order is not shipped; it is handed over at the store with the buyer's code.")
	ErrNotReady        = apperr.New(apperr.Conflict, "not_ready", "订单未支付或已取消", "The order is not paid or was cancelled.")
)

// Check reports whether the move may apply to o as it is now. An order of
// another customer or store is "not found", like one of another merchant.
func (m Move) Check(o *Order) error {
	if (m.CustomerID != 0 && o.CustomerID != m.CustomerID) || (m.StoreID != 0 && o.StoreID != m.StoreID) {
		return apperr.ErrNotFound
	}
	if len(m.From) > 0 && !contains(m.From, o.Status) {
		if m.Refuse != nil {
			return m.Refuse
		}
		return ErrBadTransition
	}
	if !CanMove(o.Status, m.To) {
		return ErrBadTransition
	}
	if o.Fulfilment == Pickup {
		// A pickup order leaves the store only against the buyer's code:
		// otherwise anyone at a counter could hand someone else's paid
		// goods over (or "ship" them) and the real buyer would be refused.
		switch {
		case m.To == Shipped:
			return ErrPickupNotShip
		case m.To == Completed && !m.ByCode:
			return ErrPickupNeedsCode
		}
	}
	return nil
}

// Refund is what cancelling o now pays back: the whole total once paid.
func (m Move) Refund(o *Order) int64 {
	if m.To == Cancelled && o.PaidAt != nil {
		return o.TotalFen - o.RefundedFen
	}
	return 0
}

func contains(list []Status, s Status) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
