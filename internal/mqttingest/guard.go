package mqttingest

import (
	"errors"
	"net"
	"sync"
	"time"
)

// Limits bound what a client costs the broker before and after it
// authenticated. mochi reads a packet by allocating the length its header
// announces, so without them four sockets announcing 50 MB CONNECTs cost
// 200 MB before any credential was checked.
type Limits struct {
	// PreConnectPacket is the largest first packet (the CONNECT) accepted;
	// a device's CONNECT (client id, device id, token) is under 300 bytes.
	PreConnectPacket int
	// MaxPacket is the largest packet after CONNECT; a reading is ~100 bytes.
	MaxPacket uint32
	// ConnectTimeout is how long a new connection may take to send its CONNECT.
	ConnectTimeout time.Duration
	// PerIP is the most connections one address may hold open at once.
	PerIP int
}

// DefaultLimits are the limits NewBroker applies.
var DefaultLimits = Limits{PreConnectPacket: 4 << 10, MaxPacket: 64 << 10, ConnectTimeout: 10 * time.Second, PerIP: 64}

var (
	errFirstNotConnect = errors.New("mqtt: first packet is not CONNECT")
	errConnectTooLarge = errors.New("mqtt: CONNECT larger than the pre-authentication limit")
)

// guardListener applies the per-IP connection limit and wraps each
// connection so its first packet is checked before mochi reads it.
type guardListener struct {
	net.Listener
	limits  Limits
	stats   *Stats
	refused func(ip string)

	mu    sync.Mutex
	perIP map[string]int
}

func (l *guardListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := hostOf(c.RemoteAddr())
		l.mu.Lock()
		over := l.limits.PerIP > 0 && l.perIP[ip] >= l.limits.PerIP
		if !over {
			l.perIP[ip]++
		}
		l.mu.Unlock()
		if over {
			l.stats.ConnRefused.Add(1)
			l.refused(ip)
			c.Close()
			continue
		}
		if l.limits.ConnectTimeout > 0 {
			c.SetReadDeadline(time.Now().Add(l.limits.ConnectTimeout)) // mochi sets the keep-alive deadline after CONNECT
		}
		gc := &guardConn{Conn: c, l: l, ip: ip, max: l.limits.PreConnectPacket}
		if gc.max <= 0 {
			gc.state = 3 // no pre-connect limit
		}
		return gc, nil
	}
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

// guardConn passes bytes through, checking the first packet's fixed header
// as it goes by: it must be a CONNECT no larger than max. After the CONNECT
// it is a plain connection.
type guardConn struct {
	net.Conn
	l     *guardListener
	ip    string
	max   int
	once  sync.Once
	state int // 0 type byte, 1 length bytes, 2 body, 3 passed
	mult  int
	size  int
	hdr   int
}

func (c *guardConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.state == 3 {
		return n, err
	}
	for _, b := range p[:n] {
		if gerr := c.step(b); gerr != nil {
			c.l.stats.PreConnectRefused.Add(1)
			return 0, gerr
		}
		if c.state == 3 {
			break
		}
	}
	return n, err
}

// step consumes one byte of the first packet.
func (c *guardConn) step(b byte) error {
	c.hdr++
	switch c.state {
	case 0:
		if b>>4 != 1 {
			return errFirstNotConnect
		}
		c.state, c.mult = 1, 1
	case 1:
		c.size += int(b&0x7f) * c.mult
		c.mult *= 128
		if c.size+c.hdr > c.max || (b&0x80 != 0 && c.hdr > 4) {
			return errConnectTooLarge
		}
		if b&0x80 == 0 {
			c.state = 2
			if c.size == 0 {
				c.state = 3
			}
		}
	case 2:
		c.size--
		if c.size == 0 {
			c.state = 3
		}
	}
	return nil
}

func (c *guardConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		if c.l.perIP[c.ip]--; c.l.perIP[c.ip] <= 0 {
			delete(c.l.perIP, c.ip)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
