package video_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/testkit"
	"github.com/shelflive/shelflive/internal/video"
)

// TestCutClip publishes 9 s with ffmpeg (1 s GOP), then cuts a stretch of
// the recording: the clip starts on the keyframe at or before the asked
// start, so its length is the asked one plus at most one GOP; its streams
// have the source's codec parameters and its first frames decode to the
// very pixels of the recording (a re-encode would change them). While the
// publisher is still on, a stretch past the recorded end is ErrNotYet; a
// stretch before any recording is ErrNotRecorded.
func TestCutClip(t *testing.T) {
	t.Parallel()
	ffprobeBin := needTool(t, "ffprobe")
	ffmpegBin := needTool(t, "ffmpeg")
	dir := t.TempDir()
	rooms := newTestRooms(map[string]string{"k-clip": "clip-room"})
	ts := startServer(t, dir, rooms)
	pub := startPublisher(t, ts.rtmpURL("k-clip"), 9, false)
	waitFor(t, 20*time.Second, "room live", func() bool { return ts.Status("clip-room").Live })
	ctx := context.Background()
	waitFor(t, 20*time.Second, "a first segment", func() bool { return len(ts.Recordings("clip-room")) == 1 })
	rec := ts.Recordings("clip-room")[0]
	out := filepath.Join(t.TempDir(), "early.mp4")
	if _, err := ts.CutClip(ctx, "clip-room", rec.StartedAt, rec.StartedAt.Add(time.Hour), out); !errors.Is(err, video.ErrNotYet) {
		t.Fatalf("cut past the recorded end while live: %v, want ErrNotYet", err)
	}
	if err := pub.wait(t, 60*time.Second); err != nil {
		t.Fatalf("publisher: %v", err)
	}
	waitFor(t, 20*time.Second, "recording ended", func() bool {
		recs := ts.Recordings("clip-room")
		return len(recs) == 1 && !recs[0].InProgress && recs[0].Duration > 6*time.Second
	})
	rec = ts.Recordings("clip-room")[0]
	if _, err := ts.CutClip(ctx, "clip-room", rec.StartedAt.Add(-time.Hour), rec.StartedAt.Add(-time.Minute), out); !errors.Is(err, video.ErrNotRecorded) {
		t.Fatalf("cut before the recording: %v, want ErrNotRecorded", err)
	}

	from, to := rec.StartedAt.Add(2300*time.Millisecond), rec.StartedAt.Add(5600*time.Millisecond)
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	info, err := ts.CutClip(ctx, "clip-room", from, to, clip)
	if err != nil {
		t.Fatal(err)
	}
	const gop = time.Second
	if want := to.Sub(from); info.Duration < want-100*time.Millisecond || info.Duration > want+gop+100*time.Millisecond {
		t.Fatalf("clip lasts %v, asked %v (+ at most one GOP)", info.Duration, want)
	}
	if info.Start.After(from) || from.Sub(info.Start) > gop+100*time.Millisecond {
		t.Fatalf("clip starts at %v, asked %v: not the keyframe at or before", info.Start, from)
	}
	if info.VideoCodec != "h264" || info.AudioCodec != "aac" || info.Width != 640 || info.Height != 360 {
		t.Fatalf("clip media %+v", info)
	}
	// Same codec parameters as the recording, and the same pixels.
	segDir := filepath.Join(dir, "video", "clip-room", rec.ID)
	first := firstSegmentOf(t, segDir, info.Start, rec)
	if a, b := testkit.StreamParams(t, ffprobeBin, first), testkit.StreamParams(t, ffprobeBin, clip); a != b {
		t.Fatalf("codec parameters differ:\nsource %s\nclip   %s", a, b)
	}
	if a, b := frameHashes(t, ffmpegBin, first, 5), frameHashes(t, ffmpegBin, clip, 5); a != b || a == "" {
		t.Fatalf("the clip's first frames are not the recording's:\nsource %s\nclip   %s", a, b)
	}
}

// firstSegmentOf names the recorded segment whose program date time is start.
func firstSegmentOf(t *testing.T, segDir string, start time.Time, rec video.Recording) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(segDir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	b := string(raw)
	for _, line := range strings.Split(b, "\n") {
		f := strings.Split(line, "\t")
		if len(f) == 4 && f[0] == "seg" {
			pdt, err := time.Parse(time.RFC3339Nano, f[3])
			if err == nil && pdt.Equal(start) {
				return filepath.Join(segDir, strings.Repeat("0", 6-len(f[1]))+f[1]+".ts")
			}
		}
	}
	t.Fatalf("no segment of %s starts at %v", rec.ID, start)
	return ""
}

// frameHashes decodes the first n video frames and hashes their pixels.
func frameHashes(t *testing.T, ffmpegBin, file string, n int) string {
	t.Helper()
	out, err := exec.Command(ffmpegBin, "-v", "error", "-i", file, "-map", "0:v", "-frames:v", strconv.Itoa(n), "-f", "framemd5", "-").Output()
	if err != nil {
		t.Fatalf("framemd5 %s: %v", file, err)
	}
	var hashes []string
	for _, line := range strings.Split(string(out), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		hashes = append(hashes, strings.TrimSpace(f[len(f)-1]))
	}
	return strings.Join(hashes, " ")
}
