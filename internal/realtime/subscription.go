package realtime

import (
	"bytes"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// class is a frame's delivery class; it decides what happens when a queue is full.
type class uint8

const (
	// classLossy frames (batches) are dropped for a connection whose queue is full.
	classLossy class = iota
	// classOwn frames (own-comment echoes, pongs) evict a queued lossy frame when the
	// queue is full, and are dropped only if nothing can be evicted.
	classOwn
	// classReliable frames (events, snapshots, personal messages) evict a queued lossy
	// frame when the queue is full; if the queue holds only non-lossy frames, the
	// subscription ends with slow_consumer and the client resumes from its seq.
	classReliable
)

type queued struct {
	b  []byte
	c  class
	n  int32 // batches: the tick's comments (shown + dropped), carried over if a newer batch replaces it
	at int64 // Unix ns when queued, for the queue-delay histograms
}

// Subscription is one connection's view of the hub: a bounded queue of encoded
// frames, filled by the hub and drained by exactly one writer goroutine.
//
// The queue costs nothing while empty (no preallocated buffer, no goroutine, no
// timer), which keeps idle viewers cheap.
type Subscription struct {
	h      *LocalHub
	user   string
	hidden bool
	onEnd  func(code string)
	limit  int

	mu      sync.Mutex
	q       []queued
	missed  int  // comments of batches replaced before the writer took them; added to the next batch's "dropped"
	ended   bool // no more frames accepted
	closed  bool // Close was called (membership removed)
	counted bool // included in Stats.Subscriptions
	code    string
	reason  string
	members []*member

	isEnded atomic.Bool // ended, readable without the lock

	// Oldest enqueue times of the frames handed out by the last Frames call
	// (0 = none), reported by Delivered.
	drainedRel, drainedLossy int64

	ready  chan struct{}                     // capacity 1: "the queue became non-empty"
	notify atomic.Pointer[func(urgent bool)] // set: queued frames call it instead of signalling ready
	wake   atomic.Pointer[func()]            // set: Wake calls it instead of signalling ready
	done   chan struct{}                     // closed when the hub ends the subscription
}

func newSubscription(h *LocalHub, opts SubscribeOptions) *Subscription {
	return &Subscription{
		h:      h,
		user:   opts.User,
		hidden: opts.Hidden,
		onEnd:  opts.OnEnd,
		limit:  h.opts.QueueLen,
		ready:  make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
}

// User returns the subscription's user key.
func (s *Subscription) User() string { return s.user }

// Epoch returns the hub instance id for the hello frame.
func (s *Subscription) Epoch() string { return s.h.epoch }

// Ready is signalled when frames are queued or the subscription ended; then check
// IsEnded and call Frames.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Done is closed when the hub ended the subscription (see Ended).
func (s *Subscription) Done() <-chan struct{} { return s.done }

// IsEnded reports cheaply (no lock) whether the subscription has ended.
func (s *Subscription) IsEnded() bool { return s.isEnded.Load() }

// Ended returns why the hub ended the subscription: a Code* constant and a reason
// for the bye frame; empty while it is live.
func (s *Subscription) Ended() (code, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code, s.reason
}

// Frames moves all queued frames into buf (reusing its storage) in order and
// returns it. The frames are shared between connections: never modify them.
func (s *Subscription) Frames(buf [][]byte) [][]byte {
	s.mu.Lock()
	s.drainedRel, s.drainedLossy = 0, 0
	for i := range s.q {
		b := s.q[i].b
		if s.q[i].c == classLossy && s.missed > 0 {
			b = addDropped(b, s.missed) // this connection's copy says what it missed
			s.missed = 0
		}
		buf = append(buf, b)
		s.q[i].b = nil
		switch at := s.q[i].at; {
		case s.q[i].c == classLossy:
			if s.drainedLossy == 0 || at < s.drainedLossy {
				s.drainedLossy = at
			}
		case s.drainedRel == 0 || at < s.drainedRel:
			s.drainedRel = at
		}
	}
	if cap(s.q) > 64 {
		s.q = nil // give back memory after a burst
	} else {
		s.q = s.q[:0]
	}
	s.mu.Unlock()
	return buf
}

// AppendFrames is Frames for a writer that sends everything as one byte
// string: it appends each queued frame to dst, preceded by header(dst, its
// length), empties the queue and returns dst and the number of frames. A
// batch's "dropped" count for this connection is written into dst as it goes
// instead of into a copy of the shared frame, so a write allocates nothing.
func (s *Subscription) AppendFrames(dst []byte, header func(dst []byte, n int) []byte) ([]byte, int) {
	s.mu.Lock()
	s.drainedRel, s.drainedLossy = 0, 0
	n := len(s.q)
	for i := range s.q {
		b := s.q[i].b
		if s.q[i].c == classLossy && s.missed > 0 {
			dst = appendWithDropped(dst, b, s.missed, header)
			s.missed = 0
		} else {
			dst = header(dst, len(b))
			dst = append(dst, b...)
		}
		s.q[i].b = nil
		switch at := s.q[i].at; {
		case s.q[i].c == classLossy:
			if s.drainedLossy == 0 || at < s.drainedLossy {
				s.drainedLossy = at
			}
		case s.drainedRel == 0 || at < s.drainedRel:
			s.drainedRel = at
		}
	}
	if cap(s.q) > 64 {
		s.q = nil
	} else {
		s.q = s.q[:0]
	}
	s.mu.Unlock()
	return dst, n
}

// Delivered tells the hub that the frames of the last Frames (or
// AppendFrames) call reached the socket, so that it can record how long they
// waited (Stats.ReliableDelay and Stats.LossyDelay: hub queue + writer
// scheduling + socket write). It reports whether more frames have been queued
// since.
func (s *Subscription) Delivered() (more bool) {
	s.h.nWrites.Add(1)
	now := time.Now().UnixNano()
	s.mu.Lock()
	rel, lossy := s.drainedRel, s.drainedLossy
	s.drainedRel, s.drainedLossy = 0, 0
	more = len(s.q) > 0
	s.mu.Unlock()
	if rel != 0 {
		s.h.delayRel.add(time.Duration(now - rel))
	}
	if lossy != 0 {
		s.h.delayLossy.add(time.Duration(now - lossy))
	}
	return more
}

// Len returns the number of queued frames.
func (s *Subscription) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.q)
}

