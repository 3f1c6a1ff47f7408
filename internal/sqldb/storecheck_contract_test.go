package sqldb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/stores"
)

// TestContractStoreCheck: every write that names a store checks it is the
// merchant's the same way. Another tenant's store is "unknown store"; a
// database failure during the check is an internal error, never "unknown
// store" (three of the four writes used to turn an outage into bad input).
func TestContractStoreCheck(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		lot := s.lot(t, s.m, s.sku, s.store, "L1", 48*time.Hour, 10)
		room := &live.Room{MerchantID: s.m, Slug: "room", Title: "直播"}
		must(t, s.live.CreateRoom(ctx, room))
		cc := &sqldb.ColdChainStore{DB: db}
		fs := &sqldb.FlashStore{DB: db}
		now := db.Now()
		writes := map[string]func(store int64) error{
			"SetStock": func(store int64) error { return s.inv.SetStock(ctx, s.m, store, lot, 5) },
			"CreateLocation": func(store int64) error {
				return cc.CreateLocation(ctx, &coldchain.Location{MerchantID: s.m, Name: "冷柜", Kind: "fridge", Class: "chilled", StoreID: store})
			},
			"FlashStore.Create": func(store int64) error {
				return fs.Create(ctx, &flashsale.Sale{MerchantID: s.m, RoomID: room.ID, SKUID: s.sku, StoreID: store, PriceFen: 990, Quantity: 1, PerUserLimit: 1,
					StartsAt: now.Add(time.Hour), EndsAt: now.Add(2 * time.Hour)})
			},
			"OrderStore.Create": func(store int64) error {
				o := &order.Order{MerchantID: s.m, CustomerID: s.cust, Fulfilment: order.Pickup, StoreID: store, ReserveExpiresAt: now.Add(time.Hour)}
				_, err := s.orders.Create(ctx, o, []order.Item{{SKUID: s.sku, Quantity: 1}})
				return err
			},
		}
		for name, write := range writes {
			if err := write(s.otherStore); !errors.Is(err, stores.ErrUnknownStore) {
				t.Errorf("%s with another merchant's store: %v, want unknown_store", name, err)
			}
		}
		// An outage of the stores table: the check's query fails.
		drop := `ALTER TABLE stores RENAME TO stores_gone`
		if db.Dialect == sqldb.Postgres {
			drop = `DROP TABLE stores CASCADE` // a rename would not fail statements PostgreSQL already planned
		}
		must(t, db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, drop)
			return err
		}))
		for name, write := range writes {
			err := write(s.store)
			if err == nil || errors.Is(err, stores.ErrUnknownStore) || apperr.As(err).Kind != apperr.Internal {
				t.Errorf("%s while the stores table is unreadable: %v, want an internal error", name, err)
			}
		}
	})
}

// TestContractLookupOutage: a lookup that finds no row answers in the
// domain's words (unknown SKU, pickup code, lot code, store); the same
// lookup during a database failure is an internal error, never that bad
// input. Each of these once turned any error into the domain's answer.
func TestContractLookupOutage(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		cc := &sqldb.ColdChainStore{DB: db}
		pickup := &sqldb.PickupStore{DB: db}
		now := db.Now()
		lookups := []struct {
			name   string
			absent error
			run    func() error
		}{
			{"InventoryStore.CreateLot", catalog.ErrUnknownSKU, func() error {
				return s.inv.CreateLot(ctx, &inventory.Lot{MerchantID: s.m, SKUID: s.otherSKU, Code: "L9", ProducedAt: now, ExpiresAt: now.Add(48 * time.Hour)})
			}},
			{"OrderStore.ByPickupCode", order.ErrBadPickupCode, func() error {
				_, err := s.orders.ByPickupCode(ctx, s.m, "999999")
				return err
			}},
			{"ColdChainStore.LotByPublicCode", coldchain.ErrLotNotFound, func() error {
				_, _, err := cc.LotByPublicCode(ctx, "nosuchcode")
				return err
			}},
			{"PickupStore.SlotsOf", stores.ErrUnknownStore, func() error {
				_, _, err := pickup.SlotsOf(ctx, stores.PickupSlots, s.m, s.otherStore, now)
				return err
			}},
		}
		for _, l := range lookups {
			if err := l.run(); !errors.Is(err, l.absent) {
				t.Errorf("%s of another merchant's or no row: %v, want %v", l.name, err, l.absent)
			}
		}
		// An outage of the tables the lookups read.
		must(t, db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			for _, table := range []string{"skus", "orders", "cc_lot_codes", "stores"} {
				drop := `ALTER TABLE ` + table + ` RENAME TO ` + table + `_gone`
				if db.Dialect == sqldb.Postgres {
					drop = `DROP TABLE ` + table + ` CASCADE` // a rename would not fail statements PostgreSQL already planned
				}
				if _, err := tx.Exec(ctx, drop); err != nil {
					return err
				}
			}
			return nil
		}))
		for _, l := range lookups {
			err := l.run()
			if err == nil || errors.Is(err, l.absent) || apperr.As(err).Kind != apperr.Internal {
				t.Errorf("%s while its table is unreadable: %v, want an internal error", l.name, err)
			}
		}
	})
}
