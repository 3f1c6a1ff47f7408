// Package wecom sends a scheduled live to a guide's WeCom (企业微信)
// customers: the merchant's corp id and app secret (the 客户联系 secret),
// a guide's WeCom userid, and two calls of WeCom's API, gettoken and
// externalcontact/add_msg_template (a 群发 task the guide confirms in
// WeCom before it reaches their external contacts). It only speaks HTTP
// and declares the store the callers keep; wecomtest is a local WeCom.
package wecom

import (
	"bytes"
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
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("wecom errcode %d: %s", e.Code, e.Msg) }

// Token errcodes a fresh token may cure.
const (
	CodeInvalidToken = 40014
	CodeTokenExpired = 42001
	CodeInvalidCred  = 40001 // invalid secret
)

// IsTokenError is an access-token problem a fresh token may cure.
func IsTokenError(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Code == CodeInvalidToken || e.Code == CodeTokenExpired)
}

// Client calls one WeCom host.
type Client struct {
	BaseURL string // empty: DefaultBaseURL
	HTTP    *http.Client
}

func (c *Client) url(path string, q url.Values) string {
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	return base + path + "?" + q.Encode()
}

func (c *Client) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// AccessToken fetches a corp access token (/cgi-bin/gettoken).
func (c *Client) AccessToken(ctx context.Context, corpID, secret string) (string, time.Duration, error) {
	var out struct {
		ErrCode     int    `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("/cgi-bin/gettoken", url.Values{"corpid": {corpID}, "corpsecret": {secret}}), nil)
	if err != nil {
		return "", 0, err
	}
	if err := c.do(req, &out); err != nil {
		return "", 0, err
	}
	if out.ErrCode != 0 || out.AccessToken == "" {
		return "", 0, &Error{Code: out.ErrCode, Msg: "gettoken: " + out.ErrMsg}
	}
	return out.AccessToken, time.Duration(out.ExpiresIn) * time.Second, nil
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
	b, err := json.Marshal(m)
	if err != nil {
		return Result{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("/cgi-bin/externalcontact/add_msg_template", url.Values{"access_token": {token}}), bytes.NewReader(b))
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	var out struct {
		ErrCode  int      `json:"errcode"`
		ErrMsg   string   `json:"errmsg"`
		MsgID    string   `json:"msgid"`
		FailList []string `json:"fail_list"`
	}
	if err := c.do(req, &out); err != nil {
		return Result{}, err
	}
	if out.ErrCode != 0 {
		return Result{}, &Error{Code: out.ErrCode, Msg: out.ErrMsg}
	}
	if out.FailList == nil {
		out.FailList = []string{}
	}
	return Result{MsgID: out.MsgID, FailList: out.FailList}, nil
}

func (c *Client) do(req *http.Request, out any) error {
	resp, err := c.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("wecom: http %d", resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(out); err != nil {
		return fmt.Errorf("wecom: %w", err)
	}
	return nil
}
