package web_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

// guideShare asks the server for the demo guide's (wang01) signed share
// code of the demo room, as the guide's phone does.
func guideShare(t *testing.T, s *demoShop) string {
	t.Helper()
	guide := staffLogin(t, s.base, "guide", "shelflive-demo")
	var sh struct {
		Path string `json:"path"`
		Code string `json:"code"`
	}
	send(t, nil, s.base, "POST", "/api/v1/rooms/demo/shares", nil, guide.Token, nil).want(t, 200).decode(t, &sh)
	if sh.Code == "" || sh.Code == "wang01" || !strings.Contains(sh.Path, "?g=") {
		t.Fatalf("guide share %+v: want a signed code", sh)
	}
	return sh.Code
}

// guideOf places a pickup order with body's guide_code and returns the
// code the order kept.
func guideOf(t *testing.T, s *demoShop, hc *http.Client, token, named string) (orderView, string) {
	t.Helper()
	body := s.pickup([2]int64{s.sku1, 1})
	if named != "" {
		body["guide_code"] = named
	}
	var hdr map[string]string
	if hc != nil {
		hdr = map[string]string{"X-CSRF-Token": csrfOf(t, s, hc)}
	}
	r := send(t, hc, s.base, "POST", "/api/v1/orders", body, token, hdr)
	if r.Status != 201 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	var o struct {
		orderView
		GuideCode string `json:"guide_code"`
	}
	r.decode(t, &o)
	return o.orderView, o.GuideCode
}

// csrfOf reads the viewer session's CSRF token as the page does.
func csrfOf(t *testing.T, s *demoShop, hc *http.Client) string {
	t.Helper()
	var me struct {
		CSRF string `json:"csrf"`
	}
	send(t, hc, s.base, "GET", "/api/v1/auth/me", nil, "", nil).want(t, 200).decode(t, &me)
	return me.CSRF
}

// TestSignedAttribution: only codes the server signed attribute an order.
// A typed guide code, a forged or altered code, another shop's code name
// nobody; the guide's signed code names the guide; opening a room through
// a link makes it the last touch (a cookie) that the order carries without
// the page naming anyone, and a later link of another sharer replaces it.
func TestSignedAttribution(t *testing.T) {
	s := newShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900001411")
	code := guideShare(t, s)
	for name, named := range map[string]string{
		"typed guide code": "wang01",
		"altered id":       "s9" + code[strings.Index(code, "."):],
		"cut signature":    code[:len(code)-2],
		"made up":          "s1.abc.AAAAAAAAAAAAAAAA",
	} {
		if _, got := guideOf(t, s, nil, buyer.Token, named); got != "" {
			t.Errorf("%s (%q): order attributed to %q", name, named, got)
		}
	}
	if _, got := guideOf(t, s, nil, buyer.Token, code); got != "wang01" {
		t.Fatalf("signed guide code: order kept %q", got)
	}

	// Last touch through the room page: the cookie carries it.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	jar.SetCookies(mustURL(t, s.base), []*http.Cookie{{Name: "sl_viewer", Value: buyer.Token, Path: "/"}})
	send(t, hc, s.base, "GET", "/live/demo?g=wang01", nil, "", nil).want(t, 200)
	if _, got := guideOf(t, s, hc, "", ""); got != "" {
		t.Fatalf("an unsigned ?g= became the last touch: %q", got)
	}
	page := string(send(t, hc, s.base, "GET", "/live/demo?g="+url.QueryEscape(code), nil, "", nil).want(t, 200).Body)
	if !strings.Contains(page, `data-guide="`+code+`"`) {
		t.Fatal("the room page does not re-share the signed code")
	}
	if _, got := guideOf(t, s, hc, "", ""); got != "wang01" {
		t.Fatalf("the last touch did not attribute: %q", got)
	}
	// A friend's link opened later wins (last touch), and the friend
	// is a viewer: the order keeps c<id>.
	friend := viewerLogin(t, s.base, "demo", "13900001412")
	var sh struct {
		Code string `json:"code"`
	}
	send(t, nil, s.base, "POST", "/api/v1/rooms/demo/shares", nil, friend.Token, nil).want(t, 200).decode(t, &sh)
	send(t, hc, s.base, "GET", "/live/demo?g="+url.QueryEscape(sh.Code), nil, "", nil).want(t, 200)
	if _, got := guideOf(t, s, hc, "", ""); !strings.HasPrefix(got, "c") || got == "" {
		t.Fatalf("the friend's later link: order kept %q", got)
	}
	// Buying through one's own link earns nothing.
	if _, got := guideOf(t, s, nil, friend.Token, sh.Code); got != "" {
		t.Fatalf("own link: %q", got)
	}
	// An anonymous re-share keeps the guide who brought the visitor.
	anon, _ := cookiejar.New(nil)
	ahc := &http.Client{Jar: anon, Timeout: 30 * time.Second}
	send(t, ahc, s.base, "GET", "/live/demo?g="+url.QueryEscape(code), nil, "", nil).want(t, 200)
	send(t, ahc, s.base, "POST", "/api/v1/rooms/demo/shares", nil, "", nil).want(t, 200).decode(t, &sh)
	if sh.Code != code {
		t.Fatalf("anonymous re-share: %q, want the guide's %q", sh.Code, code)
	}
	send(t, nil, s.base, "POST", "/api/v1/rooms/demo/shares?g=wang01", nil, "", nil).want(t, 200).decode(t, &sh)
	if sh.Code != "" {
		t.Fatalf("an unsigned ?g= was re-shared as %q", sh.Code)
	}
}

