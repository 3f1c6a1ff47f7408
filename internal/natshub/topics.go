package natshub

// What this node knows of each topic it follows, and the sweep that stops
// following topics nobody here watches.

import (
	"strings"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/realtime"
)

// topicState is what this node knows about one topic's place in the stream.
// A node follows a topic (applies its events to the local hub) only after a
// Subscribe loaded the topic's recent history ("primed"), and stops following
// it when it has had no subscription for half the local TopicTTL; the local
// hub frees an idle topic only after a full TopicTTL, so it never frees a
// topic this node still follows (which would restart it under a local epoch).
type topicState struct {
	name    string
	subject string
	refs    int // Subscribe/Publish calls in flight; guarded by Hub.mu

	mu      sync.Mutex
	primed  bool
	priming chan struct{} // closed when the history load in flight is done
	buf     []*evMsg      // live events that arrived while priming
	subs    []*realtime.Subscription
	touch   time.Time // last time the local hub's topic became active through us

	// applied is the stream sequence of the newest event handed to the local
	// hub: the stream order is the topic order, so anything older is a
	// redelivery (consumer restart, load racing the live consumer).
	applied  uint64
	appEpoch string
	appSeq   uint64

	// The newest position known from acks, the live consumer or a load; the
	// next append expects knownStream to be the subject's last sequence.
	known       bool
	knownEpoch  string
	knownSeq    uint64
	knownStream uint64

	pubMu sync.Mutex // appends of this topic by this node, one at a time
}

// evMsg is one event of the stream with its stream sequence.
type evMsg struct {
	stream uint64
	ev     realtime.Event
}

// subject is the stream subject of a topic. Topics may contain '.', the NATS
// token separator; it is escaped (topics never contain '%').
func (h *Hub) subject(topic string) string {
	return h.evPrefix + strings.ReplaceAll(topic, ".", "%2E")
}

// acquire returns the topic's state, pinned against the sweeper until release.
func (h *Hub) acquire(topic string) *topicState {
	h.mu.Lock()
	defer h.mu.Unlock()
	ts := h.topics[topic]
	if ts == nil {
		ts = &topicState{name: topic, subject: h.subject(topic), touch: time.Now()}
		h.topics[topic] = ts
	}
	ts.refs++
	return ts
}

func (h *Hub) release(ts *topicState) {
	h.mu.Lock()
	ts.refs--
	h.mu.Unlock()
}

// learnLocked records a position of the topic if it is newer than what we know.
func (ts *topicState) learnLocked(epoch string, seq, stream uint64) {
	if !ts.known || stream > ts.knownStream {
		ts.known, ts.knownEpoch, ts.knownSeq, ts.knownStream = true, epoch, seq, stream
	}
}

// sweepLoop stops following topics nobody here watches any more, and resets
// topics that lost an event while NATS was unreachable.
func (h *Hub) sweepLoop() {
	defer h.wg.Done()
	every := max(min(h.cfg.Local.TopicTTL/4, 30*time.Second), 10*time.Millisecond)
	tk := time.NewTicker(every)
	defer tk.Stop()
	repair := time.NewTicker(500 * time.Millisecond)
	defer repair.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-tk.C:
			h.sweep(time.Now())
		case <-repair.C:
			h.repairLost()
		}
	}
}

// sweep drops the state of topics without live subscriptions, untouched for
// half the local TopicTTL (see topicState).
func (h *Hub) sweep(now time.Time) {
	idle := h.cfg.Local.TopicTTL / 2
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, ts := range h.topics {
		ts.mu.Lock()
		live := ts.subs[:0]
		for _, s := range ts.subs {
			if !s.IsEnded() {
				live = append(live, s)
			}
		}
		clear(ts.subs[len(live):])
		ts.subs = live
		if len(live) == 0 && ts.refs == 0 && ts.priming == nil && now.Sub(ts.touch) > idle {
			delete(h.topics, name)
		}
		ts.mu.Unlock()
	}
}
