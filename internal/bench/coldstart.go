package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"time"
)

// ColdStartResult is the last line of `shelflive bench coldstart`.
type ColdStartResult struct {
	Runs     int     `json:"runs"`
	MedianMs float64 `json:"median_ms"`
	MaxMs    float64 `json:"max_ms"`
	MinMs    float64 `json:"min_ms"`
}

// RunColdStart starts the shelflive binary (this one) on an existing data
// dir several times and measures process start → /readyz answering 200.
// The first run creates the data dir and demo data and is not counted.
func RunColdStart(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench coldstart", flag.ContinueOnError)
	runs := fs.Int("runs", 7, "measured starts")
	dataDir := fs.String("data-dir", "", "existing data dir (empty: a temp dir, seeded by a first unmeasured start)")
	first := fs.Bool("first", false, "measure first starts instead: each run on a new empty data dir (migrations and the demo seed included)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if *dataDir == "" {
		d, err := os.MkdirTemp("", "shelflive-coldstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dataDir = d
	}
	var times []time.Duration
	for i := 0; i <= *runs; i++ {
		dir := *dataDir
		if *first {
			if i == 0 {
				continue
			}
			if dir, err = os.MkdirTemp("", "shelflive-firststart-"); err != nil {
				return err
			}
		}
		d, err := startOnce(ctx, self, dir)
		if *first {
			os.RemoveAll(dir)
		}
		if err != nil {
			return err
		}
		if i > 0 {
			times = append(times, d)
			fmt.Fprintf(stdout, "start %d: %s\n", i, d.Round(time.Millisecond))
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res := ColdStartResult{Runs: len(times), MedianMs: ms(times[len(times)/2]), MaxMs: ms(times[len(times)-1]), MinMs: ms(times[0])}
	line, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(line))
	return nil
}

func startOnce(ctx context.Context, self, dataDir string) (time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	cmd := exec.CommandContext(ctx, self, "serve", "-addr", addr, "-data-dir", dataDir, "-rtmp-addr", "127.0.0.1:0", "-mqtt-addr", "127.0.0.1:0")
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	hc := &http.Client{Timeout: time.Second}
	for deadline := start.Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		resp, err := hc.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(start), nil
			}
		}
	}
	return 0, fmt.Errorf("bench coldstart: server did not become ready in 30 s")
}
