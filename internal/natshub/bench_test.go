package natshub_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/natshub"
	"github.com/shelflive/shelflive/internal/realtime"
)

// BenchmarkFanout measures one room with its viewers spread over 1 or 3
// nodes (hubs in this process, each with its own NATS connection): per
// iteration one commerce event is published on node 0 every 20 ms (50/s)
// with 4 comments (200/s) and 20 like taps (1,000/s) posted on random nodes.
// Reported: frames delivered to viewers per second, the commerce-event
// latency p99 to viewers on the publishing node and on other nodes, and the
// cross-node added latency p99 (other node minus publishing node, per event).
//
//	SHELFLIVE_TEST_NATS=nats://127.0.0.1:4222 go test -run '^$' -bench Fanout -benchtime 500x ./internal/natshub/
func BenchmarkFanout(b *testing.B) {
	for _, viewers := range []int{300, 3000} {
		for _, nodes := range []int{1, 3} {
			b.Run(fmt.Sprintf("viewers=%d/nodes=%d", viewers, nodes), func(b *testing.B) { benchFanout(b, nodes, viewers) })
		}
	}
}

func benchFanout(b *testing.B, nodes, viewers int) {
	_, hubs, _ := cluster(b, nodes, func(c *natshub.Config) {
		c.Local = realtime.Options{} // production defaults: 100 ms tick, 256-frame queues
		c.PresenceInterval = time.Second
	})
	const topic = "room:1"
	var frames atomic.Int64
	var slow atomic.Int64
	// probes[node] records, per event seq, when its first viewer got it.
	type probe struct {
		mu       sync.Mutex
		at       map[uint64]time.Time
		comments []time.Duration // posted → shown in a batch frame
	}
	probes := make([]*probe, nodes)
	for i := range probes {
		probes[i] = &probe{at: map[uint64]time.Time{}}
	}
	var wg sync.WaitGroup
	subs := make([]*realtime.Subscription, 0, viewers)
	for v := 0; v < viewers; v++ {
		node := v % nodes
		s, err := hubs[node].Subscribe(realtime.SubscribeOptions{Topics: room(topic), User: "u" + strconv.Itoa(v)})
		if err != nil {
			b.Fatal(err)
		}
		subs = append(subs, s)
		var p *probe
		if v < nodes {
			p = probes[node]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf [][]byte
			for {
				buf = s.Frames(buf[:0])
				now := time.Now()
				frames.Add(int64(len(buf)))
				if p != nil {
					for _, f := range buf {
						if seq, ok := evSeq(f); ok {
							p.mu.Lock()
							p.at[seq] = now
							p.mu.Unlock()
						} else if bytes.HasPrefix(f, []byte(`{"t":"batch"`)) {
							var fr frame
							json.Unmarshal(f, &fr)
							p.mu.Lock()
							for _, c := range fr.Comments {
								p.comments = append(p.comments, now.Sub(c.At))
							}
							p.mu.Unlock()
						}
					}
				}
				if s.IsEnded() {
					if c, _ := s.Ended(); c == realtime.CodeSlowConsumer {
						slow.Add(1)
					}
					return
				}
				<-s.Ready()
			}
		}()
	}
	// Let presence and the initial snapshots settle.
	time.Sleep(300 * time.Millisecond)
	frames.Store(0)
	sent := make(map[uint64]time.Time, b.N)
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	start := time.Now()
	next := start
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		seq, err := hubs[0].Publish(topic, "stock.changed", map[string]int{"product_id": 5, "stock": i})
		if err != nil {
			b.Fatal(err)
		}
		sent[seq] = t0
		for k := 0; k < 4; k++ {
			hubs[rng.IntN(nodes)].PublishComment(topic, realtime.Comment{ID: strconv.Itoa(i*4 + k), User: "u" + strconv.Itoa(rng.IntN(viewers)), Name: "王**", Text: "还有货吗？", At: time.Now()})
		}
		hubs[rng.IntN(nodes)].AddLikes(topic, 20)
		next = next.Add(20 * time.Millisecond)
		time.Sleep(time.Until(next))
	}
	// Wait for the last event everywhere (bounded).
	lastSeq := uint64(0)
	for s := range sent {
		lastSeq = max(lastSeq, s)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range probes {
		for time.Now().Before(deadline) {
			p.mu.Lock()
			_, ok := p.at[lastSeq]
			p.mu.Unlock()
			if ok {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	delivered := frames.Load()
	for _, s := range subs {
		s.Close()
	}
	wg.Wait()

	var local, remote, added []time.Duration
	lost := 0
	for seq, t0 := range sent {
		ta, ok := probes[0].at[seq]
		if !ok {
			lost++
			continue
		}
		local = append(local, ta.Sub(t0))
		for _, p := range probes[1:] {
			tb, ok := p.at[seq]
			if !ok {
				lost++
				continue
			}
			remote = append(remote, tb.Sub(t0))
			added = append(added, tb.Sub(ta))
		}
	}
	b.ReportMetric(float64(delivered)/elapsed.Seconds(), "frames/s")
	b.ReportMetric(p99ms(local), "local_p99_ms")
	if nodes > 1 {
		b.ReportMetric(p99ms(remote), "remote_p99_ms")
		b.ReportMetric(p99ms(added), "added_p99_ms")
	}
	// Comments are posted on random nodes: every probe sees local and
	// relayed ones; the batch tick (100 ms) dominates either way.
	var cs []time.Duration
	for _, p := range probes {
		cs = append(cs, p.comments...)
	}
	b.ReportMetric(p99ms(cs), "comment_p99_ms")
	b.ReportMetric(float64(lost), "events_lost")
	b.ReportMetric(float64(slow.Load()), "slow_consumers")
}

// evSeq extracts seq from an "ev" frame without a full decode.
func evSeq(f []byte) (uint64, bool) {
	if !bytes.HasPrefix(f, []byte(`{"t":"ev"`)) {
		return 0, false
	}
	i := bytes.Index(f, []byte(`"seq":`))
	if i < 0 {
		return 0, false
	}
	j := i + 6
	k := j
	for k < len(f) && f[k] >= '0' && f[k] <= '9' {
		k++
	}
	n, err := strconv.ParseUint(string(f[j:k]), 10, 64)
	return n, err == nil
}

func p99ms(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := (len(ds)*99 + 99) / 100
	if i > len(ds) {
		i = len(ds)
	}
	return float64(ds[i-1].Microseconds()) / 1000
}
