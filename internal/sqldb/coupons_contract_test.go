package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
)

func newCoupon(t testing.TB, s *shop, cs *sqldb.CouponStore, c coupons.Coupon) *coupons.Coupon {
	t.Helper()
	c.MerchantID = s.m
	if c.PerUserLimit == 0 {
		c.PerUserLimit = 1
	}
	if c.ValidFrom.IsZero() {
		c.ValidFrom, c.ValidUntil = s.db.Now().Add(-time.Minute), s.db.Now().Add(24*time.Hour)
	}
	must(t, c.Validate())
	must(t, cs.Create(context.Background(), &c))
	ok, err := cs.SetStatus(context.Background(), s.m, c.ID, coupons.Draft, coupons.Live)
	must(t, err)
	if !ok {
		t.Fatal("push: not a draft")
	}
	return &c
}

// TestContractCoupons: the database's own guards behind the allocator —
// a batch that would pass the budget writes nothing, a person's claim
// number is unique; the checkout applies the best coupon once and only
// once; a cancel returns it, an expired window voids it; another tenant
// sees nothing.
func TestContractCoupons(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		s.lot(t, s.m, s.sku, s.store, "C1", 72*time.Hour, 100)
		cs := &sqldb.CouponStore{DB: db}
		c := newCoupon(t, s, cs, coupons.Coupon{Kind: coupons.Fixed, Title: "立减3元", AmountFen: 300, BudgetCount: 3})

		var custs []int64
		for i := range 5 {
			cu, err := s.ids.UpsertCustomer(ctx, s.m, fmt.Sprintf("1391111%04d", i))
			must(t, err)
			custs = append(custs, cu.ID)
		}
		// A batch of 4 for a budget of 3 writes nothing.
		var batch []*coupons.Grab
		for _, cu := range custs[:4] {
			batch = append(batch, &coupons.Grab{MerchantID: s.m, CouponID: c.ID, CustomerID: cu, Seq: 1})
		}
		if err := cs.IssueBatch(ctx, batch); !errors.Is(err, coupons.ErrGone) {
			t.Fatalf("over-budget batch: %v", err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM coupon_claims`); n != 0 {
			t.Fatalf("over-budget batch left %d claims", n)
		}
		// A repeated claim number fails alone.
		batch = []*coupons.Grab{{MerchantID: s.m, CouponID: c.ID, CustomerID: s.cust, Seq: 1}, {MerchantID: s.m, CouponID: c.ID, CustomerID: s.cust, Seq: 1}}
		must(t, cs.IssueBatch(ctx, batch))
		if batch[0].Err != nil || !errors.Is(batch[1].Err, coupons.ErrClaimLimit) {
			t.Fatalf("duplicate claim: %v / %v", batch[0].Err, batch[1].Err)
		}
		// The checkout takes the best coupon: 12.80 − 3.00.
		o := s.newOrder("k1", "h1")
		created, err := s.orders.Create(ctx, o, []order.Item{{SKUID: s.sku, Quantity: 1}})
		must(t, err)
		if !created || o.DiscountFen != 300 || o.TotalFen != price-300 || o.CouponClaimID != batch[0].Claim.ID {
			t.Fatalf("order with coupon: %+v", o)
		}
		// A second order finds no coupon left: applied once.
		o2 := s.buy(t, 1)
		if o2.DiscountFen != 0 || o2.TotalFen != price {
			t.Fatalf("second order took a coupon again: %+v", o2)
		}
		// Naming a used claim is refused.
		o3 := s.newOrder("k3", "h3")
		o3.CouponPick = fmt.Sprint(batch[0].Claim.ID)
		if _, err := s.orders.Create(ctx, o3, []order.Item{{SKUID: s.sku, Quantity: 1}}); !errors.Is(err, coupons.ErrNotApplicable) {
			t.Fatalf("used claim named again: %v", err)
		}
		// A retry with the same key returns the same order, coupon unchanged.
		again := s.newOrder("k1", "h1")
		if created, err := s.orders.Create(ctx, again, []order.Item{{SKUID: s.sku, Quantity: 1}}); err != nil || created || again.ID != o.ID || again.DiscountFen != 300 {
			t.Fatalf("retry: created=%v err=%v %+v", created, err, again)
		}
		// Cancel while valid: the claim goes back to the wallet.
		_, err = s.move(ctx, o.ID, order.Cancelled)
		must(t, err)
		w, err := cs.Wallet(ctx, s.m, s.cust)
		must(t, err)
		if len(w) != 1 || w[0].Status != coupons.ClaimIssued || w[0].OrderID != 0 {
			t.Fatalf("wallet after cancel: %+v", w)
		}
		// Paid, then cancelled after the window: void.
		o4 := s.buy(t, 1)
		if o4.DiscountFen != 300 {
			t.Fatalf("returned coupon not applied again: %+v", o4)
		}
		_, err = s.orders.Transition(ctx, s.m, o4.ID, order.Paid)
		must(t, err)
		later := db.Now().Add(48 * time.Hour)
		db.Now = func() time.Time { return later }
		cancelled, err := s.move(ctx, o4.ID, order.Cancelled)
		must(t, err)
		if cancelled.RefundedFen != price-300 {
			t.Fatalf("refund of a paid coupon order: %d, want what was paid %d", cancelled.RefundedFen, price-300)
		}
		w, _ = cs.Wallet(ctx, s.m, s.cust)
		if w[0].Status != coupons.ClaimVoid {
			t.Fatalf("claim after a cancel past its window: %s", w[0].Status)
		}
		rep, err := cs.Report(ctx, s.m, 0)
		must(t, err)
		if len(rep) != 1 || rep[0].Issued != 1 || rep[0].Returned != 2 || rep[0].Void != 1 {
			t.Fatalf("report: %+v", rep)
		}
		// Another tenant sees nothing.
		if _, err := cs.Get(ctx, s.other, c.ID); err == nil {
			t.Fatal("another tenant read the coupon")
		}
		if w, _ := cs.Wallet(ctx, s.other, s.cust); len(w) != 0 {
			t.Fatal("another tenant's wallet view")
		}
	})
}

// TestCouponProperties runs random sequences of grabs (in random batches,
// some over budget, some repeated), orders with the best coupon or a named
// one, payments, cancels and clock jumps, and checks after every step:
// never more claims than the budget or than a person's limit, issued equals
// the claims, no claim used by two live orders, every used claim's order
// carries its saving, and a claim is void only past its window.
func TestCouponProperties(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		s.lot(t, s.m, s.sku, s.store, "P1", 30*24*time.Hour, 10000)
		cs := &sqldb.CouponStore{DB: db}
		now := db.Now()
		db.Now = func() time.Time { return now }
		room := &live.Room{MerchantID: s.m, Slug: "cp-room", Title: "券"}
		must(t, s.live.CreateRoom(ctx, room))
		list := []*coupons.Coupon{
			newCoupon(t, s, cs, coupons.Coupon{Kind: coupons.Fixed, Title: "立减2元", AmountFen: 200, BudgetCount: 7, PerUserLimit: 2}),
			newCoupon(t, s, cs, coupons.Coupon{Kind: coupons.Threshold, Title: "满20减5", AmountFen: 500, MinSpendFen: 2000, BudgetCount: 50, BudgetFen: 2000}),
			newCoupon(t, s, cs, coupons.Coupon{Kind: coupons.Percent, Title: "九折", PercentOff: 10, MaxOffFen: 300, BudgetCount: 5, ValidFrom: now, ValidUntil: now.Add(2 * time.Hour)}),
			newCoupon(t, s, cs, coupons.Coupon{Kind: coupons.RoomOnly, Title: "直播专享", RoomID: room.ID, AmountFen: 400, BudgetCount: 4}),
		}
		var custs []int64
		for i := range 8 {
			cu, err := s.ids.UpsertCustomer(ctx, s.m, fmt.Sprintf("1392222%04d", i))
			must(t, err)
			custs = append(custs, cu.ID)
		}
		rng := rand.New(rand.NewPCG(18, 1))
		seq := map[[2]int64]int64{}
		var orders []int64
		for step := range 300 {
			switch k := rng.IntN(10); {
			case k < 4: // a batch of grabs, written concurrently with another
				var wg sync.WaitGroup
				for range 2 {
					var batch []*coupons.Grab
					for range 1 + rng.IntN(6) {
						c := list[rng.IntN(len(list))]
						cu := custs[rng.IntN(len(custs))]
						key := [2]int64{c.ID, cu}
						seq[key]++
						if seq[key] > c.PerUserLimit+1 {
							seq[key] = 1 // try a number already held
						}
						batch = append(batch, &coupons.Grab{MerchantID: s.m, CouponID: c.ID, CustomerID: cu, Seq: seq[key]})
					}
					wg.Go(func() { cs.IssueBatch(ctx, batch) })
				}
				wg.Wait()
			case k < 7: // an order, best coupon or a named one
				cu := custs[rng.IntN(len(custs))]
				o := &order.Order{MerchantID: s.m, CustomerID: cu, Fulfilment: order.Pickup, StoreID: s.store, ContactPhone: "13812345678",
					ReserveExpiresAt: now.Add(15 * time.Minute)}
				if rng.IntN(3) == 0 {
					o.RoomID = room.ID
				}
				if rng.IntN(4) == 0 {
					o.CouponPick = fmt.Sprint(1 + rng.IntN(40))
				}
				_, err := s.orders.Create(ctx, o, []order.Item{{SKUID: s.sku, Quantity: int64(1 + rng.IntN(3))}})
				if err == nil {
					orders = append(orders, o.ID)
				} else if !errors.Is(err, coupons.ErrNotApplicable) {
					t.Fatalf("step %d: order: %v", step, err)
				}
			case k < 8 && len(orders) > 0: // pay
				s.orders.Transition(ctx, s.m, orders[rng.IntN(len(orders))], order.Paid)
			case k < 9 && len(orders) > 0: // cancel (refund when paid)
				s.move(ctx, orders[rng.IntN(len(orders))], order.Cancelled)
			default: // time passes
				now = now.Add(time.Duration(rng.IntN(60)) * time.Minute)
			}
			checkCoupons(t, db, step)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM orders WHERE discount_fen > 0`); n == 0 {
			t.Fatal("no order ever used a coupon: the property test tested nothing")
		}
	})
}

