package clips_test

import (
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/clips"
	"github.com/shelflive/shelflive/internal/live"
)

func TestSpans(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	pin := func(product int64, s int) live.Pin { return live.Pin{ProductID: product, At: at(s)} }
	for _, tc := range []struct {
		name string
		pins []live.Pin
		end  time.Time
		want [][3]int64 // product, from s, to s
	}{
		{"PinToNextPin", []live.Pin{pin(1, 10), pin(2, 40), pin(0, 70)}, time.Time{}, [][3]int64{{1, 7, 40}, {2, 37, 70}}},
		{"LastPinOpenWhileLive", []live.Pin{pin(1, 10), pin(2, 40)}, time.Time{}, [][3]int64{{1, 7, 40}}},
		{"LastPinToTheEnd", []live.Pin{pin(1, 10), pin(2, 40)}, at(100), [][3]int64{{1, 7, 40}, {2, 37, 100}}},
		{"UnpinAfterUnpin", []live.Pin{pin(0, 5), pin(1, 10), pin(0, 20), pin(0, 30)}, at(100), [][3]int64{{1, 7, 20}}},
		{"TooShortDropped", []live.Pin{pin(1, 10), pin(2, 11), pin(0, 30)}, time.Time{}, [][3]int64{{2, 8, 30}}},
		{"CappedAtMaxLen", []live.Pin{pin(1, 10), pin(0, 10000)}, time.Time{}, [][3]int64{{1, 7, 10 + int64(clips.MaxLen/time.Second)}}},
		{"NoPins", nil, at(100), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := clips.Spans(tc.pins, tc.end)
			if len(got) != len(tc.want) {
				t.Fatalf("spans %+v, want %v", got, tc.want)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.ProductID != w[0] || !g.From.Equal(at(int(w[1]))) || !g.To.Equal(at(int(w[2]))) || !g.PinnedAt.Equal(g.From.Add(clips.Lead)) {
					t.Fatalf("span %d = %+v, want product %d from %ds to %ds", i, g, w[0], w[1], w[2])
				}
			}
		})
	}
}
