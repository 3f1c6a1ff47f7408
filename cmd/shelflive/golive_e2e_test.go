package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/payment/wechatpay/wechatpaytest"
	"github.com/shelflive/shelflive/internal/sms/smstest"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestGoLive is issue 14's whole road in production mode (SHELFLIVE_DEV=false,
// SHELFLIVE_DEMO=false), with the outside world played by local fakes over
// real HTTP: the platform operator creates the shop with `shelflive
// merchant create`; its owner logs in, sets up a store, a product with a
// lot in stock, a pickup counter account, the WeChat Pay account and a
// live room; a viewer on a phone (390×844) logs in with the code the fake
// Aliyun SMS delivered, buys, pays with WeChat Pay H5 on the fake's
// cashier; the fake's signed, encrypted callback marks the order paid; the
// counter hands the goods over by the pickup code; then the owner refunds
// part of it, the fake's refund callback confirms it, and the buyer's
// order page shows the refund.
func TestGoLive(t *testing.T) {
	wx, err := wechatpaytest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wx.Close)
	sms := smstest.Aliyun(t, "golive-key-id", "golive-key-secret")
	t.Setenv("SHELFLIVE_SMS_KEY_SECRET", sms.KeySecret)

	dir := t.TempDir()
	const ownerPassword = "Green-Valley-2026"
	mustCLI(t, ownerPassword+"\n", "create", "--slug", "qingqing", "--name", "青青果蔬", "--owner-login", "qing", "--owner-name", "青姐", "--data-dir", dir)
	m, logs := startLogged(t, "-dev=false", "-demo=false", "-data-dir", dir, "-secret-key", testSecretKey,
		"-sms", "aliyun", "-sms-key-id", sms.KeyID, "-sms-sign-name", "青青果蔬", "-sms-template", "SMS_154950909", "-sms-base-url", sms.URL,
		"-wechatpay-base-url", wx.URL)
	browser := testkit.Browser(t)

	// The owner logs in and sets the shop up.
	admin := testkit.NewContext(t, browser, 120*time.Second)
	run(t, admin, "owner's desktop", chromedp.EmulateViewport(1440, 900))
	testkit.StaffLogin(t, admin, m.URL(), "qing", ownerPassword, "/admin")
	run(t, admin, "admin", chromedp.WaitVisible(chromedp.CSS("#admin-nav")))
	owner := staffClient(t, m, "qing", ownerPassword)
	var store struct{ ID int64 }
	if st := owner.Do(t, "POST", "/api/v1/stores", map[string]any{"name": "青青果蔬 人民路店", "address": "上海市黄浦区人民路 88 号", "lat": 31.23, "lng": 121.48}, &store); st != 201 {
		t.Fatalf("store: %d", st)
	}
	var product struct {
		ID   int64 `json:"id"`
		SKUs []struct {
			ID int64 `json:"id"`
		} `json:"skus"`
	}
	if st := owner.Do(t, "POST", "/api/v1/products", map[string]any{"name": "崇明翠冠梨", "origin": "上海崇明", "storage": "chilled", "shelf_days": 10,
		"skus": []any{map[string]any{"code": "PEAR-4", "name": "4个装", "price_fen": 3680}}}, &product); st != 201 || len(product.SKUs) != 1 {
		t.Fatalf("product: %d", st)
	}
	now := time.Now().UTC()
	var lot struct{ ID int64 }
	if st := owner.Do(t, "POST", "/api/v1/lots", map[string]any{"sku_id": product.SKUs[0].ID, "code": "CM-PEAR-1207", "produced_at": now.Add(-24 * time.Hour), "expires_at": now.Add(9 * 24 * time.Hour)}, &lot); st != 201 {
		t.Fatalf("lot: %d", st)
	}
	if st := owner.Do(t, "PUT", "/api/v1/stock", map[string]any{"store_id": store.ID, "lot_id": lot.ID, "on_hand": 20}, nil); st != 204 {
		t.Fatalf("stock: %d", st)
	}
	if st := owner.Do(t, "POST", "/api/v1/staff", map[string]any{"username": "counter", "name": "柜台小王", "role": "store", "store_id": store.ID, "password": "Pear-Desk-7788"}, nil); st != 201 {
		t.Fatalf("counter staff: %d", st)
	}
	_, wxFields, err := wx.NewMerchant("1900000209")
	if err != nil {
		t.Fatal(err)
	}
	if st := owner.Do(t, "PUT", "/api/v1/payments/wechatpay", wxFields, nil); st != 200 {
		t.Fatalf("wechat pay account: %d", st)
	}
	if st := owner.Do(t, "POST", "/api/v1/rooms", map[string]any{"slug": "pear-live", "title": "崇明梨 今晚直播", "store_id": store.ID, "product_ids": []int64{product.ID}}, nil); st != 201 {
		t.Fatalf("room: %d", st)
	}
	if st := owner.Do(t, "POST", "/api/v1/rooms/pear-live/status", map[string]string{"status": "live"}, nil); st != 200 {
		t.Fatalf("go live: %d", st)
	}
	if st := owner.Do(t, "POST", "/api/v1/rooms/pear-live/pin", map[string]int64{"product_id": product.ID}, nil); st != 200 {
		t.Fatalf("pin: %d", st)
	}
	run(t, admin, "payments in admin", chromedp.Navigate(url(m, "/admin#payments")), chromedp.WaitVisible(chromedp.CSS("#checkbtn-wechatpay")),
		chromedp.Click(chromedp.CSS("#checkbtn-wechatpay")), chromedp.WaitVisible(chromedp.CSS("#check-wechatpay .badge.green")))
	testkit.Screenshot(t, admin, "golive-01-admin-payments")

	// A viewer on a phone: the room, a login code by SMS, buy, WeChat Pay H5.
	const phone = "13912345678"
	viewer := testkit.NewContext(t, browser, 120*time.Second)
	run(t, viewer, "open the room", chromedp.Emulate(device.IPhone12Pro), chromedp.Navigate(url(m, "/live/pear-live")),
		chromedp.WaitVisible(chromedp.CSS("#pinned-name")))
	if got := text(t, viewer, "#pinned-name"); !strings.Contains(got, "崇明翠冠梨") {
		t.Fatalf("pinned card shows %q", got)
	}
	testkit.Settled(t, viewer)
	testkit.Screenshot(t, viewer, "golive-02-room")
	poll(t, viewer, "buy button", `document.querySelector("#buy-btn") !== null`)
	run(t, viewer, "buy asks for a login", chromedp.Evaluate[chromedp.Void](`document.querySelector("#buy-btn").click()`))
	testkit.PhoneLogin(t, viewer, phone, testkit.SMSCode(sms.LastCode))
	run(t, viewer, "buy sheet", chromedp.WaitVisible(chromedp.CSS("#confirm-order")))
	if n := len(sms.Sent()); n != 1 || sms.Sent()[0].SignName != "青青果蔬" || sms.Sent()[0].Template != "SMS_154950909" {
		t.Fatalf("SMS delivered: %+v", sms.Sent())
	}
	poll(t, viewer, "store chosen", `!document.querySelector("#confirm-order").disabled`)
	testkit.Settled(t, viewer)
	testkit.Screenshot(t, viewer, "golive-03-buy")
	run(t, viewer, "pay with WeChat Pay H5", chromedp.Evaluate[chromedp.Void](`document.querySelector("#confirm-order").click()`),
		chromedp.WaitVisible(chromedp.CSS("#confirm"))) // the fake's cashier
	testkit.Screenshot(t, viewer, "golive-04-wechat-h5")
	run(t, viewer, "paid", chromedp.Click(chromedp.CSS("#confirm")), chromedp.WaitVisible(chromedp.CSS("#pickup-code")))
	testkit.Settled(t, viewer)
	testkit.Screenshot(t, viewer, "golive-05-paid")

	var orderID int64
	loc, err := chromedp.Run(viewer, chromedp.Evaluate[string](`location.pathname`))
	if err == nil && strings.HasPrefix(loc, "/orders/") {
		orderID, _ = strconv.ParseInt(strings.TrimPrefix(loc, "/orders/"), 10, 64)
	}
	if orderID == 0 {
		t.Fatalf("not on an order page: %s", loc)
	}
	o := orderAsStaff(t, owner, orderID)
	if o.Status != "paid" || o.TotalFen != 3680 || o.PickupCode != "" {
		t.Fatalf("order after paying: %+v", o)
	}
	testkit.WaitFor(t, "the fake to record the payment callback", 10*time.Second, func() bool { return len(callbackEvents(t, wx)) >= 1 })
	if events := callbackEvents(t, wx); len(events) != 1 || events[0] != "TRANSACTION.SUCCESS" {
		t.Fatalf("callbacks the fake sent: %v", events)
	}
	pickupCode := strings.ReplaceAll(text(t, viewer, "#pickup-code"), " ", "")

	// The counter hands the pears over by the buyer's code.
	counter := testkit.NewContext(t, browser, 90*time.Second)
	run(t, counter, "counter desktop", chromedp.EmulateViewport(1440, 900))
	testkit.StaffLogin(t, counter, m.URL(), "counter", "Pear-Desk-7788", "/pickup")
	run(t, counter, "look up the code", chromedp.WaitVisible(chromedp.CSS("#pickup-input")), chromedp.SendKeys(chromedp.CSS("#pickup-input"), pickupCode+"\r"),
		chromedp.WaitVisible(chromedp.CSS("#handover")), chromedp.Click(chromedp.CSS("#handover")))
	poll(t, counter, "handed over", `document.querySelector("#pickup-status").textContent === "已完成"`)
	testkit.Settled(t, counter)
	testkit.Screenshot(t, counter, "golive-06-handover")
	if o := orderAsStaff(t, owner, orderID); o.Status != "completed" {
		t.Fatalf("after handover: %s", o.Status)
	}

	// One pear was bruised: the owner refunds ¥9.20 of it.
	owner.Header = map[string]string{"Idempotency-Key": "bruised-pear-" + strconv.FormatInt(orderID, 10)}
	var rf struct {
		RefundNo string `json:"refund_no"`
		Status   string `json:"status"`
	}
	if st := owner.Do(t, "POST", "/api/v1/orders/"+strconv.FormatInt(orderID, 10)+"/refunds", map[string]any{"amount_fen": 920, "reason": "一个梨磕碰"}, &rf); st != 201 && st != 200 {
		t.Fatalf("refund: %d", st)
	}
	owner.Header = nil
	testkit.WaitFor(t, "the refund callback", 20*time.Second, func() bool {
		return orderAsStaff(t, owner, orderID).RefundedFen == 920
	})
	// The fake records a callback once our answer to it is back, which can
	// be a moment after the refund shows on the order.
	testkit.WaitFor(t, "the fake to record the refund callback", 10*time.Second, func() bool { return len(callbackEvents(t, wx)) >= 2 })
	if events := callbackEvents(t, wx); len(events) != 2 || events[1] != "REFUND.SUCCESS" {
		t.Fatalf("callbacks the fake sent: %v", events)
	}
	if vo, ok := wx.Order("1900000209", intentOf(t, m, orderID)); !ok || vo.Refunded != 920 {
		t.Fatalf("the vendor's order: %+v", vo)
	}
	run(t, viewer, "order page after the refund", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main")))
	page := text(t, viewer, "main")
	if !strings.Contains(page, "已退款") || !strings.Contains(page, "9.20") || !strings.Contains(page, "已完成") {
		t.Fatalf("the buyer's order page after the refund:\n%s", page)
	}
	testkit.Settled(t, viewer)
	testkit.Screenshot(t, viewer, "golive-07-refunded")

	log := logs.String()
	for _, s := range sms.Sent() {
		if strings.Contains(log, s.Code) {
			t.Fatal("the login code is in the log")
		}
	}
	if strings.Contains(log, wxFields["apiv3_key"]) {
		t.Fatal("the APIv3 key is in the log")
	}
}

