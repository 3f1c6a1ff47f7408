package sqldb

// The regulator's records: purchases, sales and the lots in a time range.

import (
	"context"

	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/identity"
)

func exportWhere(f coldchain.ExportFilter, timeCol string) (string, []any) {
	if f.LotID > 0 {
		return ` AND l.id = ?`, []any{f.LotID}
	}
	return ` AND ` + timeCol + ` >= ? AND ` + timeCol + ` < ?`, []any{ms(f.From), ms(f.To)}
}

// PurchaseRecords implements coldchain.ExportStore: one line per lot and
// store; the quantity received is what is on hand plus what left the shelf.
func (s *ColdChainStore) PurchaseRecords(ctx context.Context, f coldchain.ExportFilter) ([]coldchain.PurchaseRecord, error) {
	where, args := exportWhere(f, "l.created_at")
	rows, err := s.DB.Query(ctx, `SELECT l.created_at, p.name, k.name, k.gtin, l.code, l.produced_at, l.expires_at, l.origin, so.name,
		st.on_hand + COALESCE((SELECT SUM(a.quantity) FROM allocations a WHERE a.lot_id = st.lot_id AND a.store_id = st.store_id AND a.state = 'consumed'), 0),
		l.hold, l.hold_reason
		FROM stock st JOIN lots l ON l.id = st.lot_id JOIN skus k ON k.id = l.sku_id JOIN products p ON p.id = k.product_id JOIN stores so ON so.id = st.store_id
		WHERE st.merchant_id = ?`+where+` ORDER BY l.created_at, l.id, so.id`, append([]any{f.MerchantID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []coldchain.PurchaseRecord{}
	for rows.Next() {
		var r coldchain.PurchaseRecord
		var rec, p, e int64
		if err := rows.Scan(&rec, &r.Product, &r.Spec, &r.GTIN, &r.LotCode, &p, &e, &r.Origin, &r.Store, &r.Quantity, &r.Hold, &r.HoldReason); err != nil {
			return nil, err
		}
		r.ReceivedAt, r.ProducedAt, r.ExpiresAt = fromMS(rec), fromMS(p), fromMS(e)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaleRecords implements coldchain.ExportStore: paid (or handed over)
// orders' allocations per lot.
func (s *ColdChainStore) SaleRecords(ctx context.Context, f coldchain.ExportFilter) ([]coldchain.SaleRecord, error) {
	where, args := exportWhere(f, "COALESCE(o.paid_at, o.created_at)")
	rows, err := s.DB.Query(ctx, `SELECT COALESCE(o.paid_at, o.created_at), o.number, p.name, k.name, k.gtin, l.code, l.produced_at, l.expires_at,
		a.quantity, so.name, o.contact_phone, o.status
		FROM allocations a JOIN orders o ON o.id = a.order_id JOIN lots l ON l.id = a.lot_id JOIN skus k ON k.id = l.sku_id
		JOIN products p ON p.id = k.product_id JOIN stores so ON so.id = a.store_id
		WHERE o.merchant_id = ? AND o.status IN ('paid', 'ready', 'shipped', 'completed')`+where+` ORDER BY 1, o.id`, append([]any{f.MerchantID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []coldchain.SaleRecord{}
	for rows.Next() {
		var r coldchain.SaleRecord
		var sold, p, e int64
		var phone string
		if err := rows.Scan(&sold, &r.Order, &r.Product, &r.Spec, &r.GTIN, &r.LotCode, &p, &e, &r.Quantity, &r.Store, &phone, &r.Status); err != nil {
			return nil, err
		}
		r.SoldAt, r.ProducedAt, r.ExpiresAt = fromMS(sold), fromMS(p), fromMS(e)
		if phone != "" {
			phone = identity.MaskPhone(phone) // the rule of app.OrderView for staff without customer.pii
		}
		r.Buyer = phone
		out = append(out, r)
	}
	return out, rows.Err()
}

// LotsInRange implements coldchain.ExportStore.
func (s *ColdChainStore) LotsInRange(ctx context.Context, f coldchain.ExportFilter) ([]int64, error) {
	where, args := exportWhere(f, "l.created_at")
	return queryIDs(ctx, s.DB, `SELECT l.id FROM lots l WHERE l.merchant_id = ?`+where+` ORDER BY l.id LIMIT 5000`, append([]any{f.MerchantID}, args...)...)
}
