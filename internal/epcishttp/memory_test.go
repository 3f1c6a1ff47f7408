package epcishttp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/epcishttp"
)

// bigDocument is a ~2 MB EPCIS document whose last event is invalid, so
// the server reads and validates all of it (the memory the review
// measured) and stores nothing.
func bigDocument(tb testing.TB) []byte {
	tb.Helper()
	doc := benchDocument(0, 1500)
	var d map[string]any
	if err := json.Unmarshal(doc, &d); err != nil {
		tb.Fatal(err)
	}
	evs := d["epcisBody"].(map[string]any)["eventList"].([]any)
	for i, e := range evs {
		ev := e.(map[string]any)
		epcs := make([]string, 24)
		for j := range epcs {
			epcs[j] = fmt.Sprintf("urn:epc:id:sgtin:0614141.1%05d.%d", i%2000, i*100+j)
		}
		ev["epcList"] = epcs
	}
	evs[len(evs)-1].(map[string]any)["action"] = "NOT_AN_ACTION"
	b, err := json.Marshal(d)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// peakDuring runs f while sampling the heap and returns the peak growth in MB.
func peakDuring(f func()) float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	}()
	f()
	close(stop)
	<-done
	if peak.Load() < base {
		return 0
	}
	return float64(peak.Load()-base) / (1 << 20)
}

// TestCaptureMemoryBounded (review finding 8): four 16 MB documents at
// once peaked at 650 MB; captures now take turns, so the peak is about
// one document's (and a document is at most 8 MB). Measured with four 2 MB
// documents to keep the test short; the ratio is what counts.
func TestCaptureMemoryBounded(t *testing.T) {
	doc := bigDocument(t)
	four := func(e *env) {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				resp, body := e.do(t, "POST", "/epcis/capture", "quality-1", bytes.Clone(doc), "application/json")
				if resp.StatusCode != 400 {
					t.Errorf("capture of an invalid document: %d %.200s", resp.StatusCode, body)
				}
			})
		}
		wg.Wait()
	}
	saved := epcishttp.MaxConcurrentCaptures
	defer func() { epcishttp.MaxConcurrentCaptures = saved }()
	epcishttp.MaxConcurrentCaptures = 4
	open := peakDuring(func() { four(newEnv(t)) })
	epcishttp.MaxConcurrentCaptures = saved
	bounded := peakDuring(func() { four(newEnv(t)) })
	t.Logf("four %.1f MB documents at once: heap peak +%.0f MB parsed together, +%.0f MB taking turns", float64(len(doc))/(1<<20), open, bounded)
	if bounded > open*0.6 {
		t.Fatalf("taking turns peaked at %.0f MB, not well below %.0f MB", bounded, open)
	}
}
