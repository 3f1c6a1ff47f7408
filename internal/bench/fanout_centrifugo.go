package bench

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// `shelflive bench fanout --peer centrifugo --url http://127.0.0.1:PORT` runs the
// fan-out workload against Centrifugo, a generic pub/sub server, so that issue 4's
// "≥ 3× Centrifugo's useful deliveries per second" is measured in one run on the
// same machine. The workload is the generic way to build a live room on it: every
// comment, every like tap and every commerce event is its own publication on one
// channel, and Centrifugo delivers each publication to each subscriber. ShelfLive
// instead samples comments per phone, aggregates likes and packs one frame per
// tick, so the figures to compare are messages delivered per second (and frames).
//
// The viewers speak Centrifugo's JSON protocol over raw WebSocket (connect with an
// HS256 JWT, then subscribe); publications go through its HTTP API.

// Environment of the Centrifugo peer (the benchmark script writes the same values
// into Centrifugo's configuration).
const (
	centrifugoSecretEnv = "SHELFLIVE_BENCH_CENTRIFUGO_SECRET"  // client.token.hmac_secret_key
	centrifugoAPIKeyEnv = "SHELFLIVE_BENCH_CENTRIFUGO_API_KEY" // http_api.key
)

// runFanoutPeer dispatches --peer.
func runFanoutPeer(ctx context.Context, o *fanoutOpts, stdout io.Writer) error {
	switch o.peer {
	case "centrifugo":
		return runFanoutCentrifugo(ctx, o, stdout)
	default:
		return fmt.Errorf("fanout: --peer %q: only centrifugo is supported", o.peer)
	}
}

// centrifugoJWT returns an HS256 connection token for user sub, valid for ttl.
// Centrifugo needs only "sub" (and checks "exp").
func centrifugoJWT(secret, sub string, ttl time.Duration) string {
	enc := base64.RawURLEncoding
	claims, _ := json.Marshal(map[string]any{"sub": sub, "exp": time.Now().Add(ttl).Unix()})
	msg := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return msg + "." + enc.EncodeToString(m.Sum(nil))
}

// fanoutCentrifugo is the Centrifugo server under test. It implements fanoutTarget
// so runFanoutGenerators paces the load exactly as for ShelfLive.
type fanoutCentrifugo struct {
	o       *fanoutOpts
	base    string // http://host:port
	channel string
	apiKey  string
	secret  string
	client  *http.Client

	mu      sync.Mutex
	pending [][]byte    // publish commands waiting for the next /api/batch
	oldest  time.Time   // when the oldest pending command was queued
	lag     *fanoutHist // queued → its /api/batch answered (Centrifugo has fanned it out to every queue)
	lastErr atomic.Value
	flushWG sync.WaitGroup
	stop    chan struct{}
	apiErrs atomic.Int64
	inSem   chan struct{}
	// loadEnd: commerce publishes due after it are skipped. Each publish waits
	// until Centrifugo has queued it for every subscriber (up to seconds when
	// saturated), so the generator falls behind and would otherwise keep
	// publishing long after --duration, stretching the measured window.
	loadEnd     time.Time
	pinsSkipped atomic.Int64
}

func newFanoutCentrifugo(o *fanoutOpts) (*fanoutCentrifugo, error) {
	base := strings.TrimRight(o.url, "/")
	if !strings.HasPrefix(base, "http://") {
		return nil, fmt.Errorf("fanout: --url %q: only http:// is supported", o.url)
	}
	t := &fanoutCentrifugo{
		o: o, base: base, channel: o.room,
		apiKey: os.Getenv(centrifugoAPIKeyEnv), secret: os.Getenv(centrifugoSecretEnv),
		client: &http.Client{Timeout: 30 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 16, MaxConnsPerHost: 16}},
		stop:  make(chan struct{}),
		inSem: make(chan struct{}, 8),
		lag:   newFanoutHist(),
	}
	if t.apiKey == "" || t.secret == "" {
		return nil, fmt.Errorf("fanout: --peer centrifugo needs $%s and $%s", centrifugoSecretEnv, centrifugoAPIKeyEnv)
	}
	if err := t.api(context.Background(), "/api/info", []byte(`{}`)); err != nil {
		return nil, fmt.Errorf("fanout: centrifugo at %s: %w", base, err)
	}
	t.flushWG.Add(1)
	go t.flusher()
	return t, nil
}

