package bench

import (
	"context"
	"io"
	"log/slog"

	"github.com/shelflive/shelflive/internal/node"
)

// openNode opens an in-process node for a load tool: it listens on a free
// loopback port, has no RTMP ingest and no MQTT broker, and discards its
// log; extra flags come after these, so a tool may override any of them
// (flag parsing keeps the last value). The caller starts it (after seeding
// if it seeds) and closes it.
func openNode(ctx context.Context, dataDir string, extra ...string) (*node.Main, error) {
	args := append([]string{"-addr", "127.0.0.1:0", "-data-dir", dataDir, "-rtmp-addr", "", "-mqtt-addr", ""}, extra...)
	c, err := node.ParseConfig("bench", args)
	if err != nil {
		return nil, err
	}
	m := &node.Main{Config: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := m.Open(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// startNode is openNode then Start: a node serving at m.URL().
func startNode(ctx context.Context, dataDir string, extra ...string) (*node.Main, error) {
	m, err := openNode(ctx, dataDir, extra...)
	if err != nil {
		return nil, err
	}
	if err := m.Start(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}
