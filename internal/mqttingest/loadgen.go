package mqttingest

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/coldchain"
)

// DeviceLogin is one simulated sensor of a load run.
type DeviceLogin struct {
	Merchant string // slug, for the topic
	Key      string
	Token    string
}

// LoadConfig is a telemetry load run against a broker (the embedded one,
// or an external one when its ACLs admit these devices).
type LoadConfig struct {
	Addr      string
	Devices   []DeviceLogin
	PerDevice int  // readings each device publishes
	QoS       byte // 0 or 1
	Window    int  // QoS 1: PUBLISHes in flight per connection (default 256)
	// Start is the timestamp of the first reading; readings are one second
	// apart (default: so that the last one is now).
	Start time.Time
	// Excursions makes every 5,000th stretch of readings run hot (13 °C),
	// so the rule engine raises and clears alarms during the run.
	Excursions bool
}

// RunLoad publishes the readings as fast as the broker takes them, one
// connection per device, with a minimal MQTT 3.1.1 writer (so that on a
// small machine the generator costs far less CPU than what it measures).
// It returns when every PUBLISH was written (QoS 0) or acknowledged (QoS 1).
// `shelflive bench telemetry` and BenchmarkMQTTIngest use it; they stop the
// clock when the service reports every reading stored.
func RunLoad(ctx context.Context, cfg LoadConfig) error {
	if cfg.Window <= 0 {
		cfg.Window = 256
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Now().Add(-time.Duration(cfg.PerDevice+10) * time.Second)
	}
	clients := make([]*wireClient, len(cfg.Devices))
	for i, d := range cfg.Devices {
		c, err := wireDial(ctx, cfg.Addr, d.Key, d.Token)
		if err != nil {
			for _, c := range clients[:i] {
				c.conn.Close()
			}
			return err
		}
		clients[i] = c
	}
	defer func() {
		for _, c := range clients {
			c.conn.Close()
		}
	}()
	base := cfg.Start.UnixMilli()
	errs := make(chan error, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func(i int, c *wireClient) {
			defer wg.Done()
			errs <- c.run(cfg, coldchain.Topic(cfg.Devices[i].Merchant, cfg.Devices[i].Key), base, i)
		}(i, c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

type wireClient struct {
	conn net.Conn
	w    *bufio.Writer
}

func appendRemLen(b []byte, n int) []byte {
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func wireDial(ctx context.Context, addr, user, pass string) (*wireClient, error) {
	conn, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	var body []byte
	body = appendStr(body, "MQTT")
	body = append(body, 4, 0xC2) // level 3.1.1; username, password, clean session
	body = binary.BigEndian.AppendUint16(body, 60)
	body = appendStr(body, "load-"+user)
	body = appendStr(body, user)
	body = appendStr(body, pass)
	pk := appendRemLen([]byte{0x10}, len(body))
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(append(pk, body...)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("loadgen: connect %s: %w", user, err)
	}
	ack := make([]byte, 4)
	if _, err := io.ReadFull(conn, ack); err != nil || ack[0] != 0x20 || ack[3] != 0 {
		conn.Close()
		return nil, fmt.Errorf("loadgen: connack %s: %x %v", user, ack, err)
	}
	conn.SetDeadline(time.Time{})
	return &wireClient{conn: conn, w: bufio.NewWriterSize(conn, 64<<10)}, nil
}

func (c *wireClient) publish(topic string, payload []byte, qos byte, id uint16) {
	n := 2 + len(topic) + len(payload)
	if qos > 0 {
		n += 2
	}
	var hdr [96]byte
	h := appendRemLen(append(hdr[:0], 0x30|qos<<1), n)
	h = appendStr(h, topic)
	if qos > 0 {
		h = binary.BigEndian.AppendUint16(h, id)
	}
	c.w.Write(h)
	c.w.Write(payload)
}

func (c *wireClient) run(cfg LoadConfig, topic string, base int64, seed int) error {
	per := cfg.PerDevice
	window := make(chan struct{}, cfg.Window)
	acked := make(chan error, 1)
	if cfg.QoS == 1 {
		go func() { // PUBACKs are 4 bytes each
			r := bufio.NewReaderSize(c.conn, 64<<10)
			buf := make([]byte, 4)
			for k := 0; k < per; k++ {
				if _, err := io.ReadFull(r, buf); err != nil {
					acked <- fmt.Errorf("loadgen: puback: %w", err)
					return
				}
				if buf[0] != 0x40 {
					acked <- fmt.Errorf("loadgen: unexpected packet %x", buf)
					return
				}
				<-window
			}
			acked <- nil
		}()
	}
	buf := make([]byte, 0, 96)
	for k := 0; k < per; k++ {
		t := 2 + float64((k+seed)%40)/10
		if cfg.Excursions && k%5000 > 4990 {
			t = 13
		}
		buf = buf[:0]
		buf = append(buf, `{"ts":`...)
		buf = strconv.AppendInt(buf, base+int64(k)*1000, 10)
		buf = append(buf, `,"values":{"temperature":`...)
		buf = strconv.AppendFloat(buf, t, 'f', 1, 64)
		buf = append(buf, `,"humidity":70}}`...)
		if cfg.QoS == 1 {
			if len(window) == cap(window) {
				if err := c.w.Flush(); err != nil {
					return err
				}
			}
			window <- struct{}{}
		}
		c.publish(topic, buf, cfg.QoS, uint16(k%65000+1))
	}
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("loadgen: %w", err)
	}
	if cfg.QoS == 1 {
		return <-acked
	}
	return nil
}