func checkCoupons(t *testing.T, db *sqldb.DB, step int) {
	t.Helper()
	for _, q := range []struct{ what, sql string }{
		{"claims beyond the budget", `SELECT COUNT(*) FROM coupons c WHERE (SELECT COUNT(*) FROM coupon_claims cl WHERE cl.coupon_id = c.id) > c.units`},
		{"issued differs from the claims", `SELECT COUNT(*) FROM coupons c WHERE (SELECT COUNT(*) FROM coupon_claims cl WHERE cl.coupon_id = c.id) <> c.issued`},
		{"people over their limit", `SELECT COUNT(*) FROM (SELECT cl.customer_id FROM coupon_claims cl JOIN coupons c ON c.id = cl.coupon_id GROUP BY cl.coupon_id, cl.customer_id, c.per_user_limit HAVING COUNT(*) > c.per_user_limit) x`},
		{"a claim on two live orders", `SELECT COUNT(*) FROM (SELECT coupon_claim_id FROM orders WHERE coupon_claim_id IS NOT NULL AND status NOT IN ('cancelled', 'expired') GROUP BY coupon_claim_id HAVING COUNT(*) > 1) x`},
		{"a used claim whose order is not live", `SELECT COUNT(*) FROM coupon_claims cl JOIN orders o ON o.id = cl.order_id WHERE cl.status = 'used' AND (o.status IN ('cancelled', 'expired') OR o.coupon_claim_id <> cl.id OR o.discount_fen <> cl.saved_fen)`},
		{"a live order with a saving but no used claim", `SELECT COUNT(*) FROM orders o WHERE o.discount_fen > 0 AND o.draw_id IS NULL AND o.status NOT IN ('cancelled', 'expired') AND NOT EXISTS (SELECT 1 FROM coupon_claims cl WHERE cl.order_id = o.id AND cl.status = 'used')`},
		{"a cancelled order still holding its claim", `SELECT COUNT(*) FROM coupon_claims cl JOIN orders o ON o.id = cl.order_id WHERE o.status IN ('cancelled', 'expired')`},
		{"a refund beyond what was paid", `SELECT COUNT(*) FROM orders WHERE refunded_fen > total_fen OR total_fen < 1`},
		// used_at of a void claim is when it was voided
		{"a claim voided inside its window", `SELECT COUNT(*) FROM coupon_claims cl JOIN coupons c ON c.id = cl.coupon_id WHERE cl.status = 'void' AND (cl.used_at IS NULL OR cl.used_at < c.valid_until)`},
		{"a returned claim still marked used", `SELECT COUNT(*) FROM coupon_claims WHERE status = 'issued' AND (order_id IS NOT NULL OR used_at IS NOT NULL)`},
	} {
		if n := count(t, db, q.sql); n != 0 {
			t.Fatalf("step %d: %s: %d", step, q.what, n)
		}
	}
}

