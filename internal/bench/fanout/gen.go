package fanout

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// genResult is what the load generators sent and how the server answered.
type genResult struct {
	loadS       float64   // real length of the paced phase
	pinsDue     int       // pins the schedule asked for
	pins        []sentPin // pins the server accepted (2xx), with their keys
	pinErrs     int64
	comments    int64   // comments posted
	accepted    []int64 // ids of the comments the server accepted
	commentErrs int64
	likes       int64 // like taps sent
	likeErrs    int64
	commentPost *hist // request → answer
	pinPost     *hist
	likePost    *hist
}

// runGenerators feeds comments, likes and pins for o.duration at their rates,
// each request sent at its due time whatever the answers to earlier ones (an
// open loop, as independent phones and a host are; the count is bounded by
// rate × duration), then waits for the answers of those under way. Each
// request may take up to 30 s.
// It is long because the three generators share one schedule, one client
// pool and the result they fill.
func runGenerators(ctx context.Context, o *opts, tgt target) *genResult {
	res := &genResult{commentPost: newHist(), pinPost: newHist(), likePost: newHist()}
	loadCtx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	// A request outlives the load phase by up to 30 s: a slow answer is measured, not cut.
	send := func(f func(ctx context.Context)) {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		f(rctx)
	}
	var paced, inflight sync.WaitGroup
	var mu sync.Mutex
	var comments, commentErrs, likes, likeErrs, pinErrs atomic.Int64

	pace := func(rate float64, step time.Duration, emit func(n int)) {
		defer paced.Done()
		if rate <= 0 {
			return
		}
		tk := time.NewTicker(step)
		defer tk.Stop()
		start := time.Now()
		done := 0
		for {
			select {
			case <-loadCtx.Done():
				return
			case now := <-tk.C:
				if due := int(rate * now.Sub(start).Seconds()); due > done {
					emit(due - done)
					done = due
				}
			}
		}
	}
	start := time.Now()
	paced.Add(3)
	go pace(o.commentsPerS, 5*time.Millisecond, func(n int) {
		for i := 0; i < n; i++ {
			k := int(comments.Add(1)) - 1
			inflight.Add(1)
			go send(func(ctx context.Context) {
				defer inflight.Done()
				t0 := time.Now()
				text := "bench " + strconv.FormatInt(t0.UnixNano(), 10) + " 这个面包保质期几天？"
				id, err := tgt.comment(ctx, k, text)
				res.commentPost.add(time.Since(t0))
				if err != nil {
					commentErrs.Add(1)
					return
				}
				mu.Lock()
				res.accepted = append(res.accepted, id)
				mu.Unlock()
			})
		}
	})
	// A phone batches taps: one request per 100 ms with the taps since the last.
	go pace(o.likesPerS, 100*time.Millisecond, func(n int) {
		likes.Add(int64(n))
		inflight.Add(1)
		go send(func(ctx context.Context) {
			defer inflight.Done()
			t0 := time.Now()
			if err := tgt.likes(ctx, n); err != nil {
				likeErrs.Add(1)
			}
			res.likePost.add(time.Since(t0))
		})
	})
	go pace(o.eventsPerS, 5*time.Millisecond, func(n int) {
		for i := 0; i < n; i++ {
			mu.Lock()
			k := res.pinsDue
			res.pinsDue++
			mu.Unlock()
			inflight.Add(1)
			go send(func(ctx context.Context) {
				defer inflight.Done()
				t0 := time.Now()
				id, err := tgt.pin(ctx, k)
				res.pinPost.add(time.Since(t0))
				if err != nil {
					pinErrs.Add(1)
					return
				}
				mu.Lock()
				res.pins = append(res.pins, sentPin{Key: pinKey([]byte(id)), SentNS: t0.UnixNano(), AtNS: pinStamp(id)})
				mu.Unlock()
			})
		}
	})
	paced.Wait()
	res.loadS = time.Since(start).Seconds()
	inflight.Wait()
	res.comments, res.commentErrs = comments.Load(), commentErrs.Load()
	res.likes, res.likeErrs, res.pinErrs = likes.Load(), likeErrs.Load(), pinErrs.Load()
	return res
}
