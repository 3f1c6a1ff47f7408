package testkit

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// StreamParams is what a re-encode or a wrong remux would change in a
// media file: each stream's codec, profile, level, size, pixel format,
// sample rate and channels, as ffprobe reads them (one JSON object per
// stream, keys sorted), so two files compare as strings.
func StreamParams(tb testing.TB, ffprobeBin, file string) string {
	tb.Helper()
	out, err := exec.Command(ffprobeBin, "-v", "error", "-show_entries",
		"stream=codec_type,codec_name,profile,level,width,height,pix_fmt,sample_rate,channels", "-of", "json", file).Output()
	if err != nil {
		tb.Fatalf("ffprobe %s: %v", file, err)
	}
	var p struct {
		Streams []map[string]any `json:"streams"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		tb.Fatal(err)
	}
	var parts []string
	for _, s := range p.Streams {
		b, _ := json.Marshal(s) // map keys come out sorted
		parts = append(parts, string(b))
	}
	return strings.Join(parts, " ")
}
