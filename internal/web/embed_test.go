package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestEmbedRoomCard: a room's card may be framed by any site and only it
// (every other page keeps frame-ancestors 'none' and X-Frame-Options
// DENY); oEmbed answers the card's iframe for a room's link and refuses
// other links; a page on another origin frames the card (from the oEmbed
// html) on a phone, the card renders, says the room is live and posts its
// height, and its one link opens the room in a new tab. The studio shows
// the same snippet to copy.
func TestEmbedRoomCard(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	base := m.URL()

	card := send(t, nil, base, "GET", "/embed/rooms/demo", nil, "", nil)
	if card.Status != 200 || !strings.Contains(card.Header.Get("Content-Security-Policy"), "frame-ancestors *") || card.Header.Get("X-Frame-Options") != "" {
		t.Fatalf("card: %d CSP %q XFO %q", card.Status, card.Header.Get("Content-Security-Policy"), card.Header.Get("X-Frame-Options"))
	}
	if csp := card.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Fatalf("card CSP is not strict otherwise: %q", csp)
	}
	for _, path := range []string{"/live/demo", "/clips/1", "/poster/demo", "/live/demo/products/1", "/"} {
		r := send(t, nil, base, "GET", path, nil, "", nil)
		if !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || r.Header.Get("X-Frame-Options") != "DENY" {
			t.Fatalf("%s may be framed: CSP %q XFO %q", path, r.Header.Get("Content-Security-Policy"), r.Header.Get("X-Frame-Options"))
		}
	}
	room := send(t, nil, base, "GET", "/live/demo", nil, "", nil)
	if !strings.Contains(string(room.Body), `rel="alternate" type="application/json+oembed"`) {
		t.Fatal("the room page does not announce its oEmbed")
	}

	var oe struct {
		Version, Type, Title, HTML string
		Width, Height              int
	}
	r := send(t, nil, base, "GET", "/api/v1/oembed?format=json&url="+url.QueryEscape(base+"/live/demo"), nil, "", nil)
	if r.Status != 200 {
		t.Fatalf("oembed: %d %s", r.Status, r.Body)
	}
	if err := json.Unmarshal(r.Body, &oe); err != nil {
		t.Fatal(err)
	}
	if oe.Version != "1.0" || oe.Type != "rich" || oe.Width != 360 || !strings.Contains(oe.HTML, `<iframe src="`+base+`/embed/rooms/demo"`) {
		t.Fatalf("oembed %+v", oe)
	}
	for q, code := range map[string]string{
		"url=" + url.QueryEscape("https://evil.example/live/demo"): "not_embeddable",
		"url=" + url.QueryEscape(base+"/live/no-such-room"):        "not_embeddable",
		"url=" + url.QueryEscape(base+"/orders/1"):                 "not_embeddable",
		"format=xml&url=" + url.QueryEscape(base+"/live/demo"):     "oembed_format",
	} {
		r := send(t, nil, base, "GET", "/api/v1/oembed?"+q, nil, "", nil)
		var p problem
		json.Unmarshal(r.Body, &p)
		if p.Code != code {
			t.Fatalf("oembed?%s: %d %s, want %s", q, r.Status, r.Body, code)
		}
	}

	// An article on another origin frames the card with the oEmbed html.
	article := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html><head><meta name="viewport" content="width=device-width"></head><body style="font-family:sans-serif;margin:16px">
<h1 style="font-size:20px">今晚草莓直播</h1><p>产地直发，扫码或点卡片进入直播间：</p>` + oe.HTML + `
<p>文章的其余部分……</p>
<script>window.got = null; addEventListener("message", (e) => { if (e.data && e.data.shelflive === "embed") { window.got = e.data; window.gotFrom = e.origin; } });</script>
</body></html>`))
	}))
	defer article.Close()
	ctx := testkit.NewContext(t, browser, 60*time.Second)
	testkit.Run(t, ctx, "open the article", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), chromedp.Navigate(article.URL))
	testkit.Run(t, ctx, "the card posts its height", chromedp.Poll[chromedp.Void](`window.got && window.got.slug === "demo" && window.got.height > 40 && window.got.height <= 160`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
	from, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.gotFrom`))
	if err != nil || from != base {
		t.Fatalf("message from %q (%v), want the node %s", from, err, base)
	}
	time.Sleep(300 * time.Millisecond) // let the cover image paint for the screenshot
	testkit.Screenshot(t, ctx, "45-embed-card-in-article")

	// The card itself: live now, the room's title, one link into the room in a new tab.
	testkit.Run(t, ctx, "open the card", chromedp.EmulateViewport(360, 136), chromedp.Navigate(base+"/embed/rooms/demo"), chromedp.WaitVisible(chromedp.CSS("#embed-card")))
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`({href: document.querySelector("#embed-card").href, target: document.querySelector("#embed-card").target,
		title: document.querySelector("#embed-title").textContent, live: (document.querySelector("#embed-live") || {}).textContent || "",
		height: String(document.querySelector("#embed-card").getBoundingClientRect().height)})`))
	if err != nil {
		t.Fatal(err)
	}
	if got["href"] != base+"/live/demo" || got["target"] != "_blank" || got["title"] == "" || !strings.Contains(got["live"], "直播中") {
		t.Fatalf("card %+v", got)
	}
	testkit.Screenshot(t, ctx, "46-embed-card")

	// The studio's share box has the same snippet to copy.
	studio := testkit.NewContext(t, browser, 60*time.Second)
	testkit.Run(t, studio, "viewport", chromedp.EmulateViewport(1440, 900))
	testkit.StaffLogin(t, studio, base, "host", "shelflive-demo", "/studio?room=demo")
	testkit.Run(t, studio, "share box", chromedp.WaitVisible(chromedp.CSS("#share-box")), chromedp.Click(chromedp.CSS("#share-box summary")))
	testkit.Run(t, studio, "snippet", chromedp.Poll[chromedp.Void](`document.querySelector("#embed-snippet").value.includes('/embed/rooms/demo"')`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	snippet, err := chromedp.Run(studio, chromedp.Evaluate[string](`document.querySelector("#embed-snippet").value`))
	if err != nil || !strings.HasPrefix(snippet, `<iframe src="`+base+`/embed/rooms/demo" width="360" height="136"`) {
		t.Fatalf("studio snippet %q (%v)", snippet, err)
	}
	testkit.Run(t, studio, "scroll", chromedp.ScrollIntoView(chromedp.CSS("#embed-snippet")))
	testkit.Screenshot(t, studio, "47-studio-embed-snippet")
}
