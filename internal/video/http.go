package video

import (
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Handler serves playback and replay. Mount it at MediaPrefix:
//
//	mux.Handle("/media/", videoServer.Handler())
//
// Routes:
//
//	GET /media/live/{slug}.flv             HTTP-FLV from the last keyframe
//	GET /media/live/{slug}.mp4             fragmented MP4 from the last keyframe
//	GET /media/live/{slug}/index.m3u8      live HLS (MPEG-TS segments)
//	GET /media/live/{slug}/{segment}.ts
//	GET /media/replay/{slug}/index.m3u8    VOD of all the room's recordings
//	GET /media/replay/{slug}/{recording}.m3u8  VOD of one recording
//	GET /media/replay/{slug}/{segment}.ts
//
// Media responses allow any origin, so a page on another host (or a CDN in
// front) can play them.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /media/live/{name}", s.handleLive)
	mux.HandleFunc("GET /media/live/{slug}/index.m3u8", s.handleLivePlaylist)
	mux.HandleFunc("GET /media/live/{slug}/{seg}", s.handleSegment)
	mux.HandleFunc("GET /media/replay/{slug}/index.m3u8", s.handleReplayPlaylist)
	mux.HandleFunc("GET /media/replay/{slug}/{file}", s.handleReplayFile)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		mux.ServeHTTP(w, r)
	})
}

// joinWait is how long a live request waits for a publisher that is
// still detecting its tracks.
const joinWait = 5 * time.Second

// handleLive streams a room's live remux, HTTP-FLV or fragmented MP4 by
// the name's extension: the head, the chunks since the last keyframe, then
// every chunk as it is muxed, until the publish ends or the client leaves.
func (s *Server) handleLive(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	kind := feedFLV
	slug, ok := strings.CutSuffix(name, ".flv")
	if !ok {
		kind = feedMP4
		slug, ok = strings.CutSuffix(name, ".mp4")
	}
	if !ok || !ValidSlug(slug) {
		http.NotFound(w, r)
		return
	}
	st := s.lookupStream(slug)
	if st == nil {
		http.Error(w, "not live", http.StatusNotFound)
		return
	}
	sess := st.current()
	if sess == nil {
		http.Error(w, "not live", http.StatusNotFound)
		return
	}
	deadline := time.Now().Add(joinWait)
	for !st.headReady(sess, kind) {
		if time.Now().After(deadline) {
			http.Error(w, "not live", http.StatusNotFound)
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-sess.done:
			http.Error(w, "not live", http.StatusNotFound)
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	v, head, ctype, ok := st.join(sess, kind)
	if !ok {
		http.Error(w, "not live", http.StatusNotFound)
		return
	}
	defer st.leave(kind, v)
	serveChunks(w, r, sess, v, head, ctype)
}

// serveChunks writes head, then v's queue as it fills, flushing once per
// batch, until sess ends, the client leaves or a write fails.
func serveChunks(w http.ResponseWriter, r *http.Request, sess *session, v *viewer, head []byte, ctype string) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	rc := http.NewResponseController(w)
	var lastDeadline time.Time
	write := func(b []byte) bool {
		if now := time.Now(); now.Sub(lastDeadline) > time.Second {
			// a stuck client must not pin a goroutine forever
			rc.SetWriteDeadline(now.Add(15 * time.Second))
			lastDeadline = now
		}
		_, err := w.Write(b)
		return err == nil
	}
	if !write(head) || rc.Flush() != nil {
		return
	}
	for {
		select {
		case t := <-v.ch:
			if !write(t.b) {
				return
			}
			// drain what is already queued, then flush once
			for n := len(v.ch); n > 0; n-- {
				if !write((<-v.ch).b) {
					return
				}
			}
			if rc.Flush() != nil {
				return
			}
		case <-sess.done:
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) handleLivePlaylist(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !ValidSlug(slug) {
		http.NotFound(w, r)
		return
	}
	st := s.lookupStream(slug)
	if st == nil {
		http.Error(w, "not live", http.StatusNotFound)
		return
	}
	st.mu.Lock()
	win := st.window
	var body string
	if len(win.segs) > 0 {
		body = livePlaylist(win.segs, win.mediaSeq, win.discSeq, win.target)
	}
	st.mu.Unlock()
	if body == "" {
		http.Error(w, "not live", http.StatusNotFound)
		return
	}
	st.seenHLS(clientKey(r))
	writePlaylist(w, r, body)
}

func (s *Server) handleReplayPlaylist(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !ValidSlug(slug) {
		http.NotFound(w, r)
		return
	}
	recs := s.recordings(r.Context(), slug)
	if len(recs) == 0 {
		http.Error(w, "no recording", http.StatusNotFound)
		return
	}
	writePlaylist(w, r, vodPlaylist(recs, s.inProgress(slug, recs)))
}

func (s *Server) handleReplayFile(w http.ResponseWriter, r *http.Request) {
	slug, file := r.PathValue("slug"), r.PathValue("file")
	recID, ok := strings.CutSuffix(file, ".m3u8")
	if !ok {
		s.handleSegment(w, r)
		return
	}
	if !ValidSlug(slug) || !recIDRe.MatchString(recID) {
		http.NotFound(w, r)
		return
	}
	rf, err := s.recording(r.Context(), slug, recID)
	if err != nil || len(rf.Segs) == 0 {
		http.Error(w, "no recording", http.StatusNotFound)
		return
	}
	recs := []*recordingFile{rf}
	writePlaylist(w, r, vodPlaylist(recs, s.inProgress(slug, recs)))
}

// handleSegment serves a finished segment file. Names are parsed and
// rebuilt, never joined raw, so no request reaches outside DataDir/video
// (or the recording's prefix in the object store). Live segments come from
// local disk only; a replay segment this node does not have comes from the
// object store.
func (s *Server) handleSegment(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	name := r.PathValue("seg")
	replay := name == ""
	if replay {
		name = r.PathValue("file")
	}
	recID, seq, ok := parseSegURI(name)
	if !ok || !ValidSlug(slug) {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(segPath(s.cfg.DataDir, slug, recID, seq))
	if err != nil {
		if replay && s.cfg.Store != nil && errors.Is(err, os.ErrNotExist) {
			s.serveStoredSegment(w, r, slug, recID, seq)
			return
		}
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	setSegmentHeaders(w)
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

func setSegmentHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "video/mp2t")
	// a segment is immutable once it appears in a playlist
	w.Header().Set("Cache-Control", "public, max-age=86400, immutable")
}

func writePlaylist(w http.ResponseWriter, r *http.Request, body string) {
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Header().Set("Cache-Control", "no-cache")
	if r.Method == http.MethodHead {
		return
	}
	w.Write([]byte(body))
}

// clientKey identifies an HLS player for the viewer estimate.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return host + "|" + r.UserAgent()
}
