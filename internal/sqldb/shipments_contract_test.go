package sqldb_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/delivery"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractShipments: shipping a paid delivery order records the
// carrier and number with the move (stock leaves once, audit, inbox); a
// retry changes nothing, a correction is audited; polls are claimed once;
// a provider's repeated history adds each entry once; two deliveries
// racing (two nodes, or staff and the provider) complete the order once;
// nothing is added after delivery. On SQLite and PostgreSQL.
func TestContractShipments(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		ships := &sqldb.ShipmentStore{DB: db}
		lot := s.lot(t, s.m, s.sku, s.shipper, "D1", 72*time.Hour, 10)
		s.lot(t, s.m, s.sku, s.store, "P1", 72*time.Hour, 5)
		o := s.buyFor(t, 2, order.Delivery)
		ship := func(carrier, no string) (*delivery.Shipment, error) {
			return ships.Ship(ctx, delivery.Ship{MerchantID: s.m, OrderID: o.ID, Carrier: carrier, TrackingNo: no, Actor: "clerk"})
		}
		audits := func(action string) int64 {
			return count(t, db, `SELECT count(*) FROM audit_log WHERE merchant_id = ? AND action = ?`, s.m, action)
		}
		inbox := func(step string) int64 {
			return count(t, db, `SELECT count(*) FROM inbox WHERE customer_id = ? AND dedupe_key = ?`, s.cust, "order:"+itoa64(o.ID)+":"+step)
		}

		_, err := ship("zhongtong", "751234567890")
		wantCode(t, err, "invalid_transition") // not paid yet
		_, err = s.orders.Transition(ctx, s.m, o.ID, order.Paid)
		must(t, err)
		_, err = ship("dhl", "751234567890")
		wantCode(t, err, "unknown_carrier")
		_, err = ship("shunfeng", "75123456789")
		wantCode(t, err, "invalid_tracking_no")
		_, err = ships.Ship(ctx, delivery.Ship{MerchantID: s.other, OrderID: o.ID, Carrier: "zhongtong", TrackingNo: "751234567890"})
		wantCode(t, err, "not_found")
		_, err = ships.Ship(ctx, delivery.Ship{MerchantID: s.m, OrderID: o.ID, StoreID: s.store, Carrier: "zhongtong", TrackingNo: "751234567890"})
		wantCode(t, err, "not_found") // staff of another store
		pickup := s.buy(t, 1)
		_, err = s.orders.Transition(ctx, s.m, pickup.ID, order.Paid)
		must(t, err)
		_, err = ships.Ship(ctx, delivery.Ship{MerchantID: s.m, OrderID: pickup.ID, Carrier: "zhongtong", TrackingNo: "751234567890"})
		wantCode(t, err, "pickup_not_shipped")

		sh, err := ship("shunfeng", " sf 1234567890123 ")
		must(t, err)
		if sh.TrackingNo != "SF1234567890123" || sh.Stage != delivery.StageCollected || len(sh.Events) != 1 || sh.Delivered {
			t.Fatalf("shipment %+v", sh)
		}
		got, err := s.orders.Get(ctx, s.m, o.ID)
		must(t, err)
		if got.Status != order.Shipped || got.ShippedAt == nil {
			t.Fatalf("order after shipping: %+v", got)
		}
		if lv := s.level(t, s.shipper, lot); lv.OnHand != 8 || lv.Reserved != 0 {
			t.Fatalf("stock after shipping: %+v", lv)
		}
		if _, err := ship("shunfeng", "SF1234567890123"); err != nil { // a retry
			t.Fatal(err)
		}
		if audits("order.ship") != 1 || inbox("shipped") != 1 || audits("order.ship_correct") != 0 {
			t.Fatal("shipping audited or told more or less than once")
		}
		if sh, err = ship("zhongtong", "751234567890"); err != nil || sh.Carrier != "zhongtong" || audits("order.ship_correct") != 1 {
			t.Fatalf("correction: %+v %v", sh, err)
		}
		if lv := s.level(t, s.shipper, lot); lv.OnHand != 8 {
			t.Fatalf("a correction moved stock: %+v", lv)
		}

		// Polls: claimed once per lease.
		now := db.Now()
		due, err := ships.ClaimPolls(ctx, now, 5*time.Minute, 10)
		must(t, err)
		if len(due) != 1 || due[0].ID != sh.ID || due[0].Phone != o.ContactPhone {
			t.Fatalf("claimed %+v", due)
		}
		if again, err := ships.ClaimPolls(ctx, now, 5*time.Minute, 10); err != nil || len(again) != 0 {
			t.Fatalf("claimed twice: %+v %v", again, err)
		}
		must(t, ships.Polled(ctx, sh.ID, now, now.Add(-time.Second), 2, "HTTP 502"))
		if due, _ := ships.ClaimPolls(ctx, now, time.Minute, 10); len(due) != 1 || due[0].PollFailures != 2 {
			t.Fatalf("due again after a failure: %+v", due)
		}

		// The provider repeats its history: each entry once.
		t0 := now.Truncate(time.Second)
		evs := []delivery.Event{
			{At: t0.Add(time.Hour), Stage: delivery.StageDelivering, Text: "派件中", Source: "kuaidi100"},
			{At: t0.Add(30 * time.Minute), Stage: delivery.StageInTransit, Text: "到达营业点", Location: "上海", Source: "kuaidi100"},
		}
		for range 2 {
			sh, err = ships.AddEvents(ctx, s.m, sh.ID, evs, delivery.StageDelivering, delivery.TrackerActor)
			must(t, err)
		}
		if len(sh.Events) != 4 || sh.Events[0].Text != "派件中" || sh.Stage != delivery.StageDelivering {
			t.Fatalf("timeline %+v", sh.Events)
		}
		_, err = ships.AddEvents(ctx, s.other, sh.ID, evs, delivery.StageDelivering, delivery.TrackerActor)
		wantCode(t, err, "shipment_not_found")

		// Delivered by the provider and by staff at once: completed once.
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					_, errs[i] = ships.AddEvents(ctx, s.m, sh.ID, []delivery.Event{{At: t0.Add(2 * time.Hour), Stage: delivery.StageDelivered, Text: "已签收", Source: "kuaidi100"}},
						delivery.StageDelivered, delivery.TrackerActor)
					return
				}
				u := delivery.Update{MerchantID: s.m, OrderID: o.ID, Event: delivery.Event{Stage: delivery.StageDelivered, Text: "骑手确认送达"}, Actor: "clerk"}
				must(t, u.Validate(db.Now()))
				_, errs[i] = ships.Record(ctx, u)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil && !apperr.Is(err, "shipment_delivered") && !apperr.Is(err, "busy_retry") {
				t.Fatalf("racing deliveries: %v", err)
			}
		}
		got, err = s.orders.Get(ctx, s.m, o.ID)
		must(t, err)
		if got.Status != order.Completed || got.CompletedAt == nil {
			t.Fatalf("delivered order: %+v", got)
		}
		if audits("order.delivered") != 1 || inbox("delivered") != 1 {
			t.Fatalf("delivery audited %d, told %d times", audits("order.delivered"), inbox("delivered"))
		}
		sh, err = ships.Shipment(ctx, s.m, o.ID)
		must(t, err)
		if !sh.Delivered || sh.Stage != delivery.StageDelivered {
			t.Fatalf("closed shipment %+v", sh)
		}
		if due, _ := ships.ClaimPolls(ctx, now.Add(24*time.Hour), time.Minute, 10); len(due) != 0 {
			t.Fatalf("a delivered parcel is still polled: %+v", due)
		}
		u := delivery.Update{MerchantID: s.m, OrderID: o.ID, Event: delivery.Event{Stage: delivery.StageProblem, Text: "late"}, Actor: "clerk"}
		must(t, u.Validate(db.Now()))
		_, err = ships.Record(ctx, u)
		wantCode(t, err, "shipment_delivered")
		_, err = ship("shunfeng", "SF1234567890123")
		wantCode(t, err, "shipment_delivered")
		if lv := s.level(t, s.shipper, lot); lv.OnHand != 8 {
			t.Fatalf("completing a shipped order moved stock again: %+v", lv)
		}
	})
}
