package flashsale_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shelflive/shelflive/internal/flashsale"
)

// TestAllocatorNoOversellUnderRace: 64 goroutines of 500 buyers race for 100
// units over two lots with a limit of 3; some winners give units back. The
// units handed out never exceed the quota, no buyer exceeds the limit, and
// lots are used earliest-expiry first.
func TestAllocatorNoOversellUnderRace(t *testing.T) {
	sale := flashsale.Sale{ID: 1, Quantity: 100, PerUserLimit: 3}
	a := flashsale.NewAllocator(sale, []flashsale.Quota{{StoreID: 1, LotID: 10, Quantity: 60}, {StoreID: 1, LotID: 11, Quantity: 40}}, nil)
	var held atomic.Int64
	perUser := make([]atomic.Int64, 500)
	var wg sync.WaitGroup
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				buyer := int64((g*200 + i) % 500)
				takes, err := a.Take(buyer, 1+int64(i%2))
				if err != nil {
					continue
				}
				var n int64
				for _, tk := range takes {
					n += tk.Qty
				}
				if i%5 == 0 { // a failed commit or an expired order
					a.GiveBack(buyer, takes)
					a.Settle()
					continue
				}
				a.Settle()
				held.Add(n)
				if perUser[buyer].Add(n) > 3 {
					t.Errorf("buyer %d over the limit", buyer)
				}
			}
		}(g)
	}
	wg.Wait()
	if held.Load() != 100 || a.Remaining() != 0 {
		t.Fatalf("held %d, remaining %d; want 100 and 0", held.Load(), a.Remaining())
	}
	if _, err := a.Take(9999, 1); err != flashsale.ErrSoldOut {
		t.Fatalf("take after sell-out: %v", err)
	}
}

func TestAllocatorRebuildAndClose(t *testing.T) {
	sale := flashsale.Sale{ID: 1, Quantity: 10, PerUserLimit: 2}
	// After a restart: customer 7 already holds 2 units of lot 10.
	a := flashsale.NewAllocator(sale, []flashsale.Quota{{LotID: 10, Quantity: 10}}, []flashsale.Claim{{CustomerID: 7, LotID: 10, Quantity: 2}})
	if a.Remaining() != 8 {
		t.Fatalf("remaining after rebuild = %d, want 8", a.Remaining())
	}
	if _, err := a.Take(7, 1); err != flashsale.ErrLimit {
		t.Fatalf("limit after rebuild: %v", err)
	}
	takes, err := a.Take(8, 2)
	if err != nil || len(takes) != 1 || takes[0].LotID != 10 || takes[0].Qty != 2 {
		t.Fatalf("take: %v %+v", err, takes)
	}
	done := make(chan struct{})
	go func() { a.Close(); close(done) }()
	select {
	case <-done:
		t.Fatal("Close returned while a taken unit was not settled")
	default:
	}
	a.Settle()
	<-done
	if _, err := a.Take(9, 1); err != flashsale.ErrNotRunning {
		t.Fatalf("take after close: %v", err)
	}
}

// TestAllocatorPaused: a paused sale (a lot of its quota on hold) hands out
// nothing and says why; resumed, it sells what it had left.
func TestAllocatorPaused(t *testing.T) {
	a := flashsale.NewAllocator(flashsale.Sale{ID: 1, Quantity: 3, PerUserLimit: 3}, []flashsale.Quota{{StoreID: 1, LotID: 10, Quantity: 3}}, nil)
	if !a.SetPaused(true) || a.SetPaused(true) || !a.Paused() {
		t.Fatal("SetPaused must report a change once")
	}
	if _, err := a.Take(7, 1); err != flashsale.ErrPaused {
		t.Fatalf("take while paused: %v", err)
	}
	if a.Remaining() != 3 || a.Holds(7) != 0 {
		t.Fatalf("a refused take changed the sale: remaining %d", a.Remaining())
	}
	if ids := a.LotIDs(); len(ids) != 1 || ids[0] != 10 {
		t.Fatalf("lot ids %v", ids)
	}
	a.SetPaused(false)
	if _, err := a.Take(7, 1); err != nil {
		t.Fatalf("take after resume: %v", err)
	}
	a.Settle()
}
