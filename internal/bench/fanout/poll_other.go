//go:build !linux

package fanout

import (
	"errors"
	"net"
	"sync"
	"time"
)

func newPoller(p *pool) (poller, error) { return newGoPoller(p), nil }

// goPoller reads each connection in its own goroutine (non-Linux fallback).
type goPoller struct {
	p     *pool
	mu    sync.Mutex
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newGoPoller(p *pool) *goPoller { return &goPoller{p: p, conns: map[net.Conn]bool{}} }

func (g *goPoller) attach(v *viewer, c net.Conn, pre []byte) error {
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
		reply := func(frame []byte) {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			c.Write(frame)
		}
		buf := append(make([]byte, 0, max(4096, len(pre))), pre...)
		for {
			used, closed := v.feed(buf, reply)
			buf = buf[:copy(buf, buf[used:])]
			if closed {
				break
			}
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			n, err := c.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err != nil && n == 0 {
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

func (g *goPoller) close() {
	g.mu.Lock()
	for c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
}
