package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestLiveEditComplianceBrowser: in /admin (1440×900) an owner edits a
// product that a live room shows into a disease claim; the save is refused
// with the review (the claim underlined) inside the form, nothing is
// stored, and the owner's reason saves it anyway (audited).
func TestLiveEditComplianceBrowser(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	base, owner := m.URL(), testkit.OwnerToken
	var prod struct {
		ID int64 `json:"id"`
	}
	send(t, nil, base, "POST", "/api/v1/products", map[string]any{"name": "鲜榨芹菜汁", "description": "当天现榨，冷藏保存",
		"skus": []map[string]any{{"code": "QC-B", "name": "500ml", "price_fen": 1290}}}, owner, nil).decode(t, &prod)
	send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": "veg-b", "title": "蔬菜汁专场", "product_ids": []int64{prod.ID}}, owner, nil)
	if r := send(t, nil, base, "POST", "/api/v1/rooms/veg-b/status", map[string]any{"status": "live"}, owner, nil); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}

	ctx := testkit.NewContext(t, browser, 120*time.Second)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			testkit.Screenshot(t, ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
			t.Fatalf("%s: %v", what, err)
		}
	}
	wait := func(what, expr string) {
		t.Helper()
		do(what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	}
	edit := `button.edit-product[data-id="` + itoa(prod.ID) + `"]`
	do("login", chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(base+"/login?next=/admin%23products"),
		chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#login"), "owner"),
		chromedp.SendKeys(chromedp.CSS("#password"), "shelflive-demo"),
		chromedp.Click(chromedp.CSS("#login-submit")))
	do("products", chromedp.WaitVisible(chromedp.CSS(edit)), chromedp.Click(chromedp.CSS(edit)))
	wait("form", `document.querySelector('select[name="product_type"]') && document.querySelector('select[name="product_type"]').value === "ordinary_food"`)
	do("write a claim", chromedp.SetValue(chromedp.CSS(`textarea[name="description"]`), "喝了能降血压，三天见效"),
		chromedp.Click(chromedp.CSS(".modal-actions .btn-primary")))
	wait("refused with the review", `!document.querySelector("#cf-guard").classList.contains("hidden") && document.querySelectorAll("#cf-guard mark").length >= 1 && !!document.querySelector("#cf-guard-reason")`)
	testkit.Screenshot(t, ctx, "admin-live-product-blocked")
	var stored struct {
		Description string `json:"description"`
	}
	send(t, nil, base, "GET", "/api/v1/products/"+itoa(prod.ID), nil, owner, nil).decode(t, &stored)
	if stored.Description != "当天现榨，冷藏保存" {
		t.Fatalf("refused edit stored: %q", stored.Description)
	}

	do("override", chromedp.SendKeys(chromedp.CSS("#cf-guard-reason"), "引用检测报告原文"),
		chromedp.Click(chromedp.CSS(".modal-actions .btn-primary")))
	wait("saved, its findings shown", `!!document.querySelector("#product-review")`)
	send(t, nil, base, "GET", "/api/v1/products/"+itoa(prod.ID), nil, owner, nil).decode(t, &stored)
	if stored.Description != "喝了能降血压，三天见效" {
		t.Fatalf("override not saved: %q", stored.Description)
	}
	wantAudit(t, base, "product.edit.override", "引用检测报告原文")
}
