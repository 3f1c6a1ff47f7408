package video

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/bytecounter"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/gortmplib/pkg/rawmessage"
)

// FLV tag types; the same numbers as RTMP message types, because an FLV tag
// body is exactly an RTMP audio/video/data message body.
const (
	flvTagAudio  = 8
	flvTagVideo  = 9
	flvTagScript = 18
)

// flvFileHeader is the 9-byte FLV header (version 1, audio+video flags) plus
// PreviousTagSize0.
func flvFileHeader(hasVideo, hasAudio bool) []byte {
	var flags byte
	if hasAudio {
		flags |= 0x04
	}
	if hasVideo {
		flags |= 0x01
	}
	return []byte{'F', 'L', 'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0}
}

// newFLVTag frames body as an FLV tag.
func newFLVTag(typ byte, ts time.Duration, body []byte) []byte {
	ms := uint32(ts / time.Millisecond)
	n := len(body)
	b := make([]byte, 11+n+4)
	b[0] = typ
	b[1], b[2], b[3] = byte(n>>16), byte(n>>8), byte(n)
	b[4], b[5], b[6] = byte(ms>>16), byte(ms>>8), byte(ms)
	b[7] = byte(ms >> 24)
	// stream ID (3 bytes) is always 0
	copy(b[11:], body)
	binary.BigEndian.PutUint32(b[11+n:], uint32(11+n))
	return b
}

// flvMuxer turns access units into FLV tags. It drives gortmplib's Writer,
// which produces RTMP messages (metadata, AVC/AAC sequence headers, frames,
// including the enhanced-RTMP forms), and converts each message into an FLV
// tag. gortmplib keeps message marshalling unexported, so messages go
// through its chunk writer and back through its chunk reader in memory;
// that costs one copy per frame per stream (not per viewer) and keeps the
// body encoding entirely in the library. Only the FLV container framing
// (newFLVTag) is written here: no served Go module muxes FLV from
// gortmplib tracks.
type flvMuxer struct {
	w     *gortmplib.Writer
	buf   bytes.Buffer
	mw    *message.Writer
	rr    *rawmessage.Reader
	onTag func(t *chunk)
}

// newFLVMuxer writes the stream head (metadata and sequence headers) through
// onTag and returns a muxer for the frames that follow.
func newFLVMuxer(tracks []*gortmplib.Track, onTag func(t *chunk)) (*flvMuxer, error) {
	m := &flvMuxer{onTag: onTag}
	m.mw = message.NewWriter(&m.buf, bytecounter.NewWriter(&m.buf), false)
	m.rr = rawmessage.NewReader(&m.buf, bytecounter.NewReader(&m.buf), func(uint32) error { return nil })
	// Large chunks: one chunk per message, so the in-memory round trip is
	// a plain copy.
	if err := m.mw.Write(&message.SetChunkSize{Value: 1 << 23}); err != nil {
		return nil, fmt.Errorf("flv: %w", err)
	}
	raw, err := m.rr.Read()
	if err != nil {
		return nil, fmt.Errorf("flv: %w", err)
	}
	if raw.Type != uint8(message.TypeSetChunkSize) {
		return nil, fmt.Errorf("flv: unexpected message type %d", raw.Type)
	}
	if err := m.rr.SetChunkSize(1 << 23); err != nil {
		return nil, fmt.Errorf("flv: %w", err)
	}
	m.w = &gortmplib.Writer{Conn: m, Tracks: tracks}
	if err := m.w.Initialize(); err != nil {
		return nil, fmt.Errorf("flv: %w", err)
	}
	return m, nil
}

// BytesReceived implements gortmplib.Conn.
func (m *flvMuxer) BytesReceived() uint64 { return 0 }

// BytesSent implements gortmplib.Conn.
func (m *flvMuxer) BytesSent() uint64 { return 0 }

// Read implements gortmplib.Conn; the muxer is write-only.
func (m *flvMuxer) Read() (message.Message, error) {
	return nil, fmt.Errorf("flv: muxer is write-only")
}

// Write implements gortmplib.Conn: it receives one RTMP message from
// gortmplib.Writer and emits it as an FLV tag.
func (m *flvMuxer) Write(msg message.Message) error {
	if err := m.mw.Write(msg); err != nil {
		return err
	}
	raw, err := m.rr.Read()
	if err != nil {
		return err
	}
	m.buf.Reset()
	body := raw.Body
	t := &chunk{}
	switch raw.Type {
	case flvTagVideo:
		t.video = true
		switch v := msg.(type) {
		case *message.Video:
			t.key = v.IsKeyFrame || v.Type == message.VideoTypeConfig
		case *message.VideoExSequenceStart:
			t.key = true
		default:
			// enhanced RTMP: frame type in the upper nibble after the
			// IsExHeader bit; 1 is a keyframe.
			t.key = len(body) > 0 && (body[0]>>4)&0x07 == 1
		}
	case flvTagAudio:
	case flvTagScript:
		body, err = stripSetDataFrame(body)
		if err != nil {
			return err
		}
	default:
		return nil // control messages never reach an FLV file
	}
	t.b = newFLVTag(raw.Type, raw.Timestamp, body)
	m.onTag(t)
	return nil
}

// stripSetDataFrame turns the RTMP "@setDataFrame","onMetaData",{…} data
// message into the "onMetaData",{…} script tag that FLV players expect
// (mpegts.js ignores metadata under any other name).
func stripSetDataFrame(body []byte) ([]byte, error) {
	d, err := amf0.Unmarshal(body)
	if err != nil {
		return nil, fmt.Errorf("flv: metadata: %w", err)
	}
	if len(d) > 1 {
		if s, ok := d[0].(string); ok && s == "@setDataFrame" {
			d = d[1:]
		}
	}
	out, err := d.Marshal()
	if err != nil {
		return nil, fmt.Errorf("flv: metadata: %w", err)
	}
	return out, nil
}
