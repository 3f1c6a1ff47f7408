package identity

import (
	"context"
	"log/slog"
)

// Revocation names sessions that must stop working now, on every node.
// Each node caches authenticated sessions for cacheTTL; a revocation is
// applied to the database first, then evicted from this node's cache and
// published so the other nodes evict theirs (RevocationBus).
type Revocation struct {
	MerchantID int64 `json:"m"`
	SessionID  int64 `json:"s,omitempty"`  // one session (logout, token revoked)
	StaffID    int64 `json:"st,omitempty"` // every session of a staff member…
	Keep       int64 `json:"k,omitempty"`  // …except this one (the session that changed its own password)
	// Neither SessionID nor StaffID: every session of the merchant (disabled).
}

// RevocationBus carries revocations to the other nodes of a deployment
// (natshub over NATS); nil on a single node.
type RevocationBus interface {
	PublishRevocation(ctx context.Context, r Revocation) error
}

// matches reports whether a cached principal is one of r's sessions.
func (r Revocation) matches(p *Principal) bool {
	if p.MerchantID != r.MerchantID {
		return false
	}
	switch {
	case r.SessionID != 0:
		return p.SessionID == r.SessionID
	case r.StaffID != 0:
		return p.Kind == KindStaff && p.SubjectID == r.StaffID && p.SessionID != r.Keep
	}
	return true
}

// Evict drops r's sessions from this node's cache. The bus subscriber
// calls it for revocations made on other nodes. It also bumps the cache
// generation, so a lookup that read the session before the revocation
// committed does not put it back (see remember).
func (s *Service) Evict(r Revocation) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	s.gen++
	for h, c := range s.cache {
		if r.matches(&c.p) {
			delete(s.cache, h)
		}
	}
}

// Revoked evicts r here and tells the other nodes. A failed publish is
// logged: the other nodes then keep the session at most cacheTTL longer.
func (s *Service) Revoked(ctx context.Context, r Revocation) {
	s.Evict(r)
	if s.Bus == nil {
		return
	}
	if err := s.Bus.PublishRevocation(ctx, r); err != nil {
		logger := s.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.Warn("session revocation not published to other nodes; they drop the session within the cache time", "err", err)
	}
}