// api posts one HTTP API command and fails on a transport, status or reply error.
func (t *fanoutCentrifugo) api(ctx context.Context, path string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, "POST", t.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", t.apiKey)
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != 200 {
		return fmt.Errorf("POST %s: %s: %.200s", path, resp.Status, b)
	}
	if bytes.Contains(b, []byte(`"error":`)) {
		return fmt.Errorf("POST %s: %.200s", path, b)
	}
	return nil
}

// enqueue adds one publication for the next batch request. Each stays its own
// publication (Centrifugo delivers each separately); the batch only saves HTTP
// requests, which ShelfLive's in-process run does not pay either.
func (t *fanoutCentrifugo) enqueue(data []byte) {
	cmd := make([]byte, 0, len(data)+64)
	cmd = append(cmd, `{"publish":{"channel":`...)
	cmd = strconv.AppendQuote(cmd, t.channel)
	cmd = append(cmd, `,"data":`...)
	cmd = append(cmd, data...)
	cmd = append(cmd, `}}`...)
	t.mu.Lock()
	if len(t.pending) == 0 {
		t.oldest = time.Now()
	}
	t.pending = append(t.pending, cmd)
	t.mu.Unlock()
}

// flusher sends the queued publications every 10 ms (the generators' pace).
func (t *fanoutCentrifugo) flusher() {
	defer t.flushWG.Done()
	tk := time.NewTicker(10 * time.Millisecond)
	defer tk.Stop()
	var inflight sync.WaitGroup
	defer inflight.Wait()
	for {
		select {
		case <-t.stop:
			t.flush(&inflight)
			return
		case <-tk.C:
			t.flush(&inflight)
		}
	}
}

func (t *fanoutCentrifugo) flush(inflight *sync.WaitGroup) {
	t.mu.Lock()
	cmds, oldest := t.pending, t.oldest
	t.pending = nil
	t.mu.Unlock()
	if len(cmds) == 0 {
		return
	}
	body := append([]byte(`{"commands":[`), bytes.Join(cmds, []byte(","))...)
	body = append(body, `]}`...)
	t.inSem <- struct{}{}
	inflight.Add(1)
	go func() {
		defer inflight.Done()
		defer func() { <-t.inSem }()
		if err := t.api(context.Background(), "/api/batch", body); err != nil {
			t.apiErrs.Add(1)
			t.lastErr.Store(err.Error())
			return
		}
		t.lag.add(time.Since(oldest))
	}()
}

func (t *fanoutCentrifugo) mode() string  { return "remote" }
func (t *fanoutCentrifugo) topic() string { return t.channel }
func (t *fanoutCentrifugo) wsURL() string {
	return "ws://" + strings.TrimPrefix(t.base, "http://") + "/connection/websocket"
}

// comment publishes one comment shaped like ShelfLive's (same text, so the same
// latency parser reads it).
func (t *fanoutCentrifugo) comment(k int, text string) error {
	author := "bench" + strconv.Itoa((k*7919)%t.o.viewers)
	// A struct keeps "t" first, where the viewers look for the class.
	b, _ := json.Marshal(struct {
		T    string `json:"t"`
		ID   string `json:"id"`
		User string `json:"user"`
		Name string `json:"name"`
		Text string `json:"text"`
	}{"c", "b" + strconv.Itoa(k), author, "观众**", text})
	t.enqueue(b)
	return nil
}

// likes publishes n like taps, each its own publication.
func (t *fanoutCentrifugo) likes(n int) error {
	for i := 0; i < n; i++ {
		t.enqueue([]byte(`{"t":"l","n":1}`))
	}
	return nil
}

