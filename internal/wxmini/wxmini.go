// Package wxmini is ShelfLive's side of a WeChat mini-program login: the
// mini-program's wx.login code goes to WeChat's jscode2session, which names
// the viewer's openid for the mini-program's appid. One mini-program per
// install (SHELFLIVE_WECHAT_MINIPROGRAM_APPID / _SECRET).
package wxmini

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/wxmsg"
)

// DefaultBaseURL is WeChat's API host; SHELFLIVE_WECHAT_MINIPROGRAM_BASE_URL
// replaces it (sandboxes, tests).
const DefaultBaseURL = "https://api.weixin.qq.com"

// Errors the login answers with; WeChat's own errcode goes to the log only.
var (
	ErrOff     = apperr.New(apperr.NotFound, "miniprogram_off", "本站未开通微信小程序登录", "This site has no WeChat mini-program login.")
	ErrCode    = apperr.InvalidField("code", "miniprogram_code_invalid", "微信登录凭证无效或已用过，请重新进入小程序", "The WeChat login code is invalid or used; reopen the mini-program.")
	ErrWeChat  = apperr.New(apperr.Unavailable, "wechat_unavailable", "微信服务暂时不可用，请稍后再试", "WeChat did not answer as expected; try again shortly.")
	errNoAppID = fmt.Errorf("wxmini: appid and secret are required")
)

// Client calls jscode2session for one mini-program.
type Client struct {
	AppID   string
	Secret  string
	BaseURL string // empty: DefaultBaseURL
	HTTP    *http.Client
	// Templates are the subscribe-message template ids by kind
	// (TemplateLiveStart, TemplateOrderReady); ParseTemplates reads them.
	Templates map[string]string
}

// New is a client; nil when the install has no mini-program (appid empty).
func New(appID, secret, baseURL string, hc *http.Client) (*Client, error) {
	if appID == "" && secret == "" {
		return nil, nil
	}
	if appID == "" || secret == "" {
		return nil, errNoAppID
	}
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{AppID: appID, Secret: secret, BaseURL: strings.TrimRight(baseURL, "/"), HTTP: hc}, nil
}

// Session is what WeChat tells about a login code. The session_key is
// not kept: ShelfLive decrypts nothing the mini-program sends.
type Session struct {
	OpenID  string
	UnionID string // only when the mini-program is bound to an open platform account
}

// Code2Session exchanges a wx.login code for the viewer's openid.
func (c *Client) Code2Session(ctx context.Context, code string) (Session, error) {
	if c == nil {
		return Session{}, ErrOff
	}
	code = strings.TrimSpace(code)
	if code == "" || len(code) > 128 {
		return Session{}, ErrCode
	}
	q := url.Values{"appid": {c.AppID}, "secret": {c.Secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/sns/jscode2session?"+q.Encode(), nil)
	if err != nil {
		return Session{}, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Session{}, ErrWeChat.Wrap(fmt.Errorf("jscode2session: %w", err))
	}
	defer resp.Body.Close()
	var out struct {
		OpenID     string `json:"openid"`
		UnionID    string `json:"unionid"`
		SessionKey string `json:"session_key"`
		ErrCode    int    `json:"errcode"`
		ErrMsg     string `json:"errmsg"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil {
		return Session{}, ErrWeChat.Wrap(fmt.Errorf("jscode2session: http %d: %w", resp.StatusCode, err))
	}
	switch {
	case out.ErrCode == 40029 || out.ErrCode == 40163: // invalid code, code already used
		return Session{}, ErrCode
	case out.ErrCode != 0 || out.OpenID == "":
		return Session{}, ErrWeChat.Wrap(fmt.Errorf("jscode2session: errcode %d %s", out.ErrCode, out.ErrMsg))
	}
	return Session{OpenID: out.OpenID, UnionID: out.UnionID}, nil
}

// Subscribe-message templates the mini-program asks viewers to allow
// (wx.requestSubscribeMessage), by what they are for. The ids are the
// mini-program's own (mp.weixin.qq.com → 订阅消息 → 我的模板), so they are
// install settings: SHELFLIVE_WECHAT_MINIPROGRAM_TEMPLATES
// "live_start=<id>,order_ready=<id>".
const (
	TemplateLiveStart  = "live_start"  // a live the viewer 预约'd is starting
	TemplateOrderReady = "order_ready" // an order is ready for pickup
)

// errTemplates is a template setting that does not parse.
var errTemplates = fmt.Errorf("wxmini: templates are kind=id pairs separated by commas, kinds %s and %s", TemplateLiveStart, TemplateOrderReady)

// ParseTemplates reads "live_start=<id>,order_ready=<id>" (either may be
// left out).
func ParseTemplates(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kind, id, ok := strings.Cut(part, "=")
		kind, id = strings.TrimSpace(kind), strings.TrimSpace(id)
		if !ok || id == "" || len(id) > 128 || (kind != TemplateLiveStart && kind != TemplateOrderReady) || out[kind] != "" {
			return nil, errTemplates
		}
		out[kind] = id
	}
	return out, nil
}

// AccessToken fetches a new client_credential token of the mini-program
// (the caller caches it for every node).
func (c *Client) AccessToken(ctx context.Context) (string, time.Duration, error) {
	return c.msg().AccessToken(ctx, c.AppID, c.Secret)
}

// SendSubscribe sends a subscribe message (one of the user's grants).
func (c *Client) SendSubscribe(ctx context.Context, token string, m wxmsg.Subscribe) error {
	return c.msg().SendSubscribe(ctx, token, m)
}

func (c *Client) msg() *wxmsg.Client { return &wxmsg.Client{BaseURL: c.BaseURL, HTTP: c.HTTP} }
