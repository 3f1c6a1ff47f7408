package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/objstore"
	"github.com/shelflive/shelflive/internal/secretbox"
	"github.com/shelflive/shelflive/internal/sms"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// doctor collects findings: ok lines, warnings and problems.
type doctor struct {
	out      io.Writer
	problems int
}

func (d *doctor) ok(area, msg string, a ...any) {
	fmt.Fprintf(d.out, "  ok    %-9s %s\n", area, fmt.Sprintf(msg, a...))
}
func (d *doctor) warn(area, msg string, a ...any) {
	fmt.Fprintf(d.out, "  note  %-9s %s\n", area, fmt.Sprintf(msg, a...))
}
func (d *doctor) bad(area, msg string, a ...any) {
	d.problems++
	fmt.Fprintf(d.out, "  FIX   %-9s %s\n", area, fmt.Sprintf(msg, a...))
}

// Doctor checks a configuration the way a production node will use it —
// secret key, database, NATS, object store, SMS and every merchant's
// payment accounts — and writes findings in plain words to out. It returns
// how many problems must be fixed before going live.
func Doctor(ctx context.Context, c *Config, out io.Writer) int {
	d := &doctor{out: out}
	fmt.Fprintln(out, "ShelfLive doctor: checking this configuration")
	if c.DevMode {
		d.warn("mode", "development mode (SHELFLIVE_DEV=true): login codes are shown on screen and payments are simulated; set SHELFLIVE_DEV=false for a real shop")
	} else {
		d.ok("mode", "production (SHELFLIVE_DEV=false)")
	}
	switch {
	case c.SecretKey == "" && !c.DevMode:
		d.bad("secret", "SHELFLIVE_SECRET_KEY is not set: the node will not start. Set 32+ random characters, the same on every node (openssl rand -hex 32)")
	case c.SecretKey == "":
		d.warn("secret", "SHELFLIVE_SECRET_KEY is not set: dev mode makes one per data dir; production needs it")
	default:
		if _, err := secretbox.New(c.SecretKey); err != nil {
			d.bad("secret", "SHELFLIVE_SECRET_KEY is unusable: %v", err)
		} else {
			d.ok("secret", "SHELFLIVE_SECRET_KEY is set")
		}
	}
	db := d.database(ctx, c)
	d.nats(ctx, c)
	d.bucket(ctx, c)
	d.sms(ctx, c)
	if db != nil {
		d.payments(ctx, c, db)
		db.Close()
	}
	if d.problems == 0 {
		fmt.Fprintln(out, "No problems found.")
	} else {
		fmt.Fprintf(out, "%d problem(s) to fix before going live.\n", d.problems)
	}
	return d.problems
}

func (d *doctor) database(ctx context.Context, c *Config) *sqldb.DB {
	what := "SQLite in " + c.DataDir
	if c.DatabaseURL != "" {
		what = "PostgreSQL (SHELFLIVE_DATABASE_URL)"
	}
	octx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	db, err := sqldb.Open(octx, c.DatabaseURL, c.DataDir)
	if err != nil {
		d.bad("database", "%s cannot be opened: %v", what, err)
		return nil
	}
	if err := db.Ping(octx); err != nil {
		d.bad("database", "%s does not answer: %v", what, err)
		db.Close()
		return nil
	}
	list, err := (&sqldb.IdentityStore{DB: db}).ListMerchants(octx)
	if err != nil {
		d.bad("database", "%s answers, but its merchants cannot be read: %v", what, err)
		return db
	}
	open := 0
	for _, m := range list {
		if !m.Disabled {
			open++
		}
	}
	if open == 0 {
		d.bad("database", "%s answers, but no open merchant exists: run `shelflive merchant create` (or open /setup with the token the server prints)", what)
	} else {
		d.ok("database", "%s answers; %d open merchant(s)", what, open)
	}
	return db
}

