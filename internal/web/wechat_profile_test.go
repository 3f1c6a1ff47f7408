package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/payment/wechatpay/wechatpaytest"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestWeChatUserInfoConsent: a logged-in viewer opens 我的 in WeChat's
// browser (390×844), taps 使用微信头像和昵称, agrees on WeChat's consent page
// (the local fake's snsapi_userinfo authorize), and is back on 我的 with
// the WeChat nickname and avatar shown (served from the site); 不再使用
// deletes them.
func TestWeChatUserInfoConsent(t *testing.T) {
	s := newWeChatShop(t)
	ctx := testkit.NewContext(t, testkit.Browser(t), 90*time.Second)
	runB(t, ctx, "open", chromedp.Emulate(wechatPhone{}), chromedp.Navigate(s.base+"/me"))
	login := `(async () => {
		const post = (p, b) => fetch(p, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(b)}).then(r => r.json());
		const o = await post("/api/v1/auth/otp", {merchant: "demo", phone: "13900001491"});
		const v = await post("/api/v1/auth/otp/verify", {merchant: "demo", phone: "13900001491", code: o.dev_code});
		return v.kind;
	})()`
	if kind, err := chromedp.Run(ctx, chromedp.Evaluate[string](login, chromedp.EvalAwaitPromise)); err != nil || kind != "customer" {
		t.Fatalf("phone login: %q %v", kind, err)
	}
	runB(t, ctx, "my page offers the consent", chromedp.Navigate(s.base+"/me"), chromedp.WaitVisible(chromedp.CSS("#wx-consent-go")))
	testkit.Screenshot(t, ctx, "wechat-userinfo-ask")
	runB(t, ctx, "to WeChat's consent page", chromedp.Click(chromedp.CSS("#wx-consent-go")), chromedp.WaitVisible(chromedp.CSS("#allow")))
	if ask, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#ask"))); ask == "" {
		t.Fatal("no consent question on WeChat's page")
	}
	runB(t, ctx, "agree", chromedp.Click(chromedp.CSS("#allow")), chromedp.WaitVisible(chromedp.CSS("#wx-profile")),
		chromedp.Poll[chromedp.Void](`document.getElementById("wx-avatar") && document.getElementById("wx-avatar").complete && document.getElementById("wx-avatar").naturalWidth > 0`, chromedp.WithPollingTimeout(10*time.Second)))
	testkit.Screenshot(t, ctx, "wechat-userinfo-shown")
	if name, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#wx-nickname"))); name != wechatpaytest.UserNickname {
		t.Fatalf("nickname shown %q, want %q", name, wechatpaytest.UserNickname)
	}
	if w, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.getElementById("wx-avatar").naturalWidth`)); w != 64 {
		t.Fatalf("avatar width %d, want the fake's 64", w)
	}
	if path, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`)); path != "/me" {
		t.Fatalf("back at %s, want /me", path)
	}
	// Forget: gone from the page and the API.
	runB(t, ctx, "forget", chromedp.Click(chromedp.CSS("#wx-profile-forget")),
		chromedp.Poll[chromedp.Void](`!document.getElementById("wx-profile")`, chromedp.WithPollingTimeout(10*time.Second)))
	if v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/api/v1/me/wechat-profile").then(r => r.json()).then(j => JSON.stringify(j.profile))`, chromedp.EvalAwaitPromise)); v != "null" {
		t.Fatalf("profile after forgetting: %s", v)
	}
}
