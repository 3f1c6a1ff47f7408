package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/testkit"
)

type stockLevel struct {
	StoreID  int64 `json:"store_id"`
	LotID    int64 `json:"lot_id"`
	OnHand   int64 `json:"on_hand"`
	Reserved int64 `json:"reserved"`
}

func skuStock(t *testing.T, m *node.Main, skuID int64) (onHand, reserved int64) {
	var out struct{ Levels []stockLevel }
	testkit.Owner(m).Do(t, "GET", "/api/v1/stock?sku_id="+strconv.FormatInt(skuID, 10), nil, &out)
	for _, l := range out.Levels {
		onHand += l.OnHand
		reserved += l.Reserved
	}
	return
}

func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	testkit.Run(t, ctx, what, steps...)
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func poll(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		testkit.Screenshot(t, ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// login logs a demo staff member in on /login (testkit.StaffLogin).
func login(t *testing.T, ctx context.Context, m *node.Main, user, next string) {
	t.Helper()
	testkit.StaffLogin(t, ctx, m.URL(), user, "shelflive-demo", next)
}

// TestViewerBuysAndPicksUp walks the closed loop in a real browser: watch,
// comment, buy for pickup, pay with the dev provider, get a pickup code; the
// host pushes another card and the viewer sees it live; store staff verify
// the code and the viewer's order page turns completed.
func TestViewerBuysAndPicksUp(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")

	viewer := testkit.NewContext(t, browser, 90*time.Second)
	run(t, viewer, "open room",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(url(m, "/live/demo")),
		chromedp.WaitVisible(chromedp.CSS("#pinned #buy-btn")),
	)
	if got := text(t, viewer, "#pinned-name"); got != "丹东99草莓" {
		t.Fatalf("pinned card shows %q", got)
	}
	testkit.Screenshot(t, viewer, "01-viewer-room")

	// Commenting first asks for a phone login (dev mode shows the code).
	run(t, viewer, "comment asks login",
		chromedp.SendKeys(chromedp.CSS("#comment-input"), "草莓甜吗？\r"),
		chromedp.WaitVisible(chromedp.CSS("#login-phone")),
		chromedp.SendKeys(chromedp.CSS("#login-phone"), "13912345678"),
		chromedp.Click(chromedp.CSS("#otp-send")),
		chromedp.WaitVisible(chromedp.CSS("#otp-dev")),
	)
	testkit.Screenshot(t, viewer, "02-phone-login")
	devText := text(t, viewer, "#otp-dev")
	code := devText[len(devText)-6:]
	run(t, viewer, "verify otp",
		chromedp.SendKeys(chromedp.CSS("#login-code"), code),
		chromedp.Click(chromedp.CSS("#login-go")),
	)
	poll(t, viewer, "own comment echoed", `[...document.querySelectorAll("#comments li")].some(li => li.textContent.includes("草莓甜吗？"))`)
	testkit.Screenshot(t, viewer, "03-commented")

	skuID := int64(1)
	onHand0, reserved0 := skuStock(t, m, skuID)

	run(t, viewer, "open buy sheet",
		chromedp.Click(chromedp.CSS("#buy-btn")),
		chromedp.WaitVisible(chromedp.CSS("#store-list li.on")),
		chromedp.WaitEnabled(chromedp.CSS("#confirm-order")),
		chromedp.Sleep(400*time.Millisecond), // let the sheet finish sliding in for the screenshot
	)
	testkit.Screenshot(t, viewer, "04-buy-sheet")
	run(t, viewer, "place order and pay",
		chromedp.Click(chromedp.CSS("#qty-plus")),
	)
	poll(t, viewer, "quantity 2", `document.querySelector("#qty") && document.querySelector("#qty").textContent === "2"`)
	run(t, viewer, "confirm",
		chromedp.Click(chromedp.CSS("#confirm-order")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-pay")),
	)
	if _, r := skuStock(t, m, skuID); r != reserved0+2 {
		t.Fatalf("reserved after order = %d, want %d", r, reserved0+2)
	}
	testkit.Screenshot(t, viewer, "05-dev-pay")
	run(t, viewer, "pay",
		chromedp.Click(chromedp.CSS("#confirm-pay")),
		chromedp.WaitVisible(chromedp.CSS("#pickup-code")),
	)
	pickup := strings.ReplaceAll(text(t, viewer, "#pickup-code"), " ", "")
	if len(pickup) != 8 {
		t.Fatalf("pickup code %q", pickup)
	}
	testkit.Screenshot(t, viewer, "06-order-paid")

	// The host pins another card; the viewer's room shows it without reload.
	host := testkit.NewContext(t, browser, 60*time.Second)
	run(t, host, "host studio", chromedp.EmulateViewport(1440, 900))
	login(t, host, m, "host", "/studio")
	run(t, host, "studio loads", chromedp.WaitVisible(chromedp.CSS(`#lineup [data-pin="2"]`)))
	run(t, viewer, "back to room", chromedp.Navigate(url(m, "/live/demo")), chromedp.WaitVisible(chromedp.CSS("#pinned-name")))
	time.Sleep(300 * time.Millisecond) // the viewer's socket subscribes
	run(t, host, "pin milk", chromedp.Click(chromedp.CSS(`#lineup [data-pin="2"]`)))
	poll(t, viewer, "pinned card changes live", `document.querySelector("#pinned-name").textContent === "低温鲜牛奶"`)
	// The host shows where the milk comes from; the viewer gets the trace card.
	run(t, host, "push trace card", chromedp.Click(chromedp.CSS(`#lineup [data-trace="2"]`)))
	poll(t, viewer, "trace card shown", `!document.querySelector("#trace-card").classList.contains("hidden") && document.querySelector("#trace-card-open").getAttribute("href").startsWith("/trace/01/")`)
	testkit.Screenshot(t, viewer, "07-viewer-sees-new-card")
	poll(t, host, "order in studio feed", `document.querySelectorAll("#st-order-feed li").length >= 1`)
	testkit.Screenshot(t, host, "08-studio")

	// Store staff verify the code on the pickup page.
	store := testkit.NewContext(t, browser, 60*time.Second)
	run(t, store, "store viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	login(t, store, m, "store", "/pickup")
	run(t, store, "verify code",
		chromedp.WaitVisible(chromedp.CSS("#pickup-input")),
		chromedp.SendKeys(chromedp.CSS("#pickup-input"), pickup+"\r"),
		chromedp.WaitVisible(chromedp.CSS("#handover")),
	)
	testkit.Screenshot(t, store, "09-pickup-lookup")

	// The viewer watches the order page while the store hands over.
	var orders struct {
		Orders []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		}
	}
	testkit.Owner(m).Do(t, "GET", "/api/v1/orders", nil, &orders)
	if len(orders.Orders) != 1 || orders.Orders[0].Status != "paid" {
		t.Fatalf("orders = %+v", orders.Orders)
	}
	run(t, viewer, "order page", chromedp.Navigate(url(m, "/orders/"+strconv.FormatInt(orders.Orders[0].ID, 10))), chromedp.WaitVisible(chromedp.CSS("#pickup-code")))
	time.Sleep(300 * time.Millisecond)
	run(t, store, "hand over", chromedp.Click(chromedp.CSS("#handover")))
	poll(t, store, "store sees completed", `document.querySelector("#pickup-status").textContent.includes("已完成")`)
	poll(t, viewer, "viewer sees completed live", `document.querySelector("#status-label").textContent === "已完成"`)
	testkit.Screenshot(t, viewer, "10-order-completed")

	onHand1, reserved1 := skuStock(t, m, skuID)
	if onHand1 != onHand0-2 || reserved1 != reserved0 {
		t.Fatalf("stock after pickup: on_hand %d→%d reserved %d→%d; want on_hand −2 and reservation released", onHand0, onHand1, reserved0, reserved1)
	}
}

func url(m *node.Main, path string) string { return m.URL() + path }
