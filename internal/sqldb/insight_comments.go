package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/shelflive/shelflive/internal/insight"
)

var (
	_ insight.CommentStore = (*InsightStore)(nil)
	_ insight.SignalStore  = (*InsightStore)(nil)
)

// questionIntents is the SQL list of intents that ask the host something.
const questionIntents = `('ask_price', 'ask_taste', 'ask_ingredients_allergen', 'ask_stock_size', 'ask_shipping_pickup', 'ask_other')`

// SaveCommentInsights stores a batch in one transaction. A host's comment
// about a product answers the viewers' open questions about it asked
// before. A comment read twice keeps its first reading.
func (s *InsightStore) SaveCommentInsights(ctx context.Context, cs []insight.CommentInsight) error {
	if len(cs) == 0 {
		return nil
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		for _, c := range cs {
			_, err := tx.Exec(ctx, `INSERT INTO comment_insights (comment_id, merchant_id, room_id, product_id, sku_id, intent, sentiment, staff, at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (comment_id) DO NOTHING`,
				c.CommentID, c.MerchantID, c.RoomID, c.ProductID, c.SKUID, string(c.Intent), string(c.Sentiment), c.Staff, ms(c.At))
			if err != nil {
				return err
			}
			if c.Staff && c.ProductID != 0 {
				if _, err := tx.Exec(ctx, `UPDATE comment_insights SET answered_at = ?
					WHERE merchant_id = ? AND room_id = ? AND product_id = ? AND staff = FALSE AND answered_at IS NULL
					AND at <= ? AND intent IN `+questionIntents, ms(c.At), c.MerchantID, c.RoomID, c.ProductID, ms(c.At)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// SignalCounts counts viewers' comments by product, intent and sentiment
// (deleted comments excluded).
func (s *InsightStore) SignalCounts(ctx context.Context, merchantID, roomID int64) ([]insight.SignalCount, error) {
	var out []insight.SignalCount
	err := s.scan(ctx, func(r *sql.Rows) error {
		var c insight.SignalCount
		var in, sent string
		if err := r.Scan(&c.ProductID, &in, &sent, &c.N); err != nil {
			return err
		}
		c.Intent, c.Sentiment = insight.Intent(in), insight.Sentiment(sent)
		out = append(out, c)
		return nil
	}, `SELECT ci.product_id, ci.intent, ci.sentiment, COUNT(*) FROM comment_insights ci JOIN comments c ON c.id = ci.comment_id
		WHERE ci.merchant_id = ? AND ci.room_id = ? AND ci.staff = FALSE AND c.deleted = FALSE
		GROUP BY ci.product_id, ci.intent, ci.sentiment ORDER BY 1, 2, 3`, merchantID, roomID)
	return out, err
}

// OpenQuestions lists viewers' unanswered questions with their text.
func (s *InsightStore) OpenQuestions(ctx context.Context, merchantID, roomID int64, limit int) ([]insight.CommentInsight, error) {
	var out []insight.CommentInsight
	err := s.scan(ctx, func(r *sql.Rows) error {
		var c insight.CommentInsight
		var in, sent string
		var at int64
		if err := r.Scan(&c.CommentID, &c.RoomID, &c.ProductID, &c.SKUID, &in, &sent, &at, &c.Text, &c.Author); err != nil {
			return err
		}
		c.MerchantID, c.Intent, c.Sentiment, c.At = merchantID, insight.Intent(in), insight.Sentiment(sent), fromMS(at)
		out = append(out, c)
		return nil
	}, `SELECT ci.comment_id, ci.room_id, ci.product_id, ci.sku_id, ci.intent, ci.sentiment, ci.at, c.body, c.author_name
		FROM comment_insights ci JOIN comments c ON c.id = ci.comment_id
		WHERE ci.merchant_id = ? AND ci.room_id = ? AND ci.staff = FALSE AND ci.answered_at IS NULL AND c.deleted = FALSE
		AND ci.intent IN `+questionIntents+` ORDER BY ci.at DESC, ci.comment_id DESC LIMIT ?`, merchantID, roomID, limit)
	return out, err
}

// MarkAnswered closes one question of the room.
func (s *InsightStore) MarkAnswered(ctx context.Context, merchantID, roomID, commentID int64, at time.Time) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE comment_insights SET answered_at = COALESCE(answered_at, ?)
			WHERE merchant_id = ? AND room_id = ? AND comment_id = ? AND intent IN `+questionIntents, ms(at), merchantID, roomID, commentID)
		return mustAffect(res, err)
	})
}

// Askers counts, per product, the distinct viewers who asked about it.
func (s *InsightStore) Askers(ctx context.Context, merchantID, roomID int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	err := s.scan(ctx, func(r *sql.Rows) error {
		var p, n int64
		if err := r.Scan(&p, &n); err != nil {
			return err
		}
		out[p] = n
		return nil
	}, `SELECT ci.product_id, COUNT(DISTINCT c.author_id) FROM comment_insights ci JOIN comments c ON c.id = ci.comment_id
		WHERE ci.merchant_id = ? AND ci.room_id = ? AND ci.staff = FALSE AND c.deleted = FALSE AND ci.product_id <> 0
		AND ci.intent IN `+questionIntents+` GROUP BY ci.product_id`, merchantID, roomID)
	return out, err
}
