package natshub

// Following a topic: a Subscribe primes it from the stream's recent
// history, then each event from any node is applied to the local hub in
// sequence order (a gap reloads the history).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/shelflive/shelflive/internal/realtime"
)

// decodeEvent reads an event from a stream message.
func decodeEvent(hd nats.Header, data []byte, stream uint64) (*evMsg, error) {
	seq, err := strconv.ParseUint(hd.Get(hdrSeq), 10, 64)
	if err != nil || seq == 0 {
		return nil, fmt.Errorf("natshub: event %d: bad %s %q", stream, hdrSeq, hd.Get(hdrSeq))
	}
	ev := realtime.Event{Topic: hd.Get(hdrTopic), Epoch: hd.Get(hdrEpoch), Seq: seq, Type: hd.Get(hdrType), Data: json.RawMessage(data)}
	if !realtime.ValidTopic(ev.Topic) || !realtime.ValidEpoch(ev.Epoch) || ev.Type == "" {
		return nil, fmt.Errorf("natshub: event %d: bad topic %q, epoch %q or type %q", stream, ev.Topic, ev.Epoch, ev.Type)
	}
	return &evMsg{stream: stream, ev: ev}, nil
}

// onEvent is the live consumer: it runs for every event of the stream, in
// stream order, on one goroutine.
func (h *Hub) onEvent(msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil {
		h.log.Warn("natshub: event without metadata", "err", err)
		return
	}
	m, err := decodeEvent(msg.Headers(), msg.Data(), md.Sequence.Stream)
	if err != nil {
		h.log.Warn("natshub: skip event", "err", err)
		return
	}
	h.mu.Lock()
	ts := h.topics[m.ev.Topic]
	h.mu.Unlock()
	if ts == nil {
		return // nobody here follows this topic
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.learnLocked(m.ev.Epoch, m.ev.Seq, m.stream)
	switch {
	case ts.priming != nil:
		ts.buf = append(ts.buf, m)
	case ts.primed:
		h.applyLocked(ts, m)
	}
}

// applyIfNext hands the publisher's own event to the local hub right after
// the ack when it directly follows what was applied, saving the consumer's
// round trip; otherwise the live consumer delivers it in order.
func (h *Hub) applyIfNext(ts *topicState, m *evMsg) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if !ts.primed || ts.priming != nil || m.stream <= ts.applied {
		return
	}
	if ts.appEpoch == m.ev.Epoch && ts.appSeq+1 == m.ev.Seq {
		h.applyLocked(ts, m)
	}
}

// withdrawer is the optional LocalHub hook that removes a comment from the
// batch not yet sent, without publishing anything (see docs/DEPLOY.md).
type withdrawer interface {
	WithdrawComment(topic, id string)
}

// applyLocked hands one event to the local hub (ts.mu held).
func (h *Hub) applyLocked(ts *topicState, m *evMsg) {
	if m.stream <= ts.applied {
		return
	}
	ts.applied = m.stream
	if m.ev.Type == realtime.EventCommentDeleted {
		// Before Apply: the local hub may send its pending batch along with
		// the event, and the deleted comment must not be in it.
		h.withdraw(m.ev)
	}
	ok, err := h.local.Apply(m.ev)
	if err != nil {
		h.log.Warn("natshub: apply", "topic", m.ev.Topic, "seq", m.ev.Seq, "err", err)
		return
	}
	if ok {
		ts.touch = time.Now()
		h.nApplied.Add(1)
	}
	if ok || ts.appEpoch != m.ev.Epoch || ts.appSeq < m.ev.Seq {
		ts.appEpoch, ts.appSeq = m.ev.Epoch, m.ev.Seq
	}
}

// withdraw removes the comment a comment.deleted event names from the local
// hub's pending batch, if the local hub supports it.
func (h *Hub) withdraw(ev realtime.Event) {
	w, can := any(h.local).(withdrawer)
	if !can {
		return
	}
	var d struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(ev.Data, &d) == nil && d.ID != "" {
		w.WithdrawComment(ev.Topic, d.ID)
	}
}

