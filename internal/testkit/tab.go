package testkit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Tab is one browser tab of a test, with the steps every browser test
// takes written once: Do runs steps (a screenshot named after the step and
// a failed test when one fails), Wait polls a script until it is true, and
// StaffOpen logs staff in at the desk's size and waits for their page.
type Tab struct {
	TB  testing.TB
	Ctx context.Context
	// Wait polls every PollEvery for at most WaitFor (50 ms, 20 s).
	PollEvery, WaitFor time.Duration
	// Width and Height are StaffOpen's viewport (the desk's 1440×900).
	Width, Height int64
}

// NewTab opens an isolated tab (own cookies) in browser; its actions stop
// after timeout.
func NewTab(tb testing.TB, browser context.Context, timeout time.Duration) *Tab {
	tb.Helper()
	return &Tab{TB: tb, Ctx: NewContext(tb, browser, timeout), PollEvery: 50 * time.Millisecond, WaitFor: 20 * time.Second,
		Width: 1440, Height: 900}
}

// Do runs browser steps; on failure it saves a screenshot named after
// what was being done and fails the test.
func (t *Tab) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	t.TB.Helper()
	Run(t.TB, t.Ctx, what, steps...)
}

// Wait polls the script expr until it is true (see PollEvery, WaitFor).
func (t *Tab) Wait(what, expr string) {
	t.TB.Helper()
	t.Do(what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(t.PollEvery), chromedp.WithPollingTimeout(t.WaitFor)))
}

// StaffOpen sets the viewport (Width×Height), logs staff in on /login
// with next as the page to go to (escape its # as %23), and waits until
// the element ready (a CSS selector) is visible there.
func (t *Tab) StaffOpen(base, login, password, next, ready string) {
	t.TB.Helper()
	t.Do("viewport", chromedp.EmulateViewport(t.Width, t.Height))
	StaffLogin(t.TB, t.Ctx, base, login, password, next)
	// the step's name becomes a screenshot file name: no slashes
	t.Do("page "+strings.NewReplacer("/", "-", "%23", "#", "?", "-").Replace(next), chromedp.WaitVisible(chromedp.CSS(ready)))
}
