package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpproto "github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/testkit"
)

// Phone profile of the first-frame measurement (issue 15 item 4): a shared
// link opened on a mid-range phone on 4G.
const (
	phoneDownBps  = 9_000_000 // 9 Mbit/s down
	phoneUpBps    = 1_500_000
	phoneRTTms    = 150 // added to every request until its response headers
	phoneCPUSlow  = 4   // Emulation.setCPUThrottlingRate
	firstFrameMax = 1500 * time.Millisecond
)

// firstFrameProbe marks, in the page's own clock (ms since the navigation
// started, i.e. the tap on the link), when the video element shows its first
// frame (requestVideoFrameCallback; "playing" as a fallback).
const firstFrameProbe = `(() => {
  const ff = window.__ff = {};
  const mark = (k) => { if (!(k in ff)) ff[k] = performance.now(); };
  try { new PerformanceObserver((l) => { (window.__lt = window.__lt || []).push(...l.getEntries()); }).observe({ type: "longtask", buffered: true }); } catch (e) {}
  // The stream's own steps, marked for the waterfall (a streaming response
  // never gets a resource timing entry): its request and headers, the
  // player attaching MediaSource, the first bytes appended to it.
  const pm = (n) => performance.mark(n);
  const of = window.fetch;
  if (of) window.fetch = function (u) {
    const p = of.apply(this, arguments), m = /\.(mp4|flv)(\?|$)/.exec(String(u && u.url || u));
    if (m) { pm(m[1] + " request"); p.then(() => pm(m[1] + " headers"), () => {}); }
    return p;
  };
  const ou = URL.createObjectURL;
  URL.createObjectURL = function (o) { if (window.MediaSource && o instanceof MediaSource) pm("mse attach"); return ou.apply(this, arguments); };
  if (window.MediaSource) {
    const asb = MediaSource.prototype.addSourceBuffer;
    MediaSource.prototype.addSourceBuffer = function () {
      const sb = asb.apply(this, arguments), ap = sb.appendBuffer;
      let first = true;
      sb.appendBuffer = function () { if (first) { first = false; pm("mse first append"); } return ap.apply(this, arguments); };
      return sb;
    };
  }
  document.addEventListener("DOMContentLoaded", () => {
    mark("dcl");
    const v = document.getElementById("video");
    if (!v) return;
    v.addEventListener("loadeddata", () => mark("loadeddata"));
    v.addEventListener("playing", () => mark("playing"));
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(() => mark("frame"));
  });
})();`

// firstFrameResult is one tap: times in ms since navigation start, and the
// bytes the page moved before its first frame (media requests excluded).
type firstFrameResult struct {
	DOMContentLoadedMs float64 `json:"dcl_ms"`
	LoadedDataMs       float64 `json:"loadeddata_ms"`
	PlayingMs          float64 `json:"playing_ms"`
	FirstFrameMs       float64 `json:"first_frame_ms"`
	PageKB             float64 `json:"page_kb_before_video"`
	Player             string  `json:"player"` // mp4 (live_mse.js), flv (mpegts.js), hls or native
	// Waterfall is each request before the first frame: path start→end (ms).
	Waterfall []string `json:"waterfall"`
	// MainThread is Chrome's time totals on the page's main thread (script,
	// style, layout, all tasks) a moment after the first frame.
	MainThread []string `json:"main_thread"`
}

