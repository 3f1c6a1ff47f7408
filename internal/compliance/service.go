package compliance

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Store keeps each merchant's terms, evidence and room scripts.
type Store interface {
	// Terms and Evidence list a merchant's own rules and proof, oldest first.
	Terms(ctx context.Context, merchantID int64) ([]Term, error)
	Evidence(ctx context.Context, merchantID int64) ([]Evidence, error)
	// AddTerm returns conflict (term_exists) when the merchant has the term already.
	AddTerm(ctx context.Context, t *Term) error
	AddEvidence(ctx context.Context, e *Evidence) error
	// DeleteTerm and DeleteEvidence answer not_found for another merchant's id.
	DeleteTerm(ctx context.Context, merchantID, id int64) error
	DeleteEvidence(ctx context.Context, merchantID, id int64) error
	// Script is a room's host script ("" when none was written).
	Script(ctx context.Context, merchantID, roomID int64) (string, error)
	SetScript(ctx context.Context, merchantID, roomID int64, body, by string) error
}

// Service reviews texts with the base rules plus the merchant's layer. The
// layer is cached per merchant for a few seconds (every node of a cluster
// sees a change within cacheTTL; the node that made it at once), so the
// comment hot path does not read the database.
type Service struct {
	Store Store
	Now   func() time.Time

	mu    sync.Mutex
	cache map[int64]cached
}

type cached struct {
	rs *Ruleset
	at time.Time
}

const cacheTTL = 5 * time.Second

// NewService returns a service over store.
func NewService(store Store, now func() time.Time) *Service {
	return &Service{Store: store, Now: now, cache: map[int64]cached{}}
}

// Rules returns the merchant's compiled rules.
func (s *Service) Rules(ctx context.Context, merchantID int64) (*Ruleset, error) {
	now := s.Now()
	s.mu.Lock()
	c, ok := s.cache[merchantID]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < cacheTTL && now.Sub(c.at) >= 0 {
		return c.rs, nil
	}
	terms, err := s.Store.Terms(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	ev, err := s.Store.Evidence(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	layer := ""
	if len(terms)+len(ev) > 0 {
		layer = "m" + strconv.FormatInt(merchantID, 10) + "." + strconv.Itoa(len(terms)) + "t" + strconv.Itoa(len(ev)) + "e"
	}
	rs := Base().With(layer, terms, ev, now)
	s.mu.Lock()
	s.cache[merchantID] = cached{rs: rs, at: now}
	s.mu.Unlock()
	return rs, nil
}

// Forget drops a merchant's cached rules after its terms or evidence changed.
func (s *Service) Forget(merchantID int64) {
	s.mu.Lock()
	delete(s.cache, merchantID)
	s.mu.Unlock()
}

// Check reviews texts in order.
func (s *Service) Check(ctx context.Context, merchantID int64, texts []string, in Input) ([]Result, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if len(texts) == 0 || len(texts) > 100 {
		return nil, ErrTexts
	}
	for _, t := range texts {
		if len([]rune(t)) > 5000 {
			return nil, ErrTexts
		}
	}
	rs, err := s.Rules(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(texts))
	for i, t := range texts {
		out[i] = rs.Check(t, in)
	}
	return out, nil
}

// Labeled is one reviewed text with where it comes from, for the go-live
// review and the product warnings.
type Labeled struct {
	Source string `json:"source"` // "title", "script", "product:12.description" …
	Text   string `json:"text"`
	Result
}

// Review is the go-live review of a room: every text with findings.
type Review struct {
	RulesVersion string    `json:"rules_version"`
	Blocking     bool      `json:"blocking"`
	Texts        []Labeled `json:"texts"`
}

// Item is a text to review with its source and how to read it.
type Item struct {
	Source string
	Text   string
	Input  Input
}

// ReviewItems reviews texts from several sources; only texts with findings
// are kept in the answer.
func (s *Service) ReviewItems(ctx context.Context, merchantID int64, items []Item) (*Review, error) {
	rs, err := s.Rules(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	rev := &Review{RulesVersion: rs.Version(), Texts: []Labeled{}}
	for _, it := range items {
		if it.Text == "" {
			continue
		}
		res := rs.Check(it.Text, it.Input)
		if len(res.Findings) == 0 {
			continue
		}
		rev.Blocking = rev.Blocking || res.Blocking()
		rev.Texts = append(rev.Texts, Labeled{Source: it.Source, Text: it.Text, Result: res})
	}
	return rev, nil
}
