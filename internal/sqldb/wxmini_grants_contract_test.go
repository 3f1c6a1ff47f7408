package sqldb_test

import (
	"context"
	"maps"
	"sync"
	"testing"

	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractMiniGrants: each accept of a subscribe-message template adds
// one credit for that viewer, mini-program and template, also when answers
// arrive at once; another viewer or appid counts apart; erase drops them.
func TestContractMiniGrants(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		rs := &sqldb.ReminderStore{DB: db}
		a, err := s.ids.UpsertCustomer(ctx, s.m, "13900000201")
		must(t, err)
		b, err := s.ids.UpsertCustomer(ctx, s.m, "13900000202")
		must(t, err)
		must(t, rs.AddMiniGrants(ctx, s.m, a.ID, "wxA", []string{"T-live", "T-ready"}))
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() { defer wg.Done(); must(t, rs.AddMiniGrants(ctx, s.m, a.ID, "wxA", []string{"T-live"})) }()
		}
		wg.Wait()
		must(t, rs.AddMiniGrants(ctx, s.m, b.ID, "wxA", []string{"T-ready"}))
		must(t, rs.AddMiniGrants(ctx, s.m, a.ID, "wxOther", []string{"T-live"}))
		got, err := rs.MiniGrantCredits(ctx, s.m, a.ID, "wxA")
		must(t, err)
		if want := map[string]int{"T-live": 5, "T-ready": 1}; !maps.Equal(got, want) {
			t.Fatalf("a: %v, want %v", got, want)
		}
		if got, _ := rs.MiniGrantCredits(ctx, s.m, b.ID, "wxA"); !maps.Equal(got, map[string]int{"T-ready": 1}) {
			t.Fatalf("b: %v", got)
		}
		must(t, db.EraseCustomer(ctx, s.m, a.ID))
		if got, _ := rs.MiniGrantCredits(ctx, s.m, a.ID, "wxA"); len(got) != 0 {
			t.Fatalf("after erase: %v", got)
		}
	})
}
