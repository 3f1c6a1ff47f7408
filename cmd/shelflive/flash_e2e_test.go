package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/testkit"
)

// viewerLogin opens the room on a phone-sized tab and logs in by phone.
func viewerLogin(t *testing.T, browser context.Context, m *node.Main, phone string) context.Context {
	ctx := testkit.NewContext(t, browser, 90*time.Second)
	run(t, ctx, "open room "+phone,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(url(m, "/live/demo")),
		chromedp.WaitVisible(chromedp.CSS("#pinned-name")),
		chromedp.Click(chromedp.CSS("#buy-btn")), // buying asks for a login first
	)
	testkit.PhoneLogin(t, ctx, phone, testkit.DevCode)
	run(t, ctx, "logged in "+phone,
		chromedp.WaitVisible(chromedp.CSS("#confirm-order")),
		chromedp.Click(chromedp.CSS("#sheet .close")),
	)
	return ctx
}

// TestFlashSaleTwoViewers: the host starts a flash sale of 1 unit from the
// studio; two viewers see the countdown and the stock; one buys the last
// unit; the other sees "sold out" without reloading and cannot buy.
func TestFlashSaleTwoViewers(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	a := viewerLogin(t, browser, m, "13700000001")
	b := viewerLogin(t, browser, m, "13700000002")

	host := testkit.NewContext(t, browser, 60*time.Second)
	run(t, host, "host viewport", chromedp.EmulateViewport(1440, 900))
	login(t, host, m, "host", "/studio")
	run(t, host, "start flash sale",
		chromedp.WaitReady(chromedp.CSS(`#flash-sku option[value="1"]`)),
		chromedp.SetValue(chromedp.CSS("#flash-sku"), "1"),
		chromedp.SetValue(chromedp.CSS("#flash-price"), "9.90"),
		chromedp.SetValue(chromedp.CSS("#flash-qty"), "1"),
		chromedp.SetValue(chromedp.CSS("#flash-limit"), "1"),
		chromedp.Click(chromedp.CSS("#flash-start")),
		chromedp.WaitVisible(chromedp.CSS("#flash-list li")),
	)
	for i, v := range []context.Context{a, b} {
		poll(t, v, fmt.Sprintf("viewer %d sees the sale", i), `!document.querySelector("#flash").classList.contains("hidden") && document.querySelector("#flash-left").textContent.includes("1")`)
		poll(t, v, fmt.Sprintf("viewer %d countdown runs", i), `/\d\d:\d\d/.test(document.querySelector("#flash-clock").textContent)`)
	}
	testkit.Screenshot(t, a, "13-flash-sale")
	testkit.Screenshot(t, host, "14-studio-flash")

	// Viewer A buys the only unit.
	run(t, a, "A buys", chromedp.Click(chromedp.CSS("#flash-buy")), chromedp.WaitEnabled(chromedp.CSS("#confirm-order")), chromedp.Click(chromedp.CSS("#confirm-order")), chromedp.WaitVisible(chromedp.CSS("#confirm-pay")))
	// Viewer B sees it sold out, live.
	poll(t, b, "B sees sold out", `document.querySelector("#flash-left").textContent.includes("已抢光") && document.querySelector("#flash-buy").disabled`)
	testkit.Screenshot(t, b, "15-flash-sold-out")
	poll(t, host, "studio shows sold out", `document.querySelector("#flash-list").textContent.includes("已抢光")`)

	// Even a stale page cannot buy: the API says sold out.
	c := testkit.Viewer(t, m, "13700000003")
	var out struct{ Code string }
	var room struct {
		Flash []struct{ ID int64 } `json:"flash_sales"`
	}
	testkit.Owner(m).Do(t, "GET", "/api/v1/rooms/demo", nil, &room)
	if len(room.Flash) != 1 {
		t.Fatalf("flash sales in room: %+v", room.Flash)
	}
	if st := c.Do(t, "POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"sku_id": 1, "quantity": 1}}, "fulfilment": "pickup", "flash_sale_id": room.Flash[0].ID}, &out); st != 409 || out.Code != "sold_out" {
		t.Fatalf("late buyer: %d %q", st, out.Code)
	}
	if !strings.Contains(text(t, a, "body"), "9.90") {
		t.Fatalf("A's pay page does not show the flash price")
	}
}
