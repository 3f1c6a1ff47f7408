package sqldb

import (
	"context"
	"time"

	"github.com/shelflive/shelflive/internal/guides"
)

// GuideStore keeps commission rates and reads guides' attributed orders.
type GuideStore struct{ DB *DB }

var _ guides.Store = (*GuideStore)(nil)

// Rates lists the shop's commission rates: default, categories, products.
func (s *GuideStore) Rates(ctx context.Context, merchantID int64) (guides.Rates, error) {
	rows, err := s.DB.Query(ctx, `SELECT product_id, category, rate_bp FROM commission_rates WHERE merchant_id = ? ORDER BY product_id, category`, merchantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := guides.Rates{}
	for rows.Next() {
		var r guides.Rate
		if err := rows.Scan(&r.ProductID, &r.Category, &r.RateBP); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetRates replaces the rate table; a product of another shop is unknown.
func (s *GuideStore) SetRates(ctx context.Context, merchantID int64, rates guides.Rates) error {
	if err := rates.Validate(); err != nil {
		return err
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM commission_rates WHERE merchant_id = ?`, merchantID); err != nil {
			return err
		}
		for _, r := range rates {
			if r.ProductID > 0 {
				var n int
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM products WHERE merchant_id = ? AND id = ?`, merchantID, r.ProductID).Scan(&n); err != nil {
					return err
				}
				if n == 0 {
					return guides.ErrInvalidRate.At("product_id").With("没有这个商品", "No such product.")
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO commission_rates (merchant_id, product_id, category, rate_bp, updated_at) VALUES (?, ?, ?, ?, ?)`,
				merchantID, r.ProductID, r.Category, r.RateBP, ms(tx.Now)); err != nil {
				return err
			}
		}
		return nil
	})
}

// StatementOrders reads the month's orders brought by staff guides, paid in
// [from, to), with their lines and each product's category.
func (s *GuideStore) StatementOrders(ctx context.Context, merchantID int64, from, to time.Time, guideCode string) ([]guides.OrderRow, error) {
	q := `SELECT o.id, o.number, o.guide_code, st.name, o.store_id, COALESCE(sr.name, ''), o.paid_at, o.total_fen, o.refunded_fen,
			l.product_id, l.product_name, COALESCE(NULLIF(l.product_name_en, ''), p.name_en, ''), l.sku_name, COALESCE(p.category, ''), l.quantity, l.total_fen
		FROM orders o
		JOIN (SELECT guide_code, MIN(name) AS name FROM staff WHERE merchant_id = ? AND guide_code <> '' GROUP BY guide_code) st ON st.guide_code = o.guide_code
		LEFT JOIN stores sr ON sr.id = o.store_id
		JOIN order_lines l ON l.order_id = o.id
		LEFT JOIN products p ON p.id = l.product_id AND p.merchant_id = o.merchant_id
		WHERE o.merchant_id = ? AND o.guide_code <> '' AND o.paid_at >= ? AND o.paid_at < ?`
	args := []any{merchantID, merchantID, ms(from), ms(to)}
	if guideCode != "" {
		q += ` AND o.guide_code = ?`
		args = append(args, guideCode)
	}
	rows, err := s.DB.Query(ctx, q+` ORDER BY o.guide_code, o.paid_at, o.id, l.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []guides.OrderRow
	for rows.Next() {
		var o guides.OrderRow
		var l guides.OrderLine
		var paid int64
		if err := rows.Scan(&o.OrderID, &o.Number, &o.GuideCode, &o.GuideName, &o.StoreID, &o.StoreName, &paid, &o.TotalFen, &o.RefundedFen,
			&l.ProductID, &l.ProductName, &l.ProductNameEN, &l.SKUName, &l.Category, &l.Quantity, &l.TotalFen); err != nil {
			return nil, err
		}
		if n := len(out); n > 0 && out[n-1].OrderID == o.OrderID {
			out[n-1].Lines = append(out[n-1].Lines, l)
			continue
		}
		o.PaidAt = time.UnixMilli(paid).UTC()
		o.Lines = []guides.OrderLine{l}
		out = append(out, o)
	}
	return out, rows.Err()
}
