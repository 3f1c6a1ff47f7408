package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/sms/smstest"
	"github.com/shelflive/shelflive/internal/testkit"
)

// logBuffer collects a node's log, for checks of what it must never say.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLogged is testkit.StartNode with the node's log kept.
func startLogged(t *testing.T, args ...string) (*node.Main, *logBuffer) {
	t.Helper()
	c, err := node.ParseConfig("test", append([]string{"-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-rtmp-addr", "", "-mqtt-addr", "127.0.0.1:0"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	m := &node.Main{Config: c, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, logs
}

// TestLoginCodesBySMS: in production mode a viewer's login code goes out
// through the provider (fakes of Aliyun and Tencent Cloud SMS that check
// our signatures), never into the answer or the log; a refused send gives
// the viewer a clear message in their language; the limits per phone and
// per IP stay; a production node without an SMS provider refuses to send
// rather than show or log the code.
func TestLoginCodesBySMS(t *testing.T) {
	for _, tc := range []struct {
		name, provider string
		fake           func(testing.TB, string, string) *smstest.Fake
		extra          []string
		refusal        string
	}{
		{"Aliyun", "aliyun", smstest.Aliyun, []string{"-sms-template", "SMS_154950909"}, "isv.BUSINESS_LIMIT_CONTROL"},
		{"Tencent", "tencent", smstest.Tencent, []string{"-sms-template", "1234567", "-sms-app-id", "1400000001"}, "LimitExceeded.PhoneNumberDailyLimit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.fake(t, "shop-key-id", "shop-key-secret")
			t.Setenv("SHELFLIVE_SMS_KEY_SECRET", f.KeySecret)
			m, logs := startLogged(t, append([]string{"-dev=false", "-secret-key", testSecretKey, "-sms", tc.provider, "-sms-key-id", f.KeyID, "-sms-sign-name", "鲜食集", "-sms-base-url", f.URL}, tc.extra...)...)
			anon := &testkit.Client{Base: m.URL()}
			const phone = "13811112222"
			var sent map[string]any
			if st := anon.Do(t, "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": phone}, &sent); st != 200 || sent["dev_code"] != nil {
				t.Fatalf("otp: %d %v (no code may come back in production)", st, sent)
			}
			code := f.LastCode(phone)
			if len(code) != 6 {
				t.Fatalf("the fake %s got no code: %+v", tc.name, f.Sent())
			}
			var sess struct{ Token string }
			if st := anon.Do(t, "POST", "/api/v1/auth/otp/verify", map[string]string{"merchant": "demo", "phone": phone, "code": code}, &sess); st != 200 || sess.Token == "" {
				t.Fatalf("verify with the delivered code: %d", st)
			}

			f.FailNext(tc.refusal)
			var p problemDoc
			if st := anon.Do(t, "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": phone}, &p); st != 502 || p.Code != "sms_failed" || !strings.Contains(p.Detail, "验证码短信没有发出去") {
				t.Fatalf("refused send: %d %+v", st, p)
			}
			en := &testkit.Client{Base: m.URL(), Header: map[string]string{"Accept-Language": "en"}}
			f.FailNext(tc.refusal)
			if st := en.Do(t, "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": "13811113333"}, &p); st != 502 || !strings.Contains(p.Detail, "could not be sent by SMS") {
				t.Fatalf("refused send in English: %d %+v", st, p)
			}
			if tc.provider == "aliyun" { // what the viewer sees on the phone when the provider refuses
				f.FailNext(tc.refusal)
				browser := testkit.Browser(t)
				ctx := testkit.NewContext(t, browser, 60*time.Second)
				run(t, ctx, "login sheet",
					chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
					chromedp.Navigate(url(m, "/live/demo")),
					chromedp.WaitVisible(chromedp.CSS("#comment-input")),
					chromedp.SendKeys(chromedp.CSS("#comment-input"), "有货吗？\r"),
					chromedp.WaitVisible(chromedp.CSS("#login-phone")),
					chromedp.SendKeys(chromedp.CSS("#login-phone"), "13811114444"),
					chromedp.Click(chromedp.CSS("#otp-send")),
					chromedp.WaitVisible(chromedp.CSS("form .form-error")),
				)
				if got := text(t, ctx, "form .form-error"); !strings.Contains(got, "验证码短信没有发出去") {
					t.Fatalf("the viewer sees %q", got)
				}
				testkit.Screenshot(t, ctx, "sms-failed-viewer")
			}
			// The limits stay: per phone (5 codes in 10 minutes) and per IP.
			limited := false
			for i := 0; i < 6 && !limited; i++ {
				st, _ := apiCall(t, anon, "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": phone})
				limited = st == 429
			}
			if !limited {
				t.Fatal("no 429 after many codes for one phone from one IP")
			}
			log := logs.String()
			for _, s := range f.Sent() {
				if strings.Contains(log, s.Code) {
					t.Fatalf("a delivered login code is in the log")
				}
			}
			if strings.Contains(log, phone) || !strings.Contains(log, tc.refusal) {
				t.Fatalf("the log must name the provider's refusal and mask the phone:\n%s", log)
			}
		})
	}

	t.Run("ProductionWithoutSMS", func(t *testing.T) {
		m, logs := startLogged(t, "-dev=false", "-secret-key", testSecretKey)
		anon := &testkit.Client{Base: m.URL()}
		var p problemDoc
		if st := anon.Do(t, "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": "13822223333"}, &p); st != 502 || p.Code != "sms_failed" {
			t.Fatalf("production without SMS: %d %+v", st, p)
		}
		if log := logs.String(); strings.Contains(log, "dev sms") || !strings.Contains(log, "SMS is not configured") {
			t.Fatalf("log:\n%s", log)
		}
	})
}

