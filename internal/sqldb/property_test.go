package sqldb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestReservationSequences drives random sequences of reserve, pay, hand
// over, cancel, expire, flash-sale start/buy/end and crash-restart (close
// and reopen the database mid-sequence) and checks after every step that
// stock never goes negative, reserved equals what orders and sales hold,
// and on_hand equals the initial stock minus what was handed over.
func TestReservationSequences(t *testing.T) {
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { reservationSequence(t, seed) })
	}
}

func reservationSequence(t *testing.T, seed uint64) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "prop.db")
	open := func() *sqldb.DB {
		db, err := sqldb.OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	defer func() { db.Close() }()
	now := time.Now().UTC()
	if _, err := demo.Seed(ctx, demo.Deps{Users: &sqldb.IdentityStore{DB: db}, Catalog: &sqldb.CatalogStore{DB: db}, Stores: &sqldb.StoreRepo{DB: db},
		Inventory: &sqldb.InventoryStore{DB: db}, Live: &sqldb.LiveStore{DB: db}, DataDir: dir, Now: now}); err != nil {
		t.Fatal(err)
	}
	users := &sqldb.IdentityStore{DB: db}
	var customers []int64
	for i := 0; i < 5; i++ {
		c, _ := users.UpsertCustomer(ctx, 1, fmt.Sprintf("131%08d", i))
		customers = append(customers, c.ID)
	}
	initial := map[[2]int64]int64{}
	rows, _ := db.Query(ctx, `SELECT store_id, lot_id, on_hand FROM stock`)
	for rows.Next() {
		var s, l, n int64
		rows.Scan(&s, &l, &n)
		initial[[2]int64{s, l}] = n
	}
	rows.Close()

	rng := rand.New(rand.NewPCG(seed, seed*7919))
	var open_ []int64 // order ids
	var saleID int64
	var alloc *flashsale.Allocator
	for step := 0; step < 120; step++ {
		orders := &sqldb.OrderStore{DB: db}
		flash := &sqldb.FlashStore{DB: db}
		op := rng.IntN(10)
		switch {
		case op < 4: // reserve
			o := &order.Order{MerchantID: 1, CustomerID: customers[rng.IntN(len(customers))], Fulfilment: order.Pickup, StoreID: 1 + rng.Int64N(3),
				IdempotencyKey: fmt.Sprint("k", step), RequestHash: "h", ReserveExpiresAt: now.Add(time.Hour)}
			_, err := orders.Create(ctx, o, []order.Item{{SKUID: 1 + rng.Int64N(4), Quantity: 1 + rng.Int64N(30)}})
			if err == nil {
				open_ = append(open_, o.ID)
			}
		case op < 7 && len(open_) > 0: // move an order along
			id := open_[rng.IntN(len(open_))]
			next := []order.Status{order.Paid, order.Ready, order.Completed, order.Cancelled, order.Expired, order.Shipped}[rng.IntN(6)]
			orders.Transition(ctx, 1, id, next) // illegal moves are refused; that is part of the property
		case op == 7: // flash sale: start or end
			if saleID == 0 {
				s := &flashsale.Sale{MerchantID: 1, RoomID: 1, SKUID: 1, StoreID: 1, PriceFen: 100, Quantity: 1 + rng.Int64N(15), PerUserLimit: 3, StartsAt: now, EndsAt: now.Add(time.Hour)}
				if err := flash.Create(ctx, s); err != nil {
					t.Fatal(err)
				}
				quota, err := flash.Start(ctx, 1, s.ID, func(l []inventory.Level) ([]inventory.Take, error) { return inventory.AllocateFEFO(l, s.Quantity, now) })
				if err != nil {
					flash.End(ctx, 1, s.ID)
					continue
				}
				saleID, alloc = s.ID, flashsale.NewAllocator(*s, quota, nil)
			} else {
				alloc.Close()
				if err := flash.End(ctx, 1, saleID); err != nil {
					t.Fatal(err)
				}
				saleID, alloc = 0, nil
			}
		case op == 8 && saleID != 0: // flash buy through the allocator and a batch commit
			c := customers[rng.IntN(len(customers))]
			takes, err := alloc.Take(c, 1)
			if err != nil {
				continue
			}
			po := &flashsale.PendingOrder{Order: &order.Order{MerchantID: 1, CustomerID: c, RoomID: 1, SaleID: saleID, Fulfilment: order.Pickup, StoreID: 1,
				IdempotencyKey: fmt.Sprint("f", step), RequestHash: "h", ReserveExpiresAt: now.Add(time.Hour), TotalFen: 100,
				Lines: []order.Line{{SKUID: 1, ProductID: 1, ProductName: "p", SKUName: "s", Quantity: 1, UnitFen: 100, TotalFen: 100}}}, Takes: takes}
			if err := flash.CreateBatch(ctx, []*flashsale.PendingOrder{po}); err != nil || po.Err != nil {
				alloc.GiveBack(c, takes)
			} else {
				open_ = append(open_, po.Order.ID)
			}
			alloc.Settle()
		case op == 9: // crash and restart: reopen the database, rebuild the sale from it
			db.Close()
			db = open()
			if saleID != 0 {
				sales, quota, claims, err := (&sqldb.FlashStore{DB: db}).Running(ctx)
				if err != nil || len(sales) != 1 {
					t.Fatalf("running sales after restart: %v %d", err, len(sales))
				}
				alloc = flashsale.NewAllocator(sales[0], quota[saleID], claims[saleID])
			}
		}
		if err := db.VerifyStock(ctx); err != nil {
			t.Fatalf("step %d (op %d): %v", step, op, err)
		}
		// on_hand = initial − handed over
		rows, err := db.Query(ctx, `SELECT st.store_id, st.lot_id, st.on_hand, COALESCE((SELECT SUM(a.quantity) FROM allocations a WHERE a.store_id = st.store_id AND a.lot_id = st.lot_id AND a.state = 'consumed'), 0) FROM stock st`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s, l, onHand, consumed int64
			rows.Scan(&s, &l, &onHand, &consumed)
			if onHand != initial[[2]int64{s, l}]-consumed {
				t.Fatalf("step %d: store %d lot %d on_hand %d, initial %d − handed over %d", step, s, l, onHand, initial[[2]int64{s, l}], consumed)
			}
		}
		rows.Close()
	}
}
