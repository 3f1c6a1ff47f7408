package natshub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shelflive/shelflive/internal/realtime"
)

// topicState is what this node knows about one topic's place in the stream.
// A node follows a topic (applies its events to the local hub) only after a
// Subscribe loaded the topic's recent history ("primed"), and stops following
// it when it has had no subscription for half the local TopicTTL; the local
// hub frees an idle topic only after a full TopicTTL, so it never frees a
// topic this node still follows (which would restart it under a local epoch).
type topicState struct {
	name    string
	subject string
	refs    int // Subscribe/Publish calls in flight; guarded by Hub.mu

	mu      sync.Mutex
	primed  bool
	priming chan struct{} // closed when the history load in flight is done
	buf     []*evMsg      // live events that arrived while priming
	subs    []*realtime.Subscription
	touch   time.Time // last time the local hub's topic became active through us

	// applied is the stream sequence of the newest event handed to the local
	// hub: the stream order is the topic order, so anything older is a
	// redelivery (consumer restart, load racing the live consumer).
	applied  uint64
	appEpoch string
	appSeq   uint64

	// The newest position known from acks, the live consumer or a load; the
	// next append expects knownStream to be the subject's last sequence.
	known       bool
	knownEpoch  string
	knownSeq    uint64
	knownStream uint64

	pubMu sync.Mutex // appends of this topic by this node, one at a time
}

// evMsg is one event of the stream with its stream sequence.
type evMsg struct {
	stream uint64
	ev     realtime.Event
}

// subject is the stream subject of a topic. Topics may contain '.', the NATS
// token separator; it is escaped (topics never contain '%').
func (h *Hub) subject(topic string) string {
	return h.evPrefix + strings.ReplaceAll(topic, ".", "%2E")
}

// acquire returns the topic's state, pinned against the sweeper until release.
func (h *Hub) acquire(topic string) *topicState {
	h.mu.Lock()
	defer h.mu.Unlock()
	ts := h.topics[topic]
	if ts == nil {
		ts = &topicState{name: topic, subject: h.subject(topic), touch: time.Now()}
		h.topics[topic] = ts
	}
	ts.refs++
	return ts
}

func (h *Hub) release(ts *topicState) {
	h.mu.Lock()
	ts.refs--
	h.mu.Unlock()
}

// learnLocked records a position of the topic if it is newer than what we know.
func (ts *topicState) learnLocked(epoch string, seq, stream uint64) {
	if !ts.known || stream > ts.knownStream {
		ts.known, ts.knownEpoch, ts.knownSeq, ts.knownStream = true, epoch, seq, stream
	}
}

var errNotEmpty = errors.New("natshub: topic already has events")

// isWrongLast reports a refused optimistic append: another node appended first.
func isWrongLast(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// Publish implements realtime.Hub: the event gets the topic's next
// cluster-wide sequence number from JetStream (see the package doc), then
// every node, this one included, delivers it to its own viewers.
func (h *Hub) Publish(topic, typ string, data any) (uint64, error) {
	if !realtime.ValidTopic(topic) {
		return 0, fmt.Errorf("publish %q: %w", topic, realtime.ErrInvalidTopic)
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return 0, fmt.Errorf("publish %s %s: encode: %w", topic, typ, err)
	}
	if h.isClosed() {
		return 0, realtime.ErrClosed
	}
	if !h.nc.IsConnected() {
		// Fail at once instead of holding the caller (a request, the app's
		// background loop) for the timeout; the topic is reset when NATS is back.
		h.nPubErrors.Add(1)
		h.markLost(topic)
		return 0, fmt.Errorf("publish %s %s: %w", topic, typ, errNotConnected)
	}
	ts := h.acquire(topic)
	defer h.release(ts)
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.Timeout)
	defer cancel()
	m, err := h.appendEvent(ctx, ts, typ, raw, false)
	if err != nil {
		h.nPubErrors.Add(1)
		h.markLost(topic)
		return 0, fmt.Errorf("publish %s %s: %w", topic, typ, err)
	}
	h.applyIfNext(ts, m)
	return m.ev.Seq, nil
}

var errNotConnected = errors.New("natshub: not connected to NATS")

// markLost remembers a topic whose event may not have reached the other
// nodes' viewers (see repairLost).
func (h *Hub) markLost(topic string) {
	h.lostMu.Lock()
	h.lost[topic] = true
	h.lostMu.Unlock()
}

// repairLost starts a new epoch for every topic that lost an event, once NATS
// answers again: every node then ends that topic's subscribers with
// "resync", and their clients come back with their positions, which no longer
// match, so each gets a snapshot built from the database — the state the
// lost event would have shown. A lost event must not stay silently lost:
// "sold out" matters more than a reconnect.
func (h *Hub) repairLost() {
	h.lostMu.Lock()
	topics := make([]string, 0, len(h.lost))
	for t := range h.lost {
		topics = append(topics, t)
	}
	h.lostMu.Unlock()
	for _, topic := range topics {
		if !h.nc.IsConnected() {
			return
		}
		ts := h.acquire(topic)
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.Timeout)
		m, err := h.appendNewEpoch(ctx, ts)
		cancel()
		h.release(ts)
		if err != nil {
			h.log.Warn("natshub: reset topic after lost event", "topic", topic, "err", err)
			continue
		}
		h.nResets.Add(1)
		h.applyIfNext(ts, m)
		h.lostMu.Lock()
		delete(h.lost, topic)
		h.lostMu.Unlock()
	}
}

