package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestViewerPageBytes measures what a phone downloads before any video: the
// viewer page, its styles, scripts and pictures, as chromium counts them
// (transferSize: compressed bodies plus headers), in a fresh profile. The
// budget keeps the players (hls.js 620 KB, mpegts.js 270 KB) out of it.
func TestViewerPageBytes(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	const budget = 250 << 10
	for _, path := range []string{"/live/demo", "/live/clearance"} {
		ctx := testkit.NewContext(t, browser, 60*time.Second)
		run(t, ctx, "open "+path, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
			chromedp.Navigate(url(m, path)), chromedp.WaitVisible(chromedp.CSS("#poster-note")), chromedp.Sleep(1500*time.Millisecond))
		got, err := chromedp.Run(ctx, chromedp.Evaluate[struct{ Total, Scripts, Count int }](`(() => {
			const nav = performance.getEntriesByType("navigation")[0];
			const res = performance.getEntriesByType("resource").filter((r) => !r.name.includes("/api/v1/ws"));
			return { Total: nav.transferSize + res.reduce((n, r) => n + r.transferSize, 0),
				Scripts: res.filter((r) => r.initiatorType === "script" || r.name.includes(".js")).reduce((n, r) => n + r.transferSize, 0),
				Count: res.length + 1 };
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s before video: %d requests, %.1f KB transferred (%.1f KB of it scripts)", path, got.Count, float64(got.Total)/1024, float64(got.Scripts)/1024)
		if got.Total > budget {
			t.Errorf("%s: %.1f KB before video, budget %d KB", path, float64(got.Total)/1024, budget>>10)
		}
	}
}
