package redact_test

import (
	"testing"

	"github.com/shelflive/shelflive/internal/redact"
)

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@db:5432/x?sslmode=disable": "postgres://***@db:5432/x?sslmode=disable",
		"nats://u:p@ss@nats:4222":                       "nats://***@nats:4222",
		"nats://nats:4222":                              "nats://nats:4222",
		"mailto:a@b":                                    "mailto:a@b",
		"":                                              "",
	} {
		if got := redact.URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}
