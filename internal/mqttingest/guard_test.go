package mqttingest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/mqttingest"
)

// Tests for the hostile review's finding 1: what a client may cost the
// embedded broker before it authenticated, and how refused readings are
// answered and logged.

func startBroker(t *testing.T, e *env, lim mqttingest.Limits, logger *slog.Logger) *mqttingest.Broker {
	t.Helper()
	b, err := mqttingest.NewBrokerWith("127.0.0.1:0", e.svc, logger, lim)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// varint is MQTT's remaining-length encoding.
func varint(n int) []byte {
	var out []byte
	for {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		out = append(out, b)
		if n == 0 {
			return out
		}
	}
}

func mqttString(s string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(s)))
	return append(b, s...)
}

// closedWithin reports whether the server closed c within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 512)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		ne, ok := err.(net.Error)
		return !(ok && ne.Timeout())
	}
}

func heapMB() float64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// attack opens four sockets that announce 50,000,000-byte CONNECTs and send
// 64 KiB of them, as the review did; it returns the heap growth while they
// are held and whether the server closed all of them.
func attack(t *testing.T, addr string) (growthMB float64, closed bool) {
	t.Helper()
	before := heapMB()
	var conns []net.Conn
	for range 4 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		hdr := append([]byte{0x10}, varint(50_000_000)...)
		c.Write(append(hdr, make([]byte, 64<<10)...))
		conns = append(conns, c)
	}
	time.Sleep(time.Second) // the broker has read the headers (and, unbounded, allocated)
	growthMB = heapMB() - before
	closed = true
	for _, c := range conns {
		closed = closedWithin(c, 3*time.Second) && closed
		c.Close() // an unlimited broker is still reading: let it go
	}
	return growthMB, closed
}

// TestBrokerMemoryBeforeAuth replays the review's attack against a broker
// without limits (measured, to show it is real) and with the default
// limits: a few KiB is the most a socket can make the broker hold before
// its CONNECT was read, and the socket is closed at once.
func TestBrokerMemoryBeforeAuth(t *testing.T) {
	e := newEnv(t, "demo")
	open := startBroker(t, e, mqttingest.Limits{}, nil)
	grewOpen, closedOpen := attack(t, open.Addr())
	open.Close()
	guarded := startBroker(t, e, mqttingest.DefaultLimits, nil)
	grew, closed := attack(t, guarded.Addr())
	t.Logf("4 sockets announcing 50 MB CONNECTs: heap +%.1f MB without limits (closed: %v), +%.1f MB with the default limits (closed: %v)", grewOpen, closedOpen, grew, closed)
	if grewOpen < 150 {
		t.Errorf("without limits the attack cost only %.1f MB: the test no longer reproduces it", grewOpen)
	}
	if grew > 16 || !closed {
		t.Fatalf("with limits: heap +%.1f MB, sockets closed %v; want < 16 MB and closed", grew, closed)
	}
	if n := guarded.Stats.PreConnectRefused.Load(); n != 4 {
		t.Fatalf("PreConnectRefused = %d, want 4", n)
	}
}