// SetNotify makes every queued frame call f instead of signalling Ready, so a
// writer shared by many connections can be told which ones have something to
// write (urgent: an event, snapshot, personal message or own echo, which go
// before batches). Ready still signals the end, Wake and everything else.
// nil goes back to Ready.
func (s *Subscription) SetNotify(f func(urgent bool)) {
	if f == nil {
		s.notify.Store(nil)
		return
	}
	s.notify.Store(&f)
}

// SetWake makes Wake (and so the end) call f instead of signalling Ready,
// for an owner that keeps no goroutine waiting on Ready between events: f
// starts one when needed. f may run under the subscription's lock: it must
// not block or call back into the subscription.
func (s *Subscription) SetWake(f func()) { s.wake.Store(&f) }

// Wake signals Ready without queuing anything, so that the owner's single wait on
// Ready also covers its own events (client gone, server shutdown).
func (s *Subscription) Wake() {
	if f := s.wake.Load(); f != nil {
		(*f)()
		return
	}
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// Send queues a frame for this connection only (e.g. a pong). It is delivered like an
// own-comment echo: it may displace a lossy frame but never ends the subscription.
func (s *Subscription) Send(frame []byte) { s.push(frame, classOwn, time.Now().UnixNano()) }

// push queues frame according to its class. It never blocks.
func (s *Subscription) push(frame []byte, c class, at int64) { s.pushN(frame, c, at, 0) }

// pushN is push for a batch frame of n comments (shown + dropped). late
// reports that the previous batch was still unsent (replaced, or the queue
// was full): this connection's writer did not keep up.
func (s *Subscription) pushN(frame []byte, c class, at int64, n int32) (late bool) {
	s.mu.Lock()
	late, queued := s.pushLocked(frame, c, at, n)
	s.mu.Unlock()
	if queued {
		s.signal(c != classLossy)
	}
	return late
}

// pushBatchAndEvent queues a batch frame of n comments and a guaranteed
// event frame right behind it (a commerce event taking the pending batch
// along), with one lock and one writer notification for both; late as for
// pushN.
func (s *Subscription) pushBatchAndEvent(batch []byte, n int32, ev []byte, at int64) (late bool) {
	s.mu.Lock()
	late, q1 := s.pushLocked(batch, classLossy, at, n)
	_, q2 := s.pushLocked(ev, classReliable, at, 0)
	s.mu.Unlock()
	if q1 || q2 {
		s.signal(q2)
	}
	return late
}

// pushLocked queues frame according to its class; ok reports whether it was
// (not dropped, the subscription not ended), late as for pushN.
func (s *Subscription) pushLocked(frame []byte, c class, at int64, n int32) (late, ok bool) {
	if s.ended {
		return false, false
	}
	if c == classLossy {
		// A batch the writer has not taken yet is stale once a newer one is
		// ready: the newer carries the like total and viewer count, and its
		// comments are the ones worth showing. Replace it rather than queue
		// behind it, so that a connection whose writer is late (the CPU is
		// short) gets one fresh batch per write instead of a backlog: batches
		// widen under overload and narrow again by themselves, comment latency
		// stays near one tick, and the writes saved go to events and the API.
		for i := len(s.q) - 1; i >= 0; i-- {
			if s.q[i].c == classLossy {
				s.missed += int(s.q[i].n)
				copy(s.q[i:], s.q[i+1:])
				s.q[len(s.q)-1] = queued{}
				s.q = s.q[:len(s.q)-1]
				s.h.nLossyReplaced.Add(1)
				late = true
				break
			}
		}
	}
	if len(s.q) >= s.limit {
		if c == classLossy || !s.evictLossyLocked() {
			switch c {
			case classLossy, classOwn:
				s.h.nLossyDropped.Add(1)
				if c == classLossy {
					s.missed += int(n)
				}
				return c == classLossy, false
			}
			s.endLocked(CodeSlowConsumer, reasonSlow)
			s.h.nSlow.Add(1)
			s.h.log.Debug("realtime: slow consumer ended", "user", s.user)
			return false, false
		}
	}
	s.q = append(s.q, queued{frame, c, n, at})
	return late, true
}

// signal tells the writer that frames were queued (urgent: not only batches).
func (s *Subscription) signal(urgent bool) {
	if f := s.notify.Load(); f != nil {
		(*f)(urgent)
		return
	}
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// evictLossyLocked removes the oldest lossy frame; false if there is none.
func (s *Subscription) evictLossyLocked() bool {
	for i := range s.q {
		if s.q[i].c == classLossy {
			s.missed += int(s.q[i].n)
			copy(s.q[i:], s.q[i+1:])
			s.q[len(s.q)-1] = queued{}
			s.q = s.q[:len(s.q)-1]
			s.h.nLossyDropped.Add(1)
			return true
		}
	}
	return false
}

// end stops accepting frames and tells the writer why.
func (s *Subscription) end(code, reason string) {
	s.mu.Lock()
	s.endLocked(code, reason)
	s.mu.Unlock()
}

func (s *Subscription) endLocked(code, reason string) {
	if s.ended {
		return
	}
	s.ended = true
	s.isEnded.Store(true)
	s.code, s.reason = code, reason
	close(s.done)
	s.Wake()
	if s.onEnd != nil && !s.closed {
		s.onEnd(code)
	}
}

// Close removes the subscription from its topics (presence drops at the next tick).
// It is idempotent; the WebSocket adapter calls it when the connection ends.
func (s *Subscription) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	wasCounted := s.counted
	if !s.ended {
		s.ended = true
		s.isEnded.Store(true)
		close(s.done)
		s.Wake()
	}
	s.q = nil
	members := s.members
	s.members = nil
	s.mu.Unlock()
	for _, m := range members {
		t := m.t
		t.mu.Lock()
		t.removeMemberLocked(m)
		t.mu.Unlock()
	}
	if wasCounted {
		s.h.nSubs.Add(-1)
	}
}

var droppedKey = []byte(`,"dropped":`)

// droppedField finds batch frame b's "dropped" count: the digits are b[j:k]
// and their value old; ok is false if b has none. The key cannot occur inside
// a JSON string (quotes are escaped there), so the first match is the field.
func droppedField(b []byte) (j, k, old int, ok bool) {
	i := bytes.Index(b, droppedKey)
	if i < 0 {
		return 0, 0, 0, false
	}
	j = i + len(droppedKey)
	k = j
	for k < len(b) && b[k] >= '0' && b[k] <= '9' {
		old = old*10 + int(b[k]-'0')
		k++
	}
	return j, k, old, true
}

// addDropped returns a copy of batch frame b whose "dropped" count is n higher.
func addDropped(b []byte, n int) []byte {
	return appendWithDropped(make([]byte, 0, len(b)+8), b, n, nil)
}

// appendWithDropped appends batch frame b with its "dropped" count n higher,
// preceded by header(dst, the new length) when header is set.
func appendWithDropped(dst, b []byte, n int, header func([]byte, int) []byte) []byte {
	j, k, old, ok := droppedField(b)
	if !ok {
		if header != nil {
			dst = header(dst, len(b))
		}
		return append(dst, b...)
	}
	var num [20]byte
	digits := strconv.AppendInt(num[:0], int64(old+n), 10)
	if header != nil {
		dst = header(dst, len(b)-(k-j)+len(digits))
	}
	dst = append(dst, b[:j]...)
	dst = append(dst, digits...)
	return append(dst, b[k:]...)
}
