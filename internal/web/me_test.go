package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestMyPage: 我的 at 390×844 shows the buyer's paid pickup order with its
// code, a delivery address, the subscribed live (cancelled with one tap),
// the inbox, and the privacy buttons: export downloads the data, erase
// (after the confirm dialog) logs the buyer out.
func TestMyPage(t *testing.T) {
	s := newShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900001401")
	o, intent, _ := placeAndStartPaying(t, s, buyer.Token, 1)
	send(t, nil, s.base, "POST", "/api/v1/payments/dev/"+intent+"/confirm", nil, "", nil).want(t, 200)
	testkit.WaitFor(t, "paid", 10*time.Second, func() bool { return orderStatus(t, s.base, buyer.Token, o.ID).Status == "paid" })
	code := orderStatus(t, s.base, buyer.Token, o.ID).PickupCode
	delivery := map[string]any{"items": []any{map[string]any{"sku_id": s.sku2, "quantity": 1}}, "fulfilment": "delivery", "store_id": s.storeID,
		"contact_name": "王小明", "contact_phone": "13900001401", "address": "上海市徐汇区漕溪北路 88 号"}
	if r := send(t, nil, s.base, "POST", "/api/v1/orders", delivery, buyer.Token, map[string]string{"Idempotency-Key": "me-delivery"}); r.Status != 201 {
		t.Fatalf("delivery order: %d %s", r.Status, r.Body)
	}
	send(t, nil, s.base, "PUT", "/api/v1/rooms/clearance/subscription", nil, buyer.Token, nil).want(t, 200)
	var subs struct {
		Subscriptions []struct {
			Slug string `json:"slug"`
		} `json:"subscriptions"`
	}
	send(t, nil, s.base, "GET", "/api/v1/me/subscriptions", nil, buyer.Token, nil).want(t, 200).decode(t, &subs)
	if len(subs.Subscriptions) != 1 || subs.Subscriptions[0].Slug != "clearance" {
		t.Fatalf("subscriptions %+v", subs)
	}

	ctx := testkit.NewContext(t, testkit.Browser(t), 90*time.Second)
	runB(t, ctx, "open 我的", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		withCookie(s.base, "sl_viewer", buyer.Token),
		chromedp.Navigate(s.base+"/me?from=demo"),
		chromedp.WaitVisible(chromedp.CSS("#my-orders")))
	testkit.Screenshot(t, ctx, "me-390")
	shot(t, ctx, "me-page")
	text := func(sel string) string {
		v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("`+sel+`").textContent`))
		return v
	}
	orders, addrs, subText := text("#my-orders"), text("#addresses"), text("#subscriptions")
	if !strings.Contains(orders, code) || !strings.Contains(orders, "已支付") || !strings.Contains(orders, "待支付") {
		t.Fatalf("orders section lacks the pickup code %s or statuses: %q", code, orders)
	}
	if !strings.Contains(addrs, "漕溪北路") || strings.Contains(addrs, "13900001401") {
		t.Fatalf("addresses: %q (the phone must be masked)", addrs)
	}
	if !strings.Contains(subText, "取消预约") {
		t.Fatalf("subscriptions: %q", subText)
	}
	if wide, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); wide {
		t.Fatal("我的 scrolls sideways at 390 px")
	}
	runB(t, ctx, "cancel the subscription", chromedp.Click(chromedp.CSS(`.sub-cancel[data-slug="clearance"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`li[data-sub="clearance"]`)))
	send(t, nil, s.base, "GET", "/api/v1/me/subscriptions", nil, buyer.Token, nil).want(t, 200).decode(t, &subs)
	if len(subs.Subscriptions) != 0 {
		t.Fatalf("still subscribed: %+v", subs)
	}

	// Export: the link the button is answers the buyer's data.
	href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#export-data").getAttribute("href")`))
	if r := send(t, nil, s.base, "GET", href, nil, buyer.Token, nil).want(t, 200); !strings.Contains(string(r.Body), strconv.FormatInt(o.ID, 10)) || !strings.Contains(string(r.Body), `"reminders"`) || !strings.Contains(string(r.Body), `"channels"`) {
		t.Fatalf("export lacks the order or the reminders: %s", r.Body)
	}
	// Erase: confirm, then the session is gone.
	runB(t, ctx, "erase", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`), chromedp.Click(chromedp.CSS("#erase-data")))
	testkit.WaitFor(t, "the session ends", 20*time.Second, func() bool {
		return send(t, nil, s.base, "GET", "/api/v1/me/orders", nil, buyer.Token, nil).Status == 401
	})
}
