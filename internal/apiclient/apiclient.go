// Package apiclient is the one JSON client of ShelfLive's HTTP API that tests
// (testkit) and load tools (bench, bench/fanout) share: bearer token, JSON in
// and out, extra headers, and the dev-mode phone login. It imports nothing of
// ShelfLive, so any package may use it.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Client calls a node's API as one caller.
type Client struct {
	Base   string            // http://host:port, no trailing slash
	Token  string            // bearer token, if any
	Header map[string]string // extra headers on every request
	HTTP   *http.Client      // nil: http.DefaultClient
}

// WithToken returns a copy of c that calls as the holder of token.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.Token = token
	return &cp
}

// Call sends body as JSON (a string or []byte body as it is) and decodes a
// non-empty answer into out when out is not nil, whatever the status (problem
// answers decode too). It returns the status; err is a transport or decode error.
func (c *Client) Call(ctx context.Context, method, path string, body, out any) (int, error) {
	st, _, err := c.CallWith(ctx, method, path, nil, body, out)
	return st, err
}

// CallWith is Call with extra headers for this request, and it also returns the
// answer's headers.
func (c *Client) CallWith(ctx context.Context, method, path string, header map[string]string, body, out any) (int, http.Header, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return 0, nil, fmt.Errorf("apiclient: %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.Header {
		req.Header.Set(k, v)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, resp.Header, err
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, resp.Header, fmt.Errorf("apiclient: %s %s: decode %.200q: %w", method, path, raw, err)
		}
	}
	return resp.StatusCode, resp.Header, nil
}

// LoginViewer logs a customer of merchant (slug) in by phone through the OTP
// API and returns a client with their bearer token. It needs a node in dev
// mode (SHELFLIVE_DEV=true with the dev SMS provider), which answers
// POST /api/v1/auth/otp with the code as "dev_code" instead of texting it; a
// node with a real SMS gateway never does. Logging many viewers in from one
// address also needs SHELFLIVE_RATE_LIMITS=false (one code per 5 s per IP).
func LoginViewer(ctx context.Context, anon *Client, merchant, phone string) (*Client, error) {
	var otp struct {
		DevCode string `json:"dev_code"`
	}
	st, err := anon.Call(ctx, "POST", "/api/v1/auth/otp", map[string]string{"merchant": merchant, "phone": phone}, &otp)
	if err != nil || st != 200 || otp.DevCode == "" {
		return nil, fmt.Errorf("apiclient: otp for %s: status %d %v (the node must run in dev mode; many logins from one address need SHELFLIVE_RATE_LIMITS=false)", phone, st, err)
	}
	var sess struct {
		Token string `json:"token"`
	}
	st, err = anon.Call(ctx, "POST", "/api/v1/auth/otp/verify", map[string]string{"merchant": merchant, "phone": phone, "code": otp.DevCode}, &sess)
	if err != nil || st != 200 || sess.Token == "" {
		return nil, fmt.Errorf("apiclient: otp verify for %s: status %d %v", phone, st, err)
	}
	return anon.WithToken(sess.Token), nil
}
