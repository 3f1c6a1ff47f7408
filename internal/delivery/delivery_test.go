package delivery_test

import (
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/delivery"
)

// Each carrier takes numbers of its shape only (as a clerk scans or types
// them: spaces and case do not matter); the store's rider needs none.
func TestCheckTrackingNo(t *testing.T) {
	for _, c := range []struct{ carrier, no, want, code string }{
		{"shunfeng", "sf 1234 5678 90123", "SF1234567890123", ""},
		{"shunfeng", "75123456789012", "", "invalid_tracking_no"},
		{"zhongtong", "75123456789012", "75123456789012", ""},
		{"zhongtong", "7512345", "", "invalid_tracking_no"},
		{"yuantong", "YT1234567890123", "YT1234567890123", ""},
		{"jtexpress", "jt1234567890123", "JT1234567890123", ""},
		{"ems", "EA123456789CN", "EA123456789CN", ""},
		{"jd", "JDVA12345678901", "JDVA12345678901", ""},
		{"local", "", "", ""},
		{"dhl", "1234567890", "", "unknown_carrier"},
	} {
		_, got, err := delivery.CheckTrackingNo(c.carrier, c.no)
		if c.code != "" {
			if !apperr.Is(err, c.code) {
				t.Errorf("%s %q: %v, want %s", c.carrier, c.no, err, c.code)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s %q = %q, %v; want %q", c.carrier, c.no, got, err, c.want)
		}
	}
}

// Open parcels are asked about every period, failures back off doubling
// to six hours.
func TestPollAt(t *testing.T) {
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for failures, want := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 6 * time.Hour, 6 * time.Hour} {
		if got := delivery.PollAt(now, 0, failures).Sub(now); got != want {
			t.Errorf("%d failures: %v, want %v", failures, got, want)
		}
	}
}
