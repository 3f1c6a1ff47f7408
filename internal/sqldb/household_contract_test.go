package sqldb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/household"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractHousehold: a linked fridge's readings over four days make a
// fruit estimate that runs out tomorrow; two concurrent push runs send one
// push pointing at the scheduled live with fruit, with its inbox message;
// later runs, the category gap and the weekly cap send nothing more; an
// opened push followed by a paid fruit order counts as ordered; opting out
// stops pushes; unlinking stops the token and forgets the readings; another
// merchant sees none of it.
func TestContractHousehold(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		hs := &sqldb.HouseholdStore{DB: db}
		now := db.Now()

		p, err := s.cat.Product(ctx, s.m, s.product)
		must(t, err)
		p.Category = "水果"
		must(t, s.cat.UpdateProduct(ctx, p))
		at := now.Add(20 * time.Hour)
		room := &live.Room{MerchantID: s.m, Slug: "fruit", Title: "周末水果专场", ScheduledAt: &at}
		must(t, s.live.CreateRoomWithLineup(ctx, room, []int64{s.product}))

		token, hash := identity.NewToken()
		d := &household.Device{MerchantID: s.m, CustomerID: s.cust, Name: "厨房冰箱", Kind: "fridge"}
		must(t, hs.LinkDevice(ctx, d, hash))
		// Four days of a quarter a day, read every 6 hours, sent as one
		// buffered batch out of order; level now 0.2 → out in about 19 h.
		var rs []household.Reading
		for i := 16; i >= 0; i-- {
			rs = append(rs, household.Reading{Category: "水果", Level: min(1, 0.2+0.25*float64(i)/4), At: now.Add(-time.Duration(i) * 6 * time.Hour)})
		}
		must(t, household.CheckReadings(rs, now))
		est, err := hs.Ingest(ctx, identity.HashToken(token), rs)
		must(t, err)
		if len(est) != 1 || est[0].RunoutAt == nil || est[0].RunoutAt.Sub(now) < 12*time.Hour || est[0].RunoutAt.Sub(now) > 26*time.Hour {
			t.Fatalf("estimate %+v", est)
		}
		if _, err := hs.Ingest(ctx, "nope", rs[:1]); !errors.Is(err, household.ErrDeviceToken) {
			t.Fatalf("a wrong token: %v", err)
		}

		done := make(chan []household.Push, 2)
		for range 2 {
			go func() { ps, err := hs.SendDue(ctx, now, 100); must(t, err); done <- ps }()
		}
		a, b := <-done, <-done
		pushes := append(a, b...)
		if len(pushes) != 1 || pushes[0].RoomID != room.ID || pushes[0].Category != "水果" {
			t.Fatalf("two concurrent runs sent %+v, want one push to the fruit live", pushes)
		}
		msgs, _, err := (&sqldb.ReminderStore{DB: db}).Inbox(ctx, s.m, s.cust, 10)
		must(t, err)
		if len(msgs) != 1 || msgs[0].Kind != "household.low" || msgs[0].URL != pushes[0].URL || msgs[0].BodyEN == "" {
			t.Fatalf("inbox %+v", msgs)
		}
		if ps, _ := hs.SendDue(ctx, now.Add(time.Hour), 100); len(ps) != 0 {
			t.Fatalf("a later run sent again: %+v", ps)
		}

		// Opened, then a fruit order paid: push → open → order.
		token2 := pushes[0].URL[len("/h/"):]
		opened, err := hs.Open(ctx, token2, db.Now())
		must(t, err)
		if opened.OpenedAt == nil || opened.ID != pushes[0].ID {
			t.Fatalf("opened %+v", opened)
		}
		s.lot(t, s.m, s.sku, s.store, "L-FRUIT", 72*time.Hour, 10)
		o := s.buy(t, 1)
		_, err = s.orders.Transition(ctx, s.m, o.ID, order.Paid)
		must(t, err)
		st, err := hs.Stats(ctx, s.m, now.Add(-time.Hour))
		must(t, err)
		if st.Devices != 1 || st.Households != 1 || st.Pushes != 1 || st.Opened != 1 || st.Ordered != 1 {
			t.Fatalf("stats %+v", st)
		}
		if other, _ := hs.Stats(ctx, s.other, now.Add(-time.Hour)); other.Pushes != 0 || other.Devices != 0 {
			t.Fatalf("another merchant's stats: %+v", other)
		}

		// After the category gap it may push again, unless opted out; the
		// live is over by then, so the push points at its replay.
		later := now.Add(household.CategoryGap + time.Hour)
		room.Status = live.Ended
		must(t, s.live.UpdateRoom(ctx, room))
		must(t, hs.OptOutByToken(ctx, token2))
		if off, _ := hs.OptedOut(ctx, s.m, s.cust); !off {
			t.Fatal("one-tap opt-out did not stick")
		}
		fresh := []household.Reading{{Category: "水果", Level: 0.9, At: later.Add(-48 * time.Hour)}, {Category: "水果", Level: 0.5, At: later.Add(-24 * time.Hour)}, {Category: "水果", Level: 0.15, At: later.Add(-time.Minute)}}
		_, err = hs.Ingest(ctx, identity.HashToken(token), fresh)
		must(t, err)
		if ps, _ := hs.SendDue(ctx, later, 100); len(ps) != 0 {
			t.Fatalf("an opted-out household was pushed: %+v", ps)
		}
		must(t, hs.SetOptOut(ctx, s.m, s.cust, false))
		if ps, _ := hs.SendDue(ctx, later, 100); len(ps) != 1 || ps[0].RoomID != room.ID {
			t.Fatalf("after opting in again, pushes %+v, want 1 to the replay", ps)
		}

		// Unlinking ends the token and forgets the readings.
		must(t, hs.RevokeDevice(ctx, s.m, s.cust, d.ID))
		if _, err := hs.Ingest(ctx, identity.HashToken(token), fresh[:1]); !errors.Is(err, household.ErrDeviceToken) {
			t.Fatalf("a revoked token still works: %v", err)
		}
		if n := count(t, db, `SELECT count(*) FROM household_readings WHERE device_id = ?`, d.ID); n != 0 {
			t.Fatalf("%d readings kept after unlinking", n)
		}
		if e, _ := hs.Estimates(ctx, s.m, s.cust); len(e) != 0 {
			t.Fatalf("estimates kept after unlinking the only device: %+v", e)
		}
		if err := hs.RevokeDevice(ctx, s.other, s.cust, d.ID); !errors.Is(err, household.ErrUnknownDevice) {
			t.Fatalf("revoking twice / from another merchant: %v", err)
		}
	})
}