// TestTapToFirstVideoFrame measures tap-to-first-video-frame on the viewer
// page of a live room: ffmpeg publishes to the node's RTMP ingest, and a
// headless chromium at 390×844 with the phone profile above (network
// throttled by rule, CPU slowed 4×, cache off, as a first visit) opens
// /live/demo. It fails when no frame shows within 30 s; the figure against
// the 1.5 s target is logged (per run and median of $SHELFLIVE_FIRSTFRAME_RUNS,
// default 1) and recorded in docs/BENCHMARKS.md, since on a shared 2-core box
// the encoder and the throttled renderer compete with everything else.
func TestTapToFirstVideoFrame(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "", "-rtmp-addr", "127.0.0.1:0")
	ffmpegPath(t)
	streamCtx, stopStream := context.WithCancel(context.Background())
	defer stopStream()
	publishVideo(t, streamCtx, m, "demo-stream-key", "540x960", 25) // a phone camera's portrait stream
	owner := testkit.Owner(m)
	var room struct {
		Playback struct {
			OnAir bool `json:"on_air"`
		} `json:"playback"`
	}
	testkit.WaitFor(t, "stream on air", 30*time.Second, func() bool {
		owner.Do(t, "GET", "/api/v1/rooms/demo", nil, &room)
		return room.Playback.OnAir
	})
	time.Sleep(3 * time.Second) // a viewer arrives at a live already running: a few GOPs in

	runs := 1
	if n, err := strconv.Atoi(os.Getenv("SHELFLIVE_FIRSTFRAME_RUNS")); err == nil && n > 0 {
		runs = n
	}
	var firsts []float64
	for i := 0; i < runs; i++ {
		r := tapToFirstFrame(t, browser, url(m, "/live/demo"), i == 0)
		b, _ := json.Marshal(r)
		t.Logf("run %d: %s", i+1, b)
		firsts = append(firsts, r.FirstFrameMs)
	}
	slices.Sort(firsts)
	med := firsts[len(firsts)/2]
	if len(firsts)%2 == 0 {
		med = (firsts[len(firsts)/2-1] + firsts[len(firsts)/2]) / 2
	}
	verdict := "within"
	if time.Duration(med*float64(time.Millisecond)) > firstFrameMax {
		verdict = "OVER"
	}
	t.Logf("tap to first video frame: median %.0f ms of %d runs %v (%s the %v target; 9 Mbit/s, %d ms RTT, %d× CPU)",
		med, runs, firsts, verdict, firstFrameMax, phoneRTTms, phoneCPUSlow)
}