// TestGuideSales: orders placed through the demo guide's signed share link
// are counted for them; the paid one's money is their revenue; the owner
// sees it in the admin console. Hosts may read it, guides may not.
func TestGuideSales(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	buyer := viewerLogin(t, s.base, "demo", "13900000701")
	code := guideShare(t, s)
	attributed := func(qty int64) orderView {
		body := s.pickup([2]int64{s.sku1, qty})
		body["guide_code"] = code
		r := send(t, nil, s.base, "POST", "/api/v1/orders", body, buyer.Token, nil)
		if r.Status != 201 {
			t.Fatalf("order: %d %s", r.Status, r.Body)
		}
		var o orderView
		r.decode(t, &o)
		return o
	}
	paid := attributed(2)
	payDev(t, s, buyer.Token, paid.ID)
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
	tab := testkit.NewTab(t, testkit.Browser(t), 60*time.Second)
	tab.Width, tab.Height = 1280, 900
	tab.StaffOpen(s.base, "owner", demo.Password, "/admin%23guides", "#guides-from")
	ctx := tab.Ctx
	err := chromedp.Do(ctx,
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
	// The month's commission statement downloads from the same view.
	if st, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => { const a = document.querySelector("#commission-csv"); a.click(); return fetch(a.getAttribute("href")).then(r => r.status); })()`, chromedp.EvalAwaitPromise)); st != 200 {
		t.Fatalf("commission CSV from the admin: %d", st)
	}
}

// payDev pays an order on the dev provider.
func payDev(t *testing.T, s *demoShop, token string, id int64) {
	t.Helper()
	var in struct {
		Intent string `json:"intent"`
	}
	send(t, nil, s.base, "POST", "/api/v1/orders/"+itoa(id)+"/pay", nil, token, nil).want(t, 200).decode(t, &in)
	send(t, nil, s.base, "POST", "/api/v1/payments/dev/"+in.Intent+"/confirm", nil, "", nil).want(t, 200)
	testkit.WaitFor(t, "paid", 10*time.Second, func() bool { return orderStatus(t, s.base, token, id).Status == "paid" })
}

type statement struct {
	Month     string `json:"month"`
	Summaries []struct {
		GuideCode     string `json:"guide_code"`
		StoreID       int64  `json:"store_id"`
		Orders        int64  `json:"orders"`
		BaseFen       int64  `json:"base_fen"`
		CommissionFen int64  `json:"commission_fen"`
	} `json:"summaries"`
	Lines []struct {
		OrderID       int64 `json:"order_id"`
		ProductID     int64 `json:"product_id"`
		SalesFen      int64 `json:"sales_fen"`
		RefundFen     int64 `json:"refund_fen"`
		BaseFen       int64 `json:"base_fen"`
		RateBP        int64 `json:"rate_bp"`
		CommissionFen int64 `json:"commission_fen"`
	} `json:"lines"`
	Total struct {
		Orders        int64 `json:"orders"`
		SalesFen      int64 `json:"sales_fen"`
		RefundFen     int64 `json:"refund_fen"`
		BaseFen       int64 `json:"base_fen"`
		CommissionFen int64 `json:"commission_fen"`
	} `json:"total"`
}

// TestCommissionStatement: rates per product, per category and a default;
// four orders through the guide's link (one unpaid, one partly refunded,
// one of two products); the month's statement adds up to the paid orders
// (Σ total − refunded, read back from the orders), each line's commission
// is its base × its rate, and the CSV and XLSX say the same totals.
func TestCommissionStatement(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	code := guideShare(t, s)
	buyer := viewerLogin(t, s.base, "demo", "13900001421")
	var prods struct {
		Products []struct {
			ID       int64  `json:"id"`
			Category string `json:"category"`
			SKUs     []struct {
				ID int64 `json:"id"`
			} `json:"skus"`
		} `json:"products"`
	}
	send(t, nil, s.base, "GET", "/api/v1/products", nil, owner, nil).decode(t, &prods)
	p1, p2 := prods.Products[0], prods.Products[1]
	rates := []map[string]any{{"rate_bp": 300}, {"category": p2.Category, "rate_bp": 550}, {"product_id": p1.ID, "rate_bp": 875}}
	send(t, nil, s.base, "PUT", "/api/v1/commission/rates", map[string]any{"rates": rates}, owner, nil).want(t, 200)
	send(t, nil, s.base, "PUT", "/api/v1/commission/rates", map[string]any{"rates": []map[string]any{{"rate_bp": 9000}}}, owner, nil).wantProblem(t, 400, "invalid_commission_rate")
	send(t, nil, s.base, "PUT", "/api/v1/commission/rates", map[string]any{"rates": rates}, staffLogin(t, s.base, "guide", "shelflive-demo").Token, nil).wantProblem(t, 403, "forbidden")

	order := func(items ...[2]int64) orderView {
		body := s.pickup(items...)
		body["guide_code"] = code
		r := send(t, nil, s.base, "POST", "/api/v1/orders", body, buyer.Token, nil)
		if r.Status != 201 {
			t.Fatalf("order: %d %s", r.Status, r.Body)
		}
		var o orderView
		r.decode(t, &o)
		return o
	}
	a := order([2]int64{p1.SKUs[0].ID, 2})
	b := order([2]int64{p1.SKUs[0].ID, 1}, [2]int64{p2.SKUs[0].ID, 3})
	c := order([2]int64{p2.SKUs[0].ID, 1})
	order([2]int64{p2.SKUs[0].ID, 1}) // unpaid: not in the statement
	for _, o := range []orderView{a, b, c} {
		payDev(t, s, buyer.Token, o.ID)
	}
	refund := b.TotalFen/3 + 1
	r := send(t, nil, s.base, "POST", "/api/v1/orders/"+itoa(b.ID)+"/refunds", map[string]any{"amount_fen": refund, "reason": "少一盒"}, owner, map[string]string{"Idempotency-Key": "stmt-refund"})
	if r.Status != 200 && r.Status != 201 && r.Status != 202 {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}
	var want, wantSales int64
	testkit.WaitFor(t, "the refund counted", 15*time.Second, func() bool {
		want, wantSales = 0, 0
		for _, o := range []orderView{a, b, c} {
			var full struct {
				TotalFen    int64 `json:"total_fen"`
				RefundedFen int64 `json:"refunded_fen"`
			}
			send(t, nil, s.base, "GET", "/api/v1/orders/"+itoa(o.ID), nil, owner, nil).decode(t, &full)
			want += full.TotalFen - full.RefundedFen
			wantSales += full.TotalFen
		}
		return wantSales-want == refund
	})

	var st statement
	send(t, nil, s.base, "GET", "/api/v1/reports/commission", nil, owner, nil).want(t, 200).decode(t, &st)
	if st.Total.Orders != 3 || st.Total.BaseFen != want || st.Total.SalesFen != wantSales || st.Total.RefundFen != refund {
		t.Fatalf("statement total %+v; orders say base %d, sales %d, refund %d", st.Total, want, wantSales, refund)
	}
	var lineSum, commSum int64
	for _, l := range st.Lines {
		wantRate := int64(300)
		if l.ProductID == p1.ID {
			wantRate = 875
		} else if l.ProductID == p2.ID {
			wantRate = 550
		}
		if l.RateBP != wantRate || l.CommissionFen != (l.BaseFen*l.RateBP+5000)/10000 || l.BaseFen+l.RefundFen != l.SalesFen {
			t.Errorf("line %+v (want rate %d)", l, wantRate)
		}
		lineSum += l.BaseFen
		commSum += l.CommissionFen
	}
	if len(st.Lines) != 4 || lineSum != want || commSum != st.Total.CommissionFen || len(st.Summaries) != 1 || st.Summaries[0].CommissionFen != commSum || st.Summaries[0].GuideCode != "wang01" {
		t.Fatalf("lines %d, Σ base %d (want %d), Σ commission %d, summaries %+v", len(st.Lines), lineSum, want, commSum, st.Summaries)
	}
	yuan := func(fen int64) string {
		return strconv.FormatInt(fen/100, 10) + "." + strconv.FormatInt(fen%100/10, 10) + strconv.FormatInt(fen%10, 10)
	}

	// CSV: the summary's total row says the same.
	raw := send(t, nil, s.base, "GET", "/api/v1/reports/commission.csv?month="+st.Month, nil, owner, nil).want(t, 200).Body
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\xEF\xBB\xBF"))))
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var total []string
	for _, rec := range recs {
		if len(rec) > 0 && rec[0] == "合计 Total" {
			total = rec
		}
	}
	if total == nil || total[3] != "3" || total[6] != yuan(want) || total[7] != yuan(commSum) {
		t.Fatalf("CSV total row %q, want base %s commission %s", total, yuan(want), yuan(commSum))
	}
	// XLSX: the lines sheet's base column adds up to the orders.
	raw = send(t, nil, s.base, "GET", "/api/v1/reports/commission.xlsx?month="+st.Month, nil, owner, nil).want(t, 200).Body
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("明细 Lines")
	if err != nil || len(rows) != 5 {
		t.Fatalf("xlsx lines: %d rows, %v", len(rows), err)
	}
	var xsum int64
	for _, row := range rows[1:] {
		v, err := strconv.ParseFloat(row[11], 64)
		if err != nil {
			t.Fatalf("base cell %q", row[11])
		}
		xsum += int64(v*100 + 0.5)
	}
	if xsum != want {
		t.Fatalf("xlsx Σ base %d, want %d", xsum, want)
	}
	// The guide sees their own; another month is empty; a bad month is refused.
	guide := staffLogin(t, s.base, "guide", "shelflive-demo")
	var own statement
	send(t, nil, s.base, "GET", "/api/v1/guide/statement", nil, guide.Token, nil).want(t, 200).decode(t, &own)
	if own.Total.CommissionFen != commSum {
		t.Fatalf("guide's own statement %+v", own.Total)
	}
	send(t, nil, s.base, "GET", "/api/v1/reports/commission?month=2020-01", nil, owner, nil).want(t, 200).decode(t, &st)
	if st.Total.Orders != 0 {
		t.Fatalf("2020-01: %+v", st.Total)
	}
	send(t, nil, s.base, "GET", "/api/v1/reports/commission?month=2026-13", nil, owner, nil).wantProblem(t, 400, "invalid_month")
}

// TestGuidePage: the guide's phone page at 390×844 lists signed share links
// with their QR codes, the customers' orders (masked, no pickup code) and
// this month's commission; an account without a guide code gets no links.
func TestGuidePage(t *testing.T) {
	s := newShop(t)
	code := guideShare(t, s)
	buyer := viewerLogin(t, s.base, "demo", "13900001431")
	o, _ := guideOf(t, s, nil, buyer.Token, code)
	payDev(t, s, buyer.Token, o.ID)
	guide := staffLogin(t, s.base, "guide", "shelflive-demo")
	var me struct {
		Links []struct {
			Slug, URL, QR, Code string
		} `json:"links"`
		Orders []struct {
			ID           int64  `json:"id"`
			PickupCode   string `json:"pickup_code"`
			ContactPhone string `json:"contact_phone"`
		} `json:"orders"`
		MonthSummary struct {
			Orders int64 `json:"orders"`
		} `json:"month_summary"`
	}
	send(t, nil, s.base, "GET", "/api/v1/guide/me", nil, guide.Token, nil).want(t, 200).decode(t, &me)
	if len(me.Links) == 0 || len(me.Orders) != 1 || me.Orders[0].PickupCode != "" || strings.Contains(me.Orders[0].ContactPhone, "13900001431") || me.MonthSummary.Orders != 1 {
		t.Fatalf("guide view %+v", me)
	}
	for _, l := range me.Links {
		if !strings.Contains(l.URL, "/live/"+l.Slug+"?g=") {
			t.Fatalf("link %+v", l)
		}
	}
	if r := send(t, nil, s.base, "GET", me.Links[0].QR, nil, guide.Token, nil).want(t, 200); r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr: %s", r.Header.Get("Content-Type"))
	}
	var none struct {
		GuideCode string `json:"guide_code"`
		Links     []any  `json:"links"`
	}
	send(t, nil, s.base, "GET", "/api/v1/guide/me", nil, staffLogin(t, s.base, "store", "shelflive-demo").Token, nil).want(t, 200).decode(t, &none)
	if none.GuideCode != "" || len(none.Links) != 0 {
		t.Fatalf("staff without a guide code: %+v", none)
	}

	ctx := testkit.NewContext(t, testkit.Browser(t), 60*time.Second)
	runB(t, ctx, "guide page", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		withCookie(s.base, "sl_staff", guide.Token),
		chromedp.Navigate(s.base+"/guide"),
		chromedp.WaitVisible(chromedp.CSS("#guide-links img.guide-qr")),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll("img.guide-qr")].every(i => i.complete && i.naturalWidth > 0)`, chromedp.WithPollingTimeout(10*time.Second)))
	testkit.Screenshot(t, ctx, "guide-390")
	shot(t, ctx, "guide-page")
	if wide, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); wide {
		t.Fatal("the guide page scrolls sideways at 390 px")
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#guide-orders li[data-order]").length`)); n != 1 {
		t.Fatalf("orders on the page: %d", n)
	}
}
