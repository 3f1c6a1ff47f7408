package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/demo"
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

	edit := `button.edit-product[data-id="` + itoa(prod.ID) + `"]`
	tab := testkit.NewTab(t, browser, 120*time.Second)
	tab.StaffOpen(base, "owner", demo.Password, "/admin%23products", edit)
	ctx, do, wait := tab.Ctx, tab.Do, tab.Wait
	do("edit the product", chromedp.Click(chromedp.CSS(edit)))
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
