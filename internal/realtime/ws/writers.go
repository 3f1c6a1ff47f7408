package ws

import (
	"runtime"
	"sync"
)

// The shared writers: instead of waking each connection's own goroutine for
// every frame (10,000 wake-ups per batch tick, all queued in the Go scheduler
// ahead of the HTTP handlers that serve the API), a connection with something
// to write is put on a list, and a few writer goroutines (one per CPU) write
// for all of them with one non-blocking write each. Connections with an
// event, snapshot or personal message queued go first, batches after: when
// the CPU is short, commerce events and the API come before comment fan-out.
// A write that would block (the peer reads slowly) leaves the rest to a
// goroutine of the connection's own (its control, started for this), which
// writes it with a deadline and then hands the connection back.

// writers returns the process's shared writer pool, started on first use.
func writers() *writerPool {
	poolOnce.Do(func() {
		pool = &writerPool{wake: make(chan struct{}, 1)}
		for i := 0; i < max(1, runtime.GOMAXPROCS(0)); i++ {
			go pool.run()
		}
	})
	return pool
}

var (
	poolOnce sync.Once
	pool     *writerPool
)

type writerPool struct {
	mu     sync.Mutex
	urgent []*conn
	normal []*conn
	wake   chan struct{}
}

// Connection states on the writer lists.
const (
	stateIdle   = 0
	stateNormal = 1 // on the normal list
	stateUrgent = 2 // on the urgent list (maybe on the normal one too)
)

// schedule puts c on a list, once.
func (p *writerPool) schedule(c *conn, urgent bool) {
	if urgent {
		if c.wstate.Swap(stateUrgent) == stateUrgent {
			return
		}
	} else if !c.wstate.CompareAndSwap(stateIdle, stateNormal) {
		return
	}
	p.mu.Lock()
	idle := len(p.urgent)+len(p.normal) == 0
	if urgent {
		p.urgent = append(p.urgent, c)
	} else {
		p.normal = append(p.normal, c)
	}
	p.mu.Unlock()
	if !idle {
		// A writer is at work: it takes the next connection when done with
		// this one and wakes another while more are listed (next), so
		// 10,000 connections listed by one event need no wake-up each.
		return
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// next takes the next connection to write, urgent ones first; nil when both
// lists are empty.
func (p *writerPool) next() *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	var c *conn
	switch {
	case len(p.urgent) > 0:
		c = p.urgent[0]
		p.urgent[0] = nil
		p.urgent = p.urgent[1:]
		if len(p.urgent) == 0 {
			p.urgent = p.urgent[:0:0] // let a big burst's array go
		}
	case len(p.normal) > 0:
		c = p.normal[0]
		p.normal[0] = nil
		p.normal = p.normal[1:]
		if len(p.normal) == 0 {
			p.normal = p.normal[:0:0]
		}
	}
	if len(p.urgent)+len(p.normal) > 0 {
		select { // more work: make sure another writer looks too
		case p.wake <- struct{}{}:
		default:
		}
	}
	return c
}

func (p *writerPool) run() {
	buf := make([]byte, 0, 8<<10) // this writer's framed bytes, reused for every connection
	for n := 1; ; n++ {
		c := p.next()
		if c == nil {
			<-p.wake
			continue
		}
		c.wstate.Store(stateIdle) // frames queued from now on schedule c again
		buf = c.flushShared(buf)
		if n%yieldEvery == 0 {
			// A pass over 10,000 connections takes the writers ~100 ms of CPU;
			// let request handlers and the hub in every few hundred µs rather
			// than at the scheduler's 10 ms preemption.
			runtime.Gosched()
		}
	}
}

// yieldEvery is how many connections a writer serves between yields.
const yieldEvery = 32
