// Package wxmsg calls WeChat's message APIs for reminders: the
// client_credential access token (of an official account or a
// mini-program), a mini-program subscribe message (订阅消息,
// /cgi-bin/message/subscribe/send: one message per grant the user gave with
// wx.requestSubscribeMessage) and an official account template message
// (模板消息, /cgi-bin/message/template/send: to a follower's openid). It
// only speaks HTTP (through wxapi); the token cache and the grants live with the callers.
// wxmsgtest is a local WeChat for the tests.
package wxmsg

import (
	"context"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/wxapi"
)

// DefaultBaseURL is WeChat's API host.
const DefaultBaseURL = "https://api.weixin.qq.com"

// Error is an errcode WeChat answered.
type Error = wxapi.Error

// Errcodes the reminder sender acts on.
const (
	CodeInvalidToken  = 40001 // access_token invalid (another fetch replaced it, or it was revoked)
	CodeBadToken      = 40014 // access_token malformed
	CodeTokenExpired  = 42001 // access_token expired
	CodeRefused       = 43101 // user refused: no subscribe grant left for the template
	CodeNotFollowing  = 43004 // template message to a user who does not follow the account
	CodeBlocked       = 43019 // the user blocked the account
	CodeInvalidOpenID = 40003
)

// IsTokenError is an access-token problem a fresh token may cure.
func IsTokenError(err error) bool {
	return wxapi.HasCode(err, CodeInvalidToken, CodeBadToken, CodeTokenExpired)
}

// IsRefused is a user who does not (or no longer) accept the message: the
// subscribe grant is used up or refused, the account unfollowed or
// blocked, the openid unknown. Sending again will not help.
func IsRefused(err error) bool {
	return wxapi.HasCode(err, CodeRefused, CodeNotFollowing, CodeBlocked, CodeInvalidOpenID)
}

// Client calls one WeChat host.
type Client struct {
	BaseURL string // empty: DefaultBaseURL
	HTTP    *http.Client
}

func (c *Client) api() *wxapi.Client { return wxapi.New("wechat", c.BaseURL, DefaultBaseURL, c.HTTP) }

// AccessToken fetches a new client_credential token for appID. WeChat
// keeps one valid token per app (a new fetch ends the old one within
// minutes), so callers cache it once for every node.
func (c *Client) AccessToken(ctx context.Context, appID, secret string) (string, time.Duration, error) {
	return c.api().AccessToken(ctx, "/cgi-bin/token", url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {secret}})
}

// Value is one keyword's value of a message.
type Value struct {
	Value string `json:"value"`
}

// Subscribe is a mini-program subscribe message.
type Subscribe struct {
	ToUser     string           `json:"touser"`
	TemplateID string           `json:"template_id"`
	Page       string           `json:"page,omitempty"`              // the mini-program page the card opens, with its query
	State      string           `json:"miniprogram_state,omitempty"` // formal | trial | developer
	Lang       string           `json:"lang,omitempty"`              // zh_CN
	Data       map[string]Value `json:"data"`
}

// Template is an official account template message.
type Template struct {
	ToUser      string           `json:"touser"`
	TemplateID  string           `json:"template_id"`
	URL         string           `json:"url,omitempty"`
	MiniProgram *MiniProgramLink `json:"miniprogram,omitempty"`
	Data        map[string]Value `json:"data"`
}

// MiniProgramLink opens a mini-program page from a template message.
type MiniProgramLink struct {
	AppID    string `json:"appid"`
	PagePath string `json:"pagepath"`
}

// SendSubscribe sends a subscribe message; a *Error on WeChat's refusal.
func (c *Client) SendSubscribe(ctx context.Context, token string, m Subscribe) error {
	return c.api().Post(ctx, "/cgi-bin/message/subscribe/send", token, m, nil)
}

// SendTemplate sends a template message; a *Error on WeChat's refusal.
func (c *Client) SendTemplate(ctx context.Context, token string, m Template) error {
	return c.api().Post(ctx, "/cgi-bin/message/template/send", token, m, nil)
}

// Thing cuts s to WeChat's "thing" keyword limit (20 characters).
func Thing(s string) string {
	if utf8.RuneCountInString(s) <= 20 {
		return s
	}
	return string([]rune(s)[:19]) + "…"
}

// Time formats t as a "time" keyword (China time: the caller passes it in
// cn.Shanghai).
func Time(t time.Time) string { return t.Format("2006-01-02 15:04") }

// ReminderData is the reminder's keywords, the same for both kinds of
// message: thing1 the live's title, time2 its start (China time), thing3
// a note. A template chosen in WeChat's console for reminders must have
// these three keywords (docs/ARCHITECTURE.md "Reminders").
func ReminderData(title string, start time.Time, note string) map[string]Value {
	return map[string]Value{"thing1": {Thing(title)}, "time2": {Time(start)}, "thing3": {Thing(note)}}
}
