// Package alipay is Alipay OpenAPI as a payment.Provider: alipay.trade.wap.pay
// on phones, alipay.trade.precreate (QR) on desktops, trade.query,
// trade.close, trade.refund and fastpay.refund.query, and asynchronous
// notifications. Requests are signed RSA2 (RSA PKCS#1 v1.5, SHA-256) with
// the app private key; answers and notifications are verified with the
// Alipay public key. Only the standard library's crypto is used.
package alipay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/payment"
)

// Name is the provider name in intents, routes and settings.
const Name = "alipay"

// DefaultBaseURL is Alipay's gateway; SHELFLIVE_ALIPAY_BASE_URL replaces it
// (the sandbox https://openapi-sandbox.dl.alipaydev.com/gateway.do, tests).
const DefaultBaseURL = "https://openapi.alipay.com/gateway.do"

// Account is what a merchant pastes from the Alipay open platform.
type Account struct {
	AppID           string `json:"app_id"`
	PrivateKeyPEM   string `json:"private_key_pem"`       // the app private key (应用私钥)
	AlipayPublicKey string `json:"alipay_public_key_pem"` // 支付宝公钥, not the app's own public key
}

var reAppID = regexp.MustCompile(`^[0-9]{16}$`)

// ErrAppID is a malformed APPID.
var ErrAppID = apperr.InvalidField("app_id", "invalid_app_id", "APPID 须为 16 位数字", "app_id must be 16 digits.")

type keys struct {
	priv *rsa.PrivateKey
	pub  *rsa.PublicKey
}

func (a *Account) check() (*keys, error) {
	if !reAppID.MatchString(a.AppID) {
		return nil, ErrAppID
	}
	var k keys
	var err error
	if k.priv, err = payment.ParsePrivateKey("private_key_pem", a.PrivateKeyPEM); err != nil {
		return nil, err
	}
	if k.pub, err = payment.ParsePublicKey("alipay_public_key_pem", a.AlipayPublicKey); err != nil {
		return nil, err
	}
	return &k, nil
}

// Parse is the payment.Vendor Parse for Alipay.
func Parse(fields map[string]string) ([]byte, map[string]any, error) {
	f, err := payment.Fields(fields, "app_id", "private_key_pem", "alipay_public_key_pem")
	if err != nil {
		return nil, nil, err
	}
	a := Account{AppID: f[0], PrivateKeyPEM: f[1], AlipayPublicKey: f[2]}
	k, err := a.check()
	if err != nil {
		return nil, nil, err
	}
	b, _ := json.Marshal(a)
	return b, map[string]any{"app_id": a.AppID, "private_key": payment.Fingerprint(&k.priv.PublicKey), "alipay_public_key": payment.Fingerprint(k.pub)}, nil
}

// SignContent is what RSA2 signs: the parameters but sign (and, for
// notifications, sign_type) with a value, sorted by name, as k=v joined by &.
func SignContent(params url.Values, skip ...string) string {
	var names []string
	for k, v := range params {
		if k == "sign" || len(v) == 0 || v[0] == "" || contains(skip, k) {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + params.Get(k))
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Sign is RSA2 over content, base64.
func Sign(key *rsa.PrivateKey, content string) (string, error) {
	sum := sha256.Sum256([]byte(content))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Verify checks an RSA2 signature over content.
func Verify(pub *rsa.PublicKey, content, sig string) error {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(content))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], raw)
}

// Yuan formats fen as Alipay's amount ("19.90").
func Yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

// Fen reads Alipay's amount exactly; ok is false for anything else.
func Fen(s string) (int64, bool) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || (dot && frac == "") {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseUint(whole, 10, 40)
	f, err2 := strconv.ParseUint(frac, 10, 8)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return int64(w)*100 + int64(f), true
}
