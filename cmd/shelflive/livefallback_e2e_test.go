package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestLiveFallsBackToHLS: when the fragmented-MP4 stream cannot be had (a
// proxy that refuses it, here chromium blocking the URL), the live page
// still plays, over HLS, and runs its own bundle.
func TestLiveFallsBackToHLS(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "", "-rtmp-addr", "127.0.0.1:0")
	ffmpegPath(t)
	streamCtx, stopStream := context.WithCancel(context.Background())
	defer stopStream()
	publish(t, streamCtx, m, "demo-stream-key")
	owner := testkit.Owner(m)
	var room struct {
		Playback struct {
			OnAir bool   `json:"on_air"`
			MP4   string `json:"mp4"`
		} `json:"playback"`
	}
	testkit.WaitFor(t, "stream on air", 20*time.Second, func() bool {
		owner.Do(t, "GET", "/api/v1/rooms/demo", nil, &room)
		return room.Playback.OnAir
	})
	if room.Playback.MP4 != "/media/live/demo.mp4" {
		t.Fatalf("playback.mp4 = %q", room.Playback.MP4)
	}
	time.Sleep(3 * time.Second) // a few HLS segments

	viewer := testkit.NewContext(t, browser, 90*time.Second)
	_, err := chromedp.Call(viewer, network.Enable, network.EnableParams{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(viewer, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{{URLPattern: "*://*:*/media/live/*.mp4", Block: true}}}); err != nil {
		t.Fatal(err)
	}
	run(t, viewer, "open room", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), chromedp.Navigate(url(m, "/live/demo")))
	// This chromium plays HLS itself (canPlayType), as Safari does; others
	// load hls.js.
	poll(t, viewer, "live video plays through HLS", `(() => { const v = document.querySelector("#video");
	  return (typeof window.Hls === "function" || /\/index\.m3u8$/.test(v.src)) && v.currentTime > 1 && !v.classList.contains("hidden"); })()`)
	poll(t, viewer, "the page's bundle ran", `window.SL && document.querySelector("#comment-input")`)
}
