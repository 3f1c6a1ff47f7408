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
