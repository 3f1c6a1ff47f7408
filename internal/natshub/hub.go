// Package natshub puts NATS between the room hubs of several ShelfLive nodes,
// so that a viewer on node B sees what is published on node A with the same
// delivery classes, ordering and resume rules as on one node
// (docs/PROTOCOL.md, docs/DEPLOY.md).
//
// Every node keeps an in-process realtime.LocalHub for its own WebSockets
// (batching, bounded queues, slow-consumer handling, snapshot reuse); this
// package only decides what crosses the network and how:
//
//   - Guaranteed events (Publish, DeleteComment) are sequenced by JetStream.
//     One stream holds one subject per topic. A node appends an event with
//     the topic's next sequence number in a header and the stream sequence of
//     the topic's last message in Nats-Expected-Last-Subject-Sequence: if
//     another node appended first, JetStream refuses, the node reloads the
//     topic's last message and retries. That gives one gap-free per-topic
//     sequence for the whole cluster without a lock service. Every node
//     consumes the stream (an ordered consumer) and hands each event to its
//     LocalHub with LocalHub.Apply; the stream keeps the last events of each
//     topic, so a node that has never seen a topic loads its recent history
//     before its first viewer joins, and a viewer can resume on any node.
//   - Comments and likes are lossy: they go over core NATS, batched per node
//     every RelayInterval, and each node feeds them into its LocalHub, which
//     batches and samples them per tick for its viewers as usual.
//   - Personal messages (SendUser) go over core NATS at once to every node,
//     because the user's socket may be on any of them.
//   - Presence: each node publishes its local viewer counts every
//     PresenceInterval; Viewers sums the latest count of every live node.
//
// Two LocalHub methods are used when they exist (checked at run time, so
// this package works with or without them): SetRemoteViewers(topic, n), so
// that batch frames carry the cluster-wide viewer count, and
// WithdrawComment(topic, id), so that a comment deleted within its batch
// interval is not shown on other nodes.
package natshub

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shelflive/shelflive/internal/realtime"
	"github.com/shelflive/shelflive/internal/redact"
)

// Config configures a Hub. URL (or Conn) is required.
type Config struct {
	// URL of the NATS server(s), e.g. "nats://10.0.0.5:4222,nats://10.0.0.6:4222".
	URL string
	// Conn, if set, is used instead of dialling URL; Close does not close it.
	Conn *nats.Conn
	// Name is the NATS connection name shown in the server's monitoring
	// (default "shelflive-<node id>").
	Name string
	// Prefix starts every subject and names the stream, so that several
	// ShelfLive deployments (staging, production, test runs) can share one
	// NATS: letters, digits, '_' and '-'; default "shelflive".
	Prefix string
	// Local configures each node's in-process hub (tick, queues, snapshot…).
	Local realtime.Options
	// HistoryPerTopic is how many recent events of each topic JetStream keeps
	// (for resume on another node and for a node's first viewer of a topic).
	// At least the replay bound of LocalHub (QueueLen/2 + 1); default 256.
	HistoryPerTopic int
	// MaxAge is how long JetStream keeps events; default 24h. A topic whose
	// events all aged out starts a new epoch (its viewers get a snapshot).
	MaxAge time.Duration
	// Replicas of the stream: 1 on a single NATS server, 3 in a NATS cluster.
	Replicas int
	// MemoryStorage keeps the stream in memory instead of on disk (tests, or
	// a NATS cluster with replicas where losing all servers is acceptable).
	MemoryStorage bool
	// RelayInterval is how long comments and likes are gathered on a node
	// before they are sent to the other nodes in one message; default 10ms.
	RelayInterval time.Duration
	// PresenceInterval is how often a node publishes its viewer counts;
	// default 1s. A node silent for 3 intervals no longer counts.
	PresenceInterval time.Duration
	// Timeout bounds one JetStream request (publish, history load); default 5s.
	Timeout time.Duration
	Logger  *slog.Logger
}

