package realtime

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"
)

// topic holds one topic's sequence, history, members and the lossy state of the
// current tick. Everything except the like counters is guarded by mu.
type topic struct {
	h        *LocalHub
	name     string
	nameJSON []byte // the topic name as a JSON string, encoded once
	epoch    string

	mu   sync.Mutex
	dead bool // freed by gcTopics; callers holding a stale pointer retry

	// Sequencing and history (the part a NATS hub would move into JetStream).
	seq      uint64
	hist     [][]byte // encoded "ev" frames, ring of at most opts.History
	histHead int      // index of the oldest frame once the ring is full

	// Snapshot reuse (see LocalHub.join).
	snap         *snapshot
	snapBuilding chan struct{} // closed when the snapshot being built is done

	// Local delivery.
	members       []*member
	byUser        map[string][]*member
	viewers       int // visible members
	remoteViewers int // visible members on other nodes (SetRemoteViewers)
	sentViewers   int // viewers value in the last batch frame

	// Lossy state of the current tick.
	pending    []Comment
	spare      []Comment
	overflow   int // comments beyond the pending cap this tick (counted as dropped)
	likesTotal atomic.Int64
	likesDelta atomic.Int64
	dirty      atomic.Bool

	lastActive time.Time
	lastFlush  time.Time     // last batch frame built
	lastEarly  bool          // … and it was taken along by an event
	width      time.Duration // current batch interval, Tick..MaxTick (see adapt)
	calm       int           // batches in a row the writers kept up with
}

// snapshot is an encoded snapshot frame and the position it stands for.
type snapshot struct {
	frame []byte
	epoch string
	seq   uint64
	at    time.Time
}

// member is one subscription's membership in one topic.
type member struct {
	t   *topic
	sub *Subscription
	idx int // position in t.members
}

func newTopic(h *LocalHub, name, epoch string) *topic {
	nj, _ := json.Marshal(name)
	return &topic{
		h:          h,
		name:       name,
		nameJSON:   nj,
		epoch:      epoch,
		byUser:     make(map[string][]*member),
		lastActive: time.Now(),
		width:      h.opts.Tick,
	}
}

// histLen is the number of events currently kept.
func (t *topic) histLen() uint64 { return uint64(len(t.hist)) }

// canReplayFrom reports whether every event after seq is still in history.
func (t *topic) canReplayFrom(seq uint64) bool {
	return seq <= t.seq && t.seq-seq <= t.histLen()
}

// eventFrame returns the history frame of seq; the caller checked it is kept.
func (t *topic) eventFrame(seq uint64) []byte {
	back := t.seq - seq // 0 = newest
	n := uint64(len(t.hist))
	i := (uint64(t.histHead) + n - 1 - back) % n
	return t.hist[i]
}

// appendEventLocked sequences one guaranteed event, records it and delivers it.
func (t *topic) appendEventLocked(typ string, data json.RawMessage) uint64 {
	t.recordLocked(t.seq+1, typ, data)
	return t.seq
}

// recordLocked is the local delivery step for an event already sequenced as seq
// (= t.seq+1): keep it in history for resume and queue it to every member.
func (t *topic) recordLocked(seq uint64, typ string, data json.RawMessage) {
	// Piggyback: if lossy state is pending and the last batch is not too recent,
	// build the batch now and queue it just before the event. Each connection's
	// writer then sends both with one socket write instead of two (the event still
	// goes out at once); at 10,000 viewers that saves a write per viewer per event.
	// The Tick/4 floor bounds batch frames to 4 per tick however many events come.
	t.seq = seq
	frame := encodeEvent(t.nameJSON, t.seq, typ, data)
	if max := t.h.opts.History; len(t.hist) < max {
		t.hist = append(t.hist, frame)
	} else {
		t.hist[t.histHead] = frame
		t.histHead = (t.histHead + 1) % max
	}
	t.lastActive = time.Now()
	if t.dirty.Load() && time.Since(t.lastFlush) >= t.h.opts.Tick/4 && t.batchLocked(true, frame) {
		return // queued right behind the batch, one lock and one writer nudge per member
	}
	t.deliverLocked(frame, classReliable)
}