// ensure makes this node follow the topic: the first caller loads the
// topic's kept history from the stream into the local hub (others wait for
// it); events arriving meanwhile are buffered and applied after it.
func (h *Hub) ensure(ctx context.Context, ts *topicState) error {
	for {
		ts.mu.Lock()
		if ts.primed {
			ts.mu.Unlock()
			return nil
		}
		if ch := ts.priming; ch != nil {
			ts.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ch := make(chan struct{})
		ts.priming, ts.buf = ch, nil
		ts.mu.Unlock()

		msgs, err := h.loadHistory(ctx, ts)

		ts.mu.Lock()
		if err == nil {
			for _, m := range msgs {
				h.applyLocked(ts, m)
			}
			for _, m := range ts.buf {
				h.applyLocked(ts, m)
			}
			ts.primed = true
			ts.touch = time.Now()
		}
		ts.buf, ts.priming = nil, nil
		close(ch)
		ts.mu.Unlock()
		if err != nil {
			return err
		}
		h.nPrimes.Add(1)
		return nil
	}
}

// loadHistory returns the topic's kept events, oldest first. A topic without
// events is opened with a topic.opened event, so that every node agrees on
// its epoch before anyone watches it.
func (h *Hub) loadHistory(ctx context.Context, ts *topicState) ([]*evMsg, error) {
	for attempt := 0; attempt < 5; attempt++ {
		last, err := h.loadLast(ctx, ts)
		if err != nil {
			return nil, err
		}
		if last == nil {
			m, err := h.appendEvent(ctx, ts, EventTopicOpened, json.RawMessage("null"), true)
			if errors.Is(err, errNotEmpty) {
				continue // another node opened it (or published) meanwhile
			}
			if err != nil {
				return nil, fmt.Errorf("open %s: %w", ts.name, err)
			}
			h.nOpenEvents.Add(1)
			return []*evMsg{m}, nil
		}
		ts.mu.Lock()
		ts.learnLocked(last.ev.Epoch, last.ev.Seq, last.stream)
		ts.mu.Unlock()
		if last.ev.Seq == 1 {
			return []*evMsg{last}, nil
		}
		return h.readSubject(ctx, ts, last)
	}
	return nil, fmt.Errorf("load %s: topic keeps changing", ts.name)
}

// readSubject reads every kept event of the topic up to last with a
// short-lived consumer (one request instead of one per event).
func (h *Hub) readSubject(ctx context.Context, ts *topicState, last *evMsg) ([]*evMsg, error) {
	cons, err := h.stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		FilterSubject:     ts.subject,
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		AckPolicy:         jetstream.AckNonePolicy,
		MemoryStorage:     true,
		InactiveThreshold: 30 * time.Second,
		Replicas:          1,
	})
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", ts.name, err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), h.cfg.Timeout)
		defer cancel()
		h.stream.DeleteConsumer(dctx, cons.CachedInfo().Name)
	}()
	var out []*evMsg
	for len(out) == 0 || out[len(out)-1].stream < last.stream {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		batch, err := cons.FetchNoWait(h.cfg.HistoryPerTopic)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", ts.name, err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			md, err := msg.Metadata()
			if err != nil {
				continue
			}
			m, err := decodeEvent(msg.Headers(), msg.Data(), md.Sequence.Stream)
			if err != nil {
				h.log.Warn("natshub: skip event", "err", err)
				continue
			}
			out = append(out, m)
			if md.NumPending == 0 && m.stream >= last.stream {
				break
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("history of %s: %w", ts.name, err)
		}
		if n == 0 {
			break // nothing more kept (the newest may have aged out meanwhile)
		}
	}
	return out, nil
}

// Subscribe implements realtime.Hub: it makes sure this node follows every
// topic (loading its recent events from the stream the first time), then
// subscribes on the local hub, which replays from the client's position or
// sends a snapshot exactly as on one node.
func (h *Hub) Subscribe(opts realtime.SubscribeOptions) (*realtime.Subscription, error) {
	valid := len(opts.Topics) > 0 && len(opts.Topics) <= h.local.Options().MaxTopicsPerSubscription
	seen := make(map[string]bool, len(opts.Topics))
	for _, r := range opts.Topics {
		if !realtime.ValidTopic(r.Topic) || seen[r.Topic] {
			valid = false
		}
		seen[r.Topic] = true
	}
	if !valid {
		return h.local.Subscribe(opts) // returns the same validation error as on one node
	}
	if h.isClosed() {
		return nil, realtime.ErrClosed
	}
	states := make([]*topicState, 0, len(opts.Topics))
	defer func() {
		for _, ts := range states {
			h.release(ts)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.Timeout)
	defer cancel()
	for _, r := range opts.Topics {
		ts := h.acquire(r.Topic)
		states = append(states, ts)
		if err := h.ensure(ctx, ts); err != nil {
			return nil, fmt.Errorf("subscribe %s: %w", r.Topic, err)
		}
	}
	sub, err := h.local.Subscribe(opts)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	for _, ts := range states {
		ts.mu.Lock()
		ts.subs = append(ts.subs, sub)
		ts.touch = now
		ts.mu.Unlock()
	}
	if !opts.Hidden {
		h.presMu.Lock()
		for _, r := range opts.Topics {
			h.watched[r.Topic] = true
		}
		h.presMu.Unlock()
	}
	return sub, nil
}