// tapToFirstFrame opens pageURL in a fresh throttled tab and measures it;
// with shot, it saves a screenshot of the page once the video plays.
func tapToFirstFrame(t *testing.T, browser context.Context, pageURL string, shot bool) firstFrameResult {
	t.Helper()
	// Each tap gets its own tab, closed when it is measured: a tab left open
	// keeps playing the live and slows every later tap (the taps of one run
	// used to get slower one after the other).
	tab, closeTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer closeTab()
	if err := chromedp.Do(tab); err != nil { // opens the tab (without a timeout, which would close it)
		t.Fatal(err)
	}
	tab, cancel := context.WithTimeout(tab, 90*time.Second)
	defer cancel()
	cdp := func(what string, err error) {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := chromedp.Call(tab, network.Enable, network.EnableParams{})
	cdp("network", err)
	_, err = chromedp.Call(tab, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
	cdp("cache", err)
	_, err = chromedp.Call(tab, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Latency: phoneRTTms, DownloadThroughput: phoneDownBps / 8, UploadThroughput: phoneUpBps / 8}},
	})
	cdp("throttle network", err)
	_, err = chromedp.Call(tab, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: phoneCPUSlow})
	cdp("throttle CPU", err)
	_, err = chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: firstFrameProbe})
	cdp("probe", err)
	_, err = chromedp.Call(tab, performance.Enable, performance.EnableParams{})
	cdp("performance metrics", err)
	run(t, tab, "tap the shared link", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile), chromedp.Navigate(pageURL))
	if _, err := chromedp.Run(tab, chromedp.Poll[chromedp.Void](`window.__ff && (window.__ff.frame || window.__ff.playing)`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		testkit.Screenshot(t, tab, "failed-first-frame")
		t.Fatalf("no video frame within 30 s: %v", err)
	}
	raw, err := chromedp.Run(tab, chromedp.Evaluate[string](`(() => {
	  const ff = window.__ff, first = ff.frame || ff.playing;
	  const media = (n) => /\/media\/|\.flv|\.m3u8|\.ts(\?|$)/.test(n);
	  let bytes = 0;
	  for (const e of performance.getEntriesByType("navigation")) bytes += e.transferSize;
	  for (const e of performance.getEntriesByType("resource")) if (e.startTime <= first && !media(e.name)) bytes += e.transferSize;
	  const waterfall = performance.getEntriesByType("resource").filter((e) => e.startTime <= first)
	    .map((e) => e.name.replace(/^https?:\/\/[^/]+/, "").replace(/\?.*/, "") + " " + Math.round(e.startTime) + "→" + Math.round(e.responseEnd));
	  for (const e of performance.getEntriesByType("mark")) waterfall.push(e.name + " " + Math.round(e.startTime));
	  for (const e of performance.getEntriesByType("paint")) waterfall.push(e.name + " " + Math.round(e.startTime));
	  for (const e of (window.__lt || [])) waterfall.push("longtask " + Math.round(e.startTime) + "+" + Math.round(e.duration));
	  const nav = performance.getEntriesByType("navigation")[0];
	  if (nav) waterfall.push("html " + Math.round(nav.requestStart) + "→" + Math.round(nav.responseEnd) + " interactive " + Math.round(nav.domInteractive));
	  return JSON.stringify({waterfall, dcl_ms: ff.dcl || 0, loadeddata_ms: ff.loadeddata || 0, playing_ms: ff.playing || 0, first_frame_ms: first,
	    page_kb_before_video: Math.round(bytes / 102.4) / 10,
	    player: window.Hls ? "hls" : window.mpegts ? "flv" : window.SLPlayer && SLPlayer.kind === "mse" ? "mp4" : "native"});
	})()`))
	cdp("read the probe", err)
	var r firstFrameResult
	cdp("decode", json.Unmarshal([]byte(raw), &r))
	// The page's own player (no mpegts.js, no hls.js) played the fMP4
	// stream the head asked for (one request, made before the player
	// started), and the page's own bundle ran after it. The player's own
	// request would come after it attached MediaSource; the head's comes
	// before, so a broken head script fails here.
	var mp4Requests, flvRequests int
	requestAt, attachAt := -1.0, -1.0
	for _, w := range r.Waterfall {
		if at, ok := strings.CutPrefix(w, "mp4 request "); ok {
			mp4Requests++
			requestAt, _ = strconv.ParseFloat(at, 64)
		}
		if strings.HasPrefix(w, "flv request ") {
			flvRequests++
		}
		if at, ok := strings.CutPrefix(w, "mse attach "); ok {
			attachAt, _ = strconv.ParseFloat(at, 64)
		}
	}
	if mp4Requests != 1 || flvRequests != 0 || requestAt < 0 || attachAt < 0 || requestAt > attachAt {
		t.Errorf("stream requested %d times as .mp4, %d as .flv (at %v ms, player attached at %v ms), want once as .mp4, by the head before the player: %v",
			mp4Requests, flvRequests, requestAt, attachAt, r.Waterfall)
	}
	if r.Player != "mp4" {
		t.Errorf("first frame from player %q, want the page's own fMP4 player", r.Player)
	}
	if _, err := chromedp.Run(tab, chromedp.Poll[chromedp.Void](`window.SL && document.querySelector("#chat li, #pinned .card, #comment-input")`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Errorf("the page's bundle did not run after the first frame: %v", err)
	}
	// Where the renderer's main thread went by then (Chrome's own totals, ms).
	metrics, err := chromedp.Call(tab, performance.GetMetrics, cdpproto.Empty{})
	cdp("performance metrics", err)
	for _, m := range metrics.Metrics {
		switch m.Name {
		case "ScriptDuration", "RecalcStyleDuration", "LayoutDuration", "TaskDuration", "TaskOtherDuration":
			r.MainThread = append(r.MainThread, fmt.Sprintf("%s %.0f", strings.TrimSuffix(m.Name, "Duration"), m.Value*1000))
		}
	}
	if shot {
		if _, err := chromedp.Run(tab, chromedp.Poll[chromedp.Void](`document.querySelector("#video").currentTime > 1`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			t.Errorf("the live video did not keep playing: %v", err)
		}
		testkit.Screenshot(t, tab, "firstframe-live-390x844")
	}
	return r
}
