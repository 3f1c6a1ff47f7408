package fanout

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shelflive/shelflive/internal/apiclient"
	"github.com/shelflive/shelflive/internal/bench/proc"
)

// remoteTarget is a running ShelfLive node, driven through its front door as
// its users drive it: viewer accounts logged in through the OTP API post
// comments (POST /api/v1/rooms/{slug}/comments, each account within the
// per-viewer comment limits), the host pins products with its token
// (POST /api/v1/rooms/{slug}/pin, whose answer's pin_id the card.pinned event
// carries), likes go to POST /api/v1/rooms/{slug}/likes in a phone's batches,
// and viewers are anonymous WebSockets. The server's socket writes come from
// its /metrics; its CPU and RSS from /proc with --server-pid.
type remoteTarget struct {
	o        *opts
	roomID   int64
	anon     *apiclient.Client
	host     *apiclient.Client
	accounts []*apiclient.Client

	mu       sync.Mutex
	rejected map[string]int64 // comment refusals by problem code (or status)
	likeErrs atomic.Int64
}

func newRemoteTarget(ctx context.Context, o *opts, stdout func(format string, a ...any)) (*remoteTarget, error) {
	base := strings.TrimRight(o.url, "/")
	if !strings.HasPrefix(base, "http://") {
		return nil, fmt.Errorf("fanout: --url %q: only http:// is supported", o.url)
	}
	hc := &http.Client{Timeout: 30 * time.Second, // one connection per request in flight, as many phones would have
		Transport: &http.Transport{MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute}}
	t := &remoteTarget{o: o, anon: &apiclient.Client{Base: base, HTTP: hc}, rejected: map[string]int64{}}
	t.host = t.anon.WithToken(o.token)
	var room struct {
		ID   int64 `json:"id"`
		Room struct {
			ID int64 `json:"id"`
		} `json:"room"`
	}
	if st, err := t.anon.Call(ctx, "GET", "/api/v1/rooms/"+o.room, nil, &room); err != nil || st != 200 {
		return nil, fmt.Errorf("fanout: get room %s: status %d %v", o.room, st, err)
	}
	if t.roomID = room.ID; t.roomID == 0 {
		t.roomID = room.Room.ID
	}
	if t.roomID == 0 {
		return nil, fmt.Errorf("fanout: room %s: no id in the answer", o.room)
	}
	if o.commentsPerS > 0 {
		t0 := time.Now()
		if err := t.login(ctx); err != nil {
			return nil, err
		}
		stdout("fanout: %d viewer accounts logged in through the OTP API in %.1f s\n", len(t.accounts), time.Since(t0).Seconds())
		// One comment before the viewers connect: a node loads its word
		// dictionary for comment insights on the first comment it gets (about
		// 1.5 s of CPU, once per process), which would otherwise fall inside
		// the measured load of a fresh node, as it does not in a running shop.
		if _, err := t.comment(ctx, 0, "预热 warm-up"); err != nil {
			return nil, fmt.Errorf("fanout: warm-up comment: %w", err)
		}
		// Wait until it is read (so the dictionary is in memory before the
		// idle RSS is taken); a node without the metric is not waited for.
		t0 = time.Now()
		for time.Since(t0) < time.Minute {
			n, err := t.metric(`shelflive_insight_comments_total{result="read"}`)
			if err != nil || n >= 1 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		stdout("fanout: warm-up comment read by the node after %.1f s\n", time.Since(t0).Seconds())
	}
	return t, nil
}

// login logs --accounts viewers in (phones 199xxxxxxxx + offset), 16 at a time.
func (t *remoteTarget) login(ctx context.Context) error {
	t.accounts = make([]*apiclient.Client, t.o.accounts)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range t.accounts {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := apiclient.LoginViewer(ctx, t.anon, t.o.merchant, fmt.Sprintf("199%08d", t.o.phoneOffset+i))
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			t.accounts[i] = c
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return fmt.Errorf("fanout: log viewers in: %w", err)
	}
	return nil
}

func (t *remoteTarget) mode() string { return "remote" }
func (t *remoteTarget) viewerConfig() viewerConfig {
	topic := "room:" + strconv.FormatInt(t.roomID, 10)
	return viewerConfig{Proto: protoShelfLive, Topic: topic,
		WSURL: "ws://" + strings.TrimPrefix(t.anon.Base, "http://") + "/api/v1/ws?sub=" + topic}
}

// comment posts comment k as account k mod N: with N accounts and r comments/s
// each account posts once every N/r seconds (opts checks ≥ 1 s, twice the
// room's 0.5 s gap per author).
func (t *remoteTarget) comment(ctx context.Context, k int, text string) (int64, error) {
	var out struct {
		ID   int64  `json:"id"`
		Code string `json:"code"`
	}
	st, err := t.accounts[k%len(t.accounts)].Call(ctx, "POST", "/api/v1/rooms/"+t.o.room+"/comments", map[string]string{"text": text}, &out)
	if err == nil && st == 201 && out.ID > 0 {
		return out.ID, nil
	}
	why := out.Code
	if err != nil {
		why = "transport"
	} else if why == "" {
		why = strconv.Itoa(st)
	}
	t.mu.Lock()
	t.rejected[why]++
	t.mu.Unlock()
	if err == nil {
		err = fmt.Errorf("comment: status %d %s", st, out.Code)
	}
	return 0, err
}

// likes sends n taps as requests of at most 50 (the API's per-request cap).
func (t *remoteTarget) likes(ctx context.Context, n int) error {
	var firstErr error
	for n > 0 {
		c := min(n, 50)
		n -= c
		st, err := t.anon.Call(ctx, "POST", "/api/v1/rooms/"+t.o.room+"/likes", map[string]int{"count": c}, nil)
		if err == nil && st != 204 {
			err = fmt.Errorf("likes: status %d", st)
		}
		if err != nil {
			t.likeErrs.Add(1)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

func (t *remoteTarget) pin(ctx context.Context, k int) (string, error) {
	var out struct {
		PinID string `json:"pin_id"`
		Code  string `json:"code"`
	}
	st, err := t.host.Call(ctx, "POST", "/api/v1/rooms/"+t.o.room+"/pin", map[string]int64{"product_id": t.o.product}, &out)
	if err != nil {
		return "", err
	}
	if st != 200 || out.PinID == "" {
		return "", fmt.Errorf("pin: status %d %s", st, out.Code)
	}
	return out.PinID, nil
}

func (t *remoteTarget) viewers() int { return -1 }
func (t *remoteTarget) rssKiB() (int64, bool) {
	if t.o.serverPID <= 0 {
		return 0, false
	}
	return proc.RSSKiB(strconv.Itoa(t.o.serverPID))
}
func (t *remoteTarget) cpuTime() float64 {
	if t.o.serverPID <= 0 {
		return -1
	}
	return proc.CPUSeconds(strconv.Itoa(t.o.serverPID))
}

// writes reads the server's socket writes from /metrics (0 when unreadable).
func (t *remoteTarget) writes() uint64 {
	v, _ := t.metric("shelflive_realtime_socket_writes_total")
	return uint64(v)
}

func (t *remoteTarget) metric(name string) (float64, error) {
	req, _ := http.NewRequest("GET", t.anon.Base+"/metrics", nil)
	resp, err := t.anon.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, errors.New("fanout: metric " + name + " not found")
}

func (t *remoteTarget) rejections() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int64, len(t.rejected))
	for k, v := range t.rejected {
		out[k] = v
	}
	return out
}

func (t *remoteTarget) endLoad() {}
func (t *remoteTarget) close()   { t.anon.HTTP.CloseIdleConnections() }
