package sqldb

import (
	"context"
	"errors"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/sms"
)

// SMSSettingsStore implements sms.SettingsStore: each shop's own SMS sign
// name and template. It is read on every login code, so it keeps nothing
// in memory: a change reaches every node at once.
type SMSSettingsStore struct{ DB *DB }

var _ sms.SettingsStore = (*SMSSettingsStore)(nil)

// SMSSettings implements sms.SettingsStore (zero Settings when none).
func (s *SMSSettingsStore) SMSSettings(ctx context.Context, merchantID int64) (sms.Settings, error) {
	var out sms.Settings
	err := translate(s.DB.QueryRow(ctx, `SELECT sign_name, template FROM merchant_sms WHERE merchant_id = ?`, merchantID).Scan(&out.SignName, &out.Template))
	if errors.Is(err, apperr.ErrNotFound) {
		return sms.Settings{}, nil
	}
	return out, err
}

// PutSMSSettings implements sms.SettingsStore (insert or replace).
func (s *SMSSettingsStore) PutSMSSettings(ctx context.Context, merchantID int64, in sms.Settings) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO merchant_sms (merchant_id, sign_name, template, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (merchant_id) DO UPDATE SET sign_name = excluded.sign_name, template = excluded.template, updated_at = excluded.updated_at`,
			merchantID, in.SignName, in.Template, ms(tx.Now))
		return err
	})
}
