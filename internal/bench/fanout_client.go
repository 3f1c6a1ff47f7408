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
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The load tool's viewers speak RFC 6455 directly over TCP instead of using a
// general WebSocket client: 10,000 of them share two cores with the server, so
// each must cost one goroutine, one small buffer and a few hundred nanoseconds
// of parsing per frame, or the tool would measure itself.

// fanoutViewerConfig is what a viewer pool needs; it also travels to child processes.
type fanoutViewerConfig struct {
	WSURL         string `json:"ws_url"` // ws://host:port/api/v1/ws?sub=room:1
	Topic         string `json:"topic"`  // room:1
	Viewers       int    `json:"viewers"`
	Offset        int    `json:"offset"` // first viewer number (for user keys)
	SourceIPs     int    `json:"source_ips"`
	Concurrency   int    `json:"concurrency"`
	EventType     string `json:"event_type"`
	CommentSample int    `json:"comment_sample"` // every Nth viewer measures comment latency
	Header        string `json:"header"`         // extra request header lines (e.g. Authorization)
	CPUProfile    string `json:"cpu_profile"`
}

// fanoutPool runs and measures many viewers.
type fanoutPool struct {
	cfg     fanoutViewerConfig
	host    string // host:port to dial
	path    string // request path and query without the sub parameter
	srcIPs  []net.IP
	viewers []*fanoutViewer

	frames      atomic.Uint64
	batches     atomic.Uint64
	comments    atomic.Uint64 // comments received in batch/own frames
	events      atomic.Uint64 // ev frames received
	reconnects  atomic.Uint64
	slowByes    atomic.Uint64
	otherByes   atomic.Uint64
	connected   atomic.Int64
	dialErrors  atomic.Uint64
	commentLat  *fanoutHist
	lastDialErr atomic.Value

	typeNeedle []byte // `"type":"card.pinned"`

	poller  fanoutPoller
	stop    chan struct{}
	redials sync.WaitGroup
}

type fanoutViewer struct {
	p       *fanoutPool
	n       int
	sample  bool
	epoch   string
	seq     uint64
	mu      sync.Mutex // arrival is read by the coordinator at the end
	arrival []int64    // arrival[k] = Unix ns when commerce event k arrived; 0 = not yet
	byOrder int        // pin events seen without a bench_k (remote servers): matched by order

	// Owned by whoever reads the connection (one poller goroutine at a time).
	pend []byte // bytes of an incomplete frame
	msg  []byte // a fragmented message being assembled
	fd   int    // epoll poller: the socket
}

func newFanoutPool(cfg fanoutViewerConfig) (*fanoutPool, error) {
	u, err := url.Parse(cfg.WSURL)
	if err != nil {
		return nil, fmt.Errorf("fanout: ws url: %w", err)
	}
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("fanout: ws url %q: only ws:// is supported", cfg.WSURL)
	}
	q := u.Query()
	q.Del("sub")
	path := u.Path
	if enc := q.Encode(); enc != "" {
		path += "?" + enc + "&"
	} else {
		path += "?"
	}
	p := &fanoutPool{cfg: cfg, host: u.Host, path: path, commentLat: newFanoutHist(), stop: make(chan struct{}),
		typeNeedle: []byte(`"type":"` + cfg.EventType + `"`)}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() || u.Hostname() == "localhost" {
		// Spread sources over 127.0.0.1..N: each source address has its own
		// ephemeral port range, so 10,000+ connections never run out of ports.
		for i := 0; i < max(1, cfg.SourceIPs); i++ {
			p.srcIPs = append(p.srcIPs, net.IPv4(127, 0, 0, byte(1+i)))
		}
	}
	for i := 0; i < cfg.Viewers; i++ {
		n := cfg.Offset + i
		p.viewers = append(p.viewers, &fanoutViewer{p: p, n: n, sample: cfg.CommentSample > 0 && n%cfg.CommentSample == 0})
	}
	return p, nil
}

