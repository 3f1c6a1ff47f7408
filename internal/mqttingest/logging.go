package mqttingest

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// quietHandler sits between mochi and our logger. mochi logs a refused
// publish at ERROR with the whole packet (a 6.6 MB payload became a 22 MB
// log line) and a failed connection at WARN each time: the hook logs
// refused readings itself (size and reason), so those records are dropped,
// any packet attribute is reduced to its type and size, and warnings are
// rate-limited (every is the least gap between two; the rest are counted
// into the next one).
type quietHandler struct {
	next  slog.Handler
	limit *limiter
}

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	switch r.Message {
	case "publish packet error", "publish packet rejected":
		return nil
	}
	var suppressed int
	if r.Level >= slog.LevelWarn {
		ok, n := h.limit.allow()
		if !ok {
			return nil
		}
		suppressed = n
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if pk, ok := a.Value.Any().(packets.Packet); ok {
			a = slog.Group(a.Key, "type", pk.FixedHeader.Type, "bytes", pk.FixedHeader.Remaining)
		}
		out.AddAttrs(a)
		return true
	})
	if suppressed > 0 {
		out.AddAttrs(slog.Int("suppressed", suppressed))
	}
	return h.next.Handle(ctx, out)
}

func (h quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{next: h.next.WithAttrs(as), limit: h.limit}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{next: h.next.WithGroup(name), limit: h.limit}
}

// limiter lets one event through per gap and counts the others.
type limiter struct {
	gap        time.Duration
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func (l *limiter) allow() (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < l.gap {
		l.suppressed++
		return false, 0
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return true, n
}
