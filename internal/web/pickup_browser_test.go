package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestPickupSlotBrowser: every demo store takes one order per hourly
// pickup slot; a phone buyer (390×844) picks a slot in the buy sheet, but
// another buyer takes it first: the order lands in the next slot and the
// order page says so.
func TestPickupSlotBrowser(t *testing.T) {
	s := newShop(t)
	var list struct {
		Stores []map[string]any `json:"stores"`
	}
	send(t, nil, s.base, "GET", "/api/v1/stores", nil, testkit.OwnerToken, nil).decode(t, &list)
	for _, st := range list.Stores {
		st["open_minute"], st["close_minute"], st["slot_minutes"], st["slot_capacity"] = 0, 1440, 60, 1
		delete(st, "distance_m")
		id := strconv.FormatInt(int64(st["id"].(float64)), 10)
		if r := send(t, nil, s.base, "PUT", "/api/v1/stores/"+id, st, testkit.OwnerToken, nil); r.Status != 200 {
			t.Fatalf("store %s: %d %s", id, r.Status, r.Body)
		}
	}
	buyer := viewerLogin(t, s.base, "demo", "13900000091")
	other := viewerLogin(t, s.base, "demo", "13900000092")

	browser := testkit.Browser(t)
	phone := testkit.NewContext(t, browser, 120*time.Second)
	runB(t, phone, "open room", chromedp.Emulate(device.IPhone12Pro), withCookie(s.base, "sl_viewer", buyer.Token),
		chromedp.Navigate(s.base+"/live/demo"), chromedp.WaitVisible(chromedp.CSS("#pinned #buy-btn")),
		chromedp.Click(chromedp.CSS("#pinned #buy-btn")), chromedp.WaitVisible(chromedp.CSS("#slot-list .chip.on")),
		chromedp.WaitEnabled(chromedp.CSS("#confirm-order")))
	start, err := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#slot-list .chip.on").dataset.start`))
	if err != nil || start == "" {
		t.Fatalf("chosen slot %q: %v", start, err)
	}
	store, err := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#store-list li.on").dataset.store`))
	if err != nil {
		t.Fatal(err)
	}
	chromedp.Run(phone, chromedp.Evaluate[bool](`document.querySelector("#slot-list").scrollIntoView({block: "center"}), true`))
	testkit.Screenshot(t, phone, "slot-00-buy-sheet-slots")

	// The other buyer takes the last place of that slot first.
	storeID, _ := strconv.ParseInt(store, 10, 64)
	r := send(t, nil, s.base, "POST", "/api/v1/orders", map[string]any{"items": []any{map[string]any{"sku_id": s.sku1, "quantity": 1}},
		"fulfilment": "pickup", "store_id": storeID, "pickup_slot": start}, other.Token, nil)
	if r.Status != 201 {
		t.Fatalf("other buyer: %d %s", r.Status, r.Body)
	}
	var first struct {
		Start string `json:"pickup_slot_start"`
		Moved bool   `json:"slot_moved"`
	}
	r.decode(t, &first)
	if first.Moved {
		t.Fatalf("the other buyer was moved: %+v", first)
	}

	runB(t, phone, "order", chromedp.Click(chromedp.CSS("#confirm-order")), chromedp.WaitVisible(chromedp.CSS("#confirm-pay")))
	runB(t, phone, "pay", chromedp.Click(chromedp.CSS("#confirm-pay")), chromedp.WaitVisible(chromedp.CSS("#slot-moved")))
	label, err := chromedp.Run(phone, chromedp.Text(chromedp.CSS("#pickup-slot b")))
	if err != nil {
		t.Fatal(err)
	}
	testkit.Screenshot(t, phone, "slot-01-order-moved")
	var mine struct {
		Orders []struct {
			Start string `json:"pickup_slot_start"`
			Label string `json:"pickup_slot_label"`
			Moved bool   `json:"slot_moved"`
		} `json:"orders"`
	}
	send(t, nil, s.base, "GET", "/api/v1/me/orders", nil, buyer.Token, nil).decode(t, &mine)
	if len(mine.Orders) != 1 || !mine.Orders[0].Moved || mine.Orders[0].Start == first.Start || mine.Orders[0].Label != strings.TrimSpace(label) {
		t.Fatalf("buyer's order %+v (page %q), the other's slot %s", mine.Orders, label, first.Start)
	}
	a, _ := time.Parse(time.RFC3339, first.Start)
	b, _ := time.Parse(time.RFC3339, mine.Orders[0].Start)
	if b.Sub(a) != time.Hour {
		t.Fatalf("moved from %s to %s, want the next hour", first.Start, mine.Orders[0].Start)
	}
}
