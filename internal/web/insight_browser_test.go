package web_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestAdminAliasTry: in /admin → 商品 the merchant adds an alias to a
// product, saves, opens it again and types a comment that uses the alias
// into 试一试: the page answers as the room would read it (this product,
// a price question), through POST /api/v1/insight/classify.
func TestAdminAliasTry(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	base, owner := m.URL(), testkit.OwnerToken
	var prods struct {
		Products []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"products"`
	}
	send(t, nil, base, "GET", "/api/v1/products", nil, owner, nil).decode(t, &prods)
	var matcha int64
	for _, p := range prods.Products {
		if p.Name == "抹茶生巧" {
			matcha = p.ID
		}
	}
	if matcha == 0 {
		t.Fatalf("no 抹茶生巧 in the demo: %+v", prods.Products)
	}
	// The comment dictionary loads in the background on first use (seconds
	// on a busy machine); wait for it here so the page answers at once.
	testkit.WaitFor(t, "classifier ready", 4*time.Minute, func() bool {
		return send(t, nil, base, "POST", "/api/v1/insight/classify", map[string]any{"texts": []string{"主播好"}}, owner, nil).Status == 200
	})

	tab := testkit.NewTab(t, browser, 3*time.Minute)
	tab.WaitFor = 30 * time.Second
	ctx, do, wait := tab.Ctx, tab.Do, tab.Wait
	editMatcha := `(() => { const tr = [...document.querySelectorAll("#admin-main tr")].find((r) => r.textContent.includes("抹茶生巧")); if (!tr) return false; tr.querySelector("button").click(); return true; })()`
	tab.StaffOpen(base, "owner", demo.Password, "/admin%23products", "#import-products")
	wait("products listed, edit opened", editMatcha)
	wait("product form", `!!document.querySelector("form input[name=aliases]")`)
	do("add an alias and save", chromedp.Evaluate[chromedp.Void](`document.querySelector("form input[name=aliases]").value += "、小绿盒"`),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	wait("saved", `document.getElementById("modal").classList.contains("hidden")`)
	testkit.WaitFor(t, "alias stored", 30*time.Second, func() bool {
		var p struct {
			Aliases []string `json:"aliases"`
		}
		send(t, nil, base, "GET", "/api/v1/products/"+itoa(matcha), nil, owner, nil).decode(t, &p)
		return slices.Contains(p.Aliases, "小绿盒")
	})
	do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#import-products")))
	wait("edit again", editMatcha)
	wait("try box", `!!document.querySelector("#alias-try-text") && document.querySelector("form input[name=aliases]").value.includes("小绿盒")`)
	do("try a comment", chromedp.SendKeys(chromedp.CSS("#alias-try-text"), "小绿盒多少钱呀"), chromedp.Click(chromedp.CSS("#alias-try-go")))
	wait("answer", `document.querySelector("#alias-try-result").dataset.product !== undefined && document.querySelector("#alias-try-result").textContent !== "…"`)
	testkit.Screenshot(t, ctx, "admin-alias-try")
	got, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector("#alias-try-result").dataset.product, document.querySelector("#alias-try-result").textContent]`))
	if len(got) != 2 || got[0] != itoa(matcha) || !strings.Contains(got[1], "本商品") || !strings.Contains(got[1], "问价") {
		t.Fatalf("try: %q (want product %d, a price question)", got, matcha)
	}
}