// TestContractCouponListStore: List with a store keeps that store's rooms'
// coupons and the whole-shop coupons whose scope names no store (store_ids
// absent, null or empty) or names it, before the cap: 205 newer coupons of
// another store's room, the brand's room and a whole-shop coupon only for
// another store do not crowd them out. Another merchant's are never listed.
func TestContractCouponListStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		cs := &sqldb.CouponStore{DB: db}
		room := func(slug string, store int64) int64 {
			r := &live.Room{MerchantID: s.m, Slug: slug, Title: "直播 " + slug, StoreID: store}
			must(t, s.live.CreateRoom(ctx, r))
			return r.ID
		}
		mine, other := s.store, s.shipper
		myRoom, otherRoom, brandRoom := room("mine", mine), room("other", other), room("brand", 0)
		rivalRoom := &live.Room{MerchantID: s.other, Slug: "rival", Title: "别家直播", StoreID: s.otherStore}
		must(t, s.live.CreateRoom(ctx, rivalRoom))
		mk := func(roomID int64, storeIDs []int64) int64 {
			return newCoupon(t, s, cs, coupons.Coupon{RoomID: roomID, Kind: coupons.Fixed, Title: "立减1元", AmountFen: 100, BudgetCount: 5, Scope: coupons.Scope{StoreIDs: storeIDs}}).ID
		}
		var want []int64 // newest first
		keep := func(id int64) { want = append([]int64{id}, want...) }
		keep(mk(myRoom, nil))
		keep(mk(0, nil))           // "store_ids": null
		keep(mk(0, []int64{}))     // "store_ids": []
		keep(mk(0, []int64{mine})) // this store
		keep(mk(0, []int64{other, mine}))
		bare := mk(0, nil)
		must(t, db.WriteTx(ctx, func(tx *sqldb.Tx) error { // no store_ids at all
			_, err := tx.Exec(ctx, `UPDATE coupons SET scope = '{}' WHERE id = ?`, bare)
			return err
		}))
		keep(bare)
		rival := &coupons.Coupon{MerchantID: s.other, RoomID: rivalRoom.ID, Kind: coupons.Fixed, Title: "别家券", AmountFen: 100, BudgetCount: 5, PerUserLimit: 1,
			ValidFrom: db.Now().Add(-time.Minute), ValidUntil: db.Now().Add(time.Hour)}
		must(t, cs.Create(ctx, rival))
		for i := range 205 {
			switch i % 3 {
			case 0:
				mk(otherRoom, nil)
			case 1:
				mk(brandRoom, nil)
			default:
				mk(0, []int64{other})
			}
		}
		ids := func(list []coupons.Coupon, err error) []int64 {
			t.Helper()
			must(t, err)
			out := []int64{}
			for _, c := range list {
				out = append(out, c.ID)
			}
			return out
		}
		if got := ids(cs.List(ctx, s.m, coupons.ListFilter{StoreID: mine})); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("the store's coupons %v, want %v", got, want)
		}
		if got := ids(cs.List(ctx, s.m, coupons.ListFilter{StoreID: mine, RoomID: myRoom})); fmt.Sprint(got) != fmt.Sprint(want[len(want)-1:]) {
			t.Errorf("the store's room's coupons %v, want %v", got, want[len(want)-1:])
		}
		if got := ids(cs.List(ctx, s.m, coupons.ListFilter{StoreID: other, RoomID: myRoom})); len(got) != 0 {
			t.Errorf("another store's room, filtered by store: %v", got)
		}
		if got := ids(cs.List(ctx, s.m, coupons.ListFilter{})); len(got) != coupons.ListMax || got[0] <= want[0] {
			t.Errorf("every coupon: %d, newest %v; want the newest %d", len(got), got[:1], coupons.ListMax)
		}
		if got := ids(cs.List(ctx, s.other, coupons.ListFilter{StoreID: mine})); len(got) != 0 {
			t.Errorf("another merchant's list with this store: %v", got)
		}
		if got := ids(cs.List(ctx, s.other, coupons.ListFilter{StoreID: s.otherStore})); fmt.Sprint(got) != fmt.Sprint([]int64{rival.ID}) {
			t.Errorf("the rival's store: %v, want [%d]", got, rival.ID)
		}
	})
}

