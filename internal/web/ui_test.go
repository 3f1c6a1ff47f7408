package web_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestStudioStreamKeyCookie: the studio reads its room with the host's
// cookie session (X-ShelfLive-As: staff, as every staff console sends) and
// gets the stream key and ingest URL; viewers, the public and staff who may
// not host never do.
func TestStudioStreamKeyCookie(t *testing.T) {
	m := testkit.StartNode(t, "", "-rtmp-addr", "127.0.0.1:0")
	base := m.URL()
	host := staffLogin(t, base, "host", "shelflive-demo")
	guide := staffLogin(t, base, "guide", "shelflive-demo")
	viewer := viewerLogin(t, base, "demo", "13800001111")
	asStaff := func(token string) map[string]string {
		return map[string]string{"Cookie": "sl_staff=" + token, "X-ShelfLive-As": "staff"}
	}
	type roomKeys struct {
		StreamKey string `json:"stream_key"`
		IngestURL string `json:"ingest_url"`
	}
	get := func(name string, hdr map[string]string) (roomKeys, string) {
		r := send(t, nil, base, "GET", "/api/v1/rooms/demo", nil, "", hdr)
		if r.Status != 200 {
			t.Fatalf("%s: GET room %d %s", name, r.Status, r.Body)
		}
		var k roomKeys
		if err := json.Unmarshal(r.Body, &k); err != nil {
			t.Fatal(err)
		}
		return k, string(r.Body)
	}

	t.Run("OK", func(t *testing.T) {
		k, _ := get("host", asStaff(host.Token))
		if k.StreamKey != "demo-stream-key" {
			t.Fatalf("host cookie session: stream_key %q, want the room's key", k.StreamKey)
		}
		if !strings.HasPrefix(k.IngestURL, "rtmp://") || !strings.HasSuffix(k.IngestURL, "/live") {
			t.Fatalf("host cookie session: ingest_url %q", k.IngestURL)
		}
	})
	t.Run("NotForOthers", func(t *testing.T) {
		for name, hdr := range map[string]map[string]string{
			"anonymous":                {},
			"anonymous as staff":       {"X-ShelfLive-As": "staff"},
			"viewer cookie":            {"Cookie": "sl_viewer=" + viewer.Token},
			"viewer cookie as staff":   {"Cookie": "sl_viewer=" + viewer.Token, "X-ShelfLive-As": "staff"},
			"host cookie, no header":   {"Cookie": "sl_staff=" + host.Token},
			"guide (may not host)":     asStaff(guide.Token),
			"bad staff cookie":         asStaff("not-a-session"),
			"viewer token as staff id": asStaff(viewer.Token),
		} {
			k, body := get(name, hdr)
			if k.StreamKey != "" || k.IngestURL != "" || strings.Contains(body, "demo-stream-key") {
				t.Errorf("%s: got the stream key or ingest URL: %+v", name, k)
			}
		}
	})
}

// jsOptions reads the `key: value` pairs of the first object literal after
// marker in a JavaScript source.
func jsOptions(t *testing.T, src, marker string) map[string]string {
	t.Helper()
	i := strings.Index(src, marker)
	if i < 0 {
		t.Fatalf("%q not found", marker)
	}
	rest := src[i+len(marker):]
	open, end := strings.Index(rest, "{"), strings.Index(rest, "}")
	if open < 0 || end < open {
		t.Fatalf("no object literal after %q", marker)
	}
	out := map[string]string{}
	for _, kv := range strings.Split(rest[open+1:end], ",") {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			continue
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

// TestPlayerSettingsMatchBenchmark: the viewer page plays live video with
// the player settings docs/VIDEO.md measures (internal/video/browser_test.go),
// so the documented glass-to-glass figures are what viewers get.
func TestPlayerSettingsMatchBenchmark(t *testing.T) {
	page, err := os.ReadFile("assets/live.js")
	if err != nil {
		t.Fatal(err)
	}
	bench, err := os.ReadFile("../video/browser_test.go")
	if err != nil {
		t.Fatal(err)
	}
	flvShip, flvBench := jsOptions(t, string(page), "const FLV_CONFIG ="), jsOptions(t, string(bench), "mpegts.createPlayer({type: 'flv', isLive: true, url: url},")
	if fmt.Sprint(flvShip) != fmt.Sprint(flvBench) {
		t.Errorf("mpegts.js settings: viewer page %v, benchmark %v", flvShip, flvBench)
	}
	hlsShip, hlsBench := jsOptions(t, string(page), "const HLS_CONFIG ="), jsOptions(t, string(bench), "new Hls(")
	delete(hlsBench, "startPosition") // the replay jump test seeks; live starts at the edge (-1)
	if fmt.Sprint(hlsShip) != fmt.Sprint(hlsBench) {
		t.Errorf("hls.js settings: viewer page %v, benchmark %v", hlsShip, hlsBench)
	}
	if strings.Contains(string(page), "lowLatencyMode") {
		t.Error("the viewer page sets lowLatencyMode, which the benchmark does not measure")
	}
}
