// Package pushtest is a local Web Push service for tests and benchmarks: a
// real HTTP server that hands out subscriptions (a browser's keys), checks
// every push's VAPID JWT (ES256 with the k key, audience, expiry, subject)
// and decrypts its aes128gcm body with the subscription's private key, as
// a browser's push service and the browser would.
package pushtest

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/notify/webpush"
)

// Received is one push that passed the checks.
type Received struct {
	Endpoint string
	Payload  []byte
	Topic    string
	TTL      int
	At       time.Time
}

type sub struct {
	key  *ecdh.PrivateKey
	auth []byte
}

// Receiver is the local push service.
type Receiver struct {
	srv *httptest.Server
	// VAPIDKey, when set, is the only application server key accepted (base64url).
	VAPIDKey string

	mu       sync.Mutex
	subs     map[string]*sub
	gone     map[string]bool
	got      []Received
	rejected []string
	n        int
	verified map[string]int64 // Authorization values whose JWT verified → its exp
}

// New starts a receiver; Close stops it.
func New() *Receiver {
	r := &Receiver{subs: map[string]*sub{}, gone: map[string]bool{}, verified: map[string]int64{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// Close stops the server.
func (r *Receiver) Close() { r.srv.Close() }

// URL is the service's origin.
func (r *Receiver) URL() string { return r.srv.URL }

// Subscribe makes a browser's subscription: fresh P-256 keys and auth.
func (r *Receiver) Subscribe() webpush.Subscription {
	key, _ := ecdh.P256().GenerateKey(rand.Reader)
	auth := make([]byte, 16)
	rand.Read(auth)
	r.mu.Lock()
	r.n++
	id := strconv.Itoa(r.n)
	r.subs[id] = &sub{key: key, auth: auth}
	r.mu.Unlock()
	enc := base64.RawURLEncoding
	return webpush.Subscription{Endpoint: r.srv.URL + "/push/" + id, P256DH: enc.EncodeToString(key.PublicKey().Bytes()), Auth: enc.EncodeToString(auth)}
}

// Unsubscribe makes the endpoint answer 410 Gone from now on.
func (r *Receiver) Unsubscribe(endpoint string) {
	r.mu.Lock()
	r.gone[strings.TrimPrefix(endpoint, r.srv.URL+"/push/")] = true
	r.mu.Unlock()
}

// Received lists the pushes that passed, in arrival order.
func (r *Receiver) Received() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received(nil), r.got...)
}

// Count is how many pushes passed.
func (r *Receiver) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// Rejected lists why pushes were refused.
func (r *Receiver) Rejected() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.rejected...)
}

func (r *Receiver) reject(w http.ResponseWriter, status int, why string) {
	r.mu.Lock()
	r.rejected = append(r.rejected, why)
	r.mu.Unlock()
	http.Error(w, why, status)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	id, ok := strings.CutPrefix(req.URL.Path, "/push/")
	if req.Method != "POST" || !ok {
		http.NotFound(w, req)
		return
	}
	r.mu.Lock()
	s, gone := r.subs[id], r.gone[id]
	r.mu.Unlock()
	if s == nil || gone {
		http.Error(w, "gone", http.StatusGone)
		return
	}
	if req.Header.Get("Content-Encoding") != "aes128gcm" {
		r.reject(w, 415, "content encoding "+req.Header.Get("Content-Encoding"))
		return
	}
	ttl, err := strconv.Atoi(req.Header.Get("TTL"))
	if err != nil || ttl < 0 {
		r.reject(w, 400, "no TTL")
		return
	}
	if err := r.checkVAPID(req.Header.Get("Authorization")); err != nil {
		r.reject(w, 401, err.Error())
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 8192))
	if err != nil {
		r.reject(w, 400, "body")
		return
	}
	payload, err := webpush.Decrypt(s.key, s.auth, body)
	if err != nil {
		r.reject(w, 400, "decrypt: "+err.Error())
		return
	}
	r.mu.Lock()
	r.got = append(r.got, Received{Endpoint: r.srv.URL + req.URL.Path, Payload: payload, Topic: req.Header.Get("Topic"), TTL: ttl, At: time.Now()})
	r.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

// checkVAPID verifies "vapid t=<jwt>, k=<key>" (RFC 8292). A header that
// verified before is taken again until its JWT expires, as a push service
// may (the sender signs once per push service and reuses the JWT, so the
// ECDSA verification — a fifth of a push's CPU in this process — runs once
// per token, not once per push); any other header is checked in full.
func (r *Receiver) checkVAPID(h string) error {
	r.mu.Lock()
	exp, ok := r.verified[h]
	r.mu.Unlock()
	if ok && time.Now().Unix() < exp {
		return nil
	}
	exp, err := r.verifyVAPID(h)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.verified[h] = exp
	r.mu.Unlock()
	return nil
}

func (r *Receiver) verifyVAPID(h string) (int64, error) {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return 0, errors.New("no vapid authorization")
	}
	var t, k string
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if v, ok := strings.CutPrefix(part, "t="); ok {
			t = v
		} else if v, ok := strings.CutPrefix(part, "k="); ok {
			k = v
		}
	}
	if r.VAPIDKey != "" && k != r.VAPIDKey {
		return 0, errors.New("unexpected application server key")
	}
	enc := base64.RawURLEncoding
	pubRaw, err := enc.DecodeString(k)
	if err != nil || len(pubRaw) != 65 {
		return 0, errors.New("bad k")
	}
	x, y := elliptic.Unmarshal(elliptic.P256(), pubRaw) //nolint:staticcheck // a plain point parse for ecdsa.Verify
	if x == nil {
		return 0, errors.New("k is not a P-256 point")
	}
	parts := strings.Split(t, ".")
	if len(parts) != 3 {
		return 0, errors.New("bad jwt")
	}
	var hdr struct{ Typ, Alg string }
	var claims struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}
	hb, err1 := enc.DecodeString(parts[0])
	cb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil || len(sig) != 64 {
		return 0, errors.New("bad jwt encoding")
	}
	if hdr.Alg != "ES256" {
		return 0, fmt.Errorf("jwt alg %q", hdr.Alg)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}
	if !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return 0, errors.New("jwt signature does not verify")
	}
	now := time.Now().Unix()
	if claims.Aud != r.srv.URL {
		return 0, fmt.Errorf("jwt aud %q, want %q", claims.Aud, r.srv.URL)
	}
	if claims.Exp <= now || claims.Exp > now+24*3600 {
		return 0, errors.New("jwt exp out of range")
	}
	if !strings.HasPrefix(claims.Sub, "mailto:") && !strings.HasPrefix(claims.Sub, "https:") {
		return 0, errors.New("jwt sub is not a contact")
	}
	return claims.Exp, nil
}
