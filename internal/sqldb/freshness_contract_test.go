package sqldb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/freshness"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/order"
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

		open := s.opening("clear-1", s.sku)
		must(t, cs.CreateSession(ctx, open))
		fs, sale := &sqldb.FlashStore{DB: db}, open.Sales[0]
		_, err = fs.Start(ctx, s.m, sale.ID, fefo(6, now))
		must(t, err)
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

// opening is a clearance session of the shop's store in room slug, one
// 6-unit sale per SKU (now until an hour on), open to the store's customers.
func (s *shop) opening(slug string, skus ...int64) *freshness.Opening {
	now := s.db.Now()
	o := &freshness.Opening{
		Room:     &live.Room{MerchantID: s.m, Slug: slug, Title: "临期特惠", Status: live.Scheduled, StreamKey: "k-" + slug},
		Lineup:   []int64{s.product},
		Audience: &members.Segment{Kind: members.SegStoreCustomer, StoreID: s.store},
		Session:  &freshness.Session{MerchantID: s.m, StoreID: s.store, StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "t"},
	}
	for _, sku := range skus {
		o.Sales = append(o.Sales, &flashsale.Sale{MerchantID: s.m, SKUID: sku, StoreID: s.store, PriceFen: 990, Quantity: 6, PerUserLimit: 2,
			StartsAt: now, EndsAt: now.Add(time.Hour)})
		o.Session.Items = append(o.Session.Items, freshness.Item{SKUID: sku, ProductID: s.product, Storage: catalog.Chilled, RegularFen: price,
			PriceFen: 990, Quantity: 6, GramsEach: 500, ExpiresAt: now.Add(20 * time.Hour)})
	}
	return o
}

// TestContractClearanceSessionAtomic: a clearance session (room, lineup,
// audience, one flash sale per offer, the session and its items) is one
// transaction. A second sale naming another tenant's SKU fails after the
// room, lineup, audience and first sale were written: none of them is
// left, and the slug is free for the retry, which writes everything.
func TestContractClearanceSessionAtomic(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		cs := &sqldb.ClearanceStore{DB: db}
		count := func(table string) int {
			t.Helper()
			var n int
			must(t, db.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n))
			return n
		}
		tables := []string{"rooms", "room_products", "room_audiences", "flash_sales", "clearance_sessions", "clearance_items"}
		before := map[string]int{}
		for _, tb := range tables {
			before[tb] = count(tb)
		}

		bad := s.opening("clear-half", s.sku, s.otherSKU)
		err := cs.CreateSession(ctx, bad)
		if !errors.Is(err, order.ErrUnknownSKU) {
			t.Fatalf("a sale of another merchant's SKU: %v, want unknown_sku", err)
		}
		for _, tb := range tables {
			if n := count(tb); n != before[tb] {
				t.Errorf("after the failed session %s has %d rows, had %d (half a session left)", tb, n, before[tb])
			}
		}
		if _, err := s.live.RoomBySlug(ctx, "clear-half"); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("the failed session's room exists: %v", err)
		}

		ok := s.opening("clear-half", s.sku)
		must(t, cs.CreateSession(ctx, ok))
		room, err := s.live.RoomBySlug(ctx, "clear-half")
		must(t, err)
		ms := &sqldb.MemberStore{DB: db}
		seg, err := ms.Audience(ctx, room.ID)
		must(t, err)
		sale, err := (&sqldb.FlashStore{DB: db}).Get(ctx, s.m, ok.Sales[0].ID)
		must(t, err)
		switch {
		case ok.Session.ID == 0 || ok.Session.RoomID != room.ID || ok.Session.RoomSlug != "clear-half":
			t.Fatalf("session %+v, room %d", ok.Session, room.ID)
		case len(room.ProductIDs) != 1 || room.ProductIDs[0] != s.product:
			t.Fatalf("lineup %v", room.ProductIDs)
		case seg == nil || seg.Kind != members.SegStoreCustomer || seg.StoreID != s.store:
			t.Fatalf("audience %+v", seg)
		case sale.RoomID != room.ID || sale.Status != flashsale.Scheduled || ok.Session.Items[0].SaleID != sale.ID:
			t.Fatalf("sale %+v, item %+v", sale, ok.Session.Items[0])
		}
		exp, err := cs.SaleExpiry(ctx, s.m, sale.ID)
		must(t, err)
		if exp == nil {
			t.Fatal("the sale is not recorded as a clearance offer")
		}
	})
}
