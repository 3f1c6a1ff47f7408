package natshub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shelflive/shelflive/internal/natshub"
	"github.com/shelflive/shelflive/internal/realtime"
)

// natsEnv names the NATS server the tests use, e.g. nats://127.0.0.1:4222.
// When it is set and the server cannot be reached, the tests fail: CI sets
// it on purpose.
const natsEnv = "SHELFLIVE_TEST_NATS"

// natsURL returns the test server's URL, skipping only when none is configured.
func natsURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(natsEnv)
	if u == "" {
		tb.Skipf("%s not set: no NATS server to test against", natsEnv)
	}
	nc, err := nats.Connect(u, nats.Timeout(5*time.Second))
	if err != nil {
		tb.Fatalf("%s=%s is set but NATS is unreachable: %v", natsEnv, u, err)
	}
	nc.Close()
	return u
}

// cluster opens n hubs (n nodes) on a fresh subject prefix and stream,
// removed when the test ends.
func cluster(tb testing.TB, n int, mod func(*natshub.Config)) (string, []*natshub.Hub, func(mod func(*natshub.Config)) *natshub.Hub) {
	tb.Helper()
	url := natsURL(tb)
	prefix := fmt.Sprintf("t%d_%d", time.Now().UnixNano(), os.Getpid())
	open := func(extra func(*natshub.Config)) *natshub.Hub {
		tb.Helper()
		cfg := natshub.Config{URL: url, Prefix: prefix, MemoryStorage: true, PresenceInterval: 100 * time.Millisecond,
			Local: realtime.Options{Tick: 20 * time.Millisecond, Snapshot: func(topic string) (any, error) { return "state of " + topic, nil }}}
		if mod != nil {
			mod(&cfg)
		}
		if extra != nil {
			extra(&cfg)
		}
		h, err := natshub.Open(context.Background(), cfg)
		if err != nil {
			tb.Fatalf("open hub: %v", err)
		}
		tb.Cleanup(func() { h.Close() })
		return h
	}
	// Registered first so that it runs last, after every hub closed.
	var stream string
	tb.Cleanup(func() {
		nc, err := nats.Connect(url)
		if err != nil || stream == "" {
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		js.DeleteStream(ctx, stream)
	})
	hubs := make([]*natshub.Hub, n)
	for i := range hubs {
		hubs[i] = open(nil)
	}
	stream = hubs[0].StreamName()
	return prefix, hubs, open
}

// frame is the union of the server frames' fields.
type frame struct {
	T          string             `json:"t"`
	Topic      string             `json:"topic"`
	Epoch      string             `json:"epoch"`
	Seq        uint64             `json:"seq"`
	Type       string             `json:"type"`
	Data       json.RawMessage    `json:"data"`
	Comments   []realtime.Comment `json:"comments"`
	Likes      int64              `json:"likes"`
	LikesDelta int64              `json:"likes_delta"`
	Viewers    int                `json:"viewers"`
}

// viewer collects the frames of one subscription in the background.
type viewer struct {
	sub *realtime.Subscription
	mu  sync.Mutex
	fs  []frame
}

func watch(tb testing.TB, h realtime.Hub, opts realtime.SubscribeOptions) *viewer {
	tb.Helper()
	s, err := h.Subscribe(opts)
	if err != nil {
		tb.Fatalf("subscribe: %v", err)
	}
	v := &viewer{sub: s}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var buf [][]byte
		for {
			buf = s.Frames(buf[:0])
			for _, b := range buf {
				var f frame
				if err := json.Unmarshal(b, &f); err != nil {
					panic(fmt.Sprintf("frame %q: %v", b, err))
				}
				v.mu.Lock()
				v.fs = append(v.fs, f)
				v.mu.Unlock()
			}
			if s.IsEnded() && s.Len() == 0 {
				return
			}
			<-s.Ready()
		}
	}()
	tb.Cleanup(func() { s.Close(); <-done })
	return v
}

