package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/stores"
)

// slotTable is where each kind of slot counts its orders.
var slotTable = map[stores.SlotKind]string{stores.PickupSlots: "pickup_slots", stores.DeliverySlots: "delivery_slots"}

// slotKind is the kind of slot an order books: a pickup's, or a same-city
// delivery's (a courier's parcel has none).
func slotKind(o *order.Order) (stores.SlotKind, bool) {
	switch {
	case o.Fulfilment == order.Pickup:
		return stores.PickupSlots, true
	case o.DeliveryLat != nil:
		return stores.DeliverySlots, true
	}
	return "", false
}

// bookSlot books the order into its store's pickup (or same-city delivery)
// slot, in the order's transaction: the slot the buyer asked for, or —
// when it is full — the next one with room (the buyer is told:
// SlotMoved). Each slot's count is raised by a guarded UPDATE (taken <
// capacity), so two buyers racing for the last place cannot both get it,
// on SQLite or PostgreSQL. A store without slots books nothing.
func bookSlot(ctx context.Context, tx *Tx, o *order.Order) error {
	kind, ok := slotKind(o)
	if !ok {
		return nil
	}
	st, err := scanStore(tx.QueryRow(ctx, `SELECT `+storeCols+` FROM stores WHERE id = ?`, o.StoreID))
	if err != nil {
		return err
	}
	if st.Capacity(kind) <= 0 {
		return nil
	}
	slots, err := st.SlotsFromOf(kind, tx.Now, o.PickupSlotAsked)
	if err != nil {
		if kind == stores.DeliverySlots {
			return stores.ErrSlotClosed.At("delivery_slot")
		}
		return err
	}
	table := slotTable[kind]
	for _, sl := range slots {
		if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (store_id, slot_start, taken) VALUES (?, ?, 0) ON CONFLICT (store_id, slot_start) DO NOTHING`, st.ID, ms(sl.Start)); err != nil {
			return err
		}
		n, err := rowsAffected(tx.Exec(ctx, `UPDATE `+table+` SET taken = taken + 1 WHERE store_id = ? AND slot_start = ? AND taken < ?`, st.ID, ms(sl.Start), st.Capacity(kind)))
		if err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		asked := sql.NullInt64{}
		if !o.PickupSlotAsked.IsZero() {
			asked = sql.NullInt64{Int64: ms(o.PickupSlotAsked), Valid: true}
		}
		if _, err := tx.Exec(ctx, `UPDATE orders SET pickup_slot_start = ?, pickup_slot_end = ?, pickup_slot_requested = ? WHERE id = ?`,
			ms(sl.Start), ms(sl.End), asked, o.ID); err != nil {
			return err
		}
		start, end := sl.Start, sl.End
		o.PickupSlotStart, o.PickupSlotEnd, o.PickupSlotLabel = &start, &end, sl.Label
		o.SlotMoved = asked.Valid && !start.Equal(o.PickupSlotAsked)
		return nil
	}
	if kind == stores.DeliverySlots {
		return stores.ErrSlotsFull.With("近两天的配送时段都已约满", "Every delivery slot of the next two days is full.")
	}
	return stores.ErrSlotsFull
}

// releaseSlot gives a cancelled or expired order's slot place back.
func releaseSlot(ctx context.Context, tx *Tx, o *order.Order) error {
	kind, ok := slotKind(o)
	if o.PickupSlotStart == nil || !ok {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE `+slotTable[kind]+` SET taken = taken - 1 WHERE store_id = ? AND slot_start = ? AND taken > 0`, o.StoreID, ms(*o.PickupSlotStart))
	return err
}

// readyMessage tells the buyer their pickup order is ready (and when to
// come), once, in the transaction that marks it ready.
func readyMessage(ctx context.Context, tx *Tx, o *order.Order) error {
	if o.Fulfilment != order.Pickup {
		return nil
	}
	var name string
	if err := tx.QueryRow(ctx, `SELECT name FROM stores WHERE id = ?`, o.StoreID).Scan(&name); err != nil {
		return err
	}
	body, bodyEN := fmt.Sprintf("订单 %s 已备好，请凭取货码到 %s 取货", o.Number, name), fmt.Sprintf("Order %s is ready: pick it up at %s with your code.", o.Number, name)
	if o.PickupSlotStart != nil {
		body += "（时段 " + o.PickupSlotLabel + "）"
		bodyEN += " Your slot: " + o.PickupSlotLabel + " (China time)."
	}
	return orderMessage(ctx, tx, o, "order.ready", "订单已备好 Ready for pickup", body, bodyEN, "ready")
}

