package node

import (
	"context"
	"errors"

	"github.com/shelflive/shelflive/internal/sqldb"
)

// ErrNoSecretKey stops a production node: without SHELFLIVE_SECRET_KEY it
// could neither seal merchants' payment keys nor open the ones stored.
var ErrNoSecretKey = errors.New("SHELFLIVE_DEV=false needs SHELFLIVE_SECRET_KEY: at least 32 random characters, the same on every node (e.g. `openssl rand -hex 32`); it seals the merchants' payment keys in the database")

// checkProduction refuses a production start that cannot work safely.
// It runs before anything is opened.
func checkProduction(c *Config) error {
	if c.DevMode {
		return nil
	}
	if c.SecretKey == "" {
		return ErrNoSecretKey
	}
	return nil
}

// warnProduction says at start what a production node still lacks to take
// real orders: SMS (warned by openSMS) and payment accounts per merchant.
func (m *Main) warnProduction(ctx context.Context, users *sqldb.IdentityStore) {
	if m.Config.DevMode || m.App == nil {
		return
	}
	if m.App.Pay.Accounts == nil {
		m.Logger.Warn("payments are not configured: no merchant can take WeChat Pay or Alipay")
		return
	}
	list, err := users.ListMerchants(ctx)
	if err != nil {
		return
	}
	for _, mer := range list {
		if mer.Disabled {
			continue
		}
		if got, err := m.App.Pay.Accounts.Configured(ctx, mer.ID); err == nil && len(got) == 0 {
			m.Logger.Warn("payments are not configured for this merchant: buyers cannot pay until the owner adds WeChat Pay or Alipay in /admin", "merchant", mer.Slug)
		}
	}
}
