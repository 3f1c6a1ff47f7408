package realtime_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/realtime"
)

// frame is the union of every server frame's fields, for assertions.
type frame struct {
	T          string             `json:"t"`
	Topic      string             `json:"topic"`
	Epoch      string             `json:"epoch"`
	Seq        uint64             `json:"seq"`
	Type       string             `json:"type"`
	Data       json.RawMessage    `json:"data"`
	Comments   []realtime.Comment `json:"comments"`
	Dropped    int                `json:"dropped"`
	Likes      int64              `json:"likes"`
	LikesDelta int64              `json:"likes_delta"`
	Viewers    int                `json:"viewers"`
	Code       string             `json:"code"`
	Extra      map[string]any     `json:"-"`
	raw        []byte
}

func parse(tb testing.TB, b []byte) frame {
	tb.Helper()
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		tb.Fatalf("frame %q: %v", b, err)
	}
	f.raw = b
	return f
}

// drain returns every frame queued on s now.
func drain(tb testing.TB, s *realtime.Subscription) []frame {
	tb.Helper()
	var out []frame
	for _, b := range s.Frames(nil) {
		out = append(out, parse(tb, b))
	}
	return out
}

// newHub returns a hub whose tick never fires by itself; tests call Flush.
func newHub(tb testing.TB, opts realtime.Options) *realtime.LocalHub {
	tb.Helper()
	if opts.Tick == 0 {
		opts.Tick = time.Hour
	}
	h := realtime.NewLocalHub(opts)
	tb.Cleanup(func() { h.Close() })
	return h
}

func mustSubscribe(tb testing.TB, h realtime.Hub, opts realtime.SubscribeOptions) *realtime.Subscription {
	tb.Helper()
	s, err := h.Subscribe(opts)
	if err != nil {
		tb.Fatalf("subscribe: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

func topics(names ...string) []realtime.Resume {
	var rs []realtime.Resume
	for _, n := range names {
		rs = append(rs, realtime.Resume{Topic: n})
	}
	return rs
}

func TestPublish_OrderedNoGaps(t *testing.T) {
	h := newHub(t, realtime.Options{QueueLen: 100000, History: 4096})
	const publishers, perPublisher = 4, 300
	var subs []*realtime.Subscription
	for i := 0; i < 3; i++ {
		subs = append(subs, mustSubscribe(t, h, realtime.SubscribeOptions{User: fmt.Sprint("u", i), Topics: topics("room:1", "room:2")}))
	}
	// Readers drain concurrently with publishing, as writer goroutines do.
	type result struct{ frames []frame }
	results := make([]result, len(subs))
	var rwg sync.WaitGroup
	stop := make(chan struct{})
	for i, s := range subs {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for {
				select {
				case <-s.Ready():
					for _, b := range s.Frames(nil) {
						results[i].frames = append(results[i].frames, parse(t, b))
					}
				case <-stop:
					for _, b := range s.Frames(nil) {
						results[i].frames = append(results[i].frames, parse(t, b))
					}
					return
				}
			}
		}()
	}
	var pwg sync.WaitGroup
	for p := 0; p < publishers; p++ {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			for i := 0; i < perPublisher; i++ {
				topic := "room:1"
				if i%3 == 0 {
					topic = "room:2"
				}
				if _, err := h.Publish(topic, "stock.changed", map[string]int{"p": p, "i": i}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	pwg.Wait()
	close(stop)
	rwg.Wait()

	want := map[string]uint64{"room:1": 0, "room:2": 0}
	for p := 0; p < publishers; p++ {
		for i := 0; i < perPublisher; i++ {
			if i%3 == 0 {
				want["room:2"]++
			} else {
				want["room:1"]++
			}
		}
	}
	for i, r := range results {
		last := map[string]uint64{}
		for _, f := range r.frames {
			switch f.T {
			case "snapshot":
				if f.Seq != 0 || last[f.Topic] != 0 {
					t.Fatalf("sub %d: snapshot %s seq %d after %d events", i, f.Topic, f.Seq, last[f.Topic])
				}
			case "ev":
				if f.Seq != last[f.Topic]+1 {
					t.Fatalf("sub %d: %s got seq %d after %d", i, f.Topic, f.Seq, last[f.Topic])
				}
				last[f.Topic] = f.Seq
			}
		}
		for topic, n := range want {
			if last[topic] != n {
				t.Errorf("sub %d: %s last seq %d, want %d", i, topic, last[topic], n)
			}
		}
	}
}

func TestSubscribe_Resume(t *testing.T) {
	snapCalls := 0
	h := newHub(t, realtime.Options{History: 8, QueueLen: 64, SnapshotTTL: -1, Snapshot: func(topic string) (any, error) {
		snapCalls++
		return map[string]string{"topic": topic, "state": "full"}, nil
	}})
	first := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:7")})
	fs := drain(t, first)
	if len(fs) != 1 || fs[0].T != "snapshot" || fs[0].Seq != 0 || !strings.Contains(string(fs[0].Data), `"full"`) {
		t.Fatalf("new subscriber got %+v, want one snapshot at seq 0", fs)
	}
	epoch := fs[0].Epoch
	if !strings.HasPrefix(epoch, h.Epoch()+"-") {
		t.Fatalf("topic epoch %q does not extend hub epoch %q", epoch, h.Epoch())
	}
	for i := 1; i <= 12; i++ {
		if seq, err := h.Publish("room:7", "price.changed", map[string]int{"price_fen": 100 * i}); err != nil || seq != uint64(i) {
			t.Fatalf("publish %d: seq %d err %v", i, seq, err)
		}
	}

	t.Run("WithinHistory", func(t *testing.T) {
		s := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: []realtime.Resume{{Topic: "room:7", Epoch: epoch, Seq: 9}}})
		fs := drain(t, s)
		var seqs []uint64
		for _, f := range fs {
			if f.T != "ev" {
				t.Fatalf("resume got %s frame, want only events", f.T)
			}
			seqs = append(seqs, f.Seq)
		}
		if fmt.Sprint(seqs) != "[10 11 12]" {
			t.Fatalf("resume from 9 got seqs %v, want [10 11 12]", seqs)
		}
		if !strings.Contains(string(fs[0].Data), `"price_fen":1000`) {
			t.Fatalf("event 10 data %s", fs[0].Data)
		}
	})
	t.Run("UpToDate", func(t *testing.T) {
		s := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: []realtime.Resume{{Topic: "room:7", Epoch: epoch, Seq: 12}}})
		if fs := drain(t, s); len(fs) != 0 {
			t.Fatalf("up-to-date resume got %d frames", len(fs))
		}
		h.Publish("room:7", "price.changed", 1)
		if fs := drain(t, s); len(fs) != 1 || fs[0].Seq != 13 {
			t.Fatalf("after resume got %+v, want event 13", fs)
		}
	})
	for name, r := range map[string]realtime.Resume{
		"BeyondHistory": {Topic: "room:7", Epoch: epoch, Seq: 2},
		"OtherEpoch":    {Topic: "room:7", Epoch: "zzzz-1", Seq: 12},
		"FutureSeq":     {Topic: "room:7", Epoch: epoch, Seq: 99},
	} {
		t.Run(name, func(t *testing.T) {
			before := snapCalls
			s := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: []realtime.Resume{r}})
			fs := drain(t, s)
			if len(fs) != 1 || fs[0].T != "snapshot" || fs[0].Epoch != epoch || fs[0].Seq != 13 {
				t.Fatalf("got %+v, want a snapshot at seq 13 epoch %s", fs, epoch)
			}
			if snapCalls != before+1 {
				t.Fatalf("snapshot calls %d, want %d", snapCalls, before+1)
			}
		})
	}
}