// replayLocked queues the events after seq to s, oldest first.
func (t *topic) replayLocked(s *Subscription, seq uint64) {
	now := time.Now().UnixNano()
	for q := seq + 1; q <= t.seq; q++ {
		s.push(t.eventFrame(q), classReliable, now)
	}
}

// deliverLocked queues frame to every member.
func (t *topic) deliverLocked(frame []byte, c class) {
	now := time.Now().UnixNano() // one clock read for the whole fan-out
	for _, m := range t.members {
		m.sub.push(frame, c, now)
	}
	t.h.nQueued.Add(uint64(len(t.members)))
}

func (t *topic) addMemberLocked(s *Subscription) {
	m := &member{t: t, sub: s, idx: len(t.members)}
	t.members = append(t.members, m)
	if s.user != "" {
		t.byUser[s.user] = append(t.byUser[s.user], m)
	}
	if !s.hidden {
		t.viewers++
		t.h.markDirty(t)
	}
	t.lastActive = time.Now()
	s.members = append(s.members, m)
}

func (t *topic) removeMemberLocked(m *member) {
	if m.idx < 0 || m.idx >= len(t.members) || t.members[m.idx] != m {
		return
	}
	last := len(t.members) - 1
	t.members[m.idx] = t.members[last]
	t.members[m.idx].idx = m.idx
	t.members[last] = nil
	t.members = t.members[:last]
	m.idx = -1
	if len(t.members) == 0 {
		t.members = nil // release a big slice after a big show
	}
	if u := m.sub.user; u != "" {
		ms := t.byUser[u]
		for i, x := range ms {
			if x == m {
				ms[i] = ms[len(ms)-1]
				ms = ms[:len(ms)-1]
				break
			}
		}
		if len(ms) == 0 {
			delete(t.byUser, u)
		} else {
			t.byUser[u] = ms
		}
	}
	if !m.sub.hidden {
		t.viewers--
		t.h.markDirty(t)
	}
	t.lastActive = time.Now()
}

// pendingCap bounds the comments held for one tick; beyond it comments are counted as
// dropped right away (their authors still get them back as "own").
func (t *topic) pendingCap() int { return 64 * t.h.opts.MaxCommentsPerTick }

func (t *topic) addCommentLocked(c Comment) {
	t.lastActive = time.Now()
	if !c.Host && len(t.pending) >= t.pendingCap() {
		t.overflow++
		t.h.nCommentsDrop.Add(1)
		if c.User != "" {
			if ms := t.byUser[c.User]; len(ms) > 0 {
				frame := encodeOwn(t.nameJSON, []Comment{c})
				now := time.Now().UnixNano()
				for _, m := range ms {
					m.sub.push(frame, classOwn, now)
				}
			}
		}
		return
	}
	t.pending = append(t.pending, c)
}

// flush builds this tick's batch frame once and queues it to every member, then
// sends each author whose comments were sampled out a small "own" frame.
func (t *topic) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dead {
		return
	}
	t.flushLocked(false)
}

// flushDue is flush for the tick loop: false, and nothing built, while the
// topic's batch interval since the last batch is not yet up.
func (t *topic) flushDue(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dead {
		return true
	}
	if t.width > t.h.opts.Tick && now.Sub(t.lastFlush) < t.width-t.h.opts.Tick/4 {
		return false // a widened interval is not up yet (an interval of one Tick is up at every tick)
	}
	t.flushLocked(false)
	return true
}

// Adapting the batch interval: a batch the writers could not send within the
// interval is replaced by the next (see Subscription.pushN). When a quarter
// of the connections or more still had the previous batch unsent after a
// whole interval, the writers are short of CPU: the interval widens by half a
// Tick, up to MaxTick, so that batch writes leave room for commerce events and
// the API (a viewer still sees MaxCommentsPerTick comments per Tick: a wider
// batch carries proportionally more). After calmNeeded batches in a row that
// nearly every connection got in time, it narrows again by half a Tick.
const (
	adaptMinMembers = 32 // a handful of slow phones is no overload
	calmNeeded      = 5
)

