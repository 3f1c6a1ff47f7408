package video_test

import (
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/video"
)

// TestLivePublishPlayRecord publishes 15 s with ffmpeg, plays HTTP-FLV and
// HLS with ffprobe (decoding frames), checks the FLV join sequence and the
// viewer count, then checks the recording as a VOD playlist, also after a
// restart on the same data directory.
func TestLivePublishPlayRecord(t *testing.T) {
	t.Parallel()
	needTool(t, "ffprobe")
	dir := t.TempDir()
	rooms := newTestRooms(map[string]string{"k-veg": "veg-room"})
	ts := startServer(t, dir, rooms)
	var recsAtStop []video.Recording
	rooms.mu.Lock()
	rooms.onStopped = func(slug string) { recsAtStop = ts.Recordings(slug) }
	rooms.mu.Unlock()
	pub := startPublisher(t, ts.rtmpURL("k-veg"), 15, false)
	waitFor(t, 20*time.Second, "room live", func() bool {
		return ts.Status("veg-room").Live && rooms.count("started:veg-room") == 1
	})
	st := ts.Status("veg-room")
	if st.VideoCodec != "H264" || st.AudioCodec != "AAC" || st.PublisherAddr == "" || st.Since.IsZero() {
		t.Fatalf("status = %+v", st)
	}

	flvURL := ts.HTTP.URL + video.FLVURL("veg-room")
	t.Run("FLVJoinSequence", func(t *testing.T) {
		resp, err := http.Get(flvURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/x-flv" {
			t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		fr, err := newFLVReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		var lastVideoTS uint32
		frames := 0
		for frames < 30 {
			tag, err := fr.next()
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tag.Type == 18:
				if !strings.Contains(string(tag.Body[:20]), "onMetaData") {
					t.Fatalf("script tag is not onMetaData: %q", tag.Body[:20])
				}
				kinds = append(kinds, "meta")
			case tag.Type == 9 && tag.Body[1] == 0:
				kinds = append(kinds, "avc-seq")
			case tag.Type == 8 && tag.Body[1] == 0:
				kinds = append(kinds, "aac-seq")
			case tag.Type == 9:
				if frames == 0 && !tag.Key {
					t.Fatalf("first video frame is not a keyframe (join must start at a keyframe)")
				}
				if frames > 0 && tag.TS < lastVideoTS {
					t.Fatalf("video timestamps go back: %d after %d", tag.TS, lastVideoTS)
				}
				lastVideoTS = tag.TS
				frames++
			}
		}
		if got := strings.Join(kinds, ","); got != "meta,avc-seq,aac-seq" {
			t.Fatalf("stream head = %s, want meta,avc-seq,aac-seq", got)
		}
		if n := ts.Status("veg-room").FLVViewers; n != 1 {
			t.Fatalf("FLVViewers = %d while one client reads, want 1", n)
		}
	})

	t.Run("FFprobeFLV", func(t *testing.T) {
		res := ffprobe(t, 30*time.Second, "-count_frames", "-read_intervals", "%+3",
			"-show_entries", "stream=codec_name,codec_type,width,height,nb_read_frames", flvURL)
		checkAV(t, res, 40)
	})

	hlsURL := ts.HTTP.URL + video.LiveHLSURL("veg-room")
	t.Run("FFprobeHLS", func(t *testing.T) {
		waitFor(t, 20*time.Second, "3 live segments", func() bool {
			code, body := httpGet(t, hlsURL)
			return code == 200 && strings.Count(body, "#EXTINF") >= 3
		})
		_, body := httpGet(t, hlsURL)
		for _, want := range []string{"#EXT-X-TARGETDURATION:1\n", "#EXT-X-PROGRAM-DATE-TIME:", ".ts\n"} {
			if !strings.Contains(body, want) {
				t.Fatalf("live playlist lacks %q:\n%s", want, body)
			}
		}
		if strings.Contains(body, "#EXT-X-ENDLIST") {
			t.Fatalf("live playlist must not end:\n%s", body)
		}
		res := ffprobe(t, 30*time.Second, "-count_frames", "-read_intervals", "%+2",
			"-show_entries", "stream=codec_name,codec_type,width,height,nb_read_frames", hlsURL)
		checkAV(t, res, 25)
		if ts.Status("veg-room").HLSViewers < 1 {
			t.Fatalf("HLS viewer not counted: %+v", ts.Status("veg-room"))
		}
	})

	waitFor(t, 10*time.Second, "incoming bitrate", func() bool { return ts.Status("veg-room").BitrateKbps > 50 })
	if ss := ts.Streams(); len(ss) != 1 || ss[0].Slug != "veg-room" || !ss[0].Live {
		t.Fatalf("Streams() = %+v", ss)
	}

	if err := pub.wait(t, 30*time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.out)
	}
	waitFor(t, 15*time.Second, "StreamStopped", func() bool { return rooms.count("stopped:veg-room") == 1 })
	if ts.Status("veg-room").Live {
		t.Fatal("still live after the publisher ended")
	}
	if code, _ := httpGet(t, flvURL); code != http.StatusNotFound {
		t.Fatalf("FLV after stop: %d, want 404", code)
	}

	recs := ts.Recordings("veg-room")
	if len(recs) != 1 {
		t.Fatalf("recordings = %+v", recs)
	}
	rec := recs[0]
	if rec.InProgress || rec.Duration < 13*time.Second || rec.Duration > 16*time.Second || rec.Offset != 0 {
		t.Fatalf("recording = %+v, want ~15 s, ended", rec)
	}
	// the live domain, told of the stop, already sees the whole recording
	if len(recsAtStop) != 1 || recsAtStop[0].InProgress || recsAtStop[0].Duration != rec.Duration {
		t.Fatalf("Recordings() inside StreamStopped = %+v, later %+v", recsAtStop, rec)
	}
	if d := rec.StartedAt.Sub(st.Since); d < 0 || d > 3*time.Second {
		t.Fatalf("recording StartedAt %v vs publish %v", rec.StartedAt, st.Since)
	}
	replayURL := ts.HTTP.URL + rec.ReplayURL
	_, body := httpGet(t, replayURL)
	for _, want := range []string{"#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-ENDLIST", "#EXT-X-PROGRAM-DATE-TIME:" + rec.StartedAt.Format("2006-01-02T15:04:05")} {
		if !strings.Contains(body, want) {
			t.Fatalf("replay playlist lacks %q:\n%s", want, body)
		}
	}
	res := ffprobe(t, 60*time.Second, "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,nb_read_frames:format=duration", replayURL)
	if got := probeDuration(t, res); math.Abs(got-rec.Duration.Seconds()) > 1 {
		t.Fatalf("replay duration %.2f s, recording says %v", got, rec.Duration)
	}
	if n := atoi(res.Streams[0].NbReadFrames); math.Abs(float64(n)-rec.Duration.Seconds()*25) > 25 {
		t.Fatalf("replay decoded %d frames, want ~%.0f", n, rec.Duration.Seconds()*25)
	}
	if code, _ := httpGet(t, ts.HTTP.URL+rec.PlaylistURL); code != 200 {
		t.Fatalf("recording playlist: %d", code)
	}

	// restart on the same data directory: the recording is still there.
	ts.stop()
	ts2 := startServer(t, dir, rooms)
	recs2 := ts2.Recordings("veg-room")
	if len(recs2) != 1 || recs2[0].ID != rec.ID || recs2[0].Duration != rec.Duration || !recs2[0].StartedAt.Equal(rec.StartedAt) {
		t.Fatalf("after restart recordings = %+v, want %+v", recs2, rec)
	}
	if code, body := httpGet(t, ts2.HTTP.URL+rec.ReplayURL); code != 200 || !strings.Contains(body, "#EXT-X-ENDLIST") {
		t.Fatalf("replay after restart: %d\n%s", code, body)
	}
}

