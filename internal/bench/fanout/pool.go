package fanout

import (
	"context"
	"fmt"
	"hash/fnv"
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
// each must cost one small struct, one read per frame from a few epoll loops
// and a few hundred nanoseconds of parsing per frame, or the tool would measure
// itself. One pool serves both systems; a protocol (ShelfLive's frames or
// Centrifugo's JSON protocol) does the handshake and reads the messages.

// viewerConfig is what a viewer pool needs; it also travels to child processes.
type viewerConfig struct {
	Proto         string `json:"proto"`  // protoShelfLive or protoCentrifugo
	WSURL         string `json:"ws_url"` // ws://host:port/api/v1/ws?sub=room:1, or Centrifugo's /connection/websocket
	Topic         string `json:"topic"`  // room:1, or the Centrifugo channel
	Secret        string `json:"secret"` // Centrifugo: HMAC secret for connection JWTs
	Viewers       int    `json:"viewers"`
	Offset        int    `json:"offset"` // first viewer number (for user keys)
	SourceIPs     int    `json:"source_ips"`
	Concurrency   int    `json:"concurrency"`
	EventType     string `json:"event_type"`
	CommentSample int    `json:"comment_sample"` // every Nth viewer measures comment latency and accounts for every comment
	CPUProfile    string `json:"cpu_profile"`
}

// protocol is one system's side of a viewer connection.
type protocol interface {
	// dial connects v: TCP, WebSocket handshake and whatever the protocol needs
	// before messages flow (Centrifugo: connect and subscribe). It returns the
	// connection and bytes already read after that.
	dial(ctx context.Context, v *viewer) (net.Conn, []byte, error)
	// message handles one complete text message; reply writes a raw client frame.
	message(v *viewer, m []byte, now time.Time, reply func(frame []byte))
}

// pool runs and measures many viewers.
type pool struct {
	cfg     viewerConfig
	proto   protocol
	host    string // host:port to dial
	path    string // request path (ShelfLive: with the query, without the sub parameter)
	srcIPs  []net.IP
	viewers []*viewer

	frames     atomic.Uint64 // WebSocket messages received
	batches    atomic.Uint64 // ShelfLive batch frames
	comments   atomic.Uint64 // comments received
	likes      atomic.Uint64 // Centrifugo like publications received
	events     atomic.Uint64 // commerce events received (all types)
	reconnects atomic.Uint64
	slowByes   atomic.Uint64
	otherByes  atomic.Uint64
	connected  atomic.Int64
	dialErrors atomic.Uint64
	commentLat *hist
	lastErr    atomic.Value

	typeNeedle []byte // `"type":"card.pinned"`

	poller  poller
	stop    chan struct{}
	redials sync.WaitGroup
}

// viewer is one connection's state. Fields below mu are owned by whoever
// reads the connection (one poller goroutine at a time, or dial).
type viewer struct {
	p      *pool
	n      int
	sample bool

	mu       sync.Mutex // arrivals and the comment account are read by the coordinator at the end
	arrivals []arrival  // commerce events of the measured type, first arrival of each key
	account  *commentAccount

	epoch      string // ShelfLive resume position
	seq        uint64
	subscribed bool // Centrifugo: the subscribe reply arrived

	pend []byte // bytes of an incomplete frame
	msg  []byte // a fragmented message being assembled
	fd   int    // epoll poller: the socket
}

// arrival is when the commerce event with key (the hash of its pin_id) arrived.
type arrival struct {
	key uint64
	at  int64
}

// pinKey hashes a pin_id, so a viewer keeps 16 bytes per event.
func pinKey(id []byte) uint64 {
	h := fnv.New64a()
	h.Write(id)
	return h.Sum64()
}

// commentAccount is a sampled viewer's record of comments: which ids it was
// shown and how many the server said it left out (ShelfLive's "dropped").
type commentAccount struct {
	base    int64 // ids below base are not recorded
	bits    []uint64
	dropped int64
}

func (a *commentAccount) add(id int64) {
	if a.bits == nil {
		a.base = max(0, id-8192) // ids arrive roughly in order; leave room for stragglers
	}
	i := id - a.base
	if i < 0 || i > 1<<24 {
		return
	}
	for int(i/64) >= len(a.bits) {
		a.bits = append(a.bits, 0)
	}
	a.bits[i/64] |= 1 << (i % 64)
}

func (a *commentAccount) has(id int64) bool {
	i := id - a.base
	return a.bits != nil && i >= 0 && int(i/64) < len(a.bits) && a.bits[i/64]&(1<<(i%64)) != 0
}

const (
	protoShelfLive  = "shelflive"
	protoCentrifugo = "centrifugo"
)

func newPool(cfg viewerConfig) (*pool, error) {
	u, err := url.Parse(cfg.WSURL)
	if err != nil {
		return nil, fmt.Errorf("fanout: ws url: %w", err)
	}
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("fanout: ws url %q: only ws:// is supported", cfg.WSURL)
	}
	p := &pool{cfg: cfg, host: u.Host, commentLat: newHist(), stop: make(chan struct{}),
		typeNeedle: []byte(`"type":"` + cfg.EventType + `"`)}
	switch cfg.Proto {
	case protoShelfLive, "":
		q := u.Query()
		q.Del("sub")
		p.path = u.Path
		if enc := q.Encode(); enc != "" {
			p.path += "?" + enc + "&"
		} else {
			p.path += "?"
		}
		p.proto = shelfLiveProto{}
	case protoCentrifugo:
		p.path = u.RequestURI()
		p.proto = centrifugoProto{}
	default:
		return nil, fmt.Errorf("fanout: unknown viewer protocol %q", cfg.Proto)
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() || u.Hostname() == "localhost" {
		// Spread sources over 127.0.0.1..N: each source address has its own
		// ephemeral port range, so 10,000+ connections never run out of ports.
		for i := 0; i < max(1, cfg.SourceIPs); i++ {
			p.srcIPs = append(p.srcIPs, net.IPv4(127, 0, 0, byte(1+i)))
		}
	}
	for i := 0; i < cfg.Viewers; i++ {
		n := cfg.Offset + i
		p.viewers = append(p.viewers, &viewer{p: p, n: n, fd: -1, sample: cfg.CommentSample > 0 && n%cfg.CommentSample == 0})
	}
	return p, nil
}

// dialTCP opens v's TCP connection from its loopback source address.
func (p *pool) dialTCP(ctx context.Context, v *viewer) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	if len(p.srcIPs) > 0 {
		d.LocalAddr = &net.TCPAddr{IP: p.srcIPs[v.n%len(p.srcIPs)]}
	}
	return d.DialContext(ctx, "tcp", p.host)
}

