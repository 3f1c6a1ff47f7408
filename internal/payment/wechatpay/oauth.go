package wechatpay

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/shelflive/shelflive/internal/identity"
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

// ConsentURL is SignInURL with scope snsapi_userinfo: WeChat asks the
// buyer to let the shop see their nickname and avatar, and comes back
// with a code only when they agree.
func (c *Client) ConsentURL(redirect, state string) string {
	q := url.Values{"appid": {c.acct.AppID}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"snsapi_userinfo"}, "state": {state}}
	return c.oauthURL(oauthAuthorize, "/connect/oauth2/authorize") + "?" + q.Encode() + "#wechat_redirect"
}

const oauthUserInfo = "https://api.weixin.qq.com/sns/userinfo"

// UserInfo exchanges a snsapi_userinfo code for the buyer's openid,
// nickname and avatar (/sns/oauth2/access_token, then /sns/userinfo, then
// the image; the image only from WeChat's image hosts, or from the
// configured base URL's host in a sandbox).
func (c *Client) UserInfo(ctx context.Context, code string) (*identity.WeChatUser, error) {
	if !c.CanSignIn() {
		return nil, payment.ErrNeedOpenID
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		OpenID       string `json:"openid"`
		Scope        string `json:"scope"`
		SnapshotUser int    `json:"is_snapshotuser"`
		ErrCode      int    `json:"errcode"`
		ErrMsg       string `json:"errmsg"`
	}
	q := url.Values{"appid": {c.acct.AppID}, "secret": {c.acct.AppSecret}, "code": {code}, "grant_type": {"authorization_code"}}
	if err := c.getJSON(ctx, c.oauthURL(oauthToken, "/sns/oauth2/access_token")+"?"+q.Encode(), &tok); err != nil || tok.OpenID == "" {
		return nil, vendorErr(payment.ErrVendor, fmt.Errorf("wechat sign-in: %d %s %v", tok.ErrCode, tok.ErrMsg, err))
	}
	u := &identity.WeChatUser{OpenID: tok.OpenID, Snapshot: tok.SnapshotUser == 1}
	if tok.Scope != "snsapi_userinfo" || u.Snapshot {
		return u, nil // the buyer did not share their profile
	}
	var info struct {
		OpenID     string `json:"openid"`
		Nickname   string `json:"nickname"`
		HeadImgURL string `json:"headimgurl"`
		ErrCode    int    `json:"errcode"`
		ErrMsg     string `json:"errmsg"`
	}
	q = url.Values{"access_token": {tok.AccessToken}, "openid": {tok.OpenID}, "lang": {"zh_CN"}}
	if err := c.getJSON(ctx, c.oauthURL(oauthUserInfo, "/sns/userinfo")+"?"+q.Encode(), &info); err != nil || info.ErrCode != 0 || info.OpenID != tok.OpenID {
		return nil, vendorErr(payment.ErrVendor, fmt.Errorf("wechat userinfo: %d %s %v", info.ErrCode, info.ErrMsg, err))
	}
	u.Nickname = strings.TrimSpace(info.Nickname)
	if r := []rune(u.Nickname); len(r) > 32 {
		u.Nickname = string(r[:32])
	}
	if info.HeadImgURL != "" {
		u.Avatar, u.AvatarType = c.fetchAvatar(ctx, info.HeadImgURL)
	}
	return u, nil
}

// fetchAvatar downloads a headimgurl from WeChat's image hosts (or the
// sandbox's); nothing on any failure: the nickname is enough.
func (c *Client) fetchAvatar(ctx context.Context, raw string) ([]byte, string) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, ""
	}
	host := u.Hostname()
	ok := (u.Scheme == "https" || u.Scheme == "http") && (host == "qlogo.cn" || strings.HasSuffix(host, ".qlogo.cn"))
	if c.BaseURL != DefaultBaseURL {
		if b, err := url.Parse(c.BaseURL); err == nil && b.Host == u.Host {
			ok = true
		}
	}
	if !ok {
		return nil, ""
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, ""
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10+1))
	ct := http.DetectContentType(b)
	if err != nil || resp.StatusCode != 200 || len(b) > 256<<10 || (ct != "image/png" && ct != "image/jpeg" && ct != "image/gif" && ct != "image/webp") {
		return nil, ""
	}
	return b, ct
}