// TestRefusals: an unknown key and a second publisher for a live room are
// refused at the RTMP publish command; the first publisher keeps the room.
func TestRefusals(t *testing.T) {
	t.Parallel()
	rooms := newTestRooms(map[string]string{"k-fruit": "fruit"})
	ts := startServer(t, t.TempDir(), rooms)

	bad := startPublisher(t, ts.rtmpURL("rotated-key"), 5, false)
	if err := bad.wait(t, 20*time.Second); err == nil {
		t.Fatalf("publisher with a wrong key was accepted:\n%s", bad.out)
	}
	if rooms.count("refused:rotated-key") != 1 || rooms.count("started:fruit") != 0 {
		t.Fatalf("events = %v", rooms.log())
	}

	first := startPublisher(t, ts.rtmpURL("k-fruit"), 15, false)
	waitFor(t, 20*time.Second, "first publisher live", func() bool { return rooms.count("started:fruit") == 1 })
	addr := ts.Status("fruit").PublisherAddr

	second := startPublisher(t, ts.rtmpURL("k-fruit"), 5, false)
	if err := second.wait(t, 20*time.Second); err == nil {
		t.Fatalf("second publisher for a live room was accepted:\n%s", second.out)
	}
	st := ts.Status("fruit")
	if !st.Live || st.PublisherAddr != addr || rooms.count("started:fruit") != 1 || rooms.count("stopped:fruit") != 0 {
		t.Fatalf("first publisher lost the room: %+v events=%v", st, rooms.log())
	}
	select {
	case <-first.done:
		t.Fatalf("first publisher ended: %v\n%s", first.err, first.out)
	default:
	}
}