// Events published while the snapshot is being built must follow the snapshot, so the
// client ends up with the latest state and a position without gaps.
func TestSubscribe_SnapshotRacesPublish(t *testing.T) {
	var h *realtime.LocalHub
	h = newHub(t, realtime.Options{Snapshot: func(topic string) (any, error) {
		for i := 0; i < 3; i++ {
			if _, err := h.Publish(topic, "stock.changed", i); err != nil {
				return nil, err
			}
		}
		return "state", nil
	}})
	h.Publish("room:3", "card.pinned", "x") // seq 1
	s := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:3")})
	fs := drain(t, s)
	if len(fs) != 4 || fs[0].T != "snapshot" || fs[0].Seq != 1 {
		t.Fatalf("got %+v, want snapshot@1 then events 2..4", fs)
	}
	for i, f := range fs[1:] {
		if f.T != "ev" || f.Seq != uint64(i+2) {
			t.Fatalf("frame %d: %+v", i+1, f)
		}
	}
}

func TestComments_SamplingOwnAndHost(t *testing.T) {
	h := newHub(t, realtime.Options{MaxCommentsPerTick: 4})
	me := mustSubscribe(t, h, realtime.SubscribeOptions{User: "me", Topics: topics("room:1")})
	other := mustSubscribe(t, h, realtime.SubscribeOptions{User: "other", Topics: topics("room:1")})
	drain(t, me)
	drain(t, other)

	for round := 0; round < 20; round++ {
		n := 0
		add := func(user string, host bool) {
			n++
			h.PublishComment("room:1", realtime.Comment{ID: fmt.Sprintf("c%d-%d", round, n), User: user, Name: user, Text: "hi", Host: host})
		}
		for i := 0; i < 10; i++ {
			add(fmt.Sprint("fan", i), false)
		}
		add("me", false)
		add("host", true)
		add("host", true)
		for i := 0; i < 10; i++ {
			add(fmt.Sprint("fan", i), false)
		}
		h.Flush()

		check := func(name string, fs []frame, wantOwn bool) {
			t.Helper()
			var batch *frame
			var own []realtime.Comment
			for i := range fs {
				switch fs[i].T {
				case "batch":
					if batch != nil {
						t.Fatalf("%s: two batch frames in one tick", name)
					}
					batch = &fs[i]
				case "own":
					own = append(own, fs[i].Comments...)
				}
			}
			if batch == nil {
				t.Fatalf("%s: no batch frame", name)
			}
			if len(batch.Comments) != 4 || batch.Dropped != 23-4 {
				t.Fatalf("%s: batch has %d comments, dropped %d; want 4 and 19", name, len(batch.Comments), batch.Dropped)
			}
			hosts, mine := 0, 0
			authors := map[string]int{}
			for _, c := range batch.Comments {
				authors[c.User]++
				if c.Host {
					hosts++
				}
				if c.User == "me" {
					mine++
				}
			}
			if hosts != 2 {
				t.Fatalf("%s: %d host comments in batch, want 2", name, hosts)
			}
			for u, k := range authors {
				if k > 1 && u != "host" {
					t.Fatalf("%s: author %s has %d comments while others were left out", name, u, k)
				}
			}
			for _, c := range own {
				if c.User != "me" {
					t.Fatalf("%s: own frame holds %s's comment", name, c.User)
				}
			}
			if wantOwn && mine+len(own) != 1 {
				t.Fatalf("%s: own comment delivered %d times (batch %d, own %d)", name, mine+len(own), mine, len(own))
			}
			if !wantOwn && len(own) != 0 {
				t.Fatalf("%s: got %d own comments", name, len(own))
			}
		}
		check("me", drain(t, me), true)
		check("other", drain(t, other), false)
	}
	if st := h.Stats(); st.CommentsDropped != 20*19 || st.CommentsIn != 20*23 {
		t.Fatalf("stats %+v", st)
	}
}

