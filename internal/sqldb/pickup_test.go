package sqldb_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/stores"
)

// TestContractPickupSlots: a store with 2 orders per hourly slot; a full
// slot moves the buyer to the next, racing buyers never overfill one, a
// cancelled order gives its place back, nothing is booked when closed, and
// "ready" / "your slot ends soon" reach the buyer once.
func TestContractPickupSlots(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 12, 7, 9, 10, 0, 0, cn.Shanghai).UTC()
		db.Now = func() time.Time { return clock }
		s := newShop(t, db)
		st, err := s.repo.Store(ctx, s.m, s.store)
		must(t, err)
		st.OpenMinute, st.CloseMinute, st.SlotMinutes, st.SlotCapacity = 9*60, 12*60, 60, 2
		must(t, s.repo.UpdateStore(ctx, st))
		s.lot(t, s.m, s.sku, s.store, "S1", 10*24*time.Hour, 100)
		slot := func(h int) time.Time { return time.Date(2026, 12, 7, h, 0, 0, 0, cn.Shanghai).UTC() }
		buyAt := func(want time.Time) (*order.Order, error) {
			o := s.newOrder("", "")
			o.PickupSlotAsked = want
			_, err := s.orders.Create(ctx, o, []order.Item{{SKUID: s.sku, Quantity: 1}})
			return o, err
		}
		// 09:00 has 50 minutes left: bookable. Two fit, the third moves on.
		var got []*order.Order
		for i := 0; i < 3; i++ {
			o, err := buyAt(slot(9))
			must(t, err)
			got = append(got, o)
		}
		if !got[0].PickupSlotStart.Equal(slot(9)) || got[0].SlotMoved || !got[2].PickupSlotStart.Equal(slot(10)) || !got[2].SlotMoved {
			t.Fatalf("slots %v %v moved=%v", got[0].PickupSlotStart, got[2].PickupSlotStart, got[2].SlotMoved)
		}
		again, err := s.orders.Get(ctx, s.m, got[2].ID)
		must(t, err)
		if !again.SlotMoved || again.PickupSlotLabel != "12-07 10:00–11:00" {
			t.Fatalf("stored slot %+v", again)
		}
		// Closed (08:00) or off the grid: refused.
		_, err = buyAt(time.Date(2026, 12, 7, 8, 0, 0, 0, cn.Shanghai).UTC())
		wantCode(t, err, "pickup_slot_closed")
		// Racing buyers for the rest of today's places: never more than 2 a slot.
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); buyAt(slot(10)) }()
		}
		wg.Wait()
		if n := count(t, db, `SELECT count(*) FROM orders WHERE pickup_slot_start = ? AND status <> 'cancelled'`, slot(10).UnixMilli()); n != 2 {
			t.Fatalf("%d orders in the 10:00 slot", n)
		}
		if n := count(t, db, `SELECT COALESCE(MAX(taken), 0) FROM pickup_slots`); n > 2 {
			t.Fatalf("a slot holds %d", n)
		}
		// The slots endpoint's view: 09:00 and 10:00 full.
		_, slots, err := (&sqldb.PickupStore{DB: db}).Slots(ctx, s.m, s.store, clock)
		must(t, err)
		if slots[0].Left != 0 || slots[1].Left != 0 {
			t.Fatalf("left %+v", slots)
		}
		// Cancelling gives the place back.
		_, err = s.move(ctx, got[0].ID, order.Cancelled)
		must(t, err)
		o, err := buyAt(slot(9))
		must(t, err)
		if !o.PickupSlotStart.Equal(slot(9)) {
			t.Fatalf("after a cancel: %v", o.PickupSlotStart)
		}
		// Ready tells the buyer once; "slot ends soon" 30 minutes before the end, once.
		_, err = s.move(ctx, got[1].ID, order.Paid)
		must(t, err)
		_, err = s.move(ctx, got[1].ID, order.Ready)
		must(t, err)
		if n := count(t, db, `SELECT count(*) FROM inbox WHERE kind = 'order.ready' AND url = ?`, "/orders/"+itoa64(got[1].ID)); n != 1 {
			t.Fatalf("%d ready messages", n)
		}
		ps := &sqldb.PickupStore{DB: db}
		n, err := ps.RemindSlotsEnding(ctx, clock, stores.SlotEndingSoon)
		must(t, err)
		if n != 0 {
			t.Fatalf("reminded %d with 50 minutes left", n)
		}
		clock = clock.Add(25 * time.Minute)
		n, err = ps.RemindSlotsEnding(ctx, clock, stores.SlotEndingSoon)
		must(t, err)
		n2, _ := ps.RemindSlotsEnding(ctx, clock, stores.SlotEndingSoon)
		if n != 1 || n2 != 0 { // only the paid/ready order of the 09:00 slot
			t.Fatalf("slot-ending reminders %d then %d", n, n2)
		}
		// A store fully booked for two days refuses.
		st.SlotCapacity = 1
		st.OpenMinute, st.CloseMinute = 13*60, 14*60 // slots nobody booked yet
		must(t, s.repo.UpdateStore(ctx, st))
		for i := 0; i < 2; i++ {
			_, err := buyAt(time.Time{})
			must(t, err)
		}
		_, err = buyAt(time.Time{})
		wantCode(t, err, "pickup_slots_full")
	})
}

func itoa64(v int64) string { return strconv.FormatInt(v, 10) }
