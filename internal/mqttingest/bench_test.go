package mqttingest_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/mqttingest"
)

// wireClient is a minimal MQTT 3.1.1 publisher used as load generator: it
// writes PUBLISH packets straight into a buffered socket, so on a 2-core
// machine the generator costs far less CPU than the broker it measures.
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

func wireDial(tb testing.TB, addr, user, pass string) *wireClient {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	var body []byte
	body = appendStr(body, "MQTT")
	body = append(body, 4, 0xC2) // level 3.1.1; username, password, clean session
	body = binary.BigEndian.AppendUint16(body, 60)
	body = appendStr(body, "bench-"+user)
	body = appendStr(body, user)
	body = appendStr(body, pass)
	pk := appendRemLen([]byte{0x10}, len(body))
	if _, err := conn.Write(append(pk, body...)); err != nil {
		tb.Fatal(err)
	}
	ack := make([]byte, 4)
	if _, err := io.ReadFull(conn, ack); err != nil || ack[0] != 0x20 || ack[3] != 0 {
		tb.Fatalf("connack %x %v", ack, err)
	}
	return &wireClient{conn: conn, w: bufio.NewWriterSize(conn, 64<<10)}
}

// publish queues one PUBLISH (QoS 0, or QoS 1 with packet id).
func (c *wireClient) publish(topic string, payload []byte, qos byte, id uint16) {
	n := 2 + len(topic) + len(payload)
	if qos > 0 {
		n += 2
	}
	var hdr [64]byte
	h := appendRemLen(append(hdr[:0], 0x30|qos<<1), n)
	h = appendStr(h, topic)
	if qos > 0 {
		h = binary.BigEndian.AppendUint16(h, id)
	}
	c.w.Write(h)
	c.w.Write(payload)
}

// BenchmarkMQTTIngest measures readings per second from device connections
// through the embedded broker, parsing, excursion evaluation and batched
// storage on SQLite, until every reading is stored. QoS 1 waits for each
// PUBACK with a window of 256 in flight per connection.
//
//	go test -run '^$' -bench MQTTIngest -benchtime 200000x ./internal/mqttingest/
func BenchmarkMQTTIngest(b *testing.B) {
	for _, qos := range []byte{0, 1} {
		b.Run(fmt.Sprintf("qos%d", qos), func(b *testing.B) { benchIngest(b, qos, 50) })
	}
}

func benchIngest(b *testing.B, qos byte, devices int) {
	e := newEnv(b, "bench")
	toks := make([]string, devices)
	for i := range toks {
		toks[i] = e.device(b, "sensor-"+strconv.Itoa(i))
	}
	br, err := mqttingest.NewBroker("127.0.0.1:0", e.svc, nil)
	if err != nil {
		b.Fatal(err)
	}
	br.Serve()
	b.Cleanup(func() { br.Close() })
	clients := make([]*wireClient, devices)
	for i := range clients {
		clients[i] = wireDial(b, br.Addr(), "sensor-"+strconv.Itoa(i), toks[i])
	}
	per := (b.N + devices - 1) / devices
	total := per * devices
	start0, _ := e.svc.Accepted()
	// Readings one second apart, 2-6 °C with an excursion episode now and
	// then, so the rule engine does real work.
	base := time.Now().Add(-time.Duration(per+10) * time.Second).UnixMilli()
	b.ResetTimer()
	t0 := time.Now()
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func(i int, c *wireClient) {
			defer wg.Done()
			topic := coldchain.Topic("bench", "sensor-"+strconv.Itoa(i))
			window := make(chan struct{}, 256)
			done := make(chan struct{})
			if qos == 1 {
				go func() { // drain PUBACKs (4 bytes each)
					defer close(done)
					r := bufio.NewReaderSize(c.conn, 64<<10)
					buf := make([]byte, 4)
					for k := 0; k < per; k++ {
						if _, err := io.ReadFull(r, buf); err != nil {
							return
						}
						<-window
					}
				}()
			}
			buf := make([]byte, 0, 96)
			for k := 0; k < per; k++ {
				t := 2 + float64((k+i)%40)/10
				if k%5000 > 4990 {
					t = 13
				}
				buf = buf[:0]
				buf = append(buf, `{"ts":`...)
				buf = strconv.AppendInt(buf, base+int64(k)*1000, 10)
				buf = append(buf, `,"values":{"temperature":`...)
				buf = strconv.AppendFloat(buf, t, 'f', 1, 64)
				buf = append(buf, `,"humidity":70}}`...)
				if qos == 1 {
					if len(window) == cap(window) {
						c.w.Flush()
					}
					window <- struct{}{}
				}
				c.publish(topic, buf, qos, uint16(k%65000+1))
			}
			c.w.Flush()
			if qos == 1 {
				<-done
			}
		}(i, c)
	}
	wg.Wait()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		acc, stored := e.svc.Accepted()
		if acc-start0 >= uint64(total) && stored >= acc {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("accepted %d stored %d of %d (rejected %d)", acc-start0, stored, total, br.Stats.Rejected.Load())
		}
		time.Sleep(2 * time.Millisecond)
	}
	el := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(total)/el.Seconds(), "readings/s")
	e.svc.HandlePending(context.Background())
	if br.Stats.Rejected.Load() > 0 {
		b.Fatalf("%d readings rejected", br.Stats.Rejected.Load())
	}
	var stored int64
	if err := e.db.QueryRow(context.Background(), `SELECT COALESCE(SUM(n), 0) FROM cc_chunks`).Scan(&stored); err != nil || stored < int64(total) {
		b.Fatalf("stored %d of %d readings (%v)", stored, total, err)
	}
	for _, c := range clients {
		c.conn.Close()
	}
}
