package sqldb_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// newSale creates a room and a scheduled sale of qty units of the shop's
// SKU in its pickup store, due now.
func (s *shop) newSale(t testing.TB, qty int64) (*sqldb.FlashStore, *flashsale.Sale) {
	t.Helper()
	ctx := context.Background()
	r := &live.Room{MerchantID: s.m, Slug: "sale-room", Title: "秒杀"}
	must(t, s.live.CreateRoom(ctx, r))
	fs := &sqldb.FlashStore{DB: s.db}
	now := s.db.Now()
	sale := &flashsale.Sale{MerchantID: s.m, RoomID: r.ID, SKUID: s.sku, StoreID: s.store, PriceFen: 990, Quantity: qty, PerUserLimit: 2,
		StartsAt: now.Add(-time.Second), EndsAt: now.Add(time.Hour)}
	must(t, fs.Create(ctx, sale))
	return fs, sale
}

func fefo(qty int64, now time.Time) func([]inventory.Level) ([]inventory.Take, error) {
	return func(levels []inventory.Level) ([]inventory.Take, error) {
		t, err := inventory.AllocateFEFO(levels, qty, now)
		if err != nil {
			return nil, flashsale.ErrQuotaOnStart
		}
		return t, nil
	}
}

// flashOrder is a pending flash order for qty units taken from lot.
func (s *shop) flashOrder(sale *flashsale.Sale, cust int64, key, hash string, lot, qty int64) *flashsale.PendingOrder {
	o := &order.Order{MerchantID: s.m, CustomerID: cust, RoomID: sale.RoomID, SaleID: sale.ID, Fulfilment: order.Pickup, StoreID: s.store,
		TotalFen: qty * sale.PriceFen, ReserveExpiresAt: s.db.Now().Add(15 * time.Minute), IdempotencyKey: key, RequestHash: hash,
		Lines: []order.Line{{SKUID: s.sku, ProductID: s.product, ProductName: "草莓", SKUName: "500g", Quantity: qty, UnitFen: sale.PriceFen, TotalFen: qty * sale.PriceFen}}}
	return &flashsale.PendingOrder{Order: o, Takes: []inventory.Take{{StoreID: s.store, LotID: lot, Qty: qty}}}
}

func TestContractFlashSaleStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		a := s.lot(t, s.m, s.sku, s.store, "A", 24*time.Hour, 6)
		b := s.lot(t, s.m, s.sku, s.store, "B", 48*time.Hour, 20)
		fs, sale := s.newSale(t, 10)

		// tenant and reference checks
		wrong := *sale
		wrong.MerchantID = s.other
		wantCode(t, fs.Create(ctx, &wrong), "not_found")
		_, err := fs.Get(ctx, s.other, sale.ID)
		wantCode(t, err, "not_found")

		toStart, toEnd, err := fs.Due(ctx, db.Now())
		must(t, err)
		if len(toStart) != 1 || toStart[0].ID != sale.ID || len(toEnd) != 0 {
			t.Fatalf("due %+v %+v", toStart, toEnd)
		}

		// two nodes start the due sale at once: it is reserved once
		var wg sync.WaitGroup
		var mu sync.Mutex
		started, refused := 0, 0
		var quota []flashsale.Quota
		for range 4 {
			wg.Go(func() {
				q, err := fs.Start(ctx, s.m, sale.ID, fefo(10, db.Now()))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					started++
					quota = q
				case apperr.Is(err, "sale_not_running"):
					refused++
				default:
					t.Errorf("start: %v", err)
				}
			})
		}
		wg.Wait()
		if started != 1 || refused != 3 {
			t.Fatalf("started %d, refused %d", started, refused)
		}
		if len(quota) != 2 || quota[0].LotID != a || quota[0].Quantity != 6 || quota[1].LotID != b || quota[1].Quantity != 4 {
			t.Fatalf("quota %+v", quota)
		}
		if la, lb := s.level(t, s.store, a), s.level(t, s.store, b); la.Reserved != 6 || lb.Reserved != 4 {
			t.Fatalf("reserved A %d B %d", la.Reserved, lb.Reserved)
		}
		must(t, db.VerifyStock(ctx))

		// a batch: two buyers, a replay of the first, a reused key
		c2, err := s.ids.UpsertCustomer(ctx, s.m, "13900000002")
		must(t, err)
		o1 := s.flashOrder(sale, s.cust, "k1", "h1", a, 2)
		o2 := s.flashOrder(sale, c2.ID, "k2", "h2", a, 1)
		dup := s.flashOrder(sale, s.cust, "k1", "h1", a, 2)
		bad := s.flashOrder(sale, c2.ID, "k2", "other", a, 1)
		must(t, fs.CreateBatch(ctx, []*flashsale.PendingOrder{o1, o2, dup, bad}))
		if o1.Err != nil || o2.Err != nil || o1.Dup || o1.Order.ID == 0 || o2.Order.ID == 0 {
			t.Fatalf("batch: o1 %+v o2 %+v", o1, o2)
		}
		if !dup.Dup || dup.Err != nil || dup.Order.ID != o1.Order.ID {
			t.Fatalf("replayed key: %+v", dup)
		}
		wantCode(t, bad.Err, "idempotency_key_reused")
		if n := count(t, db, `SELECT count(*) FROM orders WHERE sale_id = ?`, sale.ID); n != 2 {
			t.Fatalf("%d sale orders stored", n)
		}
		takes, err := fs.OrderTakes(ctx, o1.Order.ID)
		must(t, err)
		if len(takes) != 1 || takes[0].LotID != a || takes[0].Qty != 2 {
			t.Fatalf("takes %+v", takes)
		}
		byKey, err := fs.OrderByKey(ctx, s.m, c2.ID, "k2")
		must(t, err)
		if byKey.ID != o2.Order.ID || byKey.SaleID != sale.ID || len(byKey.Lines) != 1 {
			t.Fatalf("by key %+v", byKey)
		}
		_, err = fs.OrderByKey(ctx, s.other, c2.ID, "k2")
		wantCode(t, err, "not_found")

		sales, quotas, claims, err := fs.Running(ctx)
		must(t, err)
		if len(sales) != 1 || len(quotas[sale.ID]) != 2 || len(claims[sale.ID]) != 2 {
			t.Fatalf("running %+v %+v %+v", sales, quotas, claims)
		}
		must(t, db.VerifyStock(ctx))

		// a cancelled sale order gives its units back to the sale, not to stock
		_, err = s.orders.Transition(ctx, s.m, o2.Order.ID, order.Cancelled)
		must(t, err)
		if la := s.level(t, s.store, a); la.Reserved != 6 {
			t.Fatalf("reserved A %d after a cancelled sale order", la.Reserved)
		}
		// a handed-over sale order leaves the shelf once
		for _, next := range []order.Status{order.Paid, order.Ready, order.Completed} {
			_, err := s.move(ctx, o1.Order.ID, next)
			must(t, err)
		}
		if la := s.level(t, s.store, a); la.OnHand != 4 || la.Reserved != 4 {
			t.Fatalf("A after pickup %+v", la)
		}
		must(t, db.VerifyStock(ctx))

		// ending (on two nodes at once) returns what no order holds, once
		for range 2 {
			wg.Go(func() {
				if err := fs.End(ctx, s.m, sale.ID); err != nil {
					t.Errorf("end: %v", err)
				}
			})
		}
		wg.Wait()
		if la, lb := s.level(t, s.store, a), s.level(t, s.store, b); la.Reserved != 0 || lb.Reserved != 0 || la.OnHand != 4 || lb.OnHand != 20 {
			t.Fatalf("after end: A %+v B %+v", la, lb)
		}
		got, err := fs.Get(ctx, s.m, sale.ID)
		must(t, err)
		if got.Status != flashsale.Ended || got.EndedAt == nil {
			t.Fatalf("ended sale %+v", got)
		}
		_, err = fs.Start(ctx, s.m, sale.ID, fefo(10, db.Now()))
		wantCode(t, err, "sale_not_running")
		must(t, db.VerifyStock(ctx))
		list, err := fs.List(ctx, s.m, sale.RoomID)
		must(t, err)
		if len(list) != 1 {
			t.Fatalf("list %+v", list)
		}
	})
}

// TestContractFlashSaleStartShort: a sale larger than the store's stock
// does not start and reserves nothing.
func TestContractFlashSaleStartShort(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		lot := s.lot(t, s.m, s.sku, s.store, "A", 24*time.Hour, 5)
		fs, sale := s.newSale(t, 10)
		_, err := fs.Start(ctx, s.m, sale.ID, fefo(10, db.Now()))
		wantCode(t, err, "insufficient_stock")
		if lv := s.level(t, s.store, lot); lv.Reserved != 0 {
			t.Fatalf("reserved %d after a refused start", lv.Reserved)
		}
		got, err := fs.Get(ctx, s.m, sale.ID)
		must(t, err)
		if got.Status != flashsale.Scheduled {
			t.Fatalf("status %s", got.Status)
		}
	})
}

// TestContractFlashSaleEndedTakesNoOrders: once a sale has ended (its unsold
// quota back in stock), a batch from an allocator that outlived it writes
// nothing: every order in it fails with sale_not_running and the stock
// invariant holds.
func TestContractFlashSaleEndedTakesNoOrders(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		a := s.lot(t, s.m, s.sku, s.store, "A", 24*time.Hour, 10)
		fs, sale := s.newSale(t, 5)
		_, err := fs.Start(ctx, s.m, sale.ID, fefo(5, db.Now()))
		must(t, err)
		must(t, fs.End(ctx, s.m, sale.ID))
		late := s.flashOrder(sale, s.cust, "late", "h", a, 1)
		must(t, fs.CreateBatch(ctx, []*flashsale.PendingOrder{late}))
		wantCode(t, late.Err, "sale_not_running")
		if n := count(t, db, `SELECT count(*) FROM orders WHERE sale_id = ?`, sale.ID); n != 0 {
			t.Fatalf("%d orders written for an ended sale", n)
		}
		must(t, db.VerifyStock(ctx))
	})
}