func TestComments_BelowLimitAllShownInOrder(t *testing.T) {
	h := newHub(t, realtime.Options{MaxCommentsPerTick: 8})
	s := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:1")})
	drain(t, s)
	for i := 0; i < 5; i++ {
		h.PublishComment("room:1", realtime.Comment{ID: fmt.Sprint(i), User: "a", Text: "x"})
	}
	h.Flush()
	fs := drain(t, s)
	if len(fs) != 1 || len(fs[0].Comments) != 5 || fs[0].Dropped != 0 {
		t.Fatalf("got %+v", fs)
	}
	for i, c := range fs[0].Comments {
		if c.ID != fmt.Sprint(i) || c.At.IsZero() {
			t.Fatalf("comment %d = %+v", i, c)
		}
	}
}

func TestDeleteComment(t *testing.T) {
	h := newHub(t, realtime.Options{})
	s := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:1")})
	drain(t, s)
	h.PublishComment("room:1", realtime.Comment{ID: "bad", User: "a", Text: "spam"})
	h.PublishComment("room:1", realtime.Comment{ID: "good", User: "b", Text: "hello"})
	seq, err := h.DeleteComment("room:1", "bad")
	if err != nil || seq != 1 {
		t.Fatalf("delete: seq %d err %v", seq, err)
	}
	h.Flush()
	// The pending batch rides along with the event (see TestPublish_PiggybacksBatch)
	// and no longer holds the deleted comment.
	fs := drain(t, s)
	if len(fs) != 2 || fs[1].T != "ev" || fs[1].Type != "comment.deleted" || string(fs[1].Data) != `{"id":"bad"}` {
		t.Fatalf("got %+v", fs)
	}
	if fs[0].T != "batch" || len(fs[0].Comments) != 1 || fs[0].Comments[0].ID != "good" {
		t.Fatalf("batch still holds the deleted comment: %+v", fs[0])
	}
}

// A commerce event takes the pending batch with it (one socket write per viewer
// instead of two), at most every Tick/4; the event itself is never delayed.
func TestPublish_PiggybacksBatch(t *testing.T) {
	h := newHub(t, realtime.Options{Tick: time.Hour})
	s := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:1")})
	drain(t, s) // snapshot; no batch built yet
	h.PublishComment("room:1", realtime.Comment{ID: "c1", User: "a", Text: "hi"})
	h.AddLikes("room:1", 3)
	h.Publish("room:1", "card.pinned", 1)
	fs := drain(t, s)
	if len(fs) != 2 || fs[0].T != "batch" || len(fs[0].Comments) != 1 || fs[0].LikesDelta != 3 || fs[0].Viewers != 1 || fs[1].T != "ev" {
		t.Fatalf("got %+v, want batch then event", fs)
	}
	// Too soon after that batch: the event goes alone, the comment waits for the tick.
	h.PublishComment("room:1", realtime.Comment{ID: "c2", User: "a", Text: "again"})
	h.Publish("room:1", "card.pinned", 2)
	if fs := drain(t, s); len(fs) != 1 || fs[0].T != "ev" || fs[0].Seq != 2 {
		t.Fatalf("got %+v, want only event 2", fs)
	}
	h.Flush()
	if fs := drain(t, s); len(fs) != 1 || fs[0].T != "batch" || fs[0].Comments[0].ID != "c2" {
		t.Fatalf("tick got %+v", fs)
	}
}

