package web_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/testkit"
)

// metaOf reads the <meta property|name=key content=…> of a page.
func metaOf(page, key string) string {
	m := regexp.MustCompile(`<meta (?:property|name)="` + regexp.QuoteMeta(key) + `" content="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestShareCards: the room (live, upcoming, replay), a product of the
// room and a trace page carry Open Graph and Twitter cards with absolute
// URLs; a signed code rides on the card's URL, a forged one does not; the
// room poster at 390×844 shows title, start time in China time, price
// highlights and a QR code whose link carries the sharer's signed code
// (the PNG differs from the code-less one; a forged ?g= draws the code-less
// one); the studio and admin show each room's QR code.
func TestShareCards(t *testing.T) {
	s := newShop(t)
	code := guideShare(t, s)
	live := string(send(t, nil, s.base, "GET", "/live/demo?g="+url.QueryEscape(code), nil, "", nil).want(t, 200).Body)
	for _, k := range []string{"og:title", "og:description", "og:url", "og:image", "twitter:card", "twitter:title"} {
		if metaOf(live, k) == "" {
			t.Errorf("live page lacks %s", k)
		}
	}
	if img := metaOf(live, "og:image"); !strings.HasPrefix(img, "http") {
		t.Errorf("og:image %q is not absolute", img)
	}
	if u := metaOf(live, "og:url"); !strings.Contains(u, "g="+url.QueryEscape(code)) && !strings.Contains(u, "g="+code) {
		t.Errorf("og:url %q lacks the signed code", u)
	}
	if d := metaOf(live, "og:description"); !strings.Contains(d, "¥") {
		t.Errorf("og:description %q has no price", d)
	}
	forged := string(send(t, nil, s.base, "GET", "/live/demo?g=wang01", nil, "", nil).want(t, 200).Body)
	if u := metaOf(forged, "og:url"); strings.Contains(u, "g=") {
		t.Errorf("a forged code rides on the card: %q", u)
	}
	// Upcoming: the start time in China time.
	soon := string(send(t, nil, s.base, "GET", "/live/clearance", nil, "", nil).want(t, 200).Body)
	if d := metaOf(soon, "og:description"); !strings.Contains(d, "20:00 开播") {
		t.Errorf("upcoming card %q lacks the start time in China time", d)
	}
	// Replay: a room that ended says so.
	send(t, nil, s.base, "POST", "/api/v1/rooms/clearance/status", map[string]any{"status": "live"}, testkit.OwnerToken, nil)
	send(t, nil, s.base, "POST", "/api/v1/rooms/clearance/status", map[string]any{"status": "ended"}, testkit.OwnerToken, nil)
	replay := string(send(t, nil, s.base, "GET", "/live/clearance?lang=zh", nil, "", nil).want(t, 200).Body)
	if d := metaOf(replay, "og:description"); !strings.Contains(d, "直播回放") {
		t.Errorf("replay card %q", d)
	}
	// A product of the room.
	room := getDemoRoom(t, s.base)
	prod := string(send(t, nil, s.base, "GET", "/live/demo/products/"+itoa(room.ProductIDs[0]), nil, "", nil).want(t, 200).Body)
	if metaOf(prod, "og:type") != "product" || metaOf(prod, "og:title") == "" || !strings.HasPrefix(metaOf(prod, "og:image"), "http") {
		t.Errorf("product card: type %q title %q image %q", metaOf(prod, "og:type"), metaOf(prod, "og:title"), metaOf(prod, "og:image"))
	}
	send(t, nil, s.base, "GET", "/live/demo/products/999999", nil, "", nil).want(t, 404)
	// A trace page.
	trace := string(send(t, nil, s.base, "GET", "/trace/01/06901234500011", nil, "", nil).want(t, 200).Body)
	if !strings.Contains(metaOf(trace, "og:title"), "溯源") || !strings.HasPrefix(metaOf(trace, "og:url"), "http") {
		t.Errorf("trace card: %q %q", metaOf(trace, "og:title"), metaOf(trace, "og:url"))
	}

	// QR codes: the signed code changes the picture, a forged one does not.
	plain := send(t, nil, s.base, "GET", "/qr/room/demo", nil, "", nil).want(t, 200).Body
	signed := send(t, nil, s.base, "GET", "/qr/room/demo?g="+url.QueryEscape(code), nil, "", nil).want(t, 200).Body
	fake := send(t, nil, s.base, "GET", "/qr/room/demo?g=wang01", nil, "", nil).want(t, 200).Body
	if bytes.Equal(plain, signed) || !bytes.Equal(plain, fake) {
		t.Fatalf("QR codes: signed equals plain %v, forged equals plain %v", bytes.Equal(plain, signed), bytes.Equal(plain, fake))
	}

	// The poster, looked at in chromium.
	ctx := testkit.NewContext(t, testkit.Browser(t), 90*time.Second)
	runB(t, ctx, "poster", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(s.base+"/poster/demo?g="+url.QueryEscape(code)),
		chromedp.WaitVisible(chromedp.CSS("#poster-qr")),
		chromedp.Poll[chromedp.Void](`[...document.images].every(i => i.complete && i.naturalWidth > 0)`, chromedp.WithPollingTimeout(15*time.Second)))
	testkit.Screenshot(t, ctx, "poster-390")
	shot(t, ctx, "poster")
	qrSrc, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#poster-qr").getAttribute("src")`))
	if !strings.Contains(qrSrc, url.QueryEscape(code)) {
		t.Fatalf("poster QR %q lacks the signed code", qrSrc)
	}
	prices, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#poster-prices li").length`))
	title, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#poster-title").textContent`))
	when, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#poster-when").textContent`))
	if prices == 0 || title == "" || when == "" {
		t.Fatalf("poster: %d prices, title %q, when %q", prices, title, when)
	}
	if wide, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); wide {
		t.Fatal("the poster scrolls sideways at 390 px")
	}
	// A poster of an upcoming room, opened by a viewer: their own code.
	viewer := viewerLogin(t, s.base, "demo", "13900001441")
	runB(t, ctx, "upcoming poster", withCookie(s.base, "sl_viewer", viewer.Token), chromedp.Navigate(s.base+"/poster/clearance"),
		chromedp.WaitVisible(chromedp.CSS("#poster-qr")))
	if src, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#poster-qr").getAttribute("src")`)); !strings.Contains(src, "?g=c") {
		t.Fatalf("a viewer's poster QR %q lacks their own code", src)
	}
	// The product page at phone size.
	runB(t, ctx, "product page", chromedp.Navigate(s.base+"/live/demo/products/"+itoa(room.ProductIDs[0])),
		chromedp.WaitVisible(chromedp.CSS("#buy-in-room")))
	testkit.Screenshot(t, ctx, "product-390")
	shot(t, ctx, "share-product")

	// Studio and admin show the room's QR code.
	desk := testkit.NewContext(t, testkit.Browser(t), 90*time.Second)
	owner := staffLogin(t, s.base, "owner", "shelflive-demo")
	runB(t, desk, "studio QR", chromedp.EmulateViewport(1440, 900), withCookie(s.base, "sl_staff", owner.Token),
		chromedp.Navigate(s.base+"/studio?room=demo"),
		chromedp.Poll[chromedp.Void](`(document.querySelector("#room-qr")||{}).naturalWidth > 0`, chromedp.WithPollingTimeout(15*time.Second)))
	runB(t, desk, "admin QR", chromedp.Navigate(s.base+"/admin#rooms"),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("img.room-qr-thumb").length > 0 && [...document.querySelectorAll("img.room-qr-thumb")].every(i => i.complete && i.naturalWidth > 0)`, chromedp.WithPollingTimeout(15*time.Second)))
	testkit.Screenshot(t, desk, "admin-rooms-qr")
}

// shot writes a README picture (JPEG) when SHELFLIVE_README_IMG is set.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SHELFLIVE_README_IMG")
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(82))
	if err != nil {
		t.Fatalf("README picture %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".jpg"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}
