package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/identity"
)

// Headers of a forwarded request. The forwarding node already authenticated
// the caller; it passes the principal along, signed with the cluster key, so
// that the leader does not look the session up a second time — in a flash
// sale that lookup is most of what a forwarded request costs the leader.
const (
	hdrForwarded    = "X-ShelfLive-Forwarded"
	hdrPrincipal    = "X-ShelfLive-Principal"     // base64url JSON of identity.Principal
	hdrPrincipalSig = "X-ShelfLive-Principal-Sig" // "<unix ms>.<hex HMAC-SHA256>", see principalMAC
	forwardMaxAge   = 30 * time.Second            // clock skew between nodes plus the forward itself
	maxForwardBody  = 1 << 20                     // the API's body limit
)

// principalMAC binds a principal to one request: when, method, URI and body.
func principalMAC(key []byte, at, method, uri, principal string, body []byte) string {
	bodyHash := sha256.Sum256(body)
	m := hmac.New(sha256.New, key)
	io.WriteString(m, at+"\n"+method+"\n"+uri+"\n"+principal+"\n")
	m.Write(bodyHash[:])
	return hex.EncodeToString(m.Sum(nil))
}

// forwardedPrincipal returns the caller a peer node vouched for, nil when the
// request carries none (then the session is looked up as usual), or an error
// when it carries one that does not verify.
func (s *Server) forwardedPrincipal(r *http.Request) (*identity.Principal, error) {
	enc := r.Header.Get(hdrPrincipal)
	if enc == "" || len(s.ClusterKey) == 0 {
		return nil, nil
	}
	at, mac, ok := strings.Cut(r.Header.Get(hdrPrincipalSig), ".")
	sent, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil {
		return nil, apperr.ErrUnauthorized
	}
	if age := time.Since(time.UnixMilli(sent)); age > forwardMaxAge || age < -forwardMaxAge {
		return nil, apperr.ErrUnauthorized
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxForwardBody+1))
	if err != nil || len(body) > maxForwardBody {
		return nil, apperr.ErrUnauthorized // forwarded bodies are small JSON documents
	}
	r.Body = io.NopCloser(bytes.NewReader(body)) // the handler reads it again
	if !hmac.Equal([]byte(mac), []byte(principalMAC(s.ClusterKey, at, r.Method, r.URL.RequestURI(), enc, body))) {
		return nil, apperr.ErrUnauthorized
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return nil, apperr.ErrUnauthorized
	}
	var p identity.Principal
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, apperr.ErrUnauthorized
	}
	return &p, nil
}

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
// authorizes the request exactly as this node would have; with a cluster key
// the caller this node authenticated travels too, signed, and the leader
// takes it instead of looking the session up again.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, leader string, body []byte) error {
	_, _, err := s.forwardAnswer(w, r, leader, body)
	return err
}

// forwardAnswer is forward that also returns the leader's status and body
// (answers are small JSON documents), for callers that learn from them.
func (s *Server) forwardAnswer(w http.ResponseWriter, r *http.Request, leader string, body []byte) (int, []byte, error) {
	if r.Header.Get(hdrForwarded) != "" {
		return 0, nil, flashsale.ErrBusy // never bounce between nodes during a failover
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, leader+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for _, h := range []string{"Authorization", "Cookie", "X-CSRF-Token", "Idempotency-Key", "Accept-Language", "Content-Type", "Origin", "X-ShelfLive-As"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Host = r.Host // the leader's same-origin check sees the browser's host
	req.Header.Set(hdrForwarded, "1")
	if p := PrincipalFrom(r.Context()); p != nil && len(s.ClusterKey) > 0 {
		pj, err := json.Marshal(p)
		if err != nil {
			return 0, nil, err
		}
		enc := base64.RawURLEncoding.EncodeToString(pj)
		at := strconv.FormatInt(time.Now().UnixMilli(), 10)
		req.Header.Set(hdrPrincipal, enc)
		req.Header.Set(hdrPrincipalSig, at+"."+principalMAC(s.ClusterKey, at, r.Method, r.URL.RequestURI(), enc, body))
	}
	resp, err := forwardClient.Do(req)
	if err != nil {
		s.Logger.Warn("forward to leader", "leader", leader, "err", err)
		s.metrics.forwards.WithLabelValues("failed").Inc()
		return 0, nil, flashsale.ErrBusy
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		s.Logger.Warn("forward to leader: read answer", "leader", leader, "err", err)
		s.metrics.forwards.WithLabelValues("failed").Inc()
		return 0, nil, flashsale.ErrBusy
	}
	s.metrics.forwards.WithLabelValues("answered").Inc()
	for _, h := range []string{"Content-Type", "Retry-After"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, err = w.Write(answer)
	return resp.StatusCode, answer, err
}
