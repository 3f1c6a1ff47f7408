package video

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

func TestStreamKeyFromURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"rtmp://h:1935/live/abc123", "abc123"},       // OBS server + key, ffmpeg URL
		{"rtmp://h/live/room-1?key=sekrit", "sekrit"}, // key as a query
		{"rtmp://h/live/abc/", "abc"},
		{"rtmp://h/live", "live"},
	} {
		u, err := url.Parse(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := streamKeyFromURL(u); got != c.want {
			t.Errorf("streamKeyFromURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if streamKeyFromURL(nil) != "" {
		t.Error("nil URL must give an empty key")
	}
}

func TestLiveWindowDiscontinuity(t *testing.T) {
	w := liveWindow{max: 3}
	t0 := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	add := func(rec string, seq int, first bool) {
		w.add(segInfo{RecID: rec, Seq: seq, Dur: time.Second, PDT: t0.Add(time.Duration(len(w.segs)) * time.Second), First: first}, 1)
	}
	add("20261126T080000.000Z", 1, true)
	add("20261126T080000.000Z", 2, false)
	add("20261126T080010.000Z", 1, true) // reconnect
	p := livePlaylist(w.segs, w.mediaSeq, w.discSeq, w.target)
	if strings.Count(p, "#EXT-X-DISCONTINUITY\n") != 1 || !strings.Contains(p, "#EXT-X-MEDIA-SEQUENCE:0\n") {
		t.Fatalf("playlist:\n%s", p)
	}
	add("20261126T080010.000Z", 2, false) // first segment leaves
	add("20261126T080010.000Z", 3, false) // the discontinuity leaves with segment 2
	p = livePlaylist(w.segs, w.mediaSeq, w.discSeq, w.target)
	for _, want := range []string{"#EXT-X-MEDIA-SEQUENCE:2\n", "#EXT-X-DISCONTINUITY-SEQUENCE:1\n", "20261126T080010.000Z_000001.ts"} {
		if !strings.Contains(p, want) {
			t.Fatalf("playlist lacks %q:\n%s", want, p)
		}
	}
	if strings.Contains(p, "#EXT-X-DISCONTINUITY\n") {
		t.Fatalf("discontinuity printed for the first segment:\n%s", p)
	}
}

func TestSegURI(t *testing.T) {
	s := segInfo{RecID: "20261126T080000.123Z-2", Seq: 42}
	rec, seq, ok := parseSegURI(s.uri())
	if !ok || rec != s.RecID || seq != 42 {
		t.Fatalf("parseSegURI(%q) = %q %d %v", s.uri(), rec, seq, ok)
	}
	for _, bad := range []string{"../journal", "20261126T080000.123Z_000001.ts/../x", "x_000001.ts", "20261126T080000.123Z_1.ts"} {
		if _, _, ok := parseSegURI(bad); ok {
			t.Errorf("parseSegURI(%q) accepted", bad)
		}
	}
}

// TestRecorderJournal writes a recording with real MPEG-TS muxing (audio
// only, so it needs no encoder), tears the journal's last line as a crash
// would, and reads it back.
func TestRecorderJournal(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	started := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	var got []segInfo
	conf := &mpeg4audio.AudioSpecificConfig{Type: 2, SampleRate: 44100, ChannelCount: 1}
	r, err := newRecorder(log, dir, "room", started, time.Second, false, nil, nil, conf, func(s segInfo) { got = append(got, s) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	frame := 1024 * time.Second / 44100
	au := []byte{0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c} // any bytes: muxing does not decode
	for i := range 130 {                             // ~3.0 s of AAC
		if err := r.writeAAC(time.Duration(i)*frame, au); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[0].First || got[1].First {
		t.Fatalf("segments = %+v", got)
	}
	if d := got[1].PDT.Sub(started); d < 990*time.Millisecond || d > 1050*time.Millisecond {
		t.Fatalf("second segment PDT offset %v, want ~1 s", d)
	}
	for _, s := range got {
		fi, err := os.Stat(segPath(dir, "room", r.id, s.Seq))
		if err != nil || fi.Size() == 0 || fi.Size()%188 != 0 {
			t.Fatalf("segment %d: %v size %v (want whole 188-byte TS packets)", s.Seq, err, fi)
		}
	}

	rf, err := readRecording(dir, "room", r.id)
	if err != nil || len(rf.Segs) != 3 || !rf.Ended || !rf.StartedAt.Equal(started) {
		t.Fatalf("readRecording = %+v, %v", rf, err)
	}

	// crash mid-append: drop "end" and tear the last seg line
	jp := filepath.Join(recDir(dir, "room", r.id), "journal")
	b, _ := os.ReadFile(jp)
	lines := strings.SplitAfter(string(b), "\n")
	torn := strings.Join(lines[:len(lines)-3], "") + lines[len(lines)-3][:5]
	if err := os.WriteFile(jp, []byte(torn), 0o644); err != nil {
		t.Fatal(err)
	}
	rf, err = readRecording(dir, "room", r.id)
	if err != nil || len(rf.Segs) != 2 || rf.Ended {
		t.Fatalf("torn journal: %+v, %v", rf, err)
	}
	recs := listRecordings(log, dir, "room")
	if len(recs) != 1 || recs[0].duration() != got[0].Dur.Truncate(time.Microsecond)+got[1].Dur.Truncate(time.Microsecond) {
		t.Fatalf("listRecordings = %+v", recs)
	}
}

func TestReplayOffset(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	recs := []Recording{
		{StartedAt: t0, Duration: 60 * time.Second},
		{StartedAt: t0.Add(90 * time.Second), Duration: 30 * time.Second, Offset: 60 * time.Second},
	}
	for _, c := range []struct {
		at   time.Duration
		want time.Duration
		ok   bool
	}{
		{10 * time.Second, 10 * time.Second, true},
		{75 * time.Second, 60 * time.Second, true}, // in the reconnect gap: start of the next
		{100 * time.Second, 70 * time.Second, true},
		{-time.Second, 0, true},
		{200 * time.Second, 0, false},
	} {
		got, ok := ReplayOffset(recs, t0.Add(c.at))
		if got != c.want || ok != c.ok {
			t.Errorf("ReplayOffset(t0+%v) = %v %v, want %v %v", c.at, got, ok, c.want, c.ok)
		}
	}
}

// TestFLVMuxerHead checks the FLV head built through gortmplib's writer:
// onMetaData (without @setDataFrame), then AVC and AAC sequence headers.
func TestFLVMuxerHead(t *testing.T) {
	sps := []byte{0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2e, 0x48}
	pps := []byte{0x68, 0xcb, 0x83, 0xcb, 0x20}
	vt := &gortmplib.Track{Codec: &codecs.H264{SPS: sps, PPS: pps}}
	at := &gortmplib.Track{Codec: &codecs.MPEG4Audio{Config: &mpeg4audio.AudioSpecificConfig{Type: 2, SampleRate: 44100, ChannelCount: 2}}}
	var tags []*chunk
	m, err := newFLVMuxer([]*gortmplib.Track{vt, at}, func(t *chunk) { tags = append(tags, t) })
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != 3 || tags[0].b[0] != flvTagScript || tags[1].b[0] != flvTagVideo || tags[2].b[0] != flvTagAudio {
		t.Fatalf("head tags = %d", len(tags))
	}
	if !strings.HasPrefix(string(tags[0].b[11+3:]), "onMetaData") {
		t.Fatalf("script tag: %q", tags[0].b[11:30])
	}
	if !tags[1].key || tags[1].b[11] != 0x17 || tags[1].b[12] != 0 {
		t.Fatalf("AVC sequence header: % x", tags[1].b[11:16])
	}
	idr := [][]byte{{0x65, 0x88, 0x84, 0x00}}
	if err := m.w.WriteH264(vt, 80*time.Millisecond, 40*time.Millisecond, idr); err != nil {
		t.Fatal(err)
	}
	last := tags[len(tags)-1]
	ts := uint32(last.b[4])<<16 | uint32(last.b[5])<<8 | uint32(last.b[6])
	if !last.key || !last.video || ts != 40 || last.b[11] != 0x17 || last.b[12] != 1 || last.b[15] != 40 {
		t.Fatalf("IDR tag: key=%v ts=%d body % x", last.key, ts, last.b[11:16])
	}
}

// BenchmarkBroadcast measures the fan-out of one FLV tag to 100 viewers
// (queueing only; the HTTP writes are in BenchmarkServerCPU).
func BenchmarkBroadcast(b *testing.B) {
	st := newStream("bench", 6)
	sess := &session{done: make(chan struct{})}
	st.claim(sess)
	st.setHead(sess, feedFLV, flvFileHeader(true, true), "video/x-flv")
	const viewers = 100
	done := make(chan struct{})
	for range viewers {
		v, _, _, _ := st.join(sess, feedFLV)
		go func() {
			for {
				select {
				case <-v.ch:
				case <-done:
					return
				}
			}
		}()
	}
	key := &chunk{b: newFLVTag(flvTagVideo, 0, make([]byte, 4000)), video: true, key: true}
	inter := &chunk{b: newFLVTag(flvTagVideo, 40*time.Millisecond, make([]byte, 1500)), video: true}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%25 == 0 {
			st.broadcast(feedFLV, key, true)
		} else {
			st.broadcast(feedFLV, inter, true)
		}
	}
	b.StopTimer()
	close(done)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/viewers, "ns/tag/viewer")
}

// BenchmarkFLVMux measures muxing one H.264 access unit into an FLV tag
// (once per frame per stream, shared by all viewers).
func BenchmarkFLVMux(b *testing.B) {
	sps := []byte{0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2e, 0x48}
	vt := &gortmplib.Track{Codec: &codecs.H264{SPS: sps, PPS: []byte{0x68, 0xcb, 0x83, 0xcb, 0x20}}}
	m, err := newFLVMuxer([]*gortmplib.Track{vt}, func(*chunk) {})
	if err != nil {
		b.Fatal(err)
	}
	au := [][]byte{append([]byte{0x41}, make([]byte, 6000)...)}
	b.ReportAllocs()
	b.SetBytes(6001)
	for i := range b.N {
		d := time.Duration(i) * 40 * time.Millisecond
		if err := m.w.WriteH264(vt, d, d, au); err != nil {
			b.Fatal(err)
		}
	}
}

// TestViewerSkipsToKeyframe: a viewer whose queue overflows drops frames
// until a keyframe arrives and its queue has drained to half, so it resumes
// on a decodable picture.
func TestViewerSkipsToKeyframe(t *testing.T) {
	v := &viewer{ch: make(chan *chunk, 4)}
	key := &chunk{video: true, key: true}
	inter := &chunk{video: true}
	audio := &chunk{}
	for range 4 {
		v.send(inter)
	}
	v.send(inter) // overflow
	if !v.waitKey || v.dropped != 1 {
		t.Fatalf("overflow not detected: %+v", v)
	}
	<-v.ch
	<-v.ch // queue at half
	v.send(audio)
	v.send(inter)
	if len(v.ch) != 2 || v.dropped != 3 {
		t.Fatalf("non-key tags must be dropped while waiting: len=%d dropped=%d", len(v.ch), v.dropped)
	}
	v.send(key)
	if v.waitKey || len(v.ch) != 3 {
		t.Fatalf("keyframe must resume the viewer: %+v len=%d", v, len(v.ch))
	}
	v.send(inter)
	if len(v.ch) != 4 {
		t.Fatalf("frames after the keyframe must flow: len=%d", len(v.ch))
	}
}

// TestHandlerRoutes serves a real recording (AAC-only MPEG-TS written by
// the recorder) and checks status codes, content types and that crafted
// paths cannot reach other files.
func TestHandlerRoutes(t *testing.T) {
	dir := t.TempDir()
	s, err := New(Config{DataDir: dir, RTMPAddr: "127.0.0.1:0", Rooms: nopRooms{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conf := &mpeg4audio.AudioSpecificConfig{Type: 2, SampleRate: 44100, ChannelCount: 1}
	started := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	r, err := newRecorder(s.log, dir, "room", started, time.Second, false, nil, nil, conf, func(segInfo) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	frame := 1024 * time.Second / 44100
	for i := range 100 {
		if err := r.writeAAC(time.Duration(i)*frame, []byte{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.close(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("x"), 0o644)

	h := s.Handler()
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	seg := r.id + "_000001.ts"
	for _, c := range []struct {
		path, ctype string
		code        int
		body        string
	}{
		{"/media/replay/room/index.m3u8", "application/vnd.apple.mpegurl", 200, "#EXT-X-ENDLIST"},
		{"/media/replay/room/" + r.id + ".m3u8", "application/vnd.apple.mpegurl", 200, seg},
		{"/media/replay/room/" + seg, "video/mp2t", 200, ""},
		{"/media/live/room/" + seg, "video/mp2t", 200, ""},
		{"/media/replay/room/" + r.id + "_000099.ts", "", 404, ""},
		{"/media/replay/other/index.m3u8", "", 404, ""},
		{"/media/live/room.flv", "", 404, ""},
		{"/media/live/room/index.m3u8", "", 404, ""},
		{"/media/replay/room/..%2F..%2Fsecret.txt", "", 404, ""},
		{"/media/replay/..%2F/index.m3u8", "", 404, ""},
		{"/media/replay/room/journal", "", 404, ""},
		{"/media/live/..%2Fsecret.txt.flv", "", 404, ""},
	} {
		w := get(c.path)
		if w.Code != c.code {
			t.Errorf("GET %s = %d, want %d", c.path, w.Code, c.code)
			continue
		}
		if c.ctype != "" && w.Header().Get("Content-Type") != c.ctype {
			t.Errorf("GET %s content type %q", c.path, w.Header().Get("Content-Type"))
		}
		if !strings.Contains(w.Body.String(), c.body) {
			t.Errorf("GET %s body lacks %q:\n%s", c.path, c.body, w.Body.String())
		}
		if w.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("GET %s: no CORS header", c.path)
		}
	}
	if b := get("/media/replay/room/" + seg).Body.Bytes(); len(b) == 0 || b[0] != 0x47 {
		t.Fatalf("segment is not MPEG-TS (sync byte 0x47): % x", b[:min(len(b), 4)])
	}
}

type nopRooms struct{}

func (nopRooms) RoomByStreamKey(context.Context, string) (string, error) { return "", io.EOF }
func (nopRooms) StreamStarted(context.Context, string) error             { return nil }
func (nopRooms) StreamStopped(context.Context, string) error             { return nil }
