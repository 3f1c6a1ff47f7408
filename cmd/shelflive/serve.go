package main

import (
	"context"
	"fmt"
	"io"
	"net"
	neturl "net/url"
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
	banner(os.Stderr, m, time.Since(start))
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
}

// banner tells whoever started ShelfLive where everything is: the pages,
// where OBS publishes to, where sensors send telemetry, the demo logins.
func banner(w io.Writer, m *node.Main, took time.Duration) {
	base, host := m.URL(), "localhost"
	if m.Config.PublicURL != "" {
		base = strings.TrimRight(m.Config.PublicURL, "/")
		if u, err := neturl.Parse(base); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
	} else if _, port, err := net.SplitHostPort(m.Listener.Addr().String()); err == nil {
		base = "http://localhost:" + port
	}
	fmt.Fprintf(w, `
  ShelfLive %s is running (started in %s, data in %s)

    Viewer room (open on a phone):  %s/live/demo
    Host studio:                    %s/studio
    Admin:                          %s/admin
    Store pickup check:             %s/pickup
    API (OpenAPI 3.1):              %s/api/openapi.json
`, Version, took.Round(time.Millisecond), m.Config.DataDir, base, base, base, base, base)
	if m.Video != nil {
		fmt.Fprintf(w, "    Video ingest (RTMP, for OBS):   %s  stream key: in the studio\n", m.Video.IngestURL(host))
	}
	if m.MQTT != nil {
		fmt.Fprintf(w, "    Sensor telemetry (MQTT):        %s  topic shelflive/<merchant>/devices/<device-id>/telemetry\n", m.MQTT.Addr())
	}
	fmt.Fprintln(w)
	if m.SetupToken != "" {
		fmt.Fprintf(w, "  No shop yet. Create the first merchant at %s/setup with this one-time setup token:\n\n      %s\n\n  (or run `shelflive merchant create`; the token works once and only until a merchant exists)\n\n", base, m.SetupToken)
	}
	if m.Config.Demo {
		fmt.Fprintf(w, "  Demo logins (password %q):", demo.Password)
		for _, l := range demo.Logins {
			fmt.Fprintf(w, " %s", l[0])
		}
		fmt.Fprintf(w, "\n  Viewers log in with any mobile number; in dev mode the one-time code is shown on screen.\n\n")
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
