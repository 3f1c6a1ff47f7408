package app

import (
	"context"
	"errors"
	"time"

	"github.com/shelflive/shelflive/internal/flashsale"
)

// Leases elect the node that runs cluster-wide work: reservation expiry,
// scheduled flash sales and flash-sale allocation. On one node it is always
// that node.
type Leases interface {
	AcquireLease(ctx context.Context, name, holder, addr string, ttl time.Duration) (bool, string, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// leaderLease is the lease name; leaseTTL bounds a failover.
const (
	leaderLease = "leader"
	leaseTTL    = 5 * time.Second
)

// ErrNotLeader says another node allocates flash sales; Addr is where to
// forward the request.
type ErrNotLeader struct{ Addr string }

func (e *ErrNotLeader) Error() string { return "not the leader; forward to " + e.Addr }

// NotLeader reports whether err asks to forward to the leader, and where.
func NotLeader(err error) (string, bool) {
	var nl *ErrNotLeader
	if errors.As(err, &nl) {
		return nl.Addr, nl.Addr != ""
	}
	return "", false
}

// IsLeader reports whether this node runs cluster-wide work now.
func (a *App) IsLeader() bool { return a.Leases == nil || a.leader.Load() }

func (a *App) notLeader() error {
	if addr := a.leaderAddr.Load(); addr != nil && *addr != "" {
		return &ErrNotLeader{Addr: *addr}
	}
	return flashsale.ErrBusy // no leader known yet: the buyer retries
}

// Campaign runs one election round now (node start calls it before serving).
func (a *App) Campaign(ctx context.Context) { a.campaign(ctx) }

// campaign takes or renews the leader lease; on winning it loads running
// flash sales from the database, on losing it drops its allocators (their
// unwritten orders fail at the commit fence and are given back).
func (a *App) campaign(ctx context.Context) {
	if a.Leases == nil {
		return
	}
	ok, addr, err := a.Leases.AcquireLease(ctx, leaderLease, a.NodeID, a.SelfURL(), leaseTTL)
	if err != nil {
		a.Logger.Warn("leader lease", "err", err)
		ok = false
	}
	a.leaderAddr.Store(&addr)
	was := a.leader.Swap(ok)
	switch {
	case ok && !was:
		a.Logger.Info("this node leads cluster-wide jobs and flash sales", "node", a.NodeID)
		a.loadRunningSales(ctx)
		a.loadLiveCoupons(ctx)
	case !ok && was:
		a.Logger.Warn("lost the leader lease", "node", a.NodeID, "leader", addr)
		e := a.flash()
		e.mu.Lock()
		sales := e.sales
		e.sales = map[int64]*runningSale{}
		e.mu.Unlock()
		for _, rs := range sales {
			go rs.alloc.Close()
		}
		a.dropCoupons()
	}
}
