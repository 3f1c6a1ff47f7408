// Package wecom sends a scheduled live to a guide's WeCom (企业微信)
// customers: the merchant's corp id and app secret (the 客户联系 secret),
// a guide's WeCom userid, and two calls of WeCom's API (through wxapi), gettoken and
// externalcontact/add_msg_template (a 群发 task the guide confirms in
// WeCom before it reaches their external contacts). It only speaks HTTP
// and declares the store the callers keep; wecomtest is a local WeCom.
package wecom

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/wxapi"
)

// DefaultBaseURL is WeCom's API host.
const DefaultBaseURL = "https://qyapi.weixin.qq.com"

var (
	ErrOff           = apperr.New(apperr.Conflict, "wecom_off", "商家未连接企业微信", "This shop has not connected WeCom.")
	ErrNoUserID      = apperr.New(apperr.Conflict, "wecom_no_userid", "您的账号未绑定企业微信成员 userid，请联系管理员", "Your account has no WeCom userid; ask an admin.")
	ErrWeCom         = apperr.New(apperr.Unavailable, "wecom_error", "企业微信返回错误", "WeCom answered with an error.")
	ErrInvalid       = apperr.InvalidField("corp_id", "invalid_wecom_settings", "企业 ID 与 Secret 均为必填", "Corp id and secret are both required.")
	ErrInvalidUserID = apperr.InvalidField("userid", "invalid_wecom_userid", "企业微信 userid 最长 64 个字符", "A WeCom userid is at most 64 characters.")
)

// Settings is a merchant's WeCom connection; Secret is plain in memory
// and sealed in the database.
type Settings struct {
	CorpID string
	Secret string
}

// Result is WeCom's answer to add_msg_template.
type Result struct {
	MsgID    string   `json:"msgid"`
	FailList []string `json:"fail_list"`
	Repeated bool     `json:"repeated"` // true: the task of today for this room was already created; this is its answer
}

// Store keeps the connection, the guides' userids and today's sends.
type Store interface {
	WeComSettings(ctx context.Context, merchantID int64) (*Settings, error) // nil, nil: not connected
	SetWeComSettings(ctx context.Context, merchantID int64, s Settings) error
	WeComUserID(ctx context.Context, merchantID, staffID int64) (string, error)
	SetWeComUserID(ctx context.Context, merchantID, staffID int64, userID string) error
	// WeComSent is the send of (staff, room) on day ("YYYY-MM-DD" China time), if any.
	WeComSent(ctx context.Context, merchantID, staffID int64, slug, day string) (*Result, error)
	RecordWeComSent(ctx context.Context, merchantID, staffID int64, slug, day string, r Result) error
}

// Error is an errcode WeCom answered.
type Error = wxapi.Error

// Token errcodes a fresh token may cure.
const (
	CodeInvalidToken = 40014
	CodeTokenExpired = 42001
	CodeInvalidCred  = 40001 // invalid secret: in WeCom not a token problem
)

// IsTokenError is an access-token problem a fresh token may cure.
func IsTokenError(err error) bool { return wxapi.HasCode(err, CodeInvalidToken, CodeTokenExpired) }

// Client calls one WeCom host.
type Client struct {
	BaseURL string // empty: DefaultBaseURL
	HTTP    *http.Client
}

func (c *Client) api() *wxapi.Client { return wxapi.New("wecom", c.BaseURL, DefaultBaseURL, c.HTTP) }

// AccessToken fetches a corp access token (/cgi-bin/gettoken).
func (c *Client) AccessToken(ctx context.Context, corpID, secret string) (string, time.Duration, error) {
	return c.api().AccessToken(ctx, "/cgi-bin/gettoken", url.Values{"corpid": {corpID}, "corpsecret": {secret}})
}

// Link is a link attachment of a message.
type Link struct {
	Title  string `json:"title"`
	PicURL string `json:"picurl,omitempty"`
	Desc   string `json:"desc,omitempty"`
	URL    string `json:"url"`
}

// Attachment is one attachment; only links are sent.
type Attachment struct {
	MsgType string `json:"msgtype"` // link
	Link    *Link  `json:"link,omitempty"`
}

// Text is the message's text.
type Text struct {
	Content string `json:"content"`
}

// MsgTemplate is an add_msg_template request: chat_type single sends to
// the sender's external contacts.
type MsgTemplate struct {
	ChatType    string       `json:"chat_type"`
	Sender      string       `json:"sender"`
	Text        Text         `json:"text"`
	Attachments []Attachment `json:"attachments"`
}

// AddMsgTemplate creates the 群发 task; a *Error on WeCom's refusal.
func (c *Client) AddMsgTemplate(ctx context.Context, token string, m MsgTemplate) (Result, error) {
	var out Result
	if err := c.api().Post(ctx, "/cgi-bin/externalcontact/add_msg_template", token, m, &out); err != nil {
		return Result{}, err
	}
	if out.FailList == nil {
		out.FailList = []string{}
	}
	return Result{MsgID: out.MsgID, FailList: out.FailList}, nil
}
