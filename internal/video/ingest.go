package video

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

const (
	// handshakeTimeout bounds the RTMP handshake, connect and publish
	// commands and the 2 s of media gortmplib reads to detect tracks.
	handshakeTimeout = 15 * time.Second
	// readTimeout drops a publisher that stops sending (a phone that lost
	// its network) so the room turns to "host reconnecting" promptly.
	readTimeout = 10 * time.Second
	// stopTimeout bounds the Rooms.StreamStopped call made while shutting
	// down.
	stopTimeout = 10 * time.Second
)

var sessionIDs atomic.Int64

// streamKeyFromURL extracts the publish key from the RTMP URL. OBS sends
// rtmp://host/live + key "KEY" (joined to /live/KEY); some encoders can only
// set a URL, so "?key=KEY" is accepted too.
func streamKeyFromURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	if k := u.Query().Get("key"); k != "" {
		return k
	}
	return path.Base(strings.TrimRight(u.Path, "/"))
}

func (s *Server) handleConn(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	log := s.log.With("remote", conn.RemoteAddr().String())
	if err := s.serveConn(ctx, conn, log); err != nil && !errors.Is(err, net.ErrClosed) {
		log.Info("video: rtmp connection ended", "err", err)
	}
}

// serveConn runs one RTMP connection: handshake, stream key check, one
// publisher per room, then the media loop feeding FLV viewers, HLS and the
// recording.
func (s *Server) serveConn(ctx context.Context, conn net.Conn, log *slog.Logger) error {
	sc, slug, err := s.acceptPublisher(ctx, conn)
	if err != nil {
		return err
	}
	log = log.With("slug", slug)

	st := s.getStream(slug)
	sess := &session{
		id:    sessionIDs.Add(1),
		addr:  conn.RemoteAddr().String(),
		since: time.Now().UTC(),
		done:  make(chan struct{}),
	}
	if !st.claim(sess) {
		sc.RejectAction()
		return ErrRoomBusy
	}
	defer st.release(sess)

	r := &gortmplib.Reader{Conn: sc}
	if err := r.Initialize(); err != nil {
		return fmt.Errorf("rtmp tracks: %w", err)
	}
	vtrack, atrack, err := pickTracks(r, log)
	if err != nil {
		return err
	}
	var tracks []*gortmplib.Track
	var sps, pps []byte
	if vtrack != nil {
		tracks = append(tracks, vtrack)
		c := vtrack.Codec.(*codecs.H264)
		sps, pps = c.SPS, c.PPS
	}
	if atrack != nil {
		tracks = append(tracks, atrack)
	}

	rec, err := newRecorder(log, s.cfg.DataDir, slug, sess.since, s.cfg.SegmentDuration,
		vtrack != nil, sps, pps, audioConfig(atrack), st.addSegment, s.mirror)
	if err != nil {
		return err
	}
	st.setInfo(sess, func() {
		sess.recID = rec.id
		if vtrack != nil {
			sess.videoCodec = "H264"
		}
		if atrack != nil {
			sess.audioCodec = "AAC"
		}
	})
	started := false
	defer func() { s.stopPublish(ctx, log, st, sess, rec, slug, started) }()

	fm, err := startFLV(st, sess, tracks, vtrack != nil, atrack != nil)
	if err != nil {
		return err
	}
	mm := startMP4(st, sess, sps, pps, audioConfig(atrack), log)
	cbErr := feedMedia(r, vtrack, atrack, rec, fm, mm, log)

	log.Info("video: publish started", "recording", rec.id, "video", vtrack != nil, "audio", atrack != nil)
	started = true
	if err := s.cfg.Rooms.StreamStarted(ctx, slug); err != nil {
		log.Error("video: Rooms.StreamStarted", "err", err)
	}
	return readLoop(conn, sc, r, st, cbErr)
}