// connectAll opens every viewer (bounded concurrency) and returns once all are
// connected or ctx ends. Viewers then read until the pool closes.
func (p *fanoutPool) connectAll(ctx context.Context) error {
	poller, err := newFanoutPoller(p)
	if err != nil {
		return err
	}
	p.poller = poller
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
			var c net.Conn
			var err error
			for try := 0; try < 5; try++ {
				if c, err = v.dial(ctx); err == nil {
					break
				}
				p.dialErrors.Add(1)
				time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
			}
			<-sem
			if err == nil {
				err = p.poller.attach(v, c)
			}
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			p.connected.Add(1)
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return fmt.Errorf("fanout: connect viewers: %w", err)
	}
	return nil
}

// close ends every viewer.
func (p *fanoutPool) close() {
	close(p.stop)
	if p.poller != nil {
		p.poller.close()
	}
	p.redials.Wait()
}

func (p *fanoutPool) stopped() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// dial opens the TCP connection and performs the WebSocket handshake, resuming
// from the viewer's last position if it has one.
func (v *fanoutViewer) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	if len(v.p.srcIPs) > 0 {
		d.LocalAddr = &net.TCPAddr{IP: v.p.srcIPs[v.n%len(v.p.srcIPs)]}
	}
	c, err := d.DialContext(ctx, "tcp", v.p.host)
	if err != nil {
		return nil, err
	}
	sub := v.p.cfg.Topic
	if v.epoch != "" {
		sub += "@" + v.epoch + "." + strconv.FormatUint(v.seq, 10)
	}
	var key [16]byte
	rand.Read(key[:])
	req := "GET " + v.p.path + "sub=" + url.QueryEscape(sub) + "&u=bench" + strconv.Itoa(v.n) + " HTTP/1.1\r\n" +
		"Host: " + v.p.host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\n" +
		v.p.cfg.Header + "\r\n"
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	// Read the response head byte by byte-ish without a long-lived buffer: the
	// server sends nothing after the 101 head until we are in run().
	var head []byte
	var b [256]byte
	for !bytes.Contains(head, []byte("\r\n\r\n")) {
		n, err := c.Read(b[:])
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("handshake: %w", err)
		}
		head = append(head, b[:n]...)
		if len(head) > 16<<10 {
			c.Close()
			return nil, errors.New("handshake: response head too long")
		}
	}
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101")) {
		c.Close()
		line, _, _ := strings.Cut(string(head), "\r\n")
		return nil, fmt.Errorf("handshake: %s", line)
	}
	c.SetDeadline(time.Time{})
	i := bytes.Index(head, []byte("\r\n\r\n")) + 4
	if i < len(head) {
		// Frames arrived with the head: keep them in front of the stream.
		return &fanoutPrefixConn{Conn: c, pre: append([]byte(nil), head[i:]...)}, nil
	}
	return c, nil
}

type fanoutPrefixConn struct {
	net.Conn
	pre []byte
}

