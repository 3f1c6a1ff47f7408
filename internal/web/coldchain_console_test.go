package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestColdChainConsoleSetup: quality staff set up a new fridge from the
// console at 1440×900, not only through the API: they add a location
// (kinds offered as a choice, in Chinese and English) and register its
// sensor, whose token and MQTT topic are shown once. The heading stays on
// one line and the status column is readable (issue 12: 冷链告/警 and a
// one-character 状态 column). Screenshots in SHELFLIVE_ARTIFACTS.
func TestColdChainConsoleSetup(t *testing.T) {
	m := testkit.StartNode(t, "")
	tab := testkit.NewTab(t, testkit.Browser(t), 90*time.Second)
	tab.StaffOpen(m.URL(), "quality", demo.Password, "/admin/coldchain", "#cc-filter")
	ctx := tab.Ctx
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`(() => { const f = document.getElementById("cc-filter"); f.selectedIndex = 1; f.dispatchEvent(new Event("change")); })()`),
		chromedp.WaitVisible(chromedp.CSS("#cc-alarms tbody tr")),
		chromedp.WaitVisible(chromedp.CSS("#cc-locations tbody tr")),
	); err != nil {
		testkit.Screenshot(t, ctx, "coldchain-console-failed")
		t.Fatal(err)
	}
	testkit.Screenshot(t, ctx, "coldchain-console-1440")

	// Layout: the heading is one line; the status column fits its words.
	oneLine, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const h = document.querySelector(".admin-toolbar h1"); return h.getClientRects().length === 1 && h.offsetHeight < 2 * parseFloat(getComputedStyle(h).lineHeight || "40"); })()`))
	if !oneLine {
		t.Error("the console heading wraps")
	}
	statusW, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector("#cc-alarms thead th:nth-child(5)").getBoundingClientRect().width`))
	statusText, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`(() => { const c = document.querySelector("#cc-alarms tbody td:nth-child(5)"); const r = document.createRange(); r.selectNodeContents(c); return r.getClientRects().length; })()`))
	if statusW < 60 || statusText > 1 {
		t.Errorf("status column %.0f px wide, its text on %v lines", statusW, statusText)
	}

	// The kinds are offered as a choice, bilingual.
	kinds, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#loc-kind option")].map(o => o.value + "=" + o.textContent)`))
	if len(kinds) != 6 || !strings.Contains(strings.Join(kinds, ","), "display_fridge=展示冷柜 · display_fridge") {
		t.Errorf("kind choice %q", kinds)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#loc-name"), "静安寺店 后场冷库"),
		chromedp.SendKeys(chromedp.CSS("#loc-name-en"), "Jing'an back cold room"),
		chromedp.SetValue(chromedp.CSS("#loc-kind"), "cold_room"),
		chromedp.SetValue(chromedp.CSS("#loc-class"), "chilled"),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("loc-store"); s.value = s.options[1].value; })()`),
		chromedp.Click(chromedp.CSS("#loc-submit")),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll("#cc-locations tbody td")].some(td => td.textContent.includes("后场冷库"))`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll("#dev-location option")].some(o => o.textContent.includes("后场冷库"))`, chromedp.WithPollingTimeout(10*time.Second)),
	); err != nil {
		testkit.Screenshot(t, ctx, "coldchain-console-location-failed")
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#dev-key"), "probe-jingan-back"),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("dev-location"); s.value = [...s.options].find(o => o.textContent.includes("后场冷库")).value; })()`),
		chromedp.Click(chromedp.CSS("#dev-submit")),
		chromedp.WaitVisible(chromedp.CSS("#dev-token")),
	); err != nil {
		testkit.Screenshot(t, ctx, "coldchain-console-device-failed")
		t.Fatal(err)
	}
	testkit.Screenshot(t, ctx, "coldchain-console-created")
	token, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("dev-token").textContent`))
	topic, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("dev-topic").textContent`))
	if !strings.HasPrefix(token, "dev_") || topic != "shelflive/demo/devices/probe-jingan-back/telemetry" {
		t.Fatalf("device token %q topic %q", token, topic)
	}

	// The sensor works with what the page showed.
	var locs struct {
		Locations []coldchain.Location `json:"locations"`
	}
	owner := testkit.Owner(m)
	owner.Do(t, "GET", "/api/v1/coldchain/locations", nil, &locs)
	found := false
	for _, l := range locs.Locations {
		found = found || (l.Name == "静安寺店 后场冷库" && l.Kind == coldchain.KindColdRoom && l.NameEN == "Jing'an back cold room" && l.StoreID != 0)
	}
	if !found {
		t.Fatalf("location not stored: %+v", locs.Locations)
	}
	dev := &testkit.Client{Base: m.URL(), Token: token}
	if st := dev.Do(t, "POST", "/api/v1/telemetry", map[string]any{"readings": []any{map[string]any{"values": map[string]any{"temperature": 3.1}}}}, nil); st != 202 {
		t.Fatalf("telemetry with the shown token: %d", st)
	}
}
