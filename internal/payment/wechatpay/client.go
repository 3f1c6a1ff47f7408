package wechatpay

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/payment"
)

// Client is one merchant's WeChat Pay account; it implements
// payment.Provider.
type Client struct {
	BaseURL    string
	HTTP       *http.Client
	Now        func() time.Time
	Window     time.Duration // accepted clock skew of answers and callbacks (5 min)
	MerchantID int64
	// MiniProgramAppID is the install's WeChat mini-program (empty: none).
	// The shop binds it to its 商户号 (AppID账号管理) to take
	// MethodMiniProgram payments; their callbacks carry it as appid.
	MiniProgramAppID string

	acct Account
	keys *keys

	certMu sync.Mutex
	certs  map[string]*rsa.PublicKey // platform certificates by serial (fallback mode)
}

var _ payment.Provider = (*Client)(nil)

// New opens an account (settings as Parse returned them).
func New(merchantID int64, settings []byte, baseURL string, hc *http.Client, now func() time.Time) (*Client, error) {
	var a Account
	if err := json.Unmarshal(settings, &a); err != nil {
		return nil, fmt.Errorf("wechatpay: settings: %w", err)
	}
	k, err := a.check()
	if err != nil {
		return nil, err
	}
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), HTTP: hc, Now: now, Window: 5 * time.Minute,
		MerchantID: merchantID, acct: a, keys: k}, nil
}

// Name implements payment.Provider.
func (c *Client) Name() string { return Name }

// MchID is the account's merchant number.
func (c *Client) MchID() string { return c.acct.MchID }

// apiError is WeChat Pay's error answer.
type apiError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("wechatpay: %d %s: %s", e.Status, e.Code, e.Message)
}

// Vendor-answer errors.
var (
	ErrUnsigned = apperr.New(apperr.Unavailable, "wechatpay_answer_unverified", "微信支付应答验签失败：请检查微信支付公钥与公钥 ID", "WeChat Pay's answer did not verify: check the WeChat Pay public key and its id.")
	ErrRefused  = apperr.New(apperr.Unavailable, "wechatpay_refused", "微信支付拒绝了请求：请检查商户号、证书序列号与私钥", "WeChat Pay refused the request: check mchid, serial_no and the private key.")
)

// vendorErr is base with its cause; errors.Is(err, base) holds, so callers
// (and tests) tell a refused request from an unverified answer.
func vendorErr(base *apperr.Error, cause error) error { return base.Wrap(cause) }

// do sends a signed request and verifies the answer's signature; out gets
// a 2xx JSON answer. A verified error answer comes back as *apiError.
func (c *Client) do(ctx context.Context, method, pathQuery string, body any, out any) error {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	ts := strconv.FormatInt(c.Now().Unix(), 10)
	nonce := NonceStr()
	auth, err := Authorization(c.keys.priv, c.acct.MchID, c.acct.SerialNo, method, pathQuery, ts, nonce, string(raw))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+pathQuery, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "ShelfLive")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.keys.pub != nil {
		req.Header.Set("Wechatpay-Serial", c.acct.PublicKeyID)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return vendorErr(payment.ErrVendor, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return vendorErr(payment.ErrVendor, err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		var ae apiError
		json.Unmarshal(rb, &ae)
		return vendorErr(ErrRefused, fmt.Errorf("%s: %s", ae.Code, ae.Message))
	}
	if err := c.verify(ctx, resp.Header, rb, pathQuery == certificatesPath, c.Now()); err != nil {
		return vendorErr(ErrUnsigned, err)
	}
	if resp.StatusCode/100 != 2 {
		ae := &apiError{Status: resp.StatusCode}
		json.Unmarshal(rb, ae)
		return ae
	}
	if out != nil && len(rb) > 0 {
		if err := json.Unmarshal(rb, out); err != nil {
			return vendorErr(payment.ErrVendor, err)
		}
	}
	return nil
}

// verify checks the Wechatpay-* signature headers of an answer or callback.
func (c *Client) verify(ctx context.Context, h http.Header, body []byte, fetchingCerts bool, now time.Time) error {
	ts, nonce, sig, serial := h.Get("Wechatpay-Timestamp"), h.Get("Wechatpay-Nonce"), h.Get("Wechatpay-Signature"), h.Get("Wechatpay-Serial")
	if ts == "" || nonce == "" || sig == "" || serial == "" {
		return errors.New("unsigned")
	}
	pub, err := c.keyFor(ctx, serial, fetchingCerts, body)
	if err != nil {
		return err
	}
	if err := VerifyMessage(pub, sig, ts, nonce, string(body)); err != nil {
		return errors.New("signature does not verify")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("bad timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > c.Window || d < -c.Window {
		return payment.ErrStale
	}
	return nil
}

// keyFor picks the key a WeChat Pay signature names: the public key in
// public-key mode, else a platform certificate (fetched when unknown).
func (c *Client) keyFor(ctx context.Context, serial string, fetchingCerts bool, body []byte) (*rsa.PublicKey, error) {
	if c.keys.pub != nil {
		if serial != c.acct.PublicKeyID {
			return nil, fmt.Errorf("signed with %q, not the configured public key %q", serial, c.acct.PublicKeyID)
		}
		return c.keys.pub, nil
	}
	c.certMu.Lock()
	pub := c.certs[serial]
	c.certMu.Unlock()
	if pub != nil {
		return pub, nil
	}
	if fetchingCerts {
		// The certificate list is encrypted with the APIv3 key, which only
		// WeChat Pay and the merchant know; its signature is then checked
		// with the certificate it names.
		certs, err := decryptCertificates(body, c.acct.APIv3Key)
		if err != nil {
			return nil, err
		}
		if pub = certs[serial]; pub == nil {
			return nil, fmt.Errorf("certificate list not signed by one of its certificates")
		}
		c.certMu.Lock()
		c.certs = certs
		c.certMu.Unlock()
		return pub, nil
	}
	if err := c.do(ctx, http.MethodGet, certificatesPath, nil, nil); err != nil {
		return nil, err
	}
	c.certMu.Lock()
	pub = c.certs[serial]
	c.certMu.Unlock()
	if pub == nil {
		return nil, fmt.Errorf("no platform certificate %q", serial)
	}
	return pub, nil
}

const certificatesPath = "/v3/certificates"

func decryptCertificates(body []byte, apiv3Key string) (map[string]*rsa.PublicKey, error) {
	var list struct {
		Data []struct {
			SerialNo string   `json:"serial_no"`
			Cert     Resource `json:"encrypt_certificate"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, err
	}
	out := map[string]*rsa.PublicKey{}
	for _, d := range list.Data {
		plain, err := d.Cert.Decrypt(apiv3Key)
		if err != nil {
			return nil, fmt.Errorf("platform certificate %s: %w", d.SerialNo, err)
		}
		b, _ := pem.Decode(plain)
		if b == nil {
			return nil, fmt.Errorf("platform certificate %s: not PEM", d.SerialNo)
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		if pub, ok := cert.PublicKey.(*rsa.PublicKey); ok {
			out[d.SerialNo] = pub
		}
	}
	return out, nil
}
