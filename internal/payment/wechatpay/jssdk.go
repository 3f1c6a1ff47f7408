package wechatpay

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/wxmsg"
)

// WeChat JS-SDK of the official account: a page inside WeChat configures
// wx with a signature over the account's jsapi_ticket. The ticket comes
// from the account's access_token (client_credential) and lives 2 hours;
// the caller caches it once for all nodes.
const (
	cgiToken  = "https://api.weixin.qq.com/cgi-bin/token"
	cgiTicket = "https://api.weixin.qq.com/cgi-bin/ticket/getticket"
)

// AppID is the official account the client signs in and shares with.
func (c *Client) AppID() string { return c.acct.AppID }

// JSAPITicket asks WeChat for a fresh access_token and then a jsapi_ticket.
func (c *Client) JSAPITicket(ctx context.Context) (string, time.Duration, error) {
	if !c.CanSignIn() {
		return "", 0, payment.ErrNeedOpenID
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		ErrCode     int    `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
	}
	q := url.Values{"grant_type": {"client_credential"}, "appid": {c.acct.AppID}, "secret": {c.acct.AppSecret}}
	if err := c.getJSON(ctx, c.oauthURL(cgiToken, "/cgi-bin/token")+"?"+q.Encode(), &tok); err != nil || tok.AccessToken == "" {
		return "", 0, vendorErr(payment.ErrVendor, fmt.Errorf("wechat access_token: %d %s %v", tok.ErrCode, tok.ErrMsg, err))
	}
	var t struct {
		Ticket    string `json:"ticket"`
		ExpiresIn int    `json:"expires_in"`
		ErrCode   int    `json:"errcode"`
		ErrMsg    string `json:"errmsg"`
	}
	q = url.Values{"access_token": {tok.AccessToken}, "type": {"jsapi"}}
	if err := c.getJSON(ctx, c.oauthURL(cgiTicket, "/cgi-bin/ticket/getticket")+"?"+q.Encode(), &t); err != nil || t.ErrCode != 0 || t.Ticket == "" {
		return "", 0, vendorErr(payment.ErrVendor, fmt.Errorf("wechat jsapi_ticket: %d %s %v", t.ErrCode, t.ErrMsg, err))
	}
	return t.Ticket, time.Duration(t.ExpiresIn) * time.Second, nil
}

func (c *Client) getJSON(ctx context.Context, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(out)
}

// JSSDKSignature is the documented wx.config signature: SHA-1 (hex) of
// "jsapi_ticket=…&noncestr=…&timestamp=…&url=…", the URL without its #fragment.
func JSSDKSignature(ticket, nonce string, timestamp int64, pageURL string) string {
	sum := sha1.Sum([]byte(fmt.Sprintf("jsapi_ticket=%s&noncestr=%s&timestamp=%d&url=%s", ticket, nonce, timestamp, pageURL)))
	return hex.EncodeToString(sum[:])
}

// SignJSSDK signs a page for wx.config (JSSDKSignature).
func (c *Client) SignJSSDK(ticket, nonce string, timestamp int64, pageURL string) string {
	return JSSDKSignature(ticket, nonce, timestamp, pageURL)
}

// AccessToken fetches a new client_credential token of the official
// account (the caller caches it for every node: a new one ends the old).
func (c *Client) AccessToken(ctx context.Context) (string, time.Duration, error) {
	if !c.CanSignIn() {
		return "", 0, payment.ErrNeedOpenID
	}
	return c.msg().AccessToken(ctx, c.acct.AppID, c.acct.AppSecret)
}

// ReminderTemplate is the official account's template for live reminders
// (empty: the shop sends no template messages).
func (c *Client) ReminderTemplate() string { return c.acct.ReminderTemplateID }

// SendTemplate sends a template message to a follower of the account.
func (c *Client) SendTemplate(ctx context.Context, token string, m wxmsg.Template) error {
	return c.msg().SendTemplate(ctx, token, m)
}

func (c *Client) msg() *wxmsg.Client {
	return &wxmsg.Client{BaseURL: c.oauthURL(wxmsg.DefaultBaseURL, ""), HTTP: c.HTTP}
}
