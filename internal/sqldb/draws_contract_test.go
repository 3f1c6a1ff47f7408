package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/draws"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractDraws: one entry per person even when 30 people enter twice
// at once; no entry after the window; the result is saved once, with the
// exclusions and winners in order; the seed stays hidden until drawn; a
// zero-price prize order is paid, free, reserved, and made once.
func TestContractDraws(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		s.lot(t, s.m, s.sku, s.store, "D1", 72*time.Hour, 10)
		r := &live.Room{MerchantID: s.m, Slug: "draw-room", Title: "福袋"}
		must(t, s.live.CreateRoom(ctx, r))
		ds := &sqldb.DrawStore{DB: db}
		now := db.Now()
		d := &draws.Draw{MerchantID: s.m, RoomID: r.ID, Title: "草莓福袋", Entry: draws.ByLike, Winners: 2, PrizeKind: draws.PrizeFreeSKU, PrizeSKUID: s.sku, PrizeStoreID: s.store,
			OpensAt: now, ClosesAt: now.Add(10 * time.Minute)}
		seed, c := draws.NewSeed()
		d.SetSecretSeed(seed)
		d.Commitment = c
		must(t, d.Validate())
		must(t, ds.Create(ctx, d))
		got, err := ds.ByID(ctx, d.ID)
		must(t, err)
		if got.Seed != "" || got.Commitment != c {
			t.Fatalf("open draw shows seed %q / commitment %q", got.Seed, got.Commitment)
		}
		var custs []int64
		var mu sync.Mutex
		dups := 0
		var wg sync.WaitGroup
		for i := range 30 {
			cu, err := s.ids.UpsertCustomer(ctx, s.m, fmt.Sprintf("1393333%04d", i))
			must(t, err)
			custs = append(custs, cu.ID)
			for range 2 {
				wg.Go(func() {
					err := ds.Enter(ctx, s.m, d.ID, draws.Entrant{CustomerID: cu.ID, Via: draws.ByLike, Device: fmt.Sprint("dev", i)})
					if errors.Is(err, draws.ErrEntered) {
						mu.Lock()
						dups++
						mu.Unlock()
					} else if err != nil {
						t.Errorf("enter: %v", err)
					}
				})
			}
		}
		wg.Wait()
		es, err := ds.Entrants(ctx, d.ID)
		must(t, err)
		if dups != 30 || len(es) != 30 {
			t.Fatalf("30 people entering twice: %d refused, %d entries", dups, len(es))
		}
		if err := ds.Enter(ctx, s.other, d.ID, draws.Entrant{CustomerID: s.otherCust, Via: draws.ByLike}); err == nil {
			t.Fatal("another shop's viewer entered")
		}
		later := now.Add(11 * time.Minute)
		db.Now = func() time.Time { return later }
		if err := ds.Enter(ctx, s.m, d.ID, draws.Entrant{CustomerID: s.cust, Via: draws.ByLike}); !errors.Is(err, draws.ErrClosed) {
			t.Fatalf("entry after the window: %v", err)
		}
		due, err := ds.Due(ctx, later)
		must(t, err)
		if len(due) != 1 {
			t.Fatalf("due: %d", len(due))
		}
		winners, err := draws.Winners(seed, custs[1:], 2)
		must(t, err)
		ok, err := ds.SaveResult(ctx, d.ID, map[int64]string{custs[0]: "same_device"}, winners)
		must(t, err)
		if again, _ := ds.SaveResult(ctx, d.ID, nil, []int64{custs[0]}); !ok || again {
			t.Fatalf("saved %v, saved again %v", ok, again)
		}
		res, err := ds.Result(ctx, d.ID)
		must(t, err)
		if res.Draw.Seed != seed || len(res.Entries) != 29 || len(res.Excluded) != 1 || res.Excluded[0].Excluded != "same_device" || len(res.Winners) != 2 || res.Winners[0].CustomerID != winners[0] {
			t.Fatalf("result %+v", res)
		}
		// The prize order: free, paid, stock reserved; made once per key.
		for range 2 {
			o := &order.Order{MerchantID: s.m, CustomerID: winners[0], DrawID: d.ID, Fulfilment: order.Pickup, StoreID: s.store, ContactPhone: "13933330001",
				IdempotencyKey: fmt.Sprint("draw-", d.ID), RequestHash: "draw", ReserveExpiresAt: later.Add(time.Hour)}
			_, err := s.orders.Create(ctx, o, []order.Item{{SKUID: s.sku, Quantity: 1}})
			must(t, err)
			if o.TotalFen != 0 || o.Status != order.Paid || o.DiscountFen != price || o.PaidAt == nil {
				t.Fatalf("prize order %+v", o)
			}
			must(t, ds.SetPrize(ctx, d.ID, winners[0], 0, o.ID))
		}
		if n := count(t, db, `SELECT COUNT(*) FROM orders WHERE draw_id = ?`, d.ID); n != 1 {
			t.Fatalf("%d prize orders", n)
		}
		pend, err := ds.PendingPrizes(ctx)
		must(t, err)
		if len(pend) != 1 || pend[0].CustomerID != winners[1] {
			t.Fatalf("pending prizes %+v", pend)
		}
		checkStock(t, db)
	})
}