func (c *Config) defaults() error {
	if c.Prefix == "" {
		c.Prefix = "shelflive"
	}
	for i := 0; i < len(c.Prefix); i++ {
		ch := c.Prefix[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '-') {
			return fmt.Errorf("natshub: prefix %q: only letters, digits, '_' and '-'", c.Prefix)
		}
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 24 * time.Hour
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.RelayInterval <= 0 {
		c.RelayInterval = 10 * time.Millisecond
	}
	if c.PresenceInterval <= 0 {
		c.PresenceInterval = time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Local.Logger == nil {
		c.Local.Logger = c.Logger
	}
	return nil
}

// EventTopicOpened is the type of the event a node appends to a topic that
// has no events in the stream yet, before its first viewer joins: it fixes
// the topic's epoch for the whole cluster, so that viewers who joined on
// different nodes before the first real event are not all sent to resync.
// Viewers never receive it (their snapshot already covers it).
const EventTopicOpened = "topic.opened"

// Header names of an event message in the stream.
const (
	hdrTopic = "Sl-Topic"
	hdrEpoch = "Sl-Epoch"
	hdrSeq   = "Sl-Seq"
	hdrType  = "Sl-Type"
)

// Hub is a realtime.Hub for one node of a cluster. Create it with Open.
type Hub struct {
	cfg    Config
	log    *slog.Logger
	node   string // random id of this node's hub instance
	local  *realtime.LocalHub
	nc     *nats.Conn
	ownNC  bool
	js     jetstream.JetStream
	stream jetstream.Stream
	cons   jetstream.ConsumeContext

	streamName string
	evPrefix   string // "<prefix>.ev."
	relaySubj  string
	userSubj   string
	presSubj   string
	subs       []*nats.Subscription

	mu     sync.Mutex
	topics map[string]*topicState
	closed bool

	relayMu  sync.Mutex
	outCom   []relayComment
	outLikes map[string]int64

	presMu  sync.Mutex
	remote  map[string]*nodePresence // node id -> latest counts
	watched map[string]bool          // topics with local viewers to report

	consErr atomic.Pointer[consumerErr] // last error reported by the stream consumer

	lostMu sync.Mutex
	lost   map[string]bool // topics whose event could not be appended (see repairLost)

	stop chan struct{}
	wg   sync.WaitGroup

	nPublished  atomic.Uint64
	nConflicts  atomic.Uint64
	nApplied    atomic.Uint64
	nRelayOut   atomic.Uint64
	nRelayIn    atomic.Uint64
	nPubErrors  atomic.Uint64
	nPrimes     atomic.Uint64
	nOpenEvents atomic.Uint64
	nResets     atomic.Uint64
}

var _ realtime.Hub = (*Hub)(nil)

// Open connects to NATS, creates or updates the event stream, starts
// consuming it and returns the running hub. Close stops it.
func Open(ctx context.Context, cfg Config) (*Hub, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	h := &Hub{
		cfg:        cfg,
		log:        cfg.Logger,
		node:       newID(),
		topics:     make(map[string]*topicState),
		outLikes:   make(map[string]int64),
		remote:     make(map[string]*nodePresence),
		watched:    make(map[string]bool),
		lost:       make(map[string]bool),
		stop:       make(chan struct{}),
		streamName: streamName(cfg.Prefix),
		evPrefix:   cfg.Prefix + ".ev.",
		relaySubj:  cfg.Prefix + ".relay",
		userSubj:   cfg.Prefix + ".user",
		presSubj:   cfg.Prefix + ".presence",
	}
	fail := func(err error) (*Hub, error) {
		h.shutdown()
		return nil, err
	}
	// The local hub's effective options (its defaults applied) bound what
	// JetStream must keep: a client may resume from QueueLen/2 events back.
	h.local = realtime.NewLocalHub(cfg.Local)
	h.cfg.Local = h.local.Options()
	if min := h.cfg.Local.QueueLen/2 + 1; h.cfg.HistoryPerTopic < min {
		if h.cfg.HistoryPerTopic == 0 {
			h.cfg.HistoryPerTopic = max(256, min)
		} else {
			h.cfg.HistoryPerTopic = min
		}
	}
	cfg = h.cfg
	if err := h.connect(); err != nil {
		return fail(err)
	}
	js, err := jetstream.New(h.nc)
	if err != nil {
		return fail(fmt.Errorf("natshub: jetstream: %w", err))
	}
	h.js = js
	sctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if err := h.openStream(sctx); err != nil {
		return fail(err)
	}
	if err := h.consumeEvents(sctx); err != nil {
		return fail(err)
	}
	if err := h.subscribeControl(); err != nil {
		return fail(err)
	}
	if err := h.nc.FlushTimeout(cfg.Timeout); err != nil {
		return fail(fmt.Errorf("natshub: flush: %w", err))
	}
	h.wg.Add(3)
	go h.relayLoop()
	go h.presenceLoop()
	go h.sweepLoop()
	return h, nil
}

// connect uses the configured connection or dials NATS, reconnecting for
// ever (a node outlives NATS restarts).
func (h *Hub) connect() error {
	cfg := h.cfg
	if cfg.Conn != nil {
		h.nc = cfg.Conn
	} else {
		if cfg.URL == "" {
			return errors.New("natshub: no NATS URL")
		}
		name := cfg.Name
		if name == "" {
			name = "shelflive-" + h.node
		}
		nc, err := nats.Connect(cfg.URL, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(500*time.Millisecond),
			nats.Timeout(cfg.Timeout), nats.RetryOnFailedConnect(false),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				if err != nil {
					h.log.Warn("nats disconnected", "err", err)
				}
			}),
			nats.ReconnectHandler(func(nc *nats.Conn) { h.log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted()) }))
		if err != nil {
			return fmt.Errorf("natshub: connect %s: %w", redact.URL(cfg.URL), err)
		}
		h.nc, h.ownNC = nc, true
	}
	return nil
}

