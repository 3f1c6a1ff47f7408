package sqldb_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractWeChatTickets: five callers at once (nodes, on PostgreSQL)
// get one ticket fetched once; an expiring one is fetched again, once.
func TestContractWeChatTickets(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		st := &sqldb.WeChatTicketStore{DB: db}
		var fetched atomic.Int32
		fetch := func(ttl time.Duration) func(context.Context) (string, time.Duration, error) {
			return func(context.Context) (string, time.Duration, error) {
				n := fetched.Add(1)
				time.Sleep(50 * time.Millisecond) // WeChat answering
				return "ticket-" + string(rune('0'+n)), ttl, nil
			}
		}
		var wg sync.WaitGroup
		got := make([]string, 5)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := st.Ticket(ctx, "wx-app", fetch(2*time.Hour))
				must(t, err)
				got[i] = v
			}()
		}
		wg.Wait()
		for _, v := range got {
			if v != "ticket-1" {
				t.Fatalf("tickets %v", got)
			}
		}
		if fetched.Load() != 1 {
			t.Fatalf("fetched %d times", fetched.Load())
		}
		if v, _ := st.Ticket(ctx, "wx-other", fetch(time.Minute)); v != "ticket-2" { // expires within the margin: not kept
			t.Fatalf("other app: %q", v)
		}
		if v, _ := st.Ticket(ctx, "wx-other", fetch(2*time.Hour)); v != "ticket-3" || fetched.Load() != 3 {
			t.Fatalf("refetch: %q after %d fetches", v, fetched.Load())
		}
	})
}
