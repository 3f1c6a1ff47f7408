package coupons_test

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/coupons"
)

var t0 = time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)

func coupon(c coupons.Coupon) *coupons.Coupon {
	c.ValidFrom, c.ValidUntil = t0.Add(-time.Hour), t0.Add(24*time.Hour)
	if c.PerUserLimit == 0 {
		c.PerUserLimit = 1
	}
	if c.BudgetCount == 0 {
		c.BudgetCount = 100
	}
	return &c
}

func TestSaving(t *testing.T) {
	cart := func(first bool, room int64, fen ...int64) *coupons.Cart {
		c := &coupons.Cart{StoreID: 1, RoomID: room, FirstOrder: first, Now: t0}
		for i, f := range fen {
			c.Lines = append(c.Lines, coupons.Line{ProductID: int64(i + 1), Category: []string{"水果", "乳品"}[i%2], TotalFen: f})
		}
		return c
	}
	for _, tc := range []struct {
		name string
		c    *coupons.Coupon
		cart *coupons.Cart
		want int64
	}{
		{"FixedOff", coupon(coupons.Coupon{Kind: coupons.Fixed, AmountFen: 300}), cart(false, 0, 1280), 300},
		{"FixedNeverFree", coupon(coupons.Coupon{Kind: coupons.Fixed, AmountFen: 2000}), cart(false, 0, 1280), 1279},
		{"ThresholdMet", coupon(coupons.Coupon{Kind: coupons.Threshold, AmountFen: 500, MinSpendFen: 2000}), cart(false, 0, 1280, 800), 500},
		{"ThresholdNotMet", coupon(coupons.Coupon{Kind: coupons.Threshold, AmountFen: 500, MinSpendFen: 2000}), cart(false, 0, 1280), 0},
		{"PercentCapped", coupon(coupons.Coupon{Kind: coupons.Percent, PercentOff: 20, MaxOffFen: 300}), cart(false, 0, 5000), 300},
		{"Percent", coupon(coupons.Coupon{Kind: coupons.Percent, PercentOff: 20, MaxOffFen: 3000}), cart(false, 0, 1280), 256},
		{"NewcomerFirst", coupon(coupons.Coupon{Kind: coupons.Newcomer, AmountFen: 500}), cart(true, 0, 1280), 500},
		{"NewcomerNotFirst", coupon(coupons.Coupon{Kind: coupons.Newcomer, AmountFen: 500}), cart(false, 0, 1280), 0},
		{"RoomOnlyInRoom", coupon(coupons.Coupon{Kind: coupons.RoomOnly, RoomID: 7, AmountFen: 400}), cart(false, 7, 1280), 400},
		{"RoomOnlyElsewhere", coupon(coupons.Coupon{Kind: coupons.RoomOnly, RoomID: 7, AmountFen: 400}), cart(false, 8, 1280), 0},
		{"ScopeProduct", coupon(coupons.Coupon{Kind: coupons.Fixed, AmountFen: 2000, Scope: coupons.Scope{ProductIDs: []int64{2}}}), cart(false, 0, 1280, 800), 800},
		{"ScopeCategory", coupon(coupons.Coupon{Kind: coupons.Percent, PercentOff: 50, MaxOffFen: 9999, Scope: coupons.Scope{Categories: []string{"水果"}}}), cart(false, 0, 1280, 800), 640},
		{"ScopeOtherStore", coupon(coupons.Coupon{Kind: coupons.Fixed, AmountFen: 100, Scope: coupons.Scope{StoreIDs: []int64{2}}}), cart(false, 0, 1280), 0},
		{"FlashSale", coupon(coupons.Coupon{Kind: coupons.Fixed, AmountFen: 100}), &coupons.Cart{FlashSale: true, Now: t0, Lines: []coupons.Line{{TotalFen: 990}}}, 0},
		{"Expired", func() *coupons.Coupon {
			c := coupon(coupons.Coupon{Kind: coupons.Fixed, AmountFen: 100})
			c.ValidUntil = t0
			return c
		}(), cart(false, 0, 1280), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Saving(tc.cart); got != tc.want {
				t.Fatalf("saving %d, want %d", got, tc.want)
			}
		})
	}
}

