package web

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
)

// limiters are token buckets per key (IP or user), in memory: each node
// limits what it serves.
type limiters struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	last    time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiters() *limiters { return &limiters{buckets: map[string]*bucket{}} }

// allow takes one token from key's bucket (rate per second, burst size) and
// returns how long to wait when empty.
func (l *limiters) allow(key string, rate, burst float64) (bool, time.Duration) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.last) > time.Minute && len(l.buckets) > 50_000 {
		for k, b := range l.buckets {
			if now.Sub(b.at) > time.Minute {
				delete(l.buckets, k)
			}
		}
		l.last = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(burst, b.tokens+now.Sub(b.at).Seconds()*rate)
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// errRateLimited sheds a client over its rate.
var errRateLimited = apperr.New(apperr.TooMany, "rate_limited", "操作太频繁，请稍后再试", "Too many requests; slow down.")

// limit returns a 429 error with Retry-After when key is over its rate.
func (s *Server) limit(w http.ResponseWriter, key string, rate, burst float64) error {
	if s.NoRateLimits {
		return nil
	}
	ok, wait := s.limits.allow(key, rate, burst)
	if ok {
		return nil
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	return errRateLimited
}

// Limited wraps a handler mounted outside the route table (EPCIS capture,
// telemetry ingest) with the same per-key token buckets and 429 answer.
func (s *Server) Limited(h http.Handler, name string, rate, burst float64, key func(*http.Request) string, only func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if only == nil || only(r) {
			if err := s.limit(w, name+":"+key(r), rate, burst); err != nil {
				writeProblem(w, r, apperr.As(err))
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// ClientIP is the client address used for per-IP limits (see clientIP).
func (s *Server) ClientIP(r *http.Request) string { return s.clientIP(r) }
