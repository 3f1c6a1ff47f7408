package web_test

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
	"github.com/shelflive/shelflive/internal/testkit"
)

// photoFile writes a small PNG (a "bruised strawberry") to upload.
func photoFile(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			c := color.RGBA{200, 30, 40, 255}
			if (x-40)*(x-40)+(y-24)*(y-24) < 120 {
				c = color.RGBA{90, 40, 20, 255}
			}
			img.Set(x, y, c)
		}
	}
	p := filepath.Join(t.TempDir(), "strawberry.png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAftersaleRefundBrowser: on a phone (390×844) a customer who picked
// up strawberries asks for a partial refund with a photo (quality
// complaint); the store approves it in /admin; WeChat Pay (the local fake)
// refunds and calls back; the customer's order page shows it refunded.
func TestAftersaleRefundBrowser(t *testing.T) {
	s := newWeChatShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900000081")
	o, p := s.order(t, buyer.Token, "native")
	if st, err := s.fake.Pay(s.mchid, p.Intent); err != nil || st != 200 {
		t.Fatalf("pay: %d %v", st, err)
	}
	paidAt(t, s.base, buyer.Token, o.ID)
	var full struct {
		PickupCode string `json:"pickup_code"`
		TotalFen   int64  `json:"total_fen"`
	}
	send(t, nil, s.base, "GET", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10), nil, buyer.Token, nil).decode(t, &full)
	if r := send(t, nil, s.base, "POST", "/api/v1/pickups/verify", map[string]any{"code": full.PickupCode, "confirm": true}, testkit.OwnerToken, nil); r.Status != 200 {
		t.Fatalf("handover: %d %s", r.Status, r.Body)
	}
	partial := full.TotalFen / 2

	browser := testkit.Browser(t)
	phone := testkit.NewContext(t, browser, 120*time.Second)
	orderURL := s.base + "/orders/" + strconv.FormatInt(o.ID, 10)
	runB(t, phone, "open order", chromedp.Emulate(device.IPhone12Pro), withCookie(s.base, "sl_viewer", buyer.Token),
		chromedp.Navigate(orderURL), chromedp.WaitVisible(chromedp.CSS("#aftersale-btn")))
	testkit.Screenshot(t, phone, "aftersale-00-order-picked-up")
	runB(t, phone, "open form", chromedp.Click(chromedp.CSS("#aftersale-btn")), chromedp.WaitVisible(chromedp.CSS("#aftersale-submit")))
	runB(t, phone, "fill form",
		chromedp.Click(chromedp.CSS(`#aftersale-kinds [data-kind="quality"]`)),
		chromedp.SetValue(chromedp.CSS("#aftersale-reason"), "spoiled"),
		chromedp.SetValue(chromedp.CSS("#aftersale-amount"), strconv.FormatFloat(float64(partial)/100, 'f', 2, 64)),
		chromedp.SendKeys(chromedp.CSS("#aftersale-note"), "有两颗压坏发霉"),
		chromedp.SetUploadFiles(chromedp.CSS("#aftersale-photo"), []string{photoFile(t)}),
		chromedp.WaitVisible(chromedp.CSS("#aftersale-thumbs img")))
	testkit.Screenshot(t, phone, "aftersale-01-form-with-photo")
	runB(t, phone, "submit", chromedp.Click(chromedp.CSS("#aftersale-submit")),
		chromedp.WaitVisible(chromedp.CSS(`.aftersale-item[data-status="requested"]`)))
	testkit.Screenshot(t, phone, "aftersale-02-requested")

	// The store approves in /admin → 售后, with the time left shown.
	owner := staffLogin(t, s.base, "owner", "shelflive-demo")
	admin := testkit.NewContext(t, browser, 90*time.Second)
	runB(t, admin, "admin aftersales", chromedp.EmulateViewport(1440, 900), withCookie(s.base, "sl_staff", owner.Token),
		chromedp.Navigate(s.base+"/admin#aftersales"), chromedp.WaitVisible(chromedp.CSS(`[data-action="approve"]`)),
		chromedp.WaitVisible(chromedp.CSS(".thumbs img")))
	deadline, err := chromedp.Run(admin, chromedp.Text(chromedp.CSS("tbody tr td:nth-child(7)")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(deadline, "23 小时") && !strings.Contains(deadline, "24 小时") {
		t.Fatalf("time left to answer %q, want about 24 h", deadline)
	}
	testkit.Screenshot(t, admin, "aftersale-03-admin-review")
	runB(t, admin, "approve", chromedp.Click(chromedp.CSS(`[data-action="approve"]`)), chromedp.WaitVisible(chromedp.CSS("#modal textarea")))
	testkit.Screenshot(t, admin, "aftersale-04-admin-approve")
	runB(t, admin, "save", chromedp.Click(chromedp.CSS(`#modal button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("#aftersale-empty")))

	// WeChat Pay's refund callback (the fake's, signed) finishes it; the
	// phone's page, left open, shows it refunded.
	runB(t, phone, "refunded", chromedp.WaitVisible(chromedp.CSS(`.aftersale-item[data-status="refunded"]`)), chromedp.WaitVisible(chromedp.CSS("#refunded-row")))
	refunded, err := chromedp.Run(phone, chromedp.Text(chromedp.CSS("#refunded-fen")))
	if err != nil {
		t.Fatal(err)
	}
	if want := "¥" + strconv.FormatFloat(float64(partial)/100, 'f', 2, 64); refunded != want {
		t.Fatalf("refunded %q, want %q", refunded, want)
	}
	testkit.Screenshot(t, phone, "aftersale-05-refunded")
	vo, _ := s.fake.Order(s.mchid, p.Intent)
	if vo.Refunded != partial {
		t.Fatalf("the vendor refunded %d, want %d", vo.Refunded, partial)
	}
	sent := s.fake.Sent()
	callback := false
	for _, c := range sent {
		if strings.Contains(c.URL, "/api/v1/payments/wechatpay/notify/") && strings.Contains(string(c.Body), "REFUND.SUCCESS") {
			callback = true
		}
	}
	if !callback {
		t.Fatalf("no refund callback among %d sent", len(sent))
	}
	// A replay of every callback changes nothing.
	for _, c := range sent {
		s.fake.Deliver(c.URL, c.Header, c.Body)
	}
	var after struct {
		RefundedFen int64 `json:"refunded_fen"`
	}
	send(t, nil, s.base, "GET", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10), nil, buyer.Token, nil).decode(t, &after)
	if after.RefundedFen != partial {
		t.Fatalf("refunded_fen %d after replays, want %d", after.RefundedFen, partial)
	}
	// The quality console shows the complaint and the refund beside the
	// cold-chain evidence, per product and lot.
	runB(t, admin, "quality console", chromedp.Navigate(s.base+"/admin/coldchain"),
		chromedp.WaitVisible(chromedp.CSS("#cc-quality-table tbody tr")))
	row, err := chromedp.Run(admin, chromedp.Text(chromedp.CSS("#cc-quality-table tbody tr")))
	if err != nil || !strings.Contains(row, "草莓") || !strings.Contains(row, "¥"+strconv.FormatFloat(float64(partial)/100, 'f', 2, 64)) {
		t.Fatalf("quality console row %q (%v)", row, err)
	}
	testkit.Screenshot(t, admin, "aftersale-06-quality-console")
	var inbox struct {
		Messages []struct {
			Kind string `json:"kind"`
		} `json:"messages"`
	}
	send(t, nil, s.base, "GET", "/api/v1/me/inbox", nil, buyer.Token, nil).decode(t, &inbox)
	kinds := map[string]bool{}
	for _, m := range inbox.Messages {
		kinds[m.Kind] = true
	}
	for _, k := range []string{"aftersale.requested", "aftersale.approved", "aftersale.refunded"} {
		if !kinds[k] {
			t.Fatalf("inbox %v lacks %s", kinds, k)
		}
	}
}
