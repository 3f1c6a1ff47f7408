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
	"sync/atomic"

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

// Stats counts messages by outcome.
type Stats struct {
	Accepted atomic.Uint64
	Rejected atomic.Uint64
}

// Broker is the embedded MQTT broker.
type Broker struct {
	srv    *mqtt.Server
	tcp    *listeners.TCP
	Stats  *Stats
	logger *slog.Logger
}

// NewBroker listens on addr (":0" for a free port) and serves devices.
func NewBroker(addr string, in Ingester, logger *slog.Logger) (*Broker, error) {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumQos = 1      // readings are idempotent samples; QoS 2's extra round trip buys nothing
	caps.RetainAvailable = 0 // a retained reading would be replayed as new data
	caps.MaximumSessionExpiryInterval = 3600
	srv := mqtt.New(&mqtt.Options{Capabilities: caps, Logger: logger.With("component", "mqtt"), InlineClient: false})
	st := &Stats{}
	if err := srv.AddHook(&hook{in: in, stats: st}, nil); err != nil {
		return nil, fmt.Errorf("mqtt broker: %w", err)
	}
	tcp := listeners.NewTCP(listeners.Config{Type: "tcp", ID: "shelflive-telemetry", Address: addr})
	if err := srv.AddListener(tcp); err != nil {
		return nil, fmt.Errorf("mqtt broker listen %s: %w", addr, err)
	}
	return &Broker{srv: srv, tcp: tcp, Stats: st, logger: logger}, nil
}

// Addr is the address the broker listens on.
func (b *Broker) Addr() string { return b.tcp.Address() }

// Serve starts accepting clients (it returns at once).
func (b *Broker) Serve() error { return b.srv.Serve() }

// Close disconnects every client and stops listening.
func (b *Broker) Close() error { return b.srv.Close() }

type hook struct {
	mqtt.HookBase
	in    Ingester
	stats *Stats
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

// OnPublish parses and ingests the reading. Bad ones are dropped; an MQTT 5
// device publishing at QoS 1 learns why from the PUBACK reason code.
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	err := h.in.IngestMQTT(pk.TopicName, pk.Payload)
	if err == nil {
		h.stats.Accepted.Add(1)
		return pk, packets.CodeSuccessIgnore // stored; nobody subscribes to forward to
	}
	h.stats.Rejected.Add(1)
	if cl.Properties.ProtocolVersion == 5 && pk.FixedHeader.Qos > 0 {
		var ae *apperr.Error
		switch {
		case errors.As(err, &ae) && ae.Kind == apperr.TooMany:
			return pk, packets.ErrServerBusy
		case errors.As(err, &ae) && ae.Kind == apperr.Unauthorized:
			return pk, packets.ErrNotAuthorized
		}
		return pk, packets.ErrPayloadFormatInvalid
	}
	return pk, packets.ErrRejectPacket
}
