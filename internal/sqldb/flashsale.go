package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/order"
)

// FlashStore implements flashsale.Store and writes flash-sale orders in
// batches (group commit).
type FlashStore struct {
	DB *DB
	// Fence, when set, is this node's lease holder id: a batch commits only
	// while the node holds the "leader" lease, so two nodes never allocate
	// the same sale (a node that lost its lease fails its batch instead).
	Fence string
}

// ErrLostLease fails a batch written by a node that is no longer the leader.
var ErrLostLease = apperr.ErrBusy.With("服务切换中，请稍后重试", "The service is failing over; try again in a moment.")

var _ flashsale.Store = (*FlashStore)(nil)

const saleCols = `id, merchant_id, room_id, product_id, sku_id, store_id, price_fen, quantity, per_user_limit, starts_at, ends_at, status, created_at, ended_at`

func scanSale(row interface{ Scan(...any) error }) (*flashsale.Sale, error) {
	var s flashsale.Sale
	var starts, ends, created int64
	var ended sql.NullInt64
	var status string
	if err := row.Scan(&s.ID, &s.MerchantID, &s.RoomID, &s.ProductID, &s.SKUID, &s.StoreID, &s.PriceFen, &s.Quantity, &s.PerUserLimit, &starts, &ends, &status, &created, &ended); err != nil {
		return nil, translate(err)
	}
	s.StartsAt, s.EndsAt, s.CreatedAt, s.EndedAt, s.Status = fromMS(starts), fromMS(ends), fromMS(created), nullMS(ended), flashsale.Status(status)
	return &s, nil
}

func (f *FlashStore) Create(ctx context.Context, s *flashsale.Sale) error {
	return f.DB.WriteTx(ctx, func(tx *Tx) error {
		return createSaleTx(ctx, tx, s)
	})
}

