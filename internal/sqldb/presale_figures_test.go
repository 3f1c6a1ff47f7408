package sqldb_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestPresaleSettleFigures measures a missed pre-sale's deadline work on
// each database: n buyers commit and pay (dev provider), then Settle
// decides it and CancelPaid cancels and refunds every paid order in
// batches of 100, as the leader does. It prints the figures for
// docs/BENCHMARKS.md and runs only with SHELFLIVE_PRESALE_FIGURES=<n>.
func TestPresaleSettleFigures(t *testing.T) {
	env := os.Getenv("SHELFLIVE_PRESALE_FIGURES")
	if env == "" {
		t.Skip("SHELFLIVE_PRESALE_FIGURES=<orders> runs it")
	}
	var n int
	fmt.Sscan(env, &n)
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		p := newPresale(t, s, int64(n+1), 0, time.Hour)
		p.PerBuyerLimit = 1
		start := time.Now()
		for i := 0; i < n; i++ {
			c, err := s.ids.UpsertCustomer(ctx, s.m, fmt.Sprintf("137%08d", i))
			must(t, err)
			o, err := commitFor(ctx, db, s.m, s.store, c.ID, p, 1, fmt.Sprint("f", i))
			must(t, err)
			must(t, payOrder(ctx, db, o, "dev", fmt.Sprint("fig", i)))
		}
		commitPay := time.Since(start)
		base := db.Now()
		db.Now = func() time.Time { return base.Add(2 * time.Hour) }
		ps := &sqldb.PresaleStore{DB: db}
		start = time.Now()
		got, changed, err := ps.Settle(ctx, s.m, p.ID)
		must(t, err)
		settle := time.Since(start)
		if !changed || got.Committed != int64(n) {
			t.Fatalf("settled %+v", got)
		}
		start = time.Now()
		refunded := 0
		for {
			list, err := ps.CancelPaid(ctx, s.m, p.ID, 100)
			must(t, err)
			if len(list) == 0 {
				break
			}
			refunded += len(list)
		}
		refund := time.Since(start)
		if refunded != n {
			t.Fatalf("refunded %d of %d", refunded, n)
		}
		t.Logf("FIGURES %s: %d orders: commit+pay %.0f/s; settle %v; cancel+refund %v (%.0f orders/s)", db.Dialect, n,
			float64(n)/commitPay.Seconds(), settle.Round(time.Millisecond), refund.Round(time.Millisecond), float64(n)/refund.Seconds())
	})
}
