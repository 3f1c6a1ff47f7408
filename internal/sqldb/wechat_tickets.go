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

// BindWeChat binds an openid to the customer (a later binding of the same
// openid moves it: one WeChat user, one account per shop).
func (s *WeChatTicketStore) BindWeChat(ctx context.Context, merchantID int64, openid string, customerID int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO wechat_bindings (merchant_id, openid, customer_id, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (merchant_id, openid) DO UPDATE SET customer_id = excluded.customer_id, created_at = excluded.created_at`, merchantID, openid, customerID, ms(tx.Now))
		return err
	})
}

// WeChatCustomer is the customer an openid is bound to (0 when none).
func (s *WeChatTicketStore) WeChatCustomer(ctx context.Context, merchantID int64, openid string) (int64, error) {
	var id int64
	err := s.DB.QueryRow(ctx, `SELECT customer_id FROM wechat_bindings WHERE merchant_id = ? AND openid = ?`, merchantID, openid).Scan(&id)
	if isNoRows(err) {
		return 0, nil
	}
	return id, err
}
