package web_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestRoomCardShowsColdChainHold opens the demo room on a phone-sized
// headless chromium; a fridge sensor of one store reports 13 °C through the
// gateway endpoint: only that store's units are held, so the card keeps
// selling (the other stores have the lot; TestHoldWhereItBroke checks the
// buy sheet marks that store 暂停销售); quality widens the hold to the whole lot and the pinned
// strawberry card turns to "暂停销售 — 冷链复核中" live (no reload) with its
// buy button disabled; after the fridge is back in range, quality releases
// the alarm and the lot, and the card sells again.
func TestRoomCardShowsColdChainHold(t *testing.T) {
	m := testkit.StartNode(t, "")
	n := &ccNode{m: m, base: m.URL()}
	owner := testkit.OwnerToken
	skuID, storeID := n.demoSKU(t, "SB-500")
	var loc coldchain.Location
	n.call(t, "POST", "/api/v1/coldchain/locations", map[string]any{"name": "静安寺店 冷藏柜", "kind": "display_fridge", "storage_class": "chilled", "store_id": storeID}, owner).into(t, &loc)
	var dev struct {
		Token string `json:"token"`
	}
	n.call(t, "POST", "/api/v1/coldchain/devices", map[string]any{"device_id": "fridge-room-1", "location_id": loc.ID}, owner).into(t, &dev)
	send := func(at time.Time, temp float64) {
		t.Helper()
		r := n.call(t, "POST", "/api/v1/telemetry", map[string]any{"readings": []any{map[string]any{"ts": at.UnixMilli(), "values": map[string]any{"temperature": temp}}}}, dev.Token)
		if r.status != 202 {
			t.Fatalf("telemetry: %d %s", r.status, r.body)
		}
	}
	base := time.Now().Add(-30 * time.Minute)
	send(base, 3)

	ctx := testkit.NewContext(t, testkit.Browser(t), 60*time.Second)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(n.base+"/live/demo"),
		chromedp.WaitVisible(chromedp.CSS("#pinned-name")),
	); err != nil {
		t.Fatal(err)
	}
	name, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("pinned-name").textContent`))
	if !strings.Contains(name, "草莓") {
		t.Fatalf("pinned card is %q, want the strawberries", name)
	}
	send(base.Add(time.Minute), 13)
	testkit.WaitFor(t, "the lot held at the store", 10*time.Second, func() bool { return n.lot(t, skuID).held() })
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`!document.getElementById("pinned-hold") && !document.getElementById("buy-btn").disabled`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("a hold at one store took the card off sale: %v", err)
	}
	testkit.Screenshot(t, ctx, "hold-00-card-sells-other-stores")
	// Quality widens every lot the excursion held at the store (both
	// strawberry SKUs sat in that fridge) to the whole lot.
	var all struct {
		Lots []ccLot `json:"lots"`
	}
	n.call(t, "GET", "/api/v1/lots", nil, owner).into(t, &all)
	var widened []int64
	for _, l := range all.Lots {
		if slices.Contains(l.HeldStores, storeID) {
			widened = append(widened, l.ID)
			if r := n.call(t, "POST", fmt.Sprintf("/api/v1/lots/%d/hold", l.ID), map[string]any{"hold": true, "reason": "冷链复核中 · 扩大到整批"}, owner); r.status != 200 {
				t.Fatalf("widen: %d %s", r.status, r.body)
			}
		}
	}
	if len(widened) == 0 {
		t.Fatal("no lot held at the store")
	}
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.getElementById("pinned-hold") && document.getElementById("buy-btn").disabled`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		png, _ := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		_ = png
		t.Fatalf("card did not show the hold: %v", err)
	}
	hold, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("pinned-hold").textContent`))
	if hold != "暂停销售 — 冷链复核中" {
		t.Fatalf("hold text %q", hold)
	}
	if lot := n.lot(t, skuID); !lot.Hold {
		t.Fatal("lot not on hold")
	}
	for i := 2; i <= 13; i++ {
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
	for _, id := range widened {
		if r := n.call(t, "POST", fmt.Sprintf("/api/v1/lots/%d/hold", id), map[string]any{"hold": false, "reason": "复核通过"}, owner); r.status != 200 {
			t.Fatalf("release the widened hold: %d %s", r.status, r.body)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`!document.getElementById("pinned-hold") && !document.getElementById("buy-btn").disabled`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("card did not come back on sale: %v", err)
	}
}
