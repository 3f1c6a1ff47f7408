package insight_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/insight"
)

// blockingStore holds every write until released, like a database that stalls.
type blockingStore struct {
	mu      sync.Mutex
	got     int
	release chan struct{}
}

func (s *blockingStore) AppendEvents(ctx context.Context, evs []insight.Event) error {
	<-s.release
	s.mu.Lock()
	s.got += len(evs)
	s.mu.Unlock()
	return nil
}

// TestRecorderNeverBlocks: with the store stalled, Record returns at once;
// beyond the queue's bound events are dropped and counted; once the store
// answers, everything queued is written in batches.
func TestRecorderNeverBlocks(t *testing.T) {
	st := &blockingStore{release: make(chan struct{})}
	r := &insight.Recorder{Store: st, QueueSize: 100, Batch: 10, Every: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	go r.Run(ctx)
	start := time.Now()
	for i := 0; i < 1000; i++ {
		r.Record(insight.Event{Kind: insight.CardShown})
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Record blocked for %v", d)
	}
	if s := r.Stats(); s.Dropped < 1000-100-10-1 {
		t.Fatalf("stats %+v: the queue is bounded, so most events must be dropped", s)
	}
	close(st.release)
	r.Flush(context.Background())
	cancel()
	<-r.Stopped()
	s := r.Stats()
	if s.Written+s.Dropped != 1000 || int64(st.got) != s.Written {
		t.Fatalf("stats %+v, store got %d", s, st.got)
	}
	var nilRec *insight.Recorder
	nilRec.Record(insight.Event{}) // analytics off
}
