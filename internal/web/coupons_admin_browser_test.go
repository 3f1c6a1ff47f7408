package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestAdminCouponOverrideBrowser: in the admin's 优惠券 tab (1440×900) a
// coupon titled "全网最低价 会员券" is refused by the compliance review.
// A host (in English) sees the findings, each citing its law in English,
// and that an owner must approve, and gets no override; nothing is created. The owner sees the findings
// with the claim underlined beside the form, what they typed still there,
// gives a reason and confirms: the coupon exists as typed, and the audit
// log holds the override with the reason, the rule and the claim.
func TestAdminCouponOverrideBrowser(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	base, owner := m.URL(), testkit.OwnerToken
	const blocked, reason = "全网最低价 会员券", "法务已确认：本店同款商品比价有记录"
	find := func() *titledCoupon { return couponTitled(t, base, blocked) }
	fill := func(tab *testkit.Tab) {
		tab.Do("fill the coupon form",
			chromedp.SendKeys(chromedp.CSS("#coupon-title"), blocked),
			chromedp.SetValue(chromedp.CSS("#coupon-amount"), "8"),
			chromedp.SetValue(chromedp.CSS("#coupon-budget"), "50"),
			chromedp.Click(chromedp.CSS("#coupon-create")))
	}

	host := testkit.NewTab(t, browser, 120*time.Second)
	host.StaffOpen(base, "host", demo.Password, "/admin?lang=en%23coupons", "#coupon-create")
	fill(host)
	host.Wait("host sees the review", `(() => { const r = document.querySelector("#coupon-review");
		return r && !r.classList.contains("hidden") && r.querySelector("mark") && r.textContent.includes("Coupon title") &&
			document.querySelector("#coupon-owner-needed").textContent.includes("An owner must approve") && !document.querySelector("#coupon-override"); })()`)
	testkit.Screenshot(t, host.Ctx, "admin-coupon-blocked-host-en")
	if c := find(); c != nil {
		t.Fatalf("a refused coupon was created: %+v", c)
	}
	// Each finding cites its law in the page's language: law_en in
	// English (it showed the Chinese name), law in Chinese (below).
	var check struct {
		Results []checkResult `json:"results"`
	}
	send(t, nil, base, "POST", "/api/v1/compliance/check", map[string]any{"texts": []string{blocked}, "context": "title"}, owner, nil).want(t, 200).decode(t, &check)
	laws := map[string]findingView{}
	for _, f := range check.Results[0].Findings {
		laws[f.Rule] = f
	}
	shownLaws := func(tab *testkit.Tab) map[string]string {
		t.Helper()
		got, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll("#coupon-review .cf-finding")].map((li) => [li.dataset.rule, li.querySelector(".muted").textContent]))`))
		if err != nil || len(got) == 0 {
			t.Fatalf("findings' laws: %v (%v)", got, err)
		}
		return got
	}
	for rule, law := range shownLaws(host) {
		if f, ok := laws[rule]; !ok || f.LawEN == "" || law != "Law: "+f.LawEN {
			t.Fatalf("%s: the English page cites %q, the API %q", rule, law, f.LawEN)
		}
	}

	tab := testkit.NewTab(t, browser, 120*time.Second)
	tab.StaffOpen(base, "owner", demo.Password, "/admin%23coupons", "#coupon-create")
	fill(tab)
	tab.Wait("owner sees the review", `(() => { const r = document.querySelector("#coupon-review");
		return r && !r.classList.contains("hidden") && r.querySelector("mark").textContent === "全网最低价" &&
			r.querySelectorAll(".cf-finding").length > 0 && r.textContent.includes("优惠券名称") && !!document.querySelector("#coupon-override"); })()`)
	kept, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](`[document.querySelector("#coupon-title").value, document.querySelector("#coupon-amount").value, document.querySelector("#coupon-budget").value].join("|")`))
	if err != nil || kept != blocked+"|8|50" {
		t.Fatalf("the form lost what was typed: %q (%v)", kept, err)
	}
	testkit.Screenshot(t, tab.Ctx, "admin-coupon-blocked-owner")
	for rule, law := range shownLaws(tab) {
		if f, ok := laws[rule]; !ok || law != "依据："+f.Law {
			t.Fatalf("%s: the Chinese page cites %q, the API %q", rule, law, f.Law)
		}
	}
	if c := find(); c != nil {
		t.Fatalf("a refused coupon was created before the override: %+v", c)
	}

	tab.Do("override", chromedp.SendKeys(chromedp.CSS("#coupon-override-reason"), reason), chromedp.Click(chromedp.CSS("#coupon-override button")))
	tab.Wait("created", `[...document.querySelectorAll("#issue-coupon option")].some((o) => o.textContent.startsWith(`+jsString(blocked)+`)) && !document.querySelector("#coupon-review:not(.hidden)")`)
	testkit.Screenshot(t, tab.Ctx, "admin-coupon-overridden")
	if c := find(); c == nil || c.AmountFen != 800 || c.BudgetCount != 50 || c.RoomID != 0 {
		t.Fatalf("the overridden coupon: %+v", c)
	}

	wantCouponOverrideAudit(t, base, blocked, reason)
}

// wantCouponOverrideAudit: exactly one coupon.create.override, by the demo
// owner, on the coupon's title, with the reason and the blocking finding.
func wantCouponOverrideAudit(t *testing.T, base, title, reason string) {
	t.Helper()
	var audit struct {
		Entries []struct {
			Actor, Action, Object, Detail string
		} `json:"entries"`
	}
	send(t, nil, base, "GET", "/api/v1/audit", nil, testkit.OwnerToken, nil).want(t, 200).decode(t, &audit)
	n := 0
	for _, e := range audit.Entries {
		if e.Action == "coupon.create.override" {
			n++
			if e.Actor != "林店长" || e.Object != "coupon:"+title || !strings.Contains(e.Detail, "reason: "+reason) || !strings.Contains(e.Detail, "coupon.title") || !strings.Contains(e.Detail, "「全网最低价」") {
				t.Fatalf("override audited as %+v", e)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d coupon.create.override audit entries, want 1", n)
	}
}

// TestAdminCouponsTabPerRole: the admin's 优惠券 tab shows each role what
// it may do. Quality (admin.view only) reads the coupons and their cost
// but gets no form (the tab once failed on the coupon list, which needed
// room.host); a host creates coupons but cannot issue them to a segment
// (rooms.write), so 定向发券 is not offered; the owner gets both.
func TestAdminCouponsTabPerRole(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	base := m.URL()
	send(t, nil, base, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "会员日立减5元", "amount_fen": 500, "budget_count": 20}, testkit.OwnerToken, nil).want(t, 201)
	for _, who := range []struct {
		login         string
		create, issue bool
	}{{"quality", false, false}, {"host", true, false}, {"owner", true, true}} {
		tab := testkit.NewTab(t, browser, 60*time.Second)
		tab.StaffOpen(base, who.login, demo.Password, "/admin%23coupons", "#coupon-total")
		tab.Wait(who.login+" sees the coupons", `document.querySelector("#admin-main").textContent.includes("会员日立减5元")`)
		testkit.Screenshot(t, tab.Ctx, "admin-coupons-"+who.login)
		got, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[[]bool](`[!!document.querySelector("#coupon-form"), !!document.querySelector("#issue-segment")]`))
		if err != nil || got[0] != who.create || got[1] != who.issue {
			t.Errorf("%s: create form, 定向发券 shown %v (%v), want %v, %v", who.login, got, err, who.create, who.issue)
		}
	}
}

// TestAdminCouponsTabStoreHost: a host bound to one store opens the 优惠券
// tab and it loads with their store's room's coupon and its cost only; the
// whole-shop coupon and another store's room's coupon are not in it.
func TestAdminCouponsTabStoreHost(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	base := m.URL()
	owner := testkit.OwnerToken
	var stores struct{ Stores []struct{ ID int64 } }
	send(t, nil, base, "GET", "/api/v1/stores", nil, owner, nil).want(t, 200).decode(t, &stores)
	if len(stores.Stores) < 2 {
		t.Fatalf("demo data: stores %+v", stores.Stores)
	}
	for i, slug := range []string{"tab-mine", "tab-other"} {
		send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": slug, "title": "门店直播 " + slug, "store_id": stores.Stores[i].ID}, owner, nil).want(t, 201)
	}
	for _, c := range []map[string]any{{"title": "本店直播立减1元", "room": "tab-mine"}, {"title": "别店直播立减1元", "room": "tab-other"}, {"title": "全店立减1元"}} {
		c["kind"], c["amount_fen"], c["budget_count"] = "fixed", 100, 10
		send(t, nil, base, "POST", "/api/v1/coupons", c, owner, nil).want(t, 201)
	}
	send(t, nil, base, "POST", "/api/v1/staff", map[string]any{"username": "tab-host", "name": "门店主播", "role": "host", "store_id": stores.Stores[0].ID, "password": "Store-Host-2468"}, owner, nil).want(t, 201)
	tab := testkit.NewTab(t, browser, 60*time.Second)
	tab.StaffOpen(base, "tab-host", "Store-Host-2468", "/admin%23coupons", "#coupon-total")
	tab.Wait("the store's room's coupon", `document.querySelector("#admin-main").textContent.includes("本店直播立减1元")`)
	testkit.Screenshot(t, tab.Ctx, "admin-coupons-store-host")
	got, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[[]bool](`(() => { const s = document.querySelector("#admin-main").textContent;
		return [s.includes("别店直播立减1元"), s.includes("全店立减1元"), !!document.querySelector("#coupon-form")]; })()`))
	if err != nil || got[0] || got[1] || !got[2] {
		t.Errorf("other store's coupon, whole-shop coupon, create form shown: %v (%v), want false, false, true", got, err)
	}
}

// titledCoupon is what the override tests check of a coupon made through a form.
type titledCoupon struct {
	Title       string `json:"title"`
	AmountFen   int64  `json:"amount_fen"`
	BudgetCount int64  `json:"budget_count"`
	RoomID      int64  `json:"room_id"`
}

// couponTitled finds the merchant's coupon with this title; nil if none.
func couponTitled(t *testing.T, base, title string) *titledCoupon {
	t.Helper()
	var list struct {
		Coupons []titledCoupon `json:"coupons"`
	}
	send(t, nil, base, "GET", "/api/v1/coupons", nil, testkit.OwnerToken, nil).want(t, 200).decode(t, &list)
	for _, c := range list.Coupons {
		if c.Title == title {
			return &c
		}
	}
	return nil
}