// stopPublish ends a publish. Order matters: finish the recording (last
// partial segment, "end" line) before the room is released, and release it
// before telling the live domain (only if StreamStarted was sent), so that
// when StreamStopped arrives Recordings() is complete and a reconnect can
// claim the room.
func (s *Server) stopPublish(ctx context.Context, log *slog.Logger, st *stream, sess *session, rec *recorder, slug string, started bool) {
	if err := rec.close(); err != nil {
		log.Error("video: closing recording", "err", err)
	}
	st.release(sess)
	if !started {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	if err := s.cfg.Rooms.StreamStopped(sctx, slug); err != nil {
		log.Error("video: Rooms.StreamStopped", "err", err)
	}
	log.Info("video: publish stopped", "recording", rec.id)
}

// acceptPublisher runs the RTMP handshake and connect, refuses players
// (playback is HTTP) and checks the stream key; it answers the room's slug.
func (s *Server) acceptPublisher(ctx context.Context, conn net.Conn) (*gortmplib.ServerConn, string, error) {
	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	sc := &gortmplib.ServerConn{RW: conn}
	if err := sc.Initialize(); err != nil {
		return nil, "", fmt.Errorf("rtmp handshake: %w", err)
	}
	if err := sc.AcceptConn(); err != nil {
		return nil, "", fmt.Errorf("rtmp connect: %w", err)
	}
	if !sc.Publish {
		sc.RejectAction()
		return nil, "", errors.New("rtmp play refused: playback is HTTP-FLV or HLS")
	}
	key := streamKeyFromURL(sc.URL)
	slug, err := s.cfg.Rooms.RoomByStreamKey(ctx, key)
	if err != nil {
		sc.RejectAction()
		return nil, "", fmt.Errorf("stream key refused: %w", err)
	}
	if !ValidSlug(slug) {
		sc.RejectAction()
		return nil, "", fmt.Errorf("%w: %q", ErrBadSlug, slug)
	}
	return sc, slug, nil
}

// pickTracks takes the first H.264 and the first AAC track; others are
// logged and ignored.
func pickTracks(r *gortmplib.Reader, log *slog.Logger) (vtrack, atrack *gortmplib.Track, err error) {
	for _, t := range r.Tracks() {
		switch c := t.Codec.(type) {
		case *codecs.H264:
			if vtrack == nil {
				vtrack = t
			}
		case *codecs.MPEG4Audio:
			if atrack == nil {
				atrack = t
			}
		default:
			log.Warn("video: ignoring unsupported track", "codec", fmt.Sprintf("%T", c))
		}
	}
	if vtrack == nil && atrack == nil {
		return nil, nil, ErrNoTracks
	}
	return vtrack, atrack, nil
}

// startFLV builds the FLV muxer of the live: the tags it writes before the
// first frame (file header, sequence headers) become the head a joining
// viewer gets; later tags are broadcast.
func startFLV(st *stream, sess *session, tracks []*gortmplib.Track, hasVideo, hasAudio bool) (*flvMuxer, error) {
	var head []byte
	head = append(head, flvFileHeader(hasVideo, hasAudio)...)
	live := false
	fm, err := newFLVMuxer(tracks, func(t *chunk) {
		if !hasVideo {
			t.key = true // every AAC frame is a join point
		}
		if !live {
			head = append(head, t.b...)
			return
		}
		st.broadcast(feedFLV, t, hasVideo)
	})
	if err != nil {
		return nil, err
	}
	live = true
	st.setHead(sess, feedFLV, head, "video/x-flv")
	return fm, nil
}

// startMP4 builds the fragmented-MP4 muxer of the live, whose init
// segment is the head a joining viewer gets. It answers nil (and the
// .mp4 URL stays 404, so the page falls back to HLS) when the tracks cannot
// be described in an init segment, e.g. an SPS mediacommon cannot parse.
func startMP4(st *stream, sess *session, sps, pps []byte, aconf *mpeg4audio.AudioSpecificConfig, log *slog.Logger) *mp4Muxer {
	hasVideo := sps != nil
	mm, init, ctype, err := newMP4Muxer(sps, pps, aconf, func(c *chunk) { st.broadcast(feedMP4, c, hasVideo) })
	if err != nil {
		log.Warn("video: no fragmented-MP4 feed for this publish", "err", err)
		return nil
	}
	st.setHead(sess, feedMP4, init, ctype)
	return mm
}

// feedMedia sends each frame to the recording and the FLV and MP4 muxers
// (mm may be nil). The returned error is set (once) by an FLV muxer
// failure, which ends the publish; a recording failure (disk full,
// permissions) must not end the live: it is logged once and recording and
// HLS stop, HTTP-FLV keeps running. An MP4 failure is logged once and
// stops that feed alone (its players see a stall and fall back to HLS).
func feedMedia(r *gortmplib.Reader, vtrack, atrack *gortmplib.Track, rec *recorder, fm *flvMuxer, mm *mp4Muxer, log *slog.Logger) *error {
	var cbErr error
	recFailed := false
	recordErr := func(err error) {
		if err != nil && !recFailed {
			recFailed = true
			log.Error("video: recording failed; live continues on HTTP-FLV only", "recording", rec.id, "err", err)
		}
	}
	mp4Err := func(err error) {
		if err != nil && mm != nil {
			mm = nil
			log.Error("video: fragmented-MP4 feed failed", "err", err)
		}
	}
	if vtrack != nil {
		r.OnDataH264(vtrack, func(pts, dts time.Duration, au [][]byte) {
			if !recFailed {
				recordErr(rec.writeH264(pts, dts, au))
			}
			if paramsOnly(au) {
				return // already in the FLV sequence header
			}
			if err := fm.w.WriteH264(vtrack, pts, dts, au); err != nil && cbErr == nil {
				cbErr = fmt.Errorf("flv: %w", err)
			}
			if mm != nil {
				mp4Err(mm.writeH264(pts, dts, au))
			}
		})
	}
	if atrack != nil {
		r.OnDataMPEG4Audio(atrack, func(pts time.Duration, au []byte) {
			if !recFailed {
				recordErr(rec.writeAAC(pts, au))
			}
			if err := fm.w.WriteMPEG4Audio(atrack, pts, au); err != nil && cbErr == nil {
				cbErr = fmt.Errorf("flv: %w", err)
			}
			if mm != nil {
				mp4Err(mm.writeAAC(pts, au))
			}
		})
	}
	return &cbErr
}

// readLoop reads media until the publisher stops or fails, moving the read
// deadline forward and measuring the bitrate every 2 s. The callbacks run
// inside r.Read, so *cbErr is checked after each read.
func readLoop(conn net.Conn, sc *gortmplib.ServerConn, r *gortmplib.Reader, st *stream, cbErr *error) error {
	var lastDeadline, lastRate time.Time
	lastBytes := sc.BytesReceived()
	for {
		now := time.Now()
		if now.Sub(lastDeadline) > time.Second {
			conn.SetDeadline(now.Add(readTimeout))
			lastDeadline = now
		}
		if lastRate.IsZero() {
			lastRate = now
		} else if d := now.Sub(lastRate); d >= 2*time.Second {
			b := sc.BytesReceived()
			st.bitrate.Store(int64(float64(b-lastBytes) * 8 / d.Seconds()))
			lastBytes, lastRate = b, now
		}
		if err := r.Read(); err != nil {
			return fmt.Errorf("rtmp read: %w", err)
		}
		if *cbErr != nil {
			return *cbErr
		}
	}
}

// paramsOnly reports whether au carries only SPS/PPS (the RTMP sequence
// header replayed by gortmplib), which is not a frame.
func paramsOnly(au [][]byte) bool {
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS, h264.NALUTypePPS, h264.NALUTypeAccessUnitDelimiter:
		default:
			return false
		}
	}
	return true
}

func audioConfig(t *gortmplib.Track) *mpeg4audio.AudioSpecificConfig {
	if t == nil {
		return nil
	}
	return t.Codec.(*codecs.MPEG4Audio).Config
}
