package bench

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shelflive/shelflive/internal/natshub"
	"github.com/shelflive/shelflive/internal/realtime"
	"github.com/shelflive/shelflive/internal/realtime/ws"
)

// BenchmarkMultiNodeFanout is the room fan-out over real WebSockets with the
// viewers spread over 1 or 3 nodes joined by NATS (each node = one natshub.Hub
// behind its own HTTP server, all in this process; the NATS server is the
// machine's). Per iteration node 0 publishes one commerce event; every 20 ms
// (50 events/s) with 4 comments (200/s) and 20 like taps (1,000/s) posted on
// random nodes. Reported: frames received by all viewers per second, the
// event latency p99 at viewers on the publishing node and on the other nodes,
// and the cross-node added p99 (other node minus publishing node, per event).
//
//	SHELFLIVE_TEST_NATS=nats://127.0.0.1:4222 go test -run '^$' -bench MultiNodeFanout -benchtime 500x ./internal/bench/
func BenchmarkMultiNodeFanout(b *testing.B) {
	for _, viewers := range []int{300, 1000} {
		for _, nodes := range []int{1, 3} {
			b.Run(fmt.Sprintf("viewers=%d/nodes=%d", viewers, nodes), func(b *testing.B) { benchMultiNode(b, nodes, viewers) })
		}
	}
}

func benchMultiNode(b *testing.B, nodes, viewers int) {
	natsURL := os.Getenv("SHELFLIVE_TEST_NATS")
	if natsURL == "" {
		b.Skip("SHELFLIVE_TEST_NATS not set")
	}
	prefix := fmt.Sprintf("bench%d", time.Now().UnixNano())
	b.Cleanup(func() {
		if nc, err := nats.Connect(natsURL); err == nil {
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			js.DeleteStream(ctx, natshub.StreamFor(prefix))
			cancel()
			nc.Close()
		}
	})
	life, stop := context.WithCancel(context.Background())
	defer stop()
	hubs := make([]*natshub.Hub, nodes)
	bases := make([]string, nodes)
	for i := range hubs {
		h, err := natshub.Open(context.Background(), natshub.Config{URL: natsURL, Prefix: prefix, MemoryStorage: true})
		if err != nil {
			b.Fatal(err)
		}
		hubs[i] = h
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			subs, err := ws.ParseResume(r.URL.Query()["sub"])
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			ws.Serve(w, r, h, ws.Options{Topics: subs, User: r.URL.Query().Get("u"), Context: life})
		}))
		bases[i] = "ws" + strings.TrimPrefix(srv.URL, "http")
		defer srv.Close()
		defer h.Close()
	}
	const topic = "room:1"
	var frames atomic.Int64
	type probe struct {
		mu sync.Mutex
		at map[uint64]time.Time
	}
	probes := make([]*probe, nodes)
	for i := range probes {
		probes[i] = &probe{at: map[uint64]time.Time{}}
	}
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, 0, viewers)
	var connMu sync.Mutex
	sem := make(chan struct{}, 64)
	for v := 0; v < viewers; v++ {
		node := v % nodes
		var p *probe
		if v < nodes {
			p = probes[node]
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			c, _, err := websocket.Dial(ctx, bases[node]+"/ws?sub="+topic+"&u=u"+strconv.Itoa(v), nil)
			cancel()
			<-sem
			if err != nil {
				b.Errorf("dial: %v", err)
				return
			}
			connMu.Lock()
			conns = append(conns, c)
			connMu.Unlock()
			for {
				_, msg, err := c.Read(context.Background())
				if err != nil {
					return
				}
				frames.Add(1)
				if p != nil && bytes.HasPrefix(msg, []byte(`{"t":"ev"`)) {
					if seq, ok := seqOf(msg); ok {
						now := time.Now()
						p.mu.Lock()
						p.at[seq] = now
						p.mu.Unlock()
					}
				}
			}
		}()
	}
	for len(sem) > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 500; i++ {
		var n int64
		for _, h := range hubs {
			n += h.Local().Stats().Subscriptions
		}
		if n == int64(viewers) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	frames.Store(0)
	sent := make(map[uint64]time.Time, b.N)
	rng := rand.New(rand.NewPCG(3, 4))
	b.ResetTimer()
	start := time.Now()
	next := start
	var lastSeq uint64
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		seq, err := hubs[0].Publish(topic, "stock.changed", map[string]int{"product_id": 5, "stock": i})
		if err != nil {
			b.Fatal(err)
		}
		sent[seq], lastSeq = t0, seq
		for k := 0; k < 4; k++ {
			hubs[rng.IntN(nodes)].PublishComment(topic, realtime.Comment{ID: strconv.Itoa(i*4 + k), User: "u" + strconv.Itoa(rng.IntN(viewers)), Name: "王**", Text: "还有货吗？"})
		}
		hubs[rng.IntN(nodes)].AddLikes(topic, 20)
		next = next.Add(20 * time.Millisecond)
		time.Sleep(time.Until(next))
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
	connMu.Lock()
	for _, c := range conns {
		c.CloseNow()
	}
	connMu.Unlock()
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
	var slow uint64
	for _, h := range hubs {
		slow += h.Local().Stats().SlowConsumers
	}
	b.ReportMetric(float64(delivered)/elapsed.Seconds(), "frames/s")
	b.ReportMetric(mnP99(local), "local_p99_ms")
	if nodes > 1 {
		b.ReportMetric(mnP99(remote), "remote_p99_ms")
		b.ReportMetric(mnP99(added), "added_p99_ms")
	}
	b.ReportMetric(float64(lost), "events_lost")
	b.ReportMetric(float64(slow), "slow_consumers")
}

// seqOf reads "seq" from an "ev" frame without a full decode.
func seqOf(f []byte) (uint64, bool) {
	i := bytes.Index(f, []byte(`"seq":`))
	if i < 0 {
		return 0, false
	}
	j, k := i+6, i+6
	for k < len(f) && f[k] >= '0' && f[k] <= '9' {
		k++
	}
	n, err := strconv.ParseUint(string(f[j:k]), 10, 64)
	return n, err == nil
}

func mnP99(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := min((len(ds)*99+99)/100, len(ds))
	return float64(ds[i-1].Microseconds()) / 1000
}
