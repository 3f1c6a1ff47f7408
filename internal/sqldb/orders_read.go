package sqldb

// Reading orders: one by id or pickup code, filtered lists, and the
// columns and lines every read shares.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/stores"
)

const orderCols = `id, merchant_id, number, customer_id, COALESCE(room_id, 0), COALESCE(sale_id, 0), guide_code, status, fulfilment, store_id, contact_name, contact_phone, address,
	total_fen, refunded_fen, pickup_code, reserve_expires_at, created_at, paid_at, ready_at, shipped_at, completed_at, cancelled_at,
	discount_fen, COALESCE(coupon_claim_id, 0), COALESCE(draw_id, 0), COALESCE(trial_id, 0), pickup_slot_start, pickup_slot_end, pickup_slot_requested,
	delivery_lat, delivery_lng, distance_m, delivery_fee_fen`

func scanOrder(row interface{ Scan(...any) error }) (*order.Order, error) {
	var o order.Order
	var status, ful string
	var exp, created int64
	var paid, ready, shipped, completed, cancelled, slotStart, slotEnd, slotAsked sql.NullInt64
	var lat, lng sql.NullFloat64
	err := row.Scan(&o.ID, &o.MerchantID, &o.Number, &o.CustomerID, &o.RoomID, &o.SaleID, &o.GuideCode, &status, &ful, &o.StoreID, &o.ContactName, &o.ContactPhone, &o.Address,
		&o.TotalFen, &o.RefundedFen, &o.PickupCode, &exp, &created, &paid, &ready, &shipped, &completed, &cancelled,
		&o.DiscountFen, &o.CouponClaimID, &o.DrawID, &o.TrialID, &slotStart, &slotEnd, &slotAsked, &lat, &lng, &o.DistanceM, &o.DeliveryFeeFen)
	if err != nil {
		return nil, translate(err)
	}
	o.Status, o.Fulfilment = order.Status(status), order.Fulfilment(ful)
	o.StatusLabel = o.Status.Label()
	if lat.Valid && lng.Valid {
		o.DeliveryLat, o.DeliveryLng = &lat.Float64, &lng.Float64
	}
	o.ReserveExpiresAt, o.CreatedAt = fromMS(exp), fromMS(created)
	o.PaidAt, o.ReadyAt, o.ShippedAt, o.CompletedAt, o.CancelledAt = nullMS(paid), nullMS(ready), nullMS(shipped), nullMS(completed), nullMS(cancelled)
	o.PickupSlotStart, o.PickupSlotEnd = nullMS(slotStart), nullMS(slotEnd)
	if o.PickupSlotStart != nil {
		o.PickupSlotLabel = stores.SlotLabel(*o.PickupSlotStart, *o.PickupSlotEnd)
		o.SlotMoved = slotAsked.Valid && slotAsked.Int64 != slotStart.Int64
	}
	return &o, nil
}

type rowFn func(ctx context.Context, q string, args ...any) *sql.Row

type rowsFn func(ctx context.Context, q string, args ...any) (*sql.Rows, error)

func getOrder(ctx context.Context, queryRow rowFn, query rowsFn, merchantID, id int64) (*order.Order, error) {
	o, err := scanOrder(queryRow(ctx, `SELECT `+orderCols+` FROM orders WHERE merchant_id = ? AND id = ?`, merchantID, id))
	if err != nil {
		return nil, err
	}
	list := []order.Order{*o}
	if err := fillLines(ctx, query, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

func fillLines(ctx context.Context, query rowsFn, list []order.Order) error {
	if len(list) == 0 {
		return nil
	}
	idx := map[int64]int{}
	ph := make([]string, len(list))
	args := make([]any, len(list))
	for i := range list {
		idx[list[i].ID] = i
		ph[i], args[i] = "?", list[i].ID
		list[i].Lines = []order.Line{}
	}
	rows, err := query(ctx, `SELECT order_id, sku_id, product_id, product_name, product_name_en, sku_name, sku_name_en, quantity, unit_fen, total_fen FROM order_lines WHERE order_id IN (`+strings.Join(ph, ",")+`) ORDER BY id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var oid int64
		var l order.Line
		if err := rows.Scan(&oid, &l.SKUID, &l.ProductID, &l.ProductName, &l.ProductNameEN, &l.SKUName, &l.SKUNameEN, &l.Quantity, &l.UnitFen, &l.TotalFen); err != nil {
			return err
		}
		list[idx[oid]].Lines = append(list[idx[oid]].Lines, l)
	}
	return rows.Err()
}

func (s *OrderStore) Get(ctx context.Context, merchantID, id int64) (*order.Order, error) {
	return getOrder(ctx, s.DB.QueryRow, s.DB.Query, merchantID, id)
}

func (s *OrderStore) List(ctx context.Context, f order.Filter) ([]order.Order, error) {
	q := `SELECT ` + orderCols + ` FROM orders WHERE merchant_id = ?`
	args := []any{f.MerchantID}
	add := func(cond string, v any) { q += " AND " + cond; args = append(args, v) }
	if f.CustomerID > 0 {
		add("customer_id = ?", f.CustomerID)
	}
	if f.StoreID > 0 {
		add("store_id = ?", f.StoreID)
	}
	if f.RoomID > 0 {
		add("room_id = ?", f.RoomID)
	}
	if f.GuideCode != "" {
		add("guide_code = ?", f.GuideCode)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", f.Limit)
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []order.Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, *o)
	}
	rows.Close()
	return out, fillLines(ctx, s.DB.Query, out)
}

func (s *OrderStore) ByPickupCode(ctx context.Context, merchantID int64, code string) (*order.Order, error) {
	var id int64
	if err := s.DB.QueryRow(ctx, `SELECT id FROM orders WHERE merchant_id = ? AND pickup_code = ?`, merchantID, code).Scan(&id); err != nil {
		return nil, absentAs(err, order.ErrBadPickupCode)
	}
	return s.Get(ctx, merchantID, id)
}