// testSecretKey is SHELFLIVE_SECRET_KEY of production-mode test nodes.
const testSecretKey = "0123456789abcdef0123456789abcdef"

// TestSMSPerMerchant: two shops on one install send login codes through
// the install's Aliyun account, each under its own sign name and template
// (set by the owner through the API and in /admin in a browser); a shop
// without its own uses the install's; what the provider would refuse is
// refused with the field; only the owner may change it; it is audited.
func TestSMSPerMerchant(t *testing.T) {
	f := smstest.Aliyun(t, "install-key-id", "install-key-secret")
	t.Setenv("SHELFLIVE_SMS_KEY_SECRET", f.KeySecret)
	dir := t.TempDir()
	mustCLI(t, "Fresh-Harbour-42\n", "create", "--slug", "north", "--name", "北门生鲜", "--owner-login", "north-owner", "--data-dir", dir)
	mustCLI(t, "Quiet-Orchard-77\n", "create", "--slug", "south", "--name", "南门果铺", "--owner-login", "south-owner", "--data-dir", dir)
	m, _ := startLogged(t, "-dev=false", "-demo=false", "-data-dir", dir, "-secret-key", testSecretKey, "-sms", "aliyun", "-sms-key-id", f.KeyID,
		"-sms-sign-name", "鲜食集", "-sms-template", "SMS_154950909", "-sms-base-url", f.URL)
	north := staffClient(t, m, "north-owner", "Fresh-Harbour-42")
	anon := &testkit.Client{Base: m.URL()}
	codeFor := func(merchant, phone string) smstest.Sent {
		t.Helper()
		if st, code := apiCall(t, anon, "POST", "/api/v1/auth/otp", map[string]string{"merchant": merchant, "phone": phone}); st != 200 {
			t.Fatalf("otp %s: %d %s", merchant, st, code)
		}
		sent := f.Sent()
		last := sent[len(sent)-1]
		if last.Phone != phone {
			t.Fatalf("no message to %s: %+v", phone, last)
		}
		var sess struct{ Token string }
		if st := anon.Do(t, "POST", "/api/v1/auth/otp/verify", map[string]string{"merchant": merchant, "phone": phone, "code": last.Code}, &sess); st != 200 || sess.Token == "" {
			t.Fatalf("verify %s: %d", merchant, st)
		}
		return last
	}

	type view struct {
		Provider                 string
		Shop, Install, Effective struct {
			SignName string `json:"sign_name"`
			Template string `json:"template"`
		}
	}
	var v view
	if st := north.Do(t, "GET", "/api/v1/sms/settings", nil, &v); st != 200 || v.Provider != "aliyun" || v.Effective.SignName != "鲜食集" || v.Shop.SignName != "" {
		t.Fatalf("north before: %d %+v", st, v)
	}
	for _, bad := range []struct {
		body map[string]string
		code string
	}{
		{map[string]string{"sign_name": "北门生鲜", "template": "1234567"}, "invalid_sms_template"},
		{map[string]string{"sign_name": "【北门】"}, "invalid_sms_sign_name"},
		{map[string]string{"sign": "北门生鲜"}, "unknown_field"},
	} {
		if st, code := apiCall(t, north, "PUT", "/api/v1/sms/settings", bad.body); st != 400 || code != bad.code {
			t.Fatalf("PUT %v: %d %s, want 400 %s", bad.body, st, code, bad.code)
		}
	}
	if st := north.Do(t, "PUT", "/api/v1/sms/settings", map[string]string{"sign_name": "北门生鲜", "template": "SMS_200000001"}, &v); st != 200 || v.Effective.SignName != "北门生鲜" || v.Effective.Template != "SMS_200000001" {
		t.Fatalf("north sets its own: %d %+v", st, v)
	}
	if st := north.Do(t, "POST", "/api/v1/staff", map[string]any{"username": "north-host", "name": "主播", "role": "admin", "password": "Stage-Lights-31"}, nil); st != 201 {
		t.Fatalf("admin account: %d", st)
	}
	if st, code := apiCall(t, staffClient(t, m, "north-host", "Stage-Lights-31"), "PUT", "/api/v1/sms/settings", map[string]string{"sign_name": "别人的"}); st != 403 || code != "forbidden" {
		t.Fatalf("an admin changes the sign name: %d %s", st, code)
	}
	if got := codeFor("north", "13811110001"); got.SignName != "北门生鲜" || got.Template != "SMS_200000001" {
		t.Fatalf("north's code went out as %q %q", got.SignName, got.Template)
	}
	if got := codeFor("south", "13811110002"); got.SignName != "鲜食集" || got.Template != "SMS_154950909" {
		t.Fatalf("south's code went out as %q %q", got.SignName, got.Template)
	}

	// The owner edits it in /admin.
	browser := testkit.Browser(t)
	ctx := testkit.NewContext(t, browser, 90*time.Second)
	run(t, ctx, "desktop", chromedp.EmulateViewport(1440, 900))
	testkit.StaffLogin(t, ctx, m.URL(), "north-owner", "Fresh-Harbour-42", "/admin")
	run(t, ctx, "sms card", chromedp.Navigate(url(m, "/admin#payments")), chromedp.WaitVisible(chromedp.CSS("#sms-settings")), chromedp.Click(chromedp.CSS("#edit-sms")),
		chromedp.WaitVisible(chromedp.CSS(`#modal input[name="sign_name"]`)))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#modal input[name="sign_name"]').value = ""`)); err != nil {
		t.Fatal(err)
	}
	testkit.Settled(t, ctx)
	testkit.Screenshot(t, ctx, "sms-per-merchant-edit")
	run(t, ctx, "save", chromedp.SendKeys(chromedp.CSS(`#modal input[name="sign_name"]`), "北门鲜果"), chromedp.Click(chromedp.CSS(`#modal button[type="submit"]`)))
	poll(t, ctx, "saved", `document.querySelector("#sms-sign-name") && document.querySelector("#sms-sign-name").textContent.includes("北门鲜果")`)
	testkit.Settled(t, ctx)
	testkit.Screenshot(t, ctx, "sms-per-merchant-admin")
	if got := codeFor("north", "13811110003"); got.SignName != "北门鲜果" || got.Template != "SMS_200000001" {
		t.Fatalf("north's code after the edit went out as %q %q", got.SignName, got.Template)
	}
	// Back to the install's sign name, keeping its own template.
	if st := north.Do(t, "PUT", "/api/v1/sms/settings", map[string]string{"template": "SMS_200000001"}, &v); st != 200 || v.Effective.SignName != "鲜食集" {
		t.Fatalf("north clears its sign name: %d %+v", st, v)
	}
	if got := codeFor("north", "13811110004"); got.SignName != "鲜食集" || got.Template != "SMS_200000001" {
		t.Fatalf("north's code after clearing went out as %q %q", got.SignName, got.Template)
	}
	var audit struct {
		Entries []struct{ Action string } `json:"entries"`
	}
	north.Do(t, "GET", "/api/v1/audit", nil, &audit)
	n := 0
	for _, e := range audit.Entries {
		if e.Action == "sms.settings" {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d sms.settings audit entries, want 3", n)
	}
}