func (v *viewer) frames() []frame {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]frame(nil), v.fs...)
}

// waitFor polls cond until it holds or 15 s pass (generous for a loaded CI box).
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// position returns the viewer's resume position on topic from its frames,
// and the sequence numbers of the events it got, checking there are no gaps
// or duplicates after its snapshot.
func (v *viewer) position(tb testing.TB, topic string) (epoch string, seq uint64, events []uint64) {
	tb.Helper()
	for _, f := range v.frames() {
		if f.Topic != topic {
			continue
		}
		switch f.T {
		case "snapshot":
			epoch, seq = f.Epoch, f.Seq
		case "ev":
			if epoch == "" {
				tb.Fatalf("event %d before any snapshot", f.Seq)
			}
			if f.Seq != seq+1 {
				tb.Fatalf("got seq %d after %d: gap or duplicate", f.Seq, seq)
			}
			seq = f.Seq
			events = append(events, f.Seq)
		}
	}
	return epoch, seq, events
}

func room(name string) []realtime.Resume { return []realtime.Resume{{Topic: name}} }

// Events published concurrently on three nodes get one gap-free sequence,
// and every node's viewers receive all of them in that order.
func TestPublish_OneSequenceAcrossNodes(t *testing.T) {
	_, hubs, _ := cluster(t, 3, nil)
	const topic = "room:1"
	viewers := make([]*viewer, len(hubs))
	for i, h := range hubs {
		viewers[i] = watch(t, h, realtime.SubscribeOptions{Topics: room(topic)})
	}
	const perNode = 40
	var mu sync.Mutex
	got := map[uint64]string{}
	var wg sync.WaitGroup
	for i, h := range hubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < perNode; k++ {
				body := fmt.Sprintf("n%d-%d", i, k)
				seq, err := h.Publish(topic, "stock.changed", body)
				if err != nil {
					t.Errorf("publish: %v", err)
					return
				}
				mu.Lock()
				if prev, dup := got[seq]; dup {
					t.Errorf("seq %d returned twice (%s, %s)", seq, prev, body)
				}
				got[seq] = body
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var seqs []uint64
	for s := range got {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	last := seqs[len(seqs)-1]
	if len(seqs) != 3*perNode || last-seqs[0] != uint64(len(seqs)-1) {
		t.Fatalf("seqs %v: want %d consecutive numbers", seqs, 3*perNode)
	}
	var epoch0 string
	for i, v := range viewers {
		waitFor(t, fmt.Sprintf("node %d to deliver seq %d", i, last), func() bool {
			_, seq, _ := v.position(t, topic)
			return seq >= last
		})
		epoch, _, evs := v.position(t, topic)
		if i == 0 {
			epoch0 = epoch
		} else if epoch != epoch0 {
			t.Fatalf("node %d epoch %q, node 0 %q", i, epoch, epoch0)
		}
		// Same events, same order, same payloads on every node.
		for _, f := range v.frames() {
			if f.T == "ev" {
				var body string
				json.Unmarshal(f.Data, &body)
				if got[f.Seq] != body {
					t.Fatalf("node %d seq %d carries %q, publisher got it for %q", i, f.Seq, body, got[f.Seq])
				}
			}
		}
		if len(evs) < 3*perNode {
			t.Fatalf("node %d got %d events, want %d", i, len(evs), 3*perNode)
		}
	}
	var conflicts uint64
	for _, h := range hubs {
		conflicts += h.Stats().Conflicts
	}
	t.Logf("%d events, %d optimistic-append conflicts retried", len(seqs), conflicts)
}

// A viewer that was on node A resumes on node B (which never had a viewer of
// the topic) and on a node started afterwards, and gets exactly what it
// missed; with a wrong epoch or too far behind it gets a snapshot.
func TestResume_OnAnotherNode(t *testing.T) {
	_, hubs, open := cluster(t, 2, func(c *natshub.Config) { c.Local.QueueLen = 16 }) // replay bound 8
	a, b := hubs[0], hubs[1]
	const topic = "room:7"
	va := watch(t, a, realtime.SubscribeOptions{Topics: room(topic)})
	var last uint64
	for k := 0; k < 6; k++ {
		seq, err := a.Publish(topic, "price.changed", k)
		if err != nil {
			t.Fatal(err)
		}
		last = seq
	}
	waitFor(t, "viewer on A", func() bool { _, s, _ := va.position(t, topic); return s == last })
	epoch, _, _ := va.position(t, topic)
	from := last - 4

	check := func(name string, h *natshub.Hub) {
		t.Helper()
		v := watch(t, h, realtime.SubscribeOptions{Topics: []realtime.Resume{{Topic: topic, Epoch: epoch, Seq: from}}})
		waitFor(t, name+" replay", func() bool { return len(v.frames()) >= 4 })
		fs := v.frames()
		for i, f := range fs[:4] {
			if f.T != "ev" || f.Seq != from+1+uint64(i) {
				t.Fatalf("%s: resume from %d got %+v, want events %d..%d", name, from, fs, from+1, last)
			}
		}
	}
	check("node B", b)
	c := open(nil)
	check("new node C", c)

	// A stale epoch gets a snapshot at the current position.
	v := watch(t, c, realtime.SubscribeOptions{Topics: []realtime.Resume{{Topic: topic, Epoch: "stale-1", Seq: 3}}})
	waitFor(t, "snapshot", func() bool { return len(v.frames()) > 0 })
	if f := v.frames()[0]; f.T != "snapshot" || f.Epoch != epoch || f.Seq != last || string(f.Data) != `"state of room:7"` {
		t.Fatalf("stale epoch got %+v", f)
	}
	// Too far behind (more than QueueLen/2 events) gets a snapshot too.
	for k := 0; k < 12; k++ {
		if last, _ = b.Publish(topic, "price.changed", k); last == 0 {
			t.Fatal("publish failed")
		}
	}
	d := open(nil)
	v = watch(t, d, realtime.SubscribeOptions{Topics: []realtime.Resume{{Topic: topic, Epoch: epoch, Seq: from}}})
	waitFor(t, "snapshot", func() bool { return len(v.frames()) > 0 })
	if f := v.frames()[0]; f.T != "snapshot" || f.Seq != last {
		t.Fatalf("far behind got %+v, want snapshot at %d", f, last)
	}
}

// Viewers who join a new topic on different nodes before its first event
// agree on the epoch, so the first event does not send them to resync.
func TestNewTopic_SameEpochEverywhere(t *testing.T) {
	_, hubs, _ := cluster(t, 3, nil)
	const topic = "order:42"
	vs := make([]*viewer, len(hubs))
	var wg sync.WaitGroup
	for i, h := range hubs {
		wg.Add(1)
		go func() { defer wg.Done(); vs[i] = watch(t, h, realtime.SubscribeOptions{Topics: room(topic)}) }()
	}
	wg.Wait()
	seq, err := hubs[1].Publish(topic, "order.status", map[string]string{"status": "paid"})
	if err != nil {
		t.Fatal(err)
	}
	var opened uint64
	for i, v := range vs {
		waitFor(t, "event", func() bool { _, s, _ := v.position(t, topic); return s == seq })
		if code, _ := v.sub.Ended(); code != "" {
			t.Fatalf("node %d viewer ended with %q", i, code)
		}
		opened += hubs[i].Stats().OpenEvents
	}
	if opened != 1 || seq != 2 {
		t.Fatalf("%d topic.opened events, first event seq %d; want 1 and 2", opened, seq)
	}
}

// Comments and likes posted on one node reach viewers on the others; an
// author's own comment reaches the author's socket on another node even
// when the batch samples it out.
func TestLossy_AcrossNodes(t *testing.T) {
	_, hubs, _ := cluster(t, 2, func(c *natshub.Config) { c.Local.MaxCommentsPerTick = 2 })
	a, b := hubs[0], hubs[1]
	const topic = "room:3"
	va := watch(t, a, realtime.SubscribeOptions{Topics: room(topic)})
	author := watch(t, b, realtime.SubscribeOptions{Topics: room(topic), User: "c9"})
	other := watch(t, b, realtime.SubscribeOptions{Topics: room(topic), User: "c10"})
	for i := 0; i < 30; i++ {
		user := fmt.Sprintf("c%d", 100+i)
		if i == 17 {
			user = "c9"
		}
		a.PublishComment(topic, realtime.Comment{ID: fmt.Sprint(i), User: user, Name: "u", Text: fmt.Sprintf("hello %d", i)})
	}
	b.AddLikes(topic, 5)
	a.AddLikes(topic, 2)
	seen := func(v *viewer, id string) bool {
		for _, f := range v.frames() {
			for _, c := range f.Comments {
				if c.ID == id {
					return true
				}
			}
		}
		return false
	}
	likes := func(v *viewer) int64 {
		var n int64
		for _, f := range v.frames() {
			if f.T == "batch" {
				n = f.Likes
			}
		}
		return n
	}
	waitFor(t, "own comment on the author's node", func() bool { return seen(author, "17") })
	waitFor(t, "likes summed on node A", func() bool { return likes(va) == 7 })
	waitFor(t, "likes summed on node B", func() bool { return likes(other) == 7 })
	count := func(v *viewer) int {
		n := 0
		for _, f := range v.frames() {
			if f.T == "batch" {
				n += len(f.Comments)
			}
		}
		return n
	}
	waitFor(t, "comments on node B", func() bool { return count(other) > 0 })
	if a.Likes(topic) != 7 || b.Likes(topic) != 7 {
		t.Fatalf("likes %d / %d, want 7", a.Likes(topic), b.Likes(topic))
	}
	// A host comment is never sampled out, on any node.
	b.PublishComment(topic, realtime.Comment{ID: "h1", User: "s1", Name: "host", Text: "welcome", Host: true})
	waitFor(t, "host comment on node A", func() bool { return seen(va, "h1") })
	waitFor(t, "host comment on node B", func() bool { return seen(other, "h1") })
}

// Personal messages and comment deletions reach the user on another node.
func TestSendUserAndDelete_AcrossNodes(t *testing.T) {
	_, hubs, _ := cluster(t, 2, nil)
	a, b := hubs[0], hubs[1]
	const topic = "room:4"
	vb := watch(t, b, realtime.SubscribeOptions{Topics: room(topic), User: "c1"})
	a.SendUser(topic, "c1", "order.status", map[string]any{"order_id": 77, "status": "paid"})
	waitFor(t, "personal message on node B", func() bool {
		for _, f := range vb.frames() {
			if f.T == "me" && f.Type == "order.status" && strings.Contains(string(f.Data), `"order_id":77`) {
				return true
			}
		}
		return false
	})
	seq, err := a.DeleteComment(topic, "c91")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "comment.deleted on node B", func() bool {
		for _, f := range vb.frames() {
			if f.T == "ev" && f.Seq == seq && f.Type == realtime.EventCommentDeleted && string(f.Data) == `{"id":"c91"}` {
				return true
			}
		}
		return false
	})
}

// Viewer counts are summed over nodes; a node that leaves stops counting.
func TestPresence_Summed(t *testing.T) {
	_, hubs, _ := cluster(t, 2, nil)
	a, b := hubs[0], hubs[1]
	const topic = "room:5"
	for i := 0; i < 2; i++ {
		watch(t, a, realtime.SubscribeOptions{Topics: room(topic)})
	}
	for i := 0; i < 3; i++ {
		watch(t, b, realtime.SubscribeOptions{Topics: room(topic)})
	}
	watch(t, b, realtime.SubscribeOptions{Topics: room(topic), Hidden: true}) // the studio is no viewer
	waitFor(t, "5 viewers seen on A", func() bool { return a.Viewers(topic) == 5 })
	waitFor(t, "5 viewers seen on B", func() bool { return b.Viewers(topic) == 5 })
	if n := a.Stats().RemoteNodes; n != 1 {
		t.Fatalf("node A sees %d other nodes, want 1", n)
	}
	b.Close()
	waitFor(t, "B's viewers gone from A", func() bool { return a.Viewers(topic) == 2 })
}

// Readiness fails without NATS; Open fails fast on a dead URL; a closed hub
// refuses new subscriptions like the local one.
func TestPingAndClose(t *testing.T) {
	_, hubs, _ := cluster(t, 1, nil)
	h := hubs[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := h.Ping(context.Background()); err != nil { // /readyz passes the request's context, without deadline
		t.Fatalf("ping without deadline: %v", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(h)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]float64{}
	for _, mf := range mfs {
		if m := mf.GetMetric(); len(m) == 1 {
			names[mf.GetName()] = m[0].GetGauge().GetValue() + m[0].GetCounter().GetValue()
		}
	}
	if names["shelflive_nats_connected"] != 1 || len(names) < 10 {
		t.Fatalf("metrics %v", names)
	}
	if _, err := natshub.Open(ctx, natshub.Config{URL: "nats://127.0.0.1:1", Timeout: time.Second}); err == nil {
		t.Fatal("open on a dead URL succeeded")
	}
	if _, err := natshub.Open(ctx, natshub.Config{URL: natsURL(t), Prefix: "bad.prefix"}); err == nil {
		t.Fatal("accepted a prefix with a dot")
	}
	v := watch(t, h, realtime.SubscribeOptions{Topics: room("room:8")})
	h.Close()
	if err := h.Ping(ctx); err == nil {
		t.Fatal("ping after close succeeded")
	}
	waitFor(t, "shutdown of the viewer", func() bool { c, _ := v.sub.Ended(); return c == realtime.CodeShutdown })
	if _, err := h.Subscribe(realtime.SubscribeOptions{Topics: room("room:8")}); err != realtime.ErrClosed {
		t.Fatalf("subscribe after close: %v", err)
	}
	if _, err := h.Publish("room:8", "x", 1); err != realtime.ErrClosed {
		t.Fatalf("publish after close: %v", err)
	}
}

// Topics with dots and slashes map to valid subjects and back.
func TestTopicNames(t *testing.T) {
	_, hubs, _ := cluster(t, 2, nil)
	for _, topic := range []string{"a.b.c", "x/y:z", "room:1.", ".lead"} {
		v := watch(t, hubs[1], realtime.SubscribeOptions{Topics: room(topic)})
		seq, err := hubs[0].Publish(topic, "t", 1)
		if err != nil {
			t.Fatalf("%s: %v", topic, err)
		}
		waitFor(t, topic, func() bool { _, s, _ := v.position(t, topic); return s == seq })
	}
	if _, err := hubs[0].Subscribe(realtime.SubscribeOptions{Topics: room("bad topic")}); err == nil {
		t.Fatal("invalid topic accepted")
	}
}

// Viewers join on other nodes (one of them started mid-stream) while events
// are being published: each gets a snapshot and then every later event, with
// no gap or duplicate, whatever moment it joined (history load racing the
// live consumer).
func TestJoinWhilePublishing(t *testing.T) {
	_, hubs, open := cluster(t, 2, nil)
	const topic = "room:11"
	const total = 150
	done := make(chan uint64)
	publishers := []*natshub.Hub{hubs[0], hubs[1]}
	go func() {
		var last uint64
		for i := 0; i < total; i++ {
			seq, err := publishers[i%2].Publish(topic, "stock.changed", i)
			if err != nil {
				t.Errorf("publish: %v", err)
				break
			}
			last = max(last, seq)
			time.Sleep(500 * time.Microsecond)
		}
		done <- last
	}()
	var vs []*viewer
	for i := 0; i < 30; i++ {
		h := hubs[1]
		if i == 10 {
			h = open(nil)
			hubs = append(hubs, h)
		}
		if i > 10 {
			h = hubs[2]
		}
		vs = append(vs, watch(t, h, realtime.SubscribeOptions{Topics: room(topic)}))
		time.Sleep(2 * time.Millisecond)
	}
	last := <-done
	for i, v := range vs {
		waitFor(t, fmt.Sprintf("viewer %d at %d", i, last), func() bool { _, s, _ := v.position(t, topic); return s == last })
		if code, _ := v.sub.Ended(); code != "" {
			t.Fatalf("viewer %d ended: %s", i, code)
		}
	}
}

// A node stops following a topic nobody watches there, and its local hub
// may free it; a later viewer on that node still gets the cluster's epoch
// and sequence, and a viewer that resumes gets exactly what it missed.
func TestForgetAndFollowAgain(t *testing.T) {
	_, hubs, _ := cluster(t, 2, func(c *natshub.Config) { c.Local.TopicTTL = 400 * time.Millisecond })
	a, b := hubs[0], hubs[1]
	const topic = "room:12"
	va := watch(t, a, realtime.SubscribeOptions{Topics: room(topic)})
	s, err := b.Subscribe(realtime.SubscribeOptions{Topics: room(topic)})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := a.Publish(topic, "price.changed", 1)
	waitFor(t, "first event on A", func() bool { _, q, _ := va.position(t, topic); return q == first })
	s.Close()
	waitFor(t, "B to forget the topic", func() bool { return b.Stats().TrackedTopics == 0 })
	var last uint64
	for i := 0; i < 5; i++ {
		last, _ = a.Publish(topic, "price.changed", i)
	}
	time.Sleep(time.Second) // long enough for B's local hub to free the idle topic too
	epoch, _, _ := va.position(t, topic)
	fresh := watch(t, b, realtime.SubscribeOptions{Topics: room(topic)})
	waitFor(t, "snapshot on B", func() bool { return len(fresh.frames()) > 0 })
	if f := fresh.frames()[0]; f.T != "snapshot" || f.Epoch != epoch || f.Seq != last {
		t.Fatalf("B after forgetting: %+v, want snapshot %s.%d", f, epoch, last)
	}
	resumed := watch(t, b, realtime.SubscribeOptions{Topics: []realtime.Resume{{Topic: topic, Epoch: epoch, Seq: first}}})
	waitFor(t, "replay on B", func() bool { return len(resumed.frames()) >= int(last-first) })
	for i, f := range resumed.frames()[:last-first] {
		if f.T != "ev" || f.Seq != first+1+uint64(i) {
			t.Fatalf("resume on B from %d: %+v", first, resumed.frames())
		}
	}
	next, _ := a.Publish(topic, "price.changed", 99)
	waitFor(t, "live event on B", func() bool { _, q, _ := fresh.position(t, topic); return q == next })
}

// With the local hub's SetRemoteViewers hook, batch frames carry the
// cluster-wide viewer count (without it, each node's own count).
func TestBatchViewers_ClusterSum(t *testing.T) {
	_, hubs, _ := cluster(t, 2, nil)
	if _, ok := any(hubs[0].Local()).(interface{ SetRemoteViewers(string, int) }); !ok {
		t.Skip("realtime.LocalHub has no SetRemoteViewers hook yet: batch frames count this node's viewers only (docs/DEPLOY.md)")
	}
	const topic = "room:21"
	va := watch(t, hubs[0], realtime.SubscribeOptions{Topics: room(topic)})
	watch(t, hubs[0], realtime.SubscribeOptions{Topics: room(topic)})
	for i := 0; i < 3; i++ {
		watch(t, hubs[1], realtime.SubscribeOptions{Topics: room(topic)})
	}
	waitFor(t, "batch with 5 viewers on node A", func() bool {
		fs := va.frames()
		for i := len(fs) - 1; i >= 0; i-- {
			if fs[i].T == "batch" {
				return fs[i].Viewers == 5
			}
		}
		return false
	})
}

// With the local hub's WithdrawComment hook, a comment deleted before its
// batch left is not shown on any node.
func TestDeleteComment_WithdrawnEverywhere(t *testing.T) {
	_, hubs, open := cluster(t, 1, nil)
	a := hubs[0]
	b := open(func(c *natshub.Config) { c.Local.Tick = time.Hour }) // batches only when the test flushes
	if _, ok := any(b.Local()).(interface{ WithdrawComment(string, string) }); !ok {
		t.Skip("realtime.LocalHub has no WithdrawComment hook yet: a comment deleted within its 100 ms batch may still be shown once (docs/DEPLOY.md)")
	}
	const topic = "room:22"
	vb := watch(t, b, realtime.SubscribeOptions{Topics: room(topic)})
	a.PublishComment(topic, realtime.Comment{ID: "c1", User: "u1", Name: "u", Text: "oops"})
	a.PublishComment(topic, realtime.Comment{ID: "c2", User: "u2", Name: "u", Text: "fine"})
	waitFor(t, "both comments relayed to node B", func() bool { return b.Local().Stats().CommentsIn == 2 })
	seq, err := a.DeleteComment(topic, "c1")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "comment.deleted on B", func() bool { _, s, _ := vb.position(t, topic); return s == seq })
	b.Local().Flush()
	waitFor(t, "batch on B", func() bool {
		for _, f := range vb.frames() {
			for _, c := range f.Comments {
				if c.ID == "c1" {
					t.Fatal("deleted comment shown on node B")
				}
				if c.ID == "c2" {
					return true
				}
			}
		}
		return false
	})
}

// An event that could not be appended (NATS unreachable) is not silently
// lost: once NATS answers, the topic restarts under a new epoch, every
// node's viewers are sent to resync, and a reconnect gets a snapshot.
func TestLostEvent_Resync(t *testing.T) {
	_, hubs, _ := cluster(t, 2, nil)
	a, b := hubs[0], hubs[1]
	const topic = "room:31"
	va := watch(t, a, realtime.SubscribeOptions{Topics: room(topic)})
	vb := watch(t, b, realtime.SubscribeOptions{Topics: room(topic)})
	last, err := a.Publish(topic, "stock.changed", 1)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "event on B", func() bool { _, s, _ := vb.position(t, topic); return s == last })
	epoch, _, _ := vb.position(t, topic)
	a.MarkLostForTest(topic)
	a.RepairLostForTest()
	for name, v := range map[string]*viewer{"A": va, "B": vb} {
		waitFor(t, "resync on "+name, func() bool { c, _ := v.sub.Ended(); return c == realtime.CodeResync })
	}
	v := watch(t, b, realtime.SubscribeOptions{Topics: []realtime.Resume{{Topic: topic, Epoch: epoch, Seq: last}}})
	waitFor(t, "snapshot", func() bool { return len(v.frames()) > 0 })
	if f := v.frames()[0]; f.T != "snapshot" || f.Epoch == epoch || f.Seq != 1 {
		t.Fatalf("after the reset got %+v, want a snapshot of the new epoch at 1", f)
	}
	if seq, err := a.Publish(topic, "stock.changed", 2); err != nil || seq != 2 {
		t.Fatalf("next event: seq %d, %v", seq, err)
	}
	if a.Stats().Resets != 1 {
		t.Fatalf("resets %d", a.Stats().Resets)
	}
}

// Without NATS, Publish fails at once instead of holding its caller.
func TestPublish_FailsFastWhenDisconnected(t *testing.T) {
	url := natsURL(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _, open := cluster(t, 1, nil)
	h := open(func(c *natshub.Config) { c.Conn = nc })
	nc.Close()
	t0 := time.Now()
	if _, err := h.Publish("room:32", "stock.changed", 1); err == nil {
		t.Fatal("publish without NATS succeeded")
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("publish without NATS took %v", d)
	}
	if h.Stats().PublishErrors != 1 {
		t.Fatalf("publish errors %d", h.Stats().PublishErrors)
	}
}