// pin publishes a commerce event at once (not batched), timestamped.
func (t *fanoutCentrifugo) pin(k int, sentNS int64) error {
	data, _ := json.Marshal(struct {
		T         string         `json:"t"`
		Type      string         `json:"type"`
		ProductID int64          `json:"product_id"`
		BenchK    int            `json:"bench_k"`
		SentNS    int64          `json:"sent_ns"`
		Card      map[string]any `json:"card"`
	}{"e", t.o.eventType, t.o.product, k, sentNS,
		map[string]any{"name": "低脂全麦吐司 400g", "price_fen": 1290, "stock": 500 - k%500}})
	if !t.loadEnd.IsZero() && time.Now().After(t.loadEnd) {
		t.pinsSkipped.Add(1)
		return errors.New("fanout: load over")
	}
	body, _ := json.Marshal(map[string]any{"channel": t.channel, "data": json.RawMessage(data)})
	err := t.api(context.Background(), "/api/publish", body)
	if err != nil {
		t.lastErr.Store(err.Error())
	}
	return err
}

func (t *fanoutCentrifugo) likesPerTap() bool { return true }
func (t *fanoutCentrifugo) viewers() int      { return -1 }
func (t *fanoutCentrifugo) rssKiB() (int64, bool) {
	if t.o.serverPID <= 0 {
		return 0, false
	}
	return fanoutRSSKiB(strconv.Itoa(t.o.serverPID))
}
func (t *fanoutCentrifugo) cpuTime() float64 {
	if t.o.serverPID <= 0 {
		return -1
	}
	return fanoutCPUSeconds(strconv.Itoa(t.o.serverPID))
}

// drainPublishes sends what is queued and waits for the requests.
func (t *fanoutCentrifugo) drainPublishes() {
	select {
	case <-t.stop:
	default:
		close(t.stop)
	}
	t.flushWG.Wait()
}

func (t *fanoutCentrifugo) close() {
	t.drainPublishes()
	t.client.CloseIdleConnections()
}

// fanoutPeerSummary is the last line for a peer: ShelfLive's shape plus the
// system name and the per-class deliveries a generic server makes.
type fanoutPeerSummary struct {
	System string `json:"system"`
	fanoutSummary
	LikesDeliveredPerS float64 `json:"likes_delivered_per_s"`
	EventsDeliveredPer float64 `json:"events_delivered_per_s"`
	PublishErrors      int64   `json:"publish_errors"`
	PinsBehind         int64   `json:"commerce_events_not_sent"` // due in the load but never published: the publisher was still waiting for Centrifugo
	// Comments and likes: from queued in the publisher to Centrifugo answering
	// the batch, which it does after putting each publication in every
	// subscriber's queue; this is the ingress share of the comment latency.
	PublishLagP50Ms float64 `json:"publish_lag_p50_ms"`
	PublishLagP99Ms float64 `json:"publish_lag_p99_ms"`
	LoadS           float64 `json:"load_s"` // real length of the load phase; the rates use it
	// Comments delivered per second that reached the phone within 250 ms (issue 4's
	// comment target; the share is taken from the sampled viewers): a comment shown
	// 30 s late is not a useful delivery for danmaku.
	CommentsTimelyPerS float64 `json:"comments_timely_per_s"`
}

// fanoutHistShareWithin is the share of h's samples ≤ d (1 without samples).
func fanoutHistShareWithin(h *fanoutHist, d time.Duration) float64 {
	total := h.count()
	if total == 0 {
		return 1
	}
	var n uint64
	for i := 0; i < fanoutHistN && time.Duration(i+1)*fanoutHistRes <= d; i++ {
		n += uint64(h.b[i].Load())
	}
	return float64(n) / float64(total)
}

