package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/payment/alipay"
	"github.com/shelflive/shelflive/internal/payment/wechatpay"
	"github.com/shelflive/shelflive/internal/secretbox"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// openPayments wires the real payment vendors: merchants' accounts sealed
// with SHELFLIVE_SECRET_KEY, opened into WeChat Pay / Alipay clients that
// talk to the configured hosts. Without a key outside dev mode there are
// no accounts (the node says so at start).
func (m *Main) openPayments(db *sqldb.DB) (*payment.Accounts, error) {
	c := m.Config
	key, err := secretKey(c)
	if err != nil {
		return nil, err
	}
	if key == "" {
		m.Logger.Warn("payments: SHELFLIVE_SECRET_KEY is not set, so merchants cannot store WeChat Pay or Alipay keys")
		return nil, nil
	}
	box, err := secretbox.New(key)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	return &payment.Accounts{Store: &sqldb.PaymentAccountStore{DB: db}, Box: box, Now: db.Now,
		Vendors: map[string]payment.Vendor{
			wechatpay.Name: {Name: wechatpay.Name, Parse: wechatpay.Parse, Open: func(merchantID int64, settings []byte) (payment.Provider, error) {
				cl, err := wechatpay.New(merchantID, settings, c.WeChatPayBaseURL, hc, db.Now)
				if err != nil {
					return nil, err
				}
				cl.MiniProgramAppID = c.MiniProgramAppID // payments from the mini-program (MethodMiniProgram)
				return cl, nil
			}},
			alipay.Name: {Name: alipay.Name, Parse: alipay.Parse, Open: func(merchantID int64, settings []byte) (payment.Provider, error) {
				return alipay.New(merchantID, settings, c.AlipayBaseURL, hc, db.Now)
			}},
		}}, nil
}

// secretKey is SHELFLIVE_SECRET_KEY, or in dev mode one generated once per
// data dir (like the dev payment secret); "" outside dev mode when unset.
func secretKey(c *Config) (string, error) {
	if c.SecretKey != "" || !c.DevMode {
		return c.SecretKey, nil
	}
	path := filepath.Join(c.DataDir, "secret-key")
	if b, err := os.ReadFile(path); err == nil && len(b) >= secretbox.MinKeyLen {
		return string(b), nil
	}
	b := make([]byte, 32)
	rand.Read(b)
	s := hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		return "", fmt.Errorf("secret key: %w", err)
	}
	return s, nil
}

// CheckPayments checks every payment account of one merchant with one
// harmless signed query each (for `shelflive doctor`): WeChat Pay answers
// "no such order" to a signed query only when mchid, serial number and
// private key are right, and ShelfLive accepts the answer only when the
// WeChat Pay public key is right; Alipay likewise. A merchant without
// accounts gets an empty list; a node without SHELFLIVE_SECRET_KEY an error.
func (m *Main) CheckPayments(ctx context.Context, merchantID int64) ([]payment.CheckResult, error) {
	if m.App == nil || m.App.Pay.Accounts == nil {
		return nil, fmt.Errorf("payments: no SHELFLIVE_SECRET_KEY, so no payment accounts can be read")
	}
	return m.App.Pay.Accounts.CheckMerchant(ctx, merchantID)
}

// paySecret returns the configured secret, or one generated once per data dir.
func paySecret(c *Config) ([]byte, error) {
	if c.PaySecret != "" {
		return []byte(c.PaySecret), nil
	}
	path := filepath.Join(c.DataDir, "pay-secret")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 32)
	rand.Read(b)
	s := []byte(hex.EncodeToString(b))
	if err := os.WriteFile(path, s, 0o600); err != nil {
		return nil, fmt.Errorf("pay secret: %w", err)
	}
	return s, nil
}
