package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/insight"
	"github.com/shelflive/shelflive/internal/live"
)

// ViewerJoined records that a viewer's connection joined a room and returns
// the function to call when it leaves (it records the watch time). Both
// only queue an event: the connection never waits for analytics.
func (a *App) ViewerJoined(room *live.Room, visitor string) (left func()) {
	if a.Analytics == nil {
		return func() {}
	}
	var b [8]byte
	rand.Read(b[:])
	session := hex.EncodeToString(b[:])
	if visitor == "" {
		visitor = "anon-" + session // no first-party id: one visitor per connection
	}
	start := a.Now()
	a.Analytics.Record(insight.Event{MerchantID: room.MerchantID, RoomID: room.ID, Kind: insight.ViewStart, Visitor: visitor, Session: session, At: start})
	return func() {
		now := a.Now()
		a.Analytics.Record(insight.Event{MerchantID: room.MerchantID, RoomID: room.ID, Kind: insight.ViewEnd, Visitor: visitor, Session: session,
			Value: now.Sub(start).Milliseconds(), At: now})
	}
}

// RecordClientEvent takes a card or checkout event a viewer's page sent.
// p is the caller when logged in (nil otherwise): a customer of the room's
// merchant is recorded with the event, which pairs the visitor with what
// that customer asked and bought (the A/B verdict's paired test).
func (a *App) RecordClientEvent(room *live.Room, visitor string, p *identity.Principal, e insight.Event) error {
	if err := e.ValidateClient(room.ProductIDs); err != nil {
		return err
	}
	e.MerchantID, e.RoomID, e.Visitor, e.Session, e.Code, e.Value, e.At = room.MerchantID, room.ID, visitor, "", "", 0, a.Now()
	e.CustomerID = 0
	if p != nil && p.Kind == identity.KindCustomer && p.MerchantID == room.MerchantID {
		e.CustomerID = p.SubjectID
	}
	a.Analytics.Record(e)
	return nil
}

// RecordShare notes that a share link with the attribution code was made.
func (a *App) RecordShare(room *live.Room, visitor, code string) {
	a.Analytics.Record(insight.Event{MerchantID: room.MerchantID, RoomID: room.ID, Kind: insight.Share, Visitor: visitor, Code: code, At: a.Now()})
}

func (a *App) recordLikes(roomID, n int64) {
	if a.Analytics == nil {
		return
	}
	room, err := a.Live.RoomByID(context.Background(), roomID)
	if err != nil {
		return
	}
	a.Analytics.Record(insight.Event{MerchantID: room.MerchantID, RoomID: roomID, Kind: insight.Likes, Value: n, At: a.Now()})
}

// RoomStats are the dashboard numbers of a room now: what the tables say
// plus the viewers connected at this moment.
func (a *App) RoomStats(ctx context.Context, room *live.Room) (insight.RoomStats, error) {
	a.Analytics.Flush(ctx)
	act, err := a.Insight.RoomActivity(ctx, room.MerchantID, room.ID)
	if err != nil {
		return insight.RoomStats{}, err
	}
	st := insight.Summarize(room.ID, act, a.Now())
	st.ViewersNow = a.Hub.Viewers(room.Topic())
	return st, nil
}

