package demo_test

import (
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

func TestNextEvening(t *testing.T) {
	for _, tt := range []struct{ now, want string }{
		{"2026-12-07T02:00:00Z", "2026-12-07T12:00:00Z"}, // 10:00 in Shanghai: tonight
		{"2026-12-07T11:59:00Z", "2026-12-07T12:00:00Z"}, // 19:59
		{"2026-12-07T12:00:00Z", "2026-12-08T12:00:00Z"}, // 20:00 sharp: tomorrow
		{"2026-12-07T17:30:00Z", "2026-12-08T12:00:00Z"}, // 01:30 next day in Shanghai: that evening
	} {
		now, _ := time.Parse(time.RFC3339, tt.now)
		if got := demo.NextEvening(now).Format(time.RFC3339); got != tt.want {
			t.Errorf("NextEvening(%s) = %s, want %s", tt.now, got, tt.want)
		}
	}
}

// TestClearanceRoomAtEightPM: the seeded clearance room says 晚8点 and is
// scheduled at 20:00 China time.
func TestClearanceRoomAtEightPM(t *testing.T) {
	m := testkit.StartNode(t, "")
	var out struct {
		Rooms []struct {
			Slug        string    `json:"slug"`
			Title       string    `json:"title"`
			ScheduledAt time.Time `json:"scheduled_at"`
		} `json:"rooms"`
	}
	testkit.Owner(m).Do(t, "GET", "/api/v1/rooms", nil, &out)
	for _, r := range out.Rooms {
		if r.Slug != "clearance" {
			continue
		}
		at := r.ScheduledAt.In(cn.Shanghai)
		if at.Hour() != 20 || at.Minute() != 0 || at.Before(time.Now()) || at.After(time.Now().Add(24*time.Hour)) {
			t.Fatalf("%s is scheduled at %s (Shanghai), not the next 8 pm", r.Title, at)
		}
		return
	}
	t.Fatal("no clearance room")
}
