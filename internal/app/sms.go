package app

import (
	"context"
	"fmt"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/sms"
)

// SMSConfig is the install's SMS account as far as shops see it, and where
// each shop's own sign name and template are kept.
type SMSConfig struct {
	Provider string       // aliyun | tencent | dev | off
	Install  sms.Settings // SHELFLIVE_SMS_SIGN_NAME, SHELFLIVE_SMS_TEMPLATE
	Store    sms.SettingsStore
}

// SMSSettingsView is what the owner sees of the shop's SMS settings.
type SMSSettingsView struct {
	Provider  string       `json:"provider"`
	Shop      sms.Settings `json:"shop"`      // the shop's own; empty fields use the install's
	Install   sms.Settings `json:"install"`   // the install-wide default
	Effective sms.Settings `json:"effective"` // what login codes go out with
}

// SMSSettings shows the shop's SMS sign name and template and what its
// login codes are sent with.
func (a *App) SMSSettings(ctx context.Context, p *identity.Principal) (*SMSSettingsView, error) {
	if a.SMS.Store == nil {
		return nil, apperr.ErrNotFound
	}
	shop, err := a.SMS.Store.SMSSettings(ctx, p.MerchantID)
	if err != nil {
		return nil, err
	}
	return &SMSSettingsView{Provider: a.SMS.Provider, Shop: shop, Install: a.SMS.Install,
		Effective: shop.Or(a.SMS.Install.SignName, a.SMS.Install.Template)}, nil
}

// PutSMSSettings sets the shop's own SMS sign name and template (empty:
// the install's), checked against the install's provider, and audits it.
// The next login code goes out with them, from any node.
func (a *App) PutSMSSettings(ctx context.Context, p *identity.Principal, in sms.Settings) (*SMSSettingsView, error) {
	if a.SMS.Store == nil {
		return nil, apperr.ErrNotFound
	}
	if err := in.Validate(a.SMS.Provider); err != nil {
		return nil, err
	}
	if err := a.SMS.Store.PutSMSSettings(ctx, p.MerchantID, in); err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "sms.settings", "sms", fmt.Sprintf("sign_name=%q template=%q", in.SignName, in.Template))
	return a.SMSSettings(ctx, p)
}
