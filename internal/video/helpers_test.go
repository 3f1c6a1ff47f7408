package video_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/objstore"
	"github.com/shelflive/shelflive/internal/video"
)

// needTool fails under CI (where .ci/run installs the tool) and skips on a
// developer machine without it.
func needTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is required in CI: %v", name, err)
	}
	tb.Skipf("%s not installed: %v", name, err)
	return ""
}

// testRooms is an in-memory Rooms: a key table plus an event log. It is a
// real implementation of the interface, as small as the live domain's
// adapter would be.
type testRooms struct {
	mu     sync.Mutex
	keys   map[string]string
	events []string
	// onStopped, if set, runs inside StreamStopped (what the live domain
	// would do when it hears about the stop).
	onStopped func(slug string)
}

func newTestRooms(keys map[string]string) *testRooms {
	return &testRooms{keys: keys}
}

func (r *testRooms) RoomByStreamKey(_ context.Context, key string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	slug, ok := r.keys[key]
	if !ok {
		r.events = append(r.events, "refused:"+key)
		return "", errors.New("unknown stream key")
	}
	return slug, nil
}

func (r *testRooms) StreamStarted(_ context.Context, slug string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "started:"+slug)
	return nil
}

func (r *testRooms) StreamStopped(_ context.Context, slug string) error {
	r.mu.Lock()
	fn := r.onStopped
	r.mu.Unlock()
	if fn != nil {
		fn(slug)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "stopped:"+slug)
	return nil
}

func (r *testRooms) count(ev string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e == ev {
			n++
		}
	}
	return n
}

func (r *testRooms) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// testServer is a running video.Server with its HTTP side on httptest.
type testServer struct {
	*video.Server
	HTTP  *httptest.Server
	Rooms *testRooms
	Dir   string
	stop  func()
}

func (ts *testServer) rtmpURL(key string) string {
	return "rtmp://" + ts.Addr().String() + "/live/" + key
}

func startServer(tb testing.TB, dir string, rooms *testRooms) *testServer {
	tb.Helper()
	return startServerWith(tb, dir, rooms, nil)
}

// startServerWith is startServer with recordings copied to (and replays
// read from) an object store.
func startServerWith(tb testing.TB, dir string, rooms *testRooms, store objstore.Store) *testServer {
	tb.Helper()
	srv, err := video.New(video.Config{
		DataDir:  dir,
		RTMPAddr: "127.0.0.1:0",
		Rooms:    rooms,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Store:    store,
	})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx) }()
	mux := http.NewServeMux()
	mux.Handle(video.MediaPrefix, srv.Handler())
	mountPlayerPage(mux)
	hs := httptest.NewServer(mux)
	ts := &testServer{Server: srv, HTTP: hs, Rooms: rooms, Dir: dir}
	var once sync.Once
	ts.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("ListenAndServe: %v", err)
				}
			case <-time.After(20 * time.Second):
				tb.Errorf("ListenAndServe did not return")
			}
			hs.CloseClientConnections()
			hs.Close()
		})
	}
	tb.Cleanup(ts.stop)
	return ts
}

// publisher is a running ffmpeg pushing testsrc + sine over RTMP.
type publisher struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	out  *strings.Builder
}

// publishArgs builds the ffmpeg command line from the brief: 640x360 25 fps
// test pattern, 440 Hz tone, x264 ultrafast zerolatency with a 1 s GOP, AAC.
// With stamp, a wall-clock barcode and time text are burned in (see
// stampFilter) for latency measurement.
func publishArgs(url string, seconds int, stamp bool) []string {
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
		"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"}
	if stamp {
		args = append(args, "-filter_complex", stampFilter(), "-map", "[v]", "-map", "1:a")
	}
	args = append(args, "-t", fmt.Sprint(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k", "-f", "flv", url)
	return args
}

func startPublisher(tb testing.TB, url string, seconds int, stamp bool) *publisher {
	tb.Helper()
	ffmpeg := needTool(tb, "ffmpeg")
	p := &publisher{done: make(chan struct{}), out: &strings.Builder{}}
	p.cmd = exec.Command(ffmpeg, publishArgs(url, seconds, stamp)...)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() { p.kill() })
	return p
}

// kill drops the publisher abruptly (SIGKILL: no RTMP deleteStream), like a
// phone losing its network.
func (p *publisher) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.done
}

func (p *publisher) wait(tb testing.TB, timeout time.Duration) error {
	tb.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		tb.Fatalf("publisher still running after %v", timeout)
		return nil
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ffprobeResult is the part of ffprobe's JSON the tests read.
type ffprobeResult struct {
	Streams []struct {
		CodecName    string `json:"codec_name"`
		CodecType    string `json:"codec_type"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		NbReadFrames string `json:"nb_read_frames"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

func ffprobe(tb testing.TB, timeout time.Duration, args ...string) ffprobeResult {
	tb.Helper()
	bin := needTool(tb, "ffprobe")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	full := append([]string{"-hide_banner", "-v", "error", "-of", "json"}, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("ffprobe %v: %v\n%s", args, err, stderr.String())
	}
	var res ffprobeResult
	if err := json.Unmarshal(out, &res); err != nil {
		tb.Fatalf("ffprobe output: %v\n%s", err, out)
	}
	return res
}

func httpGet(tb testing.TB, url string) (int, string) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// flvReader parses an HTTP-FLV body tag by tag.
type flvReader struct {
	br *bufio.Reader
}

type flvTagInfo struct {
	Type byte
	TS   uint32 // ms
	Key  bool
	Body []byte
}

func newFLVReader(r io.Reader) (*flvReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	hdr := make([]byte, 13)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return nil, err
	}
	if string(hdr[:3]) != "FLV" || hdr[3] != 1 {
		return nil, fmt.Errorf("not an FLV stream: % x", hdr)
	}
	return &flvReader{br: br}, nil
}

func (f *flvReader) next() (flvTagInfo, error) {
	var h [11]byte
	if _, err := io.ReadFull(f.br, h[:]); err != nil {
		return flvTagInfo{}, err
	}
	n := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
	ts := uint32(h[7])<<24 | uint32(h[4])<<16 | uint32(h[5])<<8 | uint32(h[6])
	body := make([]byte, n+4)
	if _, err := io.ReadFull(f.br, body); err != nil {
		return flvTagInfo{}, err
	}
	if prev := binary.BigEndian.Uint32(body[n:]); prev != uint32(11+n) {
		return flvTagInfo{}, fmt.Errorf("bad PreviousTagSize %d for tag of %d", prev, 11+n)
	}
	t := flvTagInfo{Type: h[0], TS: ts, Body: body[:n]}
	if t.Type == 9 && n > 0 {
		t.Key = body[0]>>4 == 1
	}
	return t, nil
}

func readDirNames(tb testing.TB, dir string) []string {
	tb.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

var _ = filepath.Join

func execLookPath(name string) (string, error) { return exec.LookPath(name) }
