package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/freshness"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractClearance: rules round-trip (defaults until saved); sellable
// lots leave out held, expired, reserved-out and other tenants' stock; the
// waste-saved report counts paid units of a session's flash sale, their
// grams and money, per store and storage class.
func TestContractClearance(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		cs := &sqldb.ClearanceStore{DB: db}
		rs, err := cs.Rules(ctx, s.m)
		must(t, err)
		if len(rs) != len(freshness.DefaultRules()) {
			t.Fatalf("rules before saving: %+v", rs)
		}
		mine := freshness.Rules{{Storage: catalog.Chilled, LeadHours: 36, FloorPercent: 30, Ladder: []freshness.Step{{HoursLeft: 36, Percent: 70}, {HoursLeft: 12, Percent: 40}}}}
		must(t, mine.Validate())
		must(t, cs.SaveRules(ctx, s.m, mine))
		rs, _ = cs.Rules(ctx, s.m)
		if len(rs) != 1 || rs[0].LeadHours != 36 || rs[0].Ladder[1].Percent != 40 {
			t.Fatalf("saved rules %+v", rs)
		}
		if other, _ := cs.Rules(ctx, s.other); len(other) != 3 {
			t.Fatalf("another merchant sees our rules: %+v", other)
		}

		now := db.Now()
		near := s.lot(t, s.m, s.sku, s.store, "NEAR", 20*time.Hour, 6)
		held := s.lot(t, s.m, s.sku, s.store, "HELD", 10*time.Hour, 4)
		must(t, s.inv.SetHold(ctx, s.m, held, true, "test"))
		s.lot(t, s.m, s.sku, s.store, "LATER", 30*24*time.Hour, 9)
		s.lot(t, s.other, s.otherSKU, s.otherStore, "THEIRS", 10*time.Hour, 3)
		lots, err := cs.SellableLots(ctx, s.m, 0, now, now.Add(48*time.Hour))
		must(t, err)
		if len(lots) != 1 || lots[0].LotID != near || lots[0].Available != 6 || lots[0].RegularFen != price || lots[0].StoreID != s.store {
			t.Fatalf("sellable lots %+v, want only NEAR with 6", lots)
		}

		fs, sale := s.newSale(t, 6)
		_, err = fs.Start(ctx, s.m, sale.ID, fefo(6, now))
		must(t, err)
		sess := &freshness.Session{MerchantID: s.m, RoomID: sale.RoomID, StoreID: s.store, StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "t",
			Items: []freshness.Item{{SaleID: sale.ID, SKUID: s.sku, ProductID: s.product, Storage: catalog.Chilled, RegularFen: price, PriceFen: 990, Quantity: 6, GramsEach: 500, ExpiresAt: now.Add(20 * time.Hour)}}}
		must(t, cs.CreateSession(ctx, sess))
		paid := s.flashOrder(sale, s.cust, "k1", "h1", near, 2)
		c2, err := s.ids.UpsertCustomer(ctx, s.m, "13900000002")
		must(t, err)
		unpaid := s.flashOrder(sale, c2.ID, "k2", "h2", near, 1)
		must(t, fs.CreateBatch(ctx, []*flashsale.PendingOrder{paid, unpaid}))
		must(t, db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE orders SET status = 'paid' WHERE id = ?`, paid.Order.ID)
			return err
		}))
		rows, err := cs.WasteSaved(ctx, s.m, now.Add(-time.Hour), now.Add(time.Hour))
		must(t, err)
		if len(rows) != 1 {
			t.Fatalf("report rows %+v", rows)
		}
		r := rows[0]
		if r.StoreID != s.store || r.Storage != catalog.Chilled || r.Sessions != 1 || r.Offered != 6 || r.UnitsSold != 2 || r.GramsSold != 1000 || r.RevenueFen != 1980 || r.RegularFen != 2*price {
			t.Fatalf("report %+v", r)
		}
		if rows, _ := cs.WasteSaved(ctx, s.other, now.Add(-time.Hour), now.Add(time.Hour)); len(rows) != 0 {
			t.Fatalf("another merchant's report shows our session: %+v", rows)
		}
	})
}