func TestLikes_AggregatedPerTick(t *testing.T) {
	h := newHub(t, realtime.Options{})
	h.SetLikes("room:1", 500)
	s := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:1")})
	drain(t, s)
	h.Flush() // presence batch (viewers 1)
	drain(t, s)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				h.AddLikes("room:1", 1)
			}
		}()
	}
	wg.Wait()
	h.Flush()
	fs := drain(t, s)
	if len(fs) != 1 || fs[0].T != "batch" || fs[0].LikesDelta != 1000 || fs[0].Likes != 1500 {
		t.Fatalf("1000 taps gave %+v, want one batch with likes_delta 1000 likes 1500", fs)
	}
	if got := h.Likes("room:1"); got != 1500 {
		t.Fatalf("Likes = %d", got)
	}
	h.Flush()
	if fs := drain(t, s); len(fs) != 0 {
		t.Fatalf("quiet tick sent %d frames", len(fs))
	}
}

func TestPresence(t *testing.T) {
	h := newHub(t, realtime.Options{})
	var subs []*realtime.Subscription
	for i := 0; i < 5; i++ {
		subs = append(subs, mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:1")}))
	}
	staff := mustSubscribe(t, h, realtime.SubscribeOptions{Hidden: true, Topics: topics("room:1")})
	if n := h.Viewers("room:1"); n != 5 {
		t.Fatalf("Viewers = %d, want 5 (hidden not counted)", n)
	}
	h.Flush()
	fs := drain(t, staff)
	if len(fs) != 2 || fs[1].T != "batch" || fs[1].Viewers != 5 {
		t.Fatalf("got %+v", fs)
	}
	subs[0].Close()
	subs[1].Close()
	subs[1].Close()
	if n := h.Viewers("room:1"); n != 3 {
		t.Fatalf("Viewers = %d, want 3", n)
	}
	h.Flush()
	if fs := drain(t, staff); len(fs) != 1 || fs[0].Viewers != 3 {
		t.Fatalf("got %+v", fs)
	}
	if n := h.Viewers("room:404"); n != 0 {
		t.Fatalf("unknown topic viewers %d", n)
	}
}

func TestSendUser(t *testing.T) {
	h := newHub(t, realtime.Options{})
	a1 := mustSubscribe(t, h, realtime.SubscribeOptions{User: "a", Topics: topics("room:1")})
	a2 := mustSubscribe(t, h, realtime.SubscribeOptions{User: "a", Topics: topics("room:1")})
	b := mustSubscribe(t, h, realtime.SubscribeOptions{User: "b", Topics: topics("room:1")})
	for _, s := range []*realtime.Subscription{a1, a2, b} {
		drain(t, s)
	}
	h.SendUser("room:1", "a", "order.status", map[string]string{"status": "paid"})
	for _, s := range []*realtime.Subscription{a1, a2} {
		fs := drain(t, s)
		if len(fs) != 1 || fs[0].T != "me" || fs[0].Type != "order.status" || string(fs[0].Data) != `{"status":"paid"}` {
			t.Fatalf("got %+v", fs)
		}
	}
	if fs := drain(t, b); len(fs) != 0 {
		t.Fatalf("b got %+v", fs)
	}
}

func TestSlowConsumer(t *testing.T) {
	h := newHub(t, realtime.Options{QueueLen: 8})
	stalled := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:1")})
	healthy := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:1")})
	drain(t, healthy)

	// Batches do not pile up behind a stalled writer: each newer one replaces
	// the unsent one, and that is not fatal.
	for i := 0; i < 20; i++ {
		h.AddLikes("room:1", 1)
		h.Flush()
		drain(t, healthy)
	}
	select {
	case <-stalled.Done():
		t.Fatal("lossy overflow ended the subscription")
	default:
	}
	if st := h.Stats(); st.LossyReplaced < 19 || stalled.Len() != 2 { // its snapshot and one batch
		t.Fatalf("stalled queue holds %d frames, %d batches replaced; want 2 and ≥ 19", stalled.Len(), st.LossyReplaced)
	}
	// Guaranteed events first evict lossy frames, then end the subscription.
	var got []uint64
	for i := 0; i < 20; i++ {
		h.Publish("room:1", "stock.changed", i)
		for _, f := range drain(t, healthy) {
			got = append(got, f.Seq)
		}
	}
	if len(got) != 20 || got[19] != 20 {
		t.Fatalf("healthy viewer got %v", got)
	}
	select {
	case <-stalled.Done():
	default:
		t.Fatal("stalled subscription not ended after guaranteed overflow")
	}
	if code, reason := stalled.Ended(); code != realtime.CodeSlowConsumer || reason == "" {
		t.Fatalf("ended with %q %q", code, reason)
	}
	// What stayed queued is a gap-free prefix of events: the client resumes after it.
	var seqs []uint64
	for _, f := range drain(t, stalled) {
		if f.T == "ev" {
			seqs = append(seqs, f.Seq)
		}
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("stalled queue holds %v", seqs)
		}
	}
	if h.Stats().SlowConsumers != 1 {
		t.Fatalf("stats %+v", h.Stats())
	}
}

