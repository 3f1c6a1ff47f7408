package web_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/shelflive/shelflive/internal/testkit"
)

// wechatPhone is an iPhone inside WeChat (its in-app browser's user agent).
type wechatPhone struct{}

func (wechatPhone) Device() device.Info {
	return device.Info{Name: "WeChat iPhone", Width: 390, Height: 844, Scale: 2, Mobile: true, Touch: true,
		UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN"}
}

// TestWeChatShareConfig: the room opened with a WeChat user agent (through
// a guide's signed link) asks ShelfLive for its JS-SDK configuration; the
// signature is the documented SHA-1 over the jsapi_ticket the local fake
// WeChat issued, the nonce, the timestamp and the page URL; the share
// carries the room's title and the guide's signed code. The ticket is
// fetched from WeChat once and reused; a foreign page is not signed.
func TestWeChatShareConfig(t *testing.T) {
	s := newWeChatShop(t)
	code := guideShare(t, s.demoShop)
	ctx := testkit.NewContext(t, testkit.Browser(t), 60*time.Second)
	page := s.base + "/live/demo?g=" + url.QueryEscape(code)
	runB(t, ctx, "room in WeChat", chromedp.Emulate(wechatPhone{}), chromedp.Navigate(page+"#comments"),
		chromedp.Poll[chromedp.Void](`window.__slWeChat && window.__slWeChat.state !== "loading"`, chromedp.WithPollingTimeout(20*time.Second)))
	type shareState struct {
		State  string `json:"state"`
		Error  any    `json:"error"`
		Config struct {
			AppID     string `json:"appId"`
			Timestamp int64  `json:"timestamp"`
			NonceStr  string `json:"nonceStr"`
			Signature string `json:"signature"`
		} `json:"config"`
		Share struct {
			Title, Desc, Link, ImgURL string
		} `json:"share"`
	}
	st, err := chromedp.Run(ctx, chromedp.Evaluate[shareState](`window.__slWeChat`))
	if err != nil {
		t.Fatal(err)
	}
	if st.State == "failed" || st.Config.Signature == "" {
		t.Fatalf("share state %+v", st)
	}
	tickets := s.fake.Tickets()
	if len(tickets) != 1 {
		t.Fatalf("tickets fetched: %d", len(tickets))
	}
	want := sha1.Sum([]byte(fmt.Sprintf("jsapi_ticket=%s&noncestr=%s&timestamp=%d&url=%s", tickets[0], st.Config.NonceStr, st.Config.Timestamp, page)))
	if st.Config.Signature != hex.EncodeToString(want[:]) || st.Config.AppID != s.fields["appid"] {
		t.Fatalf("signature %s (app %s), want %s (app %s)", st.Config.Signature, st.Config.AppID, hex.EncodeToString(want[:]), s.fields["appid"])
	}
	if !strings.Contains(st.Share.Link, "g="+url.QueryEscape(code)) && !strings.Contains(st.Share.Link, "g="+code) {
		t.Fatalf("share link %q lacks the guide's signed code", st.Share.Link)
	}
	if !strings.Contains(st.Share.Title, "草莓") || !strings.HasPrefix(st.Share.ImgURL, "http") {
		t.Fatalf("share %+v", st.Share)
	}
	// The ticket is cached: more pages, no more tickets.
	for range 3 {
		send(t, nil, s.base, "GET", "/api/v1/rooms/demo/wechat-share?url="+url.QueryEscape(s.base+"/live/demo"), nil, "", nil).want(t, 200)
	}
	if n := len(s.fake.Tickets()); n != 1 {
		t.Fatalf("%d tickets fetched for 4 pages", n)
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo/wechat-share?url="+url.QueryEscape("https://evil.example/live/demo"), nil, "", nil).wantProblem(t, 400, "invalid_page_url")
}

// TestWeChatSilentLogin: inside WeChat, a visitor's first room visit goes
// silently through the official account's snsapi_base sign-in (the local
// fake) and comes back unbound, not logged in; logging in by phone binds
// the openid; in a fresh WeChat browser the room then logs the same
// customer in without a code.
func TestWeChatSilentLogin(t *testing.T) {
	s := newWeChatShop(t)
	browser := testkit.Browser(t)
	first := testkit.NewContext(t, browser, 60*time.Second)
	runB(t, first, "first visit", chromedp.Emulate(wechatPhone{}), chromedp.Navigate(s.base+"/live/demo"),
		chromedp.Poll[chromedp.Void](`window.__slWeChat && window.__slWeChat.state !== "loading"`, chromedp.WithPollingTimeout(20*time.Second)))
	me := func(ctx context.Context) string {
		v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/api/v1/auth/me").then(r => r.status === 200 ? r.json().then(j => j.kind + ":" + j.name) : String(r.status))`, chromedp.EvalAwaitPromise))
		return v
	}
	if got := me(first); got != "401" {
		t.Fatalf("an unbound WeChat visitor is logged in: %s", got)
	}
	// Phone login in that browser (as the page's login sheet does): binds the openid.
	login := `(async () => {
		const post = (p, b) => fetch(p, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(b)}).then(r => r.json());
		const o = await post("/api/v1/auth/otp", {merchant: "demo", phone: "13900001471"});
		const v = await post("/api/v1/auth/otp/verify", {merchant: "demo", phone: "13900001471", code: o.dev_code});
		return v.kind;
	})()`
	if kind, err := chromedp.Run(first, chromedp.Evaluate[string](login, chromedp.EvalAwaitPromise)); err != nil || kind != "customer" {
		t.Fatalf("phone login: %q %v", kind, err)
	}
	// A fresh WeChat browser (no cookies): silently the same customer.
	second := testkit.NewContext(t, testkit.Browser(t), 60*time.Second)
	runB(t, second, "second visit", chromedp.Emulate(wechatPhone{}), chromedp.Navigate(s.base+"/live/demo"),
		chromedp.Poll[chromedp.Void](`window.__slWeChat && window.__slWeChat.state !== "loading"`, chromedp.WithPollingTimeout(20*time.Second)))
	if got := me(second); !strings.HasPrefix(got, "customer:") {
		t.Fatalf("the bound WeChat user is not logged in silently: %s", got)
	}
	var orders struct {
		Orders []any `json:"orders"`
	}
	if v, _ := chromedp.Run(second, chromedp.Evaluate[int](`fetch("/api/v1/me/orders").then(r => r.status)`, chromedp.EvalAwaitPromise)); v != 200 {
		t.Fatalf("my orders after silent login: %d", v)
	}
	_ = orders
	// Outside WeChat nothing redirects.
	plain := testkit.NewContext(t, browser, 60*time.Second)
	runB(t, plain, "desktop", chromedp.Navigate(s.base+"/live/demo"), chromedp.WaitVisible(chromedp.CSS("#live")))
	if loc, _ := chromedp.Run(plain, chromedp.Evaluate[string](`location.pathname`)); loc != "/live/demo" {
		t.Fatalf("a browser outside WeChat went to %s", loc)
	}
}
