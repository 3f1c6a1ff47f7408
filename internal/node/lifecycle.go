package node

// The running node: Start listens and starts the background jobs (jobs.go),
// Close stops them in order and closes the database last.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Start listens and serves in the background.
func (m *Main) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.Listener = ln
	life, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.Server.Lifetime = life
	m.HTTP = &http.Server{Handler: m.Server.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn)}
	m.startVideo(life)
	// Know who leads before the first request: a flash sale created right
	// after start must start at once on a single node.
	if err := m.startDebug(life); err != nil {
		cancel()
		return err
	}
	m.App.Campaign(ctx)
	go m.App.Identity.KeepWarm(life) // sessions in use stay cached, re-read in bulk
	if err := m.startColdChain(ctx, life); err != nil {
		cancel()
		return err
	}
	m.startJobs(life)
	go func() {
		if err := m.HTTP.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http serve", "err", err)
		}
	}()
	return nil
}

// Close shuts down gracefully: stop accepting, tell WebSockets to go, drain
// requests, flush background state, close the database.
func (m *Main) Close() error {
	if m.closed { // tests close a node early and again at cleanup
		return nil
	}
	m.closed = true
	if m.cancel != nil {
		m.cancel()
	}
	var err error
	if m.HTTP != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = m.HTTP.Shutdown(ctx)
		cancel()
	}
	if m.done != nil {
		<-m.done
	}
	if m.Video != nil {
		m.Video.Close()
		if m.videoDone != nil {
			<-m.videoDone // recordings end and reach the object store (bounded wait)
		}
	}
	if m.MQTT != nil {
		m.MQTT.Close()
	}
	if m.mqttSub != nil {
		m.mqttSub.Close()
	}
	if m.coldStarted {
		<-m.ColdChain.Stopped() // the last readings are flushed before the database closes
	}
	if m.App != nil && m.App.Analytics != nil && m.HTTP != nil {
		<-m.App.Analytics.Stopped() // the last analytics batch is written before the database closes
	}
	if m.App != nil && m.App.Hub != nil {
		m.App.Hub.Close()
	}
	if m.DB != nil {
		err = errors.Join(err, m.DB.Close())
	}
	m.dirLock.Unlock()
	return err
}

// ready is /readyz: the database answers and, on a cluster, NATS and the
// object store do too (a node that cannot see the other nodes' events or
// files must not get new viewers).
func (m *Main) ready(ctx context.Context) error {
	if err := m.DB.Ping(ctx); err != nil {
		return err
	}
	if m.NATS != nil {
		if err := m.NATS.Ping(ctx); err != nil {
			return err
		}
	}
	if m.s3 != nil {
		return m.s3.Ping(ctx)
	}
	return nil
}
