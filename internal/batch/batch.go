// Package batch is the write side that flash sales and coupon cards share:
// a stampede's winners are decided in memory (flashsale.Allocator,
// coupons.Allocator) and queue here; one writer takes the first queued
// item, then whatever else queued meanwhile, and commits them in one
// database transaction, so the batch grows exactly when load does and an
// idle system still commits one item at once. Each caller returns only
// after the commit of the batch holding its item.
package batch

import "context"

// Queue is one writer's queue of items of type T.
type Queue[T any] struct {
	ch     chan entry[T]
	shed   int
	max    int
	commit func([]T)
	fail   func(T)
}

type entry[T any] struct {
	v    T
	done chan struct{}
}

// New makes a queue of up to size items that sheds new items once shed
// are waiting (the caller answers "busy, try again"), commits up to max
// items per call of commit, and hands fail what is still queued when the
// writer stops. commit and fail record each item's outcome in the item.
func New[T any](size, shed, max int, commit func([]T), fail func(T)) *Queue[T] {
	return &Queue[T]{ch: make(chan entry[T], size), shed: shed, max: max, commit: commit, fail: fail}
}

// Busy reports whether the queue sheds load: check it before taking a unit
// from an allocator, so a shed request costs nothing to undo.
func (q *Queue[T]) Busy() bool { return len(q.ch) >= q.shed }

// Do queues v and waits until its batch is committed (or failed). It
// returns false, having done nothing, when the queue is full.
func (q *Queue[T]) Do(v T) bool {
	e := entry[T]{v: v, done: make(chan struct{})}
	select {
	case q.ch <- e:
	default:
		return false
	}
	<-e.done // bounded: the writer always finishes a batch
	return true
}

// Run is the writer; it runs until ctx ends, then fails what is queued.
func (q *Queue[T]) Run(ctx context.Context) {
	batch := make([]T, 0, q.max)
	dones := make([]chan struct{}, 0, q.max)
	for {
		var first entry[T]
		select {
		case <-ctx.Done():
			q.drain()
			return
		case first = <-q.ch:
		}
		batch, dones = append(batch[:0], first.v), append(dones[:0], first.done)
	fill:
		for len(batch) < q.max {
			select {
			case e := <-q.ch:
				batch, dones = append(batch, e.v), append(dones, e.done)
			default:
				break fill
			}
		}
		q.commit(batch)
		for _, d := range dones {
			close(d)
		}
		clear(batch) // let the items go
	}
}

func (q *Queue[T]) drain() {
	for {
		select {
		case e := <-q.ch:
			q.fail(e.v)
			close(e.done)
		default:
			return
		}
	}
}
