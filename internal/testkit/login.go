package testkit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Run runs browser steps; on failure it saves a screenshot named after
// what was being done and fails the test.
func Run(tb testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		Screenshot(tb, ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
		tb.Fatalf("%s: %v", what, err)
	}
}

// CodeSource tells a phone login where the viewer reads the login code:
// DevCode (the dev mode's code on screen) or SMSCode (a fake SMS
// provider's inbox), called once the page asked for a code.
type CodeSource func(tb testing.TB, ctx context.Context, phone string) string

// DevCode reads the code a dev-mode page shows under the phone field.
func DevCode(tb testing.TB, ctx context.Context, phone string) string {
	tb.Helper()
	Run(tb, ctx, "dev code for "+phone, chromedp.WaitVisible(chromedp.CSS("#otp-dev")))
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#otp-dev")))
	if err != nil || len(s) < 6 {
		tb.Fatalf("dev code on screen: %q %v", s, err)
	}
	return s[len(s)-6:]
}

// SMSCode reads the code from what an SMS provider delivered, like the
// phone would: last(phone) is the fake's latest code for the number
// (smstest.Fake.LastCode); a code already used before (seen) is not
// taken again, so a second login waits for the new message.
func SMSCode(last func(phone string) string, seen ...string) CodeSource {
	return func(tb testing.TB, ctx context.Context, phone string) string {
		tb.Helper()
		var code string
		WaitFor(tb, "the login code SMS to "+phone, 30*time.Second, func() bool {
			code = last(phone)
			for _, s := range seen {
				if code == s {
					return false
				}
			}
			return len(code) == 6
		})
		return code
	}
}

// PhoneLogin logs a viewer in on the phone-login form the page shows (the
// room's login sheet or the buyer login page of /orders): types the
// number, asks for a code, reads it from codes and sends it. The caller
// waits for what the page does next.
func PhoneLogin(tb testing.TB, ctx context.Context, phone string, codes CodeSource) {
	tb.Helper()
	Run(tb, ctx, "ask a code for "+phone,
		chromedp.WaitVisible(chromedp.CSS("#login-phone")),
		chromedp.SendKeys(chromedp.CSS("#login-phone"), phone),
		chromedp.Click(chromedp.CSS("#otp-send")),
		// the send button counts down once the code went out
		chromedp.Poll[chromedp.Void](`document.querySelector("#otp-send").disabled || !!document.querySelector(".form-error:not(.hidden)")`,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)),
	)
	code := codes(tb, ctx, phone)
	Run(tb, ctx, "log in "+phone,
		chromedp.SendKeys(chromedp.CSS("#login-code"), code),
		chromedp.Click(chromedp.CSS("#login-go")),
	)
}

// StaffLogin logs staff in on /login and waits until the page left it for
// next.
func StaffLogin(tb testing.TB, ctx context.Context, base, login, password, next string) {
	tb.Helper()
	Run(tb, ctx, "staff login "+login,
		chromedp.Navigate(base+"/login?next="+next),
		chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#login"), login),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)
	// The page navigates away: ask again until it has (an evaluation cut
	// short by the navigation is no answer).
	WaitFor(tb, login+" leaves /login", 20*time.Second, func() bool {
		path, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === "complete" ? location.pathname : "/login"`))
		return err == nil && path != "/login"
	})
}
