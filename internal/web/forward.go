package web

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/shelflive/shelflive/internal/flashsale"
)

// forwardClient keeps enough idle connections to the leader for a
// stampede: net/http's default keeps 2 per host, and every other request
// would then dial (and leave a socket in TIME_WAIT) in the middle of a sale.
var forwardClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
	Proxy:               nil, // node to node, never through a proxy
	MaxIdleConns:        512,
	MaxIdleConnsPerHost: 256,
	IdleConnTimeout:     90 * time.Second,
	DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
}}

// forward relays a request this node cannot serve to the leader node (the
// one that allocates flash sales) and copies its answer back. The caller's
// credentials, CSRF token and Idempotency-Key travel along, so the leader
// authorizes the request exactly as this node would have.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, leader string, body []byte) error {
	if r.Header.Get("X-ShelfLive-Forwarded") != "" {
		return flashsale.ErrBusy // never bounce between nodes during a failover
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, leader+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	for _, h := range []string{"Authorization", "Cookie", "X-CSRF-Token", "Idempotency-Key", "Accept-Language", "Content-Type", "Origin", "X-ShelfLive-As"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Host = r.Host // the leader's same-origin check sees the browser's host
	req.Header.Set("X-ShelfLive-Forwarded", "1")
	resp, err := forwardClient.Do(req)
	if err != nil {
		s.Logger.Warn("forward to leader", "leader", leader, "err", err)
		return flashsale.ErrBusy
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "Retry-After"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, err = io.Copy(w, resp.Body)
	return err
}
