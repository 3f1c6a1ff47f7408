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

// bookSlot books the order into its store's pickup slot, in the order's
// transaction: the slot the buyer asked for, or — when it is full — the
// next one with room (the buyer is told: SlotMoved). Each slot's count is
// raised by a guarded UPDATE (taken < capacity), so two buyers racing for
// the last place cannot both get it, on SQLite or PostgreSQL. A store
// without slots books nothing.
func bookSlot(ctx context.Context, tx *Tx, o *order.Order) error {
	st, err := scanStore(tx.QueryRow(ctx, `SELECT `+storeCols+` FROM stores WHERE id = ?`, o.StoreID))
	if err != nil {
		return err
	}
	if !st.SlotsOn() {
		return nil
	}
	slots, err := st.SlotsFrom(tx.Now, o.PickupSlotAsked)
	if err != nil {
		return err
	}
	for _, sl := range slots {
		if _, err := tx.Exec(ctx, `INSERT INTO pickup_slots (store_id, slot_start, taken) VALUES (?, ?, 0) ON CONFLICT (store_id, slot_start) DO NOTHING`, st.ID, ms(sl.Start)); err != nil {
			return err
		}
		n, err := rowsAffected(tx.Exec(ctx, `UPDATE pickup_slots SET taken = taken + 1 WHERE store_id = ? AND slot_start = ? AND taken < ?`, st.ID, ms(sl.Start), st.SlotCapacity))
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
	return stores.ErrSlotsFull
}

// releaseSlot gives a cancelled or expired order's slot place back.
func releaseSlot(ctx context.Context, tx *Tx, o *order.Order) error {
	if o.PickupSlotStart == nil {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE pickup_slots SET taken = taken - 1 WHERE store_id = ? AND slot_start = ? AND taken > 0`, o.StoreID, ms(*o.PickupSlotStart))
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

// Slots lists the store's bookable slots from now with the places left.
func (s *PickupStore) Slots(ctx context.Context, merchantID, storeID int64, now time.Time) (*stores.Store, []stores.Slot, error) {
	st, err := scanStore(s.DB.QueryRow(ctx, `SELECT `+storeCols+` FROM stores WHERE merchant_id = ? AND id = ?`, merchantID, storeID))
	if err != nil {
		return nil, nil, stores.ErrUnknownStore
	}
	slots := st.SlotTimes(now)
	if len(slots) == 0 {
		return st, []stores.Slot{}, nil
	}
	taken := map[int64]int64{}
	rows, err := s.DB.Query(ctx, `SELECT slot_start, taken FROM pickup_slots WHERE store_id = ? AND slot_start >= ?`, storeID, ms(slots[0].Start))
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
		slots[i].Left = max(0, st.SlotCapacity-taken[ms(slots[i].Start)])
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
			FROM orders o WHERE o.status IN ('paid', 'ready') AND o.pickup_slot_end > ? AND o.pickup_slot_end <= ?
			ON CONFLICT (customer_id, dedupe_key) DO NOTHING`, ms(now), ms(now), ms(now.Add(lead))))
		return err
	})
	return n, err
}
