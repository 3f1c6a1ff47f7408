package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/shelflive/shelflive/internal/secretbox"
	"github.com/shelflive/shelflive/internal/wecom"
)

// WeComStore keeps WeCom connections (the secret sealed like payment keys
// and webhook secrets), guides' userids and the day's sends.
type WeComStore struct {
	DB *DB
	// Box seals the secret bound to the merchant; nil stores it as it is (tests).
	Box *secretbox.Box
}

var _ wecom.Store = (*WeComStore)(nil)

func wecomAD(merchantID int64) string { return fmt.Sprintf("wecom:merchant:%d", merchantID) }

func (s *WeComStore) WeComSettings(ctx context.Context, merchantID int64) (*wecom.Settings, error) {
	var st wecom.Settings
	err := s.DB.QueryRow(ctx, `SELECT corp_id, secret FROM wecom_settings WHERE merchant_id = ?`, merchantID).Scan(&st.CorpID, &st.Secret)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if s.Box != nil && strings.HasPrefix(st.Secret, "v1:") {
		plain, err := s.Box.Open(st.Secret, wecomAD(merchantID))
		if err != nil {
			return nil, fmt.Errorf("wecom: secret of merchant %d does not open (another SHELFLIVE_SECRET_KEY?): %w", merchantID, err)
		}
		st.Secret = string(plain)
	}
	return &st, nil
}

func (s *WeComStore) SetWeComSettings(ctx context.Context, merchantID int64, st wecom.Settings) error {
	secret := st.Secret
	if s.Box != nil {
		secret = s.Box.Seal([]byte(secret), wecomAD(merchantID))
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO wecom_settings (merchant_id, corp_id, secret, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (merchant_id) DO UPDATE SET corp_id = excluded.corp_id, secret = excluded.secret, updated_at = excluded.updated_at`,
			merchantID, st.CorpID, secret, ms(tx.Now))
		return err
	})
}

func (s *WeComStore) WeComUserID(ctx context.Context, merchantID, staffID int64) (string, error) {
	var u string
	err := s.DB.QueryRow(ctx, `SELECT userid FROM wecom_users WHERE merchant_id = ? AND staff_id = ?`, merchantID, staffID).Scan(&u)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return u, err
}

func (s *WeComStore) SetWeComUserID(ctx context.Context, merchantID, staffID int64, userID string) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if userID == "" {
			_, err := tx.Exec(ctx, `DELETE FROM wecom_users WHERE merchant_id = ? AND staff_id = ?`, merchantID, staffID)
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO wecom_users (merchant_id, staff_id, userid) VALUES (?, ?, ?)
			ON CONFLICT (merchant_id, staff_id) DO UPDATE SET userid = excluded.userid`, merchantID, staffID, userID)
		return err
	})
}

func (s *WeComStore) WeComSent(ctx context.Context, merchantID, staffID int64, slug, day string) (*wecom.Result, error) {
	var r wecom.Result
	var fl string
	err := s.DB.QueryRow(ctx, `SELECT msgid, fail_list FROM wecom_sends WHERE merchant_id = ? AND staff_id = ? AND slug = ? AND day = ?`,
		merchantID, staffID, slug, day).Scan(&r.MsgID, &fl)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.FailList = []string{}
	if fl != "" {
		r.FailList = strings.Split(fl, ",")
	}
	return &r, nil
}

func (s *WeComStore) RecordWeComSent(ctx context.Context, merchantID, staffID int64, slug, day string, r wecom.Result) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO wecom_sends (merchant_id, staff_id, slug, day, msgid, fail_list, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (merchant_id, staff_id, slug, day) DO NOTHING`,
			merchantID, staffID, slug, day, r.MsgID, strings.Join(r.FailList, ","), ms(tx.Now))
		return err
	})
}
