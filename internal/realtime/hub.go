// Package realtime is the room fan-out: it turns what happens in a live room into
// WebSocket frames for thousands of viewers without letting any one viewer slow the
// room down.
//
// Messages fall into delivery classes with different rules (see docs/PROTOCOL.md):
//
//   - guaranteed commerce events (card pinned, price/stock, flash sale, order status):
//     sequenced per topic, kept in a bounded history for resume, sent at once, never
//     dropped; a connection that cannot keep up is ended with "slow_consumer" and
//     resumes from its last sequence number;
//   - comments: batched per tick, sampled fairly above MaxCommentsPerTick, with the
//     number left out reported; host comments and a viewer's own comments always
//     reach that viewer;
//   - likes and presence: aggregated counters per tick, never one frame per tap/join.
//
// Each batch frame is encoded once per topic per tick and the same []byte is queued
// for every subscriber, so the cost per viewer is one queue append and one socket
// write. A commerce event takes the pending batch along (queued just before it), so
// the two share one write. With Options.MaxTick a topic's batch interval widens
// while its connections' writers cannot send its batches within the interval,
// and narrows again when they can (topic.adapt). The hub never writes to sockets
// itself: the WebSocket adapter (package ws) drains each connection's bounded
// queue with a few shared writer goroutines, all queued frames in one write.
//
// The in-process LocalHub is split into a sequencing step (topic seq + history) and a
// local delivery step (members + queues) so that a NATS-backed hub can sequence in
// JetStream and reuse the local delivery on every node: see Apply and Event.
package realtime

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Comment is one chat message (danmaku) as shown to viewers.
type Comment struct {
	ID   string    `json:"id"`
	User string    `json:"user"`           // stable user key, used to always deliver a viewer's own comments to them
	Name string    `json:"name"`           // display name, already masked by the caller
	Text string    `json:"text"`           // already moderated by the caller
	Host bool      `json:"host,omitempty"` // host/staff comments always reach every viewer (never sampled out)
	At   time.Time `json:"at"`
}

// Options tunes a hub. Zero values take the defaults noted on each field.
type Options struct {
	Tick               time.Duration // comment/like/presence batch interval, default 100ms
	MaxCommentsPerTick int           // per viewer frame; above this, sample fairly and report dropped; default 8
	History            int           // guaranteed events kept per topic for resume; default 1024
	QueueLen           int           // per-connection queue bound; default 256 frames
	// MaxTick is the widest the batch interval of a topic may grow while the
	// writers cannot deliver its batches within the interval (see
	// topic.adapt). Zero (the default) or anything up to Tick keeps the
	// interval fixed: measured through the front door (docs/BENCHMARKS.md,
	// issue 15), widening up to 3×Tick did not make commerce events faster
	// and made comments half again as late.
	MaxTick time.Duration
	// Snapshot returns the current full state of a topic (e.g. the room's pinned card, prices, stock,
	// flash sale); sent to a subscriber that is new or too far behind to resume. May be nil, and may
	// return (nil, nil) for topics it does not know; the snapshot frame then carries "data":null.
	Snapshot func(topic string) (any, error)
	Logger   *slog.Logger

	// TopicTTL is how long a topic with no subscribers, no likes and no activity is kept before
	// its state (sequence, history) is freed; default 10 minutes. A recreated topic gets a new
	// epoch, so clients holding old positions get a snapshot instead of a wrong resume.
	TopicTTL time.Duration
	// MaxTopicsPerSubscription bounds how many topics one connection may follow; default 16.
	MaxTopicsPerSubscription int
	// SnapshotTTL is how long a built snapshot is reused for other joiners (followed by
	// the events since); default 1s, negative disables reuse.
	SnapshotTTL time.Duration
}