// TestDropAndReconnect kills the publisher (network drop), checks that the
// room is told and that the live HLS playlist survives, then reconnects
// with the same key: the live playlist continues after a discontinuity and
// the replay chains both recordings.
func TestDropAndReconnect(t *testing.T) {
	t.Parallel()
	needTool(t, "ffprobe")
	rooms := newTestRooms(map[string]string{"k-bakery": "bakery"})
	ts := startServer(t, t.TempDir(), rooms)
	hlsURL := ts.HTTP.URL + video.LiveHLSURL("bakery")

	first := startPublisher(t, ts.rtmpURL("k-bakery"), 60, false)
	waitFor(t, 25*time.Second, "2 live segments", func() bool {
		code, body := httpGet(t, hlsURL)
		return code == 200 && strings.Count(body, "#EXTINF") >= 2
	})
	first.kill()
	waitFor(t, 15*time.Second, "StreamStopped after drop", func() bool { return rooms.count("stopped:bakery") == 1 })
	if ts.Status("bakery").Live {
		t.Fatal("still live after drop")
	}
	if code, _ := httpGet(t, hlsURL); code != 200 {
		t.Fatalf("live playlist gone during reconnect window: %d", code)
	}

	second := startPublisher(t, ts.rtmpURL("k-bakery"), 5, false)
	waitFor(t, 20*time.Second, "second StreamStarted", func() bool { return rooms.count("started:bakery") == 2 })
	waitFor(t, 20*time.Second, "discontinuity in live playlist", func() bool {
		_, body := httpGet(t, hlsURL)
		return strings.Contains(body, "#EXT-X-DISCONTINUITY\n")
	})
	if err := second.wait(t, 30*time.Second); err != nil {
		t.Fatalf("second publisher: %v\n%s", err, second.out)
	}
	waitFor(t, 15*time.Second, "second StreamStopped", func() bool { return rooms.count("stopped:bakery") == 2 })

	recs := ts.Recordings("bakery")
	if len(recs) != 2 {
		t.Fatalf("recordings = %+v, want 2", recs)
	}
	if recs[1].Offset != recs[0].Duration || !recs[1].StartedAt.After(recs[0].StartedAt) {
		t.Fatalf("recordings not chained: %+v", recs)
	}
	if recs[1].Duration < 4*time.Second || recs[1].Duration > 6*time.Second {
		t.Fatalf("second recording duration %v, want ~5 s", recs[1].Duration)
	}
	pin := recs[1].StartedAt.Add(2 * time.Second)
	if off, ok := video.ReplayOffset(recs, pin); !ok || off != recs[0].Duration+2*time.Second {
		t.Fatalf("ReplayOffset(pin) = %v %v", off, ok)
	}
	replayURL := ts.HTTP.URL + video.ReplayURL("bakery")
	_, body := httpGet(t, replayURL)
	if strings.Count(body, "#EXT-X-DISCONTINUITY\n") != 1 || !strings.Contains(body, "#EXT-X-ENDLIST") {
		t.Fatalf("replay playlist:\n%s", body)
	}
	res := ffprobe(t, 60*time.Second, "-show_entries", "format=duration", replayURL)
	want := (recs[0].Duration + recs[1].Duration).Seconds()
	if got := probeDuration(t, res); math.Abs(got-want) > 1.5 {
		t.Fatalf("replay duration %.2f s, want %.2f", got, want)
	}
}

func checkAV(t *testing.T, res ffprobeResult, minFrames int) {
	t.Helper()
	var v, a bool
	for _, s := range res.Streams {
		switch s.CodecType {
		case "video":
			v = true
			if s.CodecName != "h264" || s.Width != 640 || s.Height != 360 {
				t.Fatalf("video stream = %+v", s)
			}
			if n := atoi(s.NbReadFrames); n < minFrames {
				t.Fatalf("decoded %d video frames, want >= %d", n, minFrames)
			}
		case "audio":
			a = true
			if s.CodecName != "aac" {
				t.Fatalf("audio stream = %+v", s)
			}
		}
	}
	if !v || !a {
		t.Fatalf("streams = %+v, want h264 + aac", res.Streams)
	}
}

func probeDuration(t *testing.T, res ffprobeResult) float64 {
	t.Helper()
	d, err := strconv.ParseFloat(res.Format.Duration, 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v", res.Format.Duration, err)
	}
	return d
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestRecordingFailureKeepsLive removes the recording directory while the
// host is live (as a full or failed disk would break writes): the live must
// go on over HTTP-FLV instead of dropping the publisher.
func TestRecordingFailureKeepsLive(t *testing.T) {
	t.Parallel()
	needTool(t, "ffprobe")
	rooms := newTestRooms(map[string]string{"k-fish": "fish"})
	ts := startServer(t, t.TempDir(), rooms)
	startPublisher(t, ts.rtmpURL("k-fish"), 30, false)
	waitFor(t, 20*time.Second, "live", func() bool { return ts.Status("fish").Recording != "" })
	if err := os.RemoveAll(filepath.Join(ts.Dir, "video", "fish")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // at least one failed segment cut
	res := ffprobe(t, 30*time.Second, "-count_frames", "-read_intervals", "%+2",
		"-show_entries", "stream=codec_name,codec_type,width,height,nb_read_frames", ts.HTTP.URL+video.FLVURL("fish"))
	checkAV(t, res, 25)
	if st := ts.Status("fish"); !st.Live || rooms.count("stopped:fish") != 0 {
		t.Fatalf("publisher dropped after a recording failure: %+v %v", st, rooms.log())
	}
}
