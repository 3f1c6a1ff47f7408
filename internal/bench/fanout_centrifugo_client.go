package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Centrifugo viewers: raw RFC 6455 over TCP, one goroutine per connection, and
// byte scanning instead of JSON decoding, so that the client costs as little of
// the two shared cores as it can (coder/websocket would allocate per message).
// Protocol: Centrifugo's JSON client protocol (v2): newline-separated commands and
// replies, `{"id":1,"connect":{"token":…}}`, `{"id":2,"subscribe":{"channel":…}}`,
// publications arrive as `{"push":{"channel":…,"pub":{"data":…}}}`, and the
// server's ping `{}` must be answered with `{}`.

type centrifugoPoolConfig struct {
	WSURL         string // ws://host:port/connection/websocket
	Channel       string
	Secret        string // HMAC secret for connection JWTs
	Viewers       int
	SourceIPs     int
	Concurrency   int
	CommentSample int
}

type centrifugoPool struct {
	cfg    centrifugoPoolConfig
	host   string
	path   string
	srcIPs []net.IP

	viewers    []*centrifugoViewer
	frames     atomic.Uint64
	comments   atomic.Uint64
	likes      atomic.Uint64
	events     atomic.Uint64
	connected  atomic.Int64
	reconnects atomic.Uint64
	slowCloses atomic.Uint64
	dialErrors atomic.Uint64
	commentLat *fanoutHist

	stop chan struct{}
	mu   sync.Mutex
	conn map[net.Conn]bool
	wg   sync.WaitGroup
}

type centrifugoViewer struct {
	p      *centrifugoPool
	n      int
	sample bool

	mu      sync.Mutex
	arrival []int64 // arrival[k] = Unix ns when commerce event k arrived
}

func newCentrifugoPool(cfg centrifugoPoolConfig) *centrifugoPool {
	u, _ := url.Parse(cfg.WSURL)
	p := &centrifugoPool{cfg: cfg, commentLat: newFanoutHist(), stop: make(chan struct{}), conn: map[net.Conn]bool{}}
	if u != nil {
		p.host, p.path = u.Host, u.RequestURI()
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
			for i := 0; i < max(1, cfg.SourceIPs); i++ {
				p.srcIPs = append(p.srcIPs, net.IPv4(127, 0, 0, byte(1+i)))
			}
		}
	}
	for i := 0; i < cfg.Viewers; i++ {
		p.viewers = append(p.viewers, &centrifugoViewer{p: p, n: i, sample: cfg.CommentSample > 0 && i%cfg.CommentSample == 0})
	}
	return p
}

func (p *centrifugoPool) stopped() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// connectAll connects and subscribes every viewer (bounded concurrency).
func (p *centrifugoPool) connectAll(ctx context.Context) error {
	if p.host == "" {
		return fmt.Errorf("fanout: bad ws url %q", p.cfg.WSURL)
	}
	sem := make(chan struct{}, max(1, p.cfg.Concurrency))
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for _, v := range p.viewers {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			for try := 0; try < 5; try++ {
				var c net.Conn
				var rest []byte
				if c, rest, err = v.dial(ctx); err == nil {
					<-sem
					p.start(v, c, rest)
					return
				}
				p.dialErrors.Add(1)
				time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
			}
			<-sem
			firstErr.CompareAndSwap(nil, err)
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return fmt.Errorf("fanout: connect centrifugo viewers: %w", err)
	}
	return nil
}

