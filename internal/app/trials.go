package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/compliance"
	"github.com/shelflive/shelflive/internal/draws"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/trials"
)

// New-product trials (内测). The merchant opens one with its commitment
// (the seed's SHA-256) public at once; fans apply from the trial's page
// (linked from a topic group and the room) once each; when the window
// closes the leader applies the bot rule and the stated rule, saves the
// selection once (the inbox notes in the same transaction), reveals the
// seed, and places the chosen testers' zero-price sample orders, retried
// until placed and at most one each (Idempotency-Key trial-<id> per
// buyer). Feedback follows the handover; reminders are the store's, once
// per tester and reminder.

// TrialInput is what staff send to open a trial.
type TrialInput struct {
	Title        string            `json:"title"`
	Description  string            `json:"description"`
	SKUID        int64             `json:"sku_id"`
	Quota        int               `json:"quota"`
	OpensAt      *time.Time        `json:"opens_at,omitempty"` // default now
	ClosesAt     time.Time         `json:"closes_at"`
	Questions    []trials.Question `json:"questions"`
	Segment      *members.Segment  `json:"segment,omitempty"`
	GroupID      int64             `json:"group_id,omitempty"`
	RoomID       int64             `json:"room_id,omitempty"`
	Fulfilment   order.Fulfilment  `json:"fulfilment"`
	StoreID      int64             `json:"store_id,omitempty"`
	Selection    trials.Selection  `json:"selection"`
	FeedbackDays int               `json:"feedback_days"`
	PublicResult bool              `json:"public_result"`
}

// CreateTrial opens a trial; its commitment is public from now on.
func (a *App) CreateTrial(ctx context.Context, p *identity.Principal, in TrialInput) (*trials.Trial, error) {
	now := a.Now()
	t := &trials.Trial{MerchantID: p.MerchantID, Title: in.Title, Description: in.Description, SKUID: in.SKUID, Quota: in.Quota, OpensAt: now, ClosesAt: in.ClosesAt.UTC(),
		Questions: in.Questions, Segment: in.Segment, GroupID: in.GroupID, RoomID: in.RoomID, Fulfilment: in.Fulfilment, StoreID: in.StoreID,
		Selection: in.Selection, FeedbackDays: in.FeedbackDays, PublicResult: in.PublicResult}
	if in.OpensAt != nil && in.OpensAt.After(now) {
		t.OpensAt = in.OpensAt.UTC()
	}
	if err := t.Validate(now); err != nil {
		return nil, err
	}
	if a.Compliance != nil {
		// A trial's title and text advertise the product like a product page.
		rev, err := a.Compliance.ReviewItems(ctx, p.MerchantID, []compliance.Item{
			{Source: "title", Text: t.Title, Input: compliance.Input{Context: compliance.CtxTitle}},
			{Source: "description", Text: t.Description, Input: compliance.Input{Context: compliance.CtxTitle}}})
		if err != nil {
			return nil, err
		}
		if rev.Blocking {
			var terms []string
			for _, tx := range rev.Texts {
				for _, f := range tx.Findings {
					if f.Severity == compliance.Block {
						terms = append(terms, f.Match)
					}
				}
			}
			list := strings.Join(terms, "、")
			return nil, trials.ErrNoncompliant.With("内测标题或介绍含有违规用语："+list, "The title or description breaks advertising rules: "+list)
		}
	}
	seed, commitment := draws.NewSeed()
	t.SetSecretSeed(seed)
	t.Commitment = commitment
	if err := a.Trials.Create(ctx, t); err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "trial.create", fmt.Sprintf("trial:%d", t.ID), t.Title+" commitment="+commitment)
	return a.Trials.Get(ctx, p.MerchantID, t.ID)
}

// ApplyInput is a fan's application.
type ApplyInput struct {
	Answers     map[string]string `json:"answers"`
	ContactName string            `json:"contact_name,omitempty"`
	Address     string            `json:"address,omitempty"`
}

