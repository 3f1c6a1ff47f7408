// Package sms sends login codes through a Chinese SMS provider: Aliyun SMS
// (dysmsapi SendSms, RPC signature) or Tencent Cloud SMS (SendSms, API 3.0,
// TC3-HMAC-SHA256). Both are plain signed HTTP; no vendor SDK is needed.
// smstest has local fakes of both that check our signatures.
package sms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Sender sends one login code to one mainland phone number (11 digits)
// with the install's sign name and template; PerMerchant adds the shops'
// own (identity.SMS).
type Sender interface {
	SendOTP(ctx context.Context, phone, code string) error
}

// Config is one install's SMS account. SignName and Template are what the
// provider approved for this install (签名, 模板); the template has one
// variable, the code (Aliyun: ${code}; Tencent: {1}).
type Config struct {
	Provider  string // aliyun | tencent
	KeyID     string // Aliyun AccessKey ID / Tencent SecretId
	KeySecret string // Aliyun AccessKey Secret / Tencent SecretKey
	SignName  string
	Template  string // Aliyun TemplateCode (SMS_…) / Tencent TemplateId
	AppID     string // Tencent SmsSdkAppId; unused by Aliyun
	Region    string // Tencent region (default ap-guangzhou); Aliyun cn-hangzhou
	BaseURL   string // replaces the provider's endpoint (sandboxes, tests)
	Client    *http.Client
	Now       func() time.Time
}

// Error is a send the provider refused or that did not reach it. Code is
// the provider's code (isv.BUSINESS_LIMIT_CONTROL, LimitExceeded…), safe
// to log; it never carries the phone number or the login code.
type Error struct {
	Provider string
	Code     string
	Message  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("sms %s: %s: %s", e.Provider, e.Code, e.Message)
}

// Provider is an SMS provider account: it sends with the install's or a
// shop's sign name and template.
type Provider interface {
	Sender
	CodeSender
}

// New returns the sender of c.Provider after checking the account is complete.
func New(c Config) (Provider, error) {
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	var missing []string
	for name, v := range map[string]string{"SHELFLIVE_SMS_KEY_ID": c.KeyID, "SHELFLIVE_SMS_KEY_SECRET": c.KeySecret, "SHELFLIVE_SMS_SIGN_NAME": c.SignName, "SHELFLIVE_SMS_TEMPLATE": c.Template} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	switch c.Provider {
	case "aliyun":
		if len(missing) > 0 {
			return nil, fmt.Errorf("SHELFLIVE_SMS=aliyun needs %s", strings.Join(sorted(missing), ", "))
		}
		return &Aliyun{c: c}, nil
	case "tencent":
		if c.AppID == "" {
			missing = append(missing, "SHELFLIVE_SMS_APP_ID")
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("SHELFLIVE_SMS=tencent needs %s", strings.Join(sorted(missing), ", "))
		}
		return &Tencent{c: c}, nil
	}
	return nil, fmt.Errorf("unknown SHELFLIVE_SMS %q (aliyun, tencent, dev)", c.Provider)
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}

// ErrNotConfigured is what a production node without an SMS provider
// answers: it cannot deliver codes and must not show or log them.
var ErrNotConfigured = errors.New("sms: no provider configured (SHELFLIVE_SMS)")

// Off is the sender of a production node without SHELFLIVE_SMS: every
// send fails with ErrNotConfigured.
type Off struct{}

// SendOTP refuses (identity.SMS).
func (Off) SendOTP(context.Context, int64, string, string) error { return ErrNotConfigured }
