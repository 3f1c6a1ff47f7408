package bench

import (
	"sync/atomic"
	"time"
)

// fanoutHist is a fixed-resolution latency histogram (0.1 ms buckets up to 60 s)
// that many goroutines can add to without locks, and that travels between
// processes as a sparse list.
type fanoutHist struct {
	b    []atomic.Uint32
	over atomic.Uint64 // samples ≥ 60 s
}

const (
	fanoutHistRes = 100 * time.Microsecond
	fanoutHistN   = int(60 * time.Second / fanoutHistRes)
)

func newFanoutHist() *fanoutHist { return &fanoutHist{b: make([]atomic.Uint32, fanoutHistN)} }

func (h *fanoutHist) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := int(d / fanoutHistRes)
	if i >= fanoutHistN {
		h.over.Add(1)
		return
	}
	h.b[i].Add(1)
}

func (h *fanoutHist) count() uint64 {
	n := h.over.Load()
	for i := range h.b {
		n += uint64(h.b[i].Load())
	}
	return n
}

// quantile returns the q-quantile in milliseconds (upper edge of its bucket), or 0
// without samples.
func (h *fanoutHist) quantile(q float64) float64 {
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
			return float64(time.Duration(i+1)*fanoutHistRes) / float64(time.Millisecond)
		}
	}
	return float64(fanoutHistN) * float64(fanoutHistRes) / float64(time.Millisecond)
}

// sparse lists the non-empty buckets as [index, count]; index fanoutHistN is overflow.
func (h *fanoutHist) sparse() [][2]uint64 {
	var out [][2]uint64
	for i := range h.b {
		if n := h.b[i].Load(); n > 0 {
			out = append(out, [2]uint64{uint64(i), uint64(n)})
		}
	}
	if n := h.over.Load(); n > 0 {
		out = append(out, [2]uint64{uint64(fanoutHistN), n})
	}
	return out
}

func (h *fanoutHist) merge(sp [][2]uint64) {
	for _, e := range sp {
		if e[0] >= uint64(fanoutHistN) {
			h.over.Add(e[1])
			continue
		}
		h.b[e[0]].Add(uint32(e[1]))
	}
}
