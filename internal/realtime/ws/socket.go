package ws

// The socket under the WebSocket library: hijacked with small buffers, and
// written by our own framing (corkConn) so that one syscall sends all queued
// frames.

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"syscall"
)

// hijackCapture lets Accept hijack through any middleware (via
// http.ResponseController), keeps the raw connection for write deadlines, and swaps
// net/http's two 4 KiB connection buffers for small ones: client messages are tiny,
// and data frames bypass the buffer (corkConn.writeText), so big buffers would only
// cost idle memory.
type hijackCapture struct {
	http.ResponseWriter
	c *conn
}

// Buffer sizes for a hijacked connection; see hijackCapture.
const (
	readBufSize  = 512
	writeBufSize = 256 // ≥ the largest control frame (2+125 bytes), see corkConn
)

func (h *hijackCapture) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nc, brw, err
	}
	h.c.nc.Store(&nc)
	if brw.Reader.Buffered() != 0 {
		// The client already sent bytes after the handshake: keep net/http's
		// buffers so that nothing is lost.
		return nc, brw, nil
	}
	// net/http left the 101 response in its writer: send it before dropping that buffer.
	if err := brw.Writer.Flush(); err != nil {
		nc.Close()
		return nil, nil, err
	}
	cc := &corkConn{Conn: nc}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { cc.fd, cc.raw = int(fd), true })
		}
	}
	h.c.cork = cc
	return cc, bufio.NewReadWriter(bufio.NewReaderSize(cc, readBufSize), bufio.NewWriterSize(cc, writeBufSize)), nil
}

// corkConn serializes every write to the socket under one mutex, so that the
// data frames we write ourselves (writeText) and the control frames coder/websocket
// writes (pong, ping, close; each fits its 256-byte buffer and so arrives here as
// one Write) never interleave inside a frame.
//
// writeText frames the queued messages itself and sends them with one syscall:
// per frame that is a header append and a copy, instead of coder/websocket's
// per-message locking, flushing and syscall.
type corkConn struct {
	net.Conn
	mu      sync.Mutex
	pending []byte // the rest of a shared write the socket did not take; goes out before anything else

	// The shared writers write to the socket's descriptor directly (the
	// runtime's poller would refuse once a write deadline has passed, and
	// they need none: they never block). rawMu keeps Close from closing the
	// descriptor, whose number the kernel may then reuse, during such a write.
	raw    bool
	fd     int
	rawMu  sync.Mutex
	closed bool
}

// Close marks the descriptor closed for the shared writers, then closes.
func (c *corkConn) Close() error {
	c.rawMu.Lock()
	c.closed = true
	c.rawMu.Unlock()
	return c.Conn.Close()
}

var corkPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.flushPendingLocked(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func (c *corkConn) flushPendingLocked() error {
	if len(c.pending) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.pending)
	if err == nil {
		c.pending = nil
	}
	return err
}

// flushPending writes what a shared write left (blocking, under the deadline).
func (c *corkConn) flushPending() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushPendingLocked()
}

// writeShared writes b (framed messages, see AppendFrames) without blocking;
// complete is false when part of it waits in pending. b is not kept.
func (c *corkConn) writeShared(b []byte) (complete bool, err error) {
	c.mu.Lock()
	if len(c.pending) > 0 {
		c.pending = append(c.pending, b...)
	} else {
		var n int
		n, err = c.tryWrite(b)
		if err == nil && n < len(b) {
			c.pending = append([]byte(nil), b[n:]...)
		}
	}
	complete = len(c.pending) == 0
	c.mu.Unlock()
	return complete, err
}

// writeText writes each message as one unmasked, final text frame (RFC 6455 §5.2).
func (c *corkConn) writeText(msgs [][]byte) error {
	bp := corkPool.Get().(*[]byte)
	b := (*bp)[:0]
	for _, m := range msgs {
		b = appendFrameHeader(b, len(m))
		b = append(b, m...)
	}
	c.mu.Lock()
	err := c.flushPendingLocked()
	if err == nil {
		_, err = c.Conn.Write(b)
	}
	c.mu.Unlock()
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		corkPool.Put(bp)
	}
	return err
}

func appendFrameHeader(b []byte, n int) []byte {
	const finText = 0x81
	switch {
	case n <= 125:
		return append(b, finText, byte(n))
	case n <= 0xffff:
		return append(b, finText, 126, byte(n>>8), byte(n))
	default:
		return append(b, finText, 127, byte(uint64(n)>>56), byte(uint64(n)>>48), byte(uint64(n)>>40), byte(uint64(n)>>32),
			byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}