// ApplyTrial records the viewer's application: within the window, once,
// in the trial's segment when it has one, the form answered.
func (a *App) ApplyTrial(ctx context.Context, p *identity.Principal, id int64, in ApplyInput) (*trials.Application, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, apperr.ErrLoginRequired
	}
	t, err := a.Trials.Get(ctx, p.MerchantID, id)
	if err != nil {
		return nil, err
	}
	if t.Segment != nil {
		in, err := a.InSegment(ctx, p, t.MerchantID, *t.Segment)
		if err != nil {
			return nil, err
		}
		if !in {
			return nil, trials.ErrNotInSegment
		}
	}
	app := &trials.Application{TrialID: t.ID, CustomerID: p.SubjectID, Answers: in.Answers, ContactName: in.ContactName, Address: in.Address, Device: deviceFrom(ctx)}
	if err := t.CheckAnswers(app); err != nil {
		return nil, err
	}
	if err := a.Trials.Apply(ctx, p.MerchantID, app); err != nil {
		return nil, err
	}
	return app, nil
}

// MyTrial is what the trial page shows the viewer about themselves.
type MyTrial struct {
	Applied     bool                `json:"applied"`
	Application *trials.Application `json:"application,omitempty"`
	Chosen      bool                `json:"chosen"`
	Order       *order.Order        `json:"order,omitempty"`
	CanFeedback bool                `json:"can_feedback"`
	Feedback    *trials.Feedback    `json:"feedback,omitempty"`
	// Eligible is false when the trial is for a segment the viewer is not in.
	Eligible bool `json:"eligible"`
}

