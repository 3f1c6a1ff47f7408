package alipay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/payment"
)

// Client is one merchant's Alipay app; it implements payment.Provider.
type Client struct {
	BaseURL    string
	HTTP       *http.Client
	Now        func() time.Time
	Window     time.Duration // accepted age of a notification (notify_time), 5 min
	MerchantID int64

	acct Account
	keys *keys
}

var _ payment.Provider = (*Client)(nil)

// New opens an account (settings as Parse returned them).
func New(merchantID int64, settings []byte, baseURL string, hc *http.Client, now func() time.Time) (*Client, error) {
	var a Account
	if err := json.Unmarshal(settings, &a); err != nil {
		return nil, fmt.Errorf("alipay: settings: %w", err)
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
	return &Client{BaseURL: baseURL, HTTP: hc, Now: now, Window: 5 * time.Minute, MerchantID: merchantID, acct: a, keys: k}, nil
}

// Name implements payment.Provider.
func (c *Client) Name() string { return Name }

// AppID is the account's APPID.
func (c *Client) AppID() string { return c.acct.AppID }

// Vendor-answer errors.
var (
	ErrUnsigned = apperr.New(apperr.Unavailable, "alipay_answer_unverified", "支付宝应答验签失败：请检查支付宝公钥（不是应用公钥）", "Alipay's answer did not verify: check the Alipay public key (not the app's own public key).")
	ErrRefused  = apperr.New(apperr.Unavailable, "alipay_refused", "支付宝拒绝了请求：请检查 APPID 与应用私钥", "Alipay refused the request: check app_id and the app private key.")
)

// vendorErr is base with its cause; errors.Is(err, base) holds, so callers
// (and tests) tell a refused request from an unverified answer.
func vendorErr(base *apperr.Error, cause error) error { return base.Wrap(cause) }

// apiError is a verified Alipay business error.
type apiError struct {
	Code, Msg, SubCode, SubMsg string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("alipay: %s %s: %s %s", e.Code, e.Msg, e.SubCode, e.SubMsg)
}

// params are a request's signed parameters.
func (c *Client) params(method string, biz any, extra map[string]string) (url.Values, error) {
	bc, _ := json.Marshal(biz)
	v := url.Values{"app_id": {c.acct.AppID}, "method": {method}, "format": {"JSON"}, "charset": {"utf-8"}, "sign_type": {"RSA2"},
		"timestamp": {c.Now().In(cn.Shanghai).Format("2006-01-02 15:04:05")}, "version": {"1.0"}, "biz_content": {string(bc)}}
	for k, x := range extra {
		if x != "" {
			v.Set(k, x)
		}
	}
	sig, err := Sign(c.keys.priv, SignContent(v))
	if err != nil {
		return nil, err
	}
	v.Set("sign", sig)
	return v, nil
}

// call posts a request and verifies the answer: the signature covers the
// exact text of the "<method>_response" member.
func (c *Client) call(ctx context.Context, method string, biz any, extra map[string]string, out any) error {
	v, err := c.params(method, biz, extra)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL, strings.NewReader(v.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return vendorErr(payment.ErrVendor, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return vendorErr(payment.ErrVendor, fmt.Errorf("alipay: %s %v", resp.Status, err))
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return vendorErr(payment.ErrVendor, err)
	}
	raw := env[strings.ReplaceAll(method, ".", "_")+"_response"]
	var head struct {
		Code    string `json:"code"`
		Msg     string `json:"msg"`
		SubCode string `json:"sub_code"`
		SubMsg  string `json:"sub_msg"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return vendorErr(payment.ErrVendor, err)
	}
	var sig string
	json.Unmarshal(env["sign"], &sig)
	if err := Verify(c.keys.pub, string(raw), sig); err != nil {
		if strings.HasPrefix(head.SubCode, "isv.invalid-signature") || strings.HasPrefix(head.SubCode, "isv.invalid-app-id") || strings.HasPrefix(head.SubCode, "isv.missing-signature") {
			return vendorErr(ErrRefused, fmt.Errorf("%s: %s", head.SubCode, head.SubMsg)) // Alipay does not sign these
		}
		return vendorErr(ErrUnsigned, err)
	}
	if head.Code != "10000" {
		return &apiError{Code: head.Code, Msg: head.Msg, SubCode: head.SubCode, SubMsg: head.SubMsg}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return vendorErr(payment.ErrVendor, err)
		}
	}
	return nil
}

// business turns a verified business error into ErrVendor.
func business(err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		if strings.HasPrefix(ae.SubCode, "isv.") {
			return vendorErr(ErrRefused, ae)
		}
		return vendorErr(payment.ErrVendor, ae)
	}
	return err
}