func orderMessage(ctx context.Context, tx *Tx, o *order.Order, kind, title, body, bodyEN, step string) error {
	_, err := tx.Exec(ctx, `INSERT INTO inbox (merchant_id, customer_id, kind, room_id, title, body, body_en, url, dedupe_key, created_at)
		VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id, dedupe_key) DO NOTHING`,
		o.MerchantID, o.CustomerID, kind, title, body, bodyEN, "/orders/"+strconv.FormatInt(o.ID, 10), "order:"+strconv.FormatInt(o.ID, 10)+":"+step, ms(tx.Now))
	return err
}

// PickupStore answers pickup-slot questions and sends slot reminders.
type PickupStore struct{ DB *DB }

// Slots lists the store's bookable pickup slots from now with the places left.
func (s *PickupStore) Slots(ctx context.Context, merchantID, storeID int64, now time.Time) (*stores.Store, []stores.Slot, error) {
	return s.SlotsOf(ctx, stores.PickupSlots, merchantID, storeID, now)
}

// SlotsOf lists the store's bookable pickup or delivery slots from now
// with the places left.
func (s *PickupStore) SlotsOf(ctx context.Context, kind stores.SlotKind, merchantID, storeID int64, now time.Time) (*stores.Store, []stores.Slot, error) {
	st, err := scanStore(s.DB.QueryRow(ctx, `SELECT `+storeCols+` FROM stores WHERE merchant_id = ? AND id = ?`, merchantID, storeID))
	if err != nil {
		return nil, nil, absentAs(err, stores.ErrUnknownStore)
	}
	slots := st.SlotTimesOf(kind, now)
	if len(slots) == 0 {
		return st, []stores.Slot{}, nil
	}
	taken := map[int64]int64{}
	rows, err := s.DB.Query(ctx, `SELECT slot_start, taken FROM `+slotTable[kind]+` WHERE store_id = ? AND slot_start >= ?`, storeID, ms(slots[0].Start))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var at, n int64
		if err := rows.Scan(&at, &n); err != nil {
			return nil, nil, err
		}
		taken[at] = n
	}
	for i := range slots {
		slots[i].Left = max(0, st.Capacity(kind)-taken[ms(slots[i].Start)])
	}
	return st, slots, rows.Err()
}

// RemindSlotsEnding writes "your slot ends soon" to every buyer whose paid
// or ready pickup order's slot ends within lead of now, once per order
// (the inbox's dedupe key), in one statement however many nodes run it.
func (s *PickupStore) RemindSlotsEnding(ctx context.Context, now time.Time, lead time.Duration) (int64, error) {
	var n int64
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		var err error
		n, err = rowsAffected(tx.Exec(ctx, `INSERT INTO inbox (merchant_id, customer_id, kind, room_id, title, body, body_en, url, dedupe_key, created_at)
			SELECT o.merchant_id, o.customer_id, 'order.slot_ending', 0, '取货时段即将结束 Your pickup slot ends soon',
				'订单 ' || o.number || ' 的取货时段即将结束，请尽快到店取货', 'Your pickup slot for order ' || o.number || ' ends soon; please come and collect it.',
				'/orders/' || CAST(o.id AS TEXT), 'order:' || CAST(o.id AS TEXT) || ':slot_ending', ?
			FROM orders o WHERE o.fulfilment = 'pickup' AND o.status IN ('paid', 'ready') AND o.pickup_slot_end > ? AND o.pickup_slot_end <= ?
			ON CONFLICT (customer_id, dedupe_key) DO NOTHING`, ms(now), ms(now), ms(now.Add(lead))))
		return err
	})
	return n, err
}
