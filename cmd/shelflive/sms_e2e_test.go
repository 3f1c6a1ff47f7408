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