func TestTopicGC_NewEpoch(t *testing.T) {
	h := realtime.NewLocalHub(realtime.Options{Tick: 5 * time.Millisecond, TopicTTL: 20 * time.Millisecond})
	defer h.Close()
	h.Publish("order:77", "order.status", "paid")
	s, _ := h.Subscribe(realtime.SubscribeOptions{Topics: topics("order:77")})
	old := drain(t, s)[0].Epoch
	s.Close()
	deadline := time.Now().Add(10 * time.Second)
	for h.Stats().Topics != 0 {
		if time.Now().After(deadline) {
			t.Fatal("idle topic never freed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.Publish("order:77", "order.status", "shipped")
	s2, _ := h.Subscribe(realtime.SubscribeOptions{Topics: []realtime.Resume{{Topic: "order:77", Epoch: old, Seq: 0}}})
	defer s2.Close()
	fs := drain(t, s2)
	if len(fs) != 1 || fs[0].T != "snapshot" || fs[0].Epoch == old || fs[0].Seq != 1 {
		t.Fatalf("resume across topic GC got %+v, want snapshot in a new epoch", fs)
	}
}

func TestClose(t *testing.T) {
	h := realtime.NewLocalHub(realtime.Options{})
	s, _ := h.Subscribe(realtime.SubscribeOptions{Topics: topics("room:1")})
	h.Close()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("subscription not ended by Close")
	}
	if code, _ := s.Ended(); code != realtime.CodeShutdown {
		t.Fatalf("code %q", code)
	}
	if _, err := h.Publish("room:1", "x", 1); err != realtime.ErrClosed {
		t.Fatalf("publish after close: %v", err)
	}
	if _, err := h.Subscribe(realtime.SubscribeOptions{Topics: topics("room:1")}); err != realtime.ErrClosed {
		t.Fatalf("subscribe after close: %v", err)
	}
}

func TestSubscribe_Invalid(t *testing.T) {
	h := newHub(t, realtime.Options{})
	for name, rs := range map[string][]realtime.Resume{
		"NoTopics":  nil,
		"BadName":   topics("room 1"),
		"Duplicate": topics("room:1", "room:1"),
		"TooMany":   topics("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q"),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := h.Subscribe(realtime.SubscribeOptions{Topics: rs}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if st := h.Stats(); st.Subscriptions != 0 {
		t.Fatalf("failed subscribes counted: %+v", st)
	}
}

// Apply is the local half of Publish for events sequenced elsewhere (NATS/JetStream).
func TestApply_ExternalSequence(t *testing.T) {
	h := newHub(t, realtime.Options{})
	ev := func(seq uint64, epoch string) realtime.Event {
		return realtime.Event{Topic: "room:5", Epoch: epoch, Seq: seq, Type: "stock.changed", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, seq))}
	}
	for _, seq := range []uint64{41, 42} {
		if ok, err := h.Apply(ev(seq, "stream-a")); err != nil || !ok {
			t.Fatalf("apply %d: %v %v", seq, ok, err)
		}
	}
	if ok, _ := h.Apply(ev(42, "stream-a")); ok {
		t.Fatal("redelivered event applied twice")
	}
	// A viewer at 41 resumes with exactly 42.
	s := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: []realtime.Resume{{Topic: "room:5", Epoch: "stream-a", Seq: 41}}})
	fs := drain(t, s)
	if len(fs) != 1 || fs[0].Seq != 42 || string(fs[0].Data) != `{"n":42}` {
		t.Fatalf("resume got %+v", fs)
	}
	h.Apply(ev(43, "stream-a"))
	if fs := drain(t, s); len(fs) == 0 || fs[len(fs)-1].T != "ev" || fs[len(fs)-1].Seq != 43 {
		t.Fatalf("live got %+v", fs)
	}
	// A jump means this node missed events: subscribers must resync.
	h.Apply(ev(50, "stream-a"))
	if code, _ := s.Ended(); code != realtime.CodeResync {
		t.Fatalf("after a gap the subscriber ended with %q, want resync", code)
	}
	s2 := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: []realtime.Resume{{Topic: "room:5", Epoch: "stream-a", Seq: 43}}})
	if fs := drain(t, s2); len(fs) != 1 || fs[0].T != "snapshot" || fs[0].Seq != 50 || fs[0].Epoch != "stream-a" {
		t.Fatalf("resume across the gap got %+v, want snapshot at 50", fs)
	}
	// A new epoch (stream recreated) also resyncs.
	h.Apply(ev(1, "stream-b"))
	if code, _ := s2.Ended(); code != realtime.CodeResync {
		t.Fatalf("after an epoch change: %q", code)
	}
	for _, bad := range []realtime.Event{ev(0, "stream-b"), ev(2, "Bad Epoch"), {Topic: "x y", Epoch: "e", Seq: 1}} {
		if _, err := h.Apply(bad); err == nil {
			t.Fatalf("accepted %+v", bad)
		}
	}
}

