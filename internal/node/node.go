// Package node wires one ShelfLive process: database, domain services,
// realtime hub, HTTP server and background work. cmd/shelflive runs it;
// tests start it in-process on a free port.
package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/mqttingest"
	"github.com/shelflive/shelflive/internal/natshub"
	"github.com/shelflive/shelflive/internal/objstore"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/video"
	"github.com/shelflive/shelflive/internal/web"
	"github.com/shelflive/shelflive/internal/webhooks"
)

// Main is the running program: config in, wired services out. Tests start
// it in-process on a free port.
type Main struct {
	Config   *Config
	Logger   *slog.Logger
	DB       *sqldb.DB
	App      *app.App
	Server   *web.Server
	HTTP     *http.Server
	Listener net.Listener
	// DebugListener serves the profiler when Config.DebugAddr is set.
	DebugListener net.Listener

	Files objstore.Store // uploads and recordings: the data dir, or S3 (SHELFLIVE_S3_URL)
	s3    *objstore.S3   // Files when it is S3 (readiness), else nil

	Video *video.Server // embedded video, nil when off or external

	Webhooks *webhooks.Dispatcher // sends merchants' webhooks (on the leader)
	NATS     *natshub.Hub         // room fan-out between nodes; nil on a single node
	hooks    *video.Hooks

	ColdChain   *coldchain.Service     // telemetry, excursion rules, holds
	MQTT        *mqttingest.Broker     // embedded broker, nil when SHELFLIVE_MQTT_ADDR is empty
	mqttSub     *mqttingest.Subscriber // external broker, nil when SHELFLIVE_MQTT_URL is empty
	coldStarted bool

	// SetupToken is made at start while no merchant exists: whoever holds
	// it may create the first merchant at /setup (printed by the banner).
	SetupToken string
	closed     bool
	dirLock    *sqldb.DirLock // shared lock on the data dir (restore refuses while held)

	cancel    context.CancelFunc
	done      chan struct{}
	videoDone chan struct{} // closed when ingest stopped and recordings are finalized and copied
}

func newLogger(format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

// Open opens the database, seeds demo data and wires every service, in the
// order they depend on each other: storage, the domains' stores and use
// cases (wire.go), the hub between nodes (cluster.go), media, metrics, the
// HTTP server. Each step is one call, so reading it top to bottom shows
// what is wired to what (habit 3 in STYLE.md).
func (m *Main) Open(ctx context.Context) error {
	c := m.Config
	if m.Logger == nil {
		m.Logger = newLogger(c.LogFormat)
	}
	if err := checkProduction(c); err != nil {
		return err
	}
	db, err := m.openStorage(ctx)
	if err != nil {
		return err
	}
	users := &sqldb.IdentityStore{DB: db}
	deps := m.demoDeps(db, users)
	if err := m.seedDemo(ctx, deps); err != nil {
		return err
	}
	a, err := m.newApp(ctx, db, users, deps)
	if err != nil {
		return err
	}
	m.App = a
	m.warnProduction(ctx, users)
	if err := m.openMedia(); err != nil {
		return err
	}
	reg := m.newRegistry(db, a)
	clusterKey, err := m.openShares(ctx, db, a)
	if err != nil {
		return err
	}
	m.openWeb(db, a, reg, clusterKey)
	if err := m.openSetup(ctx, users); err != nil {
		return err
	}
	if m.Video != nil {
		m.Server.Media = m.Video.Handler()
	}
	if m.hooks != nil {
		m.Server.MediaHooks = m.hooks
		m.Server.MediaOrigins = mediaOrigins(m.Config.MediaFLV, m.Config.MediaHLS, m.Config.MediaReplay)
	}
	return nil
}

// openStorage makes the data dir, locks it, picks the object store and
// opens the database.
func (m *Main) openStorage(ctx context.Context) (*sqldb.DB, error) {
	c := m.Config
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	// Held (shared) while the node runs: `shelflive restore` refuses to
	// replace a database a server is using.
	lock, err := sqldb.LockDataDir(c.DataDir, false)
	if err != nil {
		return nil, err
	}
	m.dirLock = lock
	if err := m.openFiles(ctx); err != nil {
		return nil, err
	}
	db, err := sqldb.Open(ctx, c.DatabaseURL, c.DataDir)
	if err != nil {
		return nil, err
	}
	m.DB = db
	return db, nil
}

// openFiles picks the object store: S3 when SHELFLIVE_S3_URL is set (all
// nodes share uploads and recordings), else the data dir. An unreachable
// bucket does not stop the start; /readyz reports it until it answers.
func (m *Main) openFiles(ctx context.Context) error {
	if m.Config.S3URL == "" {
		m.Files = objstore.NewLocal(m.Config.DataDir)
		return nil
	}
	cfg, err := objstore.ParseS3URL(m.Config.S3URL)
	if err != nil {
		return err
	}
	s3, err := objstore.NewS3(cfg, nil)
	if err != nil {
		return err
	}
	m.Files, m.s3 = s3, s3
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s3.Ping(pctx); err != nil {
		m.Logger.Warn("object store not reachable yet; /readyz fails until it is", "store", s3.String(), "err", err)
	} else {
		m.Logger.Info("object store", "store", s3.String())
	}
	return nil
}

// openSetup offers /setup, guarded by a fresh one-time token, while the
// install has no merchant.
func (m *Main) openSetup(ctx context.Context, users *sqldb.IdentityStore) error {
	n, err := users.CountMerchants(ctx)
	if err != nil {
		return fmt.Errorf("count merchants: %w", err)
	}
	if n > 0 {
		return nil
	}
	b := make([]byte, 16)
	rand.Read(b)
	m.SetupToken = hex.EncodeToString(b)
	m.Server.Setup = web.NewSetup(m.SetupToken)
	m.Logger.Warn("no merchant yet: open /setup with the setup token printed at start, or run `shelflive merchant create`")
	return nil
}

// URL is how this process is reached over loopback (the dev payment
// provider calls back here; tests use it).
func (m *Main) URL() string {
	if m.Listener != nil {
		addr := m.Listener.Addr().(*net.TCPAddr)
		host := addr.IP.String()
		if addr.IP.IsUnspecified() {
			host = "127.0.0.1"
		}
		return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
	}
	return strings.TrimRight(m.Config.PublicURL, "/")
}

// publicURL is how buyers and payment vendors reach ShelfLive: the
// configured public URL, else this process's own address.
func (m *Main) publicURL() string {
	if m.Config.PublicURL != "" {
		return strings.TrimRight(m.Config.PublicURL, "/")
	}
	return m.URL()
}
