package realtime

// The tick loop: batches of the dirty topics, and idle topics freed.

import (
	"time"
)

// loop runs the batching and, about once a minute (or TopicTTL), frees idle
// topics. It wakes every Tick, or every half Tick when intervals may widen
// (MaxTick): a topic whose interval has widened (see topic.adapt) is flushed
// when its interval is up and stays dirty until then.
func (h *LocalHub) loop() {
	defer close(h.loopDone)
	step := h.opts.Tick
	if h.opts.MaxTick > h.opts.Tick {
		step /= 2
	}
	tk := time.NewTicker(step)
	defer tk.Stop()
	gcEvery := int(min(time.Minute, h.opts.TopicTTL) / step)
	if gcEvery < 1 {
		gcEvery = 1
	}
	var buf []*topic
	for n := 1; ; n++ {
		select {
		case <-h.stop:
			return
		case <-tk.C:
		}
		buf = h.flushDue(time.Now(), buf)
		if n%gcEvery == 0 {
			h.gcTopics(time.Now())
		}
	}
}

// flushDue builds the batches of the dirty topics whose interval is up; the
// others stay dirty. buf is scratch space, returned for reuse.
func (h *LocalHub) flushDue(now time.Time, buf []*topic) []*topic {
	h.dirtyMu.Lock()
	buf, h.dirty = h.dirty, buf[:0]
	h.dirtyMu.Unlock()
	for i, t := range buf {
		t.dirty.Store(false)
		if !t.flushDue(now) {
			h.markDirty(t)
		}
		buf[i] = nil
	}
	return buf
}

// Flush builds and queues the pending batch frames now instead of waiting for the
// tick. Tests and the load tool use it; production code relies on the tick.
func (h *LocalHub) Flush() {
	h.dirtyMu.Lock()
	buf := h.dirty
	h.dirty = nil
	h.dirtyMu.Unlock()
	for _, t := range buf {
		t.dirty.Store(false)
		t.flush()
	}
}

// gcTopics frees topics nobody uses so that per-order topics do not accumulate.
func (h *LocalHub) gcTopics(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, t := range h.topics {
		t.mu.Lock()
		if len(t.members) == 0 && len(t.pending) == 0 && t.likesTotal.Load() == 0 &&
			t.likesDelta.Load() == 0 && now.Sub(t.lastActive) > h.opts.TopicTTL {
			t.dead = true
			delete(h.topics, name)
		}
		t.mu.Unlock()
	}
}
