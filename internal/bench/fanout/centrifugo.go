package fanout

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shelflive/shelflive/internal/bench/proc"
)

// `shelflive bench fanout --peer centrifugo --url http://127.0.0.1:PORT` runs the
// same workload against Centrifugo, a generic pub/sub server, with the same
// viewer pool (its JSON protocol instead of ShelfLive's frames). What it
// publishes, on one channel without history or presence:
//   - every comment is its own publication, shaped like ShelfLive's comment
//     (a generic server has no per-phone sampling), sent through its HTTP API
//     as /api/batch every 10 ms (each command still its own publication);
//   - like taps are one publication per phone batch (every 100 ms, the count
//     of taps), as the ShelfLive run posts one like request per batch;
//   - every commerce event (pin) is one /api/publish, carrying its pin_id.
// Centrifugo then delivers each publication to each subscriber.

// Environment of the Centrifugo peer (scripts/bench-centrifugo.sh writes the
// same values into Centrifugo's configuration).
const (
	centrifugoSecretEnv = "SHELFLIVE_BENCH_CENTRIFUGO_SECRET"  // client.token.hmac_secret_key
	centrifugoAPIKeyEnv = "SHELFLIVE_BENCH_CENTRIFUGO_API_KEY" // http_api.key
)

// centrifugoTarget is the Centrifugo server under test.
type centrifugoTarget struct {
	o       *opts
	base    string // http://host:port
	channel string
	apiKey  string
	secret  string
	client  *http.Client

	mu      sync.Mutex
	pending [][]byte  // publish commands waiting for the next /api/batch
	oldest  time.Time // when the oldest pending command was queued
	lag     *hist     // queued → its /api/batch answered (Centrifugo has queued it for every subscriber)
	lastErr atomic.Value
	flushWG sync.WaitGroup
	stop    chan struct{}
	apiErrs atomic.Int64
	inSem   chan struct{}
}

func newCentrifugoTarget(o *opts) (*centrifugoTarget, error) {
	base := strings.TrimRight(o.url, "/")
	if !strings.HasPrefix(base, "http://") {
		return nil, fmt.Errorf("fanout: --url %q: only http:// is supported", o.url)
	}
	t := &centrifugoTarget{
		o: o, base: base, channel: o.room,
		apiKey: os.Getenv(centrifugoAPIKeyEnv), secret: os.Getenv(centrifugoSecretEnv),
		client: &http.Client{Timeout: 30 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 32, MaxConnsPerHost: 32}},
		stop:  make(chan struct{}),
		inSem: make(chan struct{}, 8),
		lag:   newHist(),
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
func (t *centrifugoTarget) api(ctx context.Context, path string, body []byte) error {
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

// enqueue adds one publication for the next batch request.
func (t *centrifugoTarget) enqueue(data []byte) {
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
func (t *centrifugoTarget) flusher() {
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

func (t *centrifugoTarget) flush(inflight *sync.WaitGroup) {
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

func (t *centrifugoTarget) mode() string { return "centrifugo" }
func (t *centrifugoTarget) viewerConfig() viewerConfig {
	return viewerConfig{Proto: protoCentrifugo, Topic: t.channel, Secret: t.secret,
		WSURL: "ws://" + strings.TrimPrefix(t.base, "http://") + "/connection/websocket"}
}

// comment publishes one comment shaped like ShelfLive's (same text, so the same
// latency parser reads it).
func (t *centrifugoTarget) comment(_ context.Context, k int, text string) (int64, error) {
	author := "bench" + strconv.Itoa((k*7919)%t.o.viewers)
	// A struct keeps "t" first, where the viewers look for the class.
	b, _ := json.Marshal(struct {
		T    string `json:"t"`
		ID   string `json:"id"`
		User string `json:"user"`
		Name string `json:"name"`
		Text string `json:"text"`
	}{"c", strconv.Itoa(k), author, "观众**", text})
	t.enqueue(b)
	return int64(k), nil
}

// likes publishes one batch of n taps.
func (t *centrifugoTarget) likes(_ context.Context, n int) error {
	t.enqueue([]byte(`{"t":"l","n":` + strconv.Itoa(n) + `}`))
	return nil
}

// pin publishes a commerce event at once (not batched).
func (t *centrifugoTarget) pin(ctx context.Context, k int) (string, error) {
	id := "k" + strconv.Itoa(k)
	data, _ := json.Marshal(struct {
		T       string         `json:"t"`
		Type    string         `json:"type"`
		PinID   string         `json:"pin_id"`
		Product map[string]any `json:"product"`
	}{"e", t.o.eventType, id, map[string]any{"id": t.o.product, "name": "低脂全麦吐司 400g", "price_fen": 1290, "stock": 500 - k%500}})
	body, _ := json.Marshal(map[string]any{"channel": t.channel, "data": json.RawMessage(data)})
	if err := t.api(ctx, "/api/publish", body); err != nil {
		t.lastErr.Store(err.Error())
		return "", err
	}
	return id, nil
}

func (t *centrifugoTarget) viewers() int { return -1 }
func (t *centrifugoTarget) rssKiB() (int64, bool) {
	if t.o.serverPID <= 0 {
		return 0, false
	}
	return proc.RSSKiB(strconv.Itoa(t.o.serverPID))
}
func (t *centrifugoTarget) cpuTime() float64 {
	if t.o.serverPID <= 0 {
		return -1
	}
	return proc.CPUSeconds(strconv.Itoa(t.o.serverPID))
}
func (t *centrifugoTarget) writes() uint64 { return 0 }

// endLoad sends what is queued and waits for the requests.
func (t *centrifugoTarget) endLoad() {
	select {
	case <-t.stop:
	default:
		close(t.stop)
	}
	t.flushWG.Wait()
}

func (t *centrifugoTarget) close() {
	t.endLoad()
	t.client.CloseIdleConnections()
}
