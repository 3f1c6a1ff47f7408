package ws

import (
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/realtime"
)

// FuzzParseResume: the ?sub= positions a client sends never panic the
// parser, and whatever it accepts names valid topics within the limit.
func FuzzParseResume(f *testing.F) {
	for _, s := range []string{"room:12", "room:12@abc.5", "room:1,staff:3@x.9", "order:7@e.18446744073709551615", "room:12@", "@.", "room:\x00", strings.Repeat("room:1,", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		subs, err := ParseResume([]string{s})
		if err != nil {
			return
		}
		if len(subs) > MaxTopics {
			t.Fatalf("%q: %d topics over the limit", s, len(subs))
		}
		for _, r := range subs {
			if !realtime.ValidTopic(r.Topic) {
				t.Fatalf("%q: accepted invalid topic %q", s, r.Topic)
			}
		}
	})
}

// FuzzClientFrame: any client message is either a ping or ignored, never a panic.
func FuzzClientFrame(f *testing.F) {
	for _, s := range []string{`{"t":"ping"}`, `{"t":"pong"}`, `{}`, `[]`, `{"t":1}`, "\xff", `{"t":"ping","x":` + strings.Repeat("[", 1000)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if isPing(b) && !strings.Contains(string(b), "ping") {
			t.Fatalf("%q taken for a ping", b)
		}
	})
}
