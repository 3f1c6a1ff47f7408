package mqttingest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/redact"
)

// SubscriberConfig configures the external-broker subscriber.
type SubscriberConfig struct {
	URL      string // tcp://127.0.0.1:1883, mqtt://…, tls://…
	ClientID string // default "shelflive-ingest"; give each node its own when several run
	Username string
	Password string
	// Shared, when set, subscribes as $share/<Shared>/… so several nodes
	// split the devices' messages instead of each storing every reading.
	Shared string
	Logger *slog.Logger
}

// Subscriber receives telemetry from an external broker. The broker
// authenticates devices (its password file / ACLs must restrict each device
// to its own topic); ShelfLive still refuses topics of unknown devices or
// of a merchant the device does not belong to.
type Subscriber struct {
	Stats  *Stats
	cfg    SubscriberConfig
	addr   string
	filter string
	in     Ingester
	ready  chan struct{}
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	cli *paho.Client
}

// Subscribe connects and subscribes to coldchain.TopicFilter at QoS 1 with
// a persistent session (readings published while ShelfLive restarts are
// delivered when it is back), reconnecting in the background until Close.
// It returns at once; AwaitSubscribed waits for the first subscription.
func Subscribe(ctx context.Context, cfg SubscriberConfig, in Ingester) (*Subscriber, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("mqtt url %q: want tcp://host:port", redact.URL(cfg.URL))
	}
	switch u.Scheme {
	case "tcp", "mqtt":
	default:
		return nil, fmt.Errorf("mqtt url %q: only tcp:// (mqtt://) is supported; terminate TLS in front of the broker", redact.URL(cfg.URL))
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "shelflive-ingest"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Username == "" && u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	filter := coldchain.TopicFilter
	if cfg.Shared != "" {
		filter = "$share/" + cfg.Shared + "/" + filter
	}
	life, cancel := context.WithCancel(context.Background())
	s := &Subscriber{Stats: &Stats{}, cfg: cfg, addr: u.Host, filter: filter, in: in, ready: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go s.run(life)
	return s, nil
}

func (s *Subscriber) run(ctx context.Context) {
	defer close(s.done)
	first := true
	for ctx.Err() == nil {
		down := make(chan struct{})
		var once sync.Once
		lost := func() { once.Do(func() { close(down) }) }
		if err := s.connect(ctx, lost); err != nil {
			s.cfg.Logger.Warn("mqtt subscriber connect", "addr", s.addr, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Second):
			}
			continue
		}
		if first {
			first = false
			close(s.ready)
		}
		select {
		case <-ctx.Done():
			s.mu.Lock()
			cli := s.cli
			s.mu.Unlock()
			cli.Disconnect(&paho.Disconnect{ReasonCode: 0})
			return
		case <-down:
			s.cfg.Logger.Warn("mqtt subscriber connection lost; reconnecting", "addr", s.addr)
		}
	}
}

func (s *Subscriber) connect(ctx context.Context, lost func()) error {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(dctx, "tcp", s.addr)
	if err != nil {
		return err
	}
	cli := paho.NewClient(paho.ClientConfig{
		ClientID: s.cfg.ClientID,
		Conn:     conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			if err := s.in.IngestMQTT(pr.Packet.Topic, pr.Packet.Payload); err != nil {
				s.Stats.Rejected.Add(1)
			} else {
				s.Stats.Accepted.Add(1)
			}
			return true, nil
		}},
		OnClientError:      func(error) { lost() },
		OnServerDisconnect: func(*paho.Disconnect) { lost() },
	})
	expiry := uint32(3600)
	cp := &paho.Connect{ClientID: s.cfg.ClientID, KeepAlive: 30, CleanStart: false, Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry}}
	if s.cfg.Username != "" {
		cp.Username, cp.UsernameFlag = s.cfg.Username, true
		cp.Password, cp.PasswordFlag = []byte(s.cfg.Password), true
	}
	ca, err := cli.Connect(dctx, cp)
	if err != nil {
		conn.Close()
		return err
	}
	if ca.ReasonCode != 0 {
		conn.Close()
		return fmt.Errorf("connack reason %d", ca.ReasonCode)
	}
	if _, err := cli.Subscribe(dctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: s.filter, QoS: 1}}}); err != nil {
		cli.Disconnect(&paho.Disconnect{})
		return fmt.Errorf("subscribe %s: %w", s.filter, err)
	}
	s.mu.Lock()
	s.cli = cli
	s.mu.Unlock()
	return nil
}

// AwaitSubscribed waits until the first subscription is in place.
func (s *Subscriber) AwaitSubscribed(ctx context.Context) error {
	select {
	case <-s.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("mqtt subscriber %s: not subscribed: %w", s.addr, ctx.Err())
	}
}

// Close disconnects and stops reconnecting.
func (s *Subscriber) Close() error {
	s.cancel()
	<-s.done
	return nil
}