func (d *doctor) nats(ctx context.Context, c *Config) {
	if c.NATSURL == "" {
		d.ok("nats", "not set: one node, rooms fan out in process (set SHELFLIVE_NATS_URL to run several nodes)")
		return
	}
	nc, err := nats.Connect(c.NATSURL, nats.Timeout(5*time.Second), nats.Name("shelflive-doctor"))
	if err != nil {
		d.bad("nats", "SHELFLIVE_NATS_URL cannot be reached: %v", err)
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err == nil {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = js.AccountInfo(cctx)
		cancel()
	}
	if err != nil {
		d.bad("nats", "NATS answers but JetStream is not available (start nats-server with -js): %v", err)
		return
	}
	d.ok("nats", "reachable, JetStream on (prefix %q)", c.NATSPrefix)
}

func (d *doctor) bucket(ctx context.Context, c *Config) {
	if c.S3URL == "" {
		d.ok("files", "images and recordings in %s (set SHELFLIVE_S3_URL when several nodes serve them)", c.DataDir)
		return
	}
	cfg, err := objstore.ParseS3URL(c.S3URL)
	if err != nil {
		d.bad("files", "SHELFLIVE_S3_URL is malformed: %v", err)
		return
	}
	s3, err := objstore.NewS3(cfg, nil)
	if err == nil {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = s3.Ping(pctx)
		cancel()
	}
	if err != nil {
		d.bad("files", "the bucket of SHELFLIVE_S3_URL does not answer: %v", err)
		return
	}
	d.ok("files", "bucket %s answers", s3.String())
}

func (d *doctor) sms(ctx context.Context, c *Config) {
	p := c.SMS.Provider
	if p == "" || p == "dev" {
		if c.DevMode {
			d.warn("sms", "SHELFLIVE_SMS=dev: login codes are shown on screen (dev mode only)")
		} else {
			d.bad("sms", "no SMS provider: viewers cannot get login codes. Set SHELFLIVE_SMS=aliyun or tencent with SHELFLIVE_SMS_KEY_ID, _KEY_SECRET, _SIGN_NAME and _TEMPLATE")
		}
		return
	}
	if _, err := sms.New(sms.Config{Provider: p, KeyID: c.SMS.KeyID, KeySecret: c.SMS.KeySecret, SignName: c.SMS.SignName, Template: c.SMS.Template, AppID: c.SMS.AppID, Region: c.SMS.Region, BaseURL: c.SMS.BaseURL}); err != nil {
		d.bad("sms", "%v", err)
		return
	}
	endpoint := c.SMS.BaseURL
	if endpoint == "" {
		endpoint = map[string]string{"aliyun": sms.AliyunEndpoint, "tencent": sms.TencentEndpoint}[p]
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(hctx, http.MethodGet, endpoint, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.bad("sms", "%s is configured but its endpoint %s cannot be reached: %v", p, endpoint, err)
		return
	}
	resp.Body.Close()
	d.ok("sms", "%s configured (sign name %q, template %s) and reachable; no test message is sent (it would cost money)", p, c.SMS.SignName, c.SMS.Template)
}

// payments checks every open merchant's WeChat Pay and Alipay accounts
// with one harmless signed query each, through Main.CheckPayments.
func (d *doctor) payments(ctx context.Context, c *Config, db *sqldb.DB) {
	key, err := secretKey(&Config{SecretKey: c.SecretKey, DevMode: false})
	if err != nil || key == "" {
		d.warn("payments", "not checked: without SHELFLIVE_SECRET_KEY no payment account can be read")
		return
	}
	m := &Main{Config: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db}
	accounts, err := m.openPayments(db)
	if err != nil || accounts == nil {
		d.bad("payments", "payment accounts cannot be opened: %v", err)
		return
	}
	m.App = &app.App{Pay: app.Payments{Accounts: accounts}}
	list, err := (&sqldb.IdentityStore{DB: db}).ListMerchants(ctx)
	if err != nil {
		return
	}
	for _, mer := range list {
		if mer.Disabled {
			continue
		}
		results, err := m.CheckPayments(ctx, mer.ID)
		if err != nil {
			d.bad("payments", "merchant %s: %v", mer.Slug, err)
			continue
		}
		if len(results) == 0 {
			d.warn("payments", "merchant %s has no WeChat Pay or Alipay account yet: buyers cannot pay until the owner adds one in /admin", mer.Slug)
			continue
		}
		for _, r := range results {
			if r.OK {
				d.ok("payments", "merchant %s: %s answers a signed query", mer.Slug, r.Provider)
			} else {
				d.bad("payments", "merchant %s: %s refused: %s (%s)", mer.Slug, r.Provider, strings.TrimSuffix(r.English, "."), r.Code)
			}
		}
	}
}
