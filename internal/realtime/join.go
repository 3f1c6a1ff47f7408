package realtime

// Joining a topic: a new Subscription gets the snapshot, or resumes from
// its last sequence number out of the topic's history.

import (
	"encoding/json"
	"fmt"
	"time"
)

// Subscribe implements Hub. Frames that bring each topic up to date (replayed events or
// a snapshot) are queued before Subscribe returns, in order, ahead of live frames.
func (h *LocalHub) Subscribe(opts SubscribeOptions) (*Subscription, error) {
	if len(opts.Topics) == 0 {
		return nil, ErrNoTopics
	}
	if len(opts.Topics) > h.opts.MaxTopicsPerSubscription {
		return nil, fmt.Errorf("subscribe: %d topics: %w", len(opts.Topics), ErrTooManyTopic)
	}
	seen := make(map[string]bool, len(opts.Topics))
	for _, r := range opts.Topics {
		if !ValidTopic(r.Topic) || seen[r.Topic] {
			return nil, fmt.Errorf("subscribe %q: %w", r.Topic, ErrInvalidTopic)
		}
		seen[r.Topic] = true
	}
	s := newSubscription(h, opts)
	for _, r := range opts.Topics {
		if err := h.join(s, r); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.mu.Lock()
	s.counted = true
	s.mu.Unlock()
	h.nSubs.Add(1)
	return s, nil
}

// join brings s up to date on one topic and adds it as a member, atomically with
// respect to Publish so that no event is missed or duplicated.
func (h *LocalHub) join(s *Subscription, r Resume) error {
	// A replay is allowed only while it fits comfortably in the connection queue;
	// otherwise a snapshot is cheaper for everyone.
	maxReplay := uint64(h.opts.QueueLen / 2)
	for attempt := 0; ; attempt++ {
		t := h.lockTopic(r.Topic, true)
		if t == nil {
			return ErrClosed
		}
		if r.Epoch == t.epoch && r.Seq <= t.seq && t.seq-r.Seq <= maxReplay && t.canReplayFrom(r.Seq) {
			t.replayLocked(s, r.Seq)
			t.addMemberLocked(s)
			t.mu.Unlock()
			return nil
		}
		// A snapshot built moments ago serves everyone who joins now: a reconnect
		// storm after a deploy must not become 10,000 snapshot queries.
		if sn := t.snap; sn != nil && sn.epoch == t.epoch && t.seq-sn.seq <= maxReplay &&
			t.canReplayFrom(sn.seq) && time.Since(sn.at) < h.opts.SnapshotTTL {
			s.push(sn.frame, classReliable, time.Now().UnixNano())
			t.replayLocked(s, sn.seq)
			t.addMemberLocked(s)
			t.mu.Unlock()
			return nil
		}
		if wait := t.snapBuilding; wait != nil {
			// Someone is building it: wait, then use theirs.
			t.mu.Unlock()
			<-wait
			attempt--
			continue
		}
		// Snapshot: remember the position first, build the state outside the lock
		// (Snapshot may query a database), then queue the snapshot tagged with that
		// position followed by every event published meanwhile. Events carry full
		// state, so re-applying one already reflected in the snapshot is harmless.
		seq0, epoch := t.seq, t.epoch
		building := make(chan struct{})
		t.snapBuilding = building
		t.mu.Unlock()
		raw, err := h.buildSnapshot(r.Topic)
		t.mu.Lock()
		t.snapBuilding = nil
		close(building)
		t.mu.Unlock()
		if err != nil {
			return err
		}
		t = h.lockTopic(r.Topic, true)
		if t == nil {
			return ErrClosed
		}
		if t.epoch != epoch || t.seq-seq0 > maxReplay || !t.canReplayFrom(seq0) {
			// The topic was recreated or moved on too far while we built the
			// snapshot: build it again.
			t.mu.Unlock()
			if attempt >= 3 {
				return fmt.Errorf("subscribe %s: snapshot raced with %d events", r.Topic, t.seq-seq0)
			}
			continue
		}
		frame := encodeSnapshot(t.nameJSON, t.epoch, seq0, raw)
		t.snap = &snapshot{frame: frame, epoch: t.epoch, seq: seq0, at: time.Now()}
		s.push(frame, classReliable, time.Now().UnixNano())
		t.replayLocked(s, seq0)
		t.addMemberLocked(s)
		t.mu.Unlock()
		return nil
	}
}

// buildSnapshot calls Options.Snapshot and encodes its result.
func (h *LocalHub) buildSnapshot(topic string) (json.RawMessage, error) {
	var data any
	if h.opts.Snapshot != nil {
		var err error
		data, err = h.opts.Snapshot(topic)
		if err != nil {
			return nil, fmt.Errorf("subscribe %s: snapshot: %w", topic, err)
		}
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: encode snapshot: %w", topic, err)
	}
	return raw, nil
}
