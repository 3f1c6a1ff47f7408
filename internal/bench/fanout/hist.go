package fanout

import (
	"sync/atomic"
	"time"
)

// hist is a fixed-resolution latency histogram (0.1 ms buckets up to 60 s)
// that many goroutines can add to without locks, and that travels between
// processes as a sparse list.
type hist struct {
	b    []atomic.Uint32
	over atomic.Uint64 // samples ≥ 60 s
}

const (
	histRes = 100 * time.Microsecond
	histN   = int(60 * time.Second / histRes)
)

func newHist() *hist { return &hist{b: make([]atomic.Uint32, histN)} }

func (h *hist) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := int(d / histRes)
	if i >= histN {
		h.over.Add(1)
		return
	}
	h.b[i].Add(1)
}

func (h *hist) count() uint64 {
	n := h.over.Load()
	for i := range h.b {
		n += uint64(h.b[i].Load())
	}
	return n
}

// quantile returns the q-quantile in milliseconds (upper edge of its bucket), or 0
// without samples.
func (h *hist) quantile(q float64) float64 {
	total := h.count()
	if total == 0 {
		return 0
	}
	want := uint64(q*float64(total) + 0.5)
	if want < 1 {
		want = 1
	}
	var seen uint64
	for i := range h.b {
		seen += uint64(h.b[i].Load())
		if seen >= want {
			return float64(time.Duration(i+1)*histRes) / float64(time.Millisecond)
		}
	}
	return float64(histN) * float64(histRes) / float64(time.Millisecond)
}

// sparse lists the non-empty buckets as [index, count]; index histN is overflow.
func (h *hist) sparse() [][2]uint64 {
	var out [][2]uint64
	for i := range h.b {
		if n := h.b[i].Load(); n > 0 {
			out = append(out, [2]uint64{uint64(i), uint64(n)})
		}
	}
	if n := h.over.Load(); n > 0 {
		out = append(out, [2]uint64{uint64(histN), n})
	}
	return out
}

func (h *hist) merge(sp [][2]uint64) {
	for _, e := range sp {
		if e[0] >= uint64(histN) {
			h.over.Add(e[1])
			continue
		}
		h.b[e[0]].Add(uint32(e[1]))
	}
}

// shareWithin is the share of h's samples ≤ d (1 without samples).
func (h *hist) shareWithin(d time.Duration) float64 {
	total := h.count()
	if total == 0 {
		return 1
	}
	var n uint64
	for i := 0; i < histN && time.Duration(i+1)*histRes <= d; i++ {
		n += uint64(h.b[i].Load())
	}
	return float64(n) / float64(total)
}
