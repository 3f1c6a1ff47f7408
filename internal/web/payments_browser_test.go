package web_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
	"github.com/shelflive/shelflive/internal/testkit"
)

// withCookie puts a session cookie into the browser context.
func withCookie(base, name, value string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: base})
		return chromedp.Void{}, err
	}
}

func runB(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		testkit.Screenshot(t, ctx, "failed-"+what)
		t.Fatalf("%s: %v", what, err)
	}
}

// TestWeChatPayCheckoutBrowser pays with WeChat Pay on the fake in
// headless chromium: a desktop buyer gets a QR code (Native), a phone
// buyer the H5 cashier; the owner sets up and checks the account in /admin.
func TestWeChatPayCheckoutBrowser(t *testing.T) {
	s := newWeChatShop(t)
	browser := testkit.Browser(t)
	order := func(phone string) (orderView, string) {
		buyer := viewerLogin(t, s.base, "demo", phone)
		r := send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), buyer.Token, nil)
		if r.Status != 201 {
			t.Fatalf("order: %d %s", r.Status, r.Body)
		}
		var o orderView
		r.decode(t, &o)
		return o, buyer.Token
	}

	// Desktop: the QR code of the Native order; paying it moves the page on.
	o, token := order("13900000071")
	desk := testkit.NewContext(t, browser, 90*time.Second)
	runB(t, desk, "desktop open", chromedp.EmulateViewport(1440, 900), withCookie(s.base, "sl_viewer", token))
	runB(t, desk, "desktop nav", chromedp.Navigate(s.base+"/orders/"+strconv.FormatInt(o.ID, 10)))
	testkit.Screenshot(t, desk, "pay-00-order")
	runB(t, desk, "desktop checkout", chromedp.WaitVisible(chromedp.CSS("#pay-btn")),
		chromedp.Click(chromedp.CSS("#pay-btn")),
		chromedp.WaitVisible(chromedp.CSS("#pay-with-wechatpay")))
	testkit.Screenshot(t, desk, "pay-01-choose")
	runB(t, desk, "qr", chromedp.Click(chromedp.CSS("#pay-with-wechatpay")), chromedp.WaitVisible(chromedp.CSS("#pay-qr")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#pay-qr").complete && document.querySelector("#pay-qr").naturalWidth > 0`, chromedp.WithPollingTimeout(20*time.Second)))
	testkit.Screenshot(t, desk, "pay-02-desktop-qr")
	var intent string
	s.m.DB.QueryRow(t.Context(), `SELECT intent FROM payments WHERE order_id = ? AND method = 'native'`, o.ID).Scan(&intent)
	if st, err := s.fake.Pay(s.mchid, intent); err != nil || st != 200 {
		t.Fatalf("pay on the fake: %d %v", st, err)
	}
	runB(t, desk, "paid", chromedp.WaitVisible(chromedp.CSS("#pickup-code")))
	testkit.Screenshot(t, desk, "pay-03-desktop-paid")

	// Phone: H5 on the fake cashier, then back to the order page.
	o2, token2 := order("13900000072")
	phone := testkit.NewContext(t, browser, 90*time.Second)
	runB(t, phone, "phone checkout", chromedp.Emulate(device.IPhone12Pro), withCookie(s.base, "sl_viewer", token2),
		chromedp.Navigate(s.base+"/orders/"+strconv.FormatInt(o2.ID, 10)),
		chromedp.Click(chromedp.CSS("#pay-btn")),
		chromedp.WaitVisible(chromedp.CSS("#pay-with-wechatpay")))
	testkit.Screenshot(t, phone, "pay-04-phone-choose")
	runB(t, phone, "h5", chromedp.Click(chromedp.CSS("#pay-with-wechatpay")), chromedp.WaitVisible(chromedp.CSS("#confirm")))
	testkit.Screenshot(t, phone, "pay-05-phone-h5-cashier")
	runB(t, phone, "h5 paid", chromedp.Click(chromedp.CSS("#confirm")), chromedp.WaitVisible(chromedp.CSS("#pickup-code")))
	testkit.Screenshot(t, phone, "pay-06-phone-paid")

	// Admin: the account shows ids and fingerprints; the check passes.
	owner := staffLogin(t, s.base, "owner", "shelflive-demo")
	admin := testkit.NewContext(t, browser, 60*time.Second)
	runB(t, admin, "admin payments", chromedp.EmulateViewport(1440, 900), withCookie(s.base, "sl_staff", owner.Token),
		chromedp.Navigate(s.base+"/admin#payments"), chromedp.WaitVisible(chromedp.CSS("#checkbtn-wechatpay")),
		chromedp.Click(chromedp.CSS("#checkbtn-wechatpay")), chromedp.WaitVisible(chromedp.CSS("#check-wechatpay .badge.green")))
	testkit.Screenshot(t, admin, "pay-07-admin-payments")
	runB(t, admin, "admin edit", chromedp.Click(chromedp.CSS("#edit-wechatpay")), chromedp.WaitVisible(chromedp.CSS("#modal textarea")), chromedp.Sleep(300*time.Millisecond))
	testkit.Screenshot(t, admin, "pay-08-admin-edit")
}

// TestAlipayCheckoutBrowser: a shop with WeChat Pay and Alipay. A phone
// buyer picks 支付宝 and goes through Alipay WAP (the fake's cashier checks
// our signed link, the buyer confirms, Alipay notifies and sends the buyer
// back to the order, paid); a desktop buyer gets Alipay's QR code, paid by
// scanning (the fake), and the page moves on; inside WeChat, which blocks
// Alipay's pages, 支付宝 is not offered.
func TestAlipayCheckoutBrowser(t *testing.T) {
	s := newWeChatAlipayShop(t, "13900000073")
	browser := testkit.Browser(t)
	order := func(phone string) (orderView, string) {
		buyer := viewerLogin(t, s.base, "demo", phone)
		var o orderView
		send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), buyer.Token, nil).want(t, 201).decode(t, &o)
		return o, buyer.Token
	}

	o, token := order("13900000074")
	phone := testkit.NewContext(t, browser, 90*time.Second)
	runB(t, phone, "phone checkout", chromedp.Emulate(device.IPhone12Pro), withCookie(s.base, "sl_viewer", token),
		chromedp.Navigate(s.base+"/orders/"+strconv.FormatInt(o.ID, 10)),
		chromedp.Click(chromedp.CSS("#pay-btn")), chromedp.WaitVisible(chromedp.CSS("#pay-with-alipay")))
	testkit.Screenshot(t, phone, "alipay-01-phone-choose")
	runB(t, phone, "wap cashier", chromedp.Click(chromedp.CSS("#pay-with-alipay")), chromedp.WaitVisible(chromedp.CSS("#confirm")))
	testkit.Screenshot(t, phone, "alipay-02-phone-wap-cashier")
	runB(t, phone, "wap paid", chromedp.Click(chromedp.CSS("#confirm")), chromedp.WaitVisible(chromedp.CSS("#pickup-code")))
	testkit.Screenshot(t, phone, "alipay-03-phone-paid")
	if got := orderStatus(t, s.base, token, o.ID); got.Status != "paid" {
		t.Fatalf("after Alipay WAP: %+v", got)
	}

	o2, token2 := order("13900000075")
	desk := testkit.NewContext(t, browser, 90*time.Second)
	runB(t, desk, "desktop checkout", chromedp.EmulateViewport(1440, 900), withCookie(s.base, "sl_viewer", token2),
		chromedp.Navigate(s.base+"/orders/"+strconv.FormatInt(o2.ID, 10)),
		chromedp.Click(chromedp.CSS("#pay-btn")), chromedp.WaitVisible(chromedp.CSS("#pay-with-alipay")),
		chromedp.Click(chromedp.CSS("#pay-with-alipay")), chromedp.WaitVisible(chromedp.CSS("#pay-qr")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#pay-qr").complete && document.querySelector("#pay-qr").naturalWidth > 0`, chromedp.WithPollingTimeout(20*time.Second)))
	testkit.Screenshot(t, desk, "alipay-04-desktop-qr")
	var intent string
	s.m.DB.QueryRow(t.Context(), `SELECT intent FROM payments WHERE order_id = ? AND method = 'qr'`, o2.ID).Scan(&intent)
	if st, body, err := s.ali.Pay(testAppID, intent); err != nil || st != 200 || body != "success" {
		t.Fatalf("scan and pay on the fake: %d %q %v", st, body, err)
	}
	runB(t, desk, "desktop paid", chromedp.WaitVisible(chromedp.CSS("#pickup-code")))
	testkit.Screenshot(t, desk, "alipay-05-desktop-paid")

	o3, token3 := order("13900000076")
	wx := testkit.NewContext(t, browser, 60*time.Second)
	runB(t, wx, "in WeChat", chromedp.Emulate(wechatPhone{}), withCookie(s.base, "sl_viewer", token3),
		chromedp.Navigate(s.base+"/orders/"+strconv.FormatInt(o3.ID, 10)),
		chromedp.Click(chromedp.CSS("#pay-btn")), chromedp.WaitVisible(chromedp.CSS("#pay-with-wechatpay")))
	testkit.Screenshot(t, wx, "alipay-06-wechat-choose")
	offered, err := chromedp.Run(wx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".pay-option")].map(b => b.id)`))
	if err != nil || len(offered) == 0 {
		t.Fatalf("payment options in WeChat: %v %v", offered, err)
	}
	for _, id := range offered {
		if id == "pay-with-alipay" {
			t.Fatalf("Alipay offered inside WeChat: %v", offered)
		}
	}
}
