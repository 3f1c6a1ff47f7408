// Package mqttingest carries sensor telemetry over MQTT into the cold-chain
// service: an embedded broker (mochi-mqtt) that authenticates each device
// and parses readings in its publish hook, so a reading is evaluated in the
// same goroutine that read it off the socket, with no second hop; and a
// subscriber for an external broker (Mosquitto, EMQX) over MQTT 5
// (eclipse/paho.golang autopaho) for installations that already run one.
//
// Topic: shelflive/<merchant-slug>/devices/<device-id>/telemetry
// Payload: {"ts": <unix ms>, "values": {"temperature": 3.2, "humidity": 71}}
// Login (embedded broker): username = device id, password = device token.
package mqttingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/shelflive/shelflive/internal/apperr"
)

// DefaultAddr is the embedded broker's default listen address. 1883 is left
// to a system broker (Mosquitto listens there on most hosts, and tests use
// it as the external broker); 8883 is MQTT over TLS by convention, which
// this listener is not. 1884 is the next port, loopback-only by default:
// expose it deliberately (SHELFLIVE_MQTT_ADDR=:1884) behind a firewall or a
// TLS-terminating proxy when sensors are on the network.
const DefaultAddr = "127.0.0.1:1884"

// Ingester is what the transports need from the cold-chain service
// (*coldchain.Service implements it).
type Ingester interface {
	AuthenticateDevice(key, token string) bool
	DeviceTopicAllowed(key, topic string) bool
	IngestMQTT(topic string, payload []byte) error
}

// Stats counts messages and connections by outcome.
type Stats struct {
	Accepted atomic.Uint64
	Rejected atomic.Uint64
	// AckedDropped are refused QoS 1 readings of MQTT 3.1.1 devices: the
	// protocol has no negative PUBACK, so they are acknowledged (or the
	// device would stall) and dropped. Also counted in Rejected.
	AckedDropped atomic.Uint64
	// ConnRefused counts connections closed at once for the per-IP limit;
	// PreConnectRefused those whose first packet was not a CONNECT within
	// the pre-authentication size limit.
	ConnRefused       atomic.Uint64
	PreConnectRefused atomic.Uint64
}

// Broker is the embedded MQTT broker.
type Broker struct {
	srv    *mqtt.Server
	tcp    *listeners.Net
	Stats  *Stats
	logger *slog.Logger

	closeOnce sync.Once
}

// NewBroker listens on addr (":0" for a free port) and serves devices with
// DefaultLimits.
func NewBroker(addr string, in Ingester, logger *slog.Logger) (*Broker, error) {
	return NewBrokerWith(addr, in, logger, DefaultLimits)
}

// NewBrokerWith is NewBroker with explicit limits.
func NewBrokerWith(addr string, in Ingester, logger *slog.Logger, lim Limits) (*Broker, error) {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumQos = 1      // readings are idempotent samples; QoS 2's extra round trip buys nothing
	caps.RetainAvailable = 0 // a retained reading would be replayed as new data
	caps.MaximumSessionExpiryInterval = 3600
	caps.MaximumPacketSize = lim.MaxPacket // checked on the fixed header, before mochi allocates the body
	mochiLog := slog.New(quietHandler{next: logger.Handler(), limit: &limiter{gap: time.Second}}).With("component", "mqtt")
	srv := mqtt.New(&mqtt.Options{Capabilities: caps, Logger: mochiLog, InlineClient: false})
	st := &Stats{}
	h := &hook{in: in, stats: st, logger: logger, limit: &limiter{gap: time.Second}}
	if err := srv.AddHook(h, nil); err != nil {
		return nil, fmt.Errorf("mqtt broker: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mqtt broker listen %s: %w", addr, err)
	}
	refusedLog := &limiter{gap: time.Second}
	gl := &guardListener{Listener: ln, limits: lim, stats: st, perIP: map[string]int{}, refused: func(ip string) {
		if ok, n := refusedLog.allow(); ok {
			logger.Warn("mqtt: connection refused, too many from one address", "ip", ip, "limit", lim.PerIP, "suppressed", n)
		}
	}}
	tcp := listeners.NewNet("shelflive-telemetry", gl)
	if err := srv.AddListener(tcp); err != nil {
		ln.Close()
		return nil, fmt.Errorf("mqtt broker listen %s: %w", addr, err)
	}
	return &Broker{srv: srv, tcp: tcp, Stats: st, logger: logger}, nil
}

// Addr is the address the broker listens on.
func (b *Broker) Addr() string { return b.tcp.Address() }

// Serve starts accepting clients (it returns at once).
func (b *Broker) Serve() error { return b.srv.Serve() }

// Close disconnects every client and stops listening; later calls do nothing.
func (b *Broker) Close() error {
	var err error
	b.closeOnce.Do(func() { err = b.srv.Close() })
	return err
}

type hook struct {
	mqtt.HookBase
	in     Ingester
	stats  *Stats
	logger *slog.Logger
	limit  *limiter
}

func (h *hook) ID() string { return "shelflive-telemetry" }

func (h *hook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPublish}, []byte{b})
}

// OnConnectAuthenticate admits registered devices with their token.
func (h *hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	return h.in.AuthenticateDevice(string(pk.Connect.Username), string(pk.Connect.Password))
}

// OnACLCheck lets a device publish to its own telemetry topic only, and
// subscribe to nothing: other devices' readings are not its business.
func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	return write && h.in.DeviceTopicAllowed(string(cl.Properties.Username), topic)
}

// OnPublish parses and ingests the reading. Bad ones are dropped and
// logged (size and reason, at most one line a second). An MQTT 5 device
// publishing at QoS 1 learns why from the PUBACK reason code; an MQTT 3.1.1
// device gets a plain PUBACK (3.1.1 has no negative one, and a device
// without its PUBACK stalls until it reconnects, then resends the same
// reading): the reading is counted in Stats.AckedDropped, and a device
// that sends nothing valid raises the location's missing-data alarm.
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	err := h.in.IngestMQTT(pk.TopicName, pk.Payload)
	if err == nil {
		h.stats.Accepted.Add(1)
		return pk, packets.CodeSuccessIgnore // stored; nobody subscribes to forward to
	}
	h.stats.Rejected.Add(1)
	code := packets.ErrPayloadFormatInvalid
	var ae *apperr.Error
	switch {
	case errors.As(err, &ae) && ae.Kind == apperr.TooMany:
		code = packets.ErrServerBusy
	case errors.As(err, &ae) && ae.Kind == apperr.Unauthorized:
		code = packets.ErrNotAuthorized
	}
	h.logRefused(cl, pk, err)
	if pk.FixedHeader.Qos == 0 {
		return pk, packets.ErrRejectPacket
	}
	if cl.Properties.ProtocolVersion == 5 {
		return pk, code
	}
	h.stats.AckedDropped.Add(1)
	return pk, packets.CodeSuccessIgnore // acknowledged, not stored, not forwarded
}

// logRefused logs a refused reading by its size and reason, never its
// content, rate-limited.
func (h *hook) logRefused(cl *mqtt.Client, pk packets.Packet, err error) {
	ok, suppressed := h.limit.allow()
	if !ok {
		return
	}
	topic := pk.TopicName
	if len(topic) > 128 {
		topic = topic[:128] + "…"
	}
	h.logger.Warn("mqtt: reading refused", "device", string(cl.Properties.Username), "protocol", cl.Properties.ProtocolVersion, "qos", pk.FixedHeader.Qos,
		"topic", topic, "bytes", len(pk.Payload), "reason", apperr.As(err).Code, "suppressed", suppressed)
}
