package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestImportProducts: a grocer's product list goes in as CSV — checked
// first with dry_run, then created all at once; a bad cell or a SKU code
// the shop already uses refuses the whole file and creates nothing.
func TestImportProducts(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	csvHdr := map[string]string{"Content-Type": "text/csv; charset=utf-8"}
	count := func() int {
		var list struct {
			Products []struct {
				Name string `json:"name"`
			} `json:"products"`
		}
		send(t, nil, s.base, "GET", "/api/v1/products", nil, owner, nil).decode(t, &list)
		return len(list.Products)
	}
	before := count()
	file := "商品,规格编码,规格,售价,划线价,条码,产地,储存,保质期\n" +
		"赣南脐橙,NO-5,5斤装,49.90,59.90,06901234600018,江西赣州,常温,20\n" +
		"赣南脐橙,NO-10,10斤装,89,,,,,\n" +
		"阳光玫瑰,SM-1,1串,39.9,,,云南,冷藏,10\n"

	// A dry run shows what would be created, and creates nothing.
	var out struct {
		DryRun   bool `json:"dry_run"`
		Created  int  `json:"created"`
		Products []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
			SKUs []struct {
				ID       int64  `json:"id"`
				Code     string `json:"code"`
				PriceFen int64  `json:"price_fen"`
				GTIN     string `json:"gtin"`
			} `json:"skus"`
		} `json:"products"`
	}
	r := send(t, nil, s.base, "POST", "/api/v1/products/import?dry_run=true", file, owner, csvHdr)
	if r.Status != 200 {
		t.Fatalf("dry run: %d %s", r.Status, r.Body)
	}
	r.decode(t, &out)
	if !out.DryRun || out.Created != 0 || len(out.Products) != 2 || len(out.Products[0].SKUs) != 2 || count() != before {
		t.Fatalf("dry run: %+v, products now %d (was %d)", out, count(), before)
	}

	// A bad cell: the problem names row and column; nothing is created.
	bad := file + "巨峰葡萄,JF-1,1kg,12.345,,,,,\n"
	p := send(t, nil, s.base, "POST", "/api/v1/products/import", bad, owner, csvHdr).wantProblem(t, 400, "invalid_price")
	if p.Field != "row 5: price" || count() != before {
		t.Fatalf("bad price: field %q, products %d (was %d)", p.Field, count(), before)
	}
	// A SKU code the shop already uses (the demo's strawberries): 409, nothing created.
	taken := file + "草莓,SB-500,500g,10,,,,,\n"
	send(t, nil, s.base, "POST", "/api/v1/products/import", taken, owner, csvHdr).wantProblem(t, 409, "conflict")
	if count() != before {
		t.Fatalf("a refused import created %d products", count()-before)
	}
	// JSON is not a product list.
	send(t, nil, s.base, "POST", "/api/v1/products/import", map[string]string{"a": "b"}, owner, nil).wantProblem(t, 400, "unsupported_media_type")

	// The real thing, saved by Excel on a Chinese Windows (GBK).
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(file)
	if err != nil {
		t.Fatal(err)
	}
	r = send(t, nil, s.base, "POST", "/api/v1/products/import", gbk, owner, map[string]string{"Content-Type": "text/csv"})
	if r.Status != 201 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	r.decode(t, &out)
	if out.DryRun || out.Created != 2 || count() != before+2 {
		t.Fatalf("import: %+v, products %d (was %d)", out, count(), before)
	}
	orange := out.Products[0]
	if orange.Name != "赣南脐橙" || orange.ID == 0 || orange.SKUs[0].PriceFen != 4990 || orange.SKUs[1].PriceFen != 8900 || orange.SKUs[0].GTIN != "06901234600018" {
		t.Fatalf("imported product: %+v", orange)
	}
	// Importing the same file again would duplicate its SKU codes: refused.
	send(t, nil, s.base, "POST", "/api/v1/products/import", file, owner, csvHdr).wantProblem(t, 409, "conflict")
}

