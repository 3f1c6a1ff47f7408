package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/freshness"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/members"
)

// ClearanceCandidates prices the near-expiry stock of one store (0: all)
// by the merchant's rules, soonest expiry first.
func (a *App) ClearanceCandidates(ctx context.Context, p *identity.Principal, storeID int64) ([]freshness.Candidate, freshness.Rules, error) {
	rs, err := a.Clearance.Rules(ctx, p.MerchantID)
	if err != nil {
		return nil, nil, err
	}
	if st := p.AtStore(); st != 0 {
		storeID = st // store staff see their own store only
	}
	now := a.Now()
	lead := 0
	for _, r := range rs {
		lead = max(lead, r.LeadHours)
	}
	lots, err := a.Clearance.SellableLots(ctx, p.MerchantID, storeID, now, now.Add(time.Duration(lead)*time.Hour))
	if err != nil {
		return nil, nil, err
	}
	return freshness.Candidates(rs, lots, now), rs, nil
}

// SaveClearanceRules validates and stores the merchant's rules.
func (a *App) SaveClearanceRules(ctx context.Context, p *identity.Principal, rs freshness.Rules) (freshness.Rules, error) {
	if err := rs.Validate(); err != nil {
		return nil, err
	}
	if err := a.Clearance.SaveRules(ctx, p.MerchantID, rs); err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "clearance.rules", "clearance_rules", freshness.MarshalRules(rs))
	return rs, nil
}

// ClearanceRequest is one click in the admin: which store, which SKUs (none
// = every candidate), when and for how long.
type ClearanceRequest struct {
	StoreID      int64     `json:"store_id"`
	SKUIDs       []int64   `json:"sku_ids"`
	StartsAt     time.Time `json:"starts_at"`
	Minutes      int       `json:"minutes"`
	PerUserLimit int64     `json:"per_user_limit"`
	HostName     string    `json:"host_name"`
	// Segment, when set, makes the session for that segment only (e.g.
	// members): others see the way to join, not the goods.
	Segment *members.Segment `json:"segment,omitempty"`
}

// CreateClearanceSession makes a clearance live for one store: a scheduled
// room whose lineup is the store's near-expiry SKUs, and for each SKU a
// flash sale over its soonest-expiring lot at the ladder price, limited in
// quantity (what that lot has left in the store) and time. Flash sales take
// stock first-expiry-first, so the sale sells exactly the near-expiry units.
// Pickup is at the store that holds them. The session is recorded for the
// waste-saved report. The room, its audience, the sales and the session are
// written in one transaction (freshness.Store.CreateSession): a failure
// part way leaves nothing behind. Only then are the sales started (those
// that start now, on the leader) or announced, and the session audited.
// It is long because it builds the one transaction's offers, sales and
// session, then starts what the commit allows.
func (a *App) CreateClearanceSession(ctx context.Context, p *identity.Principal, req ClearanceRequest) (*freshness.Session, error) {
	if req.Minutes == 0 {
		req.Minutes = 60
	}
	if req.PerUserLimit == 0 {
		req.PerUserLimit = 5
	}
	if req.StoreID <= 0 || req.Minutes < 10 || req.Minutes > 12*60 || req.PerUserLimit < 1 || req.PerUserLimit > 99 {
		return nil, freshness.ErrSession
	}
	store, err := a.Stores.Store(ctx, p.MerchantID, req.StoreID)
	if err != nil {
		if apperr.As(err).Kind == apperr.NotFound {
			return nil, freshness.ErrSession // another merchant's store, or none
		}
		return nil, err
	}
	cands, _, err := a.ClearanceCandidates(ctx, p, req.StoreID)
	if err != nil {
		return nil, err
	}
	// One offer per SKU: its soonest-expiring candidate lot (cands are sorted so).
	var offers []freshness.Candidate
	seen := map[int64]bool{}
	for _, c := range cands {
		if seen[c.SKUID] || (len(req.SKUIDs) > 0 && !slices.Contains(req.SKUIDs, c.SKUID)) {
			continue
		}
		seen[c.SKUID] = true
		offers = append(offers, c)
	}
	if len(offers) == 0 {
		return nil, freshness.ErrNoCandidates
	}
	start := req.StartsAt
	if start.IsZero() || start.Before(a.Now()) {
		start = a.Now()
	}
	end := start.Add(time.Duration(req.Minutes) * time.Minute)
	day := start.In(cn.Shanghai)
	room := &live.Room{MerchantID: p.MerchantID, Status: live.Scheduled, StreamKey: live.NewStreamKey(),
		Slug:     fmt.Sprintf("clear-%d-%s", store.ID, day.Format("0102-1504")),
		Title:    fmt.Sprintf("临期特惠 · %s · %s", store.Name, day.Format("1月2日 15:04")),
		TitleEN:  fmt.Sprintf("Near-expiry deals · %s · %s", storeNameEN(store.NameEN, store.Name), day.Format("2 Jan 15:04")),
		HostName: req.HostName, ScheduledAt: &start}
	if room.HostName == "" {
		room.HostName = store.Name
	}
	if err := room.Validate(); err != nil {
		return nil, err
	}
	// The audience is set in the same transaction as the sales, so none of
	// their events reaches the public topic.
	if err := a.validAudience(ctx, p, req.Segment); err != nil {
		return nil, err
	}
	sess := &freshness.Session{MerchantID: p.MerchantID, StoreID: store.ID, StartsAt: start, EndsAt: end, CreatedBy: p.Name}
	open := &freshness.Opening{Room: room, Audience: req.Segment, Session: sess}
	for _, o := range offers {
		if !slices.Contains(open.Lineup, o.ProductID) {
			open.Lineup = append(open.Lineup, o.ProductID)
		}
		s := &flashsale.Sale{MerchantID: p.MerchantID, SKUID: o.SKUID, StoreID: store.ID, PriceFen: o.PriceFen, Quantity: o.Available,
			PerUserLimit: min(req.PerUserLimit, o.Available), StartsAt: start, EndsAt: end}
		if err := s.Validate(a.Now()); err != nil {
			return nil, err
		}
		open.Sales = append(open.Sales, s)
		sess.Items = append(sess.Items, freshness.Item{SKUID: o.SKUID, ProductID: o.ProductID, Storage: o.Storage,
			RegularFen: o.RegularFen, PriceFen: o.PriceFen, Quantity: o.Available, GramsEach: o.GramsEach, ExpiresAt: o.ExpiresAt})
	}
	if err := a.Clearance.CreateSession(ctx, open); err != nil {
		return nil, err
	}
	if req.Segment != nil {
		a.audienceSet(ctx, p, room, req.Segment)
	}
	for _, s := range open.Sales {
		a.auditFlashCreate(ctx, p, s)
		a.flashCreated(ctx, s)
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "clearance.session", "room:"+room.Slug, fmt.Sprintf("%d offers at %s", len(sess.Items), store.Name))
	return sess, nil
}

// WasteSaved is the report over sessions that started in [from, to).
func (a *App) WasteSaved(ctx context.Context, p *identity.Principal, from, to time.Time) ([]freshness.SavedRow, error) {
	return a.Clearance.WasteSaved(ctx, p.MerchantID, from, to)
}

func storeNameEN(en, zh string) string {
	if en != "" {
		return en
	}
	return zh
}