// adapt updates the interval after a batch built el after the previous one,
// which replaced an unsent batch at replaced of the members.
func (t *topic) adapt(el time.Duration, replaced, members int) {
	o := t.h.opts
	if o.MaxTick <= o.Tick || el < t.width-o.Tick/4 {
		return // fixed, or not a whole interval: says nothing about the writers
	}
	switch {
	case members >= adaptMinMembers && replaced*4 >= members:
		t.width = min(t.width+o.Tick/2, o.MaxTick)
		t.calm = 0
	case replaced*32 <= members:
		if t.calm++; t.calm >= calmNeeded && t.width > o.Tick {
			t.width = max(t.width-o.Tick/2, o.Tick)
			t.calm = 0
		}
	default:
		t.calm = 0
	}
}

// flushLocked builds and queues the batch.
func (t *topic) flushLocked(early bool) { t.batchLocked(early, nil) }

// batchLocked builds the batch and queues it to every member, followed by the
// event frame ev when a commerce event takes the batch along before the tick
// (early). It reports false, and queues nothing, when there was nothing new
// to send.
func (t *topic) batchLocked(early bool, ev []byte) bool {
	comments := t.pending
	t.pending, t.spare = t.spare[:0], nil
	overflow := t.overflow
	t.overflow = 0
	delta := t.likesDelta.Swap(0)
	viewers := t.viewers + t.remoteViewers
	if len(comments) == 0 && overflow == 0 && delta == 0 && viewers == t.sentViewers {
		t.spare = comments[:0]
		return false
	}
	t.sentViewers = viewers
	// The comment budget is per tick of elapsed time: a batch of a widened
	// interval gets the ticks it spans, a batch that an event took along early
	// a share, so viewers never see more than MaxCommentsPerTick comments per
	// Tick, however batches are cut.
	now := time.Now()
	tick := int64(t.h.opts.Tick)
	budget := int((int64(t.h.opts.MaxCommentsPerTick)*int64(t.width) + tick - 1) / tick)
	el := now.Sub(t.lastFlush)
	if (early || t.lastEarly) && el < t.width {
		budget = max(1, int((int64(t.h.opts.MaxCommentsPerTick)*int64(el)+tick-1)/tick))
	}
	t.lastFlush, t.lastEarly = now, early

	keep := sampleComments(comments, budget)
	shown := make([]Comment, 0, len(keep))
	for _, i := range keep {
		shown = append(shown, comments[i])
	}
	dropped := len(comments) - len(keep) + overflow
	if d := len(comments) - len(keep); d > 0 {
		t.h.nCommentsDrop.Add(uint64(d))
	}
	frame := encodeBatch(t.nameJSON, shown, dropped, t.likesTotal.Load(), delta, viewers)
	t.h.nBatches.Add(1)
	at, n := now.UnixNano(), int32(len(comments)+overflow)
	replaced := 0
	if ev == nil {
		for _, m := range t.members {
			if m.sub.pushN(frame, classLossy, at, n) {
				replaced++
			}
		}
		t.h.nQueued.Add(uint64(len(t.members)))
	} else {
		for _, m := range t.members {
			if m.sub.pushBatchAndEvent(frame, n, ev, at) {
				replaced++
			}
		}
		t.h.nQueued.Add(2 * uint64(len(t.members)))
	}
	t.adapt(el, replaced, len(t.members))

	if len(keep) < len(comments) {
		t.sendOwnLocked(comments, keep)
	}
	clear(comments) // drop references to texts
	t.spare = comments[:0]
	return true
}

// sendOwnLocked echoes sampled-out comments to their authors' connections.
func (t *topic) sendOwnLocked(comments []Comment, keep []int) {
	kept := make(map[int]bool, len(keep))
	for _, i := range keep {
		kept[i] = true
	}
	var byAuthor map[string][]Comment
	for i, c := range comments {
		if kept[i] || c.User == "" || len(t.byUser[c.User]) == 0 {
			continue
		}
		if byAuthor == nil {
			byAuthor = make(map[string][]Comment)
		}
		byAuthor[c.User] = append(byAuthor[c.User], c)
	}
	for u, cs := range byAuthor {
		frame := encodeOwn(t.nameJSON, cs)
		now := time.Now().UnixNano()
		for _, m := range t.byUser[u] {
			m.sub.push(frame, classOwn, now)
		}
	}
}
