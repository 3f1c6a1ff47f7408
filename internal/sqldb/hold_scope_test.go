package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractStoreHold: one lot stocked in two stores; holding it in one
// store stops sales, handovers and flash sales there only, the SKU's
// sellable count keeps the other store's units; widening holds both;
// releasing the lot lifts both.
func TestContractStoreHold(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		a, b := s.store, s.shipper
		lot := s.lot(t, s.m, s.sku, a, "TWO", 10*24*time.Hour, 10)
		must(t, s.inv.SetStock(ctx, s.m, b, lot, 10))
		cc := &sqldb.ColdChainStore{DB: db}
		buyAt := func(store int64) (*order.Order, error) {
			o := s.newOrder("", "")
			o.StoreID = store
			_, err := s.orders.Create(ctx, o, []order.Item{{SKUID: s.sku, Quantity: 1}})
			return o, err
		}
		paidA, err := buyAt(a) // reserved at A before the hold, then paid
		must(t, err)
		_, err = s.move(ctx, paidA.ID, order.Paid)
		must(t, err)
		unpaidA, err := buyAt(a)
		must(t, err)
		unpaidB, err := buyAt(b)
		must(t, err)

		must(t, s.inv.SetStoreHold(ctx, s.m, lot, a, true, "静安寺店冷柜 13 °C"))
		ids, err := cc.ReleaseUnpaidOnLotAt(ctx, s.m, lot, a)
		must(t, err)
		if len(ids) != 1 || ids[0] != unpaidA.ID {
			t.Fatalf("released %v, want only the unpaid order at the held store (%d)", ids, unpaidA.ID)
		}
		if o, _ := s.orders.Get(ctx, s.m, unpaidB.ID); o.Status != order.PendingPayment {
			t.Fatalf("the other store's unpaid order is %s", o.Status)
		}
		if la, lb := s.level(t, a, lot), s.level(t, b, lot); !la.Hold || !la.StoreHold || lb.Hold || lb.StoreHold {
			t.Fatalf("levels A %+v B %+v", la, lb)
		}
		_, err = buyAt(a)
		wantCode(t, err, "lot_on_hold")
		if _, err := buyAt(b); err != nil {
			t.Fatalf("buy at the other store: %v", err)
		}
		_, err = s.move(ctx, paidA.ID, order.Completed)
		wantCode(t, err, "lot_on_hold")
		avail, err := s.inv.Available(ctx, s.m, []int64{s.sku})
		must(t, err)
		if want := s.level(t, b, lot).OnHand - s.level(t, b, lot).Reserved; avail[s.sku] != want {
			t.Fatalf("sellable %d, want the other store's %d", avail[s.sku], want)
		}
		if h, _ := s.inv.HeldLots(ctx, s.m, a, []int64{lot}); len(h) != 1 {
			t.Fatalf("a flash sale at the held store sees %v", h)
		}
		if h, _ := s.inv.HeldLots(ctx, s.m, b, []int64{lot}); len(h) != 0 {
			t.Fatalf("a flash sale at the other store sees %v", h)
		}
		lots, err := s.inv.ListLots(ctx, s.m, s.sku)
		must(t, err)
		if len(lots) != 1 || lots[0].Hold || len(lots[0].HeldStores) != 1 || lots[0].HeldStores[0] != a {
			t.Fatalf("lot %+v", lots)
		}
		// Widen, then release everything.
		must(t, s.inv.SetHold(ctx, s.m, lot, true, "整批"))
		_, err = buyAt(b)
		wantCode(t, err, "lot_on_hold")
		must(t, s.inv.SetHold(ctx, s.m, lot, false, ""))
		if la := s.level(t, a, lot); la.Hold || la.StoreHold {
			t.Fatalf("after the release A %+v", la)
		}
		if _, err := s.move(ctx, paidA.ID, order.Completed); err != nil {
			t.Fatalf("handover after the release: %v", err)
		}
		// Destroyed at one store: only its units are written off.
		onB := s.level(t, b, lot).OnHand
		if _, err := cc.WriteOffLot(ctx, s.m, lot, a); err != nil {
			t.Fatal(err)
		}
		if la, lb := s.level(t, a, lot), s.level(t, b, lot); la.OnHand != la.Reserved || lb.OnHand != onB {
			t.Fatalf("write-off at A: A %+v, B %+v (was %d)", la, lb, onB)
		}
		// Another merchant's store is not a store of this lot.
		wantCode(t, s.inv.SetStoreHold(ctx, s.m, lot, s.otherStore, true, "x"), "unknown_store")
	})
}
