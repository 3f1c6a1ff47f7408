package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestComplianceStudioBrowser: in the studio (1440×900) a blocked go-live
// lists the findings with the claims underlined, an owner overrides with a
// reason, the script is reviewed on save, and a viewer's non-compliant
// comment is flagged for the host; the admin's 合规词库 tab checks a text.
func TestComplianceStudioBrowser(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	base, owner := m.URL(), testkit.OwnerToken
	var prod struct {
		ID int64 `json:"id"`
	}
	send(t, nil, base, "POST", "/api/v1/products", map[string]any{"name": "苦荞茶", "subtitle": "降血糖 全网最低价", "description": "零添加，送礼首选",
		"skus": []map[string]any{{"code": "QT-1", "name": "250g", "price_fen": 2900, "list_price_fen": 3900}}}, owner, nil).decode(t, &prod)
	if r := send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": "cf-room", "title": "国家级好茶 限时特惠", "product_ids": []int64{prod.ID}}, owner, nil); r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}

	tab := testkit.NewTab(t, browser, 120*time.Second)
	tab.StaffOpen(base, "owner", demo.Password, "/studio?room=cf-room", "#lineup li")
	ctx, do, wait := tab.Ctx, tab.Do, tab.Wait
	wait("studio loads", `document.querySelector("#studio-title") && document.querySelector("#studio-title").textContent.includes("国家级")`)
	do("go live", chromedp.Click(chromedp.CSS("#go-live")))
	wait("review shown", `!document.querySelector("#cf-panel").classList.contains("hidden") && document.querySelectorAll("#cf-panel mark").length >= 4 && !!document.querySelector("#cf-override")`)
	testkit.Screenshot(t, ctx, "studio-compliance-blocked")

	do("write script", chromedp.Click(chromedp.CSS("#script-box summary")),
		chromedp.SendKeys(chromedp.CSS("#script-text"), "开场：这款茶医生推荐，喝了治失眠。"),
		chromedp.Click(chromedp.CSS("#script-save")))
	wait("script reviewed", `document.querySelectorAll("#script-review mark").length === 2`)

	do("override", chromedp.SendKeys(chromedp.CSS("#cf-reason"), "已确认口播时不说这些词"),
		chromedp.Click(chromedp.CSS("#cf-override button")))
	wait("live", `document.querySelector("#studio-status").classList.contains("pill-live") && document.querySelector("#cf-panel").classList.contains("hidden")`)

	// A live price cut under the ¥39 struck-through price, which was never
	// charged: refused with the review, the input back at ¥29; the owner's
	// override stores it.
	do("cut the price", chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelector("input.price-edit"); i.value = "19"; i.dispatchEvent(new Event("change")); })()`))
	wait("price refused", `!document.querySelector("#cf-panel").classList.contains("hidden") && document.querySelector("#cf-panel h3").textContent.includes("划线价") && document.querySelector("input.price-edit").value === "29.00"`)
	testkit.Screenshot(t, ctx, "studio-price-refused")
	do("price override", chromedp.SendKeys(chromedp.CSS("#cf-reason"), "厂家补贴，已备案"), chromedp.Click(chromedp.CSS("#cf-override button")))
	wait("price stored", `document.querySelector("#cf-panel").classList.contains("hidden")`)
	var stored struct {
		SKUs []struct {
			PriceFen int64 `json:"price_fen"`
		} `json:"skus"`
	}
	send(t, nil, base, "GET", "/api/v1/products/"+itoa(prod.ID), nil, owner, nil).decode(t, &stored)
	if len(stored.SKUs) != 1 || stored.SKUs[0].PriceFen != 1900 {
		t.Fatalf("the overridden price was not stored: %+v", stored)
	}

	viewer := viewerLogin(t, base, "demo", "13900000931")
	if r := send(t, nil, base, "POST", "/api/v1/rooms/cf-room/comments", map[string]any{"text": "听说这个茶能降血压？"}, viewer.Token, nil); r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	wait("comment flagged", `document.querySelectorAll("#st-comments li.flagged .cf-flag").length === 1`)
	time.Sleep(400 * time.Millisecond) // let the comment's pop-in animation finish before the screenshot
	testkit.Screenshot(t, ctx, "studio-compliance-live")

	do("host comment refused", chromedp.SendKeys(chromedp.CSS("#host-comment-input"), "这茶是全网最低价\r"))
	wait("host findings", `!document.querySelector("#cf-panel").classList.contains("hidden") && document.querySelectorAll("#cf-panel mark").length === 1`)

	do("admin tab", chromedp.Navigate(base+"/admin#compliance"), chromedp.WaitVisible(chromedp.CSS("#cf-check textarea")),
		chromedp.SendKeys(chromedp.CSS("#cf-check textarea"), "有机大米，最佳食用期6个月，销量第一"),
		chromedp.Click(chromedp.CSS("#cf-check button[type=submit]")))
	wait("admin check", `document.querySelectorAll("#cf-check-out mark").length === 2`)
	testkit.Screenshot(t, ctx, "admin-compliance")
}