// Hub is the room fan-out. Topics are strings like "room:12", "staff:3", "order:77".
type Hub interface {
	// Publish appends a guaranteed, ordered commerce event (card pinned, price/stock changed, flash sale
	// start/stop/sold out, order status...) to topic and sends it to subscribers immediately. Returns its seq.
	Publish(topic, typ string, data any) (seq uint64, err error)
	// PublishComment queues a lossy comment for the next batched frame of topic.
	PublishComment(topic string, c Comment)
	// DeleteComment withdraws a comment (host delete): it is removed from the not yet sent batch and
	// a guaranteed "comment.deleted" event {"id":…} is published so clients remove it from screen.
	DeleteComment(topic, id string) (seq uint64, err error)
	// AddLikes adds taps to the topic's like counter; viewers get aggregated deltas per tick.
	AddLikes(topic string, n int)
	// SendUser sends a personal message to every connection of user subscribed to topic.
	SendUser(topic, user, typ string, data any)
	// Subscribe registers a connection. Use Subscription from the WebSocket adapter.
	Subscribe(opts SubscribeOptions) (*Subscription, error)
	// Viewers returns the number of live subscriptions on topic (presence).
	Viewers(topic string) int
	// Likes returns the like total of topic (as counted by this hub since start plus SetLikes).
	Likes(topic string) int64
	// SetLikes initialises the like total (the lead persists totals in the database and restores them at start).
	SetLikes(topic string, total int64)
	Close() error
}

// Resume is a subscriber's position in one topic: the epoch and the last sequence number
// it applied. A zero Resume (only Topic set) asks for a snapshot.
type Resume struct {
	Topic string
	Epoch string
	Seq   uint64
}

// SubscribeOptions describes one connection's subscription.
type SubscribeOptions struct {
	// User is the viewer's stable user key (may be empty for anonymous guests); it routes
	// SendUser messages and own-comment echoes.
	User string
	// Topics to follow, each with an optional resume position.
	Topics []Resume
	// Hidden subscriptions (host console, monitors, load probes) are not counted in Viewers.
	Hidden bool
	// OnEnd, if set, is called once when the hub ends the subscription (slow consumer,
	// shutdown) — not when the owner calls Close. It runs on the hub's goroutine, possibly
	// while a topic is locked: it must not block or call back into the hub. The WebSocket
	// adapter uses it to cut a blocked socket write short.
	OnEnd func(code string)
}

// Errors returned by the hub.
var (
	ErrClosed       = errors.New("realtime: hub closed")
	ErrInvalidTopic = errors.New("realtime: invalid topic")
	ErrTooManyTopic = errors.New("realtime: too many topics")
	ErrNoTopics     = errors.New("realtime: no topics")
)

// Close codes carried in bye frames (see docs/PROTOCOL.md).
const (
	CodeSlowConsumer = "slow_consumer"
	CodeShutdown     = "shutdown"
	CodeInternal     = "internal"
	CodeTimeout      = "timeout"
	// CodeResync ends subscribers of a topic whose external sequence jumped or
	// whose epoch changed (see Apply): they reconnect with their positions and get
	// a snapshot.
	CodeResync = "resync"
)

// Bilingual bye reasons (zh-CN first), shown to people by the page.
const (
	reasonSlow     = "网络太慢，跟不上商品消息；正在从断点续传 / connection too slow for guaranteed events; resume from your last seq"
	ReasonShutdown = "服务器正在重启，请稍后自动重连 / server shutting down; reconnect shortly"
	reasonResync   = "消息序列已重置，正在重新同步 / event sequence reset; reconnecting for a fresh snapshot"
)

// Event types the hub itself publishes.
const (
	EventCommentDeleted = "comment.deleted"
)

// MaxTopicLen bounds topic names; topics are short keys like "room:12".
const MaxTopicLen = 128

// ValidTopic reports whether name can be used as a topic: 1..128 bytes of
// letters, digits and ":_-/." (no spaces, no "@" or "," which the query form uses).
func ValidTopic(name string) bool {
	if name == "" || len(name) > MaxTopicLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == ':' || c == '_' || c == '-' || c == '/' || c == '.':
		default:
			return false
		}
	}
	return true
}

