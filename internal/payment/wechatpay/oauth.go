package wechatpay

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/shelflive/shelflive/internal/payment"
)

// WeChat sign-in (OAuth 2.0, scope snsapi_base) of the official account:
// JSAPI payments need the payer's openid for the account's appid. The hosts
// are WeChat's; when SHELFLIVE_WECHATPAY_BASE_URL replaces WeChat Pay's host
// (sandbox, tests) it replaces these too.
const (
	oauthAuthorize = "https://open.weixin.qq.com/connect/oauth2/authorize"
	oauthToken     = "https://api.weixin.qq.com/sns/oauth2/access_token"
)

func (c *Client) oauthURL(def, path string) string {
	if c.BaseURL == DefaultBaseURL {
		return def
	}
	return c.BaseURL + path
}

// CanSignIn reports whether the account has the AppSecret the sign-in needs.
func (c *Client) CanSignIn() bool { return c.acct.AppSecret != "" }

// SignInURL is where the buyer's WeChat goes to identify them silently
// (snsapi_base); WeChat comes back to redirect with ?code=…&state=state.
func (c *Client) SignInURL(redirect, state string) string {
	q := url.Values{"appid": {c.acct.AppID}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"snsapi_base"}, "state": {state}}
	return c.oauthURL(oauthAuthorize, "/connect/oauth2/authorize") + "?" + q.Encode() + "#wechat_redirect"
}

// OpenID exchanges the sign-in code for the buyer's openid.
func (c *Client) OpenID(ctx context.Context, code string) (string, error) {
	if !c.CanSignIn() {
		return "", payment.ErrNeedOpenID
	}
	q := url.Values{"appid": {c.acct.AppID}, "secret": {c.acct.AppSecret}, "code": {code}, "grant_type": {"authorization_code"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.oauthURL(oauthToken, "/sns/oauth2/access_token")+"?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", vendorErr(payment.ErrVendor, err)
	}
	defer resp.Body.Close()
	var out struct {
		OpenID  string `json:"openid"`
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil || out.OpenID == "" {
		return "", vendorErr(payment.ErrVendor, fmt.Errorf("wechat sign-in: %d %s %v", out.ErrCode, out.ErrMsg, err))
	}
	return out.OpenID, nil
}