// openStream creates or updates the stream of guaranteed events, one
// subject a topic, keeping HistoryPerTopic events of each.
func (h *Hub) openStream(sctx context.Context) error {
	cfg, js := h.cfg, h.js
	storage := jetstream.FileStorage
	if cfg.MemoryStorage {
		storage = jetstream.MemoryStorage
	}
	scfg := jetstream.StreamConfig{
		Name:              h.streamName,
		Description:       "ShelfLive guaranteed room events, one subject per topic",
		Subjects:          []string{h.evPrefix + ">"},
		Retention:         jetstream.LimitsPolicy,
		Discard:           jetstream.DiscardOld,
		MaxMsgsPerSubject: int64(cfg.HistoryPerTopic),
		MaxAge:            cfg.MaxAge,
		MaxMsgSize:        1 << 20,
		Storage:           storage,
		Replicas:          cfg.Replicas,
		Duplicates:        2 * time.Minute,
	}
	if old, err := js.Stream(sctx, h.streamName); err == nil && old.CachedInfo().Config.Replicas > scfg.Replicas {
		scfg.Replicas = old.CachedInfo().Config.Replicas // never shrink what an operator raised
	}
	st, err := js.CreateOrUpdateStream(sctx, scfg)
	if err != nil && sctx.Err() == nil {
		// Nodes starting together race to create the stream: the loser's
		// create fails, and its second attempt finds the stream and updates it.
		time.Sleep(100 * time.Millisecond)
		st, err = js.CreateOrUpdateStream(sctx, scfg)
	}
	if err != nil {
		return fmt.Errorf("natshub: stream %s: %w", h.streamName, err)
	}
	h.stream = st
	return nil
}

// consumeEvents reads the whole stream from now on with an ordered consumer.
func (h *Hub) consumeEvents(sctx context.Context) error {
	st := h.stream
	// Live events: every node reads the whole stream from now on. Events
	// stored before now are loaded per topic when a viewer first needs them.
	info, err := st.Info(sctx)
	if err != nil {
		return fmt.Errorf("natshub: stream %s: %w", h.streamName, err)
	}
	cons, err := st.OrderedConsumer(sctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{h.evPrefix + ">"},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    info.State.LastSeq + 1,
	})
	if err != nil {
		return fmt.Errorf("natshub: consumer: %w", err)
	}
	cc, err := cons.Consume(h.onEvent, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		h.consErr.Store(&consumerErr{err: err, at: time.Now()})
		h.log.Warn("natshub: event consumer", "err", err)
	}))
	if err != nil {
		return fmt.Errorf("natshub: consume: %w", err)
	}
	h.cons = cc
	return nil
}

// subscribeControl listens to the lossy subjects: relayed comments and
// likes, messages to one user, presence.
func (h *Hub) subscribeControl() error {
	for subj, fn := range map[string]nats.MsgHandler{h.relaySubj: h.onRelay, h.userSubj: h.onUser, h.presSubj: h.onPresence} {
		sub, err := h.nc.Subscribe(subj, fn)
		if err != nil {
			return fmt.Errorf("natshub: subscribe %s: %w", subj, err)
		}
		sub.SetPendingLimits(1<<16, 64<<20)
		h.subs = append(h.subs, sub)
	}
	return nil
}

// StreamFor names the stream of a deployment's prefix ("shelflive" →
// "SHELFLIVE_ROOM_EVENTS"), e.g. for backups or to remove a test's stream.
func StreamFor(prefix string) string { return streamName(prefix) }

func streamName(prefix string) string {
	return strings.ToUpper(strings.ReplaceAll(prefix, "-", "_")) + "_ROOM_EVENTS"
}

// StreamName is the JetStream stream this hub sequences events in.
func (h *Hub) StreamName() string { return h.streamName }

