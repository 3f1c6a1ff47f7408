package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/testkit"
	"github.com/shelflive/shelflive/internal/wxmsg/wxmsgtest"
)

// TestWeChatReminderMessages: reminders through WeChat, against local
// fakes of WeChat's message APIs over HTTP (they check the access token,
// the template's keywords and their formats, and the user's grants or
// following). A mini-program viewer allows two subscribe messages (the
// grants API the mini-program calls) and gets one per reminder; a viewer
// bound to the shop's official account and following it gets template
// messages; one bound but not following is refused once (43004) and not
// retried. The access token is fetched once and reused; when WeChat
// revokes it (40001) the sender fetches one new token and sends. A grant
// WeChat no longer honours (43101) is dropped.
func TestWeChatReminderMessages(t *testing.T) {
	mini := wxmsgtest.Start()
	defer mini.Close()
	const miniApp, miniSecret, subTmpl, tplID = "wx00000000000000bb", "mini-secret-0001", "SUB-REMIND-1", "TPL-REMIND-1"
	mini.AddApp(miniApp, miniSecret)
	mini.AddTemplate(miniApp, subTmpl, "thing1", "time2", "thing3")
	mini.Code("wxcode-1", "o-mini-viewer")
	s := newWeChatShop(t, "-quiet-hours", "off", "-wechat-miniprogram-appid", miniApp, "-wechat-miniprogram-secret", miniSecret,
		"-wechat-miniprogram-base-url", mini.URL, "-wechat-miniprogram-templates", "live_start="+subTmpl+",order_ready=SUB-READY-1")
	fields := clone(s.fields)
	fields["reminder_template_id"] = tplID
	send(t, nil, s.base, "PUT", "/api/v1/payments/wechatpay", fields, testkit.OwnerToken, nil).want(t, 200)
	oaApp := s.fields["appid"]
	s.fake.Msg.AddTemplate(oaApp, tplID, "thing1", "time2", "thing3")
	ctx := t.Context()
	mer, err := s.m.App.Users.MerchantBySlug(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	customer := func(token string) int64 {
		p, err := s.m.App.Identity.Authenticate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		return p.SubjectID
	}

	// The mini-program viewer: wx.login, then 允许 twice for the live_start
	// template (the mini-program posts each answer, POST /api/v1/me/miniprogram/subscriptions).
	var mv session
	send(t, nil, s.base, "POST", "/api/v1/auth/wechat/miniprogram", map[string]string{"merchant": "demo", "code": "wxcode-1"}, "", nil).want(t, 200).decode(t, &mv)
	allow := func() {
		t.Helper()
		send(t, nil, s.base, "POST", "/api/v1/me/miniprogram/subscriptions", map[string]any{"results": map[string]string{subTmpl: "accept"}}, mv.Token, nil).want(t, 200)
	}
	allow()
	allow()
	mini.Grant(miniApp, "o-mini-viewer", subTmpl)
	mini.Grant(miniApp, "o-mini-viewer", subTmpl)
	phone := viewerLogin(t, s.base, "demo", "13900001481") // no WeChat at all: inbox only

	// Official account viewers: one follows, one does not.
	follower := viewerLogin(t, s.base, "demo", "13900001482")
	stranger := viewerLogin(t, s.base, "demo", "13900001483")
	if err := s.m.App.WeChatTickets.BindWeChat(ctx, mer.ID, "o-oa-follower", customer(follower.Token)); err != nil {
		t.Fatal(err)
	}
	if err := s.m.App.WeChatTickets.BindWeChat(ctx, mer.ID, "o-oa-stranger", customer(stranger.Token)); err != nil {
		t.Fatal(err)
	}
	s.fake.Msg.Follow(oaApp, "o-oa-follower")
	var p struct {
		WxSub       bool `json:"wx_sub"`
		WxTpl       bool `json:"wx_tpl"`
		WxSubGrants int  `json:"wx_sub_grants"`
		WxBound     bool `json:"wx_bound"`
	}
	send(t, nil, s.base, "GET", "/api/v1/me/notify-prefs", nil, follower.Token, nil).want(t, 200).decode(t, &p)
	if !p.WxTpl || !p.WxBound || p.WxSubGrants != 0 {
		t.Fatalf("follower's channels %+v", p)
	}

	for _, v := range []session{mv, follower, stranger, phone} {
		send(t, nil, s.base, "PUT", "/api/v1/rooms/clearance/subscription", nil, v.Token, nil).want(t, 200)
	}
	start := time.Now().Add(10 * time.Minute).UTC().Truncate(time.Minute)
	send(t, nil, s.base, "PATCH", "/api/v1/rooms/clearance", map[string]any{"scheduled_at": start}, testkit.OwnerToken, nil).want(t, 200)
	dump := func() {
		rows, err := s.m.DB.Query(context.Background(), `SELECT channel, customer_id, state, attempts, last_error FROM notify_deliveries ORDER BY inbox_id`)
		if err != nil {
			t.Log(err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var ch, st, le string
			var c, a int64
			rows.Scan(&ch, &c, &st, &a, &le)
			t.Logf("delivery %s customer %d %s attempts %d %q", ch, c, st, a, le)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			dump()
		}
	})
	testkit.WaitFor(t, "the soon reminder by subscribe and template message", 30*time.Second, func() bool {
		return len(mini.Sent()) == 1 && len(s.fake.Msg.Sent()) == 1
	})
	sub, tpl := mini.Sent()[0], s.fake.Msg.Sent()[0]
	when := start.In(cn.Shanghai).Format("2006-01-02 15:04")
	if sub.ToUser != "o-mini-viewer" || sub.TemplateID != subTmpl || sub.Page != "pages/room/room?slug=clearance" || sub.Data["time2"] != when || sub.Data["thing1"] == "" {
		t.Fatalf("subscribe message %+v (want the start %s)", sub, when)
	}
	if tpl.ToUser != "o-oa-follower" || tpl.TemplateID != tplID || !strings.HasPrefix(tpl.Page, "http") || !strings.HasSuffix(tpl.Page, "/live/clearance") || tpl.Data["time2"] != when {
		t.Fatalf("template message %+v", tpl)
	}
	var state, lastErr string
	var attempts int
	testkit.WaitFor(t, "the stranger's template message refused", 20*time.Second, func() bool {
		err := s.m.DB.QueryRow(ctx, `SELECT d.state, d.last_error, d.attempts FROM notify_deliveries d WHERE d.customer_id = ? AND d.channel = 'wx_tpl'`, customer(stranger.Token)).Scan(&state, &lastErr, &attempts)
		return err == nil && state == "failed"
	})
	if !strings.Contains(lastErr, "43004") || attempts != 1 {
		t.Fatalf("stranger's delivery %s %q after %d attempts (want refused once, no retry)", state, lastErr, attempts)
	}
	if n := mini.Fetches(miniApp); n != 1 {
		t.Fatalf("mini-program tokens fetched %d, want 1", n)
	}
	oaFetches := s.fake.Msg.Fetches(oaApp)

	// WeChat revokes the tokens: the start reminder refreshes each once.
	mini.RevokeTokens()
	s.fake.Msg.RevokeTokens()
	send(t, nil, s.base, "POST", "/api/v1/rooms/clearance/status", map[string]any{"status": "live"}, testkit.OwnerToken, nil).want(t, 200)
	testkit.WaitFor(t, "the start reminder after a token refresh", 30*time.Second, func() bool {
		return len(mini.Sent()) == 2 && len(s.fake.Msg.Sent()) == 2
	})
	if n := mini.Fetches(miniApp); n != 2 {
		t.Fatalf("mini-program tokens fetched %d, want 2 (one refresh)", n)
	}
	if n := s.fake.Msg.Fetches(oaApp); n != oaFetches+1 {
		t.Fatalf("official account tokens fetched %d, want %d (one refresh)", n, oaFetches+1)
	}
	if mini.Grants(miniApp, "o-mini-viewer", subTmpl) != 0 {
		t.Fatal("the fake still holds grants")
	}
	send(t, nil, s.base, "GET", "/api/v1/me/notify-prefs", nil, mv.Token, nil).want(t, 200).decode(t, &p)
	if p.WxSubGrants != 0 || !p.WxSub {
		t.Fatalf("after two reminders %+v", p)
	}

	// A grant ShelfLive recorded but WeChat does not honour (the viewer
	// revoked it in WeChat's settings): 43101, the grant is dropped.
	allow()
	allow()
	at := time.Now().Add(8 * time.Minute)
	if err := s.m.App.Live.CreateRoom(ctx, &live.Room{MerchantID: mer.ID, Slug: "wx-late", Title: "晚市草莓", ScheduledAt: &at}); err != nil {
		t.Fatal(err)
	}
	send(t, nil, s.base, "PUT", "/api/v1/rooms/wx-late/subscription", nil, mv.Token, nil).want(t, 200)
	testkit.WaitFor(t, "the refused grant dropped", 30*time.Second, func() bool {
		send(t, nil, s.base, "GET", "/api/v1/me/notify-prefs", nil, mv.Token, nil).decode(t, &p)
		return p.WxSubGrants == 0
	})
	if n := len(mini.Sent()); n != 2 {
		t.Fatalf("%d subscribe messages, want still 2", n)
	}
	time.Sleep(2 * time.Second) // the sender runs every second: nothing more may come
	if a, b := len(mini.Sent()), len(s.fake.Msg.Sent()); a != 2 || b != 2 {
		t.Fatalf("more messages than reminders: %d subscribe, %d template", a, b)
	}
}
