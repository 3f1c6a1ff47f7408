package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestModeratorMutesInStudio: a moderator opens the studio (no selling
// parts shown), sees a viewer's report arrive, mutes the comment's author
// for 10 minutes from the comment's menu, and the viewer's next comment is
// refused; unmuting in the panel lets the viewer speak again. Then the
// owner edits the shop's word list in /admin and a comment with the word
// is refused.
func TestModeratorMutesInStudio(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	base, owner := m.URL(), testkit.OwnerToken
	if r := send(t, nil, base, "POST", "/api/v1/staff", map[string]any{"username": "mod-b", "name": "场控小李", "role": "moderator", "password": "Moderate-1357"}, owner, nil); r.Status != 201 {
		t.Fatalf("moderator: %d %s", r.Status, r.Body)
	}
	a := viewerLogin(t, base, "demo", "13900000941")
	b := viewerLogin(t, base, "demo", "13900000942")

	tab := testkit.NewTab(t, browser, 120*time.Second)
	tab.StaffOpen(base, "mod-b", "Moderate-1357", "/studio?room=demo", "#mod-panel")
	ctx, do, wait := tab.Ctx, tab.Do, tab.Wait
	wait("moderator view", `document.querySelector("#studio").classList.contains("moderator-view")
		&& ["#flash-form", ".studio-orders", "#go-live", "#lineup", "#host-comment", "#dashboard-link", "#st-gmv"].every((s) => document.querySelector(s).offsetParent === null)
		&& document.querySelector("#mod-panel").offsetParent !== null
		&& document.querySelector("#studio-title").textContent.length > 1`)

	id := commentID(t, comment(t, base, "demo", a.Token, "去别家买更便宜，私聊我"))
	sel := `#st-comments li[data-id="` + itoa(id) + `"]`
	wait("comment shown", `!!document.querySelector('`+sel+`')`)
	if r := send(t, nil, base, "POST", "/api/v1/rooms/demo/comments/"+itoa(id)+"/report", map[string]any{"reason": "spam"}, b.Token, nil); r.Status != 201 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	wait("report arrives", `document.querySelectorAll("#mod-reports li[data-report]").length === 1 && document.querySelector("#mod-reports").textContent.includes("私聊我")`)

	// buttons are pressed inside the page: the comment's actions show on hover
	press := func(what, css string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const b = document.querySelector('`+css+`'); if (b) b.click(); return !!b; })()`)); err != nil {
			testkit.Screenshot(t, ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
			t.Fatalf("%s: %v", what, err)
		}
	}
	press("open mute menu", sel+" .mute-open")
	wait("menu", `!!document.querySelector('`+sel+` .mute-menu button[data-minutes="10"]')`)
	testkit.Screenshot(t, ctx, "studio-moderator-menu")
	press("mute 10 minutes", sel+` .mute-menu button[data-minutes="10"]`)
	wait("muted", `!document.querySelector('`+sel+`') && document.querySelectorAll("#mod-mutes li[data-restriction]").length === 1`)
	comment(t, base, "demo", a.Token, "为什么删我评论").wantProblem(t, 403, "banned")
	time.Sleep(300 * time.Millisecond) // the toast's fade-in, for the screenshot only
	testkit.Screenshot(t, ctx, "studio-moderator-muted")

	press("unmute", "#mod-mutes li[data-restriction] button")
	wait("unmuted", `document.querySelectorAll("#mod-mutes li[data-restriction]").length === 0`)
	calm := commentID(t, comment(t, base, "demo", a.Token, "好的，我不发了"))

	// A viewer on a phone reports a comment by tapping it.
	vctx := testkit.NewContext(t, browser, 60*time.Second)
	vsel := `#comments li[data-id="` + itoa(calm) + `"]`
	testkit.Run(t, vctx, "viewer page", chromedp.EmulateViewport(390, 844), withCookie(base, "sl_viewer", b.Token),
		chromedp.Navigate(base+"/live/demo"), chromedp.WaitVisible(chromedp.CSS("#comments")))
	if err := chromedp.Do(vctx, chromedp.Poll[chromedp.Void](`!!document.querySelector('`+vsel+`')`, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		// the comment came before the page: it shows through the recent list or the next batch
		testkit.Screenshot(t, vctx, "failed-viewer-comment")
		t.Fatalf("viewer sees the comment: %v", err)
	}
	if _, err := chromedp.Run(vctx, chromedp.Evaluate[bool](`(() => { document.querySelector('`+vsel+`').click(); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(vctx, chromedp.Poll[chromedp.Void](`document.querySelectorAll('`+vsel+` .report-acts button').length === 3`, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("report choices: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // the comment's pop-in, for the screenshot only
	testkit.Screenshot(t, vctx, "viewer-report-choices")
	if _, err := chromedp.Run(vctx, chromedp.Evaluate[bool](`(() => { document.querySelector('`+vsel+` .report-acts button').click(); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	wait("the viewer's report reaches the studio", `document.querySelector("#mod-reports").textContent.includes("好的，我不发了")`)

	// The owner keeps the word list in /admin.
	testkit.StaffLogin(t, ctx, base, "owner", "shelflive-demo", "/admin")
	do("admin after login", chromedp.WaitVisible(chromedp.CSS("#admin-nav")))
	do("admin moderation tab", chromedp.Navigate(base+"/admin#moderation"))
	wait("moderation tab", `!!document.querySelector("#mod-words")`)
	do("edit words",
		chromedp.SendKeys(chromedp.CSS("#mod-words"), "代购\n傻,mask"),
		chromedp.Click(chromedp.CSS("#admin-main .card .btn-primary")))
	wait("saved", `document.querySelector("#mod-word-count") && document.querySelector("#mod-word-count").textContent.startsWith("2")`)
	testkit.Screenshot(t, ctx, "admin-moderation")
	comment(t, base, "demo", a.Token, "有代 购吗").wantProblem(t, 400, "comment_blocked")
}
