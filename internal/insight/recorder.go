package insight

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Recorder takes analytics events from request and connection goroutines
// and writes them in batches from one goroutine. Record never blocks: when
// the bounded queue is full the event is dropped and counted, because a
// viewer's room must never wait for its statistics. A nil *Recorder is
// "analytics off" and records nothing.
type Recorder struct {
	Store  EventStore
	Logger *slog.Logger
	// QueueSize bounds the events waiting to be written (default 16384).
	QueueSize int
	// Batch is the most events written in one transaction (default 512).
	Batch int
	// Every is how long the writer waits to fill a batch (default 500 ms).
	Every time.Duration

	once    sync.Once
	q       chan Event
	done    chan struct{}
	dropped atomic.Int64
	written atomic.Int64
	failed  atomic.Int64
	running atomic.Bool
	flushq  chan chan struct{}
}

func (r *Recorder) init() {
	r.once.Do(func() {
		if r.QueueSize <= 0 {
			r.QueueSize = 16384
		}
		if r.Batch <= 0 {
			r.Batch = 512
		}
		if r.Every <= 0 {
			r.Every = 500 * time.Millisecond
		}
		if r.Logger == nil {
			r.Logger = slog.Default()
		}
		r.q = make(chan Event, r.QueueSize)
		r.done = make(chan struct{})
		r.flushq = make(chan chan struct{})
	})
}

// Record queues an event; it returns at once.
func (r *Recorder) Record(e Event) {
	if r == nil {
		return
	}
	r.init()
	select {
	case r.q <- e:
	default:
		r.dropped.Add(1)
	}
}

// RecorderStats counts what happened to recorded events.
type RecorderStats struct {
	Written, Dropped, Failed int64
	Queued                   int
}

// Stats reports the counters (for metrics and tests).
func (r *Recorder) Stats() RecorderStats {
	if r == nil {
		return RecorderStats{}
	}
	r.init()
	return RecorderStats{Written: r.written.Load(), Dropped: r.dropped.Load(), Failed: r.failed.Load(), Queued: len(r.q)}
}

// Run writes batches until ctx ends, then writes what is still queued.
func (r *Recorder) Run(ctx context.Context) {
	if r == nil {
		return
	}
	r.init()
	r.running.Store(true)
	defer close(r.done)
	defer r.running.Store(false)
	tick := time.NewTicker(r.Every)
	defer tick.Stop()
	batch := make([]Event, 0, r.Batch)
	for {
		select {
		case <-ctx.Done():
			r.drain(batch)
			return
		case e := <-r.q:
			batch = append(batch, e)
			if len(batch) >= r.Batch {
				batch = r.write(batch)
			}
		case <-tick.C:
			batch = r.write(batch)
		case reply := <-r.flushq:
			batch = r.drainNow(batch)
			close(reply)
		}
	}
}

// Stopped is closed when Run has written its last batch.
func (r *Recorder) Stopped() <-chan struct{} {
	r.init()
	return r.done
}

// Flush writes everything queued now (tests and the post-live report use it
// so what they read includes the last seconds).
func (r *Recorder) Flush(ctx context.Context) {
	if r == nil {
		return
	}
	r.init()
	if r.running.Load() {
		reply := make(chan struct{})
		select {
		case r.flushq <- reply:
			select {
			case <-reply:
			case <-ctx.Done():
			}
			return
		case <-r.done:
		case <-ctx.Done():
			return
		}
	}
	r.drainNow(nil)
}

// drainNow writes the batch and everything queued.
func (r *Recorder) drainNow(batch []Event) []Event {
	for {
		select {
		case e := <-r.q:
			batch = append(batch, e)
			if len(batch) >= r.Batch {
				batch = r.write(batch)
			}
		default:
			return r.write(batch)
		}
	}
}

func (r *Recorder) drain(batch []Event) { r.drainNow(batch) }

func (r *Recorder) write(batch []Event) []Event {
	if len(batch) == 0 {
		return batch
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Store.AppendEvents(ctx, batch); err != nil {
		r.failed.Add(int64(len(batch)))
		r.Logger.Error("insight: write events", "n", len(batch), "err", err)
	} else {
		r.written.Add(int64(len(batch)))
	}
	return batch[:0]
}
