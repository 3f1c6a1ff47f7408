package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/guides"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractCommission: the rate table is replaced whole (another shop's
// product refused, nothing changed); the statement reads only the shop's
// paid orders of staff guides in the month, once each even when two staff
// carry the same code, with their lines and the products' categories.
func TestContractCommission(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		gs := &sqldb.GuideStore{DB: db}
		s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 50)
		s.lot(t, s.other, s.otherSKU, s.otherStore, "L", 48*time.Hour, 50)
		p, err := s.cat.Product(ctx, s.m, s.product)
		must(t, err)
		p.Category = "水果"
		must(t, s.cat.UpdateProduct(ctx, p))
		rates := guides.Rates{{RateBP: 300}, {Category: "水果", RateBP: 500}, {ProductID: s.product, RateBP: 800}}
		must(t, gs.SetRates(ctx, s.m, rates))
		wantCode(t, gs.SetRates(ctx, s.m, guides.Rates{{ProductID: 999999, RateBP: 1}}), "invalid_commission_rate")
		got, err := gs.Rates(ctx, s.m)
		must(t, err)
		if len(got) != 3 || got.For(s.product, "水果") != 800 || got.For(0, "水果") != 500 {
			t.Fatalf("rates %+v", got)
		}
		if other, _ := gs.Rates(ctx, s.other); len(other) != 0 {
			t.Fatalf("another shop sees %+v", other)
		}
		for _, u := range []string{"wang", "wang2"} {
			must(t, s.ids.CreateStaff(ctx, &identity.Staff{MerchantID: s.m, Username: u, Name: "王导购", Role: identity.RoleGuide, StoreID: s.store, GuideCode: "wang01", PasswordHash: "h"}))
		}
		place := func(merchant, cust, sku, store int64, code string, pay bool) *order.Order {
			o := &order.Order{MerchantID: merchant, CustomerID: cust, Fulfilment: order.Pickup, StoreID: store, GuideCode: code, ReserveExpiresAt: db.Now().Add(time.Hour)}
			_, err := s.orders.Create(ctx, o, []order.Item{{SKUID: sku, Quantity: 2}})
			must(t, err)
			if pay {
				_, err = s.orders.Transition(ctx, merchant, o.ID, order.Paid)
				must(t, err)
			}
			return o
		}
		paid := place(s.m, s.cust, s.sku, s.store, "wang01", true)
		place(s.m, s.cust, s.sku, s.store, "wang01", false)                   // unpaid
		place(s.m, s.cust, s.sku, s.store, "c1", true)                        // a viewer's share: no guide
		place(s.other, s.otherCust, s.otherSKU, s.otherStore, "wang01", true) // another shop
		now := db.Now()
		rows, err := gs.StatementOrders(ctx, s.m, now.Add(-time.Hour), now.Add(time.Hour), "")
		must(t, err)
		if len(rows) != 1 || rows[0].OrderID != paid.ID || rows[0].GuideName != "王导购" || len(rows[0].Lines) != 1 ||
			rows[0].Lines[0].Category != "水果" || rows[0].TotalFen != paid.TotalFen || rows[0].StoreName == "" {
			t.Fatalf("statement orders %+v", rows)
		}
		if rows, _ := gs.StatementOrders(ctx, s.m, now.Add(time.Hour), now.Add(2*time.Hour), ""); len(rows) != 0 {
			t.Fatalf("next month: %+v", rows)
		}
		if rows, _ := gs.StatementOrders(ctx, s.m, now.Add(-time.Hour), now.Add(time.Hour), "li02"); len(rows) != 0 {
			t.Fatalf("another guide: %+v", rows)
		}
	})
}
