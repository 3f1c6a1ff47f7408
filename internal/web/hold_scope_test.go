package web_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestHoldWhereItBroke: the demo strawberries' one lot is stocked in
// 静安寺店 and 陆家嘴店. 13 °C in 静安寺店's fridge holds the lot's units
// there only: 静安寺店 refuses the sale (lot_on_hold) and lists the lot as
// held, 陆家嘴店 sells it, the card stays buyable (暂停销售 only where the
// store's stock is held). Quality widens the hold to the whole lot: every
// store refuses and the card shows held stock only. Releasing the lot
// lifts both.
func TestHoldWhereItBroke(t *testing.T) {
	m := testkit.StartNode(t, "")
	n := &ccNode{m: m, base: m.URL()}
	owner := testkit.OwnerToken
	skuID, jingan := n.demoSKU(t, "SB-500")
	lot := n.lot(t, skuID)
	var stock struct {
		Levels []struct {
			StoreID int64 `json:"store_id"`
			LotID   int64 `json:"lot_id"`
			OnHand  int64 `json:"on_hand"`
		} `json:"levels"`
	}
	n.call(t, "GET", fmt.Sprintf("/api/v1/stock?sku_id=%d", skuID), nil, owner).into(t, &stock)
	var other int64
	for _, l := range stock.Levels {
		if l.LotID == lot.ID && l.StoreID != jingan && l.OnHand > 0 {
			other = l.StoreID
			break
		}
	}
	if other == 0 {
		t.Fatalf("the lot is in one store only: %+v", stock.Levels)
	}

	var loc coldchain.Location
	n.call(t, "POST", "/api/v1/coldchain/locations", map[string]any{"name": "静安寺店 冷藏柜", "kind": "display_fridge", "storage_class": "chilled", "store_id": jingan}, owner).into(t, &loc)
	var dev struct {
		Token string `json:"token"`
	}
	n.call(t, "POST", "/api/v1/coldchain/devices", map[string]any{"device_id": "fridge-jingan-scope", "location_id": loc.ID}, owner).into(t, &dev)
	send := func(at time.Time, temp float64) {
		t.Helper()
		if r := n.call(t, "POST", "/api/v1/telemetry", map[string]any{"readings": []any{map[string]any{"ts": at.UnixMilli(), "values": map[string]any{"temperature": temp}}}}, dev.Token); r.status != 202 {
			t.Fatalf("telemetry: %d %s", r.status, r.body)
		}
	}
	base := time.Now().Add(-30 * time.Minute)
	send(base, 3)
	send(base.Add(time.Minute), 13)
	testkit.WaitFor(t, "the lot held at 静安寺店", 10*time.Second, func() bool { return slices.Contains(n.lot(t, skuID).HeldStores, jingan) })
	if l := n.lot(t, skuID); l.Hold || len(l.HeldStores) != 1 {
		t.Fatalf("an excursion at one store's fridge held %+v", l)
	}

	buyer := testkit.Viewer(t, m, "13900002201")
	buy := func(store int64) (int, string) {
		r := n.call(t, "POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"sku_id": skuID, "quantity": 1}}, "fulfilment": "pickup", "store_id": store}, buyer.Token)
		if r.status == 201 {
			return 201, ""
		}
		return r.status, r.code(t)
	}
	if st, code := buy(jingan); st != 409 || code != "lot_on_hold" {
		t.Fatalf("buy at the store whose fridge broke: %d %s", st, code)
	}
	if st, code := buy(other); st != 201 {
		t.Fatalf("buy at the other store: %d %s", st, code)
	}
	type storeRow struct {
		ID        int64 `json:"id"`
		Available int64 `json:"available"`
		Held      int64 `json:"held"`
	}
	var rs struct {
		Stores []storeRow `json:"stores"`
	}
	n.call(t, "GET", fmt.Sprintf("/api/v1/rooms/demo/stores?sku=%d", skuID), nil, "").into(t, &rs)
	for _, s := range rs.Stores {
		switch s.ID {
		case jingan:
			if s.Available != 0 || s.Held == 0 {
				t.Fatalf("静安寺店 in the buy sheet: %+v", s)
			}
		case other:
			if s.Available == 0 || s.Held != 0 {
				t.Fatalf("the other store in the buy sheet: %+v", s)
			}
		}
	}
	card := func() (avail, held int64) {
		var room struct {
			Products []struct {
				SKUs []struct {
					ID        int64 `json:"id"`
					Available int64 `json:"available"`
					Held      int64 `json:"held"`
				} `json:"skus"`
			} `json:"products"`
		}
		n.call(t, "GET", "/api/v1/rooms/demo", nil, "").into(t, &room)
		for _, p := range room.Products {
			for _, k := range p.SKUs {
				if k.ID == skuID {
					return k.Available, k.Held
				}
			}
		}
		t.Fatal("sku not in the room")
		return 0, 0
	}
	if a, h := card(); a == 0 || h == 0 {
		t.Fatalf("card: available %d held %d, want the other stores' stock buyable", a, h)
	}

	// Quality widens the hold to the whole lot.
	if r := n.call(t, "POST", fmt.Sprintf("/api/v1/lots/%d/hold", lot.ID), map[string]any{"hold": true, "reason": "品控扩大到整批 widened to the lot"}, owner); r.status != 200 {
		t.Fatalf("widen: %d %s", r.status, r.body)
	}
	if st, code := buy(other); st != 409 || code != "lot_on_hold" {
		t.Fatalf("buy at the other store after widening: %d %s", st, code)
	}
	if a, h := card(); a != 0 || h == 0 {
		t.Fatalf("card after widening: available %d held %d (暂停销售 everywhere)", a, h)
	}
	// Releasing the lot lifts every hold on it.
	if r := n.call(t, "POST", fmt.Sprintf("/api/v1/lots/%d/hold", lot.ID), map[string]any{"hold": false, "reason": "复核通过"}, owner); r.status != 200 {
		t.Fatalf("release: %d %s", r.status, r.body)
	}
	if l := n.lot(t, skuID); l.held() {
		t.Fatalf("after the release: %+v", l)
	}
	if st, code := buy(jingan); st != 201 {
		t.Fatalf("buy at 静安寺店 after the release: %d %s", st, code)
	}
	// A store-scoped hold by hand, and its release.
	if r := n.call(t, "POST", fmt.Sprintf("/api/v1/lots/%d/hold", lot.ID), map[string]any{"hold": true, "reason": "门店抽检", "store_id": other}, owner); r.status != 200 {
		t.Fatalf("store hold: %d %s", r.status, r.body)
	}
	if st, _ := buy(other); st != 409 {
		t.Fatalf("buy at a store held by hand: %d", st)
	}
	if st, _ := buy(jingan); st != 201 {
		t.Fatalf("buy at 静安寺店 while the other store is held: %d", st)
	}
	if r := n.call(t, "POST", fmt.Sprintf("/api/v1/lots/%d/hold", lot.ID), map[string]any{"hold": true, "store_id": 999999}, owner); r.status != 400 {
		t.Fatalf("hold at an unknown store: %d %s", r.status, r.body)
	}
}
