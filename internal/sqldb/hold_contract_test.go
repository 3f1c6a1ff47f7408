package sqldb_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractHeldLotNeverSold: the one sale rule (inventory.Sellable,
// checked by sqldb inside each sale's transaction) on both databases. With
// lot A on hold an ordinary order is refused with lot_on_hold (not "sold
// out") and writes nothing; an order paid before the hold cannot be handed
// over (its pickup code checked) until the release; a flash sale that took its
// quota from lot B before B went on hold writes no order of B, in a batch or
// through the naive baseline, and sells again after the release.
func TestContractHeldLotNeverSold(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		a := s.lot(t, s.m, s.sku, s.store, "A", 24*time.Hour, 10)
		paid := s.buy(t, 2)
		_, err := s.orders.Transition(ctx, s.m, paid.ID, order.Paid)
		must(t, err)

		must(t, s.inv.SetHold(ctx, s.m, a, true, "冷链复核中"))
		before := count(t, db, `SELECT count(*) FROM orders`)
		_, err = s.orders.Create(ctx, s.newOrder("", ""), []order.Item{{SKUID: s.sku, Quantity: 1}})
		wantCode(t, err, "lot_on_hold")
		if n := count(t, db, `SELECT count(*) FROM orders`); n != before {
			t.Fatalf("a refused order wrote %d orders", n-before)
		}
		held, err := s.inv.HeldLots(ctx, s.m, s.store, []int64{a, a + 1000})
		must(t, err)
		if len(held) != 1 || held[0].ID != a {
			t.Fatalf("held lots %+v", held)
		}
		if held, err := s.inv.HeldLots(ctx, s.other, s.otherStore, []int64{a}); err != nil || len(held) != 0 {
			t.Fatalf("another tenant sees held lots %+v %v", held, err)
		}

		// The order paid before the hold: flagged, not handed over.
		codes, err := s.orders.HeldLots(ctx, s.m, paid.ID)
		must(t, err)
		if !slices.Equal(codes, []string{"A"}) {
			t.Fatalf("held lots of the paid order: %v", codes)
		}
		handover := order.Move{MerchantID: s.m, ID: paid.ID, To: order.Completed, ByCode: true, Actor: "静安店员"}
		_, err = s.orders.Apply(ctx, handover)
		wantCode(t, err, "lot_on_hold")
		if o, _ := s.orders.Get(ctx, s.m, paid.ID); o.Status != order.Paid || s.level(t, s.store, a).OnHand != 10 {
			t.Fatalf("refused handover changed the order (%s) or the stock", o.Status)
		}

		// A flash sale with its quota in lot B; B goes on hold while it runs.
		b := s.lot(t, s.m, s.sku, s.store, "B", 48*time.Hour, 10)
		fs, sale := s.newSale(t, 5)
		quota, err := fs.Start(ctx, s.m, sale.ID, fefo(5, db.Now()))
		must(t, err)
		if len(quota) != 1 || quota[0].LotID != b {
			t.Fatalf("quota %+v: the held lot A must not be taken", quota)
		}
		must(t, s.inv.SetHold(ctx, s.m, b, true, "冷链复核中"))
		fo := s.flashOrder(sale, s.cust, "f1", "h1", b, 1)
		must(t, fs.CreateBatch(ctx, []*flashsale.PendingOrder{fo}))
		wantCode(t, fo.Err, "lot_on_hold")
		naive := s.flashOrder(sale, s.cust, "f2", "h2", b, 1)
		naive.Takes = nil
		wantCode(t, fs.NaiveBuy(ctx, naive, 2), "lot_on_hold")
		if n := count(t, db, `SELECT count(*) FROM orders WHERE sale_id = ?`, sale.ID); n != 0 {
			t.Fatalf("%d orders of a held lot written", n)
		}

		// Released: the sale sells, the paid order is handed over.
		must(t, s.inv.SetHold(ctx, s.m, b, false, ""))
		fo = s.flashOrder(sale, s.cust, "f3", "h3", b, 1)
		must(t, fs.CreateBatch(ctx, []*flashsale.PendingOrder{fo}))
		must(t, fo.Err)
		must(t, s.inv.SetHold(ctx, s.m, a, false, ""))
		if codes, err := s.orders.HeldLots(ctx, s.m, paid.ID); err != nil || len(codes) != 0 {
			t.Fatalf("held lots after release: %v %v", codes, err)
		}
		if o, err := s.orders.Apply(ctx, handover); err != nil || o.Status != order.Completed {
			t.Fatalf("handover after release: %v", err)
		}
		must(t, db.VerifyStock(ctx))
	})
}
