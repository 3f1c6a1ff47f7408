package app

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/assist"
	"github.com/shelflive/shelflive/internal/compliance"
	"github.com/shelflive/shelflive/internal/insight"
	"github.com/shelflive/shelflive/internal/live"
)

// Assistant is the studio's host assistant: it answers the room's open
// questions from the merchant's facts (and, with Model, an LLM's wording
// that still cites them and passes the compliance review), and keeps each
// answer so a studio refresh does not ask the model again.
type Assistant struct {
	Model assist.Model // nil: offline (templates over the facts)
	// LotVerdict returns a lot's cold-chain verdict; nil leaves it out.
	LotVerdict func(ctx context.Context, merchantID, lotID int64) (string, error)
	Trend      interface {
		SentimentTrend(ctx context.Context, merchantID, roomID int64, since time.Time) ([]assist.TrendPoint, error)
	}

	mu      sync.Mutex
	answers map[int64]assist.Suggestion // comment id → suggestion
}

// AssistantView is what the studio's assistant panel shows.
type AssistantView struct {
	Questions     []AssistQuestion    `json:"questions"`
	TalkingPoints []ProductPoints     `json:"talking_points"`
	Sentiment     []assist.TrendPoint `json:"sentiment"`
	Mode          string              `json:"mode"` // offline | llm
	byProduct     map[int64]factsOfProd
}

// AssistQuestion is an unanswered viewer question with a suggested answer.
type AssistQuestion struct {
	CommentID  int64             `json:"comment_id"`
	Author     string            `json:"author"`
	Text       string            `json:"text"`
	Intent     insight.Intent    `json:"intent"`
	ProductID  int64             `json:"product_id,omitempty"`
	At         time.Time         `json:"at"`
	Suggestion assist.Suggestion `json:"suggestion"`
}

// ProductPoints are the talking points of one product of the lineup.
type ProductPoints struct {
	ProductID int64          `json:"product_id"`
	Name      string         `json:"name"`
	Points    []assist.Point `json:"points"`
}

type factsOfProd struct {
	name  string
	facts []assist.Fact
}

// productFacts gathers one product's facts: the product, the lot a buyer
// gets now (first to expire, not held) with its cold-chain verdict, the
// pickup stores and the refund policy.
func (a *App) productFacts(ctx context.Context, merchantID, productID int64) (factsOfProd, error) {
	p, err := a.Catalog.Product(ctx, merchantID, productID)
	if err != nil {
		return factsOfProd{}, err
	}
	var lot *assist.Lot
	now := a.Now()
	for _, k := range p.SKUs {
		lots, err := a.Inventory.ListLots(ctx, merchantID, k.ID)
		if err != nil {
			return factsOfProd{}, err
		}
		for _, l := range lots {
			if l.Hold || !l.ExpiresAt.After(now) || (lot != nil && !l.ExpiresAt.Before(lot.ExpiresAt)) {
				continue
			}
			lot = &assist.Lot{ID: l.ID, Code: l.Code, ProducedAt: l.ProducedAt, ExpiresAt: l.ExpiresAt, Origin: l.Origin}
		}
	}
	if lot != nil && a.Assist != nil && a.Assist.LotVerdict != nil {
		if v, err := a.Assist.LotVerdict(ctx, merchantID, lot.ID); err == nil {
			lot.Verdict = v
		}
	}
	list, err := a.Stores.ListStores(ctx, merchantID)
	if err != nil {
		return factsOfProd{}, err
	}
	var ss []assist.Store
	for _, s := range list {
		ss = append(ss, assist.Store{Name: s.Name, Hours: s.Hours})
	}
	return factsOfProd{name: p.Name, facts: assist.ProductFacts(p, lot, ss)}, nil
}

