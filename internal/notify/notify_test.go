package notify_test

import (
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/notify"
)

// TestQuietHours: nothing goes out 22:00–08:00 China time; such deliveries
// wait for 08:00 the same or the next morning.
func TestQuietHours(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, cn.Shanghai) }
	for _, c := range []struct{ in, want time.Time }{
		{at(7, 12, 0), at(7, 12, 0)},
		{at(7, 21, 59), at(7, 21, 59)},
		{at(7, 22, 0), at(8, 8, 0)},
		{at(7, 23, 30), at(8, 8, 0)},
		{at(8, 0, 10), at(8, 8, 0)},
		{at(8, 7, 59), at(8, 8, 0)},
		{at(8, 8, 0), at(8, 8, 0)},
	} {
		if got := notify.NotBefore(c.in.UTC()); !got.Equal(c.want) {
			t.Errorf("NotBefore(%s) = %s, want %s", c.in, got.In(cn.Shanghai), c.want)
		}
	}
}

func TestOptOutToken(t *testing.T) {
	key := []byte("k")
	tok := notify.OptOutToken(key, 3, 77, notify.ChannelPush)
	m, c, ch, ok := notify.ParseOptOut(key, tok)
	if !ok || m != 3 || c != 77 || ch != notify.ChannelPush {
		t.Fatalf("parse: %d %d %s %v", m, c, ch, ok)
	}
	for _, bad := range []string{tok[:len(tok)-1] + "x", notify.OptOutToken([]byte("other"), 3, 77, "push"), "3.2d.sms.AAAA", ""} {
		if _, _, _, ok := notify.ParseOptOut(key, bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestQuietConfigured(t *testing.T) {
	at := func(d, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, cn.Shanghai) }
	q := notify.Quiet{From: 12, Until: 14} // a siesta
	if got := q.NotBefore(at(7, 13).UTC()); !got.Equal(at(7, 14)) {
		t.Errorf("siesta: %s", got.In(cn.Shanghai))
	}
	if got := q.NotBefore(at(7, 23).UTC()); !got.Equal(at(7, 23)) {
		t.Errorf("night outside a siesta: %s", got.In(cn.Shanghai))
	}
	if got := (notify.Quiet{Off: true}).NotBefore(at(7, 23).UTC()); !got.Equal(at(7, 23)) {
		t.Errorf("off: %s", got.In(cn.Shanghai))
	}
}
