package ws_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
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
