package video_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/shelflive/shelflive/internal/video"
)

// mp4Stream reads a live fMP4 response box by box: the init segment, then
// one moof+mdat fragment at a time. Only box sizes are read here; the boxes
// themselves are decoded by mediacommon's fmp4 package.
type mp4Stream struct {
	r   io.Reader
	raw bytes.Buffer // every byte read, for ffprobe
}

// box returns the next whole box (header included) and its type.
func (s *mp4Stream) box() ([]byte, string, error) {
	var h [8]byte
	if _, err := io.ReadFull(s.r, h[:]); err != nil {
		return nil, "", err
	}
	n := binary.BigEndian.Uint32(h[:4])
	if n < 8 || n > 64<<20 {
		return nil, "", fmt.Errorf("box %q of %d bytes", h[4:], n)
	}
	b := make([]byte, n)
	copy(b, h[:])
	if _, err := io.ReadFull(s.r, b[8:]); err != nil {
		return nil, "", err
	}
	s.raw.Write(b)
	return b, string(h[4:]), nil
}

// init reads ftyp+moov and decodes them.
func (s *mp4Stream) init() (*fmp4.Init, error) {
	var b []byte
	for _, want := range []string{"ftyp", "moov"} {
		box, typ, err := s.box()
		if err != nil {
			return nil, err
		}
		if typ != want {
			return nil, fmt.Errorf("box %q, want %q", typ, want)
		}
		b = append(b, box...)
	}
	var in fmp4.Init
	if err := in.Unmarshal(bytes.NewReader(b)); err != nil {
		return nil, err
	}
	return &in, nil
}

// fragment reads one moof+mdat and decodes it.
func (s *mp4Stream) fragment() (*fmp4.Part, error) {
	moof, typ, err := s.box()
	if err != nil || typ != "moof" {
		return nil, fmt.Errorf("box %q, want moof: %v", typ, err)
	}
	mdat, typ, err := s.box()
	if err != nil || typ != "mdat" {
		return nil, fmt.Errorf("box %q, want mdat: %v", typ, err)
	}
	var ps fmp4.Parts
	if err := ps.Unmarshal(append(moof, mdat...)); err != nil {
		return nil, err
	}
	if len(ps) != 1 {
		return nil, fmt.Errorf("%d parts in one fragment", len(ps))
	}
	return ps[0], nil
}

// mp4Seen is what a client of the .mp4 URL read.
type mp4Seen struct {
	ctype     string
	init      *fmp4.Init
	raw       []byte
	frames    int  // video samples
	audio     int  // audio samples
	firstSync bool // the first video sample is a keyframe
	firstKind string
}

// readMP4 reads url until it has seen frames video samples (or, without
// video, frames audio samples), checking on the way that each track's
// decode times follow on from each other without gap or overlap.
func readMP4(t *testing.T, url string, frames int) mp4Seen {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	s := &mp4Stream{r: resp.Body}
	seen := mp4Seen{ctype: resp.Header.Get("Content-Type")}
	if seen.init, err = s.init(); err != nil {
		t.Fatalf("init segment: %v", err)
	}
	videoID := 0
	for _, tr := range seen.init.Tracks {
		if tr.Codec.IsVideo() {
			videoID = tr.ID
		}
	}
	next := map[int]uint64{} // track -> where its next sample must start
	for seen.frames < frames && (videoID != 0 || seen.audio < frames) {
		p, err := s.fragment()
		if err != nil {
			t.Fatalf("fragment after %d frames: %v", seen.frames, err)
		}
		for _, tr := range p.Tracks {
			if n, ok := next[tr.ID]; ok && tr.BaseTime != n {
				t.Fatalf("track %d: fragment at %d, the previous one ended at %d", tr.ID, tr.BaseTime, n)
			}
			end := tr.BaseTime
			for _, smp := range tr.Samples {
				if smp.Duration == 0 {
					t.Fatalf("track %d: sample of zero duration at %d", tr.ID, end)
				}
				end += uint64(smp.Duration)
				if tr.ID != videoID {
					seen.audio++
					continue
				}
				if seen.frames == 0 {
					seen.firstSync = !smp.IsNonSyncSample
				}
				seen.frames++
			}
			next[tr.ID] = end
		}
	}
	seen.raw = s.raw.Bytes()
	return seen
}

// probeFile runs ffprobe (decoding every frame) on b written to a file.
func probeFile(t *testing.T, b []byte) ffprobeResult {
	t.Helper()
	p := filepath.Join(t.TempDir(), "live.mp4")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return ffprobe(t, 30*time.Second, "-count_frames",
		"-show_entries", "stream=codec_name,codec_type,width,height,nb_read_frames", p)
}

var mp4TypeRe = regexp.MustCompile(`^video/mp4; codecs="avc1\.[0-9A-F]{6},mp4a\.40\.2"$`)

