package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
	"github.com/shelflive/shelflive/internal/testkit"
)

// atPoint grants the page's origin the location and puts the phone there.
func atPoint(base string, lat, lng float64) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: "geolocation"}, Setting: browser.PermissionSettingGranted, Origin: base,
			BrowserContextID: chromedp.FromContext(ctx).BrowserContextID}); err != nil {
			return chromedp.Void{}, err
		}
		acc := 10.0
		_, err := chromedp.Call(ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lng, Accuracy: &acc})
		return chromedp.Void{}, err
	}
}

// TestSameCityDeliveryBrowser: the Jing'an store delivers within 5 km
// (≤3 km ¥5, ≤5 km ¥8) in slots. On a phone (390×844) the buyer chooses
// delivery, uses their location (2 km away): the sheet shows the ¥5 fee by
// distance and a delivery slot, and the order charges them. Staff ship it
// in /admin with a tracking number; the buyer's order page shows the
// timeline, and a manual entry arrives live.
func TestSameCityDeliveryBrowser(t *testing.T) {
	s := newShop(t)
	var list struct {
		Stores []map[string]any `json:"stores"`
	}
	send(t, nil, s.base, "GET", "/api/v1/stores", nil, testkit.OwnerToken, nil).decode(t, &list)
	var lat, lng float64
	for _, st := range list.Stores {
		if st["delivery"] != true {
			continue
		}
		lat, lng = st["lat"].(float64), st["lng"].(float64)
		st["open_minute"], st["close_minute"], st["slot_minutes"] = 0, 1440, 60
		st["delivery_radius_m"], st["delivery_slot_capacity"], st["delivery_free_over_fen"] = 5000, 5, 99900
		st["delivery_tiers"] = []map[string]int{{"max_m": 3000, "fee_fen": 500}, {"max_m": 5000, "fee_fen": 800}}
		delete(st, "distance_m")
		id := strconv.FormatInt(int64(st["id"].(float64)), 10)
		if r := send(t, nil, s.base, "PUT", "/api/v1/stores/"+id, st, testkit.OwnerToken, nil); r.Status != 200 {
			t.Fatalf("store %s: %d %s", id, r.Status, r.Body)
		}
	}
	if lat == 0 {
		t.Fatal("no delivery store in the demo data")
	}
	// Beyond the radius: a clear problem+json code.
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo/delivery-quote?lat="+strconv.FormatFloat(lat+0.1, 'f', 6, 64)+"&lng="+strconv.FormatFloat(lng, 'f', 6, 64), nil, "", nil).
		wantProblem(t, 400, "beyond_delivery_radius")

	buyer := viewerLogin(t, s.base, "demo", "13900002468")
	b := testkit.Browser(t)
	phone := testkit.NewContext(t, b, 150*time.Second)
	runB(t, phone, "open room", chromedp.Emulate(device.IPhone12Pro), withCookie(s.base, "sl_viewer", buyer.Token), atPoint(s.base, lat+0.018, lng),
		chromedp.Navigate(s.base+"/live/demo"), chromedp.WaitVisible(chromedp.CSS("#pinned #buy-btn")),
		chromedp.Click(chromedp.CSS("#pinned #buy-btn")), chromedp.WaitVisible(chromedp.CSS("#mode-delivery")),
		chromedp.Click(chromedp.CSS("#mode-delivery")), chromedp.WaitVisible(chromedp.CSS("#delivery-quote-error")))
	code, err := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#delivery-quote-error").dataset.code`))
	if err != nil || code != "delivery_point_required" {
		t.Fatalf("before a point: %q %v", code, err)
	}
	runB(t, phone, "address", chromedp.SendKeys(chromedp.CSS("#addr-name"), "李女士"), chromedp.SendKeys(chromedp.CSS("#addr-line"), "上海市静安区北京西路 1 号"),
		chromedp.Click(chromedp.CSS("#use-location")), chromedp.WaitVisible(chromedp.CSS("#delivery-fee")), chromedp.WaitVisible(chromedp.CSS("#slot-list .chip.on")),
		chromedp.WaitEnabled(chromedp.CSS("#confirm-order")))
	fee, err := chromedp.Run(phone, chromedp.Text(chromedp.CSS("#delivery-fee")))
	if err != nil || !strings.Contains(fee, "5.00") {
		t.Fatalf("fee shown %q: %v", fee, err)
	}
	quote, _ := chromedp.Run(phone, chromedp.Text(chromedp.CSS("#delivery-quote")))
	if !strings.Contains(quote, "km") {
		t.Fatalf("the distance is not shown: %q", quote)
	}
	chromedp.Run(phone, chromedp.Evaluate[bool](`document.querySelector("#delivery-quote").scrollIntoView({block: "start"}), true`))
	testkit.Screenshot(t, phone, "delivery-00-fee-and-slot")
	slot, err := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#slot-list .chip.on").dataset.start`))
	if err != nil || slot == "" {
		t.Fatalf("chosen slot %q: %v", slot, err)
	}
	runB(t, phone, "order", chromedp.Click(chromedp.CSS("#confirm-order")), chromedp.WaitVisible(chromedp.CSS("#confirm-pay")))
	runB(t, phone, "pay", chromedp.Click(chromedp.CSS("#confirm-pay")), chromedp.WaitVisible(chromedp.CSS("#delivery-slot")), chromedp.WaitVisible(chromedp.CSS("#delivery-fee-row")))
	testkit.Screenshot(t, phone, "delivery-01-order-paid")
	var mine struct {
		Orders []struct {
			ID        int64  `json:"id"`
			Number    string `json:"number"`
			Status    string `json:"status"`
			Fee       int64  `json:"delivery_fee_fen"`
			Total     int64  `json:"total_fen"`
			DistanceM int64  `json:"distance_m"`
			Slot      string `json:"pickup_slot_start"`
		} `json:"orders"`
	}
	send(t, nil, s.base, "GET", "/api/v1/me/orders", nil, buyer.Token, nil).decode(t, &mine)
	if len(mine.Orders) != 1 || mine.Orders[0].Fee != 500 || mine.Orders[0].Status != "paid" || mine.Orders[0].DistanceM < 1900 || mine.Orders[0].DistanceM > 2100 {
		t.Fatalf("buyer's order %+v", mine.Orders)
	}
	if a, _ := time.Parse(time.RFC3339, slot); !strings.HasPrefix(mine.Orders[0].Slot, a.UTC().Format("2006-01-02T15:04")) {
		t.Fatalf("booked slot %s, chosen %s", mine.Orders[0].Slot, slot)
	}
	o := mine.Orders[0]

	// Staff ship it in /admin with a tracking number (desktop).
	staff := testkit.NewContext(t, b, 90*time.Second)
	runB(t, staff, "admin orders", chromedp.EmulateViewport(1280, 900), withCookie(s.base, "sl_staff", testkit.OwnerToken),
		chromedp.Navigate(s.base+"/admin#orders"), chromedp.WaitVisible(chromedp.CSS(`button[data-action="ship"]`)),
		chromedp.Click(chromedp.CSS(`button[data-action="ship"]`)), chromedp.WaitVisible(chromedp.CSS("#ship-carrier")),
		chromedp.SetValue(chromedp.CSS("#ship-carrier"), "shunfenglengyun"), chromedp.SendKeys(chromedp.CSS("#ship-no"), "SF 1357 9246 8012 3"))
	testkit.Screenshot(t, staff, "delivery-02-admin-ship")
	runB(t, staff, "ship", chromedp.Click(chromedp.CSS("#modal button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(`button[data-action="tracking"]`)))

	// The buyer's page shows the timeline; a manual entry arrives live.
	runB(t, phone, "timeline", chromedp.WaitVisible(chromedp.CSS("#tracking-card")), chromedp.WaitVisible(chromedp.CSS("#tracking-timeline li")))
	head, _ := chromedp.Run(phone, chromedp.Text(chromedp.CSS("#tracking-head")))
	if !strings.Contains(head, "SF1357924680123") {
		t.Fatalf("tracking head %q", head)
	}
	r := send(t, nil, s.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/shipment/events",
		map[string]string{"stage": "delivering", "text": "骑手已取件，约 20 分钟送达", "location": "静安寺店"}, testkit.OwnerToken, nil)
	if r.Status != 200 {
		t.Fatalf("manual entry: %d %s", r.Status, r.Body)
	}
	runB(t, phone, "live entry", chromedp.WaitVisible(chromedp.CSS(`#tracking-timeline li.now[data-stage="delivering"]`)))
	testkit.Screenshot(t, phone, "delivery-03-order-timeline")
	n, err := chromedp.Run(phone, chromedp.Evaluate[int](`document.querySelectorAll("#tracking-timeline li").length`))
	if err != nil || n != 2 {
		t.Fatalf("timeline entries %d: %v", n, err)
	}
}
