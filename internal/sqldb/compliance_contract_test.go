package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/compliance"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/sqldb"
)

func TestContractCompliance(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		cs := &sqldb.ComplianceStore{DB: db}

		term := &compliance.Term{MerchantID: s.m, Term: " 秒杀全网 ", CreatedBy: "店主"}
		must(t, cs.AddTerm(ctx, term))
		if term.Term != "秒杀全网" || term.Severity != compliance.Block || term.ID == 0 {
			t.Fatalf("%+v", term)
		}
		wantCode(t, cs.AddTerm(ctx, &compliance.Term{MerchantID: s.m, Term: "秒杀全网"}), "term_exists")
		wantCode(t, cs.AddTerm(ctx, &compliance.Term{MerchantID: s.m, Term: "x", Severity: "maybe"}), "invalid_severity")
		must(t, cs.AddTerm(ctx, &compliance.Term{MerchantID: s.other, Term: "秒杀全网"})) // another tenant may have it too

		until := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		ev := &compliance.Evidence{MerchantID: s.m, Kind: compliance.EvOrganic, ProductID: s.product, Reference: "有机认证 No.1", ValidUntil: &until}
		must(t, cs.AddEvidence(ctx, ev))
		wantCode(t, cs.AddEvidence(ctx, &compliance.Evidence{MerchantID: s.other, Kind: compliance.EvOrganic, ProductID: s.product, Reference: "x"}), "unknown_product")
		wantCode(t, cs.AddEvidence(ctx, &compliance.Evidence{MerchantID: s.m, Kind: "rumour", Reference: "x"}), "invalid_evidence_kind")

		terms, err := cs.Terms(ctx, s.m)
		must(t, err)
		evs, err := cs.Evidence(ctx, s.m)
		must(t, err)
		if len(terms) != 1 || len(evs) != 1 || evs[0].ValidUntil == nil || !evs[0].ValidUntil.Equal(until) || evs[0].ProductID != s.product {
			t.Fatalf("terms %+v evidence %+v", terms, evs)
		}

		// A tenant cannot delete another's rows.
		wantCode(t, cs.DeleteTerm(ctx, s.other, term.ID), "not_found")
		wantCode(t, cs.DeleteEvidence(ctx, s.other, ev.ID), "not_found")
		must(t, cs.DeleteTerm(ctx, s.m, term.ID))
		must(t, cs.DeleteEvidence(ctx, s.m, ev.ID))
		if terms, _ := cs.Terms(ctx, s.m); len(terms) != 0 {
			t.Fatalf("%+v", terms)
		}

		room := &live.Room{MerchantID: s.m, Slug: "script-room", Title: "周末水果", HostName: "主播"}
		must(t, s.live.CreateRoom(ctx, room))
		if body, err := cs.Script(ctx, s.m, room.ID); err != nil || body != "" {
			t.Fatalf("%q %v", body, err)
		}
		must(t, cs.SetScript(ctx, s.m, room.ID, "开场：介绍产地", "主播"))
		must(t, cs.SetScript(ctx, s.m, room.ID, "开场：介绍产地和吃法", "主播"))
		if body, err := cs.Script(ctx, s.m, room.ID); err != nil || body != "开场：介绍产地和吃法" {
			t.Fatalf("%q %v", body, err)
		}
		wantCode(t, cs.SetScript(ctx, s.other, room.ID, "x", "y"), "not_found")

		// A product's type is stored (migration 2900); rows from before it,
		// and saves without one, read as ordinary food.
		prod, err := s.cat.Product(ctx, s.m, s.product)
		must(t, err)
		if prod.ProductType != catalog.OrdinaryFood {
			t.Fatalf("product type %q, want ordinary_food", prod.ProductType)
		}
		prod.ProductType = catalog.HealthFood
		must(t, prod.Validate())
		must(t, s.cat.UpdateProduct(ctx, prod))
		if again, err := s.cat.Product(ctx, s.m, s.product); err != nil || again.ProductType != catalog.HealthFood {
			t.Fatalf("%+v %v", again, err)
		}
		bad := *prod
		bad.ProductType = "medicine"
		wantCode(t, bad.Validate(), "invalid_product_type")

		// Every price a SKU takes is kept (migration 2901), from when it took
		// it; saving the same price again adds nothing; another tenant's
		// history is empty.
		sku := prod.SKUs[0]
		start := time.Now().Add(-time.Minute)
		must(t, s.cat.SetPrice(ctx, s.m, sku.ID, 990))
		must(t, s.cat.SetPrice(ctx, s.m, sku.ID, 990))
		prod, err = s.cat.Product(ctx, s.m, s.product)
		must(t, err)
		prod.SKUs[0].PriceFen = 790
		must(t, s.cat.UpdateProduct(ctx, prod))
		hist, err := s.cat.PriceHistory(ctx, s.m, sku.ID, start)
		must(t, err)
		var prices []int64
		for _, h := range hist {
			prices = append(prices, h.PriceFen)
		}
		if len(hist) != 3 || prices[0] != sku.PriceFen || prices[1] != 990 || prices[2] != 790 || hist[2].At.Before(hist[1].At) {
			t.Fatalf("history %+v (first price %d)", hist, sku.PriceFen)
		}
		if later, _ := s.cat.PriceHistory(ctx, s.m, sku.ID, time.Now().Add(time.Hour)); len(later) != 1 || later[0].PriceFen != 790 {
			t.Fatalf("price in force later: %+v", later)
		}
		if other, _ := s.cat.PriceHistory(ctx, s.other, sku.ID, start); len(other) != 0 {
			t.Fatalf("another tenant read the history: %+v", other)
		}
		if body, _ := cs.Script(ctx, s.other, room.ID); body != "" {
			t.Fatalf("other tenant read the script: %q", body)
		}
	})
}
