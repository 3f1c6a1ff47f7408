package moderation

import (
	"context"
	"sync"
	"time"
)

// WordCache keeps each merchant's WordSet in memory for the comment path:
// a comment costs no query for the words. A list saved on this node is
// seen at once (Invalidate); one saved on another node within TTL.
type WordCache struct {
	Load func(ctx context.Context, merchantID int64) ([]Word, error)
	TTL  time.Duration // default 5 s
	Now  func() time.Time

	mu   sync.RWMutex
	sets map[int64]cachedSet
}

type cachedSet struct {
	set *WordSet
	at  time.Time
}

// Get returns the merchant's words, loading them when missing or stale.
func (c *WordCache) Get(ctx context.Context, merchantID int64) (*WordSet, error) {
	now := c.now()
	ttl := c.TTL
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	c.mu.RLock()
	cs, ok := c.sets[merchantID]
	c.mu.RUnlock()
	if ok && now.Sub(cs.at) < ttl {
		return cs.set, nil
	}
	words, err := c.Load(ctx, merchantID)
	if err != nil {
		if ok {
			return cs.set, nil // a database hiccup keeps the last list rather than failing every comment
		}
		return nil, err
	}
	set := NewWordSet(words)
	c.mu.Lock()
	if c.sets == nil {
		c.sets = map[int64]cachedSet{}
	}
	c.sets[merchantID] = cachedSet{set: set, at: now}
	c.mu.Unlock()
	return set, nil
}

// Invalidate forgets a merchant's words (after a save on this node).
func (c *WordCache) Invalidate(merchantID int64) {
	c.mu.Lock()
	delete(c.sets, merchantID)
	c.mu.Unlock()
}

func (c *WordCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Strikes counts a viewer's refused spam within a window: Limit strikes in
// Window mutes the viewer automatically (app.PostComment). In memory per
// node: a spammer spread over nodes needs Limit strikes on one of them.
type Strikes struct {
	Limit  int           // default 5
	Window time.Duration // default 10 minutes

	mu   sync.Mutex
	hits map[string][]time.Time
}

// Add records a strike for key at now and reports whether the viewer has
// now reached the limit (the strikes are then cleared).
func (s *Strikes) Add(key string, now time.Time) bool {
	limit, window := s.Limit, s.Window
	if limit <= 0 {
		limit = 5
	}
	if window <= 0 {
		window = 10 * time.Minute
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hits == nil {
		s.hits = map[string][]time.Time{}
	}
	kept := s.hits[key][:0]
	for _, t := range s.hits[key] {
		if now.Sub(t) < window {
			kept = append(kept, t)
		}
	}
	kept = append(kept, now)
	if len(kept) >= limit {
		delete(s.hits, key)
		return true
	}
	s.hits[key] = kept
	if len(s.hits) > 100_000 { // bounded memory
		for k, ts := range s.hits {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) > window {
				delete(s.hits, k)
			}
		}
	}
	return false
}
