package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/notify"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractReminderChannels: a reminder enqueues one push per viewer
// with a browser (not opted out) and one text per viewer who opted in,
// once however often and from however many runs; at night they wait for
// 08:00 China time; two senders claim disjoint deliveries; results stick;
// a gone endpoint is forgotten; opting out drops what was not sent.
func TestContractReminderChannels(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		rs := &sqldb.ReminderStore{DB: db}
		noon := time.Date(2026, 12, 7, 12, 0, 0, 0, cn.Shanghai).UTC()
		db.Now = func() time.Time { return noon }
		at := noon.Add(10 * time.Minute)
		r := &live.Room{MerchantID: s.m, Slug: "soon", Title: "草莓季开播", ScheduledAt: &at}
		must(t, s.live.CreateRoom(ctx, r))
		var custs []int64
		for _, phone := range []string{"13900000101", "13900000102", "13900000103", "13900000104"} {
			c, err := s.ids.UpsertCustomer(ctx, s.m, phone)
			must(t, err)
			custs = append(custs, c.ID)
			must(t, rs.Subscribe(ctx, s.m, r.ID, c.ID))
		}
		// 0: one browser; 1: two browsers, push off, SMS on; 2: SMS only; 3: nothing.
		must(t, rs.SavePushSubscription(ctx, s.m, custs[0], notify.PushSub{Endpoint: "https://push.example/a", P256DH: "k", Auth: "a"}))
		must(t, rs.SavePushSubscription(ctx, s.m, custs[1], notify.PushSub{Endpoint: "https://push.example/b1", P256DH: "k", Auth: "a"}))
		must(t, rs.SavePushSubscription(ctx, s.m, custs[1], notify.PushSub{Endpoint: "https://push.example/b2", P256DH: "k", Auth: "a"}))
		must(t, rs.SetPrefs(ctx, s.m, custs[1], false, true))
		must(t, rs.SetPrefs(ctx, s.m, custs[2], true, true))
		if p, _ := rs.Prefs(ctx, s.m, custs[1]); p.Push || !p.SMS || p.PushDevices != 2 {
			t.Fatalf("prefs %+v", p)
		}
		if p, _ := rs.Prefs(ctx, s.m, custs[3]); !p.Push || p.SMS || p.PushDevices != 0 {
			t.Fatalf("default prefs %+v", p)
		}
		done := make(chan int64, 2)
		for range 2 {
			go func() { n, err := rs.RemindSoon(ctx, noon, 15*time.Minute); must(t, err); done <- n }()
		}
		<-done
		<-done
		if n, _ := rs.RemindSoon(ctx, noon, 15*time.Minute); n != 0 {
			t.Fatalf("a second run wrote %d", n)
		}
		count := func(q string, args ...any) int {
			var n int
			must(t, db.QueryRow(ctx, q, args...).Scan(&n))
			return n
		}
		if n := count(`SELECT count(*) FROM notify_deliveries WHERE channel = 'push'`); n != 1 {
			t.Fatalf("push deliveries %d, want 1 (customer 0)", n)
		}
		if n := count(`SELECT count(*) FROM notify_deliveries WHERE channel = 'sms'`); n != 2 {
			t.Fatalf("sms deliveries %d, want 2 (customers 1, 2)", n)
		}
		// Two senders at once take disjoint deliveries.
		type claim struct {
			ds  []notify.Delivery
			err error
		}
		got := make(chan claim, 2)
		for range 2 {
			go func() { ds, err := rs.ClaimDeliveries(ctx, noon, time.Minute, 2); got <- claim{ds, err} }()
		}
		a, b := <-got, <-got
		must(t, a.err)
		must(t, b.err)
		seen := map[[2]any]bool{}
		for _, d := range append(a.ds, b.ds...) {
			k := [2]any{d.InboxID, d.Channel}
			if seen[k] {
				t.Fatalf("delivery %v claimed twice", k)
			}
			seen[k] = true
		}
		if len(seen) != 3 {
			t.Fatalf("claimed %d of 3", len(seen))
		}
		var push notify.Delivery
		for _, d := range append(a.ds, b.ds...) {
			if d.Channel == notify.ChannelPush {
				push = d
			}
			if d.Message.Title != "草莓季开播" || d.Message.URL != "/live/soon" || d.Attempts != 1 {
				t.Fatalf("delivery %+v", d)
			}
		}
		if len(push.Subs) != 1 || push.Subs[0].Endpoint != "https://push.example/a" || push.CustomerID != custs[0] {
			t.Fatalf("push delivery %+v", push)
		}
		if ds, _ := rs.ClaimDeliveries(ctx, noon.Add(30*time.Second), time.Minute, 10); len(ds) != 0 {
			t.Fatalf("claimed again within the lease: %+v", ds)
		}
		must(t, rs.FinishDeliveries(ctx, noon, []notify.Result{{InboxID: push.InboxID, Channel: notify.ChannelPush, Sent: true}}))
		var retried notify.Delivery
		for _, d := range append(a.ds, b.ds...) {
			if d.Channel == notify.ChannelSMS {
				retried = d
				must(t, rs.FinishDeliveries(ctx, noon, []notify.Result{{InboxID: d.InboxID, Channel: d.Channel, Error: "busy", Retry: noon.Add(5 * time.Minute)}}))
				break
			}
		}
		if ds, _ := rs.ClaimDeliveries(ctx, noon.Add(2*time.Minute), time.Minute, 10); len(ds) != 1 || ds[0].InboxID == retried.InboxID {
			t.Fatalf("after the lease: %+v (the retried one waits for its time)", ds)
		}
		found := false
		for _, d := range mustClaim(t, rs, noon.Add(6*time.Minute)) { // the retry, and the other one whose lease ran out again
			found = found || (d.InboxID == retried.InboxID && d.Attempts == 2)
		}
		if !found {
			t.Fatal("the retry was not claimed at its time")
		}
		if n := count(`SELECT count(*) FROM notify_deliveries WHERE state = 'sent'`); n != 1 {
			t.Fatalf("sent %d", n)
		}
		// Opting out of SMS drops the unsent texts.
		must(t, rs.SetPrefs(ctx, s.m, custs[2], true, false))
		if n := count(`SELECT count(*) FROM notify_deliveries WHERE customer_id = ? AND state = 'pending'`, custs[2]); n != 0 {
			t.Fatalf("customer 2 still has %d pending", n)
		}
		must(t, rs.RemovePushEndpoint(ctx, "https://push.example/a"))
		if p, _ := rs.Prefs(ctx, s.m, custs[0]); p.PushDevices != 0 {
			t.Fatalf("gone endpoint kept: %+v", p)
		}

		// At night: the push waits for 08:00.
		night := time.Date(2026, 12, 7, 23, 0, 0, 0, cn.Shanghai).UTC()
		db.Now = func() time.Time { return night }
		must(t, rs.SavePushSubscription(ctx, s.m, custs[3], notify.PushSub{Endpoint: "https://push.example/d", P256DH: "k", Auth: "a"}))
		late := night.Add(5 * time.Minute)
		r2 := &live.Room{MerchantID: s.m, Slug: "late", Title: "夜场", ScheduledAt: &late}
		must(t, s.live.CreateRoom(ctx, r2))
		must(t, rs.Subscribe(ctx, s.m, r2.ID, custs[3]))
		if n, err := rs.RemindSoon(ctx, night, 15*time.Minute); err != nil || n != 1 {
			t.Fatalf("night reminder: %d %v", n, err)
		}
		// (the sender itself sends nothing in quiet hours: app.SendDeliveries)
		for _, d := range mustClaim(t, rs, night.Add(time.Hour)) {
			if d.CustomerID == custs[3] {
				t.Fatalf("the night's push is due at night: %+v", d)
			}
		}
		morning := time.Date(2026, 12, 8, 8, 0, 0, 0, cn.Shanghai).UTC()
		found = false
		for _, d := range mustClaim(t, rs, morning) {
			found = found || d.CustomerID == custs[3]
		}
		if !found {
			t.Fatal("the night's push is not due in the morning")
		}
	})
}

func mustClaim(t *testing.T, rs *sqldb.ReminderStore, at time.Time) []notify.Delivery {
	t.Helper()
	ds, err := rs.ClaimDeliveries(context.Background(), at, time.Minute, 10)
	must(t, err)
	return ds
}
