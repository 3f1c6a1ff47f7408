package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestStudioCommentBeforeSocket: a comment posted after the studio read the
// room's comment list but before its socket subscribed came in no batch
// (comments are not replayed) and was never shown to the host; the studio
// now reads the list again when its subscription starts. The socket is held
// off while the comment is posted, then let through.
func TestStudioCommentBeforeSocket(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	base := m.URL()
	viewer := viewerLogin(t, base, "demo", "13900000951")

	tab := testkit.NewTab(t, browser, 90*time.Second)
	// Every page of the tab starts with its WebSockets held off: each one
	// closes at once (as a dropped connection does, so the page retries)
	// until the test lets them through.
	hold := `window.__holdSockets = true;
	  const RealWebSocket = window.WebSocket;
	  window.WebSocket = function (url, protocols) {
	    if (!window.__holdSockets) return new RealWebSocket(url, protocols);
	    const held = { readyState: 3, send() {}, close() {} };
	    setTimeout(() => held.onclose && held.onclose({ code: 1006 }), 20);
	    return held;
	  };`
	if _, err := chromedp.Call(tab.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: hold}); err != nil {
		t.Fatal(err)
	}
	tab.StaffOpen(base, "owner", "shelflive-demo", "/studio?room=demo", "#st-comments")
	tab.Wait("the studio read the comment list", `document.querySelector("#studio-title").textContent.length > 1`)
	time.Sleep(500 * time.Millisecond) // the page is past its comment list and retrying the socket

	id := commentID(t, comment(t, base, "demo", viewer.Token, "主播，草莓还有货吗"))
	time.Sleep(time.Second)
	if shown, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[bool](`!!document.querySelector('#st-comments li[data-id="`+itoa(id)+`"]')`)); err != nil || shown {
		t.Fatalf("the comment reached a studio without a socket (%v): the test does not hold the socket off", err)
	}
	tab.Do("let the sockets through", chromedp.Evaluate[chromedp.Void](`window.__holdSockets = false`))
	tab.Wait("the comment from before the subscription is shown", `!!document.querySelector('#st-comments li[data-id="`+itoa(id)+`"]')`)
	// and once only: the list read again skips what is shown
	tab.Wait("shown once", `document.querySelectorAll('#st-comments li[data-id="`+itoa(id)+`"]').length === 1`)
}

// TestStudioCommentsInOrder: the studio reads the room's comments once,
// when its subscription starts (the snapshot), and keeps them in id order.
// A comment only that read finds (posted before the socket) must come
// before one that arrived in a batch while the read was under way; the
// studio once appended it after, and read the list twice on open.
func TestStudioCommentsInOrder(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	base := m.URL()
	early := viewerLogin(t, base, "demo", "13900000961")
	late := viewerLogin(t, base, "demo", "13900000962")

	tab := testkit.NewTab(t, browser, 90*time.Second)
	// Sockets are held off (as in TestStudioCommentBeforeSocket) and, once
	// the test says so, the page's reads of the comment list wait until the
	// test lets them go; every read is counted.
	hold := `window.__holdSockets = true; window.__socketTries = 0;
	  const RealWebSocket = window.WebSocket;
	  window.WebSocket = function (url, protocols) {
	    window.__socketTries++;
	    if (!window.__holdSockets) return new RealWebSocket(url, protocols);
	    const held = { readyState: 3, send() {}, close() {} };
	    setTimeout(() => held.onclose && held.onclose({ code: 1006 }), 20);
	    return held;
	  };
	  window.__holdReads = false; window.__reads = 0; window.__heldReads = 0;
	  let release; const released = new Promise((r) => { release = r; });
	  window.__releaseReads = () => release();
	  const realFetch = window.fetch;
	  window.fetch = function (path, opts) {
	    if (String(path).endsWith("/comments") && (!opts || !opts.method || opts.method === "GET")) {
	      window.__reads++;
	      if (window.__holdReads) { window.__heldReads++; return released.then(() => realFetch(path, opts)); }
	    }
	    return realFetch(path, opts);
	  };`
	if _, err := chromedp.Call(tab.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: hold}); err != nil {
		t.Fatal(err)
	}
	tab.StaffOpen(base, "owner", "shelflive-demo", "/studio?room=demo", "#st-comments")
	tab.Wait("the studio tries its socket", `window.__socketTries > 0`)
	tab.Do("hold the comment reads", chromedp.Evaluate[chromedp.Void](`window.__holdReads = true`))

	first := commentID(t, comment(t, base, "demo", early.Token, "主播，车厘子几号发货"))
	tab.Do("let the sockets through", chromedp.Evaluate[chromedp.Void](`window.__holdSockets = false`))
	tab.Wait("the snapshot reads the list", `window.__heldReads > 0`)
	second := commentID(t, comment(t, base, "demo", late.Token, "我要两箱"))
	tab.Wait("the later comment comes in a batch", `!!document.querySelector('#st-comments li[data-id="`+itoa(second)+`"]')`)
	tab.Do("the read ends", chromedp.Evaluate[chromedp.Void](`window.__releaseReads()`))
	tab.Wait("the comment from before the socket is shown", `!!document.querySelector('#st-comments li[data-id="`+itoa(first)+`"]')`)
	order, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#st-comments li")].map((li) => li.dataset.id)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(order) < 2 || order[len(order)-2] != itoa(first) || order[len(order)-1] != itoa(second) {
		t.Errorf("comments shown in the order %v, want …%d, %d (by id)", order, first, second)
	}
	if reads, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[int](`window.__reads`)); err != nil || reads != 1 {
		t.Errorf("the studio read the comment list %d times (%v), want once (on the snapshot)", reads, err)
	}
}
