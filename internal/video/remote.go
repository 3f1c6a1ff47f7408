package video

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/objstore"
)

// Replay reads local files first and falls back to the object store, so a
// node that did not record a live (another data dir) still serves its
// replay. The store's list of a room's recordings is cached briefly:
// Recordings runs on every room page.

// remoteTTL is how long a room's list of stored recordings is reused.
const remoteTTL = 3 * time.Second

// remoteLiveWindow: a stored recording without an "end" line whose last
// segment ended this recently is taken as still being recorded on another
// node (its replay playlist stays open); older, it was cut off by a crash.
const remoteLiveWindow = 30 * time.Second

type remoteIndex struct {
	mu    sync.Mutex
	rooms map[string]remoteRoom
}

type remoteRoom struct {
	at   time.Time
	recs map[string]*recordingFile // by recording ID
}

// recordings lists a room's recordings, local ones and those only in the
// object store, oldest first.
func (s *Server) recordings(ctx context.Context, slug string) []*recordingFile {
	out := listRecordings(s.log, s.cfg.DataDir, slug)
	if s.cfg.Store == nil {
		return out
	}
	local := make(map[string]bool, len(out))
	for _, rf := range out {
		local[rf.ID] = true
	}
	for id, rf := range s.remoteRecordings(ctx, slug) {
		if !local[id] && len(rf.Segs) > 0 {
			out = append(out, rf)
		}
	}
	sortRecordings(out)
	return out
}

// remoteRecordings reads the journals of a room's recordings in the store.
// Ended recordings never change, so their journals are read once.
func (s *Server) remoteRecordings(ctx context.Context, slug string) map[string]*recordingFile {
	s.remote.mu.Lock()
	prev := s.remote.rooms[slug]
	s.remote.mu.Unlock()
	if prev.recs != nil && time.Since(prev.at) < remoteTTL {
		return prev.recs
	}
	ids, err := s.cfg.Store.Dirs(ctx, recKey(slug, "")+"/")
	if err != nil {
		// Keep what was known, and do not ask again for remoteTTL: room
		// pages must not wait for a store that is down on every render.
		s.log.Warn("video: listing recordings in the object store", "slug", slug, "err", err)
		s.remember(slug, prev.recs)
		return prev.recs
	}
	recs := make(map[string]*recordingFile, len(ids))
	for _, id := range ids {
		if !recIDRe.MatchString(id) {
			continue
		}
		if rf := prev.recs[id]; rf != nil && rf.Ended {
			recs[id] = rf
			continue
		}
		rf, err := s.remoteRecording(ctx, slug, id)
		if err != nil {
			if !errors.Is(err, objstore.ErrNotFound) { // a journal not copied yet is normal
				s.log.Warn("video: unreadable recording in the object store", "slug", slug, "recording", id, "err", err)
			}
			continue
		}
		recs[id] = rf
	}
	s.remember(slug, recs)
	return recs
}

// remember caches a room's stored recordings for remoteTTL.
func (s *Server) remember(slug string, recs map[string]*recordingFile) {
	if recs == nil {
		recs = map[string]*recordingFile{}
	}
	s.remote.mu.Lock()
	defer s.remote.mu.Unlock()
	if s.remote.rooms == nil || len(s.remote.rooms) >= maxRemoteRooms {
		s.remote.rooms = make(map[string]remoteRoom) // requests for made-up slugs must not grow it forever
	}
	s.remote.rooms[slug] = remoteRoom{at: time.Now(), recs: recs}
}

// maxRemoteRooms bounds the cache of stored recordings.
const maxRemoteRooms = 4096

// remoteRecording reads one journal from the store.
func (s *Server) remoteRecording(ctx context.Context, slug, recID string) (*recordingFile, error) {
	rc, _, err := s.cfg.Store.Get(ctx, recKey(slug, recID)+"/journal")
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return nil, err
	}
	rf, err := parseJournal(slug, recID, b)
	if err != nil {
		return nil, err
	}
	rf.Remote = true
	return rf, nil
}

// recording reads one recording: the local journal, else the stored one.
func (s *Server) recording(ctx context.Context, slug, recID string) (*recordingFile, error) {
	rf, err := readRecording(s.cfg.DataDir, slug, recID)
	if err == nil || s.cfg.Store == nil || !errors.Is(err, os.ErrNotExist) {
		return rf, err
	}
	return s.remoteRecording(ctx, slug, recID)
}

// inProgress reports whether a recording is still being written: by a
// publisher on this node, or (stored only) recently on another node.
func (s *Server) inProgress(slug string, recs []*recordingFile) func(id string) bool {
	open := make(map[string]bool)
	for _, rf := range recs {
		if rf.Remote && !rf.Ended && len(rf.Segs) > 0 {
			last := rf.Segs[len(rf.Segs)-1]
			open[rf.ID] = time.Since(last.PDT.Add(last.Dur)) < remoteLiveWindow
		}
	}
	return func(id string) bool { return open[id] || s.recordingInProgress(slug, id) }
}

// serveStoredSegment serves a replay segment this node does not have on
// disk from the object store.
func (s *Server) serveStoredSegment(w http.ResponseWriter, r *http.Request, slug, recID string, seq int) {
	rc, info, err := s.cfg.Store.Get(r.Context(), recKey(slug, recID)+"/"+segInfo{Seq: seq}.file())
	if errors.Is(err, objstore.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.log.Error("video: reading a segment from the object store", "slug", slug, "recording", recID, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	defer rc.Close()
	setSegmentHeaders(w)
	if info.ETag != "" {
		w.Header().Set("ETag", info.ETag)
	}
	objstore.OneRange(r)
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", info.ModTime, rs)
		return
	}
	io.Copy(w, rc)
}