func TestBestPicksOneAndOnlyIssued(t *testing.T) {
	c1 := coupon(coupons.Coupon{Kind: coupons.Fixed, AmountFen: 300})
	c2 := coupon(coupons.Coupon{Kind: coupons.Percent, PercentOff: 30, MaxOffFen: 1000})
	cart := &coupons.Cart{Now: t0, Lines: []coupons.Line{{ProductID: 1, TotalFen: 2000}}}
	wallet := []coupons.Claim{{ID: 1, Status: coupons.ClaimIssued, Coupon: c1}, {ID: 2, Status: coupons.ClaimUsed, Coupon: c2}, {ID: 3, Status: coupons.ClaimIssued, Coupon: c2}}
	best, opts := coupons.Best(cart, wallet)
	if best == nil || best.ClaimID != 3 || best.SavedFen != 600 || len(opts) != 2 {
		t.Fatalf("best %+v of %d options", best, len(opts))
	}
	if b, _ := coupons.Best(cart, wallet[1:2]); b != nil {
		t.Fatal("a used claim was offered")
	}
}

func TestValidateAndUnits(t *testing.T) {
	c := coupon(coupons.Coupon{Kind: coupons.Percent, Title: "八折", PercentOff: 20, MaxOffFen: 500, BudgetCount: 1000, BudgetFen: 10_000})
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Units() != 20 {
		t.Fatalf("money budget 100 元 / 5 元 max each: %d units, want 20", c.Units())
	}
	bad := coupon(coupons.Coupon{Kind: coupons.Threshold, Title: "满减", AmountFen: 500, MinSpendFen: 400})
	if err := bad.Validate(); !errors.Is(err, coupons.ErrMinSpend) {
		t.Fatalf("threshold below the amount: %v", err)
	}
	room := coupon(coupons.Coupon{Kind: coupons.RoomOnly, Title: "专享", AmountFen: 500})
	if err := room.Validate(); !errors.Is(err, coupons.ErrRoomRequired) {
		t.Fatalf("room-only without a room: %v", err)
	}
}

// TestAllocatorNeverOverIssues: many goroutines take, some batches fail
// and give back; at the end the claims written never exceed the budget and
// nobody holds more than the limit.
func TestAllocatorNeverOverIssues(t *testing.T) {
	for _, limit := range []int64{1, 3} {
		c := coupon(coupons.Coupon{Kind: coupons.Fixed, AmountFen: 100, BudgetCount: 500, PerUserLimit: limit})
		a := coupons.NewAllocator(*c, map[int64]int64{7: 1})
		var written atomic.Int64
		var mu sync.Mutex
		held := map[int64]int64{7: 1}
		var wg sync.WaitGroup
		for g := range 64 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 2))
				for range 200 {
					cust := int64(rng.IntN(300))
					if _, err := a.Take(cust); err != nil {
						continue
					}
					if rng.IntN(10) == 0 { // the batch failed
						a.GiveBack(cust)
					} else {
						written.Add(1)
						mu.Lock()
						held[cust]++
						mu.Unlock()
					}
					a.Settle()
				}
			})
		}
		wg.Wait()
		a.Close()
		if written.Load()+1 > 500 || a.Remaining() != 500-written.Load()-1 {
			t.Fatalf("limit %d: %d written (+1 before), %d remaining of 500", limit, written.Load(), a.Remaining())
		}
		for cust, n := range held {
			if n > limit {
				t.Fatalf("customer %d holds %d, limit %d", cust, n, limit)
			}
		}
		if _, err := a.Take(1000); !errors.Is(err, coupons.ErrNotLive) {
			t.Fatalf("take after close: %v", err)
		}
	}
}

// BenchmarkAllocatorTake: the hot path of a grab, all cores at once.
func BenchmarkAllocatorTake(b *testing.B) {
	c := coupon(coupons.Coupon{Kind: coupons.Fixed, AmountFen: 100, BudgetCount: 1_000_000, PerUserLimit: 1})
	a := coupons.NewAllocator(*c, nil)
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Take(next.Add(1)); err == nil {
				a.Settle()
			}
		}
	})
}
