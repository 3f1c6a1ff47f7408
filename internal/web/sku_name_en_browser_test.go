package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestLiveSKUChooserEnglish: on the English live room page (a phone,
// 390×844) the buy sheet's SKU chips name each SKU by its English name
// (name_en), falling back to the Chinese one; they showed "500g 盒装"
// before SKUs had an English name.
func TestLiveSKUChooserEnglish(t *testing.T) {
	s := newShop(t)
	var prods struct {
		Products []struct {
			SKUs []struct {
				Name   string `json:"name"`
				NameEN string `json:"name_en"`
			} `json:"skus"`
		} `json:"products"`
	}
	send(t, nil, s.base, "GET", "/api/v1/products", nil, testkit.OwnerToken, nil).want(t, 200).decode(t, &prods)
	en, zh := map[string]bool{}, map[string]bool{}
	for _, p := range prods.Products {
		for _, k := range p.SKUs {
			if k.NameEN != "" && k.NameEN != k.Name {
				en[k.NameEN], zh[k.Name] = true, true
			}
		}
	}
	if len(en) == 0 {
		t.Fatal("no demo SKU has an English name")
	}
	buyer := viewerLogin(t, s.base, "demo", "13900000098")
	browser := testkit.Browser(t)

	// The owner names the pinned product's second SKU in English in the
	// product form (its row's English name input); the first SKU's English
	// name goes back unchanged.
	pid, _, _ := enProduct(t, s)
	edit := `button.edit-product[data-id="` + itoa(pid) + `"]`
	tab := testkit.NewTab(t, browser, 2*time.Minute)
	tab.StaffOpen(s.base, "owner", demo.Password, "/admin?lang=en%23products", edit)
	tab.Do("edit the product", chromedp.Click(chromedp.CSS(edit)))
	tab.Wait("the SKU rows", `!!document.querySelector('input[name="sname_en1"]')`)
	tab.Do("name the 1kg SKU in English", chromedp.SetValue(chromedp.CSS(`input[name="sname_en1"]`), "1kg gift pack"))
	tab.Do("show the SKU rows", chromedp.ScrollIntoView(chromedp.CSS(`input[name="sname_en1"]`)))
	testkit.Screenshot(t, tab.Ctx, "sku-en-admin-form")
	tab.Do("save", chromedp.Click(chromedp.CSS(".modal-actions .btn-primary")))
	tab.Wait("saved", `!document.querySelector('input[name="sname_en1"]')`)
	var saved struct {
		SKUs []struct {
			NameEN string `json:"name_en"`
		} `json:"skus"`
	}
	send(t, nil, s.base, "GET", "/api/v1/products/"+itoa(pid), nil, testkit.OwnerToken, nil).want(t, 200).decode(t, &saved)
	if len(saved.SKUs) != 2 || saved.SKUs[0].NameEN != "500g box" || saved.SKUs[1].NameEN != "1kg gift pack" {
		t.Fatalf("saved from the form: %+v", saved)
	}
	en["1kg gift pack"] = true

	// The admin names SKUs in English too: the product table's SKU column,
	// the lots table and the new lot's SKU picker (all "500g 盒装" before).
	adminSKUs := func(what, expr string) []string {
		t.Helper()
		got, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[[]string](expr))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, g := range got {
			if zh[g] {
				testkit.Screenshot(t, tab.Ctx, "failed-sku-en-"+what)
				t.Fatalf("%s %q: %q is the Chinese name of a SKU that has an English one", what, got, g)
			}
			if en[g] {
				n++
			}
		}
		if n == 0 {
			testkit.Screenshot(t, tab.Ctx, "failed-sku-en-"+what)
			t.Fatalf("%s %q: none by its English name (want one of %v)", what, got, en)
		}
		return got
	}
	tab.Do("the products again", chromedp.Navigate(s.base+"/admin?lang=en#products"), chromedp.WaitVisible(chromedp.CSS(edit)))
	if got := adminSKUs("product-table", `[...document.querySelector(`+"`"+edit+"`"+`).closest("tr").children[2].querySelectorAll("div")].map((d) => d.textContent.split(" · ")[0])`); strings.Join(got, "|") != "500g box|1kg gift pack" {
		t.Fatalf("product table SKUs %q, want 500g box, 1kg gift pack", got)
	}
	tab.Do("the lots", chromedp.Evaluate[chromedp.Void](`location.hash = "lots"`))
	tab.Wait("the lots table", `!!document.getElementById("import-stock") && document.querySelectorAll("#admin-main table tbody tr").length > 0`)
	adminSKUs("lots-table", `[...document.querySelectorAll("#admin-main table tbody tr td:nth-child(2)")].map((e) => e.textContent.split(" · ").slice(1).join(" · "))`)
	tab.Do("a new lot", chromedp.Evaluate[chromedp.Void](`document.querySelector(".admin-toolbar .btn-primary").click()`))
	tab.Wait("the SKU picker", `!!document.querySelector('select[name="sku_id"]')`)
	adminSKUs("lot-sku-picker", `[...document.querySelectorAll('select[name="sku_id"] option')].map((o) => o.textContent.split(" · ").slice(1).join(" · "))`)
	testkit.Screenshot(t, tab.Ctx, "sku-en-admin-lot-picker")
	tab.Do("close", chromedp.Evaluate[chromedp.Void](`document.querySelector(".modal-actions .btn:not(.btn-primary)").click()`))

	phone := testkit.NewContext(t, browser, 2*time.Minute)
	runB(t, phone, "open the room in English", chromedp.Emulate(device.IPhone12Pro), withCookie(s.base, "sl_viewer", buyer.Token),
		chromedp.Navigate(s.base+"/live/demo?lang=en"), chromedp.WaitVisible(chromedp.CSS("#pinned #buy-btn")),
		chromedp.Click(chromedp.CSS("#pinned #buy-btn")), chromedp.WaitVisible(chromedp.CSS(".chips .chip")))
	chips, err := chromedp.Run(phone, chromedp.Evaluate[[]string](`[...document.querySelector(".chips").querySelectorAll(".chip")].map((c) => c.textContent.split(" · ")[0])`))
	if err != nil {
		t.Fatal(err)
	}
	translated := 0
	for _, c := range chips {
		if zh[c] {
			testkit.Screenshot(t, phone, "failed-sku-chooser-en")
			t.Fatalf("SKU chips %q: %q is the Chinese name of a SKU that has an English one", chips, c)
		}
		if en[c] {
			translated++
		}
	}
	if translated < 2 {
		testkit.Screenshot(t, phone, "failed-sku-chooser-en")
		t.Fatalf("SKU chips %q: none by its English name (want one of %v)", chips, en)
	}
	if strings.Join(chips, "") == "" {
		t.Fatal("no SKU chips")
	}
	testkit.Settled(t, phone)
	testkit.Screenshot(t, phone, "sku-en-live-buy-sheet")

	// The studio's flash-sale list names the sale's SKU in English too
	// ("500g 盒装" before flash sales carried sku_name_en).
	send(t, nil, s.base, "POST", "/api/v1/rooms/demo/flash-sales", map[string]any{"sku_id": s.sku1, "store_id": s.storeID, "price_fen": 990, "quantity": 5, "duration_s": 3600}, testkit.OwnerToken, nil).want(t, 201)
	tab.Do("the studio in English", chromedp.Navigate(s.base+"/studio?room=demo&lang=en"))
	tab.Wait("the flash-sale list", `document.querySelectorAll("#flash-list li b").length > 0`)
	sale, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](`document.querySelector("#flash-list li b").textContent`))
	if err != nil {
		t.Fatal(err)
	}
	testkit.Screenshot(t, tab.Ctx, "sku-en-studio-flash")
	if !strings.HasSuffix(sale, " · 500g box") {
		t.Fatalf("studio flash sale %q: want the SKU's English name \"500g box\"", sale)
	}
}
