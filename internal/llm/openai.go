// Package llm talks to OpenAI-compatible chat-completions endpoints: the
// adapter behind assist.Model.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client is an OpenAI-compatible chat-completions endpoint (OpenAI, DeepSeek,
// Qwen/DashScope compatible mode, a local vLLM or Ollama …): POST
// {URL}/chat/completions with a bearer key and a model name.
type Client struct {
	URL   string // base URL, e.g. https://api.deepseek.com/v1
	Key   string
	Model string
	HTTP  *http.Client // default: 8 s timeout
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model       string        `json:"model"`
	Messages    []chatMessage `json:"messages"`
	Temperature float64       `json:"temperature"`
	MaxTokens   int           `json:"max_tokens"`
}

type chatResponse struct {
	Choices []struct {
		Message chatMessage `json:"message"`
	} `json:"choices"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// ErrNoAnswer is a model answer with nothing usable in it.
var ErrNoAnswer = errors.New("llm: the model returned no answer")

// Complete sends one system and one user message and returns the reply.
func (l *Client) Complete(ctx context.Context, system, user string) (string, error) {
	hc := l.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 8 * time.Second}
	}
	body, _ := json.Marshal(chatRequest{Model: l.Model, Temperature: 0.2, MaxTokens: 300,
		Messages: []chatMessage{{Role: "system", Content: system}, {Role: "user", Content: user}}})
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(l.URL, "/")+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("llm: llm request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if l.Key != "" {
		req.Header.Set("Authorization", "Bearer "+l.Key)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("llm: llm: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("llm: llm read: %w", err)
	}
	var out chatResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", fmt.Errorf("llm: llm answered %d, not JSON", resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		msg := ""
		if out.Error != nil {
			msg = out.Error.Message
		}
		return "", fmt.Errorf("llm: llm answered %d: %s", resp.StatusCode, msg)
	}
	if len(out.Choices) == 0 || strings.TrimSpace(out.Choices[0].Message.Content) == "" {
		return "", ErrNoAnswer
	}
	return strings.TrimSpace(out.Choices[0].Message.Content), nil
}
