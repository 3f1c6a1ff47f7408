package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestHeldLotInBrowser: a flash sale of the demo strawberries runs and a
// buyer has paid for a box when quality puts the lot on hold. The phone's
// flash card turns to 暂停销售 (no reload) with its button disabled; at the
// 静安寺店 counter the pickup page flags the order, offers no 确认交付, and
// says the way out (release, or cancel and refund). After the release the
// card sells again and the counter can hand the order over.
func TestHeldLotInBrowser(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	owner := testkit.Owner(m)
	var lots struct {
		Lots []struct {
			ID   int64  `json:"id"`
			Code string `json:"code"`
		} `json:"lots"`
	}
	owner.Do(t, "GET", "/api/v1/lots?sku_id=1", nil, &lots)
	if len(lots.Lots) != 1 {
		t.Fatalf("lots %+v", lots)
	}
	lot := lots.Lots[0]
	var sale struct {
		ID      int64 `json:"id"`
		StoreID int64 `json:"store_id"`
	}
	if st := owner.Do(t, "POST", "/api/v1/rooms/demo/flash-sales", map[string]any{"sku_id": 1, "price_fen": 1990, "quantity": 10, "per_user_limit": 2, "duration_s": 3600}, &sale); st != 201 {
		t.Fatalf("flash sale: %d", st)
	}
	buyer := testkit.Viewer(t, m, "13700000301")
	buyer.Header = map[string]string{"Idempotency-Key": "hold-e2e-1"}
	var o struct {
		ID         int64  `json:"id"`
		PickupCode string `json:"pickup_code"`
	}
	if st := buyer.Do(t, "POST", "/api/v1/orders", map[string]any{"flash_sale_id": sale.ID, "items": []any{map[string]any{"sku_id": 1, "quantity": 1}}, "fulfilment": "pickup"}, &o); st != 201 {
		t.Fatalf("flash buy: %d", st)
	}
	var in struct {
		Intent string `json:"intent"`
	}
	buyer.Do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", o.ID), nil, &in)
	if st := (&testkit.Client{Base: m.URL()}).Do(t, "POST", "/api/v1/payments/dev/"+in.Intent+"/confirm", nil, nil); st != 200 {
		t.Fatalf("pay: %d", st)
	}

	phone := testkit.NewContext(t, browser, 90*time.Second)
	run(t, phone, "open room",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(url(m, "/live/demo")),
		chromedp.WaitVisible(chromedp.CSS("#flash-buy")),
	)
	poll(t, phone, "flash card sells", `!document.getElementById("flash-buy").disabled`)

	hold := func(on bool) {
		t.Helper()
		if st := owner.Do(t, "POST", fmt.Sprintf("/api/v1/lots/%d/hold", lot.ID), map[string]any{"hold": on, "reason": "冷链复核中"}, nil); st != 200 {
			t.Fatalf("hold %v: %d", on, st)
		}
	}
	hold(true)
	poll(t, phone, "flash card paused", `document.getElementById("flash-paused") && document.getElementById("flash-buy").disabled`)
	if got := text(t, phone, "#flash-paused"); got != "暂停销售 — 冷链复核中" {
		t.Fatalf("paused card says %q", got)
	}
	testkit.Screenshot(t, phone, "held-flash-card")

	counter := testkit.NewContext(t, browser, 90*time.Second)
	run(t, counter, "counter viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	login(t, counter, m, "store", "/pickup")
	lookUp := func() {
		t.Helper()
		run(t, counter, "form", chromedp.WaitVisible(chromedp.CSS("#pickup-input")))
		if _, err := chromedp.Run(counter, chromedp.Evaluate[bool](`document.getElementById("pickup-input").value = ""; true`)); err != nil {
			t.Fatal(err)
		}
		run(t, counter, "look up the code",
			chromedp.SendKeys(chromedp.CSS("#pickup-input"), o.PickupCode),
			chromedp.Click(chromedp.CSS(`#pickup-form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("#pickup-status")),
		)
	}
	lookUp()
	poll(t, counter, "hold warning", `document.getElementById("pickup-hold") && !document.getElementById("handover") && document.getElementById("pickup-refund")`)
	warn := text(t, counter, "#pickup-hold")
	for _, want := range []string{lot.Code, "放行", "退款"} {
		if !strings.Contains(warn, want) {
			t.Errorf("pickup warning %q does not say %q", warn, want)
		}
	}
	testkit.Screenshot(t, counter, "held-pickup")

	hold(false)
	poll(t, phone, "flash card sells again", `!document.getElementById("flash-paused") && !document.getElementById("flash-buy").disabled`)
	lookUp()
	poll(t, counter, "handover offered", `!document.getElementById("pickup-hold") && document.getElementById("handover")`)
}
