package web_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/guides"
	"github.com/shelflive/shelflive/internal/testkit"
	"github.com/shelflive/shelflive/internal/wecom/wecomtest"
)

// TestWeComSend: a guide sends a live to their WeCom customers, against a
// local WeCom over HTTP that checks the corp secret on gettoken, the access
// token on add_msg_template, the sender and that the link carries a share
// code this server signed for the guide. Refusals come back as
// problem+json (wecom_off, wecom_no_userid, wecom_error with WeCom's
// errcode); a second send of the room the same day answers the first task
// without calling WeCom; a token WeCom expired is fetched again once.
func TestWeComSend(t *testing.T) {
	f := wecomtest.Start()
	defer f.Close()
	const corp, secret = "ww00000000000000a1", "wecom-contact-secret-1"
	f.AddCorp(corp, secret)
	f.AddUser(corp, "wang01")
	s := newShop(t, "-wecom-base-url", f.URL, "-secret-key", testSecretKey)
	ctx := t.Context()
	mer, err := s.m.App.Users.MerchantBySlug(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	gst, err := s.m.App.Users.StaffByLogin(ctx, "guide")
	if err != nil {
		t.Fatal(err)
	}
	var checked []string
	f.CheckURL = func(u string) bool {
		pu, err := url.Parse(u)
		if err != nil || !strings.HasPrefix(pu.Path, "/live/") {
			return false
		}
		who, _, ok := s.m.App.Shares.Verify(mer.ID, pu.Query().Get("g"), s.m.App.Now())
		checked = append(checked, u)
		return ok && who == guides.Sharer{Kind: guides.KindStaff, ID: gst.ID}
	}
	guide := staffLogin(t, s.base, "guide", "shelflive-demo")
	sendTo := func(slug string) result {
		return send(t, nil, s.base, "POST", "/api/v1/guides/me/wecom/send", map[string]string{"slug": slug}, guide.Token, nil)
	}
	wantCode := func(r result, status int, code string) {
		t.Helper()
		r.wantProblem(t, status, code)
	}

	wantCode(sendTo("demo"), 409, "wecom_off")
	var me struct {
		WeCom bool `json:"wecom"`
	}
	send(t, nil, s.base, "GET", "/api/v1/guide/me", nil, guide.Token, nil).want(t, 200).decode(t, &me)
	if me.WeCom {
		t.Fatal("guide page offers WeCom before the shop connected it")
	}

	// A guide may not connect the shop; the owner connects with a wrong secret first.
	send(t, nil, s.base, "PUT", "/api/v1/wecom/settings", map[string]string{"corp_id": corp, "secret": "x"}, guide.Token, nil).want(t, 403)
	wantCode(send(t, nil, s.base, "PUT", "/api/v1/wecom/settings", map[string]string{"corp_id": corp}, testkit.OwnerToken, nil), 400, "invalid_wecom_settings")
	send(t, nil, s.base, "PUT", "/api/v1/wecom/settings", map[string]string{"corp_id": corp, "secret": "wrong-secret"}, testkit.OwnerToken, nil).want(t, 200)
	wantCode(sendTo("demo"), 409, "wecom_no_userid")
	send(t, nil, s.base, "PUT", "/api/v1/staff/"+strconv.FormatInt(gst.ID, 10)+"/wecom", map[string]string{"userid": "wang01"}, testkit.OwnerToken, nil).want(t, 200)
	r := sendTo("demo")
	wantCode(r, 502, "wecom_error")
	if !strings.Contains(string(r.Body), "40001") {
		t.Fatalf("wecom_error without WeCom's errcode: %s", r.Body)
	}

	// The right secret (an empty one keeps it: here it replaces the wrong one).
	var set struct {
		Connected bool   `json:"connected"`
		CorpID    string `json:"corp_id"`
		SecretSet bool   `json:"secret_set"`
	}
	r = send(t, nil, s.base, "PUT", "/api/v1/wecom/settings", map[string]string{"corp_id": corp, "secret": secret}, testkit.OwnerToken, nil).want(t, 200)
	r.decode(t, &set)
	if !set.Connected || set.CorpID != corp || !set.SecretSet || strings.Contains(string(r.Body), secret) {
		t.Fatalf("settings answer %s", r.Body)
	}
	send(t, nil, s.base, "PUT", "/api/v1/wecom/settings", map[string]string{"corp_id": corp, "secret": ""}, testkit.OwnerToken, nil).want(t, 200)
	send(t, nil, s.base, "GET", "/api/v1/guide/me", nil, guide.Token, nil).want(t, 200).decode(t, &me)
	if !me.WeCom {
		t.Fatal("guide page does not offer WeCom")
	}
	page := send(t, nil, s.base, "GET", "/guide", nil, guide.Token, nil).want(t, 200)
	if !strings.Contains(string(page.Body), `class="btn small wecom-send"`) || !strings.Contains(string(page.Body), "发送给企业微信客户") {
		t.Fatal("guide page has no WeCom button")
	}

	type sendResult struct {
		MsgID    string   `json:"msgid"`
		FailList []string `json:"fail_list"`
		Repeated bool     `json:"repeated"`
	}
	f.Unreachable = []string{"wmEXT0001"}
	var first sendResult
	sendTo("demo").want(t, 200).decode(t, &first)
	sent := f.Sent()
	if first.MsgID == "" || first.Repeated || len(first.FailList) != 1 || first.FailList[0] != "wmEXT0001" || len(sent) != 1 || len(checked) != 1 {
		t.Fatalf("first send %+v, WeCom got %d tasks, checked %d links", first, len(sent), len(checked))
	}
	m := sent[0]
	if m.Sender != "wang01" || m.ChatType != "single" || !strings.Contains(m.Text.Content, "草莓季") || m.Attachments[0].Link.Title != "草莓季 · 产地直播" ||
		!strings.Contains(m.Attachments[0].Link.URL, "/live/demo?g=") {
		t.Fatalf("task %+v", m)
	}
	fetches := f.Fetches()

	// Again today: the same task, WeCom not called.
	var again sendResult
	sendTo("demo").want(t, 200).decode(t, &again)
	if !again.Repeated || again.MsgID != first.MsgID || len(f.Sent()) != 1 {
		t.Fatalf("repeat %+v, WeCom got %d tasks", again, len(f.Sent()))
	}

	// WeCom expires the cached token: one new token, then the task.
	f.RevokeTokens()
	var second sendResult
	sendTo("clearance").want(t, 200).decode(t, &second)
	if second.MsgID == first.MsgID || len(f.Sent()) != 2 || f.Fetches() != fetches+1 {
		t.Fatalf("after expiry %+v, tasks %d, fetches %d → %d", second, len(f.Sent()), fetches, f.Fetches())
	}
	// An unknown room is not found; the audit log has the connects and sends.
	wantCode(sendTo("no-such-room"), 404, "not_found")
	log, err := s.m.App.AuditLog(ctx, mer.ID, 50)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range log {
		if strings.HasPrefix(e.Action, "wecom.") {
			n++
		}
	}
	if n < 5 { // 3 connects, 1 userid, 2 sends
		t.Fatalf("audit has %d wecom entries: %+v", n, log)
	}

	// The guide's phone: the button on a room already sent today says so
	// (the page posts with its session and CSRF token; WeCom is not called).
	bctx := testkit.NewContext(t, testkit.Browser(t), 60*time.Second)
	runB(t, bctx, "guide page wecom", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		withCookie(s.base, "sl_staff", guide.Token),
		chromedp.Navigate(s.base+"/guide"),
		chromedp.WaitVisible(chromedp.CSS(`li[data-room="demo"] .wecom-send`)),
		chromedp.Click(chromedp.CSS(`li[data-room="demo"] .wecom-send`)),
		chromedp.Poll[chromedp.Void](`document.getElementById("toast").textContent.includes("今天已发送过")`, chromedp.WithPollingTimeout(10*time.Second)))
	testkit.Screenshot(t, bctx, "guide-wecom-390")
	if wide, _ := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); wide {
		t.Fatal("the guide page scrolls sideways at 390 px with the WeCom button")
	}
	if len(f.Sent()) != 2 {
		t.Fatalf("the repeated send reached WeCom: %d tasks", len(f.Sent()))
	}
}

