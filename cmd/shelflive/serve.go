package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/sqldb"
)

func runServe(ctx context.Context, args []string) error {
	c, err := node.ParseConfig("serve", args)
	if err != nil {
		return err
	}
	start := time.Now()
	m := &node.Main{Config: c}
	if err := m.Open(ctx); err != nil {
		return err
	}
	if err := m.Start(ctx); err != nil {
		m.Close()
		return err
	}
	banner(m, time.Since(start))
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
}

func banner(m *node.Main, took time.Duration) {
	base := m.URL()
	if m.Config.PublicURL != "" {
		base = strings.TrimRight(m.Config.PublicURL, "/")
	} else if _, port, err := net.SplitHostPort(m.Listener.Addr().String()); err == nil {
		base = "http://localhost:" + port
	}
	fmt.Fprintf(os.Stderr, `
  ShelfLive %s is running (started in %s, data in %s)

    Viewer room (open on a phone):  %s/live/demo
    Host studio:                    %s/studio
    Admin:                          %s/admin
    Store pickup check:             %s/pickup
    API (OpenAPI 3.1):              %s/api/openapi.json

`, Version, took.Round(time.Millisecond), m.Config.DataDir, base, base, base, base, base)
	if m.MQTT != nil {
		fmt.Fprintf(os.Stderr, "    Sensor telemetry (MQTT):        %s  topic shelflive/<merchant>/devices/<device-id>/telemetry\n\n", m.MQTT.Addr())
	}
	if m.SetupToken != "" {
		fmt.Fprintf(os.Stderr, "  No shop yet. Create the first merchant at %s/setup with this one-time setup token:\n\n      %s\n\n  (or run `shelflive merchant create`; the token works once and only until a merchant exists)\n\n", base, m.SetupToken)
	}
	if m.Config.Demo {
		fmt.Fprintf(os.Stderr, "  Demo logins (password %q):", demo.Password)
		for _, l := range demo.Logins {
			fmt.Fprintf(os.Stderr, " %s", l[0])
		}
		fmt.Fprintf(os.Stderr, "\n  Viewers log in with any mobile number; in dev mode the one-time code is shown on screen.\n\n")
	}
}

func runMigrate(ctx context.Context, args []string) error {
	c, err := node.ParseConfig("migrate", args)
	if err != nil {
		return err
	}
	db, err := sqldb.Open(ctx, c.DatabaseURL, c.DataDir)
	if err != nil {
		return err
	}
	fmt.Println("migrations applied")
	return db.Close()
}
