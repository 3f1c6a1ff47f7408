package coupons

import "sync"

// Allocator hands out one live coupon's budget in memory, as
// flashsale.Allocator does a sale's units: "yours / gone / you have it"
// is a mutex and a map lookup, the database only sees winners, in batches,
// and a claim counts only once its batch committed (a failed commit gives
// it back). The database re-checks the budget in every batch (IssueBatch),
// so even an allocator that outlived its lease cannot over-issue.
type Allocator struct {
	mu        sync.Mutex
	coupon    Coupon
	perUser   map[int64]int64 // customer -> claims held (written or in flight)
	remaining int64
	closed    bool
	inflight  sync.WaitGroup
}

// NewAllocator rebuilds a live coupon's state from the claims each customer
// holds.
func NewAllocator(c Coupon, held map[int64]int64) *Allocator {
	a := &Allocator{coupon: c, perUser: map[int64]int64{}, remaining: c.Units()}
	for cust, n := range held {
		a.perUser[cust] = n
		a.remaining -= n
	}
	a.remaining = max(a.remaining, 0)
	return a
}

// Coupon is the coupon this allocator serves.
func (a *Allocator) Coupon() Coupon { return a.coupon }

// Remaining is how many are left to grab.
func (a *Allocator) Remaining() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.remaining
}

// Take gives the customer one coupon and returns which of theirs it is
// (1-based), or says why not. Every successful Take is followed by Settle.
func (a *Allocator) Take(customer int64) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return 0, ErrNotLive
	}
	if a.perUser[customer] >= a.coupon.PerUserLimit {
		return 0, ErrClaimLimit
	}
	if a.remaining <= 0 {
		return 0, ErrGone
	}
	a.remaining--
	a.perUser[customer]++
	a.inflight.Add(1)
	return a.perUser[customer], nil
}

// GiveBack returns a claim whose batch failed.
func (a *Allocator) GiveBack(customer int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.remaining++
	if a.perUser[customer]--; a.perUser[customer] <= 0 {
		delete(a.perUser, customer)
	}
}

// Settle marks a Take as written (or given back).
func (a *Allocator) Settle() { a.inflight.Done() }

// Close stops new takes and waits until every taken claim is settled.
func (a *Allocator) Close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.inflight.Wait()
}
