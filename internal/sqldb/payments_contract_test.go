package sqldb_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractVendorPayments: a vendor's callback may only pay its own
// merchant's intent; refunds never exceed what was paid, count once, and a
// retried request with the same key is the same refund.
func TestContractVendorPayments(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 10)
		o := s.buy(t, 2)
		in := &payment.Intent{MerchantID: s.m, OrderID: o.ID, Provider: "wechatpay", Method: "h5", Intent: "pi_w1", AmountFen: o.TotalFen}
		must(t, s.orders.CreateIntent(ctx, in))
		pi, err := s.orders.PendingIntent(ctx, s.m, o.ID, "wechatpay", "h5")
		must(t, err)
		if pi.Method != "h5" {
			t.Fatalf("intent %+v", pi)
		}
		_, err = s.orders.PendingIntent(ctx, s.m, o.ID, "wechatpay", "native")
		wantCode(t, err, "not_found")
		list, err := s.orders.PendingIntents(ctx, db.Now().Add(-time.Hour), db.Now().Add(time.Hour), 10)
		must(t, err)
		if len(list) != 1 || list[0].Intent != "pi_w1" {
			t.Fatalf("pending intents %+v", list)
		}
		// the order's pending vendor intents (closed when it is cancelled
		// unpaid): not the dev provider's, not another merchant's view
		must(t, s.orders.CreateIntent(ctx, &payment.Intent{MerchantID: s.m, OrderID: o.ID, Provider: "dev", Method: "page", Intent: "pi_dev1", AmountFen: o.TotalFen}))
		mine, err := s.orders.OrderPendingIntents(ctx, s.m, o.ID)
		must(t, err)
		theirs, err := s.orders.OrderPendingIntents(ctx, s.other, o.ID)
		must(t, err)
		if len(mine) != 1 || mine[0].Intent != "pi_w1" || len(theirs) != 0 {
			t.Fatalf("the order's pending vendor intents %+v, another merchant's view %+v", mine, theirs)
		}

		// another merchant's account cannot pay this intent
		_, err = s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_w1", AmountFen: o.TotalFen, Nonce: "x1", MerchantID: s.other}, "wechatpay", db.Now())
		wantCode(t, err, "foreign_callback")
		_, err = s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_w1", AmountFen: o.TotalFen, Nonce: "x1", MerchantID: s.m, ProviderRef: "4200"}, "wechatpay", db.Now())
		must(t, err)

		// refunds: more than paid is refused, nothing recorded
		rf := &payment.Refund{MerchantID: s.m, OrderID: o.ID, AmountFen: o.TotalFen + 1, Actor: "owner", RefundNo: payment.NewRefundNo()}
		_, err = s.orders.CreateRefund(ctx, rf, "k0")
		wantCode(t, err, "refund_exceeds_paid")
		// another merchant cannot refund it
		_, err = s.orders.CreateRefund(ctx, &payment.Refund{MerchantID: s.other, OrderID: o.ID, AmountFen: 1, Actor: "x", RefundNo: payment.NewRefundNo()}, "k9")
		wantCode(t, err, "not_found")

		part := &payment.Refund{MerchantID: s.m, OrderID: o.ID, AmountFen: 100, Reason: "坏了一个", Actor: "owner", RefundNo: "rf_1"}
		created, err := s.orders.CreateRefund(ctx, part, "k1")
		must(t, err)
		if !created || part.Status != "pending" || part.Intent != "pi_w1" || part.PaidFen != o.TotalFen {
			t.Fatalf("refund %+v created=%v", part, created)
		}
		again := &payment.Refund{MerchantID: s.m, OrderID: o.ID, AmountFen: 100, Actor: "owner", RefundNo: "rf_other"}
		created, err = s.orders.CreateRefund(ctx, again, "k1")
		must(t, err)
		if created || again.RefundNo != "rf_1" {
			t.Fatalf("retry made a second refund: %+v", again)
		}
		_, err = s.orders.CreateRefund(ctx, &payment.Refund{MerchantID: s.m, OrderID: o.ID, AmountFen: 5, Actor: "owner", RefundNo: "rf_x"}, "k1")
		wantCode(t, err, "idempotency_key_reused")
		// pending refunds count against what is left
		_, err = s.orders.CreateRefund(ctx, &payment.Refund{MerchantID: s.m, OrderID: o.ID, AmountFen: o.TotalFen - 99, Actor: "owner", RefundNo: "rf_2"}, "k2")
		wantCode(t, err, "refund_exceeds_paid")
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'order.refund'`); n != 1 {
			t.Fatalf("audit rows %d", n)
		}

		// the refund callback: wrong amount, foreign merchant refused; then
		// many concurrent deliveries apply it once
		_, err = s.orders.ApplyRefund(ctx, &payment.Notification{Kind: payment.KindRefund, RefundNo: "rf_1", Status: "succeeded", AmountFen: 99, Nonce: "r0", MerchantID: s.m}, "wechatpay")
		wantCode(t, err, "amount_mismatch")
		_, err = s.orders.ApplyRefund(ctx, &payment.Notification{Kind: payment.KindRefund, RefundNo: "rf_1", Status: "succeeded", AmountFen: 100, Nonce: "r0", MerchantID: s.other}, "wechatpay")
		wantCode(t, err, "foreign_callback")
		var wg sync.WaitGroup
		var mu sync.Mutex
		applied := 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				nonce := "r1"
				if i%2 == 1 {
					nonce = "r-other-" + string(rune('a'+i))
				}
				_, err := s.orders.ApplyRefund(ctx, &payment.Notification{Kind: payment.KindRefund, RefundNo: "rf_1", Status: "succeeded", AmountFen: 100, Nonce: nonce, MerchantID: s.m}, "wechatpay")
				if err == nil {
					mu.Lock()
					applied++
					mu.Unlock()
				} else if !apperr.Is(err, "replayed_callback") {
					t.Errorf("apply refund: %v", err)
				}
			}(i)
		}
		wg.Wait()
		if applied != 1 {
			t.Fatalf("refund applied %d times", applied)
		}
		got, err := s.orders.Get(ctx, s.m, o.ID)
		must(t, err)
		if got.RefundedFen != 100 || got.Status != order.Paid {
			t.Fatalf("order after partial refund: status %s refunded %d", got.Status, got.RefundedFen)
		}

		// cancelling the paid order records the rest as a pending vendor
		// refund; it counts when the vendor confirms it
		got, err = s.orders.Transition(ctx, s.m, o.ID, order.Cancelled)
		must(t, err)
		if got.RefundedFen != 100 {
			t.Fatalf("cancel counted an unconfirmed vendor refund: %d", got.RefundedFen)
		}
		refunds, err := s.orders.Refunds(ctx, s.m, o.ID)
		must(t, err)
		if len(refunds) != 2 || refunds[1].Status != "pending" || refunds[1].AmountFen != o.TotalFen-100 {
			t.Fatalf("refunds after cancel %+v", refunds)
		}
		_, err = s.orders.ApplyRefund(ctx, &payment.Notification{Kind: payment.KindRefund, RefundNo: refunds[1].RefundNo, Status: "succeeded", AmountFen: o.TotalFen - 100, Nonce: "r2", MerchantID: s.m}, "wechatpay")
		must(t, err)
		got, err = s.orders.Get(ctx, s.m, o.ID)
		must(t, err)
		pi, err = s.orders.IntentByID(ctx, "pi_w1")
		must(t, err)
		if got.RefundedFen != o.TotalFen || pi.Status != "refunded" {
			t.Fatalf("after the full refund: order refunded %d, intent %s", got.RefundedFen, pi.Status)
		}
		// the vendor notifies of the payment again under a new id (Alipay's
		// notify_id): acknowledged as a repeat, not refunded a second time
		_, err = s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_w1", AmountFen: o.TotalFen, Nonce: "x1-again", MerchantID: s.m, ProviderRef: "4200"}, "wechatpay", db.Now())
		wantCode(t, err, "replayed_callback")
		if refunds, _ := s.orders.Refunds(ctx, s.m, o.ID); len(refunds) != 2 {
			t.Fatalf("refunds after a new notification of a refunded payment: %+v", refunds)
		}
	})
}

func TestContractPaymentAccounts(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		st := &sqldb.PaymentAccountStore{DB: db}
		_, err := st.Account(ctx, s.m, "wechatpay")
		wantCode(t, err, "not_found")
		must(t, st.PutAccount(ctx, &payment.StoredAccount{MerchantID: s.m, Provider: "wechatpay", Sealed: "v1:aaa", Summary: map[string]any{"mchid": "1900000109"}}))
		must(t, st.PutAccount(ctx, &payment.StoredAccount{MerchantID: s.m, Provider: "wechatpay", Sealed: "v1:bbb", Summary: map[string]any{"mchid": "1900000110"}}))
		a, err := st.Account(ctx, s.m, "wechatpay")
		must(t, err)
		if a.Sealed != "v1:bbb" || a.Summary["mchid"] != "1900000110" {
			t.Fatalf("account %+v", a)
		}
		list, err := st.Accounts(ctx, s.other)
		must(t, err)
		if len(list) != 0 {
			t.Fatalf("another merchant sees %+v", list)
		}
	})
}

// TestContractPaidTooLate: money that arrives for an order that no longer
// takes it — cancelled, expired, or already paid through another intent —
// is kept and refunded in full, in the callback's transaction, exactly
// once however often the vendor calls back or the reconciler asks: one
// pending refund (a real vendor's; the dev provider's is done at once),
// one audit entry, one message in the buyer's inbox; the order stays as
// it was.
func TestContractPaidTooLate(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 20)
		intent := func(o *order.Order, provider, id string) {
			must(t, s.orders.CreateIntent(ctx, &payment.Intent{MerchantID: s.m, OrderID: o.ID, Provider: provider, Method: "h5", Intent: id, AmountFen: o.TotalFen}))
		}
		pay := func(o *order.Order, provider, id, nonce string) error {
			_, err := s.orders.ApplyPaid(ctx, &payment.Notification{Intent: id, Status: "paid", AmountFen: o.TotalFen, Nonce: nonce, MerchantID: s.m, ProviderRef: "ref-" + nonce}, provider, db.Now())
			return err
		}
		refunds := func(o *order.Order) []payment.Refund {
			list, err := s.orders.Refunds(ctx, s.m, o.ID)
			must(t, err)
			return list
		}

		// cancelled, then WeChat Pay's callback, then its retries and a query
		a := s.buy(t, 2)
		intent(a, "wechatpay", "pi_late_cancel")
		_, err := s.orders.Transition(ctx, s.m, a.ID, order.Cancelled)
		must(t, err)
		wantTooLate(t, pay(a, "wechatpay", "pi_late_cancel", "wx:1"))
		wantCode(t, pay(a, "wechatpay", "pi_late_cancel", "wx:1"), "replayed_callback")
		wantCode(t, pay(a, "wechatpay", "pi_late_cancel", "wx-query:pi_late_cancel"), "replayed_callback")
		list := refunds(a)
		if len(list) != 1 || list[0].Status != "pending" || list[0].AmountFen != a.TotalFen || list[0].Intent != "pi_late_cancel" || list[0].Actor != "payment.auto_refund" {
			t.Fatalf("refunds of the cancelled order: %+v", list)
		}
		got, err := s.orders.Get(ctx, s.m, a.ID)
		must(t, err)
		if got.Status != order.Cancelled || got.PaidAt != nil || got.RefundedFen != 0 {
			t.Fatalf("the cancelled order changed: %+v", got)
		}
		if in, _ := s.orders.IntentByID(ctx, "pi_late_cancel"); in.Status != "paid" || in.ProviderRef != "ref-wx:1" {
			t.Fatalf("the intent: %+v", in)
		}
		if pend, _ := s.orders.PendingRefunds(ctx, db.Now().Add(time.Minute), 10); len(pend) != 1 || pend[0].RefundNo != list[0].RefundNo {
			t.Fatalf("the reconciler does not see the refund: %+v", pend)
		}
		// the vendor confirms: counted once
		_, err = s.orders.ApplyRefund(ctx, &payment.Notification{Kind: payment.KindRefund, RefundNo: list[0].RefundNo, Intent: "pi_late_cancel", Status: "succeeded", AmountFen: a.TotalFen, Nonce: "wxr:1", MerchantID: s.m}, "wechatpay")
		must(t, err)
		got, _ = s.orders.Get(ctx, s.m, a.ID)
		if got.RefundedFen != a.TotalFen || got.Status != order.Cancelled {
			t.Fatalf("after the refund: %+v", got)
		}
		// the same payment notified again under a new id once refunded
		// (Alipay's notify_id): nothing changes, no second refund
		wantCode(t, pay(a, "wechatpay", "pi_late_cancel", "wx:1-again"), "replayed_callback")
		if list := refunds(a); len(list) != 1 {
			t.Fatalf("refunds after a new notification of the refunded payment: %+v", list)
		}

		// paid through one intent, then a second payment through another
		b := s.buy(t, 1)
		intent(b, "wechatpay", "pi_twice_1")
		intent(b, "wechatpay", "pi_twice_2")
		must(t, pay(b, "wechatpay", "pi_twice_1", "wx:2"))
		wantTooLate(t, pay(b, "wechatpay", "pi_twice_2", "wx:3"))
		if list := refunds(b); len(list) != 1 || list[0].Intent != "pi_twice_2" || list[0].AmountFen != b.TotalFen {
			t.Fatalf("refunds of the twice-paid order: %+v", list)
		}
		got, _ = s.orders.Get(ctx, s.m, b.ID)
		if got.Status != order.Paid {
			t.Fatalf("the paid order: %+v", got)
		}
		// the vendor confirms the second payment's refund: it is not the
		// order's money, so the paid order shows nothing refunded (counting
		// it broke refunded ≤ total and the confirmation could not be kept)
		second := refunds(b)[0]
		_, err = s.orders.ApplyRefund(ctx, &payment.Notification{Kind: payment.KindRefund, RefundNo: second.RefundNo, Intent: "pi_twice_2", Status: "succeeded", AmountFen: b.TotalFen, Nonce: "wxr:2", MerchantID: s.m}, "wechatpay")
		must(t, err)
		got, _ = s.orders.Get(ctx, s.m, b.ID)
		if list := refunds(b); got.Status != order.Paid || got.RefundedFen != 0 || list[0].Status != "succeeded" {
			t.Fatalf("the paid order after its second payment's refund: %+v %+v", got, list)
		}

		// expired, the dev provider: refunded at once
		c := s.buy(t, 1)
		intent(c, "dev", "pi_late_dev")
		_, err = s.orders.Transition(ctx, s.m, c.ID, order.Expired)
		must(t, err)
		wantTooLate(t, pay(c, "dev", "pi_late_dev", "dev:1"))
		got, _ = s.orders.Get(ctx, s.m, c.ID)
		if list := refunds(c); len(list) != 1 || list[0].Status != "succeeded" || got.RefundedFen != c.TotalFen || got.Status != order.Expired {
			t.Fatalf("dev: %+v %+v", list, got)
		}

		if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'payment.auto_refund'`); n != 3 {
			t.Fatalf("audit entries %d, want 3", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM inbox WHERE kind = 'refund' AND url LIKE '/orders/%'`); n != 3 {
			t.Fatalf("inbox messages %d, want 3", n)
		}
		must(t, db.VerifyStock(ctx))
	})
}

// wantTooLate: the payment was kept and its refund recorded (payment.ErrPaidTooLate).
func wantTooLate(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, payment.ErrPaidTooLate) {
		t.Fatalf("want payment.ErrPaidTooLate, got %v", err)
	}
}
