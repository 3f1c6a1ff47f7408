package sqldb_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/aftersales"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// paidOrder buys qty of the shop's chilled SKU and pays it with the
// wechatpay provider (refunds stay pending until the vendor answers).
func (s *shop) paidOrder(t *testing.T, qty int64) *order.Order {
	t.Helper()
	ctx := context.Background()
	o := s.buy(t, qty)
	in := &payment.Intent{MerchantID: s.m, OrderID: o.ID, Provider: "wechatpay", Method: "native", Intent: payment.NewIntentID(), AmountFen: o.TotalFen}
	must(t, s.orders.CreateIntent(ctx, in))
	_, err := s.orders.ApplyPaid(ctx, &payment.Notification{Intent: in.Intent, Status: "paid", AmountFen: o.TotalFen, MerchantID: s.m, Nonce: "p" + in.Intent}, "wechatpay", s.db.Now())
	must(t, err)
	return o
}

// TestContractAftersales: the rules of asking and deciding, on both
// databases.
func TestContractAftersales(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		clock := time.Now().UTC().Truncate(time.Millisecond)
		db.Now = func() time.Time { return clock }
		s := newShop(t, db)
		as := &sqldb.AftersaleStore{DB: db}
		s.lot(t, s.m, s.sku, s.store, "L1", 10*24*time.Hour, 50)
		ask := func(o *order.Order, a aftersales.Ask, cust int64) (*aftersales.Request, error) {
			r := &aftersales.Request{MerchantID: s.m, OrderID: o.ID, CustomerID: cust}
			if err := a.Validate(); err != nil {
				return nil, err
			}
			return r, as.Create(ctx, r, a, db.Now())
		}

		// Before handover: only a full refund (the order is cancelled).
		o := s.paidOrder(t, 2)
		_, err := ask(o, aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "changed_mind", AmountFen: 100}, s.cust)
		wantCode(t, err, "aftersale_before_handover")
		_, err = ask(o, aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "changed_mind", AmountFen: o.TotalFen}, s.otherCust)
		wantCode(t, err, apperr.ErrNotFound.Code)
		r, err := ask(o, aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "changed_mind", AmountFen: o.TotalFen}, s.cust)
		must(t, err)
		if !r.BeforeHandover || r.ReviewBy != clock.Add(aftersales.ReviewTime) {
			t.Fatalf("request %+v", r)
		}
		_, err = ask(o, aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "changed_mind", AmountFen: o.TotalFen}, s.cust)
		wantCode(t, err, "aftersale_open")
		_, err = as.Decide(ctx, aftersales.Decision{MerchantID: s.other, ID: r.ID, Approve: true, Actor: "x"})
		wantCode(t, err, apperr.ErrNotFound.Code)
		r, err = as.Decide(ctx, aftersales.Decision{MerchantID: s.m, ID: r.ID, Approve: true, Actor: "店长"})
		must(t, err)
		got, err := s.orders.Get(ctx, s.m, o.ID)
		must(t, err)
		if r.Status != aftersales.Refunding || r.Stock != "released" || got.Status != order.Cancelled || r.RefundNo == "" {
			t.Fatalf("approved before handover: %+v, order %s", r, got.Status)
		}
		if n := count(t, db, `SELECT count(*) FROM refunds WHERE order_id = ?`, o.ID); n != 1 {
			t.Fatalf("%d refund rows for a cancelled order with an approved request", n)
		}
		_, err = as.Decide(ctx, aftersales.Decision{MerchantID: s.m, ID: r.ID, Approve: true, Actor: "店长"})
		wantCode(t, err, "aftersale_decided")
		// the vendor confirms: the request is refunded, the customer told
		rf, err := s.orders.Refunds(ctx, s.m, o.ID)
		must(t, err)
		_, err = s.orders.ApplyRefund(ctx, &payment.Notification{Kind: payment.KindRefund, Intent: rf[0].Intent, RefundNo: rf[0].RefundNo, Status: "succeeded", AmountFen: rf[0].AmountFen, MerchantID: s.m, Nonce: "n1"}, "wechatpay")
		must(t, err)
		r, _ = as.Get(ctx, s.m, r.ID)
		if r.Status != aftersales.Refunded || r.RefundedAt == nil {
			t.Fatalf("after the vendor's confirmation: %+v", r)
		}
		if n := count(t, db, `SELECT count(*) FROM inbox WHERE customer_id = ? AND kind LIKE 'aftersale.%'`, s.cust); n != 3 {
			t.Fatalf("%d inbox messages, want requested, approved, refunded", n)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE object = ?`, "aftersale:"+strconv.FormatInt(r.ID, 10)); n != 3 {
			t.Fatalf("%d audit entries for the request", n)
		}

		// After handover: the chilled window is 48 h.
		o2 := s.paidOrder(t, 3)
		_, err = s.move(ctx, o2.ID, order.Completed)
		must(t, err)
		_, err = ask(o2, aftersales.Ask{Kind: aftersales.Quality, Reason: "changed_mind", AmountFen: 100, Photos: []string{"/uploads/0123456789abcdef01234567.jpg"}}, s.cust)
		wantCode(t, err, "invalid_aftersale_reason")
		_, err = ask(o2, aftersales.Ask{Kind: aftersales.ReturnRefund, Reason: "spoiled", AmountFen: price + 1, Lines: []aftersales.Line{{SKUID: s.sku, Quantity: 1}}}, s.cust)
		wantCode(t, err, "invalid_refund_amount")
		_, err = ask(o2, aftersales.Ask{Kind: aftersales.ReturnRefund, Reason: "spoiled", AmountFen: 100, Lines: []aftersales.Line{{SKUID: s.sku, Quantity: 4}}}, s.cust)
		wantCode(t, err, "invalid_aftersale_lines")
		clock = clock.Add(49 * time.Hour)
		_, err = ask(o2, aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "spoiled", AmountFen: 100}, s.cust)
		wantCode(t, err, "aftersale_window_closed")
		clock = clock.Add(-2 * time.Hour)
		r2, err := ask(o2, aftersales.Ask{Kind: aftersales.ReturnRefund, Reason: "spoiled", AmountFen: price, Lines: []aftersales.Line{{SKUID: s.sku, Quantity: 1}}}, s.cust)
		must(t, err)
		_, err = as.Decide(ctx, aftersales.Decision{MerchantID: s.m, ID: r2.ID, Approve: true, Received: true, Actor: "店员", StoreID: s.shipper})
		wantCode(t, err, apperr.ErrNotFound.Code) // staff of another store
		before := s.level(t, s.store, lotOf(t, db, "L1")).OnHand
		r2, err = as.Decide(ctx, aftersales.Decision{MerchantID: s.m, ID: r2.ID, Approve: true, Received: true, Actor: "店员", StoreID: s.store})
		must(t, err)
		if r2.Stock != "written_off" || s.level(t, s.store, lotOf(t, db, "L1")).OnHand != before {
			t.Fatalf("a chilled return: %+v (on hand %d → %d)", r2, before, s.level(t, s.store, lotOf(t, db, "L1")).OnHand)
		}

		// The lapse rule: a request nobody reviewed in 24 h.
		o3 := s.paidOrder(t, 1)
		_, err = s.move(ctx, o3.ID, order.Completed)
		must(t, err)
		r3, err := ask(o3, aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "damaged", AmountFen: 300}, s.cust)
		must(t, err)
		if l, _ := as.Lapsed(ctx, clock.Add(23*time.Hour), 10); len(l) != 0 {
			t.Fatalf("lapsed before its time: %+v", l)
		}
		l, err := as.Lapsed(ctx, clock.Add(24*time.Hour), 10)
		must(t, err)
		if len(l) != 1 || l[0].ID != r3.ID {
			t.Fatalf("lapsed %+v", l)
		}

		// Rejection needs no refund and tells the customer why.
		r3, err = as.Decide(ctx, aftersales.Decision{MerchantID: s.m, ID: r3.ID, Approve: false, Note: "照片看不出破损", Actor: "店长"})
		must(t, err)
		if r3.Status != aftersales.Rejected || r3.RefundNo != "" {
			t.Fatalf("rejected %+v", r3)
		}

		// The pickup window: a paid pickup order nobody collected.
		o4 := s.paidOrder(t, 1)
		l4 := s.level(t, s.store, lotOf(t, db, "L1"))
		if exp, err := as.ExpirePickups(ctx, clock.Add(47*time.Hour), 10); err != nil || len(exp) != 0 {
			t.Fatalf("expired early: %v %v", exp, err)
		}
		exp, err := as.ExpirePickups(ctx, clock.Add(49*time.Hour), 10)
		must(t, err)
		if len(exp) != 1 || exp[0].ID != o4.ID || exp[0].Status != order.Cancelled {
			t.Fatalf("pickup window: %+v", exp)
		}
		if after := s.level(t, s.store, lotOf(t, db, "L1")); after.Reserved != l4.Reserved-1 {
			t.Fatalf("reserved %d → %d", l4.Reserved, after.Reserved)
		}
		if n := count(t, db, `SELECT COALESCE(SUM(amount_fen), 0) FROM refunds WHERE order_id = ? AND status = 'pending'`, o4.ID); n != o4.TotalFen {
			t.Fatalf("pending refund %d of %d", n, o4.TotalFen)
		}
		if exp, _ := as.ExpirePickups(ctx, clock.Add(49*time.Hour), 10); len(exp) != 0 {
			t.Fatalf("expired twice: %+v", exp)
		}
	})
}

func lotOf(t *testing.T, db *sqldb.DB, code string) int64 {
	return count(t, db, `SELECT id FROM lots WHERE code = ?`, code)
}

// TestContractAftersaleStats: complaints and refunds per product and lot,
// counted for the lots the named lines came from; cancels before pickup and
// withdrawn requests do not count.
func TestContractAftersaleStats(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		as := &sqldb.AftersaleStore{DB: db}
		s.lot(t, s.m, s.sku, s.store, "EARLY", 5*24*time.Hour, 2)
		s.lot(t, s.m, s.sku, s.store, "LATE", 9*24*time.Hour, 50)
		ask := func(o *order.Order, a aftersales.Ask) *aftersales.Request {
			r := &aftersales.Request{MerchantID: s.m, OrderID: o.ID, CustomerID: s.cust}
			must(t, as.Create(ctx, r, a, db.Now()))
			return r
		}
		// o1 takes EARLY's 2 and 1 of LATE (FEFO); o2, o3 take LATE.
		var handed []*order.Order
		for _, q := range []int64{3, 1, 1} {
			o := s.paidOrder(t, q)
			_, err := s.move(ctx, o.ID, order.Completed)
			must(t, err)
			handed = append(handed, o)
		}
		r1 := ask(handed[0], aftersales.Ask{Kind: aftersales.Quality, Reason: "spoiled", AmountFen: 500, Photos: []string{"/uploads/0123456789abcdef01234567.jpg"}})
		_, err := as.Decide(ctx, aftersales.Decision{MerchantID: s.m, ID: r1.ID, Approve: true, Actor: "qa"})
		must(t, err)
		rf, _ := s.orders.Refunds(ctx, s.m, handed[0].ID)
		_, err = s.orders.ApplyRefund(ctx, &payment.Notification{Kind: payment.KindRefund, Intent: rf[0].Intent, RefundNo: rf[0].RefundNo, Status: "succeeded", AmountFen: 500, MerchantID: s.m, Nonce: "st1"}, "wechatpay")
		must(t, err)
		ask(handed[1], aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "damaged", AmountFen: 100})
		w := ask(handed[2], aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "damaged", AmountFen: 100})
		_, err = as.Withdraw(ctx, s.m, s.cust, w.ID)
		must(t, err)
		pre := s.paidOrder(t, 1) // a cancel before pickup: not a complaint
		ask(pre, aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "changed_mind", AmountFen: pre.TotalFen})

		stats, err := as.Stats(ctx, s.m, db.Now().Add(-time.Hour))
		must(t, err)
		got := map[string]aftersales.Stats{}
		for _, st := range stats {
			got[st.LotCode] = st
		}
		if e := got["EARLY"]; len(stats) != 2 || e.Sold != 2 || e.Complaints != 1 || e.Refunded != 1 || e.RefundedFen != 500 || e.ProductID != s.product {
			t.Fatalf("EARLY %+v (all %+v)", e, stats)
		}
		if l := got["LATE"]; l.Sold != 3 || l.Complaints != 2 || l.Refunded != 1 {
			t.Fatalf("LATE %+v", l)
		}
	})
}
