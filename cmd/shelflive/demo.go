package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/node"
)

// runDemo runs demo scripts: replay-ab plays the two-tea A/B live.
func runDemo(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "replay-ab" {
		return fmt.Errorf("demo: which one? replay-ab")
	}
	fs := flag.NewFlagSet("replay-ab", flag.ContinueOnError)
	url := fs.String("url", "", "a running ShelfLive in dev mode with demo data and SHELFLIVE_RATE_LIMITS=false; empty: start one in-process on a fresh data dir")
	viewers := fs.Int("viewers", 160, "viewers in the scripted live")
	keep := fs.Bool("keep", false, "with the in-process server: keep serving after the replay (Ctrl-C stops), to look at the dashboard and report")
	addr := fs.String("addr", "127.0.0.1:0", "listen address of the in-process server")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	base := *url
	if base == "" {
		dir, err := os.MkdirTemp("", "shelflive-replay-ab-")
		if err != nil {
			return err
		}
		c, err := node.ParseConfig("replay-ab", []string{"-addr", *addr, "-data-dir", dir, "-rtmp-addr", "", "-mqtt-addr", "", "-media", "off",
			"-rate-limits=false", "-dev=true", "-demo=true"})
		if err != nil {
			return err
		}
		m := &node.Main{Config: c, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
		if err := m.Open(ctx); err != nil {
			return err
		}
		if err := m.Start(ctx); err != nil {
			m.Close()
			return err
		}
		defer func() {
			m.Close()
			if !*keep {
				os.RemoveAll(dir)
			}
		}()
		base = m.URL()
		fmt.Fprintf(out, "in-process ShelfLive at %s (data in %s)\n", base, dir)
	}
	res, err := demo.ReplayAB(ctx, base, demo.ReplayOptions{Viewers: *viewers}, out)
	if err != nil {
		return err
	}
	var v struct {
		Asked, Converted struct {
			Verdict   string `json:"verdict"`
			VerdictEN string `json:"verdict_en"`
		}
	}
	json.Unmarshal(res.Verdict, &v)
	fmt.Fprintf(out, "\n问得更多 / asked about more:\n  %s\n  %s\n转化 / converts:\n  %s\n  %s\n\n", v.Asked.Verdict, v.Asked.VerdictEN, v.Converted.Verdict, v.Converted.VerdictEN)
	fmt.Fprintf(out, "dashboard: %s/studio (owner / %s), room /live/%s\n", base, demo.Password, res.Room)
	line, _ := json.Marshal(res)
	fmt.Fprintln(out, string(line))
	if *url == "" && *keep {
		fmt.Fprintln(out, "serving until Ctrl-C")
		<-ctx.Done()
	}
	return nil
}