// Viewers joining together share one snapshot build (a reconnect storm must not
// hit the database once per viewer); later joiners get it plus the events since.
func TestSubscribe_SnapshotReuse(t *testing.T) {
	var calls atomic.Int32
	h := newHub(t, realtime.Options{SnapshotTTL: time.Hour, Snapshot: func(topic string) (any, error) {
		calls.Add(1)
		time.Sleep(50 * time.Millisecond)
		return "state", nil
	}})
	h.Publish("room:9", "card.pinned", 1)
	var wg sync.WaitGroup
	subs := make([]*realtime.Subscription, 50)
	for i := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			subs[i] = mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:9")})
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d snapshot builds for 50 joiners, want 1", n)
	}
	for _, s := range subs {
		if fs := drain(t, s); len(fs) != 1 || fs[0].T != "snapshot" || fs[0].Seq != 1 {
			t.Fatalf("got %+v", fs)
		}
	}
	h.Publish("room:9", "card.pinned", 2)
	late := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:9")})
	fs := drain(t, late)
	if len(fs) != 2 || fs[0].T != "snapshot" || fs[0].Seq != 1 || fs[1].Seq != 2 || calls.Load() != 1 {
		t.Fatalf("late joiner got %+v after %d builds, want cached snapshot@1 + event 2", fs, calls.Load())
	}
}

func TestStats_QueueDelay(t *testing.T) {
	h := newHub(t, realtime.Options{})
	s := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:1")})
	h.Flush()     // presence batch
	s.Frames(nil) // snapshot + batch
	s.Delivered()
	h.Publish("room:1", "x", 1)
	h.AddLikes("room:1", 1)
	h.Flush()
	time.Sleep(3 * time.Millisecond)
	if n := len(s.Frames(nil)); n != 2 {
		t.Fatalf("%d frames", n)
	}
	s.Delivered()
	s.Delivered() // nothing new drained: no sample
	st := h.Stats()
	sum := func(c []uint64) (n uint64) {
		for _, x := range c {
			n += x
		}
		return n
	}
	if sum(st.ReliableDelay) != 2 || sum(st.LossyDelay) != 2 {
		t.Fatalf("delay samples reliable %v lossy %v", st.ReliableDelay, st.LossyDelay)
	}
	if d := realtime.DelayQuantile(st.LossyDelay, 0.99); d < 5*time.Millisecond {
		t.Fatalf("lossy p99 bucket %v, want ≥ 5ms after a 3ms wait", d)
	}
	if d := realtime.DelayQuantile(make([]uint64, 14), 0.99); d != 0 {
		t.Fatalf("empty quantile %v", d)
	}
}

// Everything at once under -race: joins with and without positions, leaves,
// events, comments, likes, personal messages, ticks, deletes and topic GC.
func TestHub_ConcurrentStress(t *testing.T) {
	h := realtime.NewLocalHub(realtime.Options{Tick: time.Millisecond, QueueLen: 64, History: 32, TopicTTL: 5 * time.Millisecond,
		Snapshot: func(topic string) (any, error) { return topic, nil }})
	defer h.Close()
	stop := time.Now().Add(time.Second)
	var wg sync.WaitGroup
	var joined atomic.Int64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprint("u", g)
			var subs []*realtime.Subscription
			pos := map[string]realtime.Resume{}
			for i := 0; time.Now().Before(stop); i++ {
				topic := fmt.Sprint("room:", i%3)
				switch i % 9 {
				case 0:
					rs := []realtime.Resume{pos[topic], {Topic: "order:" + user}}
					rs[0].Topic = topic
					s, err := h.Subscribe(realtime.SubscribeOptions{User: user, Topics: rs})
					if err != nil {
						t.Errorf("subscribe %v: %v", rs, err)
						return
					}
					joined.Add(1)
					subs = append(subs, s)
				case 1:
					h.Publish(topic, "stock.changed", i)
				case 2:
					h.PublishComment(topic, realtime.Comment{ID: fmt.Sprint(g, i), User: user, Text: "x", Host: i%7 == 0})
				case 3:
					h.AddLikes(topic, 2)
				case 4:
					h.SendUser(topic, user, "order.status", i)
				case 5:
					if len(subs) > 0 {
						for _, b := range subs[0].Frames(nil) {
							var f struct {
								T     string
								Topic string
								Epoch string
								Seq   uint64
							}
							json.Unmarshal(b, &f)
							switch f.T {
							case "snapshot":
								pos[f.Topic] = realtime.Resume{Topic: f.Topic, Epoch: f.Epoch, Seq: f.Seq}
							case "ev":
								p := pos[f.Topic]
								p.Seq = f.Seq
								pos[f.Topic] = p
							}
						}
					}
				case 6:
					if len(subs) > 2 {
						subs[0].Close()
						subs = subs[1:]
					}
				case 7:
					h.DeleteComment(topic, fmt.Sprint(g, i-5))
				case 8:
					h.Viewers(topic)
					h.Likes(topic)
					h.Stats()
				}
			}
			for _, s := range subs {
				s.Close()
			}
		}()
	}
	wg.Wait()
	st := h.Stats()
	if st.Subscriptions != 0 {
		t.Fatalf("%d subscriptions left after every one was closed", st.Subscriptions)
	}
	if joined.Load() < 8 || st.Events == 0 || st.Batches == 0 {
		t.Fatalf("stress did too little: %d joins, %+v", joined.Load(), st)
	}
}

