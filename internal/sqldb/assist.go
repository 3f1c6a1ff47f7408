package sqldb

import (
	"context"
	"time"

	"github.com/shelflive/shelflive/internal/assist"
)

// AssistStore reads what the host assistant needs beyond the domain stores.
type AssistStore struct{ DB *DB }

// SentimentTrend counts a room's viewer comments per minute and sentiment
// since a time, from the comment insights (comments not yet read are not
// counted; deleted ones are not).
func (s *AssistStore) SentimentTrend(ctx context.Context, merchantID, roomID int64, since time.Time) ([]assist.TrendPoint, error) {
	rows, err := s.DB.Query(ctx, `SELECT ci.at / 60000, ci.sentiment, COUNT(*) FROM comment_insights ci JOIN comments c ON c.id = ci.comment_id
		WHERE ci.merchant_id = ? AND ci.room_id = ? AND ci.staff = FALSE AND c.deleted = FALSE AND ci.at >= ?
		GROUP BY ci.at / 60000, ci.sentiment ORDER BY 1`, merchantID, roomID, ms(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []assist.TrendPoint{}
	for rows.Next() {
		var minute int64
		var sent string
		var n int
		if err := rows.Scan(&minute, &sent, &n); err != nil {
			return nil, err
		}
		at := fromMS(minute * 60000)
		if len(out) == 0 || !out[len(out)-1].Minute.Equal(at) {
			out = append(out, assist.TrendPoint{Minute: at})
		}
		p := &out[len(out)-1]
		switch sent {
		case "pos":
			p.Pos += n
		case "neg":
			p.Neg += n
		default:
			p.Neu += n
		}
	}
	return out, rows.Err()
}
