package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/testkit"
)

// tourStop is one page of the tour: where, what to wait for, what to do.
type tourStop struct {
	name, path, ready string
	mobile            bool
	then              []chromedp.Action[chromedp.Void]
	readme            string // file under docs/img written when SHELFLIVE_README_IMG is set
}

// TestPageTour opens every page in chromium in both languages, phone-sized
// (390×844) for viewers and desktop (1440×900) for staff, and fails on what
// looks broken without being an error: text like null/undefined/NaN, a page
// wider than the screen, a script exception. Screenshots go to the artifact
// dir; with SHELFLIVE_README_IMG=docs/img the README's pictures are
// refreshed from the same run.
func TestPageTour(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "", "-rtmp-addr", "127.0.0.1:0")

	// A paid order to show, and a product's GTIN for its trace page.
	id := orderOf(t, m, "13933334444")
	buyer := testkit.Viewer(t, m, "13933334444")
	var pay struct {
		PayURL string `json:"pay_url"`
	}
	buyer.Do(t, "POST", "/api/v1/orders/"+strconv.FormatInt(id, 10)+"/pay", nil, &pay)
	intent := pay.PayURL[strings.LastIndex(pay.PayURL, "/")+1:]
	// A second, paid order: the order page with its pickup code.
	var po struct {
		ID int64 `json:"id"`
	}
	buyer.Header = map[string]string{"Idempotency-Key": "tour-paid"}
	if st := buyer.Do(t, "POST", "/api/v1/orders", map[string]any{"items": []map[string]int{{"sku_id": 3, "quantity": 1}}, "fulfilment": "pickup", "store_id": 1}, &po); st != 201 {
		t.Fatalf("order: %d", st)
	}
	buyer.Header = nil
	paid := po.ID
	buyer.Do(t, "POST", "/api/v1/orders/"+strconv.FormatInt(paid, 10)+"/pay", nil, &pay)
	if st := (&testkit.Client{Base: m.URL()}).Do(t, "POST", "/api/v1/payments/dev/"+pay.PayURL[strings.LastIndex(pay.PayURL, "/")+1:]+"/confirm", nil, nil); st != 200 {
		t.Fatalf("confirm: %d", st)
	}
	var p struct {
		SKUs []struct {
			GTIN string `json:"gtin"`
		} `json:"skus"`
	}
	testkit.Owner(m).Do(t, "GET", "/api/v1/products/1", nil, &p)
	order := "/orders/" + strconv.FormatInt(id, 10)

	// Cards slide in: a click during the slide can land beside the button
	// on a busy machine, and then nothing opens.
	settled := chromedp.Poll[chromedp.Void](`document.getAnimations().every((a) => a.playState !== "running")`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))
	viewerStops := []tourStop{
		{name: "home", path: "/", ready: "body"},
		{name: "live", path: "/live/demo", ready: "#pinned-name", readme: "viewer-room"},
		{name: "detail", path: "/live/demo", ready: "#pinned-name", then: []chromedp.Action[chromedp.Void]{settled, chromedp.Click(chromedp.CSS("#pinned-name")), chromedp.WaitVisible(chromedp.CSS("#detail-facts"))}, readme: "product-detail"},
		{name: "buy", path: "/live/demo", ready: "#pinned-name", then: []chromedp.Action[chromedp.Void]{settled, chromedp.Click(chromedp.CSS("#buy-btn")), chromedp.WaitVisible(chromedp.CSS("#store-list li"))}, readme: "buy-sheet"},
		{name: "bag", path: "/live/demo", ready: "#pinned-name", then: []chromedp.Action[chromedp.Void]{settled, chromedp.Click(chromedp.CSS("#bag-btn")), chromedp.WaitVisible(chromedp.CSS(".product-grid"))}},
		{name: "clearance", path: "/live/clearance", ready: "#poster-note"},
		{name: "pay", path: "/pay/dev/" + intent, ready: "body"},
		{name: "my-orders", path: "/orders?from=demo", ready: "#my-orders", readme: "my-orders"},
		{name: "order", path: order, ready: "#status-label"},
		{name: "order-paid", path: "/orders/" + strconv.FormatInt(paid, 10), ready: "#pickup-code", readme: "order-paid"},
		{name: "trace", path: "/trace/01/" + p.SKUs[0].GTIN, ready: "body"},
	}
	staffStops := []tourStop{
		{name: "login", path: "/login", ready: "#login"},
		{name: "studio", path: "/studio?room=demo", ready: `#lineup [data-pin="2"]`, then: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS("#ingest summary"))}, readme: "studio"},
		{name: "admin-orders", path: "/admin#orders", ready: "#admin-main table"},
		{name: "admin-products", path: "/admin#products", ready: "#admin-main table"},
		{name: "admin-lots", path: "/admin#lots", ready: "#admin-main table"},
		{name: "admin-stores", path: "/admin#stores", ready: "#admin-main table"},
		{name: "admin-rooms", path: "/admin#rooms", ready: "#admin-main table"},
		{name: "admin-staff", path: "/admin#staff", ready: "#admin-main table"},
		{name: "admin-guides", path: "/admin#guides", ready: "#guides-from"},
		{name: "admin-audit", path: "/admin#audit", ready: "#admin-main table"},
		{name: "coldchain", path: "/admin/coldchain", ready: "body"},
		{name: "pickup", path: "/pickup", ready: "#pickup-input"},
	}

	readmeDir := os.Getenv("SHELFLIVE_README_IMG")
	for _, lang := range []string{"zh", "en"} {
		viewer := testkit.NewContext(t, browser, 3*time.Minute)
		run(t, viewer, "viewer viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), chromedp.Navigate(url(m, "/live/demo?lang="+lang)), chromedp.WaitVisible(chromedp.CSS("#pinned-name")))
		// The viewer logs in (buying asks first) as the buyer of the order.
		buyerLogin(t, viewer, "13933334444")
		staff := testkit.NewContext(t, browser, 3*time.Minute)
		run(t, staff, "staff viewport", chromedp.EmulateViewport(1440, 900))
		login(t, staff, m, "owner", "/admin?lang="+lang)
		run(t, staff, "admin loads", chromedp.WaitVisible(chromedp.CSS("#admin-nav")))
		for _, stops := range []struct {
			ctx   context.Context
			list  []tourStop
			width int
		}{{viewer, viewerStops, 390}, {staff, staffStops, 1440}} {
			for _, s := range stops.list {
				path := s.path
				sep := "?"
				if strings.Contains(path, "?") {
					sep = "&"
				}
				if i := strings.Index(path, "#"); i >= 0 {
					path = path[:i] + sep + "lang=" + lang + path[i:]
				} else {
					path += sep + "lang=" + lang
				}
				steps := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(url(m, path)), chromedp.WaitVisible(chromedp.CSS(s.ready))}, s.then...)
				run(t, stops.ctx, lang+" "+s.name, steps...)
				time.Sleep(500 * time.Millisecond) // sheets slide in, charts draw
				checkPage(t, stops.ctx, lang+" "+s.name, stops.width)
				testkit.Screenshot(t, stops.ctx, "tour-"+lang+"-"+s.name)
				if readmeDir != "" && s.readme != "" && lang == "zh" {
					buf, err := chromedp.Run(stops.ctx, chromedp.FullScreenshot(82)) // JPEG
					if err != nil {
						t.Fatalf("README picture %s: %v", s.readme, err)
					}
					if err := os.WriteFile(filepath.Join(readmeDir, s.readme+".jpg"), buf, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
}

// buyerLogin logs the viewer in through the buy sheet's phone login.
func buyerLogin(t *testing.T, ctx context.Context, phone string) {
	t.Helper()
	// A click inside the page: the card may be redrawn (the socket's first
	// snapshot) between finding the button and pressing it.
	poll(t, ctx, "buy button", `document.querySelector("#buy-btn") !== null`)
	run(t, ctx, "login "+phone, chromedp.Evaluate[chromedp.Void](`document.querySelector("#buy-btn").click()`))
	testkit.PhoneLogin(t, ctx, phone, testkit.DevCode)
	run(t, ctx, "logged in "+phone, chromedp.WaitVisible(chromedp.CSS("#confirm-order")))
}

// checkPage fails on a page that works but looks broken.
func checkPage(t *testing.T, ctx context.Context, what string, width int) {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const out = [];
		const text = document.body.innerText;
		const bad = text.match(/\b(null|undefined|NaN)\b|\[object /);
		if (bad) out.push("text shows " + JSON.stringify(text.slice(Math.max(0, bad.index - 40), bad.index + 20)));
		if (document.documentElement.scrollWidth > innerWidth + 1) out.push("page is " + document.documentElement.scrollWidth + " px wide");
		// one language at a time: no "已支付 Paid" or "店主 Owner" labels
		const both = text.match(/[\u4e00-\u9fff]+ (Awaiting payment|Paid|Ready for pickup|Shipped|Completed|Cancelled|Expired|Owner|Admin|Host|Guide|Quality|Store staff)\b/);
		if (both) out.push("label in both languages: " + JSON.stringify(both[0]));
		// English dates name the month: 07/12 reads as July
		if (document.documentElement.lang === "en" && /\b\d{2}\/\d{2}\b/.test(text)) out.push("ambiguous date " + JSON.stringify(text.match(/.{0,20}\b\d{2}\/\d{2}\b.{0,10}/)[0]));
		return out.join("; ");
	})()`))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got != "" {
		t.Errorf("%s (%d px): %s", what, width, got)
	}
}