// appendNewEpoch appends a topic.opened event that starts a new epoch of the
// topic at seq 1 (after whatever the topic holds).
func (h *Hub) appendNewEpoch(ctx context.Context, ts *topicState) (*evMsg, error) {
	ts.pubMu.Lock()
	defer ts.pubMu.Unlock()
	for {
		var last uint64
		if m, err := h.loadLast(ctx, ts); err != nil {
			return nil, err
		} else if m != nil {
			last = m.stream
		}
		epoch := newEpoch()
		msg := nats.NewMsg(ts.subject)
		msg.Header.Set(hdrTopic, ts.name)
		msg.Header.Set(hdrEpoch, epoch)
		msg.Header.Set(hdrSeq, "1")
		msg.Header.Set(hdrType, EventTopicOpened)
		msg.Data = []byte("null")
		ack, err := h.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(last))
		if err == nil {
			ts.mu.Lock()
			ts.learnLocked(epoch, 1, ack.Sequence)
			ts.mu.Unlock()
			return &evMsg{stream: ack.Sequence, ev: realtime.Event{Topic: ts.name, Epoch: epoch, Seq: 1, Type: EventTopicOpened, Data: msg.Data}}, nil
		}
		if !isWrongLast(err) || ctx.Err() != nil {
			return nil, err
		}
	}
}

// appendEvent appends one event with the topic's next sequence number,
// retrying when another node appended first. With onlyIfEmpty it appends only
// to a topic that has no events (the topic.opened marker).
func (h *Hub) appendEvent(ctx context.Context, ts *topicState, typ string, raw json.RawMessage, onlyIfEmpty bool) (*evMsg, error) {
	ts.pubMu.Lock()
	defer ts.pubMu.Unlock()
	for attempt := 0; ; attempt++ {
		ts.mu.Lock()
		known, epoch, seq, last := ts.known, ts.knownEpoch, ts.knownSeq, ts.knownStream
		ts.mu.Unlock()
		if !known {
			m, err := h.loadLast(ctx, ts)
			if err != nil {
				return nil, err
			}
			if m == nil {
				// No events kept: a new incarnation of the topic's sequence.
				epoch, seq, last = newEpoch(), 0, 0
			} else {
				epoch, seq, last = m.ev.Epoch, m.ev.Seq, m.stream
			}
			ts.mu.Lock()
			ts.learnLocked(epoch, seq, last)
			ts.mu.Unlock()
		}
		if onlyIfEmpty && last != 0 {
			return nil, errNotEmpty
		}
		msg := nats.NewMsg(ts.subject)
		msg.Header.Set(hdrTopic, ts.name)
		msg.Header.Set(hdrEpoch, epoch)
		msg.Header.Set(hdrSeq, strconv.FormatUint(seq+1, 10))
		msg.Header.Set(hdrType, typ)
		msg.Data = raw
		ack, err := h.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(last))
		if err == nil {
			m := &evMsg{stream: ack.Sequence, ev: realtime.Event{Topic: ts.name, Epoch: epoch, Seq: seq + 1, Type: typ, Data: raw}}
			ts.mu.Lock()
			ts.learnLocked(epoch, seq+1, ack.Sequence)
			ts.mu.Unlock()
			h.nPublished.Add(1)
			return m, nil
		}
		ts.mu.Lock()
		if ts.knownStream <= last {
			ts.known = false // reload, unless the live consumer already told us more
		}
		ts.mu.Unlock()
		if isWrongLast(err) && ctx.Err() == nil {
			// Another node appended first. Retry until the deadline; a short
			// random pause after repeated losses lets a node that keeps
			// losing to a busy peer get its turn.
			h.nConflicts.Add(1)
			if attempt >= 2 {
				time.Sleep(time.Duration(rand.Int64N(int64(min(attempt, 20)) * int64(250*time.Microsecond))))
			}
			continue
		}
		return nil, err
	}
}

// loadLast returns the topic's newest kept event, or nil if it has none.
func (h *Hub) loadLast(ctx context.Context, ts *topicState) (*evMsg, error) {
	raw, err := h.stream.GetLastMsgForSubject(ctx, ts.subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("last event of %s: %w", ts.name, err)
	}
	return decodeEvent(raw.Header, raw.Data, raw.Sequence)
}

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

// DeleteComment implements realtime.Hub: a guaranteed comment.deleted event
// for every node's viewers.
func (h *Hub) DeleteComment(topic, id string) (uint64, error) {
	if w, ok := any(h.local).(withdrawer); ok {
		w.WithdrawComment(topic, id)
	}
	return h.Publish(topic, realtime.EventCommentDeleted, struct {
		ID string `json:"id"`
	}{id})
}

// sweepLoop stops following topics nobody here watches any more, and resets
// topics that lost an event while NATS was unreachable.
func (h *Hub) sweepLoop() {
	defer h.wg.Done()
	every := max(min(h.cfg.Local.TopicTTL/4, 30*time.Second), 10*time.Millisecond)
	tk := time.NewTicker(every)
	defer tk.Stop()
	repair := time.NewTicker(500 * time.Millisecond)
	defer repair.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-tk.C:
			h.sweep(time.Now())
		case <-repair.C:
			h.repairLost()
		}
	}
}

// sweep drops the state of topics without live subscriptions, untouched for
// half the local TopicTTL (see topicState).
func (h *Hub) sweep(now time.Time) {
	idle := h.cfg.Local.TopicTTL / 2
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, ts := range h.topics {
		ts.mu.Lock()
		live := ts.subs[:0]
		for _, s := range ts.subs {
			if !s.IsEnded() {
				live = append(live, s)
			}
		}
		clear(ts.subs[len(live):])
		ts.subs = live
		if len(live) == 0 && ts.refs == 0 && ts.priming == nil && now.Sub(ts.touch) > idle {
			delete(h.topics, name)
		}
		ts.mu.Unlock()
	}
}
