package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestConsoleEnglishNamesBrowser: on the English console pages (desktop,
// 1366×900) products, rooms and stores go by their English names where
// they have one, and the fixed texts are English; the Chinese page keeps
// the Chinese ones. The dashboard: the room picker, the A/B panel's
// product and room pickers, each variant's room, the test names under
// the verdict (and the English verdict's room titles), the comment-signal table, the funnel chart; the brand
// view's room table and store chart. The admin's stores, rooms and
// stores-side-by-side tables, and the studio's price inputs.
func TestConsoleEnglishNamesBrowser(t *testing.T) {
	m := testkit.StartNode(t, "", "-rate-limits=false")
	base, owner := m.URL(), testkit.OwnerToken

	var prods struct {
		Products []struct {
			ID     int64  `json:"id"`
			Name   string `json:"name"`
			NameEN string `json:"name_en"`
		} `json:"products"`
	}
	send(t, nil, base, "GET", "/api/v1/products", nil, owner, nil).want(t, 200).decode(t, &prods)
	var ids []int64
	var zh, en []string
	for _, p := range prods.Products {
		if p.NameEN != "" && p.NameEN != p.Name && len(ids) < 3 {
			ids, zh, en = append(ids, p.ID), append(zh, p.Name), append(en, p.NameEN)
		}
	}
	if len(ids) < 3 {
		t.Fatalf("the demo shop has %d products with an English name, want 3", len(ids))
	}
	type room struct{ slug, title, titleEN string }
	a := room{"en-fruit", "周末鲜果专场", "Weekend fruit special"}
	b := room{"en-night", "夜宵零食场", "Late-night snacks"}
	for i, r := range []room{a, b} {
		send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": r.slug, "title": r.title, "title_en": r.titleEN,
			"product_ids": [][]int64{ids[:2], ids[2:3]}[i]}, owner, nil).want(t, 201)
	}
	var ab abAnswer
	var abZH struct {
		Asked struct {
			TestsZH string `json:"tests_zh"`
		} `json:"asked"`
	}
	abURL := fmt.Sprintf("/api/v1/rooms/%s/ab?a=%d&b=%d&room_b=%s", a.slug, ids[0], ids[2], b.slug)
	send(t, nil, base, "GET", abURL, nil, owner, nil).want(t, 200).decode(t, &ab)
	send(t, nil, base, "GET", abURL, nil, owner, nil).want(t, 200).decode(t, &abZH)
	if ab.Asked.Tests == "" || abZH.Asked.TestsZH == "" || strings.Contains(abZH.Asked.TestsZH, "two-proportion") {
		t.Fatalf("tests %q, tests_zh %q", ab.Asked.Tests, abZH.Asked.TestsZH)
	}
	var stores struct {
		Stores []struct {
			Name   string `json:"name"`
			NameEN string `json:"name_en"`
		} `json:"stores"`
	}
	send(t, nil, base, "GET", "/api/v1/stores", nil, owner, nil).want(t, 200).decode(t, &stores)
	if len(stores.Stores) == 0 || stores.Stores[0].NameEN == "" {
		t.Fatalf("stores %+v", stores.Stores)
	}
	store := stores.Stores[0]

	tab := testkit.NewTab(t, testkit.Browser(t), 4*time.Minute)
	tab.Width, tab.Height = 1366, 900
	tab.WaitFor = time.Minute
	// read evaluates a script that returns a JSON object of strings and
	// string lists; check compares it with want.
	type page map[string]any
	read := func(script string) page {
		t.Helper()
		raw, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](`JSON.stringify(`+script+`)`))
		var got page
		if err == nil {
			err = json.Unmarshal([]byte(raw), &got)
		}
		if err != nil {
			t.Fatalf("read the page: %v", err)
		}
		return got
	}
	check := func(shot string, got, want page) {
		t.Helper()
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			testkit.Screenshot(t, tab.Ctx, "failed-"+shot)
			t.Fatalf("%s:\npage %s\nwant %s", shot, g, w)
		}
	}
	list := func(s ...string) []any {
		out := make([]any, len(s))
		for i, x := range s {
			out[i] = x
		}
		return out
	}
	dashboard := `({
		room: document.querySelector("#dash-room option[value=` + a.slug + `]").textContent,
		a: [...document.querySelectorAll("#dash-ab-a option")].map((o) => o.textContent),
		b: [...document.querySelectorAll("#dash-ab-b option")].map((o) => o.textContent),
		roomB: document.querySelector("#dash-ab-room-b option[value=` + b.slug + `]").textContent,
		arms: [...document.querySelectorAll("#dash-ab [data-metric=asked] .dash-ab-arms tbody td:first-child")].map((e) => e.textContent),
		tests: document.querySelector("#dash-ab [data-metric=asked] > p.small:last-child").firstChild.textContent,
		signals: [...document.querySelectorAll("#dash-signals tbody td:first-child")].map((e) => e.textContent),
		verdictInChinese: /[\u4e00-\u9fff]/.test(document.querySelector("#dash-ab [data-metric=asked] .verdict").textContent),
		funnel: echarts.getInstanceByDom(document.getElementById("chart-funnel")).getOption().yAxis[0].data,
	})`
	pickB := func(what string) {
		t.Helper()
		tab.Wait(what+": B's room listed", `!!document.querySelector("#dash-ab-room-b option[value=`+b.slug+`]") && document.querySelectorAll("#dash-ab-a option").length === 2`)
		tab.Do(what+": pick B's room", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("dash-ab-room-b"); s.value = "`+b.slug+`"; s.dispatchEvent(new Event("change")); })()`))
		tab.Wait(what+": the panel across rooms", `!!document.querySelector('#dash-ab [data-metric=asked][data-across="1"]') && document.querySelectorAll("#dash-signals tbody tr[data-product]").length === 2 && document.querySelectorAll("#chart-funnel svg text").length > 4 && !!document.querySelector("#dash-kpis #k-viewers")`)
	}

	tab.StaffOpen(base, "owner", demo.Password, "/dashboard?room="+a.slug+"&lang=en", "#dash-ab-panel")
	pickB("English")
	check("console-en-dashboard", read(dashboard), page{
		"room": a.titleEN, "a": list(en[0], en[1]), "b": list(en[2]), "roomB": b.titleEN,
		"arms": list("A · "+en[0]+a.titleEN, "B · "+en[2]+b.titleEN), "tests": ab.Asked.Tests + " · ",
		"signals": list(en[0], en[1]), "verdictInChinese": false, "funnel": list(en[0], en[1]),
	})
	testkit.Settled(t, tab.Ctx)
	testkit.Screenshot(t, tab.Ctx, "console-en-dashboard")

	// The Chinese page keeps the Chinese names and names the tests in Chinese.
	tab.Do("the dashboard in Chinese", chromedp.Navigate(base+"/dashboard?room="+a.slug+"&lang=zh"))
	pickB("Chinese")
	check("console-zh-dashboard", read(dashboard), page{
		"room": a.title, "a": list(zh[0], zh[1]), "b": list(zh[2]), "roomB": b.title,
		"arms": list("A · "+zh[0]+a.title, "B · "+zh[2]+b.title), "tests": abZH.Asked.TestsZH + " · ",
		"signals": list(zh[0], zh[1]), "verdictInChinese": true, "funnel": list(zh[0], zh[1]),
	})

	// The brand view: rooms and stores by their English names.
	tab.Do("the brand view in English", chromedp.Navigate(base+"/dashboard?lang=en"))
	tab.Wait("the brand view", `document.querySelectorAll("#dash-rooms tbody tr").length >= 3 && (echarts.getInstanceByDom(document.getElementById("chart-stores"))?.getOption().yAxis[0].data.length || 0) >= 3`)
	check("console-en-brand", read(`({
		rooms: [...document.querySelectorAll("#dash-rooms tbody td:first-child")].map((e) => e.textContent).filter((s) => `+jsStrings([]string{a.title, a.titleEN, b.title, b.titleEN})+`.includes(s)),
		store: echarts.getInstanceByDom(document.getElementById("chart-stores")).getOption().yAxis[0].data.includes(`+jsString(store.NameEN)+`) ? "english" : "not english",
	})`), page{"rooms": list(b.titleEN, a.titleEN), "store": "english"})
	testkit.Settled(t, tab.Ctx)
	testkit.Screenshot(t, tab.Ctx, "console-en-brand")

	// The admin: English names beside the Chinese ones in the lists, English
	// ones alone where a store is one of several figures.
	tab.Do("the admin's stores in English", chromedp.Navigate(base+"/admin?lang=en#stores"))
	tab.Wait("the stores table", `document.querySelectorAll("#admin-main table tbody tr").length >= 3`)
	check("console-en-admin-stores", read(`({ first: [...document.querySelector("#admin-main table tbody tr td").children].map((e) => e.textContent) })`),
		page{"first": list(store.Name, store.NameEN)})
	testkit.Screenshot(t, tab.Ctx, "console-en-admin-stores")
	tab.Do("the admin's rooms in English", chromedp.Evaluate[chromedp.Void](`location.hash = "rooms"`))
	tab.Wait("the rooms table", `[...document.querySelectorAll("#admin-main table tbody td:first-child")].some((e) => e.textContent.includes(`+jsString(a.title)+`))`)
	check("console-en-admin-rooms", read(`({ room: [...[...document.querySelectorAll("#admin-main table tbody td:first-child")].find((e) => e.textContent.includes(`+jsString(a.title)+`)).children].map((e) => e.textContent) })`),
		page{"room": list(a.title, a.titleEN)})
	tab.Do("the admin's stores side by side in English", chromedp.Evaluate[chromedp.Void](`location.hash = "studios"`))
	tab.Wait("the stores side by side", `document.querySelectorAll("#admin-main table tbody tr[data-store]").length >= 3`)
	check("console-en-admin-studios", read(`({ names: [...document.querySelectorAll("#admin-main table tbody tr[data-store] td:first-child")].map((e) => e.textContent).filter((s) => `+jsStrings([]string{store.Name, store.NameEN})+`.includes(s)) })`),
		page{"names": list(store.NameEN)})
	testkit.Settled(t, tab.Ctx)
	testkit.Screenshot(t, tab.Ctx, "console-en-admin-studios")

	// The studio: the price inputs are labelled with the English name.
	tab.Do("the studio in English", chromedp.Navigate(base+"/studio?room="+a.slug+"&lang=en"))
	tab.Wait("the lineup", `document.querySelectorAll("#lineup .price-edit").length > 0`)
	check("console-en-studio", read(`({ label: document.querySelector("#lineup .price-edit").getAttribute("aria-label").split(" · ")[0] })`),
		page{"label": en[0]})
}
