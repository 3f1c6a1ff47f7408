package sqldb

// Sales figures per store and per attribution code (the guides' sales).

import (
	"context"
	"time"

	"github.com/shelflive/shelflive/internal/order"
)

// StoreSales implements order.Store: one row per store with orders in
// [from, to), how many were paid and their revenue less refunds.
func (s *OrderStore) StoreSales(ctx context.Context, merchantID int64, from, to time.Time) ([]order.StoreSales, error) {
	rows, err := s.DB.Query(ctx, `SELECT store_id, COUNT(*),
			SUM(CASE WHEN status IN ('paid', 'ready', 'shipped', 'completed') THEN 1 ELSE 0 END),
			SUM(CASE WHEN status IN ('paid', 'ready', 'shipped', 'completed') THEN total_fen - refunded_fen ELSE 0 END)
		FROM orders WHERE merchant_id = ? AND created_at >= ? AND created_at < ?
		GROUP BY store_id ORDER BY store_id`, merchantID, ms(from), ms(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []order.StoreSales{}
	for rows.Next() {
		var x order.StoreSales
		if err := rows.Scan(&x.StoreID, &x.Orders, &x.PaidOrders, &x.GMVFen); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// GuideSales implements order.Store: one row per attribution code, with the
// guide's name and store when a staff member of the merchant has the code.
func (s *OrderStore) GuideSales(ctx context.Context, merchantID int64, from, to time.Time) ([]order.GuideSales, error) {
	rows, err := s.DB.Query(ctx, `SELECT o.guide_code, COALESCE(MAX(st.name), ''), COALESCE(MAX(st.store_id), 0), COUNT(*),
			SUM(CASE WHEN o.status IN ('paid', 'ready', 'shipped', 'completed') THEN 1 ELSE 0 END),
			SUM(CASE WHEN o.status IN ('paid', 'ready', 'shipped', 'completed') THEN o.total_fen - o.refunded_fen ELSE 0 END)
		FROM orders o LEFT JOIN staff st ON st.merchant_id = o.merchant_id AND st.guide_code = o.guide_code
		WHERE o.merchant_id = ? AND o.guide_code <> '' AND o.created_at >= ? AND o.created_at < ?
		GROUP BY o.guide_code
		ORDER BY 6 DESC, 4 DESC, o.guide_code`, merchantID, ms(from), ms(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []order.GuideSales{}
	for rows.Next() {
		var g order.GuideSales
		if err := rows.Scan(&g.GuideCode, &g.GuideName, &g.StoreID, &g.Orders, &g.PaidOrders, &g.RevenueFen); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}