// TestContractCouponListLive: List with LiveAt keeps the room's live
// coupons whose window has not ended at that time, before the cap: a
// room's older live card is listed under 205 newer drafts and ended
// coupons of the same room; an expired card still marked live, another
// room's live card and another merchant's are not.
func TestContractCouponListLive(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		cs := &sqldb.CouponStore{DB: db}
		room := func(merchant int64, slug string) int64 {
			r := &live.Room{MerchantID: merchant, Slug: slug, Title: "直播 " + slug}
			must(t, s.live.CreateRoom(ctx, r))
			return r.ID
		}
		cards, elsewhere := room(s.m, "cards"), room(s.m, "elsewhere")
		now := db.Now()
		mk := func(roomID int64) *coupons.Coupon { // pushed: live
			return newCoupon(t, s, cs, coupons.Coupon{RoomID: roomID, Kind: coupons.Fixed, Title: "立减1元", AmountFen: 100, BudgetCount: 5})
		}
		older := mk(cards)
		expired := newCoupon(t, s, cs, coupons.Coupon{RoomID: cards, Kind: coupons.Fixed, Title: "过期券", AmountFen: 100, BudgetCount: 5,
			ValidFrom: now.Add(-2 * time.Hour), ValidUntil: now.Add(-time.Minute)})
		mk(elsewhere)
		rival := &coupons.Coupon{MerchantID: s.other, RoomID: room(s.other, "rival"), Kind: coupons.Fixed, Title: "别家券", AmountFen: 100, BudgetCount: 5, PerUserLimit: 1,
			ValidFrom: now.Add(-time.Minute), ValidUntil: now.Add(time.Hour)}
		must(t, cs.Create(ctx, rival))
		_, err := cs.SetStatus(ctx, s.other, rival.ID, coupons.Draft, coupons.Live)
		must(t, err)
		for i := range 205 {
			if i%2 == 0 { // a draft
				c := coupons.Coupon{MerchantID: s.m, RoomID: cards, Kind: coupons.Fixed, Title: "备用券", AmountFen: 100, BudgetCount: 5, PerUserLimit: 1,
					ValidFrom: now.Add(-time.Minute), ValidUntil: now.Add(time.Hour)}
				must(t, cs.Create(ctx, &c))
				continue
			}
			c := mk(cards)
			ok, err := cs.SetStatus(ctx, s.m, c.ID, coupons.Live, coupons.Closed)
			must(t, err)
			if !ok {
				t.Fatal("end: not live")
			}
		}
		newest := mk(cards)
		ids := func(list []coupons.Coupon, err error) string {
			t.Helper()
			must(t, err)
			out := []int64{}
			for _, c := range list {
				out = append(out, c.ID)
			}
			return fmt.Sprint(out)
		}
		if got, want := ids(cs.List(ctx, s.m, coupons.ListFilter{RoomID: cards, LiveAt: now})), fmt.Sprint([]int64{newest.ID, older.ID}); got != want {
			t.Errorf("the room's live cards %v, want %v (not the expired %d)", got, want, expired.ID)
		}
		if got, want := ids(cs.List(ctx, s.m, coupons.ListFilter{RoomID: cards, LiveAt: now.Add(-2 * time.Minute)})), fmt.Sprint([]int64{newest.ID, expired.ID, older.ID}); got != want {
			t.Errorf("the room's live cards before the expiry %v, want %v", got, want)
		}
		if got, want := ids(cs.List(ctx, s.other, coupons.ListFilter{RoomID: cards, LiveAt: now})), "[]"; got != want {
			t.Errorf("another merchant's live cards of this room %v", got)
		}
		if got := ids(cs.List(ctx, s.m, coupons.ListFilter{RoomID: cards})); got == fmt.Sprint([]int64{newest.ID, older.ID}) {
			t.Errorf("without LiveAt the list should keep every status: %v", got)
		}
	})
}
