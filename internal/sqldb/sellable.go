package sqldb

import (
	"context"
	"slices"

	"github.com/shelflive/shelflive/internal/inventory"
)

// checkSellable applies inventory.Sellable to the lots a sale is about to
// take units from, inside the transaction that writes the sale: every sale
// path (ordinary orders, flash-sale batches, the naive flash baseline, and
// any later coupon or pre-sale path) calls it, so a lot on hold is never
// sold, whatever allocated it. On PostgreSQL the lot rows are read FOR SHARE:
// a hold (UPDATE lots) that commits meanwhile either is seen here, or waits
// for this sale to commit and then cancels its unpaid order (the holder
// releases unpaid reservations on the lot after the hold).
func checkSellable(ctx context.Context, tx *Tx, takes []inventory.Take) error {
	bad, err := unsellableLots(ctx, tx, takes)
	if err != nil {
		return err
	}
	var first error
	for _, e := range bad {
		if e == inventory.ErrLotOnHold {
			return e // the reason a buyer can wait out
		}
		first = e
	}
	return first
}

// unsellableLots returns, per lot of takes that may not be sold now, why not.
func unsellableLots(ctx context.Context, tx *Tx, takes []inventory.Take) (map[int64]error, error) {
	if len(takes) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(takes))
	for _, t := range takes {
		ids = append(ids, t.LotID)
	}
	slices.Sort(ids) // one lock order for every caller
	ids = slices.Compact(ids)
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.Query(ctx, `SELECT id, hold, expires_at FROM lots WHERE id IN (`+placeholders(len(ids))+`) ORDER BY id`+tx.db.forShare(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	bad := map[int64]error{}
	for rows.Next() {
		var id, exp int64
		var hold bool
		if err := rows.Scan(&id, &hold, &exp); err != nil {
			return nil, err
		}
		if err := inventory.Sellable(hold, fromMS(exp), tx.Now); err != nil {
			bad[id] = err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	// The units of a lot held in the store they are taken from (an
	// excursion at that store's fridge) are not sellable there either.
	for _, t := range takes {
		if bad[t.LotID] != nil {
			continue
		}
		var exp int64
		var hold bool
		if err := tx.QueryRow(ctx, `SELECT st.hold, l.expires_at FROM stock st JOIN lots l ON l.id = st.lot_id WHERE st.store_id = ? AND st.lot_id = ?`, t.StoreID, t.LotID).Scan(&hold, &exp); err != nil {
			continue // no stock row: the reservation below refuses it
		}
		if err := inventory.Sellable(hold, fromMS(exp), tx.Now); err != nil {
			bad[t.LotID] = err
		}
	}
	return bad, nil
}

// HeldLots implements inventory.Store: the lots among ids that are on hold
// now (a running flash sale over one of them pauses).
func (s *InventoryStore) HeldLots(ctx context.Context, merchantID, storeID int64, ids []int64) ([]inventory.Lot, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{merchantID}
	for _, id := range ids {
		args = append(args, id)
	}
	args = append(args, storeID)
	rows, err := s.DB.Query(ctx, `SELECT `+lotCols+` FROM lots WHERE merchant_id = ? AND id IN (`+placeholders(len(ids))+`)
		AND (hold = TRUE OR EXISTS (SELECT 1 FROM stock st WHERE st.lot_id = lots.id AND st.store_id = ? AND st.hold = TRUE)) ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []inventory.Lot
	for rows.Next() {
		l, err := scanLot(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *l)
	}
	return out, rows.Err()
}

// firstUnsellable is why takes may not be sold, given unsellableLots.
func firstUnsellable(takes []inventory.Take, bad map[int64]error) error {
	for _, t := range takes {
		if e := bad[t.LotID]; e != nil {
			return e
		}
	}
	return nil
}

// HeldLots implements order.Store.
func (s *OrderStore) HeldLots(ctx context.Context, merchantID, orderID int64) ([]string, error) {
	return heldLotsOfOrder(ctx, s.DB, merchantID, orderID)
}

// heldLotsOfOrder lists the codes of lots on hold that an order's reserved
// (not yet handed over) units come from.
func heldLotsOfOrder(ctx context.Context, q querier, merchantID, orderID int64) ([]string, error) {
	return queryColumn[string](ctx, q, `SELECT DISTINCT l.code FROM allocations a JOIN lots l ON l.id = a.lot_id JOIN orders o ON o.id = a.order_id
		LEFT JOIN stock st ON st.store_id = a.store_id AND st.lot_id = a.lot_id
		WHERE o.merchant_id = ? AND a.order_id = ? AND a.state = 'reserved' AND (l.hold = TRUE OR st.hold = TRUE) ORDER BY l.code`, merchantID, orderID)
}
