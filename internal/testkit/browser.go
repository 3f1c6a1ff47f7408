// Package testkit holds helpers shared by tests: a headless Debian chromium
// driven by chromedp, and a running ShelfLive server.
package testkit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath finds the browser; in CI a missing browser fails the test
// instead of skipping it.
func ChromiumPath(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("chromium is not installed (CI=true: browser tests must run; .ci/run installs it)")
	}
	tb.Skip("chromium not installed")
	return ""
}

// Browser starts a headless chromium with the flags this closed network
// needs; NewContext opens isolated tabs in it.
func Browser(tb testing.TB) context.Context {
	tb.Helper()
	path := ChromiumPath(tb)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("accept-lang", "zh-CN,zh"),
		chromedp.UserDataDir(tb.TempDir()),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	tb.Cleanup(cancel)
	// The first context starts the browser; tabs with their own cookie jars
	// (NewContext) are made from it.
	root, cancel2 := chromedp.NewContext(actx)
	tb.Cleanup(cancel2)
	if err := chromedp.Do(root); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	return root
}

// NewContext opens an isolated browser context (own cookies) with a timeout.
func NewContext(tb testing.TB, browser context.Context, timeout time.Duration) context.Context {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	tb.Cleanup(cancel)
	// The first Run opens the tab and must not carry a timeout (it would
	// close the tab with it); later actions get one.
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start browser: %v", err)
	}
	ctx, cancel2 := context.WithTimeout(ctx, timeout)
	tb.Cleanup(cancel2)
	return ctx
}

// ArtifactDir is where screenshots go: $SHELFLIVE_ARTIFACTS or ./artifacts
// under the repository root when run from a package directory.
func ArtifactDir(tb testing.TB) string {
	dir := os.Getenv("SHELFLIVE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(tb.TempDir(), "artifacts")
	}
	os.MkdirAll(dir, 0o755)
	return dir
}

// Screenshot saves a full-page PNG of the current tab.
func Screenshot(tb testing.TB, ctx context.Context, name string) {
	tb.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(ArtifactDir(tb), name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		tb.Logf("screenshot %s: %v", name, err)
	}
}

// Settled waits until no CSS animation or transition runs in the page (a
// sheet sliding in, a card fading): screenshots and layout checks taken
// mid-animation see half-transparent overlaps that are not there.
func Settled(tb testing.TB, ctx context.Context) {
	tb.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`document.getAnimations().every((a) => a.playState !== "running")`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		tb.Logf("animations still running: %v", err)
	}
}
