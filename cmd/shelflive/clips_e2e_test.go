package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/testkit"
	"github.com/shelflive/shelflive/internal/video"
)

type clipJSON struct {
	ID         int64     `json:"id"`
	ProductID  int64     `json:"product_id"`
	PinnedAt   time.Time `json:"pinned_at"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Title      string    `json:"title"`
	Hidden     bool      `json:"hidden"`
	Status     string    `json:"status"`
	DurationMS int64     `json:"duration_ms"`
	VideoCodec string    `json:"video_codec"`
	Width      int       `json:"width"`
	AudioCodec string    `json:"audio_codec"`
	Error      string    `json:"error"`
}

// TestProductClips publishes a test card with a 1 s GOP to the node's RTMP
// ingest, pins two products one after the other and takes the card down,
// then ends the live. Two clips are cut, one per pin: each lasts its pin
// span (3 s before the pin to the next pin or unpin) within one GOP, as
// ffprobe reads the stored MP4, and has the source's codec parameters (no
// re-encode). Staff retitle one and hide the other; viewers see only the
// first, on the replay, the product page and its own page, where a phone
// (390×844) taps buy and pays through the room's normal buy sheet.
func TestProductClips(t *testing.T) {
	ffprobeBin := needTool(t, "ffprobe")
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "", "-rtmp-addr", "127.0.0.1:0")
	owner := testkit.Owner(m)
	if st := owner.Do(t, "DELETE", "/api/v1/rooms/demo/pin", nil, nil); st != 204 {
		t.Fatalf("unpin the seed's card: %d", st)
	}
	streamCtx, stopStream := context.WithCancel(context.Background())
	defer stopStream()
	publishVideo(t, streamCtx, m, "demo-stream-key", "640x360", 25) // -g 25: one keyframe a second
	const gop = time.Second
	var room struct {
		Playback struct {
			OnAir bool `json:"on_air"`
		} `json:"playback"`
	}
	testkit.WaitFor(t, "stream on air", 20*time.Second, func() bool {
		owner.Do(t, "GET", "/api/v1/rooms/demo", nil, &room)
		return room.Playback.OnAir
	})
	liveHLS := url(m, video.LiveHLSURL("demo"))
	// the first pin's span starts 3 s before it: record that much first
	firstFrame := time.Now()
	testkit.WaitFor(t, "4 s recorded", 60*time.Second, func() bool {
		return recordedSeconds(liveHLS) >= 4
	})
	pin := func(productID int64) time.Time {
		t.Helper()
		at := time.Now()
		if productID == 0 {
			if st := owner.Do(t, "DELETE", "/api/v1/rooms/demo/pin", nil, nil); st != 204 {
				t.Fatalf("unpin: %d", st)
			}
		} else if st := owner.Do(t, "POST", "/api/v1/rooms/demo/pin", map[string]int64{"product_id": productID}, nil); st != 200 {
			t.Fatalf("pin %d: %d", productID, st)
		}
		return at
	}
	pin(1) // strawberries
	time.Sleep(5 * time.Second)
	pin(2) // milk
	time.Sleep(4 * time.Second)
	unpinned := pin(0)
	testkit.WaitFor(t, "recording past the unpin", 60*time.Second, func() bool {
		end, ok := liveRecordedUntil(liveHLS)
		return ok && end.After(unpinned.Add(1500*time.Millisecond))
	})
	stopStream()
	testkit.WaitFor(t, "stream off air", 20*time.Second, func() bool {
		owner.Do(t, "GET", "/api/v1/rooms/demo", nil, &room)
		return !room.Playback.OnAir
	})
	if st := owner.Do(t, "POST", "/api/v1/rooms/demo/status", map[string]string{"status": "ended"}, nil); st != 200 {
		t.Fatalf("end room: %d", st)
	}

	// Two clips, cut after the end by the leader's cutter.
	var ours []clipJSON
	testkit.WaitFor(t, "two clips ready", 90*time.Second, func() bool {
		var list struct {
			Clips []clipJSON `json:"clips"`
		}
		owner.Do(t, "GET", "/api/v1/rooms/demo/clips", nil, &list)
		ours = nil
		for _, c := range list.Clips {
			if c.PinnedAt.After(firstFrame) && c.Status == "ready" {
				ours = append(ours, c)
			}
			if c.Status == "failed" && c.PinnedAt.After(firstFrame) {
				t.Fatalf("clip failed: %+v", c)
			}
		}
		return len(ours) == 2
	})
	if ours[0].ProductID != 1 || ours[1].ProductID != 2 || !ours[0].To.Equal(ours[1].PinnedAt) {
		t.Fatalf("clips %+v", ours)
	}
	source := testkit.StreamParams(t, ffprobeBin, downloadFirstReplaySegment(t, m))
	for _, c := range ours {
		span := c.To.Sub(c.From)
		if want := c.PinnedAt.Add(-3 * time.Second); !c.From.Equal(want) {
			t.Fatalf("clip %d starts its span at %v, want 3 s before the pin %v", c.ID, c.From, c.PinnedAt)
		}
		file := filepath.Join(t.TempDir(), "clip.mp4")
		download(t, url(m, "/clips/"+strconv.FormatInt(c.ID, 10)+"/video.mp4"), file)
		dur := probeDuration(t, ffprobeBin, file)
		t.Logf("clip %d (product %d): span %v, ffprobe %v, stored %d ms", c.ID, c.ProductID, span, dur, c.DurationMS)
		if dur < span-100*time.Millisecond || dur > span+gop+100*time.Millisecond {
			t.Fatalf("clip %d lasts %v; its pin span is %v (it may start up to one GOP early, at the keyframe)", c.ID, dur, span)
		}
		if d := time.Duration(c.DurationMS) * time.Millisecond; d < dur-50*time.Millisecond || d > dur+50*time.Millisecond {
			t.Fatalf("clip %d: stored duration %v, file %v", c.ID, d, dur)
		}
		if got := testkit.StreamParams(t, ffprobeBin, file); got != source {
			t.Fatalf("clip %d was re-encoded or remuxed wrong:\nsource %s\nclip   %s", c.ID, source, got)
		}
		if c.VideoCodec != "h264" || c.AudioCodec != "aac" || c.Width != 640 {
			t.Fatalf("clip %d media %+v", c.ID, c)
		}
	}

	// Staff retitle the strawberries' clip and hide the milk's.
	strawberry, milk := ours[0], ours[1]
	var changed clipJSON
	if st := owner.Do(t, "PATCH", "/api/v1/clips/"+strconv.FormatInt(strawberry.ID, 10), map[string]any{"title": "草莓怎么挑"}, &changed); st != 200 || changed.Title != "草莓怎么挑" {
		t.Fatalf("retitle: %d %+v", st, changed)
	}
	if st := owner.Do(t, "PATCH", "/api/v1/clips/"+strconv.FormatInt(milk.ID, 10), map[string]any{"hidden": true}, &changed); st != 200 || !changed.Hidden {
		t.Fatalf("hide: %d %+v", st, changed)
	}
	anon := &testkit.Client{Base: m.URL(), HTTP: http.DefaultClient}
	if st := anon.Do(t, "GET", "/api/v1/clips/"+strconv.FormatInt(milk.ID, 10), nil, nil); st != 404 {
		t.Fatalf("hidden clip answers %d to the public", st)
	}
	if resp, err := http.Get(url(m, "/clips/"+strconv.FormatInt(milk.ID, 10)+"/video.mp4")); err != nil || resp.StatusCode != 404 {
		t.Fatalf("hidden clip's video: %v %v", err, resp.StatusCode)
	}
	var state struct {
		ClipPages []struct {
			ID    int64  `json:"id"`
			Title string `json:"title"`
		} `json:"clip_pages"`
	}
	anon.Do(t, "GET", "/api/v1/rooms/demo", nil, &state)
	if len(state.ClipPages) != 1 || state.ClipPages[0].ID != strawberry.ID || state.ClipPages[0].Title != "草莓怎么挑" {
		t.Fatalf("the replay lists %+v", state.ClipPages)
	}

	// A phone opens the clip, watches it and buys through the room.
	viewer := testkit.NewContext(t, browser, 120*time.Second)
	clipPage := "/clips/" + strconv.FormatInt(strawberry.ID, 10)
	run(t, viewer, "open clip", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(url(m, clipPage)), chromedp.WaitVisible(chromedp.CSS("#clip-buy")))
	poll(t, viewer, "clip video loaded", `document.querySelector("#clip-video").readyState >= 1 && document.querySelector("#clip-video").duration > 5`)
	run(t, viewer, "play", chromedp.Evaluate[chromedp.Void](`document.querySelector("#clip-video").muted = true; document.querySelector("#clip-video").play()`))
	poll(t, viewer, "clip plays", `document.querySelector("#clip-video").currentTime > 0.5`)
	if got := text(t, viewer, "#clip-product-name"); got != "丹东99草莓" {
		t.Fatalf("clip page's product %q", got)
	}
	og, err := chromedp.Run(viewer, chromedp.Evaluate[string](`[...document.querySelectorAll('meta[property^="og:"]')].map(m => m.getAttribute("property") + "=" + m.content).join("\n")`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"og:type=video.other", "og:video=" + m.URL() + clipPage + "/video.mp4", "og:title=草莓怎么挑"} {
		if !strings.Contains(og, want) {
			t.Fatalf("clip page's share card lacks %q:\n%s", want, og)
		}
	}
	testkit.Screenshot(t, viewer, "40-clip-page")
	run(t, viewer, "buy from the clip", chromedp.Click(chromedp.CSS("#clip-buy")), chromedp.WaitVisible(chromedp.CSS("#login-phone")))
	run(t, viewer, "log in", chromedp.SendKeys(chromedp.CSS("#login-phone"), "13912340040"), chromedp.Click(chromedp.CSS("#otp-send")), chromedp.WaitVisible(chromedp.CSS("#otp-dev")))
	devText := text(t, viewer, "#otp-dev")
	run(t, viewer, "verify", chromedp.SendKeys(chromedp.CSS("#login-code"), devText[len(devText)-6:]), chromedp.Click(chromedp.CSS("#login-go")),
		chromedp.WaitVisible(chromedp.CSS("#store-list li.on")), chromedp.WaitEnabled(chromedp.CSS("#confirm-order")), chromedp.Sleep(400*time.Millisecond))
	testkit.Screenshot(t, viewer, "41-clip-buy-sheet")
	run(t, viewer, "order", chromedp.Click(chromedp.CSS("#confirm-order")), chromedp.WaitVisible(chromedp.CSS("#confirm-pay")))
	run(t, viewer, "pay", chromedp.Click(chromedp.CSS("#confirm-pay")), chromedp.WaitVisible(chromedp.CSS("#pickup-code")))
	testkit.Screenshot(t, viewer, "42-clip-order-paid")
	var orders struct {
		Orders []struct {
			Status string `json:"status"`
			RoomID int64  `json:"room_id"`
			Lines  []struct {
				ProductID int64 `json:"product_id"`
			} `json:"lines"`
		} `json:"orders"`
	}
	owner.Do(t, "GET", "/api/v1/orders", nil, &orders)
	if len(orders.Orders) != 1 || orders.Orders[0].Status != "paid" || orders.Orders[0].RoomID == 0 || orders.Orders[0].Lines[0].ProductID != 1 {
		t.Fatalf("order from the clip %+v", orders.Orders)
	}

	// The replay and the product page list the clip.
	run(t, viewer, "replay lists the clip", chromedp.Navigate(url(m, "/live/demo")), chromedp.WaitVisible(chromedp.CSS(`#clip-strip a[data-clip-page="`+strconv.FormatInt(strawberry.ID, 10)+`"]`)))
	testkit.Screenshot(t, viewer, "43-replay-clip-strip")
	run(t, viewer, "product page lists the clip", chromedp.Navigate(url(m, "/live/demo/products/1")), chromedp.WaitVisible(chromedp.CSS(`#product-clips a[href="`+clipPage+`"]`)))
	testkit.Screenshot(t, viewer, "44-product-clips")
}

