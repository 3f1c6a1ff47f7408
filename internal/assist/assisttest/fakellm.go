// Package assisttest holds a fake OpenAI-compatible chat-completions
// server for tests: real HTTP, the documented request and response shapes,
// a bearer key it checks, and replies a test scripts.
package assisttest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// FakeLLM answers POST /v1/chat/completions like the OpenAI API.
type FakeLLM struct {
	*httptest.Server
	Key string
	// Reply computes the assistant message from the user message; the
	// default answers price questions from the numbered facts with a citation.
	Reply func(user string) string

	mu       sync.Mutex
	requests []Request
}

// Request is one call the fake received.
type Request struct {
	Model    string
	System   string
	User     string
	AuthOK   bool
	Messages int
}

// StartFakeLLM starts the fake on a free port; it stops with the test.
func StartFakeLLM(tb testing.TB, key string) *FakeLLM {
	tb.Helper()
	f := &FakeLLM{Key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", f.handle)
	f.Server = httptest.NewServer(mux)
	tb.Cleanup(f.Server.Close)
	return f
}

// BaseURL is what ShelfLive is configured with (…/v1).
func (f *FakeLLM) BaseURL() string { return f.Server.URL + "/v1" }

// Requests returns what was received so far.
func (f *FakeLLM) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

func (f *FakeLLM) handle(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Model == "" || len(in.Messages) == 0 {
		writeErr(w, 400, "invalid_request_error", "model and messages are required")
		return
	}
	rec := Request{Model: in.Model, Messages: len(in.Messages), AuthOK: r.Header.Get("Authorization") == "Bearer "+f.Key}
	for _, m := range in.Messages {
		switch m.Role {
		case "system":
			rec.System = m.Content
		case "user":
			rec.User = m.Content
		}
	}
	f.mu.Lock()
	f.requests = append(f.requests, rec)
	f.mu.Unlock()
	if !rec.AuthOK {
		writeErr(w, 401, "invalid_api_key", "Incorrect API key provided.")
		return
	}
	reply := f.Reply
	if reply == nil {
		reply = PriceReply
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion", "model": in.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": reply(rec.User)}}},
		"usage":   map[string]any{"prompt_tokens": len(rec.User), "completion_tokens": 20, "total_tokens": len(rec.User) + 20},
	})
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": code, "code": code}})
}

var factLine = regexp.MustCompile(`(?m)^\[(\d+)\] ([^：]+)：(.+)$`)

// PriceReply answers from the fact labelled 价格, citing it, the way a
// well-behaved model does.
func PriceReply(user string) string {
	for _, m := range factLine.FindAllStringSubmatch(user, -1) {
		if strings.TrimSpace(m[2]) == "价格" {
			return "家人们，这款" + m[3] + "[" + m[1] + "]，喜欢就拍！"
		}
	}
	return "我们确认后回复您。"
}