// connectAll opens every viewer (bounded concurrency) and returns once all are
// connected or ctx ends. Viewers then read until the pool closes.
func (p *pool) connectAll(ctx context.Context) error {
	pl, err := newPoller(p)
	if err != nil {
		return err
	}
	p.poller = pl
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
			var pre []byte
			var err error
			for try := 0; try < 5; try++ {
				if c, pre, err = p.proto.dial(ctx, v); err == nil {
					break
				}
				p.dialErrors.Add(1)
				time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
			}
			<-sem
			if err == nil {
				err = p.poller.attach(v, c, pre)
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
func (p *pool) close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	if p.poller != nil {
		p.poller.close()
	}
	p.redials.Wait()
}

func (p *pool) stopped() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// lost is called by the poller when v's connection ended: like a real page, the
// viewer reconnects (ShelfLive: with its position, after slow_consumer, a
// restart, …; Centrifugo: the channel has no history to recover from).
func (p *pool) lost(v *viewer) {
	p.connected.Add(-1)
	if p.stopped() {
		return
	}
	p.reconnects.Add(1)
	p.redials.Add(1)
	go func() {
		defer p.redials.Done()
		v.pend, v.msg = nil, nil
		for !p.stopped() {
			c, pre, err := p.proto.dial(context.Background(), v)
			if err == nil {
				if err := p.poller.attach(v, c, pre); err != nil {
					c.Close()
				} else {
					p.connected.Add(1)
				}
				return
			}
			p.dialErrors.Add(1)
			p.lastErr.Store(err.Error())
			time.Sleep(200 * time.Millisecond)
		}
	}()
}

// feed parses the complete frames at the start of data (server frames, RFC 6455
// §5.2), handles them, and returns how many bytes it used; closed is set when the
// server sent a close frame or the stream is invalid. reply writes a client frame.
func (v *viewer) feed(data []byte, reply func(frame []byte)) (used int, closed bool) {
	for {
		fin, op, payload, n, bad := parseFrame(data[used:])
		if bad {
			return used, true
		}
		if n == 0 {
			return used, false
		}
		used += n
		switch op {
		case 0x8: // close: answer and stop
			reply(clientFrame(0x8, payload))
			return used, true
		case 0x9: // ping
			reply(clientFrame(0xA, payload))
			continue
		case 0xA:
			continue
		}
		if fin && len(v.msg) == 0 {
			v.p.proto.message(v, payload, time.Now(), reply)
			continue
		}
		v.msg = append(v.msg, payload...)
		if fin {
			v.p.proto.message(v, v.msg, time.Now(), reply)
			v.msg = v.msg[:0]
		}
	}
}

// recordPin notes the first arrival of the commerce event with this pin_id.
func (v *viewer) recordPin(id []byte, now time.Time) {
	k := pinKey(id)
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, a := range v.arrivals {
		if a.key == k {
			return
		}
	}
	v.arrivals = append(v.arrivals, arrival{k, now.UnixNano()})
}

// sentPin is one commerce event the generator sent: its key, send time and,
// where the pin_id carries it, the server's stamp (see pinStamp).
type sentPin struct {
	Key    uint64 `json:"k"`
	SentNS int64  `json:"t"`
	AtNS   int64  `json:"s,omitempty"`
}

// pinStamp reads the time a ShelfLive server stamped into a pin_id
// ("<room id>-<Unix ns>", both base 36: taken as the pin is stored, just
// before the event is published); 0 for any other id. The load tool and the
// server share a clock, so arrival − stamp is the fan-out's part of the
// latency and stamp − send the request's.
func pinStamp(id string) int64 {
	_, ns, ok := strings.Cut(id, "-")
	if !ok {
		return 0
	}
	v, err := strconv.ParseInt(ns, 36, 64)
	if err != nil || v < stampFloor {
		return 0 // not a time this tool could have sent a pin at
	}
	return v
}

var stampFloor = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()

// pinLatencies adds every viewer's commerce-event latency to h (and, from the
// server's stamp, to hs when not nil) and returns how many (viewer, event)
// deliveries are missing.
func (p *pool) pinLatencies(sent []sentPin, h, hs *hist) (received, lost uint64) {
	idx := make(map[uint64]int, len(sent))
	for i, s := range sent {
		idx[s.Key] = i
	}
	got := make([]bool, len(sent))
	for _, v := range p.viewers {
		clear(got)
		v.mu.Lock()
		for _, a := range v.arrivals {
			if i, ok := idx[a.key]; ok && !got[i] {
				got[i] = true
				h.add(time.Duration(a.at - sent[i].SentNS))
				if hs != nil && sent[i].AtNS > 0 {
					hs.add(time.Duration(a.at - sent[i].AtNS))
				}
				received++
			}
		}
		v.mu.Unlock()
		for _, g := range got {
			if !g {
				lost++
			}
		}
	}
	return received, lost
}

// pinsComplete reports whether every viewer has every one of the sent events.
func (p *pool) pinsComplete(sent []sentPin) bool {
	want := make(map[uint64]bool, len(sent))
	for _, s := range sent {
		want[s.Key] = true
	}
	for _, v := range p.viewers {
		v.mu.Lock()
		n := 0
		for _, a := range v.arrivals {
			if want[a.key] {
				n++
			}
		}
		v.mu.Unlock()
		if n < len(want) {
			return false
		}
	}
	return true
}

// commentTally is what the sampled viewers say about the accepted comments.
type commentTally struct {
	Viewers    int64 `json:"viewers"`     // sampled viewers
	Expected   int64 `json:"expected"`    // accepted comments × sampled viewers
	Shown      int64 `json:"shown"`       // of those, shown to the viewer
	SampledOut int64 `json:"sampled_out"` // counted as left out by the server (ShelfLive's "dropped")
	Missing    int64 `json:"missing"`     // neither shown nor counted as left out
}

func (t *commentTally) add(o commentTally) {
	t.Viewers += o.Viewers
	t.Expected += o.Expected
	t.Shown += o.Shown
	t.SampledOut += o.SampledOut
	t.Missing += o.Missing
}

// tallyComments checks the accepted comment ids against every sampled viewer.
func (p *pool) tallyComments(accepted []int64) commentTally {
	var t commentTally
	for _, v := range p.viewers {
		if !v.sample {
			continue
		}
		v.mu.Lock()
		a := v.account
		shown, dropped := int64(0), int64(0)
		if a != nil {
			for _, id := range accepted {
				if a.has(id) {
					shown++
				}
			}
			dropped = a.dropped
		}
		v.mu.Unlock()
		t.Viewers++
		t.Expected += int64(len(accepted))
		t.Shown += shown
		t.SampledOut += dropped
		t.Missing += max(0, int64(len(accepted))-shown-dropped)
	}
	return t
}

// resetAccounts starts the sampled viewers' comment accounts (at the load's start).
func (p *pool) resetAccounts() {
	for _, v := range p.viewers {
		if v.sample {
			v.mu.Lock()
			v.account = &commentAccount{}
			v.mu.Unlock()
		}
	}
}

// poller reads many viewer connections (epoll on Linux).
type poller interface {
	attach(v *viewer, c net.Conn, pre []byte) error
	close()
}
