package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/stores"
)

// OrderStore implements order.Store and payment.Store: a payment changes an
// order, so both live in one transaction boundary.
type OrderStore struct{ DB *DB }

var (
	_ order.Store   = (*OrderStore)(nil)
	_ payment.Store = (*OrderStore)(nil)
)

// Create implements order.Store. Everything happens in one write transaction:
// the idempotency check, prices read at order time, FEFO reservation guarded
// by `on_hand - reserved >= qty`, and the order rows.
//
// On PostgreSQL, write transactions run concurrently and can lose races that
// SQLite's single writer never runs: the units FEFO chose were taken by
// another order before the guarded UPDATE, a concurrent request inserted the
// same idempotency key, or two multi-SKU carts deadlocked. The transaction
// then rolls back and runs again from fresh reads, a few times at most.
func (s *OrderStore) Create(ctx context.Context, o *order.Order, items []order.Item) (bool, error) {
	for attempt := 1; ; attempt++ {
		created, err := s.create(ctx, o, items)
		if attempt < 5 && (errors.Is(err, errRaced) || errors.Is(err, apperr.ErrBusy)) {
			continue
		}
		if errors.Is(err, errRaced) {
			err = inventory.ErrOutOfStock
		}
		return created, err
	}
}

// replayOrder answers a retry: when the customer already placed an order
// with o's Idempotency-Key, it loads that order into o and reports found —
// or refuses the key when it came with another request. No key, no order:
// (false, nil).
func replayOrder(ctx context.Context, tx *Tx, o *order.Order) (bool, error) {
	if o.IdempotencyKey == "" {
		return false, nil
	}
	var id int64
	var hash string
	err := tx.QueryRow(ctx, `SELECT id, request_hash FROM orders WHERE customer_id = ? AND idempotency_key = ? AND idempotency_key <> ''`, o.CustomerID, o.IdempotencyKey).Scan(&id, &hash)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if hash != o.RequestHash {
		return false, order.ErrIdempotencyUsed
	}
	got, err := getOrder(ctx, tx.QueryRow, tx.Query, o.MerchantID, id)
	if err != nil {
		return false, err
	}
	*o = *got
	return true, nil
}

// errRaced says a concurrent transaction changed rows this one had read.
var errRaced = errors.New("order: lost a race with a concurrent transaction")

func (s *OrderStore) create(ctx context.Context, o *order.Order, items []order.Item) (bool, error) {
	created := false
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		if found, err := replayOrder(ctx, tx, o); found || err != nil {
			return err
		}
		sameCity, err := s.chooseStore(ctx, tx, o, false)
		if err != nil {
			return err
		}
		o.Status, o.CreatedAt, o.TotalFen = order.PendingPayment, tx.Now, 0
		o.Lines = o.Lines[:0]
		// Member prices apply when the buyer is a member now, read in this
		// transaction (joining or leaving races nothing).
		memberPrice, mpErr := memberPricesTx(ctx, tx, o.MerchantID, o.CustomerID)
		if mpErr != nil {
			return mpErr
		}
		var takes []inventory.Take
		for _, it := range items {
			var ln order.Line
			var active bool
			err := tx.QueryRow(ctx, `SELECT k.id, k.product_id, p.name, k.name, k.price_fen, k.active AND p.active FROM skus k JOIN products p ON p.id = k.product_id
				WHERE k.merchant_id = ? AND k.id = ?`, o.MerchantID, it.SKUID).Scan(&ln.SKUID, &ln.ProductID, &ln.ProductName, &ln.SKUName, &ln.UnitFen, &active)
			if err == sql.ErrNoRows || (err == nil && !active) {
				return order.ErrUnknownSKU
			}
			if err != nil {
				return err
			}
			if mp, ok := memberPrice[ln.SKUID]; ok && mp > 0 && mp < ln.UnitFen {
				ln.UnitFen = mp
			}
			ln.Quantity, ln.TotalFen = it.Quantity, it.Quantity*ln.UnitFen
			o.Lines = append(o.Lines, ln)
			o.TotalFen += ln.TotalFen
			levels, err := queryLevels(ctx, tx.Query, `AND st.sku_id = ? AND st.store_id = ?`, o.MerchantID, it.SKUID, o.StoreID)
			if err != nil {
				return err
			}
			t, err := inventory.AllocateFEFO(levels, it.Quantity, tx.Now)
			if err != nil {
				return err
			}
			takes = append(takes, t...)
		}
		if err := checkSellable(ctx, tx, takes); err != nil {
			return err
		}
		// A coupon (the wallet's best, or the one named) lowers the total;
		// a draw's prize order and a trial's sample order are free and paid
		// at once.
		if err := applyCoupon(ctx, tx, o); err != nil {
			return err
		}
		if sameCity != nil {
			// The fee by distance, free over the store's amount (goods
			// after the coupon); the buyer pays it with the goods.
			o.DeliveryFeeFen, _ = sameCity.DeliveryFee(float64(o.DistanceM), o.TotalFen)
			o.TotalFen += o.DeliveryFeeFen
		}
		var paidAt any
		if o.DrawID != 0 || o.TrialID != 0 {
			o.DiscountFen, o.TotalFen, o.Status = o.TotalFen, 0, order.Paid
			paidAt = ms(tx.Now)
			o.PaidAt = &tx.Now
		}
		if err := insertOrderRows(ctx, tx, o, paidAt); err != nil {
			return err
		}
		if err := useCoupon(ctx, tx, o); err != nil {
			return err
		}
		if err := bookSlot(ctx, tx, o); err != nil {
			return err
		}
		for _, t := range takes {
			if _, err := tx.Exec(ctx, `INSERT INTO allocations (order_id, store_id, lot_id, quantity) VALUES (?, ?, ?, ?)`, o.ID, t.StoreID, t.LotID, t.Qty); err != nil {
				return err
			}
		}
		// The guarded reservation comes last: on PostgreSQL the stock row
		// stays locked only from here to commit, which is what a hot SKU
		// queues on.
		for _, t := range takes {
			res, err := tx.Exec(ctx, `UPDATE stock SET reserved = reserved + ? WHERE store_id = ? AND lot_id = ? AND on_hand - reserved >= ? AND hold = FALSE`, t.Qty, t.StoreID, t.LotID, t.Qty)
			if n, _ := rowsAffected(res, err); n != 1 {
				if err != nil {
					return err
				}
				return errRaced // taken since the levels were read (PostgreSQL only)
			}
		}
		o.StatusLabel = o.Status.Label()
		created = true
		return nil
	})
	return created, err
}