// MyTrialState reads the viewer's application, sample order and feedback.
func (a *App) MyTrialState(ctx context.Context, p *identity.Principal, t *trials.Trial) (*MyTrial, error) {
	out := &MyTrial{Eligible: true}
	if t.Segment != nil {
		in, err := a.InSegment(ctx, p, t.MerchantID, *t.Segment)
		if err != nil {
			return nil, err
		}
		out.Eligible = in
	}
	app, err := a.Trials.Application(ctx, t.MerchantID, t.ID, p.SubjectID)
	if errors.Is(err, apperr.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.Applied, out.Application, out.Chosen = true, app, app.Position > 0
	if app.OrderID != 0 {
		o, err := a.Orders.Get(ctx, t.MerchantID, app.OrderID)
		if err != nil {
			return nil, err
		}
		out.Order = OrderView(p, o)
		out.CanFeedback = o.Status == order.Completed || o.Status == order.Shipped
	}
	if out.Chosen {
		fb, err := a.Trials.Feedback(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		for i := range fb {
			if fb[i].CustomerID == p.SubjectID {
				out.Feedback, out.CanFeedback = &fb[i], false
			}
		}
	}
	return out, nil
}

// SelectTrialNow closes a trial's applications early and selects (staff).
func (a *App) SelectTrialNow(ctx context.Context, p *identity.Principal, id int64) (*trials.Trial, error) {
	t, err := a.Trials.Get(ctx, p.MerchantID, id)
	if err != nil {
		return nil, err
	}
	if t.Status == trials.Open {
		if err := a.runTrialSelection(ctx, t); err != nil {
			return nil, err
		}
		a.Audit.Audit(ctx, p.MerchantID, p.Name, "trial.select", fmt.Sprintf("trial:%d", t.ID), "")
	}
	return a.Trials.Get(ctx, p.MerchantID, id)
}

// runTrialSelection chooses, saves the selection once, and places the
// sample orders.
func (a *App) runTrialSelection(ctx context.Context, t *trials.Trial) error {
	apps, err := a.Trials.Applications(ctx, t.ID)
	if err != nil {
		return err
	}
	c, err := trials.Choose(t, t.SecretSeed(), apps)
	if err != nil {
		return err
	}
	saved, err := a.Trials.SaveSelection(ctx, t.ID, c)
	if err != nil || !saved {
		return err // selected already (another node, or staff at the same moment)
	}
	if a.Channels != nil {
		a.Channels.Wake()
	}
	a.emit(t.MerchantID, "trial.selected", "trial.selected:"+strconv.FormatInt(t.ID, 10), map[string]any{"trial": map[string]any{
		"id": t.ID, "title": t.Title, "sku_id": t.SKUID, "quota": t.Quota, "applicants": len(apps), "excluded": len(c.Excluded), "chosen": len(c.Chosen),
		"selection": t.Selection, "commitment": t.Commitment, "seed": t.SecretSeed()}})
	a.placeSamples(ctx)
	return nil
}

// tickTrials selects the trials whose window closed, places sample orders
// still owed, and writes the feedback reminders due (leader).
func (a *App) tickTrials(ctx context.Context) {
	if a.Trials == nil {
		return
	}
	due, err := a.Trials.Due(ctx, a.Now())
	if err != nil {
		a.Logger.Error("trials: due", "err", err)
		return
	}
	for i := range due {
		if err := a.runTrialSelection(ctx, &due[i]); err != nil {
			a.Logger.Error("trials: select", "trial", due[i].ID, "err", err)
		}
	}
	a.placeSamples(ctx)
	if a.Now().Sub(a.lastTrialReminds) >= 5*time.Second {
		a.lastTrialReminds = a.Now()
		n, err := a.Trials.RemindFeedback(ctx, a.Now())
		if err != nil {
			a.Logger.Error("trials: feedback reminders", "err", err)
		}
		if n > 0 && a.Channels != nil {
			a.Channels.Wake()
		}
	}
}

// placeSamples makes the chosen testers' zero-price orders: one unit of
// the trial's SKU, picked up at its store or delivered to the address
// they gave, paid at once, reserved FEFO and checked sellable like any
// order. A sample that cannot be placed now (out of stock, a lot on hold)
// is tried again on the next tick.
func (a *App) placeSamples(ctx context.Context) {
	pending, err := a.Trials.PendingSamples(ctx)
	if err != nil {
		a.Logger.Error("trials: samples", "err", err)
		return
	}
	for _, pd := range pending {
		t, ap := pd.Trial, pd.Application
		c, err := a.Users.Customer(ctx, t.MerchantID, ap.CustomerID)
		if err != nil {
			a.Logger.Warn("trials: sample buyer", "trial", t.ID, "err", err)
			continue
		}
		o := &order.Order{MerchantID: t.MerchantID, CustomerID: ap.CustomerID, RoomID: t.RoomID, TrialID: t.ID, Fulfilment: t.Fulfilment, StoreID: t.StoreID,
			ContactName: ap.ContactName, ContactPhone: c.Phone, Address: ap.Address,
			IdempotencyKey: "trial-" + strconv.FormatInt(t.ID, 10), RequestHash: "trial", ReserveExpiresAt: a.Now().Add(a.ReserveFor), CouponPick: "none"}
		created, err := a.Orders.Create(ctx, o, []order.Item{{SKUID: t.SKUID, Quantity: 1}})
		if err != nil {
			a.Logger.Warn("trials: sample order", "trial", t.ID, "customer", ap.CustomerID, "err", err)
			continue
		}
		if created {
			a.PublishOrder(o, "order.created", "")
			a.emitOrder(o)
		}
		if err := a.Trials.SetSampleOrder(ctx, t.ID, ap.CustomerID, o.ID); err != nil {
			a.Logger.Warn("trials: sample order saved", "trial", t.ID, "err", err)
		}
	}
}

// TrialFeedback stores a chosen tester's feedback (once, after handover)
// and tells the merchant's endpoints.
func (a *App) TrialFeedback(ctx context.Context, p *identity.Principal, id int64, fb *trials.Feedback) error {
	if p == nil || p.Kind != identity.KindCustomer {
		return apperr.ErrLoginRequired
	}
	t, err := a.Trials.Get(ctx, p.MerchantID, id)
	if err != nil {
		return err
	}
	fb.TrialID, fb.CustomerID = t.ID, p.SubjectID
	if err := fb.Validate(); err != nil {
		return err
	}
	if err := a.Trials.SaveFeedback(ctx, p.MerchantID, fb); err != nil {
		return err
	}
	a.emit(t.MerchantID, "trial.feedback", fmt.Sprintf("trial.feedback:%d:%d", t.ID, p.SubjectID), map[string]any{"feedback": map[string]any{
		"trial_id": t.ID, "title": t.Title, "sku_id": t.SKUID, "ratings": fb.Ratings, "text": fb.Text, "created_at": fb.CreatedAt}})
	return nil
}

// TrialResults are a trial's figures for the merchant; co-creation drafts
// link to them (GET /api/v1/trials/{id}/results).
func (a *App) TrialResults(ctx context.Context, merchantID, id int64) (*trials.Results, error) {
	return a.Trials.Results(ctx, merchantID, id)
}

// PublicTrialSummary is the results without texts and answers, when the
// merchant made them public (not_found otherwise).
func (a *App) PublicTrialSummary(ctx context.Context, t *trials.Trial) (*trials.Results, error) {
	if !t.PublicResult || t.Status != trials.Selected {
		return nil, apperr.ErrNotFound
	}
	r, err := a.Trials.Results(ctx, t.MerchantID, t.ID)
	if err != nil {
		return nil, err
	}
	return r.Public(), nil
}

// TrialDraw is a selected trial's tier as a draw document that `shelflive
// draw verify --url` recomputes: the revealed seed and commitment, the
// tier's eligible applicants (customer ids, masked phones), the excluded
// ones (tier 1 only) and the tier's chosen in order; the number of
// winners is what the tier could take (the quota, less tier 1's chosen).
func (a *App) TrialDraw(ctx context.Context, t *trials.Trial, tier int) (*draws.Result, error) {
	if tier != 1 && !(tier == 2 && t.Selection == trials.SelectGroupFirst) {
		return nil, apperr.ErrNotFound
	}
	res := &draws.Result{Draw: draws.Draw{ID: t.ID, Title: t.Title, Commitment: t.Commitment, Seed: t.Seed, Winners: t.Quota, Status: draws.Open,
		OpensAt: t.OpensAt, ClosesAt: t.ClosesAt, DrawnAt: t.SelectedAt, Entrants: t.Applicants, CreatedAt: t.CreatedAt},
		Entries: []draws.Entrant{}, Excluded: []draws.Entrant{}, Winners: []draws.Winner{}}
	if t.Status != trials.Selected {
		return res, nil
	}
	res.Draw.Status = draws.Drawn
	apps, err := a.Trials.Applications(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	var chosen []trials.Application
	tier1 := 0
	for _, ap := range apps {
		e := draws.Entrant{CustomerID: ap.CustomerID, Name: ap.Name, EnteredAt: ap.AppliedAt, Excluded: ap.Excluded}
		switch {
		case ap.Excluded != "" && tier == 1:
			res.Excluded = append(res.Excluded, e)
		case ap.Tier == tier:
			res.Entries = append(res.Entries, e)
		}
		if ap.Position > 0 && ap.Tier == 1 {
			tier1++
		}
		if ap.Position > 0 && ap.Tier == tier {
			chosen = append(chosen, ap)
		}
	}
	if tier == 2 {
		res.Draw.Winners = t.Quota - tier1
	}
	for len(chosen) > 0 { // by position
		best := 0
		for i := range chosen {
			if chosen[i].Position < chosen[best].Position {
				best = i
			}
		}
		ap := chosen[best]
		res.Winners = append(res.Winners, draws.Winner{CustomerID: ap.CustomerID, Name: ap.Name, Position: ap.Position, OrderID: ap.OrderID})
		chosen = append(chosen[:best], chosen[best+1:]...)
	}
	return res, nil
}

// roomTrials are the open trials a room shows as cards.
func (a *App) roomTrials(ctx context.Context, r *live.Room) []trials.Trial {
	out := []trials.Trial{}
	if a.Trials == nil {
		return out
	}
	list, err := a.Trials.List(ctx, r.MerchantID, trials.Filter{RoomID: r.ID, Status: trials.Open})
	if err != nil {
		return out
	}
	return list
}