// A batch taken along early by an event gets the comment budget of the time
// elapsed, so the display rate stays at MaxCommentsPerTick per Tick.
func TestPublish_PiggybackBudget(t *testing.T) {
	h := realtime.NewLocalHub(realtime.Options{Tick: 4 * time.Second, MaxCommentsPerTick: 8})
	defer h.Close()
	s := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:1")})
	h.Flush() // a tick: presence batch
	drain(t, s)
	time.Sleep(1100 * time.Millisecond) // > Tick/4, well before the first real tick
	for i := 0; i < 20; i++ {
		h.PublishComment("room:1", realtime.Comment{ID: fmt.Sprint(i), User: fmt.Sprint("u", i), Text: "x"})
	}
	h.Publish("room:1", "card.pinned", 1)
	fs := drain(t, s)
	if len(fs) != 2 || fs[0].T != "batch" {
		t.Fatalf("got %+v", fs)
	}
	if n := len(fs[0].Comments); n < 2 || n > 4 || fs[0].Dropped != 20-n {
		t.Fatalf("early batch after ~1.1s of a 4s tick shows %d comments (dropped %d), want ~3 of 8", n, fs[0].Dropped)
	}
}

// TestLateWriterGetsOneFreshBatch: while a connection's writer is late, each
// new batch replaces the unsent one, and the batch it finally writes counts
// the replaced batches' comments in "dropped", so a viewer is never silently
// short of comments: shown + dropped is every comment of those ticks.
func TestLateWriterGetsOneFreshBatch(t *testing.T) {
	h := newHub(t, realtime.Options{})
	late := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:1")})
	prompt := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:1")})
	drain(t, late)
	drain(t, prompt)
	n := 0
	for tick := 0; tick < 3; tick++ {
		for i := 0; i < 3; i++ {
			n++
			h.PublishComment("room:1", realtime.Comment{ID: strconv.Itoa(n), User: "u" + strconv.Itoa(n), Name: "x", Text: "t"})
		}
		h.Flush()
		if fs := drain(t, prompt); len(fs) != 1 || len(fs[0].Comments) != 3 || fs[0].Dropped != 0 {
			t.Fatalf("prompt viewer, tick %d: %+v", tick, fs)
		}
	}
	fs := drain(t, late)
	if len(fs) != 1 || fs[0].T != "batch" {
		t.Fatalf("late viewer got %d frames, want one batch: %+v", len(fs), fs)
	}
	if got := fs[0]; len(got.Comments) != 3 || got.Comments[0].ID != "7" || got.Dropped != 6 {
		t.Fatalf("late viewer's batch: %d comments from %q, dropped %d; want the newest 3 (7-9) and 6 dropped", len(got.Comments), got.Comments[0].ID, got.Dropped)
	}
	if st := h.Stats(); st.LossyReplaced != 2 {
		t.Fatalf("%d batches replaced, want 2", st.LossyReplaced)
	}
	// Caught up, the next batch is the shared one again.
	h.PublishComment("room:1", realtime.Comment{ID: "10", User: "u10", Name: "x", Text: "t"})
	h.Flush()
	if fs := drain(t, late); len(fs) != 1 || fs[0].Dropped != 0 || len(fs[0].Comments) != 1 {
		t.Fatalf("after catching up: %+v", fs)
	}
}