func (p *centrifugoPool) close() {
	p.mu.Lock()
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	for c := range p.conn {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// start reads c until it ends, then reconnects the viewer (a real page would),
// without recovery: a generic channel without history has nothing to replay.
func (p *centrifugoPool) start(v *centrifugoViewer, c net.Conn, rest []byte) {
	p.mu.Lock()
	if p.stopped() {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.conn[c] = true
	p.wg.Add(1)
	p.mu.Unlock()
	p.connected.Add(1)
	go func() {
		defer p.wg.Done()
		code := v.read(c, rest)
		c.Close()
		p.mu.Lock()
		delete(p.conn, c)
		p.mu.Unlock()
		p.connected.Add(-1)
		if code == 3008 { // DisconnectSlow
			p.slowCloses.Add(1)
		}
		for !p.stopped() {
			p.reconnects.Add(1)
			c, rest, err := v.dial(context.Background())
			if err == nil {
				p.start(v, c, rest)
				return
			}
			p.dialErrors.Add(1)
			time.Sleep(200 * time.Millisecond)
		}
	}()
}

// dial opens the WebSocket, connects with a JWT and subscribes to the channel. It
// returns bytes already read after the subscribe reply.
func (v *centrifugoViewer) dial(ctx context.Context) (net.Conn, []byte, error) {
	p := v.p
	d := net.Dialer{Timeout: 10 * time.Second}
	if len(p.srcIPs) > 0 {
		d.LocalAddr = &net.TCPAddr{IP: p.srcIPs[v.n%len(p.srcIPs)]}
	}
	c, err := d.DialContext(ctx, "tcp", p.host)
	if err != nil {
		return nil, nil, err
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	buf, err := centrifugoHandshake(c, p.host, p.path)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	user := "bench" + strconv.Itoa(v.n)
	cmds := centrifugoCommands(centrifugoJWT(p.cfg.Secret, user, 2*time.Hour), p.cfg.Channel)
	if _, err := c.Write(centrifugoClientFrame(cmds)); err != nil {
		c.Close()
		return nil, nil, err
	}
	// Wait for both replies; publications may already follow the subscribe reply.
	var connected, subscribed bool
	var msg []byte
	for !subscribed {
		var m []byte
		var code int
		for {
			var ok bool
			m, buf, code, ok = centrifugoNextMessage(buf, &msg)
			if ok || code != 0 {
				break
			}
			var tmp [4096]byte
			n, err := c.Read(tmp[:])
			if err != nil {
				c.Close()
				return nil, nil, fmt.Errorf("centrifugo connect: %w", err)
			}
			buf = append(buf, tmp[:n]...)
		}
		if code != 0 {
			c.Close()
			return nil, nil, fmt.Errorf("centrifugo connect: closed with code %d", code)
		}
		for _, line := range bytes.Split(m, []byte("\n")) {
			switch {
			case bytes.Contains(line, []byte(`"error":`)):
				c.Close()
				return nil, nil, fmt.Errorf("centrifugo connect: %s", line)
			case bytes.HasPrefix(line, []byte(`{"id":1,"connect":`)):
				connected = true
			case bytes.HasPrefix(line, []byte(`{"id":2,"subscribe":`)):
				subscribed = connected
			case len(line) > 0:
				v.handle(c, line, time.Now())
			}
		}
	}
	c.SetDeadline(time.Time{})
	return c, buf, nil
}

// centrifugoCommands is the first client frame: connect, then subscribe, as two
// newline-separated JSON commands (processed in order).
func centrifugoCommands(token, channel string) []byte {
	b := []byte(`{"id":1,"connect":{"token":`)
	b = strconv.AppendQuote(b, token)
	b = append(b, `,"name":"shelflive-bench"}}`+"\n"+`{"id":2,"subscribe":{"channel":`...)
	b = strconv.AppendQuote(b, channel)
	return append(b, `}}`...)
}

// centrifugoHandshake performs the HTTP upgrade and returns bytes after the head.
func centrifugoHandshake(c net.Conn, host, path string) ([]byte, error) {
	var key [16]byte
	rand.Read(key[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return nil, err
	}
	var head []byte
	var b [1024]byte
	for !bytes.Contains(head, []byte("\r\n\r\n")) {
		n, err := c.Read(b[:])
		if err != nil {
			return nil, fmt.Errorf("handshake: %w", err)
		}
		head = append(head, b[:n]...)
		if len(head) > 16<<10 {
			return nil, errors.New("handshake: response head too long")
		}
	}
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101")) {
		line, _, _ := bytes.Cut(head, []byte("\r\n"))
		return nil, fmt.Errorf("handshake: %s", line)
	}
	i := bytes.Index(head, []byte("\r\n\r\n")) + 4
	return append([]byte(nil), head[i:]...), nil
}

// centrifugoClientFrame is one masked text frame of any length.
func centrifugoClientFrame(p []byte) []byte {
	b := make([]byte, 0, 14+len(p))
	b = append(b, 0x81)
	switch {
	case len(p) <= 125:
		b = append(b, 0x80|byte(len(p)))
	case len(p) <= 0xffff:
		b = append(b, 0x80|126, byte(len(p)>>8), byte(len(p)))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(len(p)))
	}
	var mask [4]byte
	rand.Read(mask[:])
	b = append(b, mask[:]...)
	for i, x := range p {
		b = append(b, x^mask[i%4])
	}
	return b
}

// centrifugoNextMessage takes one complete data message off buf (assembling
// fragments in *frag). ok is false when more bytes are needed; code is set (≠0)
// when the server sent a close frame (its status code, or 1005 without one).
func centrifugoNextMessage(buf []byte, frag *[]byte) (msg, rest []byte, code int, ok bool) {
	for {
		if len(buf) < 2 {
			return nil, buf, 0, false
		}
		fin, op := buf[0]&0x80 != 0, buf[0]&0x0f
		n, h := uint64(buf[1]&0x7f), 2
		switch n {
		case 126:
			if len(buf) < 4 {
				return nil, buf, 0, false
			}
			n, h = uint64(binary.BigEndian.Uint16(buf[2:4])), 4
		case 127:
			if len(buf) < 10 {
				return nil, buf, 0, false
			}
			n, h = binary.BigEndian.Uint64(buf[2:10]), 10
		}
		if n > 64<<20 {
			return nil, buf, 1009, false
		}
		if uint64(len(buf)) < uint64(h)+n {
			return nil, buf, 0, false
		}
		payload, next := buf[h:h+int(n)], buf[h+int(n):]
		switch op {
		case 0x8:
			if len(payload) >= 2 {
				return nil, next, int(binary.BigEndian.Uint16(payload)), false
			}
			return nil, next, 1005, false
		case 0x9, 0xA: // pings from the transport are not used by Centrifugo; ignore
			buf = next
			continue
		}
		if fin && len(*frag) == 0 {
			return payload, next, 0, true
		}
		*frag = append(*frag, payload...)
		buf = next
		if fin {
			m := *frag
			*frag = nil
			return m, buf, 0, true
		}
	}
}

// read handles messages until the connection ends and returns the close code.
func (v *centrifugoViewer) read(c net.Conn, buf []byte) int {
	var frag []byte
	rb := make([]byte, 0, max(4096, len(buf)))
	rb = append(rb, buf...)
	for {
		data := rb
		for {
			m, rest, code, ok := centrifugoNextMessage(data, &frag)
			if code != 0 {
				return code
			}
			if !ok {
				rb = rb[:copy(rb[:cap(rb)], rest)]
				break
			}
			now := time.Now()
			v.p.frames.Add(1)
			for len(m) > 0 {
				line, tail, _ := bytes.Cut(m, []byte("\n"))
				v.handle(c, line, now)
				m = tail
			}
			data = rest
		}
		if len(rb) == cap(rb) {
			rb = append(rb, 0)[:len(rb)]
		}
		n, err := c.Read(rb[len(rb):cap(rb)])
		rb = rb[:len(rb)+n]
		if err != nil && n == 0 {
			return 0
		}
	}
}

var (
	cfPush     = []byte(`{"push":`)
	cfData     = []byte(`"data":{"t":"`)
	cfText     = []byte(`"text":"bench `)
	cfBenchK   = []byte(`"bench_k":`)
	cfPing     = []byte(`{}`)
	cfPongWire = centrifugoClientFrame([]byte(`{}`))
)

// handle processes one protocol message (one line).
func (v *centrifugoViewer) handle(c net.Conn, m []byte, now time.Time) {
	p := v.p
	if bytes.Equal(m, cfPing) {
		c.SetWriteDeadline(now.Add(5 * time.Second))
		c.Write(cfPongWire)
		return
	}
	if !bytes.HasPrefix(m, cfPush) {
		return
	}
	i := bytes.Index(m, cfData)
	if i < 0 || i+len(cfData) >= len(m) {
		return
	}
	switch m[i+len(cfData)] {
	case 'l':
		p.likes.Add(1)
	case 'c':
		p.comments.Add(1)
		if v.sample {
			if ns, ok := fanoutIntAfter(m, cfText); ok && ns > 0 {
				p.commentLat.add(now.Sub(time.Unix(0, ns)))
			}
		}
	case 'e':
		p.events.Add(1)
		k, ok := fanoutIntAfter(m, cfBenchK)
		if !ok || k < 0 || k >= 1<<20 {
			return
		}
		v.mu.Lock()
		for int(k) >= len(v.arrival) {
			v.arrival = append(v.arrival, 0)
		}
		if v.arrival[k] == 0 {
			v.arrival[k] = now.UnixNano()
		}
		v.mu.Unlock()
	}
}

// pinLatencies adds each viewer's commerce-event latency to h and counts the
// (viewer, event) deliveries that never arrived.
func (p *centrifugoPool) pinLatencies(sent []int64, h *fanoutHist) (received, lost uint64) {
	for _, v := range p.viewers {
		v.mu.Lock()
		for k, ts := range sent {
			if k < len(v.arrival) && v.arrival[k] != 0 {
				h.add(time.Duration(v.arrival[k] - ts))
				received++
			} else {
				lost++
			}
		}
		v.mu.Unlock()
	}
	return received, lost
}

func (p *centrifugoPool) pinsComplete(n int) bool {
	for _, v := range p.viewers {
		v.mu.Lock()
		got := 0
		for k := 0; k < n && k < len(v.arrival); k++ {
			if v.arrival[k] != 0 {
				got++
			}
		}
		v.mu.Unlock()
		if got < n {
			return false
		}
	}
	return true
}
