package web_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

// epcisDoc is a small supply chain for one lot: commissioned at the farm,
// shipped in a refrigerated truck, received into the store's fridge (when
// received is set).
func epcisDoc(lgtin string, t0 time.Time, truckGLN string, received bool) string {
	ev := func(step, disp, loc string, at time.Time) string {
		return fmt.Sprintf(`{"type":"ObjectEvent","eventTime":%q,"eventTimeZoneOffset":"+08:00","action":"OBSERVE","epcList":[],
			"quantityList":[{"epcClass":%q,"quantity":120,"uom":"EA"}],"bizStep":%q,"disposition":%q,"bizLocation":{"id":%q}}`,
			at.UTC().Format(time.RFC3339), lgtin, step, disp, loc)
	}
	return `{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0",
		"creationDate":"` + t0.UTC().Format(time.RFC3339) + `","epcisBody":{"eventList":[` +
		ev("commissioning", "active", "https://id.gs1.org/414/6901234000017", t0) + "," +
		ev("shipping", "in_transit", truckGLN, t0.Add(time.Hour)) +
		map[bool]string{true: "," + ev("receiving", "sellable_accessible", "https://id.gs1.org/414/6901234000031", t0.Add(4*time.Hour))}[received] + `]}}`
}

// TestTracePageBrowser renders two trace pages on a phone-sized headless
// chromium: a lot whose cold chain held (farm → truck → store fridge, with
// EPCIS events) and one on hold after an excursion. It checks the chart
// rendered under the strict CSP and saves screenshots (SHELFLIVE_ARTIFACTS).
func TestTracePageBrowser(t *testing.T) {
	n := startColdChain(t)
	owner := testkit.OwnerToken
	milk, storeID := n.demoSKU(t, "MK-950")
	milkLot := n.lot(t, milk)
	now := time.Now().Truncate(time.Minute)
	t0 := now.Add(-10 * time.Hour)

	mk := func(body map[string]any) coldchain.Location {
		var l coldchain.Location
		r := n.call(t, "POST", "/api/v1/coldchain/locations", body, owner)
		if r.status != 201 {
			t.Fatalf("location: %d %s", r.status, r.body)
		}
		r.into(t, &l)
		return l
	}
	truck := mk(map[string]any{"name": "冷藏车 沪A·D3921", "name_en": "Reefer truck", "kind": "truck", "storage_class": "chilled", "gln": "https://id.gs1.org/414/6901234000024"})
	fridge := mk(map[string]any{"name": "静安寺店 冷藏柜", "name_en": "Jing'an fridge", "kind": "display_fridge", "storage_class": "chilled", "store_id": storeID, "gln": "https://id.gs1.org/414/6901234000031"})
	token := func(key string, loc int64) string {
		var d struct {
			Token string `json:"token"`
		}
		n.call(t, "POST", "/api/v1/coldchain/devices", map[string]any{"device_id": key, "location_id": loc}, owner).into(t, &d)
		return d.Token
	}
	post := func(tok string, from, to time.Time, temp func(i int) float64) {
		var batch []map[string]any
		i := 0
		for at := from; at.Before(to); at = at.Add(2 * time.Minute) {
			batch = append(batch, map[string]any{"ts": at.UnixMilli(), "values": map[string]any{"temperature": temp(i), "humidity": 70}})
			i++
		}
		if r := n.call(t, "POST", "/api/v1/telemetry", map[string]any{"readings": batch}, tok); r.status != 202 {
			t.Fatalf("telemetry: %d %s", r.status, r.body)
		}
	}
	wave := func(i int) float64 { return 2.6 + 0.8*float64((i*7)%10)/10 + 0.3*float64(i%3) }
	truckTok := token("truck-d3921", truck.ID)
	post(truckTok, t0.Add(time.Hour), t0.Add(4*time.Hour), func(i int) float64 { return wave(i) + 0.6 })
	fridgeTok := token("fridge-jingan-2", fridge.ID)
	post(fridgeTok, t0.Add(4*time.Hour), now.Add(time.Minute), wave)
	capture := func(doc string) {
		req, _ := http.NewRequest("POST", n.m.URL()+"/epcis/capture", strings.NewReader(doc))
		req.Header.Set("Authorization", "Bearer "+owner)
		req.Header.Set("Content-Type", "application/ld+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 202 {
			t.Fatalf("epcis capture: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	capture(epcisDoc("https://id.gs1.org/01/06901234500035/10/"+milkLot.Code, t0, "https://id.gs1.org/414/6901234000024", true))

	var milkLink, strawLink struct {
		Path string `json:"path"`
	}
	n.call(t, "GET", fmt.Sprintf("/api/v1/coldchain/lots/%d/trace-link", milkLot.ID), nil, owner).into(t, &milkLink)
	var rep coldchain.LotReport
	testkit.WaitFor(t, "capture job applied", 10*time.Second, func() bool {
		n.call(t, "GET", fmt.Sprintf("/api/v1/coldchain/lots/%d/evidence", milkLot.ID), nil, owner).into(t, &rep)
		return len(rep.Stays) == 2
	})
	if rep.Verdict != coldchain.VerdictHeld || rep.Stays[0].Location != truck.Name || rep.Exposure.MKT < 2 || rep.Exposure.MKT > 5 {
		t.Fatalf("milk evidence: verdict %s stays %d exposure %+v", rep.Verdict, len(rep.Stays), rep.Exposure)
	}

	// The first truck fails after it delivered the milk: its latest EPCIS
	// event is in the store, so the milk is not held.
	post(truckTok, now.Add(-10*time.Minute), now.Add(-9*time.Minute), func(int) float64 { return 14 })
	testkit.WaitFor(t, "truck alarm", 5*time.Second, func() bool {
		var al struct {
			Alarms []coldchain.Alarm `json:"alarms"`
		}
		n.call(t, "GET", "/api/v1/coldchain/alarms?status=active", nil, owner).into(t, &al)
		return len(al.Alarms) == 1 && al.Alarms[0].LocationID == truck.ID && len(al.Alarms[0].Lots) == 0
	})
	if n.lot(t, milk).held() {
		t.Fatal("milk held by a truck it had left")
	}

	// Strawberries are on another truck (EPCIS: shipped, not yet received)
	// whose cooling fails: the lot goes on hold, the milk does not.
	straw, _ := n.demoSKU(t, "SB-500")
	strawLot := n.lot(t, straw)
	truck2 := mk(map[string]any{"name": "冷藏车 辽B·F0377", "name_en": "Reefer truck 2", "kind": "truck", "storage_class": "chilled", "gln": "https://id.gs1.org/414/6901234000048"})
	capture(epcisDoc("https://id.gs1.org/01/06901234500011/10/"+strawLot.Code, now.Add(-4*time.Hour), "https://id.gs1.org/414/6901234000048", false))
	testkit.WaitFor(t, "strawberry events stored", 10*time.Second, func() bool {
		r := n.call(t, "GET", "/epcis/events?EQ_bizLocation=https://id.gs1.org/414/6901234000048", nil, owner)
		return strings.Contains(string(r.body), strawLot.Code)
	})
	post(token("truck-f0377", truck2.ID), now.Add(-3*time.Hour), now.Add(time.Minute), func(i int) float64 {
		if i > 20 && i < 45 {
			return 9 + float64(i%4)
		}
		return wave(i)
	})
	testkit.WaitFor(t, "strawberries on hold", 5*time.Second, func() bool { return n.lot(t, straw).held() })
	if n.lot(t, milk).held() {
		t.Fatal("milk held: it was never on the failing truck")
	}
	n.call(t, "GET", fmt.Sprintf("/api/v1/coldchain/lots/%d/trace-link", strawLot.ID), nil, owner).into(t, &strawLink)

	browser := testkit.Browser(t)
	dir := testkit.ArtifactDir(t)
	for _, pg := range []struct{ name, path, verdict string }{
		{"trace-held", milkLink.Path, "全程冷链达标"},
		{"trace-on-hold", strawLink.Path, "冷链异常"},
	} {
		ctx := testkit.NewContext(t, browser, 30*time.Second)
		var mu sync.Mutex
		var problems []string
		go func() {
			for m, err := range chromedp.Console(ctx) {
				if err != nil {
					return
				}
				if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
					mu.Lock()
					problems = append(problems, m.String())
					mu.Unlock()
				}
			}
		}()
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
			chromedp.Navigate(n.base+pg.path),
			chromedp.WaitVisible(chromedp.CSS("#verdict")),
			chromedp.Poll[chromedp.Void](`document.getElementById("chart") && document.getElementById("chart").dataset.ready === "1"`, chromedp.WithPollingTimeout(10*time.Second)),
		)
		if err != nil {
			t.Fatalf("%s: %v", pg.name, err)
		}
		verdict, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("verdict").textContent`))
		if err != nil {
			t.Fatal(err)
		}
		svg, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector("#chart svg path")`))
		if err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, pg.name+".png"), png, 0o644)
		if !strings.Contains(verdict, pg.verdict) || !svg {
			t.Errorf("%s: verdict %q, chart drawn %v", pg.name, verdict, svg)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(problems) > 0 {
			t.Errorf("%s: console errors (CSP?) %v", pg.name, problems)
		}
	}
}

