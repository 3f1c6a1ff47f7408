package sqldb

import (
	"context"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
)

// WeChatTicketStore caches JS-SDK tickets for all nodes.
type WeChatTicketStore struct{ DB *DB }

// Ticket returns the app's cached ticket while it has more than a margin
// left, else calls fetch once — holding the app's row, so of several nodes
// asking at once one fetches and the others read what it stored.
func (s *WeChatTicketStore) Ticket(ctx context.Context, appID string, fetch func(context.Context) (string, time.Duration, error)) (string, error) {
	return s.RefreshTicket(ctx, appID, "", fetch)
}

// RefreshTicket is Ticket for a caller whose value `stale` was refused
// (WeChat's 40001 for an access token): unless another node already
// replaced it, fetch a new one now. Access tokens are kept here too, under
// "at:"+appid, so every node uses the app's one valid token.
func (s *WeChatTicketStore) RefreshTicket(ctx context.Context, appID, stale string, fetch func(context.Context) (string, time.Duration, error)) (string, error) {
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
		if ticket != "" && ticket != stale && time.UnixMilli(exp).After(tx.Now.Add(margin)) {
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

// SaveWeChatProfile keeps what snsapi_userinfo gave, with the time of the
// viewer's consent (a new consent replaces the old profile).
func (s *WeChatTicketStore) SaveWeChatProfile(ctx context.Context, merchantID, customerID int64, openid, nickname string, avatar []byte, avatarType string) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO wechat_profiles (merchant_id, customer_id, openid, nickname, avatar, avatar_type, consented_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (merchant_id, customer_id) DO UPDATE SET openid = excluded.openid, nickname = excluded.nickname, avatar = excluded.avatar,
			avatar_type = excluded.avatar_type, consented_at = excluded.consented_at`, merchantID, customerID, openid, nickname, avatar, avatarType, ms(tx.Now))
		return err
	})
}

// WeChatProfileOf is the customer's shared profile (nil when none).
func (s *WeChatTicketStore) WeChatProfileOf(ctx context.Context, merchantID, customerID int64) (*identity.WeChatProfile, error) {
	var p identity.WeChatProfile
	var at, n int64
	err := s.DB.QueryRow(ctx, `SELECT nickname, COALESCE(length(avatar), 0), consented_at FROM wechat_profiles WHERE merchant_id = ? AND customer_id = ?`,
		merchantID, customerID).Scan(&p.Nickname, &n, &at)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.HasAvatar, p.ConsentedAt = n > 0, time.UnixMilli(at).UTC()
	return &p, nil
}

// WeChatAvatar is the customer's shared avatar image and its type.
func (s *WeChatTicketStore) WeChatAvatar(ctx context.Context, merchantID, customerID int64) ([]byte, string, error) {
	var b []byte
	var typ string
	err := s.DB.QueryRow(ctx, `SELECT avatar, avatar_type FROM wechat_profiles WHERE merchant_id = ? AND customer_id = ?`, merchantID, customerID).Scan(&b, &typ)
	if isNoRows(err) || (err == nil && len(b) == 0) {
		return nil, "", apperr.ErrNotFound
	}
	return b, typ, err
}

// DeleteWeChatProfile forgets the shared nickname and avatar.
func (s *WeChatTicketStore) DeleteWeChatProfile(ctx context.Context, merchantID, customerID int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM wechat_profiles WHERE merchant_id = ? AND customer_id = ?`, merchantID, customerID)
		return err
	})
}
