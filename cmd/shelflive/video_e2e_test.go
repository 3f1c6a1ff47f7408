package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/testkit"
	"github.com/shelflive/shelflive/internal/video"
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
	streamStart := time.Now()
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
	onAirSeen := time.Now() // the first frame was recorded before this

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
	// The replay maps wall clock to the recorded media time. A camera keeps
	// real time; the test encoder on a busy box falls behind it, so stream on
	// until the recording reaches past the pin (by the program date times of
	// the live playlist) before stopping.
	testkit.WaitFor(t, "recording past the pin", 60*time.Second, func() bool {
		end, ok := liveRecordedUntil(url(m, video.LiveHLSURL("demo")))
		return ok && end.After(pinnedAt.Add(2*time.Second))
	})
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
	// the offset itself is where the pin happened in the stream: the first
	// frame was recorded after ffmpeg started and before "on air" was seen.
	if lo, hi := pinnedAt.Sub(onAirSeen).Seconds()-1, pinnedAt.Sub(streamStart).Seconds()+1; clip < lo || clip > hi {
		t.Fatalf("clip offset %.2fs is not where the pin happened (between %.2fs and %.2fs in)", clip, lo, hi)
	}
}

// liveRecordedUntil reads a live HLS playlist: the program date time of the
// end of its newest segment.
func liveRecordedUntil(playlist string) (time.Time, bool) {
	resp, err := http.Get(playlist)
	if err != nil {
		return time.Time{}, false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var end time.Time
	var pdt time.Time
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"); ok {
			pdt, _ = time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
		} else if v, ok := strings.CutPrefix(line, "#EXTINF:"); ok && !pdt.IsZero() {
			if d, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), ","), 64); err == nil {
				end = pdt.Add(time.Duration(d * float64(time.Second)))
			}
		}
	}
	return end, !end.IsZero()
}
