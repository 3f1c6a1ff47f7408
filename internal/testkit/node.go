package testkit

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apiclient"
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

// Client calls a node's API as one caller: apiclient.Client (the JSON client
// the load tools use too) with test-friendly methods that fail the test on a
// transport or decode error.
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

func (c *Client) api() *apiclient.Client {
	return &apiclient.Client{Base: c.Base, Token: c.Token, Header: c.Header, HTTP: c.HTTP}
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
	st, hdr, err := c.api().CallWith(context.Background(), method, path, nil, body, out)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	return st, hdr
}

// Viewer logs a customer in by phone (dev mode returns the code) and
// returns a client with their bearer token.
func Viewer(tb testing.TB, m *node.Main, phone string) *Client {
	tb.Helper()
	v, err := apiclient.LoginViewer(context.Background(), &apiclient.Client{Base: m.URL()}, "demo", phone)
	if err != nil {
		tb.Fatal(err)
	}
	return &Client{Base: m.URL(), Token: v.Token}
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