// CatalogProducts lists a merchant's products as the comment reader knows
// them (names, aliases, specs, SKU names).
func (a *App) CatalogProducts(ctx context.Context, merchantID int64) ([]insight.CatalogProduct, error) {
	list, err := a.Catalog.ListProducts(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	out := make([]insight.CatalogProduct, 0, len(list))
	for _, p := range list {
		cp := insight.CatalogProduct{ID: p.ID, Name: p.Name, NameEN: p.NameEN, Aliases: p.Aliases, Specs: p.Specs}
		for _, k := range p.SKUs {
			cp.SKUs = append(cp.SKUs, insight.CatalogSKU{ID: k.ID, Name: k.Name})
		}
		out = append(out, cp)
	}
	return out, nil
}

// Classify reads texts against the caller's catalogue (or the candidate
// products), as the comment reader would, so a merchant can try aliases.
func (a *App) Classify(ctx context.Context, p *identity.Principal, texts []string, candidates []int64) ([]insight.Result, error) {
	if a.Comments == nil {
		return nil, insight.ErrNotReady
	}
	return a.Comments.Classify(ctx, p.MerchantID, texts, candidates)
}

// RoomSignals are a room's comment insights: per product mentions,
// questions by intent, sentiment, card opens, orders, time to first order,
// and the questions nobody answered yet.
func (a *App) RoomSignals(ctx context.Context, room *live.Room) (insight.RoomSignals, error) {
	a.Analytics.Flush(ctx)
	if err := a.Comments.Drain(ctx); err != nil {
		return insight.RoomSignals{}, err
	}
	counts, err := a.Signals.SignalCounts(ctx, room.MerchantID, room.ID)
	if err != nil {
		return insight.RoomSignals{}, err
	}
	open, err := a.Signals.OpenQuestions(ctx, room.MerchantID, room.ID, 200)
	if err != nil {
		return insight.RoomSignals{}, err
	}
	act, err := a.Insight.RoomActivity(ctx, room.MerchantID, room.ID)
	if err != nil {
		return insight.RoomSignals{}, err
	}
	return insight.Signals(room.ID, counts, act.Products, open, room.StartedAt), nil
}

// MarkAnswered closes a viewer's question the host answered aloud.
func (a *App) MarkAnswered(ctx context.Context, room *live.Room, commentID int64) error {
	return a.Signals.MarkAnswered(ctx, room.MerchantID, room.ID, commentID, a.Now())
}

// ABResult compares two variants: which is asked about more and which
// converts better, among the viewers who were shown each card.
type ABResult struct {
	Asked     insight.Comparison `json:"asked"`
	Converted insight.Comparison `json:"converted"`
}

// ABVerdict compares product a in roomA with product b in roomB (the same
// room for two variants in one live; two rooms of the merchant for the same
// product in two lives, or two products each in its own). Trials are the
// distinct viewers shown the card in that arm's room; successes the
// distinct viewers who asked about it there, and the distinct buyers who
// paid for it there. Across rooms the comparisons say so (AcrossRooms).
// When most viewers of each arm were shown both cards (one live), each
// verdict is McNemar's test on those viewers' paired outcomes
// (insight.Comparison.WithPairs), not the tests for independent arms,
// unless those outcomes cannot be linked to the viewers (a live recorded
// before events carried the customer: PairsUnlinked).
// The caller has checked that it may read both rooms.
func (a *App) ABVerdict(ctx context.Context, roomA, roomB *live.Room, productA, productB int64) (*ABResult, error) {
	a.Analytics.Flush(ctx)
	if err := a.Comments.Drain(ctx); err != nil {
		return nil, err
	}
	arm := func(room *live.Room, product int64, notIn error) (asked, bought insight.Arm, err error) {
		act, err := a.Insight.RoomActivity(ctx, room.MerchantID, room.ID)
		if err != nil {
			return asked, bought, err
		}
		askers, err := a.Signals.Askers(ctx, room.MerchantID, room.ID)
		if err != nil {
			return asked, bought, err
		}
		for _, p := range act.Products {
			if p.ProductID == product {
				asked = insight.Arm{ProductID: product, Name: p.Name, NameEN: p.NameEN, Room: room.Slug, RoomTitle: room.Title, RoomTitleEN: room.TitleEN, Successes: askers[product], Trials: p.Shown}
				bought = asked
				bought.Successes = p.Buyers
				return asked, bought, nil
			}
		}
		return asked, bought, notIn
	}
	askA, buyA, err := arm(roomA, productA, insight.ErrNotInRoom)
	if err != nil {
		return nil, err
	}
	askB, buyB, err := arm(roomB, productB, insight.ErrNotInRoom.At("b"))
	if err != nil {
		return nil, err
	}
	asked, bought, err := a.Insight.PairedOutcomes(ctx, roomA.MerchantID, roomA.ID, productA, roomB.ID, productB)
	if err != nil {
		return nil, err
	}
	return &ABResult{
		Asked:     insight.Compare("asked", askA, askB).WithPairs(asked),
		Converted: insight.Compare("converted", buyA, buyB).WithPairs(bought),
	}, nil
}

// BrandRooms is the brand view: every room's audience and sales, with the
// viewers watching now; staff bound to one store see its rooms only.
func (a *App) BrandRooms(ctx context.Context, p *identity.Principal) ([]insight.RoomSummary, error) {
	a.Analytics.Flush(ctx)
	all, err := a.Insight.(insight.BrandStore).BrandRooms(ctx, p.MerchantID)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, r := range all {
		if at := p.AtStore(); at != 0 && r.StoreID != at {
			continue
		}
		r.ViewersNow = a.Hub.Viewers(live.RoomTopic(r.RoomID))
		out = append(out, r)
	}
	return out, nil
}

// RoomReport is the post-live report: the dashboard numbers, the comment
// insights and the merchant's earlier lives (of the same store, when the
// room belongs to one) to compare with.
func (a *App) RoomReport(ctx context.Context, p *identity.Principal, room *live.Room) (*insight.Report, error) {
	st, err := a.RoomStats(ctx, room)
	if err != nil {
		return nil, err
	}
	sig, err := a.RoomSignals(ctx, room)
	if err != nil {
		return nil, err
	}
	rooms, err := a.BrandRooms(ctx, p)
	if err != nil {
		return nil, err
	}
	rep := &insight.Report{RoomID: room.ID, Slug: room.Slug, Title: room.Title, Started: room.StartedAt, Ended: room.EndedAt, Stats: st, Signals: sig, Earlier: []insight.RoomSummary{}}
	for _, r := range rooms {
		switch {
		case r.RoomID == room.ID:
			rep.This = r
		case r.RoomID < room.ID && r.Status != string(live.Scheduled) && r.StoreID == room.StoreID && len(rep.Earlier) < 5:
			rep.Earlier = append(rep.Earlier, r)
		}
	}
	return rep, nil
}
