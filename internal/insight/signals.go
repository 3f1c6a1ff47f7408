package insight

import (
	"context"
	"time"
)

// SignalCount is one (product, intent, sentiment) count of viewers'
// comments as stored; ProductID 0 is "no product".
type SignalCount struct {
	ProductID int64
	Intent    Intent
	Sentiment Sentiment
	N         int64
}

// SignalStore reads comment insights back.
type SignalStore interface {
	// SignalCounts counts viewers' (not staff) comments of a room.
	SignalCounts(ctx context.Context, merchantID, roomID int64) ([]SignalCount, error)
	// OpenQuestions lists viewers' questions nobody answered yet, newest first.
	OpenQuestions(ctx context.Context, merchantID, roomID int64, limit int) ([]CommentInsight, error)
	// Askers counts, per product, the distinct viewers who asked about it.
	Askers(ctx context.Context, merchantID, roomID int64) (map[int64]int64, error)
	// MarkAnswered closes a question (the host answered it aloud).
	MarkAnswered(ctx context.Context, merchantID, roomID, commentID int64, at time.Time) error
}

// Sentiments counts comments by sentiment.
type Sentiments struct {
	Pos int64 `json:"pos"`
	Neg int64 `json:"neg"`
	Neu int64 `json:"neu"`
}

// ProductSignals is the demand one product met in a room: what viewers
// said and did about it.
type ProductSignals struct {
	ProductID          int64            `json:"product_id"`
	Name               string           `json:"name"`
	NameEN             string           `json:"name_en,omitempty"` // for the English dashboard
	Mentions           int64            `json:"mentions"`          // comments about it
	Questions          int64            `json:"questions"`         // of which questions
	ByIntent           map[Intent]int64 `json:"by_intent"`
	Sentiment          Sentiments       `json:"sentiment"`
	CardOpens          int64            `json:"card_opens"` // distinct viewers
	Orders             int64            `json:"orders"`
	Paid               int64            `json:"paid"`
	FirstOrderSeconds  *float64         `json:"first_order_seconds,omitempty"` // from its first pin (or the live's start) to its first order
	UnansweredQuestion int64            `json:"unanswered_questions"`
}

// RoomSignals are the comment insights of a room.
type RoomSignals struct {
	RoomID     int64            `json:"room_id"`
	Products   []ProductSignals `json:"products"`
	Other      Sentiments       `json:"other_sentiment"` // comments about no product
	ByIntent   map[Intent]int64 `json:"by_intent"`
	Unanswered []CommentInsight `json:"unanswered"`
}

// Signals puts comment counts, the funnel and the open questions together.
// start is when the live started (for time to first order without a pin).
func Signals(roomID int64, counts []SignalCount, products []ProductCounts, open []CommentInsight, start *time.Time) RoomSignals {
	rs := RoomSignals{RoomID: roomID, ByIntent: map[Intent]int64{}, Unanswered: open}
	if rs.Unanswered == nil {
		rs.Unanswered = []CommentInsight{}
	}
	idx := map[int64]int{}
	for _, p := range products {
		ps := ProductSignals{ProductID: p.ProductID, Name: p.Name, NameEN: p.NameEN, ByIntent: map[Intent]int64{}, CardOpens: p.Opened, Orders: p.Orders, Paid: p.Paid}
		from := p.FirstPinAt
		if from == nil {
			from = start
		}
		if p.FirstOrderAt != nil && from != nil {
			s := max(0, p.FirstOrderAt.Sub(*from).Seconds())
			ps.FirstOrderSeconds = &s
		}
		idx[p.ProductID] = len(rs.Products)
		rs.Products = append(rs.Products, ps)
	}
	for _, c := range counts {
		rs.ByIntent[c.Intent] += c.N
		var sent *Sentiments
		if i, ok := idx[c.ProductID]; ok && c.ProductID != 0 {
			ps := &rs.Products[i]
			ps.Mentions += c.N
			ps.ByIntent[c.Intent] += c.N
			if c.Intent.IsQuestion() {
				ps.Questions += c.N
			}
			sent = &ps.Sentiment
		} else {
			sent = &rs.Other
		}
		switch c.Sentiment {
		case Pos:
			sent.Pos += c.N
		case Neg:
			sent.Neg += c.N
		default:
			sent.Neu += c.N
		}
	}
	for _, q := range open {
		if i, ok := idx[q.ProductID]; ok {
			rs.Products[i].UnansweredQuestion++
		}
	}
	if rs.Products == nil {
		rs.Products = []ProductSignals{}
	}
	return rs
}