// createSaleTx inserts a scheduled sale inside tx; its room, SKU and store
// must be the merchant's.
func createSaleTx(ctx context.Context, tx *Tx, s *flashsale.Sale) (err error) {
	if err := ofMerchant(ctx, tx, "rooms", s.MerchantID, s.RoomID); err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, `SELECT product_id FROM skus WHERE merchant_id = ? AND id = ?`, s.MerchantID, s.SKUID).Scan(&s.ProductID); err != nil {
		return absentAs(err, order.ErrUnknownSKU)
	}
	if err := storeOfMerchant(ctx, tx, s.MerchantID, s.StoreID); err != nil {
		return err
	}
	s.Status, s.CreatedAt = flashsale.Scheduled, tx.Now
	s.ID, err = tx.InsertID(ctx, `INSERT INTO flash_sales (merchant_id, room_id, product_id, sku_id, store_id, price_fen, quantity, per_user_limit, starts_at, ends_at, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.MerchantID, s.RoomID, s.ProductID, s.SKUID, s.StoreID, s.PriceFen, s.Quantity, s.PerUserLimit, ms(s.StartsAt), ms(s.EndsAt), string(s.Status), ms(tx.Now))
	return err
}

func (f *FlashStore) Get(ctx context.Context, merchantID, id int64) (*flashsale.Sale, error) {
	return scanSale(f.DB.QueryRow(ctx, `SELECT `+saleCols+` FROM flash_sales WHERE merchant_id = ? AND id = ?`, merchantID, id))
}

func (f *FlashStore) List(ctx context.Context, merchantID, roomID int64) ([]flashsale.Sale, error) {
	return f.list(ctx, `WHERE merchant_id = ? AND room_id = ? ORDER BY id DESC LIMIT 50`, merchantID, roomID)
}

func (f *FlashStore) list(ctx context.Context, where string, args ...any) ([]flashsale.Sale, error) {
	rows, err := f.DB.Query(ctx, `SELECT `+saleCols+` FROM flash_sales `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []flashsale.Sale
	for rows.Next() {
		s, err := scanSale(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, rows.Err()
}

func (f *FlashStore) Due(ctx context.Context, now time.Time) (toStart, toEnd []flashsale.Sale, err error) {
	if toStart, err = f.list(ctx, `WHERE status = 'scheduled' AND starts_at <= ?`, ms(now)); err != nil {
		return nil, nil, err
	}
	toEnd, err = f.list(ctx, `WHERE status = 'running' AND ends_at <= ?`, ms(now))
	return toStart, toEnd, err
}

func (f *FlashStore) Running(ctx context.Context) ([]flashsale.Sale, map[int64][]flashsale.Quota, map[int64][]flashsale.Claim, error) {
	sales, err := f.list(ctx, `WHERE status = 'running' ORDER BY id`)
	if err != nil {
		return nil, nil, nil, err
	}
	quota := map[int64][]flashsale.Quota{}
	claims := map[int64][]flashsale.Claim{}
	for _, s := range sales {
		q, c, err := f.state(ctx, s.ID)
		if err != nil {
			return nil, nil, nil, err
		}
		quota[s.ID], claims[s.ID] = q, c
	}
	return sales, quota, claims, nil
}

// state reads a sale's quota (FEFO order) and the units orders hold.
func (f *FlashStore) state(ctx context.Context, saleID int64) ([]flashsale.Quota, []flashsale.Claim, error) {
	rows, err := f.DB.Query(ctx, `SELECT q.store_id, q.lot_id, q.quantity FROM flash_quota q JOIN lots l ON l.id = q.lot_id WHERE q.sale_id = ? ORDER BY l.expires_at, q.lot_id`, saleID)
	if err != nil {
		return nil, nil, err
	}
	var quota []flashsale.Quota
	for rows.Next() {
		var q flashsale.Quota
		if err := rows.Scan(&q.StoreID, &q.LotID, &q.Quantity); err != nil {
			rows.Close()
			return nil, nil, err
		}
		quota = append(quota, q)
	}
	rows.Close()
	rows, err = f.DB.Query(ctx, `SELECT o.customer_id, a.lot_id, SUM(a.quantity) FROM allocations a JOIN orders o ON o.id = a.order_id
		WHERE a.sale_id = ? AND a.state <> 'released' GROUP BY o.customer_id, a.lot_id`, saleID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var claims []flashsale.Claim
	for rows.Next() {
		var c flashsale.Claim
		if err := rows.Scan(&c.CustomerID, &c.LotID, &c.Quantity); err != nil {
			return nil, nil, err
		}
		claims = append(claims, c)
	}
	return quota, claims, rows.Err()
}

// Start implements flashsale.Store: the sale's units are reserved in stock
// once, here, so buying never touches a stock row.
func (f *FlashStore) Start(ctx context.Context, merchantID, id int64, allocate func([]inventory.Level) ([]inventory.Take, error)) ([]flashsale.Quota, error) {
	var quota []flashsale.Quota
	err := f.DB.WriteTx(ctx, func(tx *Tx) error {
		s, err := scanSale(tx.QueryRow(ctx, `SELECT `+saleCols+` FROM flash_sales WHERE merchant_id = ? AND id = ?`+tx.db.forUpdate(), merchantID, id))
		if err != nil {
			return err
		}
		if s.Status != flashsale.Scheduled {
			return flashsale.ErrNotRunning
		}
		if tx.db.Dialect == Postgres {
			// Lock the stock rows first: FOR UPDATE cannot go inside
			// queryLevels' WHERE (it must follow ORDER BY).
			if _, err := tx.Exec(ctx, `SELECT 1 FROM stock WHERE merchant_id = ? AND sku_id = ? AND store_id = ? FOR UPDATE`, merchantID, s.SKUID, s.StoreID); err != nil {
				return err
			}
		}
		levels, err := queryLevels(ctx, tx.Query, `AND st.sku_id = ? AND st.store_id = ?`, merchantID, s.SKUID, s.StoreID)
		if err != nil {
			return err
		}
		takes, err := allocate(levels)
		if err != nil {
			return err
		}
		for _, t := range takes {
			res, err := tx.Exec(ctx, `UPDATE stock SET reserved = reserved + ? WHERE store_id = ? AND lot_id = ? AND on_hand - reserved >= ? AND hold = FALSE`, t.Qty, t.StoreID, t.LotID, t.Qty)
			if n, _ := rowsAffected(res, err); n != 1 {
				if err != nil {
					return err
				}
				return flashsale.ErrQuotaOnStart
			}
			if _, err := tx.Exec(ctx, `INSERT INTO flash_quota (sale_id, store_id, lot_id, quantity) VALUES (?, ?, ?, ?)`, id, t.StoreID, t.LotID, t.Qty); err != nil {
				return err
			}
			quota = append(quota, flashsale.Quota{StoreID: t.StoreID, LotID: t.LotID, Quantity: t.Qty})
		}
		_, err = tx.Exec(ctx, `UPDATE flash_sales SET status = 'running' WHERE id = ?`, id)
		return err
	})
	return quota, err
}

// End implements flashsale.Store: units no order holds go back to stock.
// Units held by unpaid orders stay reserved; when such an order expires
// later its units return to stock like any order's.
func (f *FlashStore) End(ctx context.Context, merchantID, id int64) error {
	return f.DB.WriteTx(ctx, func(tx *Tx) error {
		s, err := scanSale(tx.QueryRow(ctx, `SELECT `+saleCols+` FROM flash_sales WHERE merchant_id = ? AND id = ?`+tx.db.forUpdate(), merchantID, id))
		if err != nil {
			return err
		}
		if s.Status == flashsale.Ended {
			return nil
		}
		if s.Status == flashsale.Running {
			rows, err := tx.Query(ctx, `SELECT q.store_id, q.lot_id, q.quantity - COALESCE((SELECT SUM(a.quantity) FROM allocations a WHERE a.sale_id = q.sale_id AND a.lot_id = q.lot_id AND a.state <> 'released'), 0)
				FROM flash_quota q WHERE q.sale_id = ?`, id)
			if err != nil {
				return err
			}
			var left []inventory.Take
			for rows.Next() {
				var t inventory.Take
				if err := rows.Scan(&t.StoreID, &t.LotID, &t.Qty); err != nil {
					rows.Close()
					return err
				}
				if t.Qty > 0 {
					left = append(left, t)
				}
			}
			rows.Close()
			for _, t := range left {
				res, err := tx.Exec(ctx, `UPDATE stock SET reserved = reserved - ? WHERE store_id = ? AND lot_id = ?`, t.Qty, t.StoreID, t.LotID)
				if err := mustAffect(res, err); err != nil {
					return fmt.Errorf("end sale %d: %w", id, err)
				}
			}
		}
		_, err = tx.Exec(ctx, `UPDATE flash_sales SET status = 'ended', ended_at = ? WHERE id = ?`, ms(tx.Now), id)
		return err
	})
}

// OrderTakes returns what a flash order held, to give released units back
// to the in-memory allocator.
func (f *FlashStore) OrderTakes(ctx context.Context, orderID int64) ([]inventory.Take, error) {
	rows, err := f.DB.Query(ctx, `SELECT store_id, lot_id, quantity FROM allocations WHERE order_id = ? AND sale_id IS NOT NULL`, orderID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []inventory.Take
	for rows.Next() {
		var t inventory.Take
		if err := rows.Scan(&t.StoreID, &t.LotID, &t.Qty); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CreateBatch writes many flash orders in one transaction (group commit):
// one commit for the whole batch instead of one per order. Each order has
// its own savepoint, so one bad order (a reused idempotency key) does not
// sink the others. The units were already taken from the sale's reserved
// quota in memory; no stock row is touched here.
func (f *FlashStore) CreateBatch(ctx context.Context, batch []*flashsale.PendingOrder) error {
	return f.DB.WriteTx(ctx, func(tx *Tx) error {
		if f.Fence != "" {
			ok, err := holdsLease(ctx, tx, LeaderLease, f.Fence)
			if err != nil {
				return err
			}
			if !ok {
				return ErrLostLease
			}
		}
		// Only a running sale takes orders: an allocator that outlived its
		// sale (ended elsewhere) must not write, or the units it hands out
		// would be held by orders while the sale's quota is back in stock.
		// FOR SHARE waits for an End in progress (it locks FOR UPDATE).
		running := map[int64]bool{}
		for _, fo := range batch {
			id := fo.Order.SaleID
			if _, seen := running[id]; seen {
				continue
			}
			var status string
			if err := tx.QueryRow(ctx, `SELECT status FROM flash_sales WHERE id = ?`+tx.db.forShare(), id).Scan(&status); err != nil {
				return err
			}
			running[id] = status == string(flashsale.Running)
		}
		// The sale rule, once for the whole batch: an order taking units of
		// a lot that went on hold since its sale started fails (its units go
		// back to the allocator, which the app pauses).
		var takes []inventory.Take
		for _, fo := range batch {
			takes = append(takes, fo.Takes...)
		}
		unsellable, err := unsellableLots(ctx, tx, takes)
		if err != nil {
			return err
		}
		for i, fo := range batch {
			if !running[fo.Order.SaleID] {
				fo.Err = flashsale.ErrNotRunning
				continue
			}
			if fo.Err = firstUnsellable(fo.Takes, unsellable); fo.Err != nil {
				continue
			}
			sp := fmt.Sprintf("fo%d", i)
			if _, err := tx.Tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
				return err
			}
			fo.Err = insertFlashOrder(ctx, tx, fo)
			if fo.Err != nil {
				if _, err := tx.Tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+sp); err != nil {
					return err
				}
			}
			if _, err := tx.Tx.ExecContext(ctx, "RELEASE SAVEPOINT "+sp); err != nil {
				return err
			}
			if errors.Is(fo.Err, errDupKey) {
				fo.Err = nil
				fo.Dup = true
			}
		}
		return nil
	})
}

var errDupKey = errors.New("flash order: idempotency key used before")

func insertFlashOrder(ctx context.Context, tx *Tx, fo *flashsale.PendingOrder) error {
	o := fo.Order
	o.CreatedAt, o.Status, o.StatusLabel = tx.Now, order.PendingPayment, order.PendingPayment.Label()
	var err error
	for attempt := 0; ; attempt++ {
		o.Number, o.PickupCode = order.NewNumber(tx.Now), ""
		if o.Fulfilment == order.Pickup {
			o.PickupCode = order.NewPickupCode()
		}
		o.ID, err = tx.InsertID(ctx, `INSERT INTO orders (merchant_id, number, customer_id, room_id, sale_id, guide_code, status, fulfilment, store_id, contact_name, contact_phone, address,
			total_fen, pickup_code, idempotency_key, request_hash, reserve_expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			o.MerchantID, o.Number, o.CustomerID, nullID(o.RoomID), o.SaleID, o.GuideCode, string(o.Status), string(o.Fulfilment), o.StoreID, o.ContactName, o.ContactPhone, o.Address,
			o.TotalFen, o.PickupCode, o.IdempotencyKey, o.RequestHash, ms(o.ReserveExpiresAt), ms(tx.Now))
		if err != sql.ErrNoRows || attempt == 3 {
			break
		}
		// The insert hit a unique key: the buyer's Idempotency-Key (a
		// retry), or by chance the order number or pickup code (try anew).
		if found, e := replayOrder(ctx, tx, o); e != nil {
			return e
		} else if found {
			return errDupKey
		}
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
	for _, t := range fo.Takes {
		if _, err := tx.Exec(ctx, `INSERT INTO allocations (order_id, store_id, lot_id, quantity, sale_id) VALUES (?, ?, ?, ?, ?)`, o.ID, t.StoreID, t.LotID, t.Qty, o.SaleID); err != nil {
			return err
		}
	}
	return nil
}

