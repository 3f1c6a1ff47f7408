package sqldb

import (
	"context"
	"time"
)

// WeChatTicketStore caches JS-SDK tickets for all nodes.
type WeChatTicketStore struct{ DB *DB }

// Ticket returns the app's cached ticket while it has more than a margin
// left, else calls fetch once — holding the app's row, so of several nodes
// asking at once one fetches and the others read what it stored.
func (s *WeChatTicketStore) Ticket(ctx context.Context, appID string, fetch func(context.Context) (string, time.Duration, error)) (string, error) {
	const margin = 5 * time.Minute
	var out string
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO wechat_tickets (app_id) VALUES (?) ON CONFLICT (app_id) DO NOTHING`, appID); err != nil {
			return err
		}
		lock := ""
		if s.DB.Dialect == Postgres {
			lock = " FOR UPDATE"
		}
		var ticket string
		var exp int64
		if err := tx.QueryRow(ctx, `SELECT ticket, expires_at FROM wechat_tickets WHERE app_id = ?`+lock, appID).Scan(&ticket, &exp); err != nil {
			return err
		}
		if ticket != "" && time.UnixMilli(exp).After(tx.Now.Add(margin)) {
			out = ticket
			return nil
		}
		t, ttl, err := fetch(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE wechat_tickets SET ticket = ?, expires_at = ?, fetched_at = ? WHERE app_id = ?`, t, ms(tx.Now.Add(ttl)), ms(tx.Now), appID); err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, err
}
