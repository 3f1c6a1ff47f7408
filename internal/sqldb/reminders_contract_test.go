package sqldb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractReminders: a subscription is kept once; a room due within the
// lead time reminds each subscriber once however often the job runs (and
// from two "nodes" at once), again when it starts, never another
// merchant's viewers; the inbox counts and clears unread messages.
func TestContractReminders(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		rs := &sqldb.ReminderStore{DB: db}
		now := db.Now()
		at := now.Add(10 * time.Minute)
		r := &live.Room{MerchantID: s.m, Slug: "soon", Title: "草莓季开播", ScheduledAt: &at}
		must(t, s.live.CreateRoom(ctx, r))
		later := now.Add(3 * time.Hour)
		far := &live.Room{MerchantID: s.m, Slug: "later", Title: "晚场", ScheduledAt: &later}
		must(t, s.live.CreateRoom(ctx, far))
		c2, err := s.ids.UpsertCustomer(ctx, s.m, "13900000002")
		must(t, err)
		for _, c := range []int64{s.cust, c2.ID, s.cust} {
			must(t, rs.Subscribe(ctx, s.m, r.ID, c))
		}
		must(t, rs.Subscribe(ctx, s.m, far.ID, s.cust))
		if n, _ := rs.Subscribers(ctx, s.m, r.ID); n != 2 {
			t.Fatalf("subscribers %d, want 2", n)
		}
		done := make(chan int64, 2)
		for range 2 {
			go func() { n, err := rs.RemindSoon(ctx, now, 15*time.Minute); must(t, err); done <- n }()
		}
		if a, b := <-done, <-done; a+b != 2 {
			t.Fatalf("two concurrent runs wrote %d + %d soon-reminders, want 2 in all", a, b)
		}
		if n, _ := rs.RemindSoon(ctx, now.Add(time.Minute), 15*time.Minute); n != 0 {
			t.Fatalf("a later run wrote %d more", n)
		}
		msgs, unread, err := rs.Inbox(ctx, s.m, s.cust, 10)
		must(t, err)
		if len(msgs) != 1 || unread != 1 || msgs[0].RoomID != r.ID || msgs[0].URL != "/live/soon" || msgs[0].Title != "草莓季开播" || msgs[0].BodyEN == "" {
			t.Fatalf("inbox %+v unread %d", msgs, unread)
		}
		if other, _, _ := rs.Inbox(ctx, s.other, s.cust, 10); len(other) != 0 {
			t.Fatalf("another merchant's inbox query sees our message: %+v", other)
		}
		// The room goes live: one started-reminder each, once.
		r.Status = live.Live
		startedAt := now.Add(time.Minute)
		r.StartedAt = &startedAt
		must(t, s.live.UpdateRoom(ctx, r))
		for range 3 {
			rs.RemindStarted(ctx, now.Add(2*time.Minute), now.Add(-10*time.Minute))
		}
		msgs, unread, _ = rs.Inbox(ctx, s.m, c2.ID, 10)
		if len(msgs) != 2 || unread != 2 || msgs[0].Kind != "live.started" {
			t.Fatalf("after the start: %+v unread %d", msgs, unread)
		}
		must(t, rs.MarkRead(ctx, s.m, c2.ID, now))
		if _, unread, _ := rs.Inbox(ctx, s.m, c2.ID, 10); unread != 0 {
			t.Fatalf("unread after MarkRead: %d", unread)
		}
		must(t, rs.Unsubscribe(ctx, s.m, far.ID, s.cust))
		if on, _ := rs.Subscribed(ctx, far.ID, s.cust); on {
			t.Fatal("still subscribed after Unsubscribe")
		}
	})
}

// BenchmarkRemind100k: one live with 100,000 subscribers; how long the
// job takes to write every soon-reminder (issue target: within 60 s of
// the start). go test -run '^$' -bench Remind100k -benchtime 1x ./internal/sqldb
func BenchmarkRemind100k(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := mustOpenDB(b, sqldb.SQLite)
		s := newShop(b, db)
		at := db.Now().Add(10 * time.Minute)
		r := &live.Room{MerchantID: s.m, Slug: "big", Title: "十万人预约", ScheduledAt: &at}
		must(b, s.live.CreateRoom(ctx, r))
		must(b, db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			for c := 0; c < 100_000; c++ {
				id, err := tx.InsertID(ctx, `INSERT INTO customers (merchant_id, phone, name, created_at) VALUES (?, ?, ?, ?)`, s.m, fmt.Sprintf("17%09d", c), "", 0)
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO room_subscriptions (room_id, customer_id, merchant_id, created_at) VALUES (?, ?, ?, 0)`, r.ID, id, s.m); err != nil {
					return err
				}
			}
			return nil
		}))
		rs := &sqldb.ReminderStore{DB: db}
		b.StartTimer()
		start := time.Now()
		n, err := rs.RemindSoon(ctx, db.Now(), 15*time.Minute)
		if err != nil || n != 100_000 {
			b.Fatalf("wrote %d: %v", n, err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/100k")
	}
}
