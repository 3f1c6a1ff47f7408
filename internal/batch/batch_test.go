package batch_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/batch"
)

// What queues while a batch commits is the next batch, and every caller
// returns after its own batch's commit with the outcome commit set.
func TestQueueBatchesWhatWaited(t *testing.T) {
	type item struct{ n, committedIn int }
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	var sizes []int
	calls := 0
	q := batch.New(16, 5, 10, func(b []*item) {
		calls++
		if calls == 1 {
			entered <- struct{}{}
			<-release
		}
		sizes = append(sizes, len(b))
		for _, it := range b {
			it.committedIn = calls
		}
	}, func(*item) {})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Run(ctx)
	first := &item{n: 0}
	var wg sync.WaitGroup
	wg.Go(func() {
		if !q.Do(first) {
			t.Error("first item shed")
		}
	})
	<-entered // the writer holds a batch of one
	rest := make([]*item, 5)
	for i := range rest {
		rest[i] = &item{n: i + 1}
		wg.Go(func() { q.Do(rest[i]) })
	}
	for !q.Busy() { // all five queued behind the first batch
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if !slices.Equal(sizes, []int{1, 5}) {
		t.Fatalf("batch sizes %v, want [1 5]", sizes)
	}
	for _, it := range rest {
		if it.committedIn != 2 {
			t.Fatalf("item %d returned before its batch committed: %+v", it.n, it)
		}
	}
}

// A full queue sheds at once and does nothing with the item.
func TestQueueShedsWhenFull(t *testing.T) {
	q := batch.New(1, 1, 10, func([]*int) {}, func(*int) {})
	one, two := 1, 2
	go q.Do(&one) // no writer: it stays queued
	for !q.Busy() {
		time.Sleep(time.Millisecond)
	}
	if q.Do(&two) {
		t.Fatal("a full queue took an item")
	}
}
