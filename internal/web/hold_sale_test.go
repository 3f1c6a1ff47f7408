package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestHeldLotNeverSold is issue 12's first must-fix as a newcomer hit it:
// a flash sale of the demo strawberries (lot L…01) runs at 静安寺店 when the
// store fridge's sensor reports 13 °C. From then on nothing sells the lot —
// not the flash sale (paused, code sale_paused, the room state says so),
// not an ordinary order (lot_on_hold) — and the store cannot hand over an
// order paid before the hold (lot_on_hold, naming the lot and the way out:
// the quality team's release or a refund). After quality releases the lot
// the sale resumes and the paid order is handed over.
func TestHeldLotNeverSold(t *testing.T) {
	m := testkit.StartNode(t, "")
	n := &ccNode{m: m, base: m.URL()}
	owner := testkit.OwnerToken
	skuID, storeID := n.demoSKU(t, "SB-500")
	lot := n.lot(t, skuID)
	if !strings.HasPrefix(lot.Code, "L") || !strings.HasSuffix(lot.Code, "01") {
		t.Fatalf("demo strawberry lot %q", lot.Code)
	}

	// The store fridge (静安寺店) and its sensor; in range for now.
	var loc coldchain.Location
	n.call(t, "POST", "/api/v1/coldchain/locations", map[string]any{"name": "静安寺店 冷藏展示柜", "kind": "display_fridge", "storage_class": "chilled", "store_id": storeID}, owner).into(t, &loc)
	var dev struct {
		Token string `json:"token"`
	}
	n.call(t, "POST", "/api/v1/coldchain/devices", map[string]any{"device_id": "fridge-jingan-hold", "location_id": loc.ID}, owner).into(t, &dev)
	send := func(at time.Time, temp float64) {
		t.Helper()
		if r := n.call(t, "POST", "/api/v1/telemetry", map[string]any{"readings": []any{map[string]any{"ts": at.UnixMilli(), "values": map[string]any{"temperature": temp}}}}, dev.Token); r.status != 202 {
			t.Fatalf("telemetry: %d %s", r.status, r.body)
		}
	}
	base := time.Now().Add(-40 * time.Minute)
	send(base, 3)

	// The flash sale runs; a first buyer wins a box and pays.
	var sale struct {
		ID int64 `json:"id"`
	}
	if r := n.call(t, "POST", "/api/v1/rooms/demo/flash-sales", map[string]any{"sku_id": skuID, "store_id": storeID, "price_fen": 1990, "quantity": 10, "per_user_limit": 2, "duration_s": 3600}, owner); r.status != 201 {
		t.Fatalf("flash sale: %d %s", r.status, r.body)
	} else {
		r.into(t, &sale)
	}
	flashBuy := map[string]any{"flash_sale_id": sale.ID, "items": []map[string]any{{"sku_id": skuID, "quantity": 1}}, "fulfilment": "pickup", "store_id": storeID}
	early := testkit.Viewer(t, m, "13900002001")
	r := n.call(t, "POST", "/api/v1/orders", flashBuy, early.Token)
	if r.status != 201 {
		t.Fatalf("flash buy before the excursion: %d %s", r.status, r.body)
	}
	var paid struct {
		ID         int64  `json:"id"`
		PickupCode string `json:"pickup_code"`
	}
	r.into(t, &paid)
	var intent struct {
		Intent string `json:"intent"`
	}
	n.call(t, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", paid.ID), nil, early.Token).into(t, &intent)
	if r := n.call(t, "POST", "/api/v1/payments/dev/"+intent.Intent+"/confirm", nil, ""); r.status != 200 {
		t.Fatalf("pay: %d %s", r.status, r.body)
	}

	// The excursion: 13 °C at the store fridge puts the lot on hold.
	send(base.Add(time.Minute), 13)
	testkit.WaitFor(t, "lot on hold", 10*time.Second, func() bool { return n.lot(t, skuID).held() })

	late := testkit.Viewer(t, m, "13900002002")
	if r := n.call(t, "POST", "/api/v1/orders", flashBuy, late.Token); r.status != 409 || r.code(t) != "sale_paused" {
		t.Fatalf("flash buy of a held lot: %d %s, want 409 sale_paused", r.status, r.body)
	}
	ordinary := map[string]any{"items": []map[string]any{{"sku_id": skuID, "quantity": 1}}, "fulfilment": "pickup", "store_id": storeID}
	if r := n.call(t, "POST", "/api/v1/orders", ordinary, late.Token); r.status != 409 || r.code(t) != "lot_on_hold" {
		t.Fatalf("ordinary buy of a held lot: %d %s, want 409 lot_on_hold", r.status, r.body)
	}
	if st := roomSale(t, n, sale.ID); !st.Paused {
		t.Fatalf("room state shows the sale %+v, want paused", st)
	}

	// The store looks the paid order up: it is flagged, and handing it over is refused.
	var looked struct {
		Status   string   `json:"status"`
		HeldLots []string `json:"held_lots"`
	}
	n.call(t, "POST", "/api/v1/pickups/verify", map[string]any{"code": paid.PickupCode, "confirm": false}, owner).into(t, &looked)
	if looked.Status != "paid" || len(looked.HeldLots) != 1 || looked.HeldLots[0] != lot.Code {
		t.Fatalf("pickup lookup %+v, want paid with held lot %s", looked, lot.Code)
	}
	r = n.call(t, "POST", "/api/v1/pickups/verify", map[string]any{"code": paid.PickupCode, "confirm": true}, owner)
	if r.status != 409 || r.code(t) != "lot_on_hold" {
		t.Fatalf("hand over a held lot: %d %s, want 409 lot_on_hold", r.status, r.body)
	}
	for _, want := range []string{lot.Code, "放行", "退款"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("refusal %s does not say %q", r.body, want)
		}
	}

	// Back in range, cleared, released by quality: the sale resumes, the order is handed over.
	for i := 2; i <= 14; i++ {
		send(base.Add(time.Duration(i)*time.Minute), 3)
	}
	var alarms struct {
		Alarms []coldchain.Alarm `json:"alarms"`
	}
	testkit.WaitFor(t, "alarm cleared", 10*time.Second, func() bool {
		n.call(t, "GET", "/api/v1/coldchain/alarms?status=cleared", nil, owner).into(t, &alarms)
		return len(alarms.Alarms) == 1
	})
	if r := n.call(t, "POST", fmt.Sprintf("/api/v1/coldchain/alarms/%d/resolve", alarms.Alarms[0].ID), map[string]any{"decision": "release"}, owner); r.status != 200 {
		t.Fatalf("release: %d %s", r.status, r.body)
	}
	if st := roomSale(t, n, sale.ID); st.Paused {
		t.Fatalf("sale still paused after the release: %+v", st)
	}
	if r := n.call(t, "POST", "/api/v1/orders", flashBuy, late.Token); r.status != 201 {
		t.Fatalf("flash buy after the release: %d %s", r.status, r.body)
	}
	if r := n.call(t, "POST", "/api/v1/pickups/verify", map[string]any{"code": paid.PickupCode, "confirm": true}, owner); r.status != 200 {
		t.Fatalf("hand over after the release: %d %s", r.status, r.body)
	}
}

