package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/shelflive/shelflive/internal/bench/proc"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/notify/webpush/pushtest"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// RunReminders measures 预约 reminders for one live with many
// subscribers, end to end on a running node: every subscriber has a
// browser registered with a local Web Push service (pushtest: it checks
// each push's VAPID JWT and decrypts it, in this process). The live is made
// due; the clock runs until every subscriber's reminder is in the inbox
// and every push has been received and decrypted. The last line is JSON.
// It is long because seeding, making the live due and waiting share the
// seeded subscribers, the push service and one clock.
func RunReminders(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench reminders", flag.ContinueOnError)
	n := fs.Int("subscribers", 100_000, "subscribers of the live, each with one browser")
	push := fs.Bool("push", true, "register a Web Push browser per subscriber")
	dbURL := fs.String("database-url", "", "database URL; empty = SQLite in a temp dir")
	limit := fs.Duration("timeout", 5*time.Minute, "give up after")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the sending (sender, receiver and database, one process) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "shelflive-reminders-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rcv := pushtest.New()
	defer rcv.Close()
	m, err := openNode(ctx, dir, "-dev=true", "-quiet-hours", "off", "-analytics=false", "-database-url", *dbURL)
	if err != nil {
		return err
	}
	defer m.Close()
	rcv.VAPIDKey = m.App.Channels.Push.VAPID.PublicKey()

	// Seed: a live far in the future (not due yet), n customers, each
	// subscribed with one browser. Written straight to the database in
	// batches (setup, not measured).
	mer, err := m.App.Users.MerchantBySlug(ctx, "demo")
	if err != nil {
		return err
	}
	later := time.Now().Add(48 * time.Hour)
	room := &live.Room{MerchantID: mer.ID, Slug: fmt.Sprintf("bench-remind-%d", time.Now().UnixNano()%1e6), Title: "预约压测 · 百万草莓", ScheduledAt: &later}
	if err := m.App.Live.CreateRoom(ctx, room); err != nil {
		return err
	}
	setup := time.Now()
	const batch = 1000
	for start := 0; start < *n; start += batch {
		end := min(start+batch, *n)
		subs := make([][3]string, 0, end-start)
		if *push {
			for range end - start {
				s := rcv.Subscribe()
				subs = append(subs, [3]string{s.Endpoint, s.P256DH, s.Auth})
			}
		}
		err := m.DB.WriteTx(ctx, func(tx *sqldb.Tx) error {
			for i := start; i < end; i++ {
				id, err := tx.InsertID(ctx, `INSERT INTO customers (merchant_id, phone, name, created_at) VALUES (?, ?, '', 0)`, mer.ID, fmt.Sprintf("166%08d", i))
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO room_subscriptions (room_id, customer_id, merchant_id, created_at) VALUES (?, ?, ?, 0)`, room.ID, id, mer.ID); err != nil {
					return err
				}
				if *push {
					s := subs[i-start]
					if _, err := tx.Exec(ctx, `INSERT INTO push_subscriptions (merchant_id, customer_id, endpoint, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?, 0)`, mer.ID, id, s[0], s[1], s[2]); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "seeded %d subscribers (%d browsers) in %.1fs\n", *n, map[bool]int{true: *n}[*push], time.Since(setup).Seconds())

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := m.Start(ctx); err != nil {
		return err
	}
	// Make it due: the start is 10 minutes away, inside the 15-minute lead.
	at := time.Now().Add(10 * time.Minute)
	room.ScheduledAt = &at
	t0 := time.Now()
	if err := m.App.Live.UpdateRoom(ctx, room); err != nil {
		return err
	}
	var inboxAt, pushAt time.Duration
	deadline := t0.Add(*limit)
	cpu0 := cpuTime()
	for time.Now().Before(deadline) {
		if inboxAt == 0 {
			var got int
			if err := m.DB.QueryRow(ctx, `SELECT count(*) FROM inbox WHERE dedupe_key = ?`, fmt.Sprintf("room:%d:live.soon", room.ID)).Scan(&got); err != nil {
				return err
			}
			if got >= *n {
				inboxAt = time.Since(t0)
			}
		}
		if inboxAt != 0 && (!*push || rcv.Count() >= *n) {
			pushAt = time.Since(t0)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var sent, pending int
	m.DB.QueryRow(ctx, `SELECT count(*) FROM notify_deliveries WHERE state = 'sent'`).Scan(&sent)
	m.DB.QueryRow(ctx, `SELECT count(*) FROM notify_deliveries WHERE state = 'pending'`).Scan(&pending)
	load := proc.LoadAvg1()
	res := map[string]any{"tool": "reminders", "subscribers": *n, "web_push": *push, "database": map[bool]string{true: "sqlite", false: "postgres"}[*dbURL == ""],
		"inbox_seconds": inboxAt.Seconds(), "all_delivered_seconds": pushAt.Seconds(), "pushes_received": rcv.Count(), "deliveries_sent": sent,
		"deliveries_pending": pending, "rejected": len(rcv.Rejected()), "cpu_seconds_this_process": (cpuTime() - cpu0).Seconds(),
		"gomaxprocs": runtime.GOMAXPROCS(0), "load_avg_1m": load, "within_60s": pushAt > 0 && pushAt <= time.Minute}
	fmt.Fprintf(stdout, "inbox %.1fs, every push received and decrypted %.1fs (%d of %d), rejected %d, load %.1f\n",
		inboxAt.Seconds(), pushAt.Seconds(), rcv.Count(), *n, len(rcv.Rejected()), load)
	b, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(b))
	if pushAt == 0 {
		return fmt.Errorf("bench reminders: not all delivered within %s", *limit)
	}
	return nil
}