type staffOrder struct {
	Status      string `json:"status"`
	TotalFen    int64  `json:"total_fen"`
	RefundedFen int64  `json:"refunded_fen"`
	PickupCode  string `json:"pickup_code"`
}

func orderAsStaff(t *testing.T, c *testkit.Client, id int64) staffOrder {
	t.Helper()
	var o staffOrder
	if st := c.Do(t, "GET", "/api/v1/orders/"+strconv.FormatInt(id, 10), nil, &o); st != 200 {
		t.Fatalf("order %d: %d", id, st)
	}
	return o
}

// callbackEvents lists the event types of the callbacks a fake WeChat Pay
// sent and ShelfLive acknowledged (the envelope's event_type is in clear).
func callbackEvents(t *testing.T, wx *wechatpaytest.Fake) []string {
	t.Helper()
	var out []string
	for _, c := range wx.Sent() {
		var env struct {
			EventType string `json:"event_type"`
		}
		json.Unmarshal(c.Body, &env)
		if c.Status != 200 {
			t.Fatalf("ShelfLive answered %d to %s", c.Status, env.EventType)
		}
		out = append(out, env.EventType)
	}
	return out
}

// intentOf is the order's paid intent: the vendor's out_trade_no.
func intentOf(t *testing.T, m *node.Main, orderID int64) string {
	t.Helper()
	var intent string
	if err := m.DB.QueryRow(t.Context(), `SELECT intent FROM payments WHERE order_id = ? AND status IN ('paid', 'refunded')`, orderID).Scan(&intent); err != nil {
		t.Fatalf("intent of order %d: %v", orderID, err)
	}
	return intent
}
