// Package ws is the WebSocket adapter of the room hub: it upgrades an HTTP request,
// subscribes the connection to the hub and streams the hub's frames to the socket.
//
// Per connection it runs one reader goroutine and nothing else: no ticker,
// no preallocated queue, no compression state. Frames are written by the
// shared writers (writers.go), a few goroutines for all connections, with
// non-blocking writes. The connection's own events (its end, the client
// gone, server shutdown, a write that would have blocked) start a short-lived
// goroutine that handles them (control), so an idle viewer parks no second
// goroutine. Options.OwnWriter (or Wait) gives the connection a goroutine of
// its own that writes every frame instead. Blocking writes have socket
// deadlines (no timer allocated per write), and liveness uses WebSocket ping
// control frames every PingInterval, which browsers answer without any page code.
package ws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/realtime"
)

// Options configures one connection. Only Topics is required.
type Options struct {
	// User is the viewer's stable user key ("" for anonymous guests).
	User string
	// Topics to stream, with resume positions (see ParseResume).
	Topics []realtime.Resume
	// Hidden connections (host console, monitors) are not counted as viewers.
	Hidden bool
	// Context, if set, is the server's lifetime: when it is done the connection
	// says bye "shutdown" and closes (hijacked connections are not closed by
	// http.Server.Shutdown, so pass the context you cancel on shutdown).
	Context context.Context
	// WriteTimeout bounds one write of queued frames; default 10s.
	WriteTimeout time.Duration
	// PingInterval is how often a WebSocket ping is sent; default 30s.
	PingInterval time.Duration
	// PongTimeout is how long to wait for the pong before dropping a dead peer; default 20s.
	PongTimeout time.Duration
	// ReadLimit bounds one client message in bytes; default 4096.
	ReadLimit int64
	// OriginPatterns are extra allowed Origin hosts (same-origin is always allowed),
	// as in websocket.AcceptOptions.
	OriginPatterns []string
	// Logger for connection errors; default slog.Default().
	Logger *slog.Logger
	// Wait makes Serve block until the connection has ended. By default Serve returns
	// as soon as the WebSocket is established and streaming runs on the connection's
	// reader goroutine and the shared writers: the handler goroutine, its grown stack
	// and net/http's per-request buffers (~12 KiB) are then freed. Wait gives the
	// connection a goroutine of its own for as long as it lasts (~4 KiB more).
	Wait bool
	// OnOpen, if set, is called once the WebSocket is established (analytics
	// count a viewer session from here; a refused upgrade is no session).
	OnOpen func()
	// OnClose, if set, is called once when the connection has ended (after the
	// subscription left the hub), with the bye code ("" when the client left).
	OnClose func(code string)
	// OwnWriter makes the connection write every frame from its own goroutine
	// instead of through the shared writers (writers.go); for comparisons.
	OwnWriter bool
}

