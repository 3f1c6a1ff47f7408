package video

import (
	"time"
)

const (
	// viewerQueue is how many FLV tags a viewer may lag behind (about 10 s
	// of 25 fps video plus AAC). A viewer that falls further behind skips to
	// the next keyframe instead of slowing the publisher or other viewers.
	viewerQueue = 1024
	// maxGOPBytes caps the join cache for publishers with very long or no
	// keyframe intervals.
	maxGOPBytes = 16 << 20
)

// flvViewer is one HTTP-FLV connection's queue. Tags are shared, never
// copied per viewer.
type flvViewer struct {
	ch      chan *flvTag
	waitKey bool // dropping until the next keyframe after an overflow
	dropped int
}

// send queues t without blocking; on overflow the viewer skips ahead to the
// next keyframe so it resumes with a decodable picture.
func (v *flvViewer) send(t *flvTag) {
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

// claim makes sess the room's publisher unless another one is active.
func (st *stream) claim(sess *session) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pub != nil {
		return false
	}
	st.pub = sess
	st.head = nil
	st.gop = st.gop[:0]
	st.gopBytes = 0
	st.bitrate.Store(0)
	return true
}

// release ends sess: FLV viewers are disconnected (their players reconnect
// to the next publish and get fresh sequence headers); the live HLS window
// stays so HLS players ride through a reconnect. Idempotent.
func (st *stream) release(sess *session) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pub != sess {
		return
	}
	st.pub = nil
	st.head = nil
	st.gop = nil
	st.gopBytes = 0
	st.bitrate.Store(0)
	close(sess.done)
	for v := range st.viewers {
		delete(st.viewers, v)
	}
}

// setInfo updates sess fields that Status reads, under the stream lock.
func (st *stream) setInfo(sess *session, fn func()) {
	st.mu.Lock()
	defer st.mu.Unlock()
	fn()
}

// setHead publishes the FLV stream head; FLV viewers can join from now on.
func (st *stream) setHead(sess *session, head []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pub == sess {
		st.head = head
	}
}

// broadcast appends t to the join cache and queues it to every viewer.
func (st *stream) broadcast(t *flvTag, hasVideo bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if hasVideo {
		if t.video && t.key {
			clear(st.gop)
			st.gop = st.gop[:0]
			st.gopBytes = 0
		}
		if len(st.gop) > 0 || (t.video && t.key) {
			if st.gopBytes+len(t.b) > maxGOPBytes {
				// no join point until the next keyframe
				clear(st.gop)
				st.gop = st.gop[:0]
				st.gopBytes = 0
			} else {
				st.gop = append(st.gop, t)
				st.gopBytes += len(t.b)
			}
		}
	}
	for v := range st.viewers {
		v.send(t)
	}
}

// join registers a viewer of sess and returns the bytes to send first
// (header, metadata, sequence headers); the join cache from the last
// keyframe is already queued. ok is false if sess is no longer live.
func (st *stream) join(sess *session) (v *flvViewer, head []byte, ok bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pub != sess || st.head == nil {
		return nil, nil, false
	}
	v = &flvViewer{ch: make(chan *flvTag, viewerQueue)}
	if len(st.gop) < viewerQueue/2 {
		for _, t := range st.gop {
			v.ch <- t
		}
	} else {
		v.waitKey = true
	}
	st.viewers[v] = struct{}{}
	return v, st.head, true
}

func (st *stream) leave(v *flvViewer) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.viewers, v)
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

// headReady reports whether FLV viewers can join sess.
func (st *stream) headReady(sess *session) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.pub == sess && st.head != nil
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