// TestColdChainConsoleBrowser: quality staff log in, open /admin/coldchain,
// see the excursion with its held lot, open the evidence chart, and — once
// the fridge is back in range — release the lot from the page.
func TestColdChainConsoleBrowser(t *testing.T) {
	n := startColdChain(t)
	owner := testkit.OwnerToken
	skuID, storeID := n.demoSKU(t, "MK-950")
	var loc coldchain.Location
	n.call(t, "POST", "/api/v1/coldchain/locations", map[string]any{"name": "静安寺店 冷藏柜", "kind": "display_fridge", "storage_class": "chilled", "store_id": storeID}, owner).into(t, &loc)
	var dev struct {
		Token string `json:"token"`
	}
	n.call(t, "POST", "/api/v1/coldchain/devices", map[string]any{"device_id": "fridge-console", "location_id": loc.ID}, owner).into(t, &dev)
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)
	var batch []map[string]any
	for i := 0; i < 45; i++ {
		temp := 3.0
		if i >= 10 && i < 20 {
			temp = 13 - float64(i-10)/3
		}
		batch = append(batch, map[string]any{"ts": base.Add(time.Duration(i) * time.Minute).UnixMilli(), "values": map[string]any{"temperature": temp}})
	}
	if r := n.call(t, "POST", "/api/v1/telemetry", map[string]any{"readings": batch}, dev.Token); r.status != 202 {
		t.Fatalf("telemetry: %d %s", r.status, r.body)
	}
	testkit.WaitFor(t, "milk on hold", 5*time.Second, func() bool { return n.lot(t, skuID).held() })

	tab := testkit.NewTab(t, testkit.Browser(t), 60*time.Second)
	tab.Width, tab.Height = 1280, 900
	tab.StaffOpen(n.base, "quality", demo.Password, "/admin/coldchain", "#cc-alarms tbody tr")
	ctx := tab.Ctx
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#cc-alarms button[data-lot]")),
		chromedp.Poll[chromedp.Void](`document.getElementById("chart").dataset.ready === "1" && !!document.querySelector("#chart svg path")`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		os.WriteFile(filepath.Join(testkit.ArtifactDir(t), "coldchain-console.png"), png, 0o644)
	}
	stats, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("cc-ev-stats").textContent`))
	if !strings.Contains(stats, "平均动力学温度") {
		t.Fatalf("evidence stats %q", stats)
	}
	// The decision's dialogs: confirm, and a review note.
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true; window.prompt = () => "复检合格"`),
		chromedp.Click(chromedp.CSS("#cc-alarms button[data-release]")),
	); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "lot released from the console", 10*time.Second, func() bool { return !n.lot(t, skuID).held() })
}
