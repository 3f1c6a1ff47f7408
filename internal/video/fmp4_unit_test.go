package video

import (
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
)

// A 320×240 baseline SPS/PPS, as in TestFLVMuxerHead.
var (
	testSPS = []byte{0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2e, 0x48}
	testPPS = []byte{0x68, 0xcb, 0x83, 0xcb, 0x20}
)

// fragSample decodes the one sample of a muxed fragment.
func fragSample(t testing.TB, c *chunk) (*fmp4.PartTrack, *fmp4.Sample) {
	t.Helper()
	var ps fmp4.Parts
	if err := ps.Unmarshal(c.b); err != nil || len(ps) != 1 || len(ps[0].Tracks) != 1 || len(ps[0].Tracks[0].Samples) != 1 {
		t.Fatalf("fragment: %v", err)
	}
	return ps[0].Tracks[0], ps[0].Tracks[0].Samples[0]
}

// TestMP4MuxerTimestamps: a video frame goes out when the next one gives
// its duration; AAC frames go out at once, each 1024 samples long, on a
// clock that ignores millisecond jitter in the publisher's timestamps and
// follows a real gap; only keyframes are join points.
func TestMP4MuxerTimestamps(t *testing.T) {
	var out []*chunk
	m, _, ctype, err := newMP4Muxer(testSPS, testPPS, &mpeg4audio.AudioSpecificConfig{Type: 2, SampleRate: 48000, ChannelCount: 2},
		func(c *chunk) { out = append(out, c) })
	if err != nil {
		t.Fatal(err)
	}
	if ctype != `video/mp4; codecs="avc1.42C01E,mp4a.40.2"` {
		t.Fatalf("Content-Type %q", ctype)
	}
	idr, p := [][]byte{{0x65, 0x88}}, [][]byte{{0x41, 0x9a}}
	ms := time.Millisecond
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(m.writeH264(0, 0, idr))
	if len(out) != 0 {
		t.Fatal("a video frame went out before its duration was known")
	}
	must(m.writeH264(40*ms, 40*ms, p))
	must(m.writeAAC(21*ms, []byte{1}))
	must(m.writeAAC(43*ms, []byte{2}))  // 21.3 ms apart, rounded
	must(m.writeAAC(500*ms, []byte{3})) // a gap: the clock jumps
	if len(out) != 4 {
		t.Fatalf("%d fragments", len(out))
	}
	tr, s := fragSample(t, out[0])
	if !out[0].video || !out[0].key || tr.BaseTime != 90000 || s.Duration != 3600 || s.IsNonSyncSample {
		t.Fatalf("keyframe: %+v base %d dur %d", out[0], tr.BaseTime, s.Duration)
	}
	a1, _ := fragSample(t, out[1])
	a2, s2 := fragSample(t, out[2])
	a3, _ := fragSample(t, out[3])
	if out[1].key || out[1].video || a2.BaseTime != a1.BaseTime+1024 || s2.Duration != 1024 || a3.BaseTime != 48000*1500/1000 {
		t.Fatalf("audio at %d, %d, %d", a1.BaseTime, a2.BaseTime, a3.BaseTime)
	}
	// A DTS that goes back must not make an overlap.
	must(m.writeH264(30*ms, 30*ms, p))
	must(m.writeH264(80*ms, 80*ms, p))
	tr2, s3 := fragSample(t, out[4])
	tr3, _ := fragSample(t, out[5])
	if out[4].key || !s3.IsNonSyncSample || tr3.BaseTime != tr2.BaseTime+uint64(s3.Duration) || s3.Duration == 0 {
		t.Fatalf("frames at %d+%d, %d", tr2.BaseTime, s3.Duration, tr3.BaseTime)
	}
}

// TestMP4ViewerSkipsToKeyframe: a viewer of the MP4 feed that cannot keep
// up is dropped to the next keyframe fragment, as an FLV viewer is, so its
// player resumes on a decodable picture.
func TestMP4ViewerSkipsToKeyframe(t *testing.T) {
	st := newStream("slow", 6)
	sess := &session{done: make(chan struct{})}
	st.claim(sess)
	m, init, ctype, err := newMP4Muxer(testSPS, testPPS, nil, func(c *chunk) { st.broadcast(feedMP4, c, true) })
	if err != nil {
		t.Fatal(err)
	}
	st.setHead(sess, feedMP4, init, ctype)
	v, _, _, ok := st.join(sess, feedMP4)
	if !ok {
		t.Fatal("cannot join")
	}
	v.ch = make(chan *chunk, 8) // a slow client: a short queue nobody reads
	for i := range 30 {
		au := [][]byte{{0x41, 0x9a}}
		if i%10 == 0 {
			au = [][]byte{{0x65, 0x88}}
		}
		d := time.Duration(i) * 40 * time.Millisecond
		if err := m.writeH264(d, d, au); err != nil {
			t.Fatal(err)
		}
		if i == 12 { // the client reads a little, then stalls again
			for len(v.ch) > 0 {
				<-v.ch
			}
		}
	}
	if v.dropped == 0 {
		t.Fatal("nothing dropped for a viewer that does not read")
	}
	first := <-v.ch
	if _, s := fragSample(t, first); !first.key || s.IsNonSyncSample {
		t.Fatal("after a drop the viewer resumed on a frame that is not a keyframe")
	}
}

// BenchmarkMP4Mux measures muxing one H.264 access unit into a moof+mdat
// fragment (once per frame per stream, shared by all viewers); compare
// BenchmarkFLVMux.
func BenchmarkMP4Mux(b *testing.B) {
	m, _, _, err := newMP4Muxer(testSPS, testPPS, nil, func(*chunk) {})
	if err != nil {
		b.Fatal(err)
	}
	au := [][]byte{append([]byte{0x41}, make([]byte, 6000)...)}
	b.ReportAllocs()
	b.SetBytes(6001)
	for i := range b.N {
		d := time.Duration(i) * 40 * time.Millisecond
		if err := m.writeH264(d, d, au); err != nil {
			b.Fatal(err)
		}
	}
}
