package ws_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shelflive/shelflive/internal/realtime"
	"github.com/shelflive/shelflive/internal/realtime/ws"
)

type frame struct {
	T          string             `json:"t"`
	Topic      string             `json:"topic"`
	Epoch      string             `json:"epoch"`
	ServerTime int64              `json:"server_time"`
	Seq        uint64             `json:"seq"`
	Type       string             `json:"type"`
	Data       json.RawMessage    `json:"data"`
	Comments   []realtime.Comment `json:"comments"`
	Dropped    int                `json:"dropped"`
	Likes      int64              `json:"likes"`
	LikesDelta int64              `json:"likes_delta"`
	Viewers    int                `json:"viewers"`
	Code       string             `json:"code"`
	Reason     string             `json:"reason"`
}

type env struct {
	hub    *realtime.LocalHub
	srv    *httptest.Server
	cancel context.CancelFunc
	closed chan string // bye codes passed to OnClose
	served chan bool   // one value per Serve return: true if the connection had ended
}

func newEnv(t *testing.T, opts realtime.Options) *env {
	t.Helper()
	if opts.Snapshot == nil {
		opts.Snapshot = func(topic string) (any, error) { return map[string]string{"room": topic}, nil }
	}
	hub := realtime.NewLocalHub(opts)
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{hub: hub, cancel: cancel, closed: make(chan string, 100), served: make(chan bool, 100)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		rs, err := ws.ParseResume(r.URL.Query()["sub"])
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var ended atomic.Bool
		ws.Serve(w, r, hub, ws.Options{
			User: r.URL.Query().Get("user"), Topics: rs, Context: ctx,
			Wait:         r.URL.Query().Get("wait") == "1",
			OwnWriter:    r.URL.Query().Get("own") == "1",
			PingInterval: pingInterval(r),
			PongTimeout:  time.Second,
			OnClose: func(code string) {
				ended.Store(true)
				e.closed <- code
			},
		})
		e.served <- ended.Load()
	})
	mux.HandleFunc("GET /raw", func(w http.ResponseWriter, r *http.Request) {
		ws.Serve(w, r, hub, ws.Options{})
	})
	srv := httptest.NewServer(mux)
	e.srv = srv
	t.Cleanup(func() {
		cancel()
		hub.Close()
		srv.Close()
	})
	return e
}

func pingInterval(r *http.Request) time.Duration {
	if r.URL.Query().Get("ping") == "1" {
		return 20 * time.Millisecond
	}
	return 0
}

type client struct {
	t *testing.T
	c *websocket.Conn
}

func (e *env) dial(t *testing.T, query string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(e.srv.URL, "http", "ws", 1)+"/ws?"+query, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return &client{t: t, c: c}
}

