package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestSetupFromNothing: a fresh install without demo data has no merchant;
// the node prints a one-time setup token and /setup (page and API) creates
// the first merchant and its owner with it, in a real browser. A wrong
// token and a weak password are refused with their reason; afterwards the
// token is spent and /setup is closed, also after a restart.
func TestSetupFromNothing(t *testing.T) {
	dir := t.TempDir()
	m := testkit.StartNode(t, dir, "-demo=false")
	if len(m.SetupToken) < 32 {
		t.Fatalf("setup token %q: want a fresh random token when no merchant exists", m.SetupToken)
	}
	anon := &testkit.Client{Base: m.URL()}
	body := map[string]string{"setup_token": "0123456789abcdef0123456789abcdef", "slug": "green-grocer", "name": "青青果蔬", "owner_login": "qing", "password": "Morning-Market-9"}
	if st, code := apiCall(t, anon, "POST", "/api/v1/setup", body); st != 403 || code != "setup_token" {
		t.Fatalf("wrong setup token: %d %s", st, code)
	}
	if st, _ := apiCall(t, anon, "GET", "/api/v1/stores", nil); st != 401 {
		t.Fatalf("no merchant, no login: stores answered %d", st)
	}

	browser := testkit.Browser(t)
	ctx := testkit.NewContext(t, browser, 90*time.Second)
	run(t, ctx, "open setup",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(url(m, "/setup")),
		chromedp.WaitVisible(chromedp.CSS("#setup-token")),
		chromedp.SendKeys(chromedp.CSS("#setup-token"), m.SetupToken),
		chromedp.SendKeys(chromedp.CSS("#setup-name"), "青青果蔬"),
		chromedp.SendKeys(chromedp.CSS("#setup-slug"), "green-grocer"),
		chromedp.SendKeys(chromedp.CSS("#setup-login"), "qing"),
		chromedp.SendKeys(chromedp.CSS("#setup-password"), "qing123456789"),
		chromedp.Click(chromedp.CSS("#setup-submit")),
		chromedp.WaitVisible(chromedp.CSS("#setup-error")),
	)
	if got := text(t, ctx, "#setup-error"); !strings.Contains(got, "登录名") {
		t.Fatalf("weak password refused with %q, want the reason (contains the login)", got)
	}
	testkit.Screenshot(t, ctx, "setup-01-weak-password")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#setup-password").value = ""`)); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "create the shop",
		chromedp.SendKeys(chromedp.CSS("#setup-password"), "Morning-Market-9"),
		chromedp.Click(chromedp.CSS("#setup-submit")),
		chromedp.WaitVisible(chromedp.CSS("#admin-nav")),
	)
	if got := text(t, ctx, ".topbar-right"); !strings.Contains(got, "qing") || !strings.Contains(got, "店主") {
		t.Fatalf("admin after setup shows %q, want the owner qing", got)
	}
	testkit.Screenshot(t, ctx, "setup-02-admin")

	// Spent: the same token no longer works and the page says to log in.
	if st, code := apiCall(t, anon, "POST", "/api/v1/setup", body); st != 410 || code != "setup_closed" {
		t.Fatalf("setup after the first merchant: %d %s", st, code)
	}
	run(t, ctx, "setup page closed", chromedp.Navigate(url(m, "/setup")), chromedp.WaitVisible(chromedp.CSS("#setup-closed")))
	if got := text(t, ctx, "#setup-closed"); !strings.Contains(got, "已完成初始设置") {
		t.Fatalf("/setup after setup: %q", got)
	}
	owner := staffClient(t, m, "qing", "Morning-Market-9")
	if st, _ := apiCall(t, owner, "GET", "/api/v1/stores", nil); st != 200 {
		t.Fatalf("owner made at setup: stores %d", st)
	}
	m.Close()
	if m2 := testkit.StartNode(t, dir, "-demo=false"); m2.SetupToken != "" {
		t.Fatal("a restart with a merchant made a setup token")
	}
	if os.Getenv("SHELFLIVE_ARTIFACTS") != "" {
		t.Log("screenshots in", filepath.Join(os.Getenv("SHELFLIVE_ARTIFACTS")))
	}
}