// LocalHub is the in-process Hub: one process, all topics in memory.
type LocalHub struct {
	opts  Options
	log   *slog.Logger
	epoch string

	mu     sync.RWMutex
	topics map[string]*topic
	closed bool
	gen    uint64 // topic generation counter, part of each topic's epoch

	dirtyMu sync.Mutex
	dirty   []*topic

	stop     chan struct{}
	loopDone chan struct{}

	nSubs          atomic.Int64
	nEvents        atomic.Uint64
	nBatches       atomic.Uint64
	nQueued        atomic.Uint64
	nLossyDropped  atomic.Uint64
	nLossyReplaced atomic.Uint64
	nSlow          atomic.Uint64
	nCommentsIn    atomic.Uint64
	nCommentsDrop  atomic.Uint64
	nWrites        atomic.Uint64
	delayRel       delayHist
	delayLossy     delayHist
}

var _ Hub = (*LocalHub)(nil)

// NewHub starts the in-process hub and its tick loop. Call Close to stop it.
func NewHub(opts Options) Hub { return NewLocalHub(opts) }

// NewLocalHub is NewHub returning the concrete type (for Stats and Epoch).
func NewLocalHub(opts Options) *LocalHub {
	if opts.Tick <= 0 {
		opts.Tick = 100 * time.Millisecond
	}
	opts.MaxTick = max(opts.MaxTick, opts.Tick)
	if opts.MaxCommentsPerTick <= 0 {
		opts.MaxCommentsPerTick = 8
	}
	if opts.History <= 0 {
		opts.History = 1024
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = 256
	}
	if opts.QueueLen < 4 {
		opts.QueueLen = 4
	}
	if opts.TopicTTL <= 0 {
		opts.TopicTTL = 10 * time.Minute
	}
	if opts.SnapshotTTL == 0 {
		opts.SnapshotTTL = time.Second
	}
	if opts.MaxTopicsPerSubscription <= 0 {
		opts.MaxTopicsPerSubscription = 16
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	h := &LocalHub{
		opts:     opts,
		log:      log,
		epoch:    newEpoch(),
		topics:   make(map[string]*topic),
		stop:     make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	go h.loop()
	return h
}

// newEpoch returns a random id of this hub instance: sequence numbers restart when the
// hub restarts, so a client's position is only meaningful together with the epoch.
func newEpoch() string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; fall back to the clock.
		return strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Epoch is the hub instance id sent in the hello frame. Topic epochs start with it.
func (h *LocalHub) Epoch() string { return h.epoch }

// Options returns the effective options (defaults applied).
func (h *LocalHub) Options() Options { return h.opts }

// lookup returns the topic, creating it when create is set. It returns nil if the
// topic does not exist (and create is false) or the hub is closed.
func (h *LocalHub) lookup(name string, create bool) *topic {
	h.mu.RLock()
	t := h.topics[name]
	closed := h.closed
	h.mu.RUnlock()
	if t != nil || !create || closed {
		if closed {
			return nil
		}
		return t
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	if t = h.topics[name]; t == nil {
		h.gen++
		t = newTopic(h, name, h.epoch+"-"+strconv.FormatUint(h.gen, 36))
		h.topics[name] = t
	}
	return t
}

// lockTopic returns the named topic locked, retrying if it was freed concurrently.
func (h *LocalHub) lockTopic(name string, create bool) *topic {
	for {
		t := h.lookup(name, create)
		if t == nil {
			return nil
		}
		t.mu.Lock()
		if !t.dead {
			return t
		}
		t.mu.Unlock()
	}
}

// markDirty schedules t for the next tick's batch.
func (h *LocalHub) markDirty(t *topic) {
	if t.dirty.Load() || !t.dirty.CompareAndSwap(false, true) {
		return
	}
	h.dirtyMu.Lock()
	h.dirty = append(h.dirty, t)
	h.dirtyMu.Unlock()
}

// Close ends every subscription with "shutdown" and stops the tick loop.
func (h *LocalHub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	topics := make([]*topic, 0, len(h.topics))
	for _, t := range h.topics {
		topics = append(topics, t)
	}
	h.mu.Unlock()
	close(h.stop)
	<-h.loopDone
	for _, t := range topics {
		t.mu.Lock()
		ms := append([]*member(nil), t.members...)
		t.mu.Unlock()
		for _, m := range ms {
			m.sub.end(CodeShutdown, ReasonShutdown)
		}
	}
	return nil
}
