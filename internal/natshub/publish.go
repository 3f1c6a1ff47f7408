package natshub

// Publishing a guaranteed event: appended to the JetStream stream with the
// topic's expected last sequence, a new epoch when the stream lost the
// topic, and repair of topics that lost an event while NATS was away.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/shelflive/shelflive/internal/realtime"
)

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