// recordedSeconds sums the live playlist's segment durations.
func recordedSeconds(playlist string) float64 {
	resp, err := http.Get(playlist)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "#EXTINF:"); ok {
			d, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), ","), 64)
			sum += d
		}
	}
	return sum
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (CI=true: video tests must run)", name)
		}
		t.Skip(name + " not installed")
	}
	return p
}

func download(t *testing.T, from, to string) {
	t.Helper()
	resp, err := http.Get(from)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", from, resp.StatusCode)
	}
	f, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
}

// downloadFirstReplaySegment saves the room replay's first segment: the
// recording as the publisher sent it.
func downloadFirstReplaySegment(t *testing.T, m *node.Main) string {
	t.Helper()
	resp, err := http.Get(url(m, video.ReplayURL("demo")))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range strings.Split(string(b), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			file := filepath.Join(t.TempDir(), "seg.ts")
			download(t, url(m, "/media/replay/demo/"+line), file)
			return file
		}
	}
	t.Fatalf("replay playlist has no segment:\n%s", b)
	return ""
}

func probeDuration(t *testing.T, ffprobeBin, file string) time.Duration {
	t.Helper()
	out, err := exec.Command(ffprobeBin, "-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	s, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q", out)
	}
	return time.Duration(s * float64(time.Second))
}