// TestImportProductsBrowser: the owner imports a product list from the admin
// console — a bad file shows its row, a good one lands in the product table.
func TestImportProductsBrowser(t *testing.T) {
	s := newShop(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "products.csv")
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(good, []byte("商品,规格编码,规格,售价\n奉节脐橙,FJ-5,5斤装,45.00\n"), 0o644)
	os.WriteFile(bad, []byte("商品,规格编码,规格,售价\n奉节脐橙,FJ-5,5斤装,四十五\n"), 0o644)

	tab := testkit.NewTab(t, testkit.Browser(t), 60*time.Second)
	tab.Width, tab.Height = 1280, 900
	tab.StaffOpen(s.base, "owner", demo.Password, "/admin%23products", "#import-products")
	ctx := tab.Ctx
	err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS("#import-products")),
		chromedp.WaitVisible(chromedp.CSS("#import-file")),
		chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{bad}),
		chromedp.Click(chromedp.CSS("#modal button[type=submit]")),
		chromedp.Poll[chromedp.Void](`!document.querySelector("#modal .form-error").classList.contains("hidden")`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#modal .form-error").textContent`))
	if !strings.Contains(msg, "（第 2 行 price 列）") || strings.Contains(msg, "row") { // the Chinese page names the cell in Chinese
		t.Fatalf("the error line %q does not name the bad cell", msg)
	}
	err = chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{good}),
		chromedp.Click(chromedp.CSS("#modal button[type=submit]")),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll("#admin-main table.data b")].some((b) => b.textContent === "奉节脐橙")`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Screenshot(t, ctx, "admin-import-products")
}

// TestImportStock: a store's stock count as CSV — new lots are created,
// levels set, rooms see the new availability; a bad row changes nothing.
func TestImportStock(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	csvHdr := map[string]string{"Content-Type": "text/csv"}
	available := func() int64 {
		var list struct {
			Products []struct {
				SKUs []struct {
					Code      string `json:"code"`
					Available int64  `json:"available"`
				} `json:"skus"`
			} `json:"products"`
		}
		send(t, nil, s.base, "GET", "/api/v1/products", nil, owner, nil).decode(t, &list)
		for _, p := range list.Products {
			for _, k := range p.SKUs {
				if k.Code == "SB-500" {
					return k.Available
				}
			}
		}
		t.Fatal("no SB-500")
		return 0
	}
	before := available()
	exp := time.Now().AddDate(0, 0, 5).Format("2006-01-02")
	count := "规格编码,门店,批次号,到期日期,库存\nSB-500,鲜食集·静安寺店,IMP1," + exp + ",30\nSB-500,鲜食集·陆家嘴店,IMP1," + exp + ",20\n"
	var res struct {
		DryRun      bool `json:"dry_run"`
		Rows        int  `json:"rows"`
		LotsCreated int  `json:"lots_created"`
	}
	r := send(t, nil, s.base, "POST", "/api/v1/stock/import?dry_run=1", count, owner, csvHdr)
	r.decode(t, &res)
	if r.Status != 200 || !res.DryRun || res.Rows != 2 || available() != before {
		t.Fatalf("dry run: %d %+v, available %d (was %d)", r.Status, res, available(), before)
	}
	bad := count + "SB-500,火星店,IMP1," + exp + ",5\n"
	p := send(t, nil, s.base, "POST", "/api/v1/stock/import", bad, owner, csvHdr).wantProblem(t, 400, "unknown_store")
	if p.Field != "row 4: store" || available() != before {
		t.Fatalf("bad store: field %q, available %d (was %d)", p.Field, available(), before)
	}
	r = send(t, nil, s.base, "POST", "/api/v1/stock/import", count, owner, csvHdr)
	r.decode(t, &res)
	if r.Status != 200 || res.LotsCreated != 1 || available() != before+50 {
		t.Fatalf("import: %d %+v, available %d (was %d)", r.Status, res, available(), before)
	}
	// A host may not count stock.
	host := staffLogin(t, s.base, "host", "shelflive-demo")
	send(t, nil, s.base, "POST", "/api/v1/stock/import", count, host.Token, csvHdr).wantProblem(t, 403, "forbidden")
}
