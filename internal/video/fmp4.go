package video

import (
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// The fragmented-MP4 feed is what the viewer page's own MSE player plays
// (web/assets/live_mse.js): MediaSource takes fMP4 as it is, so the browser
// runs no demuxer (mpegts.js, 280 KB, was most of a phone's time to first
// frame). The boxes come from mediacommon's fmp4 package; this file only
// decides timestamps and framing.

// mp4VideoScale is the video track's timescale: RTMP's millisecond
// timestamps fit exactly, and it is what MPEG-TS and most muxers use.
const mp4VideoScale = 90000

// mp4Muxer turns access units into an init segment (ftyp+moov) and one
// moof+mdat fragment per frame. It runs on the publisher's goroutine.
//
// A sample's duration is the distance to the next one. Video waits one
// frame for the next DTS (40 ms at 25 fps); AAC frames have a fixed length
// (1024 samples, or 960), so audio goes out at once on its own clock, which
// follows the publisher's timestamps only across a real gap. Decode times
// never go back, so MediaSource never sees an overlap.
type mp4Muxer struct {
	videoID, audioID int // track IDs; 0 = no such track
	audioRate        int
	audioFrame       uint64 // samples per AAC frame
	seq              uint32 // moof sequence number
	onFrag           func(*chunk)

	pending   *fmp4.Sample // the last video frame, waiting for its duration
	pendingT  uint64       // its decode time (90 kHz)
	videoNext uint64       // earliest decode time of the next video frame
	audioNext uint64       // decode time of the next AAC frame (audioRate)
	audioOn   bool         // audioNext is set
}

// newMP4Muxer builds the init segment for the tracks present (sps == nil:
// no video; aconf == nil: no audio) and the Content-Type that names their
// codecs, so the player can create its SourceBuffer without parsing.
func newMP4Muxer(sps, pps []byte, aconf *mpeg4audio.AudioSpecificConfig, onFrag func(*chunk)) (m *mp4Muxer, init []byte, ctype string, err error) {
	m = &mp4Muxer{onFrag: onFrag}
	var in fmp4.Init
	var codecs []string
	if sps != nil {
		if len(sps) < 4 {
			return nil, nil, "", fmt.Errorf("fmp4: SPS of %d bytes", len(sps))
		}
		m.videoID = len(in.Tracks) + 1
		in.Tracks = append(in.Tracks, &fmp4.InitTrack{ID: m.videoID, TimeScale: mp4VideoScale,
			Codec: &mp4codecs.H264{SPS: sps, PPS: pps}})
		// RFC 6381: avc1.PPCCLL, profile, constraint flags and level as
		// they stand in the SPS after its NAL header.
		codecs = append(codecs, fmt.Sprintf("avc1.%02X%02X%02X", sps[1], sps[2], sps[3]))
	}
	if aconf != nil {
		if aconf.SampleRate <= 0 {
			return nil, nil, "", fmt.Errorf("fmp4: AAC sample rate %d", aconf.SampleRate)
		}
		m.audioID = len(in.Tracks) + 1
		m.audioRate = aconf.SampleRate
		m.audioFrame = 1024
		if aconf.FrameLengthFlag {
			m.audioFrame = 960
		}
		in.Tracks = append(in.Tracks, &fmp4.InitTrack{ID: m.audioID, TimeScale: uint32(aconf.SampleRate),
			Codec: &mp4codecs.MPEG4Audio{Config: *aconf}})
		codecs = append(codecs, fmt.Sprintf("mp4a.40.%d", aconf.Type))
	}
	if len(in.Tracks) == 0 {
		return nil, nil, "", ErrNoTracks
	}
	var buf seekablebuffer.Buffer
	if err := in.Marshal(&buf); err != nil {
		return nil, nil, "", fmt.Errorf("fmp4: init: %w", err)
	}
	media := "video/mp4"
	if m.videoID == 0 {
		media = "audio/mp4"
	}
	ctype = media + `; codecs="` + codecs[0]
	for _, c := range codecs[1:] {
		ctype += "," + c
	}
	return m, buf.Bytes(), ctype + `"`, nil
}

// toScale converts a publisher timestamp to a track timescale, shifted by
// tsOffset so that the first frames (and B-frame reordering) stay positive.
func toScale(d time.Duration, scale int) uint64 {
	d += tsOffset
	if d < 0 {
		return 0
	}
	s := time.Duration(scale)
	return uint64(d/time.Second*s + d%time.Second*s/time.Second)
}

// writeH264 queues one access unit and emits the previous one, now that
// its duration is known.
func (m *mp4Muxer) writeH264(pts, dts time.Duration, au [][]byte) error {
	if m.videoID == 0 {
		return nil
	}
	payload, err := h264.AVCC(au).Marshal()
	if err != nil {
		return fmt.Errorf("fmp4: %w", err)
	}
	t := max(toScale(dts, mp4VideoScale), m.videoNext)
	if m.pending != nil {
		m.pending.Duration = uint32(t - m.pendingT)
		if err := m.emit(m.videoID, m.pendingT, m.pending, true); err != nil {
			return err
		}
	}
	m.pending = &fmp4.Sample{
		PTSOffset:       int32(int64(toScale(pts, mp4VideoScale)) - int64(t)),
		IsNonSyncSample: !h264.IsRandomAccess(au),
		Payload:         payload,
	}
	m.pendingT = t
	m.videoNext = t + 1 // the next frame lasts at least one tick after this one
	return nil
}

// writeAAC emits one AAC frame. Its decode time continues the audio clock
// unless the publisher's timestamp is more than two frames away (a gap in
// the audio, or a clock that jumped), which restarts the clock there.
func (m *mp4Muxer) writeAAC(pts time.Duration, au []byte) error {
	if m.audioID == 0 {
		return nil
	}
	src := toScale(pts, m.audioRate)
	t := m.audioNext
	if !m.audioOn || src > t+2*m.audioFrame {
		t, m.audioOn = max(src, m.audioNext), true
	}
	m.audioNext = t + m.audioFrame
	s := &fmp4.Sample{Duration: uint32(m.audioFrame), Payload: au}
	return m.emit(m.audioID, t, s, m.videoID == 0)
}

// emit marshals one sample as a moof+mdat fragment. A fragment is a join
// point when it holds a video keyframe, or any audio frame of a stream
// without video.
func (m *mp4Muxer) emit(track int, t uint64, s *fmp4.Sample, keyable bool) error {
	m.seq++
	p := fmp4.Part{SequenceNumber: m.seq, Tracks: []*fmp4.PartTrack{{ID: track, BaseTime: t, Samples: []*fmp4.Sample{s}}}}
	var buf seekablebuffer.Buffer
	buf.Grow(len(s.Payload) + 128)
	if err := p.Marshal(&buf); err != nil {
		return fmt.Errorf("fmp4: fragment: %w", err)
	}
	video := track == m.videoID
	m.onFrag(&chunk{b: buf.Bytes(), video: video, key: keyable && !s.IsNonSyncSample})
	return nil
}
