package web

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/realtime/ws"
)

// DefaultWSPerIP is how many WebSocket connections one client address may
// hold open. High, because many viewers share a carrier's NAT address (and
// all clients share the proxy's when SHELFLIVE_TRUSTED_PROXIES is not set);
// an idle connection costs ~20 KiB, so one address can pin ~40 MB at most.
const DefaultWSPerIP = 2000

var errTooManySockets = apperr.New(apperr.TooMany, "too_many_connections", "连接过多，请稍后再试", "Too many connections from your address; try again later.")

// connCounter counts open WebSocket connections per client address.
type connCounter struct {
	mu sync.Mutex
	n  map[string]int
}

// reserve counts one more connection for key unless it has max already.
func (c *connCounter) reserve(key string, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	if c.n[key] >= max {
		return false
	}
	c.n[key]++
	return true
}

func (c *connCounter) add(key string, d int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	if c.n[key] += d; c.n[key] <= 0 {
		delete(c.n, key)
	}
}

// limitSockets refuses a new WebSocket from an address at its limit and
// otherwise counts it from now (the client may see its upgrade answered
// before the server's hooks run) until it closes, wrapping opts' hooks.
// Call the returned func after ws.Serve returned: it gives the slot back
// when the upgrade failed.
func (s *Server) limitSockets(r *http.Request, opts *ws.Options) (func(), error) {
	if s.NoRateLimits {
		return func() {}, nil
	}
	max := s.WSPerIP
	if max <= 0 {
		max = DefaultWSPerIP
	}
	ip := s.clientIP(r)
	if !s.wsConns.reserve(ip, max) {
		return nil, errTooManySockets
	}
	var opened atomic.Bool
	onOpen, onClose := opts.OnOpen, opts.OnClose
	opts.OnOpen = func() {
		opened.Store(true)
		if onOpen != nil {
			onOpen()
		}
	}
	opts.OnClose = func(code string) {
		if opened.Load() {
			s.wsConns.add(ip, -1)
		}
		if onClose != nil {
			onClose(code)
		}
	}
	return func() {
		if !opened.Load() {
			s.wsConns.add(ip, -1)
		}
	}, nil
}