// RoomAssistant answers the room's open questions (the newest 10), lists
// talking points for the lineup and the comments' sentiment per minute.
func (a *App) RoomAssistant(ctx context.Context, room *live.Room) (*AssistantView, error) {
	as := a.Assist
	if as == nil {
		as = &Assistant{}
	}
	v := &AssistantView{Questions: []AssistQuestion{}, TalkingPoints: []ProductPoints{}, Sentiment: []assist.TrendPoint{}, Mode: "offline", byProduct: map[int64]factsOfProd{}}
	if as.Model != nil {
		v.Mode = "llm"
	}
	facts := func(id int64) (factsOfProd, bool) {
		if id == 0 {
			return factsOfProd{}, false
		}
		if f, ok := v.byProduct[id]; ok {
			return f, true
		}
		f, err := a.productFacts(ctx, room.MerchantID, id)
		if err != nil {
			return factsOfProd{}, false
		}
		v.byProduct[id] = f
		return f, true
	}
	rules, err := a.complianceRules(ctx, room.MerchantID)
	if err != nil {
		return nil, err
	}
	if a.Comments != nil && a.Signals != nil {
		if err := a.Comments.Drain(ctx); err != nil {
			return nil, err
		}
		open, err := a.Signals.OpenQuestions(ctx, room.MerchantID, room.ID, 10)
		if err != nil {
			return nil, err
		}
		for _, q := range open {
			pid := q.ProductID
			if pid == 0 {
				pid = room.PinnedProductID
			}
			f, _ := facts(pid)
			v.Questions = append(v.Questions, AssistQuestion{CommentID: q.CommentID, Author: q.Author, Text: q.Text, Intent: q.Intent,
				ProductID: pid, At: q.At, Suggestion: as.suggest(ctx, q.CommentID, rules, q.Text, f)})
		}
	}
	for _, id := range room.ProductIDs {
		if f, ok := facts(id); ok {
			v.TalkingPoints = append(v.TalkingPoints, ProductPoints{ProductID: id, Name: f.name, Points: assist.TalkingPoints(f.name, f.facts)})
		}
	}
	if room.PinnedProductID != 0 { // the card on screen first
		sort.SliceStable(v.TalkingPoints, func(i, j int) bool { return v.TalkingPoints[i].ProductID == room.PinnedProductID })
	}
	if as.Trend != nil {
		if v.Sentiment, err = as.Trend.SentimentTrend(ctx, room.MerchantID, room.ID, a.Now().Add(-30*time.Minute)); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// SuggestAnswer answers a question the host typed about one product (or
// the pinned card).
func (a *App) SuggestAnswer(ctx context.Context, room *live.Room, question string, productID int64) (assist.Suggestion, error) {
	question = strings.TrimSpace(question)
	if question == "" || len([]rune(question)) > 200 {
		return assist.Suggestion{}, assist.ErrQuestion
	}
	if productID == 0 {
		productID = room.PinnedProductID
	}
	var f factsOfProd
	if productID != 0 {
		if !containsID(room.ProductIDs, productID) && productID != room.PinnedProductID {
			return assist.Suggestion{}, assist.ErrProduct
		}
		var err error
		if f, err = a.productFacts(ctx, room.MerchantID, productID); err != nil {
			return assist.Suggestion{}, apperr.NotFoundAs(err, assist.ErrProduct)
		}
	}
	rules, err := a.complianceRules(ctx, room.MerchantID)
	if err != nil {
		return assist.Suggestion{}, err
	}
	as := a.Assist
	if as == nil {
		as = &Assistant{}
	}
	return as.suggest(ctx, 0, rules, question, f), nil
}

func containsID(list []int64, id int64) bool {
	for _, x := range list {
		if x == id {
			return true
		}
	}
	return false
}

func (a *App) complianceRules(ctx context.Context, merchantID int64) (*compliance.Ruleset, error) {
	if a.Compliance == nil {
		return compliance.Base(), nil
	}
	return a.Compliance.Rules(ctx, merchantID)
}

// suggest answers once per comment (commentID 0: not kept).
func (as *Assistant) suggest(ctx context.Context, commentID int64, rules *compliance.Ruleset, question string, f factsOfProd) assist.Suggestion {
	if commentID != 0 {
		as.mu.Lock()
		s, ok := as.answers[commentID]
		as.mu.Unlock()
		if ok {
			return s
		}
	}
	s := assist.Suggest(ctx, as.Model, rules, question, f.name, f.facts)
	if commentID != 0 {
		as.mu.Lock()
		if as.answers == nil || len(as.answers) > 5000 {
			as.answers = map[int64]assist.Suggestion{}
		}
		as.answers[commentID] = s
		as.mu.Unlock()
	}
	return s
}
