package natshub

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// Control messages tell every node of a deployment to drop state it caches
// (a revoked session, say). They go over core NATS, not the event stream:
// they are small, must arrive at once, and a node that misses one (it was
// disconnected) loses nothing that its cache's expiry does not repair.

// ControlSubject is where control messages called name travel.
func ControlSubject(prefix, name string) string { return prefix + ".ctl." + name }

// Broadcast sends data to every node's Listen(name), this one included,
// and returns once the NATS server has it (flushed), so that the caller's
// answer comes after the other nodes could hear of it.
func (h *Hub) Broadcast(ctx context.Context, name string, data []byte) error {
	if err := h.nc.Publish(ControlSubject(h.cfg.Prefix, name), data); err != nil {
		return fmt.Errorf("natshub: broadcast %s: %w", name, err)
	}
	fctx, cancel := flushCtx(ctx)
	defer cancel()
	if err := h.nc.FlushWithContext(fctx); err != nil {
		return fmt.Errorf("natshub: broadcast %s: %w", name, err)
	}
	return nil
}

// Listen calls fn for every control message called name, in order, on one
// goroutine. Call it while wiring the node, before it serves.
func (h *Hub) Listen(name string, fn func(data []byte)) error {
	sub, err := h.nc.Subscribe(ControlSubject(h.cfg.Prefix, name), func(m *nats.Msg) { fn(m.Data) })
	if err != nil {
		return fmt.Errorf("natshub: listen %s: %w", name, err)
	}
	h.subs = append(h.subs, sub)
	return h.nc.Flush()
}

// BroadcastOnce is Broadcast for a process that is not a node (the
// `shelflive merchant` command): it connects, sends, flushes and closes.
func BroadcastOnce(ctx context.Context, url, prefix, name string, data []byte) error {
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second), nats.Name("shelflive-cli"))
	if err != nil {
		return fmt.Errorf("natshub: connect: %w", err)
	}
	defer nc.Close()
	if err := nc.Publish(ControlSubject(prefix, name), data); err != nil {
		return err
	}
	fctx, cancel := flushCtx(ctx)
	defer cancel()
	return nc.FlushWithContext(fctx)
}

// flushCtx bounds a flush: NATS needs a deadline, and a slow server must
// not hold the HTTP request that revoked a session for long.
func flushCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 5*time.Second)
}
