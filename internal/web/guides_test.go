package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestGuideSales: orders placed through the demo guide's share link (code
// wang01) are counted for them; the paid one's money is their revenue; the
// owner sees it in the admin console. Hosts may read it, guides may not.
func TestGuideSales(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	buyer := viewerLogin(t, s.base, "demo", "13900000701")
	attributed := func(qty int64) orderView {
		body := s.pickup([2]int64{s.sku1, qty})
		body["guide_code"] = "wang01"
		r := send(t, nil, s.base, "POST", "/api/v1/orders", body, buyer.Token, nil)
		if r.Status != 201 {
			t.Fatalf("order: %d %s", r.Status, r.Body)
		}
		var o orderView
		r.decode(t, &o)
		return o
	}
	paid := attributed(2)
	var in struct {
		Intent string `json:"intent"`
	}
	send(t, nil, s.base, "POST", "/api/v1/orders/"+itoa(paid.ID)+"/pay", nil, buyer.Token, nil).decode(t, &in)
	if r := send(t, nil, s.base, "POST", "/api/v1/payments/dev/"+in.Intent+"/confirm", nil, "", nil); r.Status != 200 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	attributed(1) // left unpaid

	var rep struct {
		From, To string
		Guides   []struct {
			GuideCode  string `json:"guide_code"`
			GuideName  string `json:"guide_name"`
			Orders     int64  `json:"orders"`
			PaidOrders int64  `json:"paid_orders"`
			RevenueFen int64  `json:"revenue_fen"`
		}
	}
	r := send(t, nil, s.base, "GET", "/api/v1/reports/guides", nil, owner, nil)
	if r.Status != 200 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	r.decode(t, &rep)
	if len(rep.Guides) != 1 {
		t.Fatalf("report %+v", rep)
	}
	g := rep.Guides[0]
	if g.GuideCode != "wang01" || g.GuideName != "王导购" || g.Orders != 2 || g.PaidOrders != 1 || g.RevenueFen != paid.TotalFen {
		t.Fatalf("wang01: %+v, paid order %d fen", g, paid.TotalFen)
	}
	// A window before today has none of it; bad dates are refused.
	send(t, nil, s.base, "GET", "/api/v1/reports/guides?from=2020-01-01&to=2020-01-31", nil, owner, nil).decode(t, &rep)
	if len(rep.Guides) != 0 {
		t.Fatalf("old window: %+v", rep.Guides)
	}
	send(t, nil, s.base, "GET", "/api/v1/reports/guides?from=2026-13-01", nil, owner, nil).wantProblem(t, 400, "invalid_date")
	send(t, nil, s.base, "GET", "/api/v1/reports/guides?from=2026-02-01&to=2026-01-01", nil, owner, nil).wantProblem(t, 400, "invalid_date")
	send(t, nil, s.base, "GET", "/api/v1/reports/guides", nil, staffLogin(t, s.base, "guide", "shelflive-demo").Token, nil).wantProblem(t, 403, "forbidden")

	// The admin console shows the row.
	ctx := testkit.NewContext(t, testkit.Browser(t), 60*time.Second)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(s.base+"/login?next=/admin%23guides"),
		chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#login"), "owner"),
		chromedp.SendKeys(chromedp.CSS("#password"), "shelflive-demo"),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#guides-from")),
		chromedp.Poll[chromedp.Void](`!!document.querySelector("#admin-main table.data")`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#admin-main table.data").textContent`))
	if !strings.Contains(text, "王导购") || !strings.Contains(text, "wang01") {
		t.Fatalf("guide table: %q", text)
	}
	testkit.Screenshot(t, ctx, "admin-guide-sales")
}
