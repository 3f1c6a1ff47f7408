package testkit

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/node"
)

// OwnerToken is the SHELFLIVE_ADMIN_TOKEN of nodes started by StartNode.
const OwnerToken = "test-owner-token-0123456789"

// StartNode boots a whole ShelfLive node in-process on a free port with demo
// data, like `go run ./cmd/shelflive`. An empty dataDir gets a temp dir.
func StartNode(tb testing.TB, dataDir string, extra ...string) *node.Main {
	tb.Helper()
	if dataDir == "" {
		dataDir = tb.TempDir()
	}
	args := append([]string{"-addr", "127.0.0.1:0", "-data-dir", dataDir, "-rtmp-addr", "", "-mqtt-addr", "127.0.0.1:0", "-admin-token", OwnerToken}, extra...)
	c, err := node.ParseConfig("test", args)
	if err != nil {
		tb.Fatal(err)
	}
	m := &node.Main{Config: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if testing.Verbose() {
		m.Logger = slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if err := m.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Client calls a node's API as one caller.
type Client struct {
	Base   string
	Token  string            // bearer token, if any
	Header map[string]string // extra headers
	HTTP   *http.Client
}

// Owner returns a client using the owner API token.
func Owner(m *node.Main) *Client {
	return &Client{Base: m.URL(), Token: OwnerToken, HTTP: http.DefaultClient}
}

// Do sends body as JSON and decodes the answer into out (if not nil). It
// returns the status code.
func (c *Client) Do(tb testing.TB, method, path string, body any, out any) int {
	tb.Helper()
	status, _ := c.DoRaw(tb, method, path, body, out)
	return status
}

// DoRaw is Do that also returns the response headers.
func (c *Client) DoRaw(tb testing.TB, method, path string, body any, out any) (int, http.Header) {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = strings.NewReader(string(raw))
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		tb.Fatal(err)
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
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		raw, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(raw, out); err != nil && len(raw) > 0 {
			tb.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, resp.Header
}

// Viewer logs a customer in by phone (dev mode returns the code) and
// returns a client with their bearer token.
func Viewer(tb testing.TB, m *node.Main, phone string) *Client {
	tb.Helper()
	anon := &Client{Base: m.URL()}
	var otp struct {
		DevCode string `json:"dev_code"`
	}
	if st := anon.Do(tb, "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": phone}, &otp); st != 200 || otp.DevCode == "" {
		tb.Fatalf("otp: status %d", st)
	}
	var sess struct {
		Token string `json:"token"`
	}
	if st := anon.Do(tb, "POST", "/api/v1/auth/otp/verify", map[string]string{"merchant": "demo", "phone": phone, "code": otp.DevCode}, &sess); st != 200 {
		tb.Fatalf("otp verify: status %d", st)
	}
	return &Client{Base: m.URL(), Token: sess.Token}
}

// WaitFor polls cond until it holds or the timeout passes.
func WaitFor(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("timed out waiting for %s", what)
}
