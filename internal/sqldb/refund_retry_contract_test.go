package sqldb_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/aftersales"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractRefundRetry: a refund the vendor refused is due for the
// leader's retry after the backoff; a retry is a new pending refund of the
// same amount, made once however many retriers race (staff's button, the
// leader, a second node), audited, and it moves the after-sales request
// it pays back to refunding; when the retry succeeds the order counts the
// money once and the request is refunded. Pending and succeeded refunds are
// not retryable; after MaxAutoAttempts tries only staff retry. Both DBs.
func TestContractRefundRetry(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		clock := time.Now().UTC().Truncate(time.Millisecond)
		db.Now = func() time.Time { return clock }
		s := newShop(t, db)
		as := &sqldb.AftersaleStore{DB: db}
		s.lot(t, s.m, s.sku, s.store, "R1", 10*24*time.Hour, 50)
		o := s.paidOrder(t, 2)
		r := &aftersales.Request{MerchantID: s.m, OrderID: o.ID, CustomerID: s.cust}
		must(t, as.Create(ctx, r, aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "changed_mind", AmountFen: o.TotalFen}, db.Now()))
		r, err := as.Decide(ctx, aftersales.Decision{MerchantID: s.m, ID: r.ID, Approve: true, Actor: "店长"})
		must(t, err)
		fail := func(rf payment.Refund, nonce string) {
			t.Helper()
			_, err := s.orders.ApplyRefund(ctx, &payment.Notification{Kind: payment.KindRefund, Intent: rf.Intent, RefundNo: rf.RefundNo, Status: "failed",
				AmountFen: rf.AmountFen, MerchantID: s.m, Nonce: nonce}, "wechatpay")
			must(t, err)
		}
		list, err := s.orders.Refunds(ctx, s.m, o.ID)
		must(t, err)
		first := list[0]
		_, _, err = s.orders.RetryRefund(ctx, s.m, o.ID, first.RefundNo, "店长")
		wantCode(t, err, "refund_not_retryable") // still pending
		fail(first, "f1")
		if r, _ = as.Get(ctx, s.m, r.ID); r.Status != aftersales.RefundFail {
			t.Fatalf("request after the vendor refused: %s", r.Status)
		}
		// Due after the first backoff, not before.
		if due, _ := s.orders.DueRetries(ctx, clock, 10); len(due) != 0 {
			t.Fatalf("due at once: %+v", due)
		}
		clock = clock.Add(payment.RetryBackoff(1))
		due, err := s.orders.DueRetries(ctx, clock, 10)
		must(t, err)
		if len(due) != 1 || due[0].RefundNo != first.RefundNo {
			t.Fatalf("due %+v", due)
		}
		_, _, err = s.orders.RetryRefund(ctx, s.other, o.ID, first.RefundNo, "x")
		wantCode(t, err, "refund_not_retryable") // another tenant's refund is not theirs to retry

		// Staff, the leader and another node at once: one retry.
		var wg sync.WaitGroup
		got := make([]*payment.Refund, 4)
		made := make([]bool, 4)
		errs := make([]error, 4)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], made[i], errs[i] = s.orders.RetryRefund(ctx, s.m, o.ID, first.RefundNo, []string{"店长", payment.RetryActor}[i%2])
			}()
		}
		wg.Wait()
		created := 0
		for i := range got {
			if errs[i] != nil && !apperr.Is(errs[i], "busy_retry") {
				t.Fatalf("racing retries: %v", errs[i])
			}
			if errs[i] == nil && made[i] {
				created++
			}
			if errs[i] == nil && got[i].RetryOf != first.RefundNo {
				t.Fatalf("retry %+v", got[i])
			}
		}
		if created != 1 || count(t, db, `SELECT count(*) FROM refunds WHERE order_id = ?`, o.ID) != 2 ||
			count(t, db, `SELECT count(*) FROM audit_log WHERE merchant_id = ? AND action = 'order.refund_retry'`, s.m) != 1 {
			t.Fatalf("%d retries created", created)
		}
		list, err = s.orders.Refunds(ctx, s.m, o.ID)
		must(t, err)
		retry := list[1]
		if retry.Status != "pending" || retry.Attempt != 2 || retry.AmountFen != first.AmountFen || list[0].RetriedBy != retry.RefundNo || list[0].RetryAt != nil {
			t.Fatalf("refunds after the retry: %+v", list)
		}
		if due, _ := s.orders.DueRetries(ctx, clock.Add(time.Hour), 10); len(due) != 0 {
			t.Fatalf("a retried refund is still due: %+v", due)
		}
		if r, _ = as.Get(ctx, s.m, r.ID); r.Status != aftersales.Refunding || r.RefundNo != retry.RefundNo {
			t.Fatalf("request after the retry: %+v", r)
		}
		// The retry succeeds: counted once, the request refunded.
		_, err = s.orders.ApplyRefund(ctx, &payment.Notification{Kind: payment.KindRefund, Intent: retry.Intent, RefundNo: retry.RefundNo, Status: "succeeded",
			AmountFen: retry.AmountFen, MerchantID: s.m, Nonce: "ok2"}, "wechatpay")
		must(t, err)
		got2, err := s.orders.Get(ctx, s.m, o.ID)
		must(t, err)
		if got2.RefundedFen != o.TotalFen {
			t.Fatalf("refunded %d of %d", got2.RefundedFen, o.TotalFen)
		}
		if r, _ = as.Get(ctx, s.m, r.ID); r.Status != aftersales.Refunded {
			t.Fatalf("request after the retry succeeded: %s", r.Status)
		}
		_, _, err = s.orders.RetryRefund(ctx, s.m, o.ID, retry.RefundNo, "店长")
		wantCode(t, err, "refund_not_retryable") // succeeded

		// After the last automatic try only staff retry.
		o2 := s.paidOrder(t, 1)
		rf := &payment.Refund{MerchantID: s.m, OrderID: o2.ID, AmountFen: 100, Actor: "店长", RefundNo: payment.NewRefundNo()}
		_, err = s.orders.CreateRefund(ctx, rf, "k-o2")
		must(t, err)
		cur := *rf
		for attempt := 1; attempt <= payment.MaxAutoAttempts; attempt++ {
			fail(cur, "o2-"+cur.RefundNo)
			clock = clock.Add(3 * time.Hour)
			due, err := s.orders.DueRetries(ctx, clock, 10)
			must(t, err)
			if attempt == payment.MaxAutoAttempts {
				if len(due) != 0 {
					t.Fatalf("attempt %d still retried automatically", attempt)
				}
				break
			}
			if len(due) != 1 || due[0].Attempt != attempt {
				t.Fatalf("attempt %d: due %+v", attempt, due)
			}
			next, _, err := s.orders.RetryRefund(ctx, s.m, o2.ID, cur.RefundNo, payment.RetryActor)
			must(t, err)
			cur = *next
		}
		last, made2, err := s.orders.RetryRefund(ctx, s.m, o2.ID, cur.RefundNo, "店长")
		must(t, err)
		if !made2 || last.Attempt != payment.MaxAutoAttempts+1 {
			t.Fatalf("staff's retry after the last automatic one: %+v", last)
		}
	})
}
