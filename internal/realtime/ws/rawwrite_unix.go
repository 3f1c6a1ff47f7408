//go:build unix

package ws

import (
	"net"
	"syscall"
)

// rawWrites: the shared writers can write without blocking here.
const rawWrites = true

// tryWrite writes b with one non-blocking system call on the socket and returns
// how much of it went out; a full socket buffer is no error (n may be 0).
//
// It is a raw system call: the descriptor is non-blocking, so the call never
// waits, and the scheduler bookkeeping of a blocking call (handing the P to
// another thread and taking it back) would cost more than the write's own
// user-side work, 10,000 times per commerce event.
func (c *corkConn) tryWrite(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.rawMu.Lock()
	defer c.rawMu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	for {
		n, errno := rawSend(c.fd, b)
		switch errno {
		case 0:
			return int(n), nil
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, nil
		}
		return 0, errno
	}
}
