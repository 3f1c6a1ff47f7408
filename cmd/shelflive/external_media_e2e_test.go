package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestLiveExternalMediaFLV: a shop whose video comes from an external media
// server on another origin (docs/DEPLOY.md: SRS behind its own address)
// plays it on the live page. Node A stands in for SRS (its HTTP-FLV and HLS
// answer cross-origin requests); node B runs in external mode with A's URLs
// and hears the publish through the on_publish hook, as SRS would call it.
// The page's CSP must let the player reach A, and the page plays HTTP-FLV
// through mpegts.js, the path only external mode takes.
func TestLiveExternalMediaFLV(t *testing.T) {
	browser := testkit.Browser(t)
	ffmpegPath(t)
	media := testkit.StartNode(t, "", "-rtmp-addr", "127.0.0.1:0")
	streamCtx, stopStream := context.WithCancel(context.Background())
	defer stopStream()
	publish(t, streamCtx, media, "demo-stream-key")
	testkit.WaitFor(t, "the media server has the stream", 20*time.Second, func() bool {
		resp, err := http.Get(media.URL() + "/media/live/demo/index.m3u8")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	shop := testkit.StartNode(t, "", "-media", "external", "-media-hook-secret", "hook-secret",
		"-media-flv-url", media.URL()+"/media/live/{slug}.flv",
		"-media-hls-url", media.URL()+"/media/live/{slug}/index.m3u8")
	hook := `{"action":"on_publish","client_id":"e2e","ip":"127.0.0.1","vhost":"__defaultVhost__","app":"live",` +
		`"tcUrl":"rtmp://127.0.0.1/live","stream":"demo","param":"?key=demo-stream-key"}`
	resp, err := http.Post(shop.URL()+"/api/v1/media/hooks/on_publish?secret=hook-secret", "application/json", strings.NewReader(hook))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("on_publish: %d", resp.StatusCode)
	}

	viewer := testkit.NewContext(t, browser, 90*time.Second)
	run(t, viewer, "open room", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), chromedp.Navigate(url(shop, "/live/demo")))
	poll(t, viewer, "live video plays through HTTP-FLV from the media origin", `(() => { const v = document.querySelector("#video");
	  return typeof window.mpegts === "object" && typeof window.Hls !== "function" && v.src.startsWith("blob:") &&
	    v.currentTime > 1 && !v.classList.contains("hidden"); })()`) // mpegts.js through MSE: neither hls.js nor native HLS
	poll(t, viewer, "the page's bundle ran", `window.SL && document.querySelector("#comment-input")`)
}
