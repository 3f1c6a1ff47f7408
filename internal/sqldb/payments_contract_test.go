package sqldb_test

import (
	"context"
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

		// another merchant's account cannot pay this intent
		_, _, err = s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_w1", AmountFen: o.TotalFen, Nonce: "x1", MerchantID: s.other}, "wechatpay", db.Now())
		wantCode(t, err, "foreign_callback")
		_, _, err = s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_w1", AmountFen: o.TotalFen, Nonce: "x1", MerchantID: s.m, ProviderRef: "4200"}, "wechatpay", db.Now())
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
