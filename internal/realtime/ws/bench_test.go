package ws_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/realtime"
	"github.com/shelflive/shelflive/internal/realtime/ws"
)

// rssKiB reads this process's resident set size.
func rssKiB(tb testing.TB) int64 {
	tb.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	tb.Skip("no VmRSS")
	return 0
}

func settle() {
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	debug.FreeOSMemory()
}

// rawDial opens a WebSocket with a hand-written handshake and never reads again:
// the client side costs one socket and no goroutine, so the process RSS growth is
// (almost) all server side.
func rawDial(addr, query string, src net.IP) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c, "GET /ws?%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", query, addr)
	var buf [512]byte
	var got []byte
	for !bytes.Contains(got, []byte("\r\n\r\n")) {
		n, err := c.Read(buf[:])
		if err != nil {
			c.Close()
			return nil, err
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.HasPrefix(got, []byte("HTTP/1.1 101")) {
		c.Close()
		return nil, fmt.Errorf("handshake: %q", got)
	}
	return c, nil
}

// BenchmarkIdleConnMemory measures resident memory per idle viewer connection
// (server side: ws.Serve goroutines, socket, buffers, subscription). Run with
// -benchtime=4000x: one op = one connection kept open (capped at 8000 because of
// RLIMIT_NOFILE, as both ends live in this process).
func BenchmarkIdleConnMemory(b *testing.B) {
	n := min(b.N, 8000)
	hub := realtime.NewLocalHub(realtime.Options{})
	defer hub.Close()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws.Serve(w, r, hub, ws.Options{User: r.URL.Query().Get("u"), Topics: []realtime.Resume{{Topic: "room:1"}}})
	}))
	srv.Start()
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	settle()
	g0 := runtime.NumGoroutine()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	rss0 := rssKiB(b)
	b.ResetTimer()
	for i := 0; i < n; i++ {
		src := net.IPv4(127, 0, 0, byte(1+i%8))
		c, err := rawDial(addr, "u=v"+strconv.Itoa(i), src)
		if err != nil {
			b.Fatalf("conn %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	b.StopTimer()
	for hub.Viewers("room:1") != n {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // presence batches sent, queues empty
	settle()
	rss1 := rssKiB(b)
	runtime.ReadMemStats(&m1)
	g1 := runtime.NumGoroutine()
	b.ReportMetric(float64(rss1-rss0)/float64(n), "rss_KiB/conn")
	b.ReportMetric(float64(int64(m1.HeapInuse+m1.StackInuse)-int64(m0.HeapInuse+m0.StackInuse))/1024/float64(n), "heap+stack_KiB/conn")
	b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/conn")
	b.ReportMetric(float64(int64(m1.StackInuse)-int64(m0.StackInuse))/1024/float64(n), "stack_KiB/conn")
}

// BenchmarkBroadcast2k is guaranteed-event throughput to 2,000 real WebSocket
// viewers on loopback (hub queue → writer goroutine → socket → reading client):
// one op = one event published; the clock stops when every client has read every
// event. Clients run in this process too, so the figure covers both ends.
func BenchmarkBroadcast2k(b *testing.B) {
	const n = 2000
	hub := realtime.NewLocalHub(realtime.Options{QueueLen: 1 << 16, History: 1 << 16})
	defer hub.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws.Serve(w, r, hub, ws.Options{Topics: []realtime.Resume{{Topic: "room:1"}}})
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	var arrived atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		c, err := rawDial(addr, "x=1", net.IPv4(127, 0, 0, byte(1+i%8)))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			readFrames(c, func(p []byte) {
				if bytes.HasPrefix(p, []byte(`{"t":"ev"`)) {
					arrived.Add(1)
				}
			})
		}()
	}
	for hub.Viewers("room:1") != n {
		time.Sleep(10 * time.Millisecond)
	}
	data := map[string]any{"product_id": 42, "price_fen": 1990, "stock": 118}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hub.Publish("room:1", "stock.changed", data)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for arrived.Load() < int64(n*b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d deliveries", arrived.Load(), n*b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "deliveries/s")
}

// readFrames calls fn with each server frame's payload until the connection ends.
func readFrames(c net.Conn, fn func([]byte)) {
	br := bufio.NewReaderSize(c, 4096)
	buf := make([]byte, 0, 1024)
	for {
		var h [2]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return
		}
		size := int(h[1] & 0x7f)
		switch size {
		case 126:
			var e [2]byte
			if _, err := io.ReadFull(br, e[:]); err != nil {
				return
			}
			size = int(e[0])<<8 | int(e[1])
		case 127:
			var e [8]byte
			if _, err := io.ReadFull(br, e[:]); err != nil {
				return
			}
			size = int(e[4])<<24 | int(e[5])<<16 | int(e[6])<<8 | int(e[7])
		}
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(br, buf); err != nil {
			return
		}
		fn(buf)
	}
}