func (o *Options) defaults() {
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = 20 * time.Second
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 4096
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// MaxTopics is the most topics one connection may stream.
const MaxTopics = 16

// ParseResume parses the query parameter form the page sends, e.g.
// ?sub=room:12@epoch.seq&sub=staff:3 ; topics without a position get a snapshot.
// A value may also hold several comma-separated entries.
func ParseResume(values []string) ([]realtime.Resume, error) {
	var out []realtime.Resume
	seen := map[string]bool{}
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			var r realtime.Resume
			topic, pos, hasPos := strings.Cut(item, "@")
			r.Topic = topic
			if !realtime.ValidTopic(topic) {
				return nil, fmt.Errorf("parse resume %q: invalid topic", item)
			}
			if hasPos {
				dot := strings.LastIndexByte(pos, '.')
				if dot <= 0 || !realtime.ValidEpoch(pos[:dot]) {
					return nil, fmt.Errorf("parse resume %q: want topic@epoch.seq", item)
				}
				seq, err := strconv.ParseUint(pos[dot+1:], 10, 64)
				if err != nil {
					return nil, fmt.Errorf("parse resume %q: bad seq: %w", item, err)
				}
				r.Epoch, r.Seq = pos[:dot], seq
			}
			if seen[topic] {
				return nil, fmt.Errorf("parse resume %q: duplicate topic", item)
			}
			seen[topic] = true
			out = append(out, r)
			if len(out) > MaxTopics {
				return nil, fmt.Errorf("parse resume: more than %d topics", MaxTopics)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("parse resume: no topics")
	}
	return out, nil
}

// conn is one live connection. Kept small: it lives as long as the viewer watches.
type conn struct {
	ws           *websocket.Conn
	nc           atomic.Pointer[net.Conn]
	sub          *realtime.Subscription
	writeTimeout time.Duration
	pingInterval time.Duration
	pongTimeout  time.Duration
	readDone     chan struct{}
	readClosed   atomic.Bool
	shutdown     context.Context // server lifetime (opts.Context), may be nil
	stopShutdown func() bool
	onClose      func(code string)
	cork         *corkConn
	deadline     time.Time // current write deadline (writer goroutine only)
	stopped      atomic.Bool
	pingMu       sync.Mutex
	ping         *time.Timer

	// Shared writers (writers.go): frames are written by the pool, and this
	// connection's control goroutine (or its own, under Wait) only finishes
	// writes that would have blocked and ends the connection.
	shared bool
	wmu    sync.Mutex   // one writer at a time: a shared writer or the connection's goroutine
	wstate atomic.Int32 // on a writer list
	slow   atomic.Bool  // a shared write left bytes in cork.pending for the connection's goroutine

	// The control goroutine (shared writers without Wait): ctl is set while
	// one runs (and for good once the connection is over); again asks it to
	// look once more.
	ctl, again atomic.Bool
}

// Serve upgrades the request to a WebSocket and streams frames of the given topics until the client goes away,
// the server shuts down (ctx / hub.Close) or the connection is too slow. Authorization was done by the caller.
//
// Before the upgrade it answers 400 (bad topics), 503 (hub closed) or 500 (snapshot failed) as
// application/problem+json with a stable "code". After a successful upgrade it returns at
// once unless opts.Wait is set (see Options.Wait); use opts.OnClose to learn when it ended.
// Do not touch w or r after Serve returns.
func Serve(w http.ResponseWriter, r *http.Request, hub realtime.Hub, opts Options) {
	opts.defaults()
	if len(opts.Topics) == 0 || len(opts.Topics) > MaxTopics {
		refuseSubscription(w)
		return
	}
	c := &conn{
		writeTimeout: opts.WriteTimeout,
		pingInterval: opts.PingInterval,
		pongTimeout:  opts.PongTimeout,
		readDone:     make(chan struct{}),
	}
	sub, err := hub.Subscribe(realtime.SubscribeOptions{
		User:   opts.User,
		Topics: opts.Topics,
		Hidden: opts.Hidden,
		OnEnd:  c.onEnd,
	})
	switch {
	case errors.Is(err, realtime.ErrClosed):
		problem(w, http.StatusServiceUnavailable, "shutting_down", "服务器正在重启 / server shutting down")
		return
	case errors.Is(err, realtime.ErrInvalidTopic), errors.Is(err, realtime.ErrTooManyTopic), errors.Is(err, realtime.ErrNoTopics):
		refuseSubscription(w)
		return
	case err != nil:
		opts.Logger.Error("ws: subscribe", "err", err)
		problem(w, http.StatusInternalServerError, apperr.ErrInternal.Code, "内部错误 / Internal error.")
		return
	}
	c.sub = sub
	c.onClose = opts.OnClose

	hw := &hijackCapture{ResponseWriter: w, c: c}
	wc, err := websocket.Accept(hw, r, &websocket.AcceptOptions{
		CompressionMode: websocket.CompressionDisabled, // per-connection deflate state costs ~tens of KiB
		OriginPatterns:  opts.OriginPatterns,
	})
	if err != nil {
		sub.Close()
		return // Accept has answered the request
	}
	c.ws = wc
	c.shared = !opts.OwnWriter && rawWrites && c.cork != nil && c.cork.raw
	wc.SetReadLimit(opts.ReadLimit)
	if opts.OnOpen != nil {
		opts.OnOpen()
	}

	// Everything that concerns the writer (frames, end, client gone, shutdown)
	// arrives as a nudge on the subscription's one Ready channel, so the writer
	// blocks on a single channel instead of a four-way select per frame.
	if ctx := opts.Context; ctx != nil {
		c.shutdown = ctx
		c.stopShutdown = context.AfterFunc(ctx, c.sub.Wake)
	}
	go c.readLoop()
	c.pingMu.Lock()
	c.ping = time.AfterFunc(c.pingInterval, c.keepalive)
	c.pingMu.Unlock()
	switch {
	case opts.Wait:
		c.run()
	case c.shared:
		c.serveShared()
	default:
		go c.run()
	}
}

// serveShared says hello, hands c to the shared writers and returns, leaving
// no goroutine of c's own waiting: one parked per viewer would be ~4 KiB of
// stack each. c's own events call Wake, which starts control (kick).
func (c *conn) serveShared() {
	c.ctl.Store(true) // this goroutine is c's control until its first look below
	if !c.hello() {
		c.finish()
		return
	}
	c.sub.SetWake(c.kick)
	c.sub.SetNotify(func(urgent bool) { writers().schedule(c, urgent) })
	writers().schedule(c, true) // what was queued before
	c.control()                 // what happened before SetWake
}

// kick makes sure a control goroutine looks at c's state (Subscription.Wake
// calls it, sometimes under the subscription's lock: it never blocks).
func (c *conn) kick() {
	c.again.Store(true)
	if c.ctl.CompareAndSwap(false, true) {
		go c.control()
	}
}

// control handles c's events until there is nothing left to do, then
// returns; when the connection is over it cleans up and leaves ctl set, so
// that no later kick starts another.
func (c *conn) control() {
	for {
		c.again.Store(false)
		if c.step() {
			c.finish()
			return
		}
		c.ctl.Store(false)
		// A kick that came while we looked found ctl set and left it to us.
		if !c.again.Load() || !c.ctl.CompareAndSwap(false, true) {
			return
		}
	}
}

// run is the connection's own writer (OwnWriter or Wait): it streams until
// the end, then cleans up.
func (c *conn) run() {
	defer c.finish()
	c.writeLoop()
}

// finish cleans up once the connection is over.
func (c *conn) finish() {
	if c.stopShutdown != nil {
		c.stopShutdown()
	}
	c.stop()
	c.sub.Close()
	if c.onClose != nil {
		code, _ := c.sub.Ended()
		c.onClose(code)
	}
}

// hello sends the hello frame; false (and the connection closed) if it failed.
func (c *conn) hello() bool {
	c.wmu.Lock()
	err := c.write([][]byte{realtime.HelloFrame(c.sub.Epoch(), time.Now())})
	c.wmu.Unlock()
	if err != nil {
		c.ws.CloseNow()
		return false
	}
	return true
}

// step handles what ends a connection and finishes a write the shared
// writers left (blocking, under the write deadline); true when the
// connection is over.
func (c *conn) step() (over bool) {
	for {
		switch {
		case c.sub.IsEnded(): // an ended subscription wins over queued frames
			c.wmu.Lock()
			c.end()
			c.wmu.Unlock()
		case c.readClosed.Load():
			c.ws.CloseNow() // the client closed or broke the connection
		case c.shutdown != nil && c.shutdown.Err() != nil:
			c.wmu.Lock()
			c.flushAndBye(realtime.CodeShutdown, realtime.ReasonShutdown)
			c.wmu.Unlock()
		case c.slow.Load():
			if err := c.finishSlow(); err != nil {
				c.ws.CloseNow()
				return true
			}
			continue
		default:
			return false
		}
		return true
	}
}

// writeLoop sends hello, then drains the subscription queue until the end
// (with shared writers, under Wait: hands the connection to them and waits
// for its events).
func (c *conn) writeLoop() {
	if !c.hello() {
		return
	}
	if c.shared {
		c.sub.SetNotify(func(urgent bool) { writers().schedule(c, urgent) })
		writers().schedule(c, true) // what was queued before
	}
	var frames [][]byte
	for !c.step() {
		if c.shared {
			<-c.sub.Ready()
			continue
		}
		frames = c.sub.Frames(frames[:0])
		if len(frames) > 0 {
			err := c.write(frames)
			if err == nil {
				c.sub.Delivered()
			}
			clear(frames)
			if cap(frames) > 64 {
				frames = nil
			}
			if err != nil {
				c.ws.CloseNow()
				return
			}
			continue // more may have been queued meanwhile
		}
		<-c.sub.Ready()
	}
}

// flushShared is a shared writer's turn at c: everything queued, framed into
// the writer's buf, in one non-blocking write. What the socket did not take
// stays in cork.pending and c's control goroutine writes it (with a deadline);
// until then c is skipped.
func (c *conn) flushShared(buf []byte) []byte {
	if c.slow.Load() || !c.wmu.TryLock() {
		// Another writer has c: it looks again when done (below), as does
		// c's control after a slow write.
		return buf
	}
	buf, n := c.sub.AppendFrames(buf[:0], appendFrameHeader)
	if n == 0 {
		c.wmu.Unlock()
		return buf
	}
	complete, err := c.cork.writeShared(buf)
	if cap(buf) > 64<<10 {
		buf = nil // let a burst's buffer go
	}
	switch {
	case err != nil:
		c.wmu.Unlock()
		c.ws.CloseNow()
		return buf
	case !complete:
		c.sub.Delivered()
		c.slow.Store(true)
		c.wmu.Unlock()
		c.sub.Wake()
		return buf
	}
	more := c.sub.Delivered()
	c.wmu.Unlock()
	if more { // queued while we wrote; a writer that found c busy left it to us
		writers().schedule(c, true)
	}
	return buf
}

// finishSlow writes what a shared write left, blocking under the write
// deadline, then hands c back to the shared writers.
func (c *conn) finishSlow() error {
	c.wmu.Lock()
	c.armDeadline()
	err := c.cork.flushPending()
	c.wmu.Unlock()
	if err != nil {
		return err
	}
	c.slow.Store(false)
	writers().schedule(c, true)
	return nil
}

// armDeadline refreshes the write deadline when less than half of it is left.
func (c *conn) armDeadline() {
	if nc := c.netConn(); nc != nil {
		now := time.Now()
		if c.deadline.Sub(now) < c.writeTimeout/2 {
			c.deadline = now.Add(c.writeTimeout)
			nc.SetWriteDeadline(c.deadline)
		}
	}
}

// write sends frames as one socket write (see corkConn.writeText), refreshing the
// write deadline only when less than half of it is left: a deadline change is a
// runtime timer update, too costly to do twice per frame for 10,000 viewers.
func (c *conn) write(frames [][]byte) error {
	c.armDeadline()
	return c.send(frames)
}

// send writes frames under whatever deadline is set.
func (c *conn) send(frames [][]byte) error {
	if c.cork != nil {
		return c.cork.writeText(frames)
	}
	for _, f := range frames {
		if err := c.ws.Write(context.Background(), websocket.MessageText, f); err != nil {
			return err
		}
	}
	return nil
}

// end handles a subscription the hub ended (or that Close ended after the client left).
func (c *conn) end() {
	code, reason := c.sub.Ended()
	switch code {
	case realtime.CodeShutdown:
		c.flushAndBye(code, reason)
	case "":
		c.ws.CloseNow()
	default:
		c.bye(code, reason)
	}
}

// flushAndBye writes what is still queued (best effort), then bye.
func (c *conn) flushAndBye(code, reason string) {
	if frames := c.sub.Frames(nil); len(frames) > 0 {
		if err := c.write(frames); err != nil {
			c.ws.CloseNow()
			return
		}
	}
	c.bye(code, reason)
}

// bye sends the bye frame and a close frame, giving the peer a short time to take them.
func (c *conn) bye(code, reason string) {
	if nc := c.netConn(); nc != nil {
		c.deadline = time.Now().Add(2 * time.Second)
		nc.SetWriteDeadline(c.deadline)
	}
	if err := c.send([][]byte{realtime.ByeFrame(code, reason)}); err != nil {
		c.ws.CloseNow()
		return
	}
	c.ws.Close(closeStatus(code), code)
}

// closeStatus maps bye codes to WebSocket close codes.
func closeStatus(code string) websocket.StatusCode {
	switch code {
	case realtime.CodeShutdown:
		return websocket.StatusGoingAway // 1001
	case realtime.CodeResync:
		return websocket.StatusServiceRestart // 1012
	case realtime.CodeInternal:
		return websocket.StatusInternalError // 1011
	default:
		return websocket.StatusPolicyViolation // 1008: slow_consumer, timeout
	}
}

// onEnd runs on the hub goroutine when the hub ends the subscription. For a slow
// consumer it cuts a blocked write short (after a grace period, so a write that is
// merely slow can finish and the bye frame can follow). The writer re-arms its own
// deadline afterwards only for the bye frame.
func (c *conn) onEnd(code string) {
	if code != realtime.CodeSlowConsumer {
		return
	}
	if nc := c.netConn(); nc != nil {
		nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
	}
}

// readLoop reads client messages: {"t":"ping"} gets a pong, anything else is ignored.
func (c *conn) readLoop() {
	defer func() {
		c.readClosed.Store(true)
		close(c.readDone)
		c.sub.Wake()
	}()
	for {
		typ, b, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		if typ == websocket.MessageText && isPing(b) {
			c.sub.Send(realtime.PongFrame(time.Now()))
		}
	}
}

func isPing(b []byte) bool {
	var m struct {
		T string `json:"t"`
	}
	return json.Unmarshal(b, &m) == nil && m.T == "ping"
}

// keepalive pings the peer; a peer that does not answer is dropped, which ends the
// reader and then the writer. It runs in the timer's goroutine, only for the ping.
func (c *conn) keepalive() {
	if c.stopped.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.pongTimeout)
	if nc := c.netConn(); nc != nil {
		// The writer only moves the deadline when it writes; an idle
		// connection's deadline may have passed.
		nc.SetWriteDeadline(time.Now().Add(c.pongTimeout))
	}
	err := c.ws.Ping(ctx)
	cancel()
	if err != nil {
		c.ws.CloseNow()
		return
	}
	c.pingMu.Lock()
	if !c.stopped.Load() {
		c.ping.Reset(c.pingInterval)
	}
	c.pingMu.Unlock()
}

func (c *conn) stop() {
	c.stopped.Store(true)
	c.pingMu.Lock()
	c.ping.Stop()
	c.pingMu.Unlock()
	c.ws.CloseNow()
	<-c.readDone
}

func (c *conn) netConn() net.Conn {
	if p := c.nc.Load(); p != nil {
		return *p
	}
	return nil
}

// ErrInvalidSubscription is the answer to a bad or too long list of topics,
// from Serve and from the web handler's own checks before it (docs/PROTOCOL.md).
var ErrInvalidSubscription = apperr.New(apperr.Invalid, "invalid_subscription", "订阅参数无效", "Invalid sub parameter.")

// refuseSubscription answers a bad or too long list of topics.
func refuseSubscription(w http.ResponseWriter) {
	e := ErrInvalidSubscription
	problem(w, http.StatusBadRequest, e.Code, e.Message+" / "+e.English)
}

func problem(w http.ResponseWriter, status int, code, title string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"type":   "about:blank",
		"title":  title,
		"status": status,
		"code":   code,
	})
}
