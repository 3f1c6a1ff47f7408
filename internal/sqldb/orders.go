package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strings"

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
		takes, err := priceLines(ctx, tx, o, items)
		if err != nil {
			return err
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
		if err := reserveTakes(ctx, tx, o.ID, takes); err != nil {
			return err
		}
		o.StatusLabel = o.Status.Label()
		created = true
		return nil
	})
	return created, err
}

// priceLines reads each item's SKU at today's price (the member price when
// the buyer is a member now), fills o's lines and goods total, and picks the
// lots to take by FEFO at o's store.
func priceLines(ctx context.Context, tx *Tx, o *order.Order, items []order.Item) ([]inventory.Take, error) {
	// Member prices apply when the buyer is a member now, read in this
	// transaction (joining or leaving races nothing).
	memberPrice, mpErr := memberPricesTx(ctx, tx, o.MerchantID, o.CustomerID)
	if mpErr != nil {
		return nil, mpErr
	}
	var takes []inventory.Take
	for _, it := range items {
		var ln order.Line
		var active bool
		err := tx.QueryRow(ctx, `SELECT k.id, k.product_id, p.name, p.name_en, k.name, k.name_en, k.price_fen, k.active AND p.active FROM skus k JOIN products p ON p.id = k.product_id
			WHERE k.merchant_id = ? AND k.id = ?`, o.MerchantID, it.SKUID).Scan(&ln.SKUID, &ln.ProductID, &ln.ProductName, &ln.ProductNameEN, &ln.SKUName, &ln.SKUNameEN, &ln.UnitFen, &active)
		if err == sql.ErrNoRows || (err == nil && !active) {
			return nil, order.ErrUnknownSKU
		}
		if err != nil {
			return nil, err
		}
		if mp, ok := memberPrice[ln.SKUID]; ok && mp > 0 && mp < ln.UnitFen {
			ln.UnitFen = mp
		}
		ln.Quantity, ln.TotalFen = it.Quantity, it.Quantity*ln.UnitFen
		o.Lines = append(o.Lines, ln)
		o.TotalFen += ln.TotalFen
		levels, err := queryLevels(ctx, tx.Query, `AND st.sku_id = ? AND st.store_id = ?`, o.MerchantID, it.SKUID, o.StoreID)
		if err != nil {
			return nil, err
		}
		t, err := inventory.AllocateFEFO(levels, it.Quantity, tx.Now)
		if err != nil {
			return nil, err
		}
		takes = append(takes, t...)
	}
	return takes, nil
}

// reserveTakes records which lots the order takes and reserves them, each
// guarded by what is still free; errRaced when a lot was taken since its
// level was read.
func reserveTakes(ctx context.Context, tx *Tx, orderID int64, takes []inventory.Take) error {
	for _, t := range takes {
		if _, err := tx.Exec(ctx, `INSERT INTO allocations (order_id, store_id, lot_id, quantity) VALUES (?, ?, ?, ?)`, orderID, t.StoreID, t.LotID, t.Qty); err != nil {
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
	return nil
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
		if _, err := tx.Exec(ctx, `INSERT INTO order_lines (order_id, sku_id, product_id, product_name, product_name_en, sku_name, sku_name_en, quantity, unit_fen, total_fen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, ln.SKUID, ln.ProductID, ln.ProductName, ln.ProductNameEN, ln.SKUName, ln.SKUNameEN, ln.Quantity, ln.UnitFen, ln.TotalFen); err != nil {
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
