package realtime

// The scale-out half of the hub: a NATS-backed hub sequences events in
// JetStream and calls these on every node (see natshub).

import (
	"encoding/json"
	"fmt"
)

// WithdrawComment removes a comment from the batch not yet sent, without
// publishing anything: the NATS hub calls it on every node when a
// comment.deleted event arrives (the event itself is sequenced in JetStream).
func (h *LocalHub) WithdrawComment(topicName, id string) {
	t := h.lockTopic(topicName, false)
	if t == nil {
		return
	}
	for i, c := range t.pending {
		if c.ID == id {
			t.pending = append(t.pending[:i], t.pending[i+1:]...)
			break
		}
	}
	t.mu.Unlock()
}

// SetRemoteViewers sets how many visible viewers of topic other nodes have,
// so that batch frames carry the cluster-wide count; the NATS hub calls it
// about once a second. Viewers keeps returning this node's count.
func (h *LocalHub) SetRemoteViewers(topicName string, n int) {
	t := h.lockTopic(topicName, false)
	if t == nil {
		return
	}
	changed := t.remoteViewers != n
	t.remoteViewers = n
	t.mu.Unlock()
	if changed {
		h.markDirty(t)
	}
}

// Event is a guaranteed event sequenced outside this hub. In the NATS scale-out
// (issue 7) a JetStream stream is the sequencer and history of record: every node
// consumes it and calls Apply, so each node's LocalHub serves its own viewers
// (batches, queues, resume from recent history) with the cluster-wide seq.
type Event struct {
	Topic string
	Epoch string // the sequencer's epoch for Topic, e.g. derived from the stream; [a-z0-9-]{1,64}
	Seq   uint64
	Type  string
	Data  json.RawMessage
}

// ValidEpoch reports whether s can be an epoch: 1..64 of [a-z0-9-] (it travels in
// the query form topic@epoch.seq).
func ValidEpoch(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Apply records and delivers an externally sequenced event (the local-delivery
// half of Publish). Redelivered events (Seq already applied) are ignored and
// reported as false. If the epoch changed or Seq skips ahead (events this node
// never saw), the topic's local history restarts at Seq and its current
// subscribers are ended with CodeResync, because they can no longer be brought up
// to date without a gap. Do not mix Publish and Apply on one topic.
func (h *LocalHub) Apply(ev Event) (bool, error) {
	if !ValidTopic(ev.Topic) {
		return false, fmt.Errorf("apply %q: %w", ev.Topic, ErrInvalidTopic)
	}
	if !ValidEpoch(ev.Epoch) || ev.Seq == 0 {
		return false, fmt.Errorf("apply %s: invalid epoch %q or seq %d", ev.Topic, ev.Epoch, ev.Seq)
	}
	t := h.lockTopic(ev.Topic, true)
	if t == nil {
		return false, ErrClosed
	}
	defer t.mu.Unlock()
	if ev.Epoch == t.epoch && ev.Seq <= t.seq {
		return false, nil
	}
	if ev.Epoch != t.epoch || ev.Seq != t.seq+1 {
		t.epoch = ev.Epoch
		t.hist, t.histHead = nil, 0
		for _, m := range t.members {
			m.sub.end(CodeResync, reasonResync)
		}
	}
	t.recordLocked(ev.Seq, ev.Type, ev.Data)
	h.nEvents.Add(1)
	return true, nil
}
