package sqldb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractCreateRoomWithLineup: a room and its lineup are stored in one
// transaction. A lineup naming another tenant's product fails the whole
// write: no room row, no lineup rows, and the slug stays free for the retry.
func TestContractCreateRoomWithLineup(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		rival, err := s.cat.ListProducts(ctx, s.other)
		must(t, err)
		if len(rival) == 0 {
			t.Fatal("the rival shop has no product")
		}
		bad := &live.Room{MerchantID: s.m, Slug: "half", Title: "直播", Status: live.Scheduled, StreamKey: "k1"}
		err = s.live.CreateRoomWithLineup(ctx, bad, []int64{s.product, rival[0].ID})
		if !errors.Is(err, catalog.ErrUnknownProduct) {
			t.Fatalf("lineup with another merchant's product: %v, want unknown_product", err)
		}
		if _, err := s.live.RoomBySlug(ctx, "half"); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("after the failed create the room exists (half a room): %v", err)
		}
		var n int
		must(t, db.QueryRow(ctx, `SELECT count(*) FROM room_products`).Scan(&n))
		if n != 0 {
			t.Fatalf("after the failed create %d lineup rows were left", n)
		}
		ok := &live.Room{MerchantID: s.m, Slug: "half", Title: "直播", Status: live.Scheduled, StreamKey: "k2"}
		must(t, s.live.CreateRoomWithLineup(ctx, ok, []int64{s.product}))
		got, err := s.live.RoomBySlug(ctx, "half")
		must(t, err)
		if len(got.ProductIDs) != 1 || got.ProductIDs[0] != s.product {
			t.Fatalf("lineup = %v, want [%d]", got.ProductIDs, s.product)
		}
		// nil lineup: the room alone
		bare := &live.Room{MerchantID: s.m, Slug: "bare", Title: "直播", Status: live.Scheduled, StreamKey: "k3"}
		must(t, s.live.CreateRoomWithLineup(ctx, bare, nil))
		if got, err := s.live.RoomBySlug(ctx, "bare"); err != nil || len(got.ProductIDs) != 0 {
			t.Fatalf("bare room: %v %v", got, err)
		}
	})
}