type saleState struct {
	ID        int64 `json:"id"`
	Remaining int64 `json:"remaining"`
	Paused    bool  `json:"paused"`
}

// roomSale is the sale as the demo room's public state shows it.
func roomSale(t *testing.T, n *ccNode, id int64) saleState {
	t.Helper()
	var st struct {
		Flash []saleState `json:"flash_sales"`
	}
	n.call(t, "GET", "/api/v1/rooms/demo", nil, "").into(t, &st)
	for _, s := range st.Flash {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("sale %d not in the room state", id)
	return saleState{}
}

// TestPickupAtOtherStoreNamesIt: a code shown at the wrong counter says
// which store the order is for (issue 12: 该订单需在其他门店取货 did not).
func TestPickupAtOtherStoreNamesIt(t *testing.T) {
	s := newShop(t)
	var stores struct {
		Stores []struct {
			ID int64 `json:"id"`
		} `json:"stores"`
	}
	send(t, nil, s.base, "GET", "/api/v1/stores", nil, testkit.OwnerToken, nil).decode(t, &stores)
	buyer := viewerLogin(t, s.base, "demo", "13900002101")
	body := map[string]any{"items": []any{map[string]any{"sku_id": s.sku1, "quantity": 1}}, "fulfilment": "pickup", "store_id": stores.Stores[1].ID}
	r := send(t, nil, s.base, "POST", "/api/v1/orders", body, buyer.Token, nil)
	if r.Status != 201 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	var o orderView
	r.decode(t, &o)
	clerk := staffLogin(t, s.base, "store", "shelflive-demo") // bound to 静安寺店
	r = send(t, nil, s.base, "POST", "/api/v1/pickups/verify", map[string]any{"code": o.PickupCode}, clerk.Token, nil)
	if p := r.wantProblem(t, 409, "other_store"); !strings.Contains(p.Detail, "鲜食集·陆家嘴店") {
		t.Errorf("zh detail %q does not name the store", p.Detail)
	}
	r = send(t, nil, s.base, "POST", "/api/v1/pickups/verify", map[string]any{"code": o.PickupCode}, clerk.Token, map[string]string{"Accept-Language": "en"})
	if p := r.wantProblem(t, 409, "other_store"); !strings.Contains(p.Detail, "Lujiazui") {
		t.Errorf("en detail %q does not name the store", p.Detail)
	}
}
