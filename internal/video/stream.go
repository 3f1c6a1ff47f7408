package video

import (
	"time"
)

const (
	// viewerQueue is how many chunks (FLV tags or fMP4 fragments) a viewer
	// may lag behind (about 10 s of 25 fps video plus AAC). A viewer that
	// falls further behind skips to the next keyframe instead of slowing the
	// publisher or other viewers.
	viewerQueue = 1024
	// maxGOPBytes caps the join cache for publishers with very long or no
	// keyframe intervals.
	maxGOPBytes = 16 << 20
)

// feedKind names one of the live remuxes a stream serves over HTTP.
type feedKind int

const (
	feedFLV feedKind = iota // HTTP-FLV (mpegts.js, external tools)
	feedMP4                 // fragmented MP4 (the page's own MSE player)
	numFeeds
)

// chunk is one muxed unit of a feed (an FLV tag, an fMP4 fragment), muxed
// once per stream and shared read-only by every viewer of that feed.
type chunk struct {
	b     []byte
	video bool
	key   bool // a join point: video keyframe (or sequence header)
}

// feed is one remux of the publisher's stream: the head a joining viewer
// gets first, the chunks since the last keyframe, and the open viewers.
type feed struct {
	head     []byte // nil until the muxer has written it; no joins before
	ctype    string // the response's Content-Type
	gop      []*chunk
	gopBytes int
	viewers  map[*viewer]struct{}
}

// reset empties the feed for a new publisher (or none).
func (f *feed) reset() {
	f.head, f.ctype = nil, ""
	clear(f.gop)
	f.gop = f.gop[:0]
	f.gopBytes = 0
	for v := range f.viewers {
		delete(f.viewers, v)
	}
}

// viewer is one HTTP connection's queue. Chunks are shared, never copied
// per viewer.
type viewer struct {
	ch      chan *chunk
	waitKey bool // dropping until the next keyframe after an overflow
	dropped int
}

// send queues t without blocking; on overflow the viewer skips ahead to the
// next keyframe so it resumes with a decodable picture.
func (v *viewer) send(t *chunk) {
	if v.waitKey {
		if !t.key || len(v.ch) > cap(v.ch)/2 {
			v.dropped++
			return
		}
		v.waitKey = false
	}
	select {
	case v.ch <- t:
	default:
		v.waitKey = true
		v.dropped++
	}
}

// newStream returns an idle stream whose live HLS window keeps window
// segments.
func newStream(slug string, window int) *stream {
	st := &stream{slug: slug, hlsSeen: make(map[string]time.Time), window: liveWindow{max: window}}
	for k := range st.feeds {
		st.feeds[k].viewers = make(map[*viewer]struct{})
	}
	return st
}

// claim makes sess the room's publisher unless another one is active.
func (st *stream) claim(sess *session) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pub != nil {
		return false
	}
	st.pub = sess
	for k := range st.feeds {
		st.feeds[k].reset()
	}
	st.bitrate.Store(0)
	return true
}

// release ends sess: HTTP viewers are disconnected (their players reconnect
// to the next publish and get fresh sequence headers); the live HLS window
// stays so HLS players ride through a reconnect. Idempotent.
func (st *stream) release(sess *session) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pub != sess {
		return
	}
	st.pub = nil
	for k := range st.feeds {
		st.feeds[k].reset()
	}
	st.bitrate.Store(0)
	close(sess.done)
}

// setInfo updates sess fields that Status reads, under the stream lock.
func (st *stream) setInfo(sess *session, fn func()) {
	st.mu.Lock()
	defer st.mu.Unlock()
	fn()
}

// setHead publishes a feed's head and Content-Type; its viewers can join
// from now on.
func (st *stream) setHead(sess *session, k feedKind, head []byte, ctype string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pub == sess {
		st.feeds[k].head, st.feeds[k].ctype = head, ctype
	}
}

// broadcast appends t to the feed's join cache and queues it to every
// viewer of the feed.
func (st *stream) broadcast(k feedKind, t *chunk, hasVideo bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f := &st.feeds[k]
	if hasVideo {
		if t.video && t.key {
			clear(f.gop)
			f.gop = f.gop[:0]
			f.gopBytes = 0
		}
		if len(f.gop) > 0 || (t.video && t.key) {
			if f.gopBytes+len(t.b) > maxGOPBytes {
				// no join point until the next keyframe
				clear(f.gop)
				f.gop = f.gop[:0]
				f.gopBytes = 0
			} else {
				f.gop = append(f.gop, t)
				f.gopBytes += len(t.b)
			}
		}
	}
	for v := range f.viewers {
		v.send(t)
	}
}

// join registers a viewer of sess's feed k and returns the bytes to send
// first (FLV header and sequence headers, the fMP4 init segment) and their
// Content-Type; the join cache from the last keyframe is already queued.
// ok is false if sess is no longer live or the feed has no head.
func (st *stream) join(sess *session, k feedKind) (v *viewer, head []byte, ctype string, ok bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f := &st.feeds[k]
	if st.pub != sess || f.head == nil {
		return nil, nil, "", false
	}
	v = &viewer{ch: make(chan *chunk, viewerQueue)}
	if len(f.gop) < viewerQueue/2 {
		for _, t := range f.gop {
			v.ch <- t
		}
	} else {
		v.waitKey = true
	}
	f.viewers[v] = struct{}{}
	return v, f.head, f.ctype, true
}

func (st *stream) leave(k feedKind, v *viewer) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.feeds[k].viewers, v)
}

// addSegment is the recorder's callback for a finished segment.
func (st *stream) addSegment(s segInfo) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.window.add(s, 1)
}

// current returns the active session, or nil.
func (st *stream) current() *session {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.pub
}

// headReady reports whether viewers of feed k can join sess.
func (st *stream) headReady(sess *session, k feedKind) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.pub == sess && st.feeds[k].head != nil
}

// seenHLS records an HLS client for the viewer estimate.
func (st *stream) seenHLS(client string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := time.Now()
	st.hlsSeen[client] = now
	if len(st.hlsSeen) > 4096 { // bound memory under a playlist flood
		for k, t := range st.hlsSeen {
			if now.Sub(t) > hlsWindow {
				delete(st.hlsSeen, k)
			}
		}
	}
}
