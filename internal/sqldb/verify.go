package sqldb

import (
	"context"
	"fmt"
)

// VerifyStock checks the stock invariant for every store×lot: the reserved
// units equal what orders and flash sales hold, and 0 ≤ reserved ≤ on_hand.
// Crash tests run it after every restart; operators can run it too.
//
//	reserved = Σ reserved allocations of ordinary orders
//	         + Σ reserved allocations of ended flash sales' orders
//	         + Σ over running sales (sale quota − units already handed over)
func (db *DB) VerifyStock(ctx context.Context) error {
	rows, err := db.Query(ctx, `SELECT st.store_id, st.lot_id, st.on_hand, st.reserved,
		COALESCE((SELECT SUM(a.quantity) FROM allocations a LEFT JOIN flash_sales f ON f.id = a.sale_id
		          WHERE a.store_id = st.store_id AND a.lot_id = st.lot_id AND a.state = 'reserved' AND (a.sale_id IS NULL OR f.status <> 'running')), 0),
		COALESCE((SELECT SUM(q.quantity) FROM flash_quota q JOIN flash_sales f ON f.id = q.sale_id
		          WHERE q.store_id = st.store_id AND q.lot_id = st.lot_id AND f.status = 'running'), 0),
		COALESCE((SELECT SUM(a.quantity) FROM allocations a JOIN flash_sales f ON f.id = a.sale_id
		          WHERE a.store_id = st.store_id AND a.lot_id = st.lot_id AND a.state = 'consumed' AND f.status = 'running'), 0)
		FROM stock st`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var store, lot, onHand, reserved, held, quota, handed int64
		if err := rows.Scan(&store, &lot, &onHand, &reserved, &held, &quota, &handed); err != nil {
			return err
		}
		want := held + quota - handed
		if reserved != want || reserved < 0 || reserved > onHand {
			return fmt.Errorf("stock invariant broken at store %d lot %d: on_hand %d reserved %d, orders and sales hold %d", store, lot, onHand, reserved, want)
		}
	}
	return rows.Err()
}