// OrderByKey implements flashsale.Store.
func (f *FlashStore) OrderByKey(ctx context.Context, merchantID, customerID int64, key string) (*order.Order, error) {
	var id int64
	if err := f.DB.QueryRow(ctx, `SELECT id FROM orders WHERE merchant_id = ? AND customer_id = ? AND idempotency_key = ? AND idempotency_key <> ''`, merchantID, customerID, key).Scan(&id); err != nil {
		return nil, translate(err)
	}
	return getOrder(ctx, f.DB.QueryRow, f.DB.Query, merchantID, id)
}

// NaiveBuy is the benchmark baseline of a flash sale: every attempt takes a
// unit with a single-row `UPDATE flash_sales SET sold = sold + q WHERE …
// sold + q <= quantity` in its own transaction, the hot row that serializes
// every buyer. ShelfLive never uses it outside `shelflive bench flashsale`.
func (f *FlashStore) NaiveBuy(ctx context.Context, po *flashsale.PendingOrder, limit int64) error {
	o := po.Order
	return f.DB.WriteTx(ctx, func(tx *Tx) error {
		var held sql.NullInt64
		if err := tx.QueryRow(ctx, `SELECT SUM(a.quantity) FROM allocations a JOIN orders o ON o.id = a.order_id WHERE a.sale_id = ? AND o.customer_id = ? AND a.state <> 'released'`, o.SaleID, o.CustomerID).Scan(&held); err != nil {
			return err
		}
		qty := o.Lines[0].Quantity
		if held.Int64+qty > limit {
			return flashsale.ErrLimit
		}
		res, err := tx.Exec(ctx, `UPDATE flash_sales SET sold = sold + ? WHERE id = ? AND sold + ? <= quantity`, qty, o.SaleID, qty)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return flashsale.ErrSoldOut
		}
		// Lots for the allocation rows, FEFO from the sale's quota.
		rows, err := tx.Query(ctx, `SELECT q.store_id, q.lot_id, q.quantity - COALESCE((SELECT SUM(a.quantity) FROM allocations a WHERE a.sale_id = q.sale_id AND a.lot_id = q.lot_id AND a.state <> 'released'), 0)
			FROM flash_quota q JOIN lots l ON l.id = q.lot_id WHERE q.sale_id = ? ORDER BY l.expires_at`, o.SaleID)
		if err != nil {
			return err
		}
		left := qty
		for rows.Next() && left > 0 {
			var t inventory.Take
			if err := rows.Scan(&t.StoreID, &t.LotID, &t.Qty); err != nil {
				rows.Close()
				return err
			}
			if t.Qty <= 0 {
				continue
			}
			t.Qty = min(t.Qty, left)
			left -= t.Qty
			po.Takes = append(po.Takes, t)
		}
		rows.Close()
		if left > 0 {
			return flashsale.ErrSoldOut
		}
		if err := checkSellable(ctx, tx, po.Takes); err != nil {
			return err
		}
		err = insertFlashOrder(ctx, tx, po)
		if errors.Is(err, errDupKey) {
			po.Dup = true
			return nil
		}
		return err
	})
}