// insertOrderRows inserts a new order (number and pickup code drawn here)
// with its lines; errRaced when a concurrent request took the
// Idempotency-Key. Stock is the caller's business.
func insertOrderRows(ctx context.Context, tx *Tx, o *order.Order, paidAt any) error {
	var err error
	for attempt := 0; ; attempt++ {
		o.Number, o.PickupCode = order.NewNumber(tx.Now), ""
		if o.Fulfilment == order.Pickup {
			o.PickupCode = order.NewPickupCode()
		}
		o.ID, err = tx.InsertID(ctx, `INSERT INTO orders (merchant_id, number, customer_id, room_id, guide_code, status, fulfilment, store_id, contact_name, contact_phone, address,
			total_fen, pickup_code, idempotency_key, request_hash, reserve_expires_at, created_at, discount_fen, coupon_claim_id, draw_id, trial_id, paid_at,
			delivery_lat, delivery_lng, distance_m, delivery_fee_fen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			o.MerchantID, o.Number, o.CustomerID, nullID(o.RoomID), o.GuideCode, string(o.Status), string(o.Fulfilment), o.StoreID, o.ContactName, o.ContactPhone, o.Address,
			o.TotalFen, o.PickupCode, o.IdempotencyKey, o.RequestHash, ms(o.ReserveExpiresAt), ms(tx.Now), o.DiscountFen, nullID(o.CouponClaimID), nullID(o.DrawID), nullID(o.TrialID), paidAt,
			o.DeliveryLat, o.DeliveryLng, o.DistanceM, o.DeliveryFeeFen)
		// A taken number or pickup code inserts nothing: draw again. (A
		// failed INSERT would abort a PostgreSQL transaction.)
		if err != sql.ErrNoRows || attempt == 3 {
			break
		}
	}
	if err == sql.ErrNoRows {
		return errRaced // or a concurrent request took the idempotency key
	}
	if err != nil {
		return err
	}
	for _, ln := range o.Lines {
		if _, err := tx.Exec(ctx, `INSERT INTO order_lines (order_id, sku_id, product_id, product_name, sku_name, quantity, unit_fen, total_fen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, ln.SKUID, ln.ProductID, ln.ProductName, ln.SKUName, ln.Quantity, ln.UnitFen, ln.TotalFen); err != nil {
			return err
		}
	}
	return nil
}

// chooseStore checks the pickup store, or picks the delivery store: when
// the shop delivers same-city, the nearest store whose radius covers the
// buyer's point (returned, for the fee), else its first delivery store (a
// courier's parcel, no fee). courier lets an order without a point go as
// a courier's parcel from the first delivery store even then (pre-sales,
// whose goods ship later from the producer).
func (s *OrderStore) chooseStore(ctx context.Context, tx *Tx, o *order.Order, courier bool) (*stores.Store, error) {
	if o.Fulfilment == order.Pickup {
		return nil, storeOfMerchant(ctx, tx, o.MerchantID, o.StoreID)
	}
	list, err := deliveryStores(ctx, tx.Query, o.MerchantID)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, order.ErrDeliveryStore
	}
	if !slices.ContainsFunc(list, func(st stores.Store) bool { return st.SameCity() }) || (courier && o.DeliveryLat == nil) {
		o.StoreID, o.DeliveryLat, o.DeliveryLng = list[0].ID, nil, nil
		return nil, nil
	}
	if o.DeliveryLat == nil || o.DeliveryLng == nil {
		return nil, stores.ErrPointRequired
	}
	st, dist, err := stores.NearestDelivering(list, *o.DeliveryLat, *o.DeliveryLng)
	if err != nil {
		return nil, err
	}
	o.StoreID, o.DistanceM = st.ID, int64(math.Round(dist))
	return st, nil
}

