package realtime

// Hub counters and delay histograms, read by the node's metrics.

import (
	"sync/atomic"
	"time"
)

// Stats are cumulative hub counters, for metrics.
type Stats struct {
	Topics          int    // topics currently held
	Subscriptions   int64  // live subscriptions
	Events          uint64 // guaranteed events published
	Batches         uint64 // batch frames built (once per topic per tick)
	FramesQueued    uint64 // frames queued to connections (all classes)
	LossyDropped    uint64 // lossy frames dropped because a connection queue was full
	LossyReplaced   uint64 // unsent batches replaced by a newer one (the connection's writer was late)
	SlowConsumers   uint64 // subscriptions ended with slow_consumer
	CommentsIn      uint64 // comments received
	CommentsDropped uint64 // comments sampled out of batch frames
	Writes          uint64 // socket writes reported by the adapter (each carries ≥ 1 frame)

	// Queue delay — from the moment a frame is queued to a connection until the
	// socket write that carried it returned — as counts per DelayBuckets bucket
	// (the last one is +Inf). Reliable covers events, snapshots and personal
	// frames; Lossy covers batches. Reported by the adapter via Delivered.
	ReliableDelay []uint64
	LossyDelay    []uint64
}

// DelayBuckets are the upper bounds of the Stats delay histograms.
var DelayBuckets = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond,
	20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
}

// DelayQuantile returns the upper bound of the bucket holding the q-quantile of
// counts (a Stats delay histogram), or 0 without samples; -1 means beyond the last bound.
func DelayQuantile(counts []uint64, q float64) time.Duration {
	var total uint64
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		return 0
	}
	want := uint64(q*float64(total) + 0.5)
	var seen uint64
	for i, n := range counts {
		seen += n
		if seen >= want && seen > 0 {
			if i < len(DelayBuckets) {
				return DelayBuckets[i]
			}
			return -1
		}
	}
	return -1
}

// delayHist counts durations into DelayBuckets (+Inf) without locks.
type delayHist struct {
	n [14]atomic.Uint64
}

func (d *delayHist) add(v time.Duration) {
	i := 0
	for i < len(DelayBuckets) && v > DelayBuckets[i] {
		i++
	}
	d.n[i].Add(1)
}

func (d *delayHist) counts() []uint64 {
	out := make([]uint64, len(d.n))
	for i := range d.n {
		out[i] = d.n[i].Load()
	}
	return out
}

// Stats returns the hub counters.
func (h *LocalHub) Stats() Stats {
	h.mu.RLock()
	n := len(h.topics)
	h.mu.RUnlock()
	return Stats{
		Topics:          n,
		Subscriptions:   h.nSubs.Load(),
		Events:          h.nEvents.Load(),
		Batches:         h.nBatches.Load(),
		FramesQueued:    h.nQueued.Load(),
		LossyDropped:    h.nLossyDropped.Load(),
		LossyReplaced:   h.nLossyReplaced.Load(),
		SlowConsumers:   h.nSlow.Load(),
		CommentsIn:      h.nCommentsIn.Load(),
		CommentsDropped: h.nCommentsDrop.Load(),
		Writes:          h.nWrites.Load(),
		ReliableDelay:   h.delayRel.counts(),
		LossyDelay:      h.delayLossy.counts(),
	}
}
