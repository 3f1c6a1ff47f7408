package node_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestExternalMediaCSP: with an external media server on other origins
// (docs/DEPLOY.md), the pages' CSP lets the player fetch and play from
// exactly those origins; without one, media stays same-origin.
func TestExternalMediaCSP(t *testing.T) {
	csp := func(base, path string) string {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return resp.Header.Get("Content-Security-Policy")
	}
	directive := func(policy, name string) string {
		for _, d := range strings.Split(policy, ";") {
			if d = strings.TrimSpace(d); strings.HasPrefix(d, name+" ") {
				return d
			}
		}
		return ""
	}
	ext := testkit.StartNode(t, "", "-media", "external", "-media-hook-secret", "hook-secret",
		"-media-flv-url", "https://cdn.example.com/live/{slug}.flv",
		"-media-hls-url", "https://hls.example.net:8443/live/{slug}.m3u8",
		"-media-replay-url", "/replays/{slug}.m3u8")
	for _, path := range []string{"/live/demo", "/embed/rooms/demo"} {
		p := csp(ext.URL(), path)
		for _, name := range []string{"media-src", "connect-src"} {
			d := directive(p, name)
			if !strings.Contains(d, " https://cdn.example.com") || !strings.Contains(d, " https://hls.example.net:8443") || strings.Count(d, "https://") != 2 {
				t.Errorf("%s %s = %q: want both media origins, once each", path, name, d)
			}
		}
		if d := directive(p, "script-src"); strings.Contains(d, "example") {
			t.Errorf("%s: scripts from the media origins: %q", path, d)
		}
	}
	own := testkit.StartNode(t, "")
	if d := directive(csp(own.URL(), "/live/demo"), "media-src"); d != "media-src 'self' blob:" {
		t.Errorf("embedded media: %q", d)
	}
}
