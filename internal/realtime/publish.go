package realtime

// What the LocalHub takes from the room: guaranteed events, comments,
// likes, messages to one user; and the counters it answers with.

import (
	"encoding/json"
	"fmt"
	"time"
)

// Publish implements Hub.
func (h *LocalHub) Publish(topicName, typ string, data any) (uint64, error) {
	if !ValidTopic(topicName) {
		return 0, fmt.Errorf("publish %q: %w", topicName, ErrInvalidTopic)
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return 0, fmt.Errorf("publish %s %s: encode: %w", topicName, typ, err)
	}
	t := h.lockTopic(topicName, true)
	if t == nil {
		return 0, ErrClosed
	}
	seq := t.appendEventLocked(typ, raw)
	t.mu.Unlock()
	h.nEvents.Add(1)
	return seq, nil
}

// DeleteComment implements Hub.
func (h *LocalHub) DeleteComment(topicName, id string) (uint64, error) {
	h.WithdrawComment(topicName, id)
	return h.Publish(topicName, EventCommentDeleted, struct {
		ID string `json:"id"`
	}{id})
}

// PublishComment implements Hub.
func (h *LocalHub) PublishComment(topicName string, c Comment) {
	if !ValidTopic(topicName) {
		return
	}
	if c.At.IsZero() {
		c.At = time.Now().UTC()
	}
	t := h.lockTopic(topicName, true)
	if t == nil {
		return
	}
	h.nCommentsIn.Add(1)
	t.addCommentLocked(c)
	t.mu.Unlock()
	h.markDirty(t)
}

// AddLikes implements Hub.
func (h *LocalHub) AddLikes(topicName string, n int) {
	if n <= 0 || !ValidTopic(topicName) {
		return
	}
	// The add happens under the hub read lock so that topic GC (write lock) never
	// frees a topic between lookup and add.
	t := h.lookup(topicName, true)
	if t == nil {
		return
	}
	h.mu.RLock()
	if !t.dead {
		t.likesTotal.Add(int64(n))
		t.likesDelta.Add(int64(n))
	}
	h.mu.RUnlock()
	h.markDirty(t)
}

// SetLikes implements Hub.
func (h *LocalHub) SetLikes(topicName string, total int64) {
	if !ValidTopic(topicName) {
		return
	}
	t := h.lookup(topicName, true)
	if t == nil {
		return
	}
	h.mu.RLock()
	t.likesTotal.Store(total)
	h.mu.RUnlock()
}

// Likes implements Hub.
func (h *LocalHub) Likes(topicName string) int64 {
	if t := h.lookup(topicName, false); t != nil {
		return t.likesTotal.Load()
	}
	return 0
}

// Viewers implements Hub.
func (h *LocalHub) Viewers(topicName string) int {
	t := h.lockTopic(topicName, false)
	if t == nil {
		return 0
	}
	n := t.viewers
	t.mu.Unlock()
	return n
}

// SendUser implements Hub.
func (h *LocalHub) SendUser(topicName, user, typ string, data any) {
	if user == "" {
		return
	}
	raw, err := json.Marshal(data)
	if err != nil {
		h.log.Error("realtime: send user: encode", "topic", topicName, "type", typ, "err", err)
		return
	}
	t := h.lockTopic(topicName, false)
	if t == nil {
		return
	}
	defer t.mu.Unlock()
	ms := t.byUser[user]
	if len(ms) == 0 {
		return
	}
	frame := encodeMe(t.nameJSON, typ, raw)
	now := time.Now().UnixNano()
	for _, m := range ms {
		m.sub.push(frame, classReliable, now)
	}
}