func TestBrokerConnectDeadlineAndPerIP(t *testing.T) {
	e := newEnv(t, "demo")
	b := startBroker(t, e, mqttingest.Limits{PreConnectPacket: 4 << 10, MaxPacket: 64 << 10, ConnectTimeout: 500 * time.Millisecond, PerIP: 3}, nil)
	t.Run("SilentConnectionClosed", func(t *testing.T) {
		c, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if !closedWithin(c, 10*time.Second) {
			t.Fatal("a connection that never sent CONNECT is still open after 10 s")
		}
	})
	t.Run("NotConnectFirst", func(t *testing.T) {
		c, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte{0x30, 0x02, 0x00, 0x00}) // a PUBLISH before CONNECT
		if !closedWithin(c, 5*time.Second) {
			t.Fatal("a PUBLISH before CONNECT left the connection open")
		}
	})
	t.Run("PerIP", func(t *testing.T) {
		var conns []net.Conn
		for range 4 {
			c, err := net.Dial("tcp", b.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conns = append(conns, c)
		}
		// The fourth is closed at once; the first three live until the CONNECT deadline.
		if !closedWithin(conns[3], 300*time.Millisecond) {
			t.Fatal("a 4th connection from one address was accepted with PerIP 3")
		}
		if b.Stats.ConnRefused.Load() != 1 {
			t.Fatalf("ConnRefused = %d", b.Stats.ConnRefused.Load())
		}
		for _, c := range conns[:3] {
			c.Close()
		}
		// Slots come back when connections end.
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.Dial("tcp", b.Addr())
			if err != nil {
				t.Fatal(err)
			}
			refused := closedWithin(c, 200*time.Millisecond)
			c.Close()
			if !refused {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("closed connections did not free their per-IP slots")
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// v311 is a minimal MQTT 3.1.1 device: what most sensors speak.
type v311 struct {
	c net.Conn
	r *bufio.Reader
}

func dial311(t *testing.T, addr, user, pass string) *v311 {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	body := append(mqttString("MQTT"), 4, 0xC2, 0, 60) // level 4, username+password+clean session, keep-alive 60
	body = append(body, mqttString("s311-"+user)...)
	body = append(body, mqttString(user)...)
	body = append(body, mqttString(pass)...)
	c.Write(append(append([]byte{0x10}, varint(len(body))...), body...))
	m := &v311{c: c, r: bufio.NewReader(c)}
	typ, b := m.read(t)
	if typ != 0x20 || len(b) != 2 || b[1] != 0 {
		t.Fatalf("CONNACK %x %x", typ, b)
	}
	return m
}

func (m *v311) read(t *testing.T) (byte, []byte) {
	t.Helper()
	m.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	h, err := m.r.ReadByte()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	n, mult := 0, 1
	for {
		b, err := m.r.ReadByte()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		n += int(b&0x7f) * mult
		mult *= 128
		if b&0x80 == 0 {
			break
		}
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(m.r, buf); err != nil {
		t.Fatalf("read: %v", err)
	}
	return h & 0xF0, buf
}

// publish sends a QoS 1 PUBLISH and waits for its PUBACK.
func (m *v311) publish(t *testing.T, topic string, id uint16, payload string) {
	t.Helper()
	body := append(mqttString(topic), byte(id>>8), byte(id))
	body = append(body, payload...)
	m.c.Write(append(append([]byte{0x32}, varint(len(body))...), body...))
	typ, b := m.read(t)
	if typ != 0x40 || binary.BigEndian.Uint16(b) != id {
		t.Fatalf("after PUBLISH %d: packet %x %x, want PUBACK", id, typ, b)
	}
}

// TestMQTT311RefusedReadingAcked: a 3.1.1 device's refused QoS 1 reading
// (500 °C, not JSON) is acknowledged and dropped, so the device goes on to
// its next reading instead of stalling; the refusals are counted.
func TestMQTT311RefusedReadingAcked(t *testing.T) {
	e := newEnv(t, "demo")
	tok := e.device(t, "probe-311")
	b := startBroker(t, e, mqttingest.DefaultLimits, nil)
	topic := coldchain.Topic("demo", "probe-311")
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)
	m := dial311(t, b.Addr(), "probe-311", tok)
	m.publish(t, topic, 1, reading(base, 500))
	m.publish(t, topic, 2, "not json")
	m.publish(t, topic, 3, reading(base.Add(time.Minute), 3.5))
	waitFor(t, "the good reading stored", func() bool { return len(e.points(t)) == 1 })
	if n := b.Stats.AckedDropped.Load(); n != 2 {
		t.Fatalf("AckedDropped = %d, want 2", n)
	}

	t.Run("MosquittoPub", func(t *testing.T) {
		bin, err := exec.LookPath("mosquitto_pub")
		if err != nil {
			t.Skip("mosquitto_pub not installed")
		}
		host, port, _ := net.SplitHostPort(b.Addr())
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, "-V", "mqttv311", "-q", "1", "-h", host, "-p", port, "-i", "mp-311",
			"-u", "probe-311", "-P", tok, "-t", topic, "-m", reading(base.Add(2*time.Minute), 500)).CombinedOutput()
		if err != nil {
			t.Fatalf("mosquitto_pub -V mqttv311 -q 1 of a refused reading: %v %s (it waits for the PUBACK)", err, out)
		}
		if n := b.Stats.AckedDropped.Load(); n != 3 {
			t.Fatalf("AckedDropped = %d, want 3", n)
		}
	})
}

// lockedBuf is a log sink the broker's goroutines write to.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRefusedPublishLog: a refused 60 KB publish is logged as its size and
// reason, not its content, and a flood of them writes about a line a
// second; a packet over the limit after CONNECT closes the connection
// without being read.
func TestRefusedPublishLog(t *testing.T) {
	e := newEnv(t, "demo")
	tok := e.device(t, "probe-log")
	var logs lockedBuf
	b := startBroker(t, e, mqttingest.DefaultLimits, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	topic := coldchain.Topic("demo", "probe-log")
	cli, _, err := dial(t, b.Addr(), "probe-log", tok)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 60_000)
	for range 20 {
		pr, _ := publish(t, cli, topic, big)
		if pr == nil || pr.ReasonCode != 0x99 {
			t.Fatalf("MQTT 5 refused reading: %+v, want 0x99", pr)
		}
	}
	out := logs.String()
	if strings.Contains(out, "xxxxxxxxxx") || len(out) > 8<<10 {
		t.Fatalf("the log carries the payload or floods (%d bytes): %.500s", len(out), out)
	}
	if !strings.Contains(out, "bytes=60000") || !strings.Contains(out, "reason=invalid_reading") {
		t.Fatalf("no size and reason in the log: %s", out)
	}
	if n := strings.Count(out, "reading refused"); n < 1 || n > 5 {
		t.Fatalf("%d log lines for 20 refusals within a few seconds", n)
	}

	m := dial311(t, b.Addr(), "probe-log", tok)
	body := append(mqttString(topic), 0, 9)
	hdr := append([]byte{0x32}, varint(100_000_000)...)
	m.c.Write(append(hdr, body...))
	if !closedWithin(m.c, 5*time.Second) {
		t.Fatal("a 100 MB PUBLISH after CONNECT did not close the connection")
	}
}
