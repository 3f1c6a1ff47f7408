package main

import (
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestBanner: the start banner names every address a newcomer needs,
// including where OBS publishes (RTMP) and where sensors send (MQTT).
func TestBanner(t *testing.T) {
	m := testkit.StartNode(t, "", "-rtmp-addr", "127.0.0.1:0")
	var b strings.Builder
	banner(&b, m, 42*time.Millisecond)
	out := b.String()
	for _, want := range []string{
		"/live/demo", "/studio", "/admin", "/pickup", "/api/openapi.json",
		"Video ingest (RTMP, for OBS):   rtmp://localhost:" + m.Video.IngestURL("x")[len("rtmp://x:"):],
		"Sensor telemetry (MQTT):        " + m.MQTT.Addr(),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	t.Log(out)
}
