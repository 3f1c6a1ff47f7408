package sqldb_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractMoveConditions: a move's conditions are checked on the row the
// transaction locked (hostile review findings 3 and 4). A buyer's cancel
// that lost the race to a payment is refused, not turned into a refund; a
// pickup order is never shipped and is completed only by its code; every
// refund and every staff cancel is in the audit log, written with the move.
func TestContractMoveConditions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		lot := s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 20)
		audits := func() int64 {
			return count(t, db, `SELECT count(*) FROM audit_log WHERE merchant_id = ? AND action = 'order.cancel'`, s.m)
		}
		buyerCancel := func(id, customer int64) (*order.Order, error) {
			return s.orders.Apply(ctx, order.Move{MerchantID: s.m, ID: id, To: order.Cancelled, CustomerID: customer,
				From: []order.Status{order.PendingPayment}, Refuse: order.ErrContactStore})
		}

		paid := s.buy(t, 2)
		_, err := s.orders.Transition(ctx, s.m, paid.ID, order.Paid)
		must(t, err)
		_, err = buyerCancel(paid.ID, s.cust)
		wantCode(t, err, "contact_store")
		got, err := s.orders.Get(ctx, s.m, paid.ID)
		must(t, err)
		if got.Status != order.Paid || got.RefundedFen != 0 || got.CancelledAt != nil {
			t.Fatalf("a refused buyer cancel changed the order: %+v", got)
		}
		// someone else's order is not found; an unpaid one of the buyer cancels, unaudited
		unpaid := s.buy(t, 1)
		_, err = buyerCancel(unpaid.ID, s.cust+1000)
		wantCode(t, err, "not_found")
		if _, err := buyerCancel(unpaid.ID, s.cust); err != nil {
			t.Fatal(err)
		}
		if n := audits(); n != 0 {
			t.Fatalf("%d audit entries after a buyer cancelled an unpaid order", n)
		}

		// pickup: no shipping, no completion without the code
		lv := s.level(t, s.store, lot)
		_, err = s.orders.Apply(ctx, order.Move{MerchantID: s.m, ID: paid.ID, To: order.Shipped, Actor: "clerk"})
		wantCode(t, err, "pickup_not_shipped")
		_, err = s.orders.Apply(ctx, order.Move{MerchantID: s.m, ID: paid.ID, To: order.Completed, Actor: "clerk"})
		wantCode(t, err, "pickup_needs_code")
		_, err = s.orders.Apply(ctx, order.Move{MerchantID: s.m, ID: paid.ID, To: order.Completed, ByCode: true, StoreID: s.store + 1000})
		wantCode(t, err, "not_found") // staff of another store
		if after := s.level(t, s.store, lot); after != lv {
			t.Fatalf("refused handovers moved stock: %+v → %+v", lv, after)
		}

		// a staff refund is audited with its actor and amount, in the same transaction
		refunded, err := s.orders.Apply(ctx, order.Move{MerchantID: s.m, ID: paid.ID, To: order.Cancelled, Actor: "店长"})
		must(t, err)
		if refunded.RefundedFen != paid.TotalFen {
			t.Fatalf("refunded %d of %d", refunded.RefundedFen, paid.TotalFen)
		}
		var actor, detail string
		must(t, db.QueryRow(ctx, `SELECT actor, detail FROM audit_log WHERE merchant_id = ? AND action = 'order.cancel' AND object = ?`, s.m, "order:"+paid.Number).Scan(&actor, &detail))
		if actor != "店长" || detail != "refunded_fen="+strconv.FormatInt(paid.TotalFen, 10) {
			t.Fatalf("audit entry %q %q", actor, detail)
		}
		// a refund nobody named (a system cancel) is audited too
		p2 := s.buy(t, 1)
		_, err = s.orders.Transition(ctx, s.m, p2.ID, order.Paid)
		must(t, err)
		_, err = s.orders.Transition(ctx, s.m, p2.ID, order.Cancelled)
		must(t, err)
		if n := audits(); n != 2 {
			t.Fatalf("%d order.cancel audit entries, want 2 (one per refund)", n)
		}
		must(t, db.VerifyStock(ctx))
	})
}

// TestContractLateCallback pins the rule for a payment that arrives after
// the reservation's deadline: the order row decides, not the clock. Until
// the sweeper expired the order its units are still reserved, so the
// payment is applied (refusing it would leave the buyer charged for
// nothing) and the sweeper then leaves the order alone; once the sweeper
// expired it, the payment is kept and refunded (paid_too_late) and the
// order and its stock stay as they are.
func TestContractLateCallback(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		lot := s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 20)
		intent := func(o *order.Order, id string) {
			must(t, s.orders.CreateIntent(ctx, &payment.Intent{MerchantID: s.m, OrderID: o.ID, Provider: "dev", Intent: id, AmountFen: o.TotalFen}))
		}
		late := db.Now().Add(time.Hour) // both reservations (15 min) are past their deadline

		a := s.buy(t, 2)
		intent(a, "pi_late_a")
		_, err := s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_late_a", AmountFen: a.TotalFen, Nonce: "la"}, "dev", late)
		must(t, err)
		expired, err := s.orders.ExpireDue(ctx, late, 10)
		must(t, err)
		if len(expired) != 0 {
			t.Fatalf("the sweeper expired a paid order: %+v", expired)
		}

		b := s.buy(t, 3)
		intent(b, "pi_late_b")
		expired, err = s.orders.ExpireDue(ctx, late, 10)
		must(t, err)
		if len(expired) != 1 || expired[0].ID != b.ID {
			t.Fatalf("sweeper expired %+v, want order %d", expired, b.ID)
		}
		lv := s.level(t, s.store, lot)
		_, err = s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_late_b", AmountFen: b.TotalFen, Nonce: "lb"}, "dev", late)
		wantTooLate(t, err)
		got, err := s.orders.Get(ctx, s.m, b.ID)
		must(t, err)
		if got.Status != order.Expired || got.PaidAt != nil || got.RefundedFen != b.TotalFen {
			t.Fatalf("a callback after expiry changed the order: %+v", got)
		}
		if after := s.level(t, s.store, lot); after != lv || after.Reserved != 2 {
			t.Fatalf("stock %+v → %+v (want the paid order's 2 reserved)", lv, after)
		}
		must(t, db.VerifyStock(ctx))
	})
}
