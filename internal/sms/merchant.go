package sms

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Settings is one shop's own SMS sign name (签名) and template: on a
// shared install every grocer sends login codes under their own name.
// Each must have been approved by the install's provider account (Aliyun:
// the account's sign names and SMS_… templates; Tencent: those of the
// install's SmsSdkAppId). An empty field uses the install's
// (SHELFLIVE_SMS_SIGN_NAME, SHELFLIVE_SMS_TEMPLATE).
type Settings struct {
	SignName string `json:"sign_name"`
	Template string `json:"template"`
}

// Or fills empty fields from the install's sign name and template.
func (s Settings) Or(signName, template string) Settings {
	if s.SignName == "" {
		s.SignName = signName
	}
	if s.Template == "" {
		s.Template = template
	}
	return s
}

// Errors of SMS settings.
var (
	ErrSignName = apperr.New(apperr.Invalid, "invalid_sms_sign_name", "短信签名为 2–12 个字，不含【】和空格（与服务商审核通过的签名一致）", "The SMS sign name is 2–12 characters, without 【】 or spaces (as approved by the provider).")
	ErrTemplate = apperr.New(apperr.Invalid, "invalid_sms_template", "短信模板不符合服务商格式：阿里云为 SMS_ 加数字，腾讯云为数字模板 ID", "The SMS template does not fit the provider: Aliyun SMS_ followed by digits, Tencent a numeric template id.")
)

var (
	aliyunTemplate  = regexp.MustCompile(`^SMS_[0-9]{3,20}$`)
	tencentTemplate = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// Validate trims the settings and checks them against the install's
// provider (aliyun, tencent; anything else — dev — checks only the sign
// name's length).
func (s *Settings) Validate(provider string) error {
	s.SignName, s.Template = strings.TrimSpace(s.SignName), strings.TrimSpace(s.Template)
	if n := utf8.RuneCountInString(s.SignName); s.SignName != "" && (n < 2 || n > 12 || strings.ContainsAny(s.SignName, "【】[] \t")) {
		return ErrSignName.At("sign_name")
	}
	if s.Template == "" {
		return nil
	}
	switch {
	case provider == "aliyun" && !aliyunTemplate.MatchString(s.Template),
		provider == "tencent" && !tencentTemplate.MatchString(s.Template),
		len(s.Template) > 40:
		return ErrTemplate.At("template")
	}
	return nil
}

// CodeSender sends a login code with given settings (Aliyun, Tencent).
type CodeSender interface {
	SendCode(ctx context.Context, phone, code string, with Settings) error
}

// SettingsStore keeps each merchant's settings; a merchant without any
// has the zero Settings.
type SettingsStore interface {
	SMSSettings(ctx context.Context, merchantID int64) (Settings, error)
	PutSMSSettings(ctx context.Context, merchantID int64, s Settings) error
}

// PerMerchant sends each merchant's login codes with that merchant's sign
// name and template, falling back to the install's (identity.SMS).
type PerMerchant struct {
	Sender CodeSender
	Store  SettingsStore
}

// SendOTP implements identity.SMS.
func (p *PerMerchant) SendOTP(ctx context.Context, merchantID int64, phone, code string) error {
	s, err := p.Store.SMSSettings(ctx, merchantID)
	if err != nil {
		return err
	}
	return p.Sender.SendCode(ctx, phone, code, s)
}