func (c *fanoutPrefixConn) Read(b []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(b, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// fanoutPoller reads many viewer connections (epoll on Linux).
type fanoutPoller interface {
	attach(v *fanoutViewer, c net.Conn) error
	close()
}

// lost is called by the poller when v's connection ended: like a real page, the
// viewer reconnects with its position (after slow_consumer, a restart, …).
func (p *fanoutPool) lost(v *fanoutViewer) {
	if p.stopped() {
		return
	}
	p.reconnects.Add(1)
	p.redials.Add(1)
	go func() {
		defer p.redials.Done()
		v.pend, v.msg = nil, nil
		for !p.stopped() {
			c, err := v.dial(context.Background())
			if err == nil {
				if err := p.poller.attach(v, c); err != nil {
					c.Close()
				}
				return
			}
			p.dialErrors.Add(1)
			p.lastDialErr.Store(err.Error())
			time.Sleep(200 * time.Millisecond)
		}
	}()
}

// feed parses the complete frames at the start of data (server frames, RFC 6455
// §5.2), handles them, and returns how many bytes it used; closed is set when the
// server sent a close frame or the stream is invalid. Control frames are answered
// through ctl.
func (v *fanoutViewer) feed(data []byte, ctl func(op byte, payload []byte)) (used int, closed bool) {
	for {
		rest := data[used:]
		if len(rest) < 2 {
			return used, false
		}
		fin := rest[0]&0x80 != 0
		op := rest[0] & 0x0f
		masked := rest[1]&0x80 != 0
		n := uint64(rest[1] & 0x7f)
		h := 2
		switch n {
		case 126:
			if len(rest) < 4 {
				return used, false
			}
			n, h = uint64(binary.BigEndian.Uint16(rest[2:4])), 4
		case 127:
			if len(rest) < 10 {
				return used, false
			}
			n, h = binary.BigEndian.Uint64(rest[2:10]), 10
		}
		if n > 16<<20 {
			return used, true
		}
		if masked {
			h += 4
		}
		if uint64(len(rest)) < uint64(h)+n {
			return used, false
		}
		payload := rest[h : uint64(h)+n]
		if masked {
			mask := rest[h-4 : h]
			for i := range payload {
				payload[i] ^= mask[i%4]
			}
		}
		used += h + int(n)
		switch op {
		case 0x8: // close: answer and stop
			ctl(0x8, payload)
			return used, true
		case 0x9: // ping
			ctl(0xA, payload)
			continue
		case 0xA:
			continue
		}
		if fin && len(v.msg) == 0 {
			v.handle(payload, time.Now())
			continue
		}
		v.msg = append(v.msg, payload...)
		if fin {
			v.handle(v.msg, time.Now())
			v.msg = v.msg[:0]
		}
	}
}

// fanoutClientFrame returns one masked client frame (clients must mask).
func fanoutClientFrame(op byte, p []byte) []byte {
	if len(p) > 125 {
		p = p[:125]
	}
	b := make([]byte, 0, 6+len(p))
	b = append(b, 0x80|op, 0x80|byte(len(p)))
	var mask [4]byte
	rand.Read(mask[:])
	b = append(b, mask[:]...)
	for i, x := range p {
		b = append(b, x^mask[i%4])
	}
	return b
}

// fanoutGoPoller reads each connection in its own goroutine (non-Linux fallback).
type fanoutGoPoller struct {
	p     *fanoutPool
	mu    sync.Mutex
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newFanoutGoPoller(p *fanoutPool) *fanoutGoPoller {
	return &fanoutGoPoller{p: p, conns: map[net.Conn]bool{}}
}

func (g *fanoutGoPoller) attach(v *fanoutViewer, c net.Conn) error {
	g.mu.Lock()
	if g.p.stopped() {
		g.mu.Unlock()
		return errors.New("fanout: stopped")
	}
	g.conns[c] = true
	g.wg.Add(1)
	g.mu.Unlock()
	go func() {
		defer g.wg.Done()
		ctl := func(op byte, payload []byte) {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			c.Write(fanoutClientFrame(op, payload))
		}
		buf := make([]byte, 0, 4096)
		for {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			n, err := c.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			used, closed := v.feed(buf, ctl)
			buf = buf[:copy(buf, buf[used:])]
			if err != nil || closed {
				break
			}
		}
		c.Close()
		g.mu.Lock()
		delete(g.conns, c)
		g.mu.Unlock()
		g.p.lost(v)
	}()
	return nil
}

func (g *fanoutGoPoller) close() {
	g.mu.Lock()
	for c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
}

var (
	fotBatch    = []byte(`{"t":"batch"`)
	fotEv       = []byte(`{"t":"ev"`)
	fotSnapshot = []byte(`{"t":"snapshot"`)
	fotOwn      = []byte(`{"t":"own"`)
	fotBye      = []byte(`{"t":"bye"`)
	fokSeq      = []byte(`"seq":`)
	fokEpoch    = []byte(`"epoch":"`)
	fokText     = []byte(`"text":"bench `)
	fokComments = []byte(`"comments":[`)
	fokNext     = []byte(`},{"id":`)
	fokBenchK   = []byte(`"bench_k":`)
	fokSlow     = []byte(`"slow_consumer"`)
)

// handle does the least parsing needed to measure: counters, resume position,
// commerce-event arrivals, and (for sampled viewers) comment latency.
func (v *fanoutViewer) handle(m []byte, now time.Time) {
	p := v.p
	p.frames.Add(1)
	switch {
	case bytes.HasPrefix(m, fotBatch), bytes.HasPrefix(m, fotOwn):
		if m[6] == 'b' {
			p.batches.Add(1)
		}
		p.comments.Add(uint64(fanoutCountComments(m)))
		if v.sample {
			rest := m
			for {
				i := bytes.Index(rest, fokText)
				if i < 0 {
					break
				}
				rest = rest[i+len(fokText):]
				ns, _ := fanoutLeadingInt(rest)
				if ns > 0 {
					p.commentLat.add(now.Sub(time.Unix(0, ns)))
				}
			}
		}
	case bytes.HasPrefix(m, fotEv):
		seq, ok := fanoutIntAfter(m, fokSeq)
		if !ok || uint64(seq) <= v.seq {
			return
		}
		v.seq = uint64(seq)
		p.events.Add(1)
		if !bytes.Contains(m, p.typeNeedle) {
			return
		}
		k, ok := fanoutIntAfter(m, fokBenchK)
		v.mu.Lock()
		if !ok {
			k = int64(v.byOrder)
			v.byOrder++
		}
		if k >= 0 && k < 1<<20 {
			for int(k) >= len(v.arrival) {
				v.arrival = append(v.arrival, 0)
			}
			if v.arrival[k] == 0 {
				v.arrival[k] = now.UnixNano()
			}
		}
		v.mu.Unlock()
	case bytes.HasPrefix(m, fotSnapshot):
		if i := bytes.Index(m, fokEpoch); i >= 0 {
			rest := m[i+len(fokEpoch):]
			if j := bytes.IndexByte(rest, '"'); j >= 0 {
				v.epoch = string(rest[:j])
			}
		}
		if seq, ok := fanoutIntAfter(m, fokSeq); ok {
			v.seq = uint64(seq)
		}
	case bytes.HasPrefix(m, fotBye):
		if bytes.Contains(m, fokSlow) {
			p.slowByes.Add(1)
		} else {
			p.otherByes.Add(1)
		}
	}
}

// fanoutCountComments counts the comments of a batch/own frame cheaply: the
// array starts near the front, and inside it comments are separated by `},{"id":`
// (which cannot occur inside a JSON string, where quotes are escaped). Counting
// `"text":` instead made bytes.Count stop at every quote of the frame.
func fanoutCountComments(m []byte) int {
	i := bytes.Index(m, fokComments)
	if i < 0 || i+len(fokComments) >= len(m) || m[i+len(fokComments)] == ']' {
		return 0
	}
	return 1 + bytes.Count(m[i:], fokNext)
}

func fanoutIntAfter(m, key []byte) (int64, bool) {
	i := bytes.Index(m, key)
	if i < 0 {
		return 0, false
	}
	return fanoutLeadingInt(m[i+len(key):])
}

func fanoutLeadingInt(b []byte) (int64, bool) {
	var n int64
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int64(b[i]-'0')
		i++
	}
	return n, i > 0
}

// pinLatencies adds every viewer's commerce-event latency to h given the send
// times, and returns how many (viewer, event) deliveries are missing.
func (p *fanoutPool) pinLatencies(sent []int64, h *fanoutHist) (received, lost uint64) {
	for _, v := range p.viewers {
		v.mu.Lock()
		for k, ts := range sent {
			if k < len(v.arrival) && v.arrival[k] != 0 {
				at := v.arrival[k]
				h.add(time.Duration(at - ts))
				received++
			} else {
				lost++
			}
		}
		v.mu.Unlock()
	}
	return received, lost
}

// pinsComplete reports whether every viewer has every one of n events.
func (p *fanoutPool) pinsComplete(n int) bool {
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