// next reads one frame, failing the test after a generous timeout.
func (c *client) next() frame {
	c.t.Helper()
	f, err := c.read(20 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

func (c *client) read(timeout time.Duration) (frame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	typ, b, err := c.c.Read(ctx)
	if err != nil {
		return frame{}, err
	}
	if typ != websocket.MessageText {
		return frame{}, fmt.Errorf("message type %v", typ)
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return frame{}, fmt.Errorf("frame %q: %w", b, err)
	}
	return f, nil
}

func (c *client) send(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServe_RoundTrip(t *testing.T) {
	e := newEnv(t, realtime.Options{Tick: 20 * time.Millisecond})
	c := e.dial(t, "sub=room:1&user=alice")

	hello := c.next()
	if hello.T != "hello" || hello.Epoch != e.hub.Epoch() || time.Since(time.UnixMilli(hello.ServerTime)).Abs() > time.Minute {
		t.Fatalf("first frame %+v, want hello", hello)
	}
	snap := c.next()
	if snap.T != "snapshot" || snap.Topic != "room:1" || snap.Seq != 0 || string(snap.Data) != `{"room":"room:1"}` {
		t.Fatalf("got %+v, want snapshot", snap)
	}
	// Presence batch for the join.
	if f := c.next(); f.T != "batch" || f.Viewers != 1 {
		t.Fatalf("got %+v, want presence batch", f)
	}

	for i := 1; i <= 3; i++ {
		e.hub.Publish("room:1", "card.pinned", map[string]int{"product_id": i})
	}
	for i := 1; i <= 3; i++ {
		f := c.next()
		if f.T != "ev" || f.Seq != uint64(i) || f.Type != "card.pinned" || string(f.Data) != fmt.Sprintf(`{"product_id":%d}`, i) {
			t.Fatalf("event %d: %+v", i, f)
		}
	}

	e.hub.PublishComment("room:1", realtime.Comment{ID: "c1", User: "bob", Name: "B**", Text: "好吃吗？"})
	for i := 0; i < 7; i++ {
		e.hub.AddLikes("room:1", 3)
	}
	f := c.next()
	for f.T == "batch" && len(f.Comments) == 0 && f.LikesDelta < 21 { // a tick may split them
		f = c.next()
	}
	if f.T != "batch" || e.hub.Likes("room:1") != 21 || f.Likes > 21 {
		t.Fatalf("got %+v", f)
	}

	e.hub.SendUser("room:1", "alice", "order.status", map[string]string{"status": "paid"})
	if f := c.next(); f.T != "me" || f.Type != "order.status" {
		t.Fatalf("got %+v, want me", f)
	}

	c.send(`{"t":"hello-unknown"}`)
	c.send(`not json`)
	c.send(`{"t":"ping"}`)
	for {
		f := c.next()
		if f.T == "pong" {
			if f.ServerTime == 0 {
				t.Fatal("pong without server_time")
			}
			break
		}
		if f.T != "batch" {
			t.Fatalf("got %+v while waiting for pong", f)
		}
	}

	if ended := <-e.served; ended {
		t.Fatal("Serve waited for the end without opts.Wait")
	}
	var delivered uint64
	for _, n := range e.hub.Stats().ReliableDelay {
		delivered += n
	}
	if delivered == 0 {
		t.Fatal("writer did not report delivered frames")
	}

	// Leave; presence drops and OnClose reports a client-side end.
	c.c.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "viewer to leave", func() bool { return e.hub.Viewers("room:1") == 0 })
	select {
	case code := <-e.closed:
		if code != "" {
			t.Fatalf("OnClose code %q, want empty for a client close", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("OnClose not called")
	}

	// Events while away; resume gets exactly those.
	e.hub.Publish("room:1", "price.changed", 4)
	e.hub.Publish("room:1", "price.changed", 5)
	c2 := e.dial(t, "sub=room:1@"+snap.Epoch+".3&user=alice")
	if f := c2.next(); f.T != "hello" {
		t.Fatalf("got %+v", f)
	}
	for _, want := range []uint64{4, 5} {
		if f := c2.next(); f.T != "ev" || f.Seq != want {
			t.Fatalf("resume got %+v, want event %d", f, want)
		}
	}
}

// A viewer that stops reading must not delay anyone else, and is cut off with
// slow_consumer once guaranteed events overflow its queue: with the shared
// writers (a write that would block is left to the connection's goroutine)
// and with a writer goroutine per connection.
// An idle viewer keeps one goroutine on the server, its reader: the
// connection's own events start a short-lived one (control) instead of one
// waiting for them all along. Closing the clients must still end every
// connection (OnClose) and give the goroutines back.
func TestServe_OneGoroutinePerIdleViewer(t *testing.T) {
	e := newEnv(t, realtime.Options{Tick: 20 * time.Millisecond})
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	const n = 40
	g0 := runtime.NumGoroutine()
	conns := make([]net.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, err := rawDial(addr, "sub=room:1&user=v"+strconv.Itoa(i), net.IPv4(127, 0, 0, 1))
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	for i := 0; i < n; i++ { // every handler returned
		select {
		case ended := <-e.served:
			if ended {
				t.Fatalf("connection %d ended before the client left", i)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d Serve calls returned", i, n)
		}
	}
	waitUntil(t, func() bool { return e.hub.Viewers("room:1") == n })
	time.Sleep(100 * time.Millisecond) // the control goroutines of the first look have returned
	// n readers, plus the shared writers when this test is the first to start them.
	if d := runtime.NumGoroutine() - g0; d > n+runtime.GOMAXPROCS(0)+2 {
		t.Fatalf("%d idle viewers hold %d goroutines, want about one each", n, d)
	}
	for _, c := range conns {
		c.Close()
	}
	for i := 0; i < n; i++ {
		select {
		case code := <-e.closed:
			if code != "" {
				t.Fatalf("a client that left ended with bye %q", code)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d connections ended after their clients left", i, n)
		}
	}
	waitUntil(t, func() bool { return runtime.NumGoroutine() <= g0+runtime.GOMAXPROCS(0)+2 })
}

func TestServe_StalledViewer(t *testing.T) {
	t.Run("SharedWriters", func(t *testing.T) { testStalledViewer(t, "") })
	t.Run("OwnWriter", func(t *testing.T) { testStalledViewer(t, "&own=1") })
}

func testStalledViewer(t *testing.T, q string) {
	e := newEnv(t, realtime.Options{Tick: 20 * time.Millisecond, QueueLen: 16})
	stalled := e.dial(t, "sub=room:1&user=stalled"+q)
	healthy := e.dial(t, "sub=room:1&user=healthy"+q)
	waitFor(t, "two viewers", func() bool { return e.hub.Viewers("room:1") == 2 })

	const events = 300
	payload := strings.Repeat("x", 64<<10) // fills socket buffers quickly
	got := make(chan uint64, events)
	readErr := make(chan error, 1)
	go func() {
		for {
			f, err := healthy.read(30 * time.Second)
			if err != nil {
				readErr <- err
				return
			}
			if f.T == "ev" {
				got <- f.Seq
			}
		}
	}()
	// Publish at the pace of the healthy viewer: each event must reach it promptly
	// even while the stalled viewer's socket buffers and queue are full.
	start := time.Now()
	for i := 0; i < events; i++ {
		if _, err := e.hub.Publish("room:1", "stock.changed", map[string]any{"i": i, "pad": payload}); err != nil {
			t.Fatal(err)
		}
		e.hub.PublishComment("room:1", realtime.Comment{ID: fmt.Sprint(i), User: "x", Text: "hi"})
		select {
		case seq := <-got:
			if seq != uint64(i+1) {
				t.Fatalf("healthy viewer got seq %d, want %d", seq, i+1)
			}
		case err := <-readErr:
			t.Fatalf("healthy viewer: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatalf("healthy viewer stuck at event %d", i+1)
		}
	}
	if d := time.Since(start); d > 60*time.Second {
		t.Fatalf("delivering %d events took %v: the stalled viewer slowed the room", events, d)
	}
	waitFor(t, "stalled viewer to be dropped", func() bool { return e.hub.Viewers("room:1") == 1 })
	if n := e.hub.Stats().SlowConsumers; n != 1 {
		t.Fatalf("slow consumers = %d", n)
	}
	// The stalled client now reads what reached it: a gap-free prefix, then the end.
	last := uint64(0)
	for {
		f, err := stalled.read(30 * time.Second)
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) && ce.Code != websocket.StatusPolicyViolation {
				t.Fatalf("close code %v", ce.Code)
			}
			break
		}
		switch f.T {
		case "ev":
			if f.Seq != last+1 {
				t.Fatalf("stalled viewer got seq %d after %d", f.Seq, last)
			}
			last = f.Seq
		case "bye":
			if f.Code != realtime.CodeSlowConsumer {
				t.Fatalf("bye %+v", f)
			}
		}
	}
	if last >= events {
		t.Fatalf("stalled viewer received all %d events: the test did not stall it", last)
	}
}

func TestServe_HubShutdown(t *testing.T) {
	e := newEnv(t, realtime.Options{})
	c := e.dial(t, "sub=room:1&wait=1")
	c.next() // hello
	c.next() // snapshot
	waitFor(t, "viewer", func() bool { return e.hub.Viewers("room:1") == 1 })
	e.hub.Close()
	for {
		f, err := c.read(20 * time.Second)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusGoingAway {
				t.Fatalf("close: %v, want 1001", err)
			}
			if code := <-e.closed; code != realtime.CodeShutdown {
				t.Fatalf("OnClose code %q", code)
			}
			if ended := <-e.served; !ended {
				t.Fatal("Serve with Wait returned before the connection ended")
			}
			return
		}
		if f.T == "bye" && f.Code != realtime.CodeShutdown {
			t.Fatalf("bye %+v", f)
		}
	}
}

func TestServe_ContextShutdown(t *testing.T) {
	e := newEnv(t, realtime.Options{})
	c := e.dial(t, "sub=room:1")
	c.next()
	c.next()
	e.cancel()
	sawBye := false
	for {
		f, err := c.read(20 * time.Second)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusGoingAway || !sawBye {
				t.Fatalf("close: %v (bye seen: %v)", err, sawBye)
			}
			return
		}
		if f.T == "bye" {
			sawBye = f.Code == realtime.CodeShutdown
		}
	}
}

func TestServe_ReadLimit(t *testing.T) {
	e := newEnv(t, realtime.Options{})
	c := e.dial(t, "sub=room:1")
	c.next()
	// 3 KiB is within the 4 KiB limit.
	c.send(`{"t":"ping","pad":"` + strings.Repeat("x", 3<<10) + `"}`)
	for f := c.next(); f.T != "pong"; f = c.next() {
	}
	// 8 KiB is not: the server closes (1009; the client may see a reset instead
	// when the close races its own write).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.c.Write(ctx, websocket.MessageText, []byte(`{"t":"ping","pad":"`+strings.Repeat("x", 8<<10)+`"}`))
	for {
		_, err := c.read(20 * time.Second)
		if err != nil {
			if s := websocket.CloseStatus(err); s != -1 && s != websocket.StatusMessageTooBig {
				t.Fatalf("close: %v, want 1009", err)
			}
			break
		}
	}
	waitFor(t, "viewer to leave", func() bool { return e.hub.Viewers("room:1") == 0 })
}

func TestServe_BadRequest(t *testing.T) {
	e := newEnv(t, realtime.Options{})
	resp, err := http.Get(e.srv.URL + "/raw")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct {
		Code   string `json:"code"`
		Status int    `json:"status"`
	}
	json.NewDecoder(resp.Body).Decode(&p)
	if resp.StatusCode != 400 || p.Code != "invalid_subscription" || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %+v", resp.StatusCode, p)
	}
}

func TestParseResume(t *testing.T) {
	ok := map[string]struct {
		in   []string
		want []realtime.Resume
	}{
		"Plain":    {[]string{"room:12"}, []realtime.Resume{{Topic: "room:12"}}},
		"Position": {[]string{"room:12@abc12-3.42", "staff:3"}, []realtime.Resume{{Topic: "room:12", Epoch: "abc12-3", Seq: 42}, {Topic: "staff:3"}}},
		"Comma":    {[]string{"room:1,order:9@e1-1.0"}, []realtime.Resume{{Topic: "room:1"}, {Topic: "order:9", Epoch: "e1-1", Seq: 0}}},
	}
	for name, tc := range ok {
		t.Run(name, func(t *testing.T) {
			got, err := ws.ParseResume(tc.in)
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v %v, want %v", got, err, tc.want)
			}
		})
	}
	for name, in := range map[string][]string{
		"Empty":      nil,
		"Blank":      {""},
		"BadTopic":   {"room 1"},
		"NoSeq":      {"room:1@epoch"},
		"BadSeq":     {"room:1@e.x"},
		"BadEpoch":   {"room:1@E$.1"},
		"NoEpoch":    {"room:1@.1"},
		"Duplicate":  {"room:1", "room:1@e.2"},
		"TooMany":    {strings.Repeat("a,", 17) + "b"},
		"NegSeq":     {"room:1@e.-1"},
		"HugeSeq":    {"room:1@e.99999999999999999999999"},
		"EmptyTopic": {"@e.1"},
	} {
		t.Run("Err"+name, func(t *testing.T) {
			if got, err := ws.ParseResume(in); err == nil {
				t.Fatalf("accepted %q as %v", in, got)
			}
		})
	}
}

// Server pings keep a reading client alive and drop a peer that never answers.
func TestServe_Keepalive(t *testing.T) {
	e := newEnv(t, realtime.Options{})
	alive := e.dial(t, "sub=room:1&ping=1")
	// Read continuously (pings are answered inside Read) from the start.
	frames := make(chan frame, 100)
	errs := make(chan error, 1)
	go func() {
		for {
			f, err := alive.read(30 * time.Second)
			if err != nil {
				errs <- err
				return
			}
			frames <- f
		}
	}()
	dead, err := rawDial(e.srv.Listener.Addr().String(), "sub=room:2&ping=1", net.IPv4(127, 0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	waitFor(t, "silent peer to be dropped", func() bool { return e.hub.Viewers("room:2") == 0 })
	// Stay ~50 ping intervals.

	select {
	case err := <-errs:
		t.Fatalf("reading client dropped: %v", err)
	case <-time.After(time.Second):
	}
	e.hub.Publish("room:1", "card.pinned", 1)
	for got := false; !got; {
		select {
		case f := <-frames:
			got = f.T == "ev"
		case err := <-errs:
			t.Fatalf("reading client dropped: %v", err)
		}
	}
	if e.hub.Viewers("room:1") != 1 {
		t.Fatal("reading client not counted")
	}
}

// A client that sends its first message in the same packet as the handshake
// (bytes already buffered by net/http at hijack time) must not lose it.
func TestServe_PipelinedFirstMessage(t *testing.T) {
	e := newEnv(t, realtime.Options{})
	addr := e.srv.Listener.Addr().String()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ping := []byte(`{"t":"ping"}`)
	wire := []byte{0x81, 0x80 | byte(len(ping)), 1, 2, 3, 4}
	for i, b := range ping {
		wire = append(wire, b^[]byte{1, 2, 3, 4}[i%4])
	}
	req := "GET /ws?sub=room:1 HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := c.Write(append([]byte(req), wire...)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	var types []string
	readFrames(&bufConn{Conn: c, r: br}, func(p []byte) {
		var f frame
		json.Unmarshal(p, &f)
		types = append(types, f.T)
		if f.T == "pong" {
			c.Close()
		}
	})
	if len(types) < 3 || types[0] != "hello" || types[len(types)-1] != "pong" {
		t.Fatalf("frames %v, want hello … pong", types)
	}
}

type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
	}
}