// runFanoutCentrifugo mirrors RunFanout for the Centrifugo peer: connect the
// viewers, run the generators, measure during the load, then wait up to --drain
// for late commerce events.
func runFanoutCentrifugo(ctx context.Context, o *fanoutOpts, stdout io.Writer) error {
	if o.url == "" {
		return errors.New("fanout: --peer centrifugo needs --url")
	}
	tgt, err := newFanoutCentrifugo(o)
	if err != nil {
		return err
	}
	defer tgt.close()
	fmt.Fprintf(stdout, "fanout: centrifugo, %d viewers on %s channel %q, %g comments/s, %g likes/s, %g events/s for %v (each one publication)\n",
		o.viewers, tgt.wsURL(), tgt.channel, o.commentsPerS, o.likesPerS, o.eventsPerS, o.duration)

	rssIdle, _ := tgt.rssKiB()
	pool := newCentrifugoPool(centrifugoPoolConfig{
		WSURL: tgt.wsURL(), Channel: tgt.channel, Secret: tgt.secret, Viewers: o.viewers,
		SourceIPs: o.sourceIPs, Concurrency: o.concurrency, CommentSample: o.commentSample,
	})
	defer pool.close()
	t0 := time.Now()
	if err := pool.connectAll(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fanout: %d viewers connected and subscribed in %.1f s\n", pool.connected.Load(), time.Since(t0).Seconds())
	time.Sleep(time.Second)
	rssConnected, haveRSS := tgt.rssKiB()

	// Load.
	frames0, comments0, likes0, events0 := pool.frames.Load(), pool.comments.Load(), pool.likes.Load(), pool.events.Load()
	cpu0, self0 := tgt.cpuTime(), fanoutCPUSeconds("self")
	busy0, total0 := fanoutMachineCPU()
	stopProfile := fanoutCPUProfile(o.cpuProfile)
	loadStart := time.Now()
	tgt.loadEnd = loadStart.Add(o.duration)
	gen := runFanoutGenerators(ctx, o, tgt)
	// The generators end after --duration, but a commerce publish that is under way
	// then (each takes long when Centrifugo is saturated) finishes first: rates are
	// per second of the real load phase.
	loadSecs := time.Since(loadStart).Seconds()
	stopProfile()
	busy1, total1 := fanoutMachineCPU()
	cpu1, self1 := tgt.cpuTime(), fanoutCPUSeconds("self")
	rssLoad, _ := tgt.rssKiB()
	frames := pool.frames.Load() - frames0
	comments := pool.comments.Load() - comments0
	likes := pool.likes.Load() - likes0
	events := pool.events.Load() - events0
	tgt.drainPublishes()

	deadline := time.Now().Add(o.drain)
	for !pool.pinsComplete(len(gen.pinSent)) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	pins := newFanoutHist()
	_, lost := pool.pinLatencies(gen.pinSent, pins)

	secs := loadSecs
	sum := fanoutPeerSummary{System: "centrifugo", fanoutSummary: fanoutSummary{
		Mode:                  "remote",
		Viewers:               o.viewers,
		ViewersConnected:      pool.connected.Load(),
		DurationS:             fanoutRound(o.duration.Seconds(), 1),
		CommerceEventsSent:    len(gen.pinSent),
		CommerceEventsLost:    lost,
		CommerceP50Ms:         fanoutRound(pins.quantile(0.50), 1),
		CommerceP99Ms:         fanoutRound(pins.quantile(0.99), 1),
		CommerceMaxMs:         fanoutRound(pins.quantile(1), 1),
		CommentBatchP50Ms:     fanoutRound(pool.commentLat.quantile(0.50), 1),
		CommentBatchP99Ms:     fanoutRound(pool.commentLat.quantile(0.99), 1),
		FramesPerS:            fanoutRound(float64(frames)/secs, 0),
		CommentsDeliveredPerS: fanoutRound(float64(comments)/secs, 0),
		MessagesPerS:          fanoutRound(float64(comments+likes+events)/secs, 0),
		CommentsSent:          gen.comments,
		CommentsRejected:      gen.commentErrs,
		LikesSent:             gen.likes,
		Reconnects:            pool.reconnects.Load(),
		SlowConsumerCloses:    pool.slowCloses.Load(),
		DialErrors:            pool.dialErrors.Load(),
	},
		LikesDeliveredPerS: fanoutRound(float64(likes)/secs, 0),
		EventsDeliveredPer: fanoutRound(float64(events)/secs, 0),
		PublishErrors:      tgt.apiErrs.Load() + int64(gen.pinErrs) - tgt.pinsSkipped.Load(),
		PinsBehind:         max(0, int64(o.eventsPerS*o.duration.Seconds())-int64(len(gen.pinSent))),
		PublishLagP50Ms:    fanoutRound(tgt.lag.quantile(0.50), 1),
		PublishLagP99Ms:    fanoutRound(tgt.lag.quantile(0.99), 1),
		LoadS:              fanoutRound(loadSecs, 2),
		CommentsTimelyPerS: fanoutRound(float64(comments)/loadSecs*fanoutHistShareWithin(pool.commentLat, 250*time.Millisecond), 0),
	}
	if haveRSS {
		sum.ServerRSSMiB = fanoutRound(float64(rssLoad)/1024, 1)
		sum.ServerRSSIdleMiB = fanoutRound(float64(rssIdle)/1024, 1)
		sum.ServerKiBPerViewer = fanoutRound(float64(rssConnected-rssIdle)/float64(o.viewers), 1)
	}
	self := self1 - self0
	serverCPU := -1.0
	if cpu1 >= 0 && cpu0 >= 0 {
		serverCPU = cpu1 - cpu0
		sum.ServerCPUPct = fanoutRound(100*serverCPU/secs, 0)
	}
	sum.ViewersCPUPct = fanoutRound(100*self/secs, 0) // viewers + publisher in this process
	if total1 > total0 {
		sum.MachineBusyPct = fanoutRound(100*(busy1-busy0)/(total1-total0), 0)
		own := self + max(0, serverCPU)
		sum.OtherCPUPct = fanoutRound(max(0, 100*((busy1-busy0)-own)/secs), 0)
	}

	if sum.PinsBehind > 0 {
		fmt.Fprintf(stdout, "fanout: %d commerce events due during the load were not sent: each publish waited for Centrifugo to queue it for every viewer\n", sum.PinsBehind)
	}
	fmt.Fprintf(stdout, "fanout: commerce events: %d sent, %d lost, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		sum.CommerceEventsSent, sum.CommerceEventsLost, sum.CommerceP50Ms, sum.CommerceP99Ms, sum.CommerceMaxMs)
	fmt.Fprintf(stdout, "fanout: comments: p50 %.1f ms, p99 %.1f ms; %d sent, %.0f delivered/s; likes %d sent, %.0f delivered/s\n",
		sum.CommentBatchP50Ms, sum.CommentBatchP99Ms, sum.CommentsSent, sum.CommentsDeliveredPerS, sum.LikesSent, sum.LikesDeliveredPerS)
	fmt.Fprintf(stdout, "fanout: %.0f frames/s, %.0f messages/s to viewers; %d reconnects, %d slow-consumer closes, %d publish errors\n",
		sum.FramesPerS, sum.MessagesPerS, sum.Reconnects, sum.SlowConsumerCloses, sum.PublishErrors)
	fmt.Fprintf(stdout, "fanout: %.0f comments/s delivered within 250 ms\n", sum.CommentsTimelyPerS)
	fmt.Fprintf(stdout, "fanout: publisher: comments/likes queued → batch answered p50 %.1f ms, p99 %.1f ms\n", sum.PublishLagP50Ms, sum.PublishLagP99Ms)
	if e, _ := tgt.lastErr.Load().(string); e != "" {
		fmt.Fprintf(stdout, "fanout: last publish error: %s\n", e)
	}
	fmt.Fprintf(stdout, "fanout: CPU (100%% = one core): server %.0f%%, viewers+publisher %.0f%%, other processes %.0f%%; machine %.0f%% busy\n",
		sum.ServerCPUPct, sum.ViewersCPUPct, sum.OtherCPUPct, sum.MachineBusyPct)
	if haveRSS {
		fmt.Fprintf(stdout, "fanout: server RSS %.1f MiB idle, %.1f MiB under load, %.1f KiB per connected viewer\n",
			sum.ServerRSSIdleMiB, sum.ServerRSSMiB, sum.ServerKiBPerViewer)
	}
	line, _ := json.Marshal(sum)
	fmt.Fprintln(stdout, string(line))
	return nil
}
