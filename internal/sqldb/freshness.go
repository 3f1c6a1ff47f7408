package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/freshness"
)

// ClearanceStore keeps near-expiry rules and clearance sessions, and lists
// the stock candidates are picked from.
type ClearanceStore struct{ DB *DB }

var _ freshness.Store = (*ClearanceStore)(nil)

// Rules returns the merchant's rules, or the defaults when none were saved.
func (s *ClearanceStore) Rules(ctx context.Context, merchantID int64) (freshness.Rules, error) {
	var raw string
	err := s.DB.QueryRow(ctx, `SELECT rules FROM clearance_rules WHERE merchant_id = ?`, merchantID).Scan(&raw)
	if err == sql.ErrNoRows {
		return freshness.DefaultRules(), nil
	}
	if err != nil {
		return nil, err
	}
	return freshness.UnmarshalRules(raw), nil
}

// SaveRules stores a validated rule set.
func (s *ClearanceStore) SaveRules(ctx context.Context, merchantID int64, rs freshness.Rules) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO clearance_rules (merchant_id, rules, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (merchant_id) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at`, merchantID, freshness.MarshalRules(rs), ms(tx.Now))
		return err
	})
}

// SellableLots lists every lot with sellable units (not held, not expired,
// on hand beyond reserved) per store, for active SKUs of active products,
// expiring before `before`; storeID 0 means every store.
func (s *ClearanceStore) SellableLots(ctx context.Context, merchantID, storeID int64, now, before time.Time) ([]freshness.Lot, error) {
	rows, err := s.DB.Query(ctx, `SELECT st.store_id, so.name, p.id, p.name, p.name_en, k.id, k.name, l.id, l.code, p.storage, l.expires_at, st.on_hand - st.reserved, k.price_fen
		FROM stock st JOIN lots l ON l.id = st.lot_id JOIN skus k ON k.id = st.sku_id JOIN products p ON p.id = k.product_id JOIN stores so ON so.id = st.store_id
		WHERE st.merchant_id = ? AND (? = 0 OR st.store_id = ?) AND l.hold = FALSE AND st.hold = FALSE AND l.expires_at > ? AND l.expires_at <= ?
		  AND st.on_hand > st.reserved AND k.active = TRUE AND p.active = TRUE
		ORDER BY l.expires_at, k.id, st.store_id`, merchantID, storeID, storeID, ms(now), ms(before))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []freshness.Lot
	for rows.Next() {
		var l freshness.Lot
		var exp int64
		var storage string
		if err := rows.Scan(&l.StoreID, &l.StoreName, &l.ProductID, &l.ProductName, &l.ProductNameEN, &l.SKUID, &l.SKUName, &l.LotID, &l.LotCode, &storage, &exp, &l.Available, &l.RegularFen); err != nil {
			return nil, err
		}
		l.Storage, l.ExpiresAt = catalog.StorageClass(storage), time.UnixMilli(exp).UTC()
		out = append(out, l)
	}
	return out, rows.Err()
}

// CreateSession writes a clearance session in one transaction: the room
// and its lineup, its audience, one flash sale per item and the session
// with its items. A failure part way (another tenant's SKU, a taken slug,
// an outage) rolls all of it back, so no room, sale or session is left
// half made.
func (s *ClearanceStore) CreateSession(ctx context.Context, o *freshness.Opening) error {
	cs := o.Session
	if len(o.Sales) != len(cs.Items) {
		return fmt.Errorf("clearance session: %d sales for %d items", len(o.Sales), len(cs.Items))
	}
	if err := o.Room.Validate(); err != nil {
		return err
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if err := createRoomTx(ctx, tx, o.Room, o.Lineup); err != nil {
			return err
		}
		if o.Audience != nil {
			if err := setAudienceTx(ctx, tx, o.Room.MerchantID, o.Room.ID, o.Audience); err != nil {
				return err
			}
		}
		for i, sale := range o.Sales {
			sale.RoomID = o.Room.ID
			if err := createSaleTx(ctx, tx, sale); err != nil {
				return err
			}
			cs.Items[i].SaleID = sale.ID
		}
		cs.RoomID, cs.RoomSlug, cs.CreatedAt = o.Room.ID, o.Room.Slug, tx.Now.UTC()
		id, err := tx.InsertID(ctx, `INSERT INTO clearance_sessions (merchant_id, room_id, store_id, starts_at, ends_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			cs.MerchantID, cs.RoomID, cs.StoreID, ms(cs.StartsAt), ms(cs.EndsAt), cs.CreatedBy, ms(tx.Now))
		if err != nil {
			return err
		}
		cs.ID = id
		for _, it := range cs.Items {
			if _, err := tx.Exec(ctx, `INSERT INTO clearance_items (session_id, sale_id, sku_id, product_id, storage, regular_fen, price_fen, quantity, grams_each, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, it.SaleID, it.SKUID, it.ProductID, string(it.Storage), it.RegularFen, it.PriceFen, it.Quantity, it.GramsEach, ms(it.ExpiresAt)); err != nil {
				return err
			}
		}
		return nil
	})
}

// SaleExpiry returns the batch expiry recorded for a clearance sale.
func (s *ClearanceStore) SaleExpiry(ctx context.Context, merchantID, saleID int64) (*time.Time, error) {
	var exp int64
	err := s.DB.QueryRow(ctx, `SELECT ci.expires_at FROM clearance_items ci JOIN clearance_sessions cs ON cs.id = ci.session_id WHERE ci.sale_id = ? AND cs.merchant_id = ?`, saleID, merchantID).Scan(&exp)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t := time.UnixMilli(exp).UTC()
	return &t, nil
}

// WasteSaved sums what the merchant's clearance sessions sold, from paid
// (and later) orders of their flash sales, per store and storage class,
// for sessions that started in [from, to).
func (s *ClearanceStore) WasteSaved(ctx context.Context, merchantID int64, from, to time.Time) ([]freshness.SavedRow, error) {
	rows, err := s.DB.Query(ctx, `SELECT cs.store_id, so.name, ci.storage, COUNT(DISTINCT cs.id),
			COALESCE(SUM(ci.quantity), 0),
			COALESCE(SUM(sold.units), 0), COALESCE(SUM(sold.units * ci.grams_each), 0), COALESCE(SUM(sold.revenue), 0),
			COALESCE(SUM(sold.units * ci.regular_fen), 0)
		FROM clearance_items ci JOIN clearance_sessions cs ON cs.id = ci.session_id JOIN stores so ON so.id = cs.store_id
		LEFT JOIN (SELECT o.sale_id AS sale_id, SUM(ol.quantity) AS units, SUM(ol.total_fen) AS revenue
		           FROM orders o JOIN order_lines ol ON ol.order_id = o.id
		           WHERE o.merchant_id = ? AND o.sale_id IS NOT NULL AND o.status IN ('paid', 'ready', 'shipped', 'completed')
		           GROUP BY o.sale_id) sold ON sold.sale_id = ci.sale_id
		WHERE cs.merchant_id = ? AND cs.starts_at >= ? AND cs.starts_at < ?
		GROUP BY cs.store_id, so.name, ci.storage ORDER BY cs.store_id, ci.storage`, merchantID, merchantID, ms(from), ms(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []freshness.SavedRow{}
	for rows.Next() {
		var r freshness.SavedRow
		var storage string
		if err := rows.Scan(&r.StoreID, &r.StoreName, &storage, &r.Sessions, &r.Offered, &r.UnitsSold, &r.GramsSold, &r.RevenueFen, &r.RegularFen); err != nil {
			return nil, err
		}
		r.Storage = catalog.StorageClass(storage)
		out = append(out, r)
	}
	return out, rows.Err()
}
