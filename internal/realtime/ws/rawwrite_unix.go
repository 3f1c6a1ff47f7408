//go:build unix

package ws

import (
	"net"
	"syscall"
)

// rawWrites: the shared writers can write without blocking here.
const rawWrites = true

// tryWrite writes b with one non-blocking write(2) on the socket and returns
// how much of it went out; a full socket buffer is no error (n may be 0).
func (c *corkConn) tryWrite(b []byte) (int, error) {
	c.rawMu.Lock()
	defer c.rawMu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	for {
		n, err := syscall.Write(c.fd, b)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, nil
		}
		return max(n, 0), err
	}
}
