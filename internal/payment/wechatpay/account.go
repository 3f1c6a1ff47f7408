// Package wechatpay is WeChat Pay API v3 as a payment.Provider: JSAPI, H5
// and Native orders, query and close, refunds, and callbacks. Requests are
// signed WECHATPAY2-SHA256-RSA2048 with the merchant's API key; answers and
// callbacks are verified with the WeChat Pay public key (public-key mode)
// or, when the merchant has none, with the platform certificates fetched
// from /v3/certificates; callback resources are AEAD_AES_256_GCM under the
// merchant's APIv3 key. Only the standard library's crypto is used.
package wechatpay

import (
	"crypto/rsa"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/payment"
)

// Name is the provider name in intents, routes and settings.
const Name = "wechatpay"

// DefaultBaseURL is WeChat Pay's API host; SHELFLIVE_WECHATPAY_BASE_URL
// replaces it (sandboxes, tests).
const DefaultBaseURL = "https://api.mch.weixin.qq.com"

// Account is what a merchant pastes from the WeChat Pay merchant platform
// (pay.weixin.qq.com) and the official account (mp.weixin.qq.com).
type Account struct {
	MchID         string `json:"mchid"`
	AppID         string `json:"appid"`
	SerialNo      string `json:"serial_no"`       // the merchant API certificate's serial number
	PrivateKeyPEM string `json:"private_key_pem"` // apiclient_key.pem
	APIv3Key      string `json:"apiv3_key"`       // 32 characters, set in the platform
	PublicKeyID   string `json:"public_key_id"`   // PUB_KEY_ID_…; empty: platform certificates
	PublicKeyPEM  string `json:"public_key_pem"`  // the WeChat Pay public key
	AppSecret     string `json:"app_secret"`      // the official account's AppSecret: WeChat sign-in (openid) for JSAPI; optional
	// ReminderTemplateID is the official account's template message
	// (模板消息) for live reminders, keywords thing1 (title), time2 (start),
	// thing3 (note); optional, needs AppSecret.
	ReminderTemplateID string `json:"reminder_template_id,omitempty"`
}

var (
	reMchID  = regexp.MustCompile(`^[0-9]{8,32}$`)
	reAppID  = regexp.MustCompile(`^wx[0-9a-f]{16}$`)
	reSerial = regexp.MustCompile(`^[0-9A-Fa-f]{8,64}$`)
	rePubID  = regexp.MustCompile(`^PUB_KEY_ID_[0-9A-Za-z_]{1,64}$`)
)

// Settings errors (each names its field).
var (
	ErrMchID            = apperr.InvalidField("mchid", "invalid_mchid", "商户号须为 8–32 位数字", "mchid must be 8 to 32 digits.")
	ErrAppID            = apperr.InvalidField("appid", "invalid_appid", "AppID 须以 wx 开头共 18 位", "appid must be wx followed by 16 hex characters.")
	ErrSerial           = apperr.InvalidField("serial_no", "invalid_serial_no", "证书序列号须为 8–64 位十六进制", "serial_no must be 8 to 64 hex characters.")
	ErrAPIv3Key         = apperr.InvalidField("apiv3_key", "invalid_apiv3_key", "APIv3 密钥须为 32 个字符", "apiv3_key must be exactly 32 characters.")
	ErrReminderTemplate = apperr.InvalidField("reminder_template_id", "invalid_reminder_template_id", "提醒模板 ID 格式不对", "reminder_template_id is not a template id.")
	ErrPubKeyID         = apperr.InvalidField("public_key_id", "invalid_public_key_id", "公钥 ID 须形如 PUB_KEY_ID_…，且与公钥一起填写", "public_key_id must look like PUB_KEY_ID_… and come with public_key_pem.")
)

// keys are an account's parsed keys.
type keys struct {
	priv *rsa.PrivateKey
	pub  *rsa.PublicKey // nil: platform-certificate mode
}

func (a *Account) check() (*keys, error) {
	if !reMchID.MatchString(a.MchID) {
		return nil, ErrMchID
	}
	if !reAppID.MatchString(a.AppID) {
		return nil, ErrAppID
	}
	if !reSerial.MatchString(a.SerialNo) {
		return nil, ErrSerial
	}
	if len(a.APIv3Key) != 32 {
		return nil, ErrAPIv3Key
	}
	k := &keys{}
	var err error
	if k.priv, err = payment.ParsePrivateKey("private_key_pem", a.PrivateKeyPEM); err != nil {
		return nil, err
	}
	if a.PublicKeyID != "" || a.PublicKeyPEM != "" {
		if !rePubID.MatchString(a.PublicKeyID) {
			return nil, ErrPubKeyID
		}
		if k.pub, err = payment.ParsePublicKey("public_key_pem", a.PublicKeyPEM); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Parse is the payment.Vendor Parse for WeChat Pay.
func Parse(fields map[string]string) ([]byte, map[string]any, error) {
	f, err := payment.Fields(fields, "mchid", "appid", "serial_no", "private_key_pem", "apiv3_key", "public_key_id", "public_key_pem", "app_secret", "reminder_template_id")
	if err != nil {
		return nil, nil, err
	}
	a := Account{MchID: f[0], AppID: f[1], SerialNo: strings.ToUpper(f[2]), PrivateKeyPEM: f[3], APIv3Key: f[4], PublicKeyID: f[5], PublicKeyPEM: f[6], AppSecret: f[7], ReminderTemplateID: f[8]}
	k, err := a.check()
	if err != nil {
		return nil, nil, err
	}
	sum := map[string]any{"mchid": a.MchID, "appid": a.AppID, "serial_no": a.SerialNo,
		"private_key": payment.Fingerprint(&k.priv.PublicKey), "apiv3_key": "set"}
	if k.pub != nil {
		sum["public_key_id"], sum["public_key"] = a.PublicKeyID, payment.Fingerprint(k.pub)
		sum["verify_mode"] = "public_key"
	} else {
		sum["verify_mode"] = "platform_certificates"
	}
	if a.AppSecret != "" {
		sum["app_secret"] = "set"
	}
	if a.ReminderTemplateID != "" {
		if len(a.ReminderTemplateID) > 64 || strings.ContainsAny(a.ReminderTemplateID, " /?&#") {
			return nil, nil, ErrReminderTemplate
		}
		sum["reminder_template_id"] = a.ReminderTemplateID
	}
	b, _ := json.Marshal(a)
	return b, sum, nil
}
