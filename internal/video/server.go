package video

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the embedded media server: RTMP ingest (ListenAndServe), HTTP
// playback and replay (Handler), and status for the studio (Status,
// Recordings). One Server serves every room.
type Server struct {
	cfg Config
	log *slog.Logger
	ln  net.Listener

	mu      sync.Mutex
	streams map[string]*stream
	conns   map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup

	mirror *mirror     // copies recordings to cfg.Store; nil without one
	remote remoteIndex // recordings found in cfg.Store
}

// stream is one room's media state while the Server runs. It outlives a
// single publish so that the live HLS window continues across reconnects.
type stream struct {
	slug string

	mu      sync.Mutex
	pub     *session // nil while nobody publishes
	feeds   [numFeeds]feed
	window  liveWindow
	hlsSeen map[string]time.Time
	bitrate atomic.Int64 // bits per second
}

// session is one publisher connection.
type session struct {
	id         int64
	addr       string
	since      time.Time
	recID      string
	videoCodec string
	audioCodec string
	done       chan struct{} // closed when the publish ends
}

// New binds the RTMP listener (so Addr works at once) and prepares the
// data directory. Call ListenAndServe to accept publishers.
func New(cfg Config) (*Server, error) {
	if cfg.Rooms == nil {
		return nil, errors.New("video: Config.Rooms is required")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("video: Config.DataDir is required")
	}
	if cfg.RTMPAddr == "" {
		cfg.RTMPAddr = ":1935"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SegmentDuration <= 0 {
		cfg.SegmentDuration = time.Second
	}
	if cfg.LiveWindow <= 0 {
		cfg.LiveWindow = 6
	}
	if err := os.MkdirAll(videoDir(cfg.DataDir), 0o755); err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.RTMPAddr)
	if err != nil {
		return nil, fmt.Errorf("video: rtmp listen: %w", err)
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		ln:      ln,
		streams: make(map[string]*stream),
		conns:   make(map[net.Conn]struct{}),
	}
	if cfg.Store != nil {
		s.mirror = newMirror(cfg.Store, cfg.DataDir, cfg.Logger)
		s.mirror.catchUp()
	}
	return s, nil
}

// mirrorDrain is how long shutdown waits for recording copies to the
// object store; what is left is copied at the next start.
const mirrorDrain = 10 * time.Second

// Addr is the bound RTMP address (useful with port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// ListenAndServe accepts RTMP publishers until ctx is done, then closes the
// listener and every publisher (which ends their recordings and calls
// Rooms.StreamStopped) and returns nil.
func (s *Server) ListenAndServe(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	var tempDelay time.Duration
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				s.wg.Wait()                 // every recording is finalized…
				s.mirror.close(mirrorDrain) // …and copied
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				tempDelay = min(max(tempDelay*2, 5*time.Millisecond), time.Second)
				time.Sleep(tempDelay)
				continue
			}
			s.Close() // the listener is broken: end the streams, finish and copy their recordings
			s.wg.Wait()
			s.mirror.close(mirrorDrain)
			return fmt.Errorf("video: rtmp accept: %w", err)
		}
		tempDelay = 0
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			continue
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handleConn(ctx, conn)
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
		}()
	}
}

// Close stops ingest: it closes the listener and all publisher connections.
// ListenAndServe returns once their recordings are finalized.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	err := s.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	return err
}

// getStream returns the room's stream state, creating it.
func (s *Server) getStream(slug string) *stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[slug]
	if st == nil {
		st = newStream(slug, s.cfg.LiveWindow)
		s.streams[slug] = st
	}
	return st
}

// lookupStream returns the room's stream state or nil.
func (s *Server) lookupStream(slug string) *stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[slug]
}

// hlsWindow is how long a playlist fetch counts a client as an HLS viewer.
const hlsWindow = 10 * time.Second

// Status reports a room's ingest and audience. Unknown rooms report
// Live=false.
func (s *Server) Status(slug string) StreamStatus {
	out := StreamStatus{Slug: slug}
	st := s.lookupStream(slug)
	if st == nil {
		return out
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out.FLVViewers = len(st.feeds[feedFLV].viewers)
	out.MP4Viewers = len(st.feeds[feedMP4].viewers)
	now := time.Now()
	for k, t := range st.hlsSeen {
		if now.Sub(t) > hlsWindow {
			delete(st.hlsSeen, k)
		}
	}
	out.HLSViewers = len(st.hlsSeen)
	out.Viewers = out.FLVViewers + out.MP4Viewers + out.HLSViewers
	if p := st.pub; p != nil {
		out.Live = true
		out.Since = p.since
		out.PublisherAddr = p.addr
		out.VideoCodec = p.videoCodec
		out.AudioCodec = p.audioCodec
		out.Recording = p.recID
		out.BitrateKbps = int(st.bitrate.Load() / 1000)
	}
	return out
}

// Recordings lists a room's recordings on disk, oldest first, including
// those made before a restart. Offsets chain them as in the room replay
// playlist.
func (s *Server) Recordings(slug string) []Recording {
	if !ValidSlug(slug) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	files := s.recordings(ctx, slug)
	inProgress := s.inProgress(slug, files)
	out := make([]Recording, 0, len(files))
	var off time.Duration
	for _, f := range files {
		d := f.duration()
		out = append(out, Recording{
			ID:          f.ID,
			Slug:        slug,
			StartedAt:   f.StartedAt,
			Duration:    d,
			Offset:      off,
			Segments:    len(f.Segs),
			InProgress:  inProgress(f.ID),
			PlaylistURL: "/media/replay/" + slug + "/" + f.ID + ".m3u8",
			ReplayURL:   ReplayURL(slug),
		})
		off += d
	}
	return out
}

func (s *Server) recordingInProgress(slug, recID string) bool {
	st := s.lookupStream(slug)
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.pub != nil && st.pub.recID == recID
}

// Streams returns the status of every room that has published since the
// Server started, for dashboards and metrics.
func (s *Server) Streams() []StreamStatus {
	s.mu.Lock()
	slugs := make([]string, 0, len(s.streams))
	for slug := range s.streams {
		slugs = append(slugs, slug)
	}
	s.mu.Unlock()
	sort.Strings(slugs)
	out := make([]StreamStatus, 0, len(slugs))
	for _, slug := range slugs {
		out = append(out, s.Status(slug))
	}
	return out
}

// IngestURL is the server URL to paste into OBS ("Server"; the stream key
// goes into "Stream Key"): rtmp://{publicHost}:{port}/live, with the port
// this Server listens on. publicHost is the host name publishers reach
// ShelfLive at.
func (s *Server) IngestURL(publicHost string) string {
	port := "1935"
	if a, ok := s.ln.Addr().(*net.TCPAddr); ok {
		port = strconv.Itoa(a.Port)
	}
	return "rtmp://" + net.JoinHostPort(publicHost, port) + "/live"
}
