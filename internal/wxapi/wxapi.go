// Package wxapi is the client WeChat's APIs (api.weixin.qq.com: official
// accounts, mini-programs) and WeCom's (qyapi.weixin.qq.com) share: both
// answer JSON with errcode and errmsg, take the access token in the query,
// and hand out tokens that expire after about two hours or end early when
// another fetch replaces them. wxmsg and wecom speak their messages
// through it; Call is the one retry on a refused token.
//
// There is no token cache in this package on purpose: WeChat keeps one
// valid token per app, so a cache per process would have every node
// replace the others' tokens. Callers pass a Cache kept once for every
// node (sqldb.WeChatTicketStore).
package wxapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Error is an errcode the API answered (API names which: "wechat", "wecom").
type Error struct {
	API  string
	Code int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s errcode %d: %s", e.API, e.Code, e.Msg) }

// HasCode is an *Error with one of codes.
func HasCode(err error, codes ...int) bool {
	var e *Error
	return errors.As(err, &e) && slices.Contains(codes, e.Code)
}

// Client calls one host.
type Client struct {
	API     string // names errors: "wechat", "wecom"
	BaseURL string // e.g. https://api.weixin.qq.com
	HTTP    *http.Client
}

// New is a client of api at baseURL, or at fallback (the API's public
// host) when baseURL is empty.
func New(api, baseURL, fallback string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = fallback
	}
	return &Client{API: api, BaseURL: baseURL, HTTP: hc}
}

// status is the errcode and errmsg every answer carries (absent: 0).
type status struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Get calls path with query q and decodes the answer into out (nil: only
// the errcode is read); an errcode other than 0 is an *Error.
func (c *Client) Get(ctx context.Context, path string, q url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(path, q), nil)
	if err != nil {
		return err
	}
	return c.do(req, out)
}

// Post sends body as JSON to path with the access token and decodes the
// answer into out (nil: only the errcode is read); an errcode other than 0
// is an *Error.
func (c *Client) Post(ctx context.Context, path, token string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(path, url.Values{"access_token": {token}}), bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req, out)
}

// AccessToken fetches a new access token from path (WeChat's
// /cgi-bin/token, WeCom's /cgi-bin/gettoken) and how long it lives. An
// answer without a token is an *Error even when its errcode is 0.
func (c *Client) AccessToken(ctx context.Context, path string, q url.Values) (string, time.Duration, error) {
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	label := strings.TrimPrefix(path, "/cgi-bin/")
	err := c.Get(ctx, path, q, &out)
	var e *Error
	if errors.As(err, &e) {
		return "", 0, &Error{API: c.API, Code: e.Code, Msg: label + ": " + e.Msg}
	}
	if err != nil {
		return "", 0, err
	}
	if out.AccessToken == "" {
		return "", 0, &Error{API: c.API, Msg: label + ": no access_token"}
	}
	return out.AccessToken, time.Duration(out.ExpiresIn) * time.Second, nil
}

func (c *Client) url(path string, q url.Values) string {
	return strings.TrimRight(c.BaseURL, "/") + path + "?" + q.Encode()
}

func (c *Client) do(req *http.Request, out any) error {
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s: http %d", c.API, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("%s: %w", c.API, err)
	}
	var st status
	if err := json.Unmarshal(body, &st); err != nil {
		return fmt.Errorf("%s: %w", c.API, err)
	}
	if st.ErrCode != 0 {
		return &Error{API: c.API, Code: st.ErrCode, Msg: st.ErrMsg}
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%s: %w", c.API, err)
		}
	}
	return nil
}

// Fetch gets a new access token and how long it lives.
type Fetch func(context.Context) (string, time.Duration, error)

// Cache keeps access tokens for every node: Ticket returns the cached one
// (fetching when it is missing or expiring), RefreshTicket replaces one
// the API refused unless another caller already did.
type Cache interface {
	Ticket(ctx context.Context, key string, fetch func(context.Context) (string, time.Duration, error)) (string, error)
	RefreshTicket(ctx context.Context, key, stale string, fetch func(context.Context) (string, time.Duration, error)) (string, error)
}

// Call calls call with the cached token of key. When the API says the
// token is no longer valid (isTokenErr: expired, or replaced by another
// fetch) the token is refreshed once and call tried once more; a second
// refusal is returned as it is.
func Call(ctx context.Context, cache Cache, key string, fetch Fetch, isTokenErr func(error) bool, call func(token string) error) error {
	tok, err := cache.Ticket(ctx, key, fetch)
	if err != nil {
		return err
	}
	err = call(tok)
	if !isTokenErr(err) {
		return err
	}
	if tok, err = cache.RefreshTicket(ctx, key, tok, fetch); err != nil {
		return err
	}
	return call(tok)
}
