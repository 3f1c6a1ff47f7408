package realtime

import "time"

// Test hooks for the batch interval (package realtime_test).

// BatchInterval returns the topic's current batch interval.
func (h *LocalHub) BatchInterval(name string) time.Duration {
	t := h.lockTopic(name, false)
	if t == nil {
		return 0
	}
	defer t.mu.Unlock()
	return t.width
}

// AgeLastBatch moves the topic's last batch d into the past, as if that much
// time had gone by since.
func (h *LocalHub) AgeLastBatch(name string, d time.Duration) {
	t := h.lockTopic(name, false)
	if t == nil {
		return
	}
	t.lastFlush = t.lastFlush.Add(-d)
	t.mu.Unlock()
}

// TickOnce is one pass of the tick loop at now: the batches whose interval
// is up are built.
func (h *LocalHub) TickOnce(now time.Time) { h.flushDue(now, nil) }
