package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startMain boots the whole product in-process on a free port with a fresh
// data dir, like `go run ./cmd/shelflive` does.
func startMain(tb testing.TB, dataDir string) *Main {
	tb.Helper()
	if dataDir == "" {
		dataDir = tb.TempDir()
	}
	c, err := parseConfig("test", []string{"-addr", "127.0.0.1:0", "-data-dir", dataDir, "-rtmp-addr", "", "-admin-token", testToken})
	if err != nil {
		tb.Fatal(err)
	}
	m := &Main{Config: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
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

const testToken = "test-owner-token-0123456789"

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (m *Main) url(path string) string { return m.selfURL() + path }

// apiJSON calls the API with the owner token and decodes the answer.
func apiJSON(tb testing.TB, m *Main, method, path string, body any, out any) int {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, m.url(path), rd)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func waitFor(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("timed out waiting for %s", what)
}
