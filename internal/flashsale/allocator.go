package flashsale

import (
	"sync"

	"github.com/shelflive/shelflive/internal/inventory"
)

// Allocator hands out one running sale's units in memory. It is the hot
// path of a stampede: deciding "you got one / sold out / limit reached" takes
// a mutex and a map lookup, no database round trip. The database only sees
// winners, in batches, and a unit counts as sold only once its order is
// committed; a failed commit gives the unit back.
type Allocator struct {
	mu        sync.Mutex
	sale      Sale
	lots      []Quota         // FEFO order
	perUser   map[int64]int64 // customer -> units held
	remaining int64
	closed    bool
	paused    bool           // a lot of the quota is on hold: no unit is handed out
	inflight  sync.WaitGroup // takes whose orders are not yet committed or given back
}

// NewAllocator rebuilds a sale's state from its quota and live claims.
func NewAllocator(s Sale, quota []Quota, claims []Claim) *Allocator {
	a := &Allocator{sale: s, lots: append([]Quota(nil), quota...), perUser: map[int64]int64{}}
	used := map[int64]int64{}
	for _, c := range claims {
		a.perUser[c.CustomerID] += c.Quantity
		used[c.LotID] += c.Quantity
	}
	for i := range a.lots {
		a.lots[i].Used = used[a.lots[i].LotID]
		a.remaining += a.lots[i].Quantity - a.lots[i].Used
	}
	return a
}

// LotIDs lists the lots of the sale's quota (the lots whose hold pauses it).
func (a *Allocator) LotIDs() []int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]int64, len(a.lots))
	for i, q := range a.lots {
		ids[i] = q.LotID
	}
	return ids
}

// Sale returns the sale this allocator serves.
func (a *Allocator) Sale() Sale { return a.sale }

// Remaining is the number of units no order holds.
func (a *Allocator) Remaining() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.remaining
}

// Holds is how many units the customer holds in this sale (orders written,
// in flight, or not yet expired).
func (a *Allocator) Holds(customer int64) int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.perUser[customer]
}

// Take gives customer qty units or says why not. The per-buyer limit counts
// every unit the buyer holds in this sale.
// Every successful Take must be followed by Settle once its order is
// committed or given back.
func (a *Allocator) Take(customer, qty int64) ([]inventory.Take, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, ErrNotRunning
	}
	if a.paused {
		return nil, ErrPaused
	}
	if a.remaining <= 0 {
		return nil, ErrSoldOut
	}
	if a.perUser[customer]+qty > a.sale.PerUserLimit {
		return nil, ErrLimit
	}
	if a.remaining < qty {
		return nil, ErrSoldOut
	}
	var takes []inventory.Take
	left := qty
	for i := range a.lots {
		free := a.lots[i].Quantity - a.lots[i].Used
		if free <= 0 {
			continue
		}
		n := min(free, left)
		a.lots[i].Used += n
		takes = append(takes, inventory.Take{StoreID: a.lots[i].StoreID, LotID: a.lots[i].LotID, Qty: n})
		left -= n
		if left == 0 {
			break
		}
	}
	a.remaining -= qty
	a.perUser[customer] += qty
	a.inflight.Add(1)
	return takes, nil
}

// SetPaused pauses the sale (a lot of its quota went on hold) or resumes
// it; it reports whether that changed anything.
func (a *Allocator) SetPaused(p bool) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	changed := a.paused != p
	a.paused = p
	return changed
}

// Paused reports whether the sale is paused.
func (a *Allocator) Paused() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.paused
}

// Settle marks a Take's order as written (or given back).
func (a *Allocator) Settle() { a.inflight.Done() }

// Close stops new takes and waits until every taken unit's order is
// settled, so the database sees every order of the sale before it ends.
func (a *Allocator) Close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.inflight.Wait()
}

// GiveBack returns units (a failed commit, or an order that expired or was
// cancelled while the sale runs).
func (a *Allocator) GiveBack(customer int64, takes []inventory.Take) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range takes {
		for i := range a.lots {
			if a.lots[i].LotID == t.LotID {
				a.lots[i].Used -= t.Qty
				a.remaining += t.Qty
				a.perUser[customer] -= t.Qty
				break
			}
		}
	}
	if a.perUser[customer] <= 0 {
		delete(a.perUser, customer)
	}
}
