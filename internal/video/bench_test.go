package video_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/video"
)

// The server benchmarks run the video.Server in a child process (this test
// binary re-executed with benchServerEnv set) so that its CPU time and
// memory can be read from /proc without counting ffmpeg or the viewers.
const benchServerEnv = "SHELFLIVE_VIDEO_BENCH_SERVER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(benchServerEnv); dir != "" {
		os.Exit(runBenchServer(dir))
	}
	os.Exit(m.Run())
}

// runBenchServer serves RTMP and HTTP on loopback, prints both addresses,
// and exits when stdin closes.
func runBenchServer(dir string) int {
	rooms := newTestRooms(map[string]string{"k-bench": "bench"})
	srv, err := video.New(video.Config{DataDir: dir, RTMPAddr: "127.0.0.1:0", Rooms: rooms,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mux := http.NewServeMux()
	mux.Handle(video.MediaPrefix, srv.Handler())
	go http.Serve(ln, mux)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	fmt.Printf("RTMP=%s HTTP=%s\n", srv.Addr(), ln.Addr())
	srv.ListenAndServe(ctx)
	return 0
}

type benchServer struct {
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	rtmp, http string
}

func startBenchServer(b *testing.B) *benchServer {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), benchServerEnv+"="+b.TempDir())
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	bs := &benchServer{cmd: cmd, stdin: stdin}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("bench server: %v", err)
	}
	if _, err := fmt.Sscanf(strings.TrimSpace(line), "RTMP=%s HTTP=%s", &bs.rtmp, &bs.http); err != nil {
		// Sscanf %s is greedy on spaces only; split by hand
		f := strings.Fields(line)
		bs.rtmp = strings.TrimPrefix(f[0], "RTMP=")
		bs.http = strings.TrimPrefix(f[1], "HTTP=")
	}
	return bs
}

// procCPU returns the process's user+system CPU time from /proc.
func procCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// fields after the ")" that ends the command name; utime and stime
	// are fields 14 and 15 of the whole line.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck
}

// procRSS returns the resident set size in KiB.
func procRSS(b *testing.B, pid int) int64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// cpuShare measures the process's CPU use over d as a percentage of one
// core.
func cpuShare(b *testing.B, pid int, d time.Duration) float64 {
	c0, t0 := procCPU(b, pid), time.Now()
	time.Sleep(d)
	c1, t1 := procCPU(b, pid), time.Now()
	return float64(c1-c0) / float64(t1.Sub(t0)) * 100
}

// BenchmarkServerCPU measures, in the server process only: CPU of one
// published stream (RTMP ingest, FLV mux, HLS segmenting, recording to
// disk, no viewers), then the extra CPU and memory of 100 HTTP-FLV viewers
// of that stream. Run with -benchtime=1x (one measurement takes ~30 s).
func BenchmarkServerCPU(b *testing.B) {
	for range b.N {
		bs := startBenchServer(b)
		pid := bs.cmd.Process.Pid
		pub := startPublisher(b, "rtmp://"+bs.rtmp+"/live/k-bench", 60, false)
		hls := "http://" + bs.http + video.LiveHLSURL("bench")
		waitFor(b, 25*time.Second, "live", func() bool {
			resp, err := http.Get(hls)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200
		})
		time.Sleep(2 * time.Second)
		rss0 := procRSS(b, pid)
		cpuPub := cpuShare(b, pid, 6*time.Second)

		const viewers = 100
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var mu sync.Mutex
		var got []int64
		url := "http://" + bs.http + video.FLVURL("bench")
		tr := &http.Transport{MaxIdleConnsPerHost: viewers, MaxConnsPerHost: 0}
		client := &http.Client{Transport: tr}
		for range viewers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
				resp, err := client.Do(req)
				if err != nil {
					return
				}
				defer resp.Body.Close()
				n, _ := io.Copy(io.Discard, resp.Body)
				mu.Lock()
				got = append(got, n)
				mu.Unlock()
			}()
		}
		time.Sleep(3 * time.Second)
		cpuAll := cpuShare(b, pid, 6*time.Second)
		rss100 := procRSS(b, pid)
		cancel()
		wg.Wait()
		pub.kill()
		if len(got) != viewers {
			b.Fatalf("%d of %d viewers finished", len(got), viewers)
		}
		minBytes := got[0]
		for _, n := range got {
			minBytes = min(minBytes, n)
		}
		b.ReportMetric(cpuPub, "cpu%/stream")
		b.ReportMetric(cpuAll-cpuPub, "cpu%/100viewers")
		b.ReportMetric(float64(rss100-rss0)/viewers, "KiB/viewer")
		b.ReportMetric(float64(rss100)/1024, "MiB-rss-total")
		b.ReportMetric(float64(minBytes)/1024, "KiB-min-per-viewer")
	}
}

// BenchmarkGlassToGlass reports the median glass-to-glass latency seen by
// headless chromium playing fMP4 (live_mse.js), HTTP-FLV (mpegts.js) and
// HLS (hls.js), using
// the burned-in wall-clock barcode (see stamp_test.go). Run with
// -benchtime=1x.
func BenchmarkGlassToGlass(b *testing.B) {
	for range b.N {
		browser := newBrowser(b)
		rooms := newTestRooms(map[string]string{"k-lat": "lat"})
		ts := startServer(b, b.TempDir(), rooms)
		startPublisher(b, ts.rtmpURL("k-lat"), 60, true)
		hlsURL := ts.HTTP.URL + video.LiveHLSURL("lat")
		waitFor(b, 25*time.Second, "3 HLS segments", func() bool {
			code, body := httpGet(b, hlsURL)
			return code == 200 && strings.Count(body, "#EXTINF") >= 3
		})
		page := ts.HTTP.URL + "/test/player"
		_, mp4 := playInBrowser(b, browser, page, "mp4", ts.HTTP.URL+video.MP4URL("lat"), 10*time.Second)
		_, flv := playInBrowser(b, browser, page, "flv", ts.HTTP.URL+video.FLVURL("lat"), 10*time.Second)
		_, hls := playInBrowser(b, browser, page, "hls", hlsURL, 10*time.Second)
		ffFLV := ffmpegLatency(b, ts.HTTP.URL+video.FLVURL("lat"), 3*time.Second, 5*time.Second)
		ffHLS := ffmpegLatency(b, hlsURL, 3*time.Second, 5*time.Second)
		if len(ffFLV) < 50 || len(ffHLS) < 50 {
			b.Fatalf("ffmpeg player decoded %d FLV and %d HLS stamps", len(ffFLV), len(ffHLS))
		}
		b.ReportMetric(float64(median(ffFLV).Milliseconds()), "flv-ffmpeg-ms")
		b.ReportMetric(float64(median(ffHLS).Milliseconds()), "hls-ffmpeg-ms")
		b.ReportMetric(float64(median(mp4).Milliseconds()), "mp4-ms")
		b.ReportMetric(float64(median(flv).Milliseconds()), "flv-ms")
		b.ReportMetric(float64(median(hls).Milliseconds()), "hls-ms")
		b.ReportMetric(float64(len(mp4)+len(flv)+len(hls)), "frames")
	}
}
