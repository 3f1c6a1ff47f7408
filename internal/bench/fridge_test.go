package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/bench"
)

// TestFridgeSimulator runs `shelflive bench fridge` small: every batch is
// accepted, the pushes match the simulated truth closely, a second push
// run sends nothing, and the opened links count.
func TestFridgeSimulator(t *testing.T) {
	var out bytes.Buffer
	if err := bench.RunFridge(context.Background(), []string{"-households", "30", "-days", "4", "-concurrency", "8"}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var res bench.FridgeResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out.String())
	}
	if res.Errors != 0 || res.Readings != 30*4*8*3 {
		t.Fatalf("ingest: %+v", res)
	}
	if res.Pushes == 0 || res.DueTruth == 0 || res.Precision < 0.8 || res.Recall < 0.8 || res.SecondRun != 0 || res.Opened == 0 {
		t.Fatalf("pushes against the truth: %+v\n%s", res, out.String())
	}
}