// deliveryStores are the merchant's stores that ship delivery orders, oldest first.
func deliveryStores(ctx context.Context, query rowsFn, merchantID int64) ([]stores.Store, error) {
	rows, err := query(ctx, `SELECT `+storeCols+` FROM stores WHERE merchant_id = ? AND delivery = TRUE ORDER BY id`, merchantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []stores.Store
	for rows.Next() {
		st, err := scanStore(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *st)
	}
	return out, rows.Err()
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func isUnique(err error, names ...string) bool {
	msg := err.Error()
	if !strings.Contains(msg, "UNIQUE") && !strings.Contains(msg, "23505") {
		return false
	}
	for _, n := range names {
		if strings.Contains(msg, n) {
			return true
		}
	}
	return false
}

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
	rows, err := query(ctx, `SELECT order_id, sku_id, product_id, product_name, sku_name, quantity, unit_fen, total_fen FROM order_lines WHERE order_id IN (`+strings.Join(ph, ",")+`) ORDER BY id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var oid int64
		var l order.Line
		if err := rows.Scan(&oid, &l.SKUID, &l.ProductID, &l.ProductName, &l.SKUName, &l.Quantity, &l.UnitFen, &l.TotalFen); err != nil {
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

// Transition implements order.Store: a move with no conditions beyond the
// status machine and the pickup rule, on behalf of the system.
func (s *OrderStore) Transition(ctx context.Context, merchantID, id int64, next order.Status) (*order.Order, error) {
	return s.Apply(ctx, order.Move{MerchantID: merchantID, ID: id, To: next, Actor: "system"})
}

// Apply implements order.Store: the move's conditions are checked on the
// locked row in the transaction that applies it.
func (s *OrderStore) Apply(ctx context.Context, m order.Move) (*order.Order, error) {
	var out *order.Order
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		o, err := applyMove(ctx, tx, m)
		out = o
		return err
	})
	return out, err
}

func transition(ctx context.Context, tx *Tx, merchantID, id int64, next order.Status) (*order.Order, error) {
	return applyMove(ctx, tx, order.Move{MerchantID: merchantID, ID: id, To: next, Actor: "system"})
}

func applyMove(ctx context.Context, tx *Tx, m order.Move) (*order.Order, error) {
	cur, err := scanOrder(tx.QueryRow(ctx, `SELECT `+orderCols+` FROM orders WHERE merchant_id = ? AND id = ?`+tx.db.forUpdate(), m.MerchantID, m.ID))
	if err != nil {
		return nil, err
	}
	if err := m.Check(cur); err != nil {
		return nil, err
	}
	id, next := m.ID, m.To
	now := ms(tx.Now)
	switch next {
	case order.Shipped, order.Completed:
		// Food of a lot on hold is not handed over, whoever asks: the lot
		// went on hold after the order was paid.
		held, err := heldLotsOfOrder(ctx, tx.Query, m.MerchantID, id)
		if err != nil {
			return nil, err
		}
		if len(held) > 0 {
			return nil, inventory.HandoverOnHold(held)
		}
		// Handover: reserved units leave the shelf exactly once. Rows already
		// consumed (shipped → completed) are skipped by the state filter.
		if err := settleAllocations(ctx, tx, id, "consumed", `on_hand = on_hand - ?, reserved = reserved - ?`, 2); err != nil {
			return nil, err
		}
	case order.Cancelled, order.Expired:
		if err := settleAllocations(ctx, tx, id, "released", `reserved = reserved - ?`, 1); err != nil {
			return nil, err
		}
		if err := returnCoupon(ctx, tx, id); err != nil { // the coupon refund rule (package coupons)
			return nil, err
		}
		if err := releaseSlot(ctx, tx, cur); err != nil {
			return nil, err
		}
	case order.Ready:
		if err := readyMessage(ctx, tx, cur); err != nil {
			return nil, err
		}
	}
	col := map[order.Status]string{order.Paid: "paid_at", order.Ready: "ready_at", order.Shipped: "shipped_at", order.Completed: "completed_at",
		order.Cancelled: "cancelled_at", order.Expired: "cancelled_at"}[next]
	refund := m.Refund(cur)
	if refund > 0 {
		var err error
		if refund, err = refundRemainder(ctx, tx, m.MerchantID, id, refund); err != nil {
			return nil, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE orders SET status = ?, `+col+` = ?, refunded_fen = refunded_fen + ? WHERE id = ?`, string(next), now, refund, id); err != nil {
		return nil, err
	}
	// Every refund, and every cancel someone asked for, is on the record,
	// committed with the move itself.
	if next == order.Cancelled && (refund > 0 || (m.Actor != "" && m.Actor != "system")) {
		actor := m.Actor
		if actor == "" {
			actor = "system"
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit_log (merchant_id, actor, action, object, detail, at) VALUES (?, ?, ?, ?, ?, ?)`,
			m.MerchantID, actor, "order.cancel", "order:"+cur.Number, fmt.Sprintf("refunded_fen=%d", refund), now); err != nil {
			return nil, err
		}
	}
	if next == order.Paid && refund == 0 {
		// The payment callback's path: only status and paid_at changed, so
		// the row need not be read again (the lines still are).
		at := fromMS(now)
		cur.Status, cur.StatusLabel, cur.PaidAt = next, next.Label(), &at
		list := []order.Order{*cur}
		if err := fillLines(ctx, tx.Query, list); err != nil {
			return nil, err
		}
		return &list[0], nil
	}
	return getOrder(ctx, tx.QueryRow, tx.Query, m.MerchantID, id)
}

func settleAllocations(ctx context.Context, tx *Tx, orderID int64, state, set string, nargs int) error {
	rows, err := tx.Query(ctx, `SELECT id, store_id, lot_id, quantity, COALESCE(sale_id, 0) FROM allocations WHERE order_id = ? AND state = 'reserved'`, orderID)
	if err != nil {
		return err
	}
	type alloc struct{ id, store, lot, qty, sale int64 }
	var list []alloc
	for rows.Next() {
		var a alloc
		if err := rows.Scan(&a.id, &a.store, &a.lot, &a.qty, &a.sale); err != nil {
			rows.Close()
			return err
		}
		list = append(list, a)
	}
	rows.Close()
	for _, a := range list {
		if state == "released" && a.sale != 0 {
			// Units of a running flash sale go back to the sale's quota,
			// which keeps them reserved; the sale returns what is left to
			// stock when it ends.
			var status string
			if err := tx.QueryRow(ctx, `SELECT status FROM flash_sales WHERE id = ?`+tx.db.forUpdate(), a.sale).Scan(&status); err != nil {
				return fmt.Errorf("settle allocation %d: %w", a.id, err)
			}
			if status == "running" {
				if _, err := tx.Exec(ctx, `UPDATE allocations SET state = ? WHERE id = ?`, state, a.id); err != nil {
					return err
				}
				continue
			}
		}
		args := []any{a.qty}
		if nargs == 2 {
			args = append(args, a.qty)
		}
		args = append(args, a.store, a.lot)
		res, err := tx.Exec(ctx, `UPDATE stock SET `+set+` WHERE store_id = ? AND lot_id = ?`, args...)
		if err := mustAffect(res, err); err != nil {
			return fmt.Errorf("settle allocation %d: %w", a.id, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE allocations SET state = ? WHERE id = ?`, state, a.id); err != nil {
			return err
		}
	}
	return nil
}

// ExpireDue implements order.Store.
func (s *OrderStore) ExpireDue(ctx context.Context, now time.Time, limit int) ([]order.Order, error) {
	rows, err := s.DB.Query(ctx, `SELECT merchant_id, id FROM orders WHERE status = 'pending_payment' AND reserve_expires_at <= ? ORDER BY reserve_expires_at LIMIT ?`, now.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	type key struct{ m, id int64 }
	var due []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.m, &k.id); err != nil {
			rows.Close()
			return nil, err
		}
		due = append(due, k)
	}
	rows.Close()
	var out []order.Order
	for _, k := range due {
		o, err := s.Transition(ctx, k.m, k.id, order.Expired)
		if errors.Is(err, apperr.ErrInvalidTransition) {
			continue // paid meanwhile
		}
		if err != nil {
			return out, err
		}
		out = append(out, *o)
	}
	return out, nil
}

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