// Node is this hub instance's random id (used to ignore its own relays).
func (h *Hub) Node() string { return h.node }

// Local returns the node's in-process hub (Stats, Flush, Epoch).
func (h *Hub) Local() *realtime.LocalHub { return h.local }

// Conn returns the NATS connection.
func (h *Hub) Conn() *nats.Conn { return h.nc }

// Ping reports whether the node can take part in the cluster: connected to
// NATS, the server answers, the event stream exists and its consumer is not
// failing. Readiness (/readyz) should include it, so that a load balancer
// sends no new viewers to a node that cannot see other nodes' events.
func (h *Hub) Ping(ctx context.Context) error {
	if h.nc == nil || !h.nc.IsConnected() {
		return errors.New("natshub: not connected to NATS")
	}
	if _, ok := ctx.Deadline(); !ok { // nats.go needs one (an HTTP request context has none)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.cfg.Timeout)
		defer cancel()
	}
	if err := h.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("natshub: flush: %w", err)
	}
	if _, err := h.stream.Info(ctx); err != nil {
		return fmt.Errorf("natshub: stream %s: %w", h.streamName, err)
	}
	if p := h.consErr.Load(); p != nil && time.Since(p.at) < 10*time.Second &&
		(errors.Is(p.err, jetstream.ErrConsumerDeleted) || errors.Is(p.err, jetstream.ErrStreamNotFound)) {
		return fmt.Errorf("natshub: consumer: %w", p.err)
	}
	return nil
}

// consumerErr is an error of the live event consumer and when it happened.
type consumerErr struct {
	err error
	at  time.Time
}

// Close stops relaying, tells the other nodes this node's viewers are gone,
// ends every local subscription with "shutdown" (clients resume on another
// node) and drains the NATS connection if the hub dialled it.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	h.mu.Unlock()
	close(h.stop)
	h.wg.Wait()
	h.flushRelay()
	h.publishPresence(true)
	return h.shutdown()
}

func (h *Hub) shutdown() error {
	if h.cons != nil {
		// Stopping waits for the consumer's goroutines, which can hang on a
		// broken connection: shutdown must not.
		done := make(chan struct{})
		go func() { h.cons.Stop(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
	}
	for _, s := range h.subs {
		s.Unsubscribe()
	}
	var err error
	if h.local != nil {
		err = h.local.Close()
	}
	if h.ownNC && h.nc != nil {
		h.nc.Flush()
		h.nc.Close()
	}
	return err
}

func (h *Hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// Stats are this node's cluster counters (for metrics and tests).
type Stats struct {
	Published      uint64 // events this node appended to the stream
	Conflicts      uint64 // appends refused because another node appended first (retried)
	PublishErrors  uint64 // appends that failed (NATS down, timeout)
	Applied        uint64 // events handed to the local hub
	Primes         uint64 // topic histories loaded from the stream
	OpenEvents     uint64 // topic.opened events this node appended
	Resets         uint64 // topics restarted under a new epoch after a lost event
	RelayOut       uint64 // relay messages sent (comments/likes/personal)
	RelayIn        uint64 // relay messages received from other nodes
	RemoteNodes    int    // nodes whose presence is current
	TrackedTopics  int    // topics this node follows in the stream
	Connected      bool
	realtime.Stats // the local hub's counters
}

// Stats returns the counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	nt := len(h.topics)
	h.mu.Unlock()
	h.presMu.Lock()
	nr := 0
	cutoff := time.Now().Add(-3 * h.cfg.PresenceInterval)
	for _, p := range h.remote {
		if p.at.After(cutoff) {
			nr++
		}
	}
	h.presMu.Unlock()
	return Stats{
		Published: h.nPublished.Load(), Conflicts: h.nConflicts.Load(), PublishErrors: h.nPubErrors.Load(),
		Applied: h.nApplied.Load(), Primes: h.nPrimes.Load(), OpenEvents: h.nOpenEvents.Load(), Resets: h.nResets.Load(),
		RelayOut: h.nRelayOut.Load(), RelayIn: h.nRelayIn.Load(), RemoteNodes: nr, TrackedTopics: nt,
		Connected: h.nc.IsConnected(), Stats: h.local.Stats(),
	}
}

// newID returns 8 random lowercase base32 characters.
func newID() string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		return strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// newEpoch names a new incarnation of a topic's sequence: the time makes it
// readable in logs, the random part makes two nodes' attempts differ.
func newEpoch() string {
	return "n" + strconv.FormatInt(time.Now().UnixMilli(), 36) + "-" + newID()
}
