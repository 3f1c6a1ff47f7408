package node

// What a node shares with the other nodes of an install: the room hub over
// NATS, session revocations, and its own name in leases.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/natshub"
	"github.com/shelflive/shelflive/internal/realtime"
)

// openHub gives the app its room hub: in-process on a single node, over
// NATS (with session revocations) on a cluster.
func (m *Main) openHub(ctx context.Context, a *app.App) error {
	c := m.Config
	hubOpts := realtime.Options{Snapshot: a.Snapshot, Logger: m.Logger}
	if c.NATSURL != "" {
		h, err := natshub.Open(ctx, natshub.Config{URL: c.NATSURL, Prefix: c.NATSPrefix, Local: hubOpts, Logger: m.Logger})
		if err != nil {
			return err
		}
		m.NATS = h
		a.Hub = h
		if err := listenRevocations(h, a.Identity); err != nil {
			h.Close()
			return err
		}
	} else {
		a.Hub = realtime.NewHub(hubOpts)
	}
	return nil
}

// revocationBus carries session revocations between nodes over NATS.
type revocationBus struct{ hub *natshub.Hub }

// RevocationSubject names the control messages of session revocations.
const RevocationSubject = "revoke"

func (b revocationBus) PublishRevocation(ctx context.Context, r identity.Revocation) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return b.hub.Broadcast(ctx, RevocationSubject, data)
}

// listenRevocations makes this node evict the sessions other nodes (and
// `shelflive merchant disable`) revoke, and publish its own.
func listenRevocations(h *natshub.Hub, id *identity.Service) error {
	id.Bus = revocationBus{hub: h}
	return h.Listen(RevocationSubject, func(data []byte) {
		var r identity.Revocation
		if json.Unmarshal(data, &r) == nil && r.MerchantID > 0 {
			id.Evict(r)
		}
	})
}

// nodeID names this node in leases and logs. It is kept in the data dir, so
// a restarted node (after a crash, too) is the same holder and takes its
// lease back at once instead of waiting for it to expire.
func nodeID(dataDir string) string {
	path := filepath.Join(dataDir, "node-id")
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		return strings.TrimSpace(string(b))
	}
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	id := host + "-" + hex.EncodeToString(b)
	os.WriteFile(path, []byte(id+"\n"), 0o640)
	return id
}

// peerURL is how other nodes reach this one (forwarded flash-sale requests).
func (m *Main) peerURL() string {
	if m.Config.NodeURL != "" {
		return strings.TrimRight(m.Config.NodeURL, "/")
	}
	return m.URL()
}