// TestBatchIntervalAdapts: while a quarter or more of a room's connections
// still hold the previous batch unsent after a whole interval (their writers
// are short of CPU), the interval widens by half a Tick per batch up to
// MaxTick, and a widened batch carries the comments of the ticks it spans;
// after five batches in a row that (nearly) everyone got in time it narrows
// again by half a Tick. A batch built before its interval was up says nothing,
// nor do a few slow phones in a small room. Time is moved by hand
// (AgeLastBatch): the tick never fires by itself here.
func TestBatchIntervalAdapts(t *testing.T) {
	const tick = time.Hour
	h := newHub(t, realtime.Options{Tick: tick, MaxTick: 3 * tick, MaxCommentsPerTick: 8})
	var subs []*realtime.Subscription
	for i := 0; i < 40; i++ {
		subs = append(subs, mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:1")}))
	}
	drainAll := func() {
		for _, s := range subs {
			drain(t, s)
		}
	}
	n := 0
	batch := func(comments int, age time.Duration) {
		for i := 0; i < comments; i++ {
			n++
			h.PublishComment("room:1", realtime.Comment{ID: strconv.Itoa(n), User: "u" + strconv.Itoa(n), Text: "t"})
		}
		h.AgeLastBatch("room:1", age)
		h.Flush()
	}
	h.Flush() // presence
	drainAll()
	if w := h.BatchInterval("room:1"); w != tick {
		t.Fatalf("interval %v at start, want Tick", w)
	}

	// Nobody writes: every batch replaces an unsent one.
	batch(1, tick) // queued, not sent
	want := []time.Duration{3 * tick / 2, 2 * tick, 5 * tick / 2, 3 * tick, 3 * tick}
	for i, w := range want {
		batch(1, h.BatchInterval("room:1"))
		if got := h.BatchInterval("room:1"); got != w {
			t.Fatalf("late batch %d: interval %v, want %v", i+1, got, w)
		}
	}
	// Built before the interval was up (a commerce event took it along, or a
	// test's Flush): no verdict, even though everyone is late.
	batch(1, tick)
	if got := h.BatchInterval("room:1"); got != 3*tick {
		t.Fatalf("early batch moved the interval to %v", got)
	}

	// Every writer caught up; a batch of the widened interval shows the
	// comments of its three ticks.
	drainAll()
	batch(30, 3*tick)
	fs := drain(t, subs[0])
	if len(fs) != 1 || len(fs[0].Comments) != 24 || fs[0].Dropped != 6 {
		t.Fatalf("batch of a 3-tick interval: %d frames, %+v; want 24 comments shown, 6 dropped", len(fs), fs)
	}
	drainAll()
	// That was the first calm batch; four more narrow the interval, five more again.
	for round := 2; round <= 10; round++ {
		batch(1, h.BatchInterval("room:1"))
		drainAll()
		want := 3 * tick
		switch {
		case round >= 10:
			want = 2 * tick
		case round >= 5:
			want = 5 * tick / 2
		}
		if got := h.BatchInterval("room:1"); got != want {
			t.Fatalf("calm batch %d: interval %v, want %v", round, got, want)
		}
	}

	// The tick loop leaves a widened topic dirty until its interval is up.
	h.PublishComment("room:1", realtime.Comment{ID: "late", User: "x", Text: "t"})
	h.AgeLastBatch("room:1", tick)
	h.TickOnce(time.Now())
	if fs := drain(t, subs[0]); len(fs) != 0 {
		t.Fatalf("batch built one tick into a 2-tick interval: %+v", fs)
	}
	h.AgeLastBatch("room:1", tick)
	h.TickOnce(time.Now())
	if fs := drain(t, subs[0]); len(fs) != 1 || fs[0].T != "batch" || fs[0].Comments[0].ID != "late" {
		t.Fatalf("batch when the interval was up: %+v", fs)
	}

	// A small room whose few phones read slowly keeps its interval.
	small := newHub(t, realtime.Options{Tick: tick, MaxTick: 3 * tick})
	for i := 0; i < 3; i++ {
		mustSubscribe(t, small, realtime.SubscribeOptions{Topics: topics("room:2")})
	}
	for i := 0; i < 4; i++ {
		small.PublishComment("room:2", realtime.Comment{ID: strconv.Itoa(i), User: "u", Text: "t"})
		small.AgeLastBatch("room:2", tick)
		small.Flush()
	}
	if got := small.BatchInterval("room:2"); got != tick {
		t.Fatalf("3 slow phones widened their room's interval to %v", got)
	}
}

// A fixed interval (MaxTick unset, the default) never widens.
func TestBatchIntervalFixed(t *testing.T) {
	h := newHub(t, realtime.Options{Tick: time.Hour})
	for i := 0; i < 40; i++ {
		mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:1")})
	}
	for i := 0; i < 4; i++ {
		h.PublishComment("room:1", realtime.Comment{ID: strconv.Itoa(i), User: "u", Text: "t"})
		h.AgeLastBatch("room:1", time.Hour)
		h.Flush()
	}
	if got := h.BatchInterval("room:1"); got != time.Hour {
		t.Fatalf("fixed interval moved to %v", got)
	}
}

// A batch that finds the connection's queue full of guaranteed frames is
// left out, and the next batch that connection gets counts its comments in
// "dropped".
func TestFullQueueCountsMissedBatch(t *testing.T) {
	h := newHub(t, realtime.Options{QueueLen: 4})
	s := mustSubscribe(t, h, realtime.SubscribeOptions{Topics: topics("room:1")}) // snapshot: 1 queued
	for i := 1; i <= 3; i++ {
		h.Publish("room:1", "card.pinned", i) // queue full of guaranteed frames
	}
	h.PublishComment("room:1", realtime.Comment{ID: "c1", User: "a", Text: "t"})
	h.Flush() // no room, nothing to evict: c1's batch is left out
	if fs := drain(t, s); len(fs) != 4 || fs[3].T != "ev" {
		t.Fatalf("queue: %+v", fs)
	}
	h.PublishComment("room:1", realtime.Comment{ID: "c2", User: "b", Text: "t"})
	h.Flush()
	fs := drain(t, s)
	if len(fs) != 1 || fs[0].T != "batch" || len(fs[0].Comments) != 1 || fs[0].Comments[0].ID != "c2" || fs[0].Dropped != 1 {
		t.Fatalf("next batch %+v, want c2 shown and c1 counted in dropped", fs)
	}
}