// TestLiveFMP4 publishes with ffmpeg and reads the .mp4 URL: an init
// segment with H.264 and AAC named in the Content-Type, then fragments
// whose decode times follow on per track, starting at a keyframe for
// every joiner, that ffprobe decodes; the connection counts as a viewer
// and the URL is 404 once the publisher stops.
func TestLiveFMP4(t *testing.T) {
	t.Parallel()
	needTool(t, "ffprobe")
	rooms := newTestRooms(map[string]string{"k-fruit": "fruit"})
	ts := startServer(t, t.TempDir(), rooms)
	pub := startPublisher(t, ts.rtmpURL("k-fruit"), 12, false)
	waitFor(t, 20*time.Second, "live", func() bool { return rooms.count("started:fruit") == 1 })
	url := ts.HTTP.URL + video.MP4URL("fruit")

	t.Run("InitAndFragments", func(t *testing.T) {
		seen := readMP4(t, url, 50)
		if !mp4TypeRe.MatchString(seen.ctype) {
			t.Fatalf("Content-Type %q", seen.ctype)
		}
		if len(seen.init.Tracks) != 2 {
			t.Fatalf("%d tracks", len(seen.init.Tracks))
		}
		h, ok1 := seen.init.Tracks[0].Codec.(*mp4codecs.H264)
		a, ok2 := seen.init.Tracks[1].Codec.(*mp4codecs.MPEG4Audio)
		if !ok1 || !ok2 || a.Config.SampleRate != 44100 || seen.init.Tracks[1].TimeScale != 44100 {
			t.Fatalf("tracks %T %T", seen.init.Tracks[0].Codec, seen.init.Tracks[1].Codec)
		}
		if want := fmt.Sprintf("avc1.%02X%02X%02X", h.SPS[1], h.SPS[2], h.SPS[3]); !strings.Contains(seen.ctype, want) {
			t.Fatalf("Content-Type %q does not name the SPS's %s", seen.ctype, want)
		}
		if !seen.firstSync || seen.audio == 0 {
			t.Fatalf("first video sample sync=%v, audio samples %d", seen.firstSync, seen.audio)
		}
		checkAV(t, probeFile(t, seen.raw), 45)
	})

	t.Run("LateJoinersStartAtKeyframe", func(t *testing.T) {
		// The GOP is 1 s: joiners 0.3 s apart land in different places of it.
		for i := range 3 {
			time.Sleep(300 * time.Millisecond)
			if seen := readMP4(t, url, 5); !seen.firstSync {
				t.Fatalf("joiner %d: first video sample is not a keyframe", i)
			}
		}
	})

	t.Run("CountedAsViewer", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		st := ts.Status("fruit")
		if st.MP4Viewers != 1 || st.Viewers != st.MP4Viewers+st.FLVViewers+st.HLSViewers {
			t.Fatalf("status %+v with one .mp4 client", st)
		}
		cancel()
		waitFor(t, 5*time.Second, "viewer leaves", func() bool { return ts.Status("fruit").MP4Viewers == 0 })
	})

	if err := pub.wait(t, 30*time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.out)
	}
	waitFor(t, 15*time.Second, "stopped", func() bool { return rooms.count("stopped:fruit") == 1 })
	if code, _ := httpGet(t, url); code != http.StatusNotFound {
		t.Fatalf(".mp4 after stop: %d, want 404", code)
	}
	if code, _ := httpGet(t, ts.HTTP.URL+"/media/live/fruit.mp5"); code != http.StatusNotFound {
		t.Fatalf("unknown extension: %d, want 404", code)
	}
}

// TestLiveFMP4SingleTrack: a publish with only video or only audio gets an
// init segment with that one track, and a Content-Type naming only it.
func TestLiveFMP4SingleTrack(t *testing.T) {
	t.Parallel()
	ffmpeg := needTool(t, "ffmpeg")
	needTool(t, "ffprobe")
	for _, c := range []struct {
		name, key string
		args      []string
		ctype     *regexp.Regexp
		codec     string
	}{
		{"VideoOnly", "k-v", []string{"-re", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
			"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p"},
			regexp.MustCompile(`^video/mp4; codecs="avc1\.[0-9A-F]{6}"$`), "h264"},
		{"AudioOnly", "k-a", []string{"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
			"-c:a", "aac", "-b:a", "64k"},
			regexp.MustCompile(`^audio/mp4; codecs="mp4a\.40\.2"$`), "aac"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rooms := newTestRooms(map[string]string{c.key: "solo"})
			ts := startServer(t, t.TempDir(), rooms)
			args := append([]string{"-hide_banner", "-nostdin", "-loglevel", "error"}, c.args...)
			cmd := exec.Command(ffmpeg, append(args, "-t", "10", "-f", "flv", ts.rtmpURL(c.key))...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			waitFor(t, 20*time.Second, "live", func() bool { return rooms.count("started:solo") == 1 })
			seen := readMP4(t, ts.HTTP.URL+video.MP4URL("solo"), 40)
			if !c.ctype.MatchString(seen.ctype) || len(seen.init.Tracks) != 1 {
				t.Fatalf("Content-Type %q, %d tracks", seen.ctype, len(seen.init.Tracks))
			}
			res := probeFile(t, seen.raw)
			if len(res.Streams) != 1 || res.Streams[0].CodecName != c.codec || atoi(res.Streams[0].NbReadFrames) < 20 {
				t.Fatalf("ffprobe: %+v", res.Streams)
			}
		})
	}
}
