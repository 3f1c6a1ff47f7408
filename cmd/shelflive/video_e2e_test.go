package main

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/testkit"
)

func ffmpegPath(t *testing.T) string {
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ffmpeg is not installed (CI=true: video tests must run; .ci/run installs it)")
		}
		t.Skip("ffmpeg not installed")
	}
	return p
}

// publish streams a synthetic test card with a tone to the room's key until ctx ends.
func publish(t *testing.T, ctx context.Context, m *node.Main, key string) {
	t.Helper()
	publishVideo(t, ctx, m, key, "640x360", 25)
}

// publishVideo streams a test pattern of the given size and frame rate;
// a small, slow one keeps up on a busy 2-core machine (another ffmpeg may
// be encoding at the same time).
func publishVideo(t *testing.T, ctx context.Context, m *node.Main, key, size string, rate int) {
	t.Helper()
	r := strconv.Itoa(rate)
	cmd := exec.CommandContext(ctx, ffmpegPath(t), "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc=size="+size+":rate="+r, "-f", "lavfi", "-i", "sine=frequency=440",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", r, "-pix_fmt", "yuv420p", "-threads", "1",
		"-c:a", "aac", "-f", "flv", "rtmp://"+m.Video.Addr().String()+"/live/"+key)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
}

// TestViewerWatchesLiveAndReplay publishes with ffmpeg to the embedded RTMP
// ingest: the viewer page's video plays; the host pins a card mid-stream;
// after the live ends the replay's "watch the explanation" jump lands within
// ±2 s of the pin.
func TestViewerWatchesLiveAndReplay(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "", "-rtmp-addr", "127.0.0.1:0")
	ffmpegPath(t)
	streamCtx, stopStream := context.WithCancel(context.Background())
	defer stopStream()
	publish(t, streamCtx, m, "demo-stream-key")

	owner := testkit.Owner(m)
	var room struct {
		Playback struct {
			OnAir bool `json:"on_air"`
		} `json:"playback"`
	}
	testkit.WaitFor(t, "stream on air", 20*time.Second, func() bool {
		owner.Do(t, "GET", "/api/v1/rooms/demo", nil, &room)
		return room.Playback.OnAir
	})

	viewer := testkit.NewContext(t, browser, 90*time.Second)
	run(t, viewer, "open room", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), chromedp.Navigate(url(m, "/live/demo")))
	poll(t, viewer, "live video plays", `document.querySelector("#video").currentTime > 1.5`)
	testkit.Screenshot(t, viewer, "11-live-video")

	// The host explains the milk 3 s into the stream (wall clock is what counts).
	time.Sleep(3 * time.Second)
	pinnedAt := time.Now()
	if st := owner.Do(t, "POST", "/api/v1/rooms/demo/pin", map[string]int{"product_id": 2}, nil); st != 200 {
		t.Fatalf("pin: %d", st)
	}
	time.Sleep(4 * time.Second)
	stopStream()
	testkit.WaitFor(t, "stream off air", 20*time.Second, func() bool {
		owner.Do(t, "GET", "/api/v1/rooms/demo", nil, &room)
		return !room.Playback.OnAir
	})
	if st := owner.Do(t, "POST", "/api/v1/rooms/demo/status", map[string]string{"status": "ended"}, nil); st != 200 {
		t.Fatalf("end room: %d", st)
	}
	var ended struct {
		Playback struct {
			Replay string `json:"replay"`
		} `json:"playback"`
		Clips []struct {
			ProductID int64   `json:"product_id"`
			OffsetS   float64 `json:"offset_s"`
		} `json:"clips"`
	}
	owner.Do(t, "GET", "/api/v1/rooms/demo", nil, &ended)
	if ended.Playback.Replay == "" || len(ended.Clips) == 0 {
		t.Fatalf("ended room has no replay/clips: %+v", ended)
	}
	var clip float64 = -1
	for _, c := range ended.Clips {
		if c.ProductID == 2 {
			clip = c.OffsetS
		}
	}
	if clip < 0 {
		t.Fatalf("no clip for the pinned milk: %+v", ended.Clips)
	}
	t.Logf("pinned %s after stream start; replay offset %.2fs", pinnedAt.Format(time.RFC3339Nano), clip)

	run(t, viewer, "open replay", chromedp.Navigate(url(m, "/live/demo")), chromedp.WaitVisible(chromedp.CSS("#clip-btn")))
	poll(t, viewer, "replay loaded", `document.querySelector("#video").readyState >= 1 && document.querySelector("#video").duration > 5`)
	run(t, viewer, "jump to the explanation", chromedp.Click(chromedp.CSS("#clip-btn")))
	poll(t, viewer, "seeked", `!document.querySelector("#video").seeking && document.querySelector("#video").currentTime > 0.5`)
	pos, err := chromedp.Run(viewer, chromedp.Evaluate[float64](`document.querySelector("#video").currentTime`))
	if err != nil {
		t.Fatal(err)
	}
	testkit.Screenshot(t, viewer, "12-replay-jump")
	if d := pos - clip; d < -2 || d > 2 {
		t.Fatalf("replay jumped to %.2fs, pin offset %.2fs: off by more than 2 s", pos, clip)
	}
	// the offset itself must match the pin's wall-clock time within the stream (±2 s)
	if clip < 1 || clip > 15 {
		t.Fatalf("clip offset %.2fs is not where the pin happened (~3–6 s in)", clip)
	}
}
