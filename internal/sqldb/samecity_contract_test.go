package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/stores"
)

// TestContractSameCity: a shop that delivers same-city charges the fee of
// the tier covering the distance from the nearest store whose radius
// covers the buyer's point (free over its amount), refuses points beyond
// every radius and orders without a point, and books delivery slots with
// the pickup slots' code: a full slot moves the buyer on, a cancel gives
// the place back, and pickup slots are counted apart. Both databases.
func TestContractSameCity(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		s.lot(t, s.m, s.sku, s.shipper, "SC", 72*time.Hour, 50)
		st, err := s.repo.Store(ctx, s.m, s.shipper)
		must(t, err)
		// Open all day so the test does not depend on the hour it runs.
		st.OpenMinute, st.CloseMinute, st.SlotMinutes = 0, 24*60, 60
		st.DeliveryRadiusM, st.DeliveryFreeOverFen, st.DeliverySlotCapacity = 5000, 10*price, 1
		st.DeliveryTiers = []stores.FeeTier{{MaxM: 3000, FeeFen: 500}, {MaxM: 5000, FeeFen: 800}}
		must(t, s.repo.UpdateStore(ctx, st))
		bad := *st
		bad.DeliveryTiers = []stores.FeeTier{{MaxM: 3000, FeeFen: 500}} // does not reach the radius
		wantCode(t, s.repo.UpdateStore(ctx, &bad), "invalid_delivery_settings")

		buy := func(lat, lng float64, qty int64, slot time.Time) (*order.Order, error) {
			o := s.newOrder("", "")
			o.Fulfilment, o.ContactName, o.Address, o.StoreID = order.Delivery, "张三", "上海市闵行区 3 号", 0
			if lat != 0 {
				o.DeliveryLat, o.DeliveryLng = &lat, &lng
			}
			o.PickupSlotAsked = slot
			_, err := s.orders.Create(ctx, o, []order.Item{{SKUID: s.sku, Quantity: qty}})
			return o, err
		}
		// ~2 km north of the store: the first tier.
		near, err := buy(st.Lat+0.018, st.Lng, 1, time.Time{})
		must(t, err)
		if near.StoreID != s.shipper || near.DeliveryFeeFen != 500 || near.TotalFen != price+500 || near.DistanceM < 1900 || near.DistanceM > 2100 {
			t.Fatalf("near order: store %d fee %d total %d distance %d", near.StoreID, near.DeliveryFeeFen, near.TotalFen, near.DistanceM)
		}
		got, err := s.orders.Get(ctx, s.m, near.ID)
		must(t, err)
		if got.DeliveryFeeFen != 500 || got.DeliveryLat == nil || *got.DeliveryLat != st.Lat+0.018 || got.PickupSlotStart == nil {
			t.Fatalf("stored near order %+v", got)
		}
		// ~4 km: the second tier; the first slot is full, so the next one.
		far, err := buy(st.Lat+0.036, st.Lng, 1, *got.PickupSlotStart)
		must(t, err)
		if far.DeliveryFeeFen != 800 || !far.SlotMoved || !far.PickupSlotStart.After(*got.PickupSlotStart) {
			t.Fatalf("far order: fee %d moved %v slot %v", far.DeliveryFeeFen, far.SlotMoved, far.PickupSlotStart)
		}
		// Free over the amount.
		big, err := buy(st.Lat+0.036, st.Lng, 10, time.Time{})
		must(t, err)
		if big.DeliveryFeeFen != 0 || big.TotalFen != 10*price {
			t.Fatalf("free delivery: fee %d total %d", big.DeliveryFeeFen, big.TotalFen)
		}
		_, err = buy(st.Lat+0.08, st.Lng, 1, time.Time{}) // ~9 km
		wantCode(t, err, "beyond_delivery_radius")
		_, err = buy(0, 0, 1, time.Time{})
		wantCode(t, err, "delivery_point_required")

		// A cancel gives the delivery slot back; pickup slots are apart.
		taken := func(table string) int64 {
			return count(t, db, `SELECT COALESCE(SUM(taken), 0) FROM `+table+` WHERE store_id = ?`, s.shipper)
		}
		if taken("delivery_slots") != 3 || taken("pickup_slots") != 0 {
			t.Fatalf("slots taken: delivery %d pickup %d", taken("delivery_slots"), taken("pickup_slots"))
		}
		_, err = s.orders.Transition(ctx, s.m, near.ID, order.Cancelled)
		must(t, err)
		if taken("delivery_slots") != 2 {
			t.Fatalf("cancel kept its delivery slot: %d", taken("delivery_slots"))
		}
		again, err := buy(st.Lat+0.018, st.Lng, 1, *got.PickupSlotStart)
		must(t, err)
		if again.SlotMoved || !again.PickupSlotStart.Equal(*got.PickupSlotStart) {
			t.Fatalf("the freed slot was not booked: %+v", again.PickupSlotStart)
		}
		// The slots a buyer is offered count the same places.
		ps := &sqldb.PickupStore{DB: db}
		_, slots, err := ps.SlotsOf(ctx, stores.DeliverySlots, s.m, s.shipper, db.Now())
		must(t, err)
		if len(slots) == 0 || !slots[0].Start.Equal(*got.PickupSlotStart) || slots[0].Left != 0 {
			t.Fatalf("delivery slots %+v", slots[:min(2, len(slots))])
		}
	})
}