// TestAdminWeComForm: the owner connects WeCom in /admin → 支付设置: the
// card shows the corp id, never the secret, and the secret is stored.
func TestAdminWeComForm(t *testing.T) {
	s := newShop(t, "-secret-key", testSecretKey)
	owner := staffLogin(t, s.base, "owner", "shelflive-demo")
	ctx := testkit.NewContext(t, testkit.Browser(t), 60*time.Second)
	runB(t, ctx, "admin wecom", chromedp.EmulateViewport(1440, 900), withCookie(s.base, "sl_staff", owner.Token),
		chromedp.Navigate(s.base+"/admin#payments"), chromedp.WaitVisible(chromedp.CSS("#edit-wecom")),
		chromedp.Click(chromedp.CSS("#edit-wecom")), chromedp.WaitVisible(chromedp.CSS(`#modal input[name="corp_id"]`)),
		chromedp.SendKeys(chromedp.CSS(`#modal input[name="corp_id"]`), "ww00000000000000a1"),
		chromedp.SendKeys(chromedp.CSS(`#modal input[name="secret"]`), "wecom-contact-secret-1"),
		chromedp.Click(chromedp.CSS(`#modal button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#wecom-corp-id")))
	testkit.Screenshot(t, ctx, "admin-wecom")
	if txt, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#wecom-settings").textContent`)); !strings.Contains(txt, "ww00000000000000a1") || strings.Contains(txt, "wecom-contact-secret-1") {
		t.Fatalf("wecom card: %q", txt)
	}
	mer, err := s.m.App.Users.MerchantBySlug(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.m.App.WeCom.Store.WeComSettings(t.Context(), mer.ID)
	if err != nil || st == nil || st.Secret != "wecom-contact-secret-1" {
		t.Fatalf("stored %+v %v", st, err)
	}
}
