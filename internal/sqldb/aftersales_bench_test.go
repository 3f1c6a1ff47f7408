package sqldb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/aftersales"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// BenchmarkOrderPickupSlot: one pickup order (reserve + guarded slot
// count) per op, slots on (capacity 1,000 an hour) or off, on SQLite.
func BenchmarkOrderPickupSlot(b *testing.B) {
	for _, slots := range []bool{false, true} {
		b.Run(fmt.Sprint("slots=", slots), func(b *testing.B) {
			ctx := context.Background()
			db := mustOpenDB(b, sqldb.SQLite)
			s := newShop(b, db)
			st, err := s.repo.Store(ctx, s.m, s.store)
			must(b, err)
			if slots {
				st.OpenMinute, st.CloseMinute, st.SlotCapacity = 0, 1440, 1000
				must(b, s.repo.UpdateStore(ctx, st))
			}
			s.lot(b, s.m, s.sku, s.store, "BENCH", 10*24*time.Hour, 10_000_000)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				o := s.newOrder(fmt.Sprint("b", i), "h")
				if _, err := s.orders.Create(ctx, o, []order.Item{{SKUID: s.sku, Quantity: 1}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAftersaleAskApproveRefund: one after-sales request per op,
// asked, approved (refund row, audit, inbox in one transaction) and its
// refund confirmed by the vendor's callback, on SQLite.
func BenchmarkAftersaleAskApproveRefund(b *testing.B) {
	ctx := context.Background()
	db := mustOpenDB(b, sqldb.SQLite)
	s := newShop(b, db)
	as := &sqldb.AftersaleStore{DB: db}
	s.lot(b, s.m, s.sku, s.store, "BENCH", 10*24*time.Hour, 10_000_000)
	orders := make([]*order.Order, b.N)
	for i := range orders {
		o := s.newOrder(fmt.Sprint("a", i), "h")
		if _, err := s.orders.Create(ctx, o, []order.Item{{SKUID: s.sku, Quantity: 1}}); err != nil {
			b.Fatal(err)
		}
		in := &payment.Intent{MerchantID: s.m, OrderID: o.ID, Provider: "wechatpay", Method: "native", Intent: payment.NewIntentID(), AmountFen: o.TotalFen}
		must(b, s.orders.CreateIntent(ctx, in))
		_, err := s.orders.ApplyPaid(ctx, &payment.Notification{Intent: in.Intent, Status: "paid", AmountFen: o.TotalFen, MerchantID: s.m, Nonce: "p" + in.Intent}, "wechatpay", db.Now())
		must(b, err)
		_, err = s.move(ctx, o.ID, order.Completed)
		must(b, err)
		orders[i] = o
	}
	b.ResetTimer()
	for i, o := range orders {
		r := &aftersales.Request{MerchantID: s.m, OrderID: o.ID, CustomerID: s.cust}
		if err := as.Create(ctx, r, aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "damaged", AmountFen: 100}, db.Now()); err != nil {
			b.Fatal(err)
		}
		r, err := as.Decide(ctx, aftersales.Decision{MerchantID: s.m, ID: r.ID, Approve: true, Actor: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.orders.ApplyRefund(ctx, &payment.Notification{Kind: payment.KindRefund, RefundNo: r.RefundNo, Status: "succeeded", AmountFen: 100,
			MerchantID: s.m, Nonce: fmt.Sprint("cb", i)}, "wechatpay"); err != nil {
			b.Fatal(err)
		}
	}
}
