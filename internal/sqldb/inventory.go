package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/stores"
)

// InventoryStore implements inventory.Store.
type InventoryStore struct{ DB *DB }

var _ inventory.Store = (*InventoryStore)(nil)

const lotCols = `id, merchant_id, sku_id, code, produced_at, expires_at, origin, hold, hold_reason`

func scanLot(row interface{ Scan(...any) error }) (*inventory.Lot, error) {
	var l inventory.Lot
	var p, e int64
	if err := row.Scan(&l.ID, &l.MerchantID, &l.SKUID, &l.Code, &p, &e, &l.Origin, &l.Hold, &l.HoldReason); err != nil {
		return nil, translate(err)
	}
	l.ProducedAt, l.ExpiresAt = fromMS(p), fromMS(e)
	return &l, nil
}

func (s *InventoryStore) CreateLot(ctx context.Context, l *inventory.Lot) error {
	if err := l.Validate(); err != nil {
		return err
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) (err error) {
		if err := absentAs(ofMerchant(ctx, tx, "skus", l.MerchantID, l.SKUID), catalog.ErrUnknownSKU); err != nil {
			return err
		}
		l.ID, err = tx.InsertID(ctx, `INSERT INTO lots (merchant_id, sku_id, code, produced_at, expires_at, origin, hold, hold_reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			l.MerchantID, l.SKUID, l.Code, ms(l.ProducedAt), ms(l.ExpiresAt), l.Origin, l.Hold, l.HoldReason, ms(tx.Now))
		return err
	})
}

func (s *InventoryStore) ListLots(ctx context.Context, merchantID, skuID int64) ([]inventory.Lot, error) {
	q := `SELECT ` + lotCols + ` FROM lots WHERE merchant_id = ?`
	args := []any{merchantID}
	if skuID > 0 {
		q += ` AND sku_id = ?`
		args = append(args, skuID)
	}
	rows, err := s.DB.Query(ctx, q+` ORDER BY expires_at, id`, args...)
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	// Where only a store's units are held.
	idx := map[int64]int{}
	for i := range out {
		idx[out[i].ID] = i
	}
	hr, err := s.DB.Query(ctx, `SELECT lot_id, store_id FROM stock WHERE merchant_id = ? AND hold = TRUE ORDER BY lot_id, store_id`, merchantID)
	if err != nil {
		return nil, err
	}
	defer hr.Close()
	for hr.Next() {
		var lot, store int64
		if err := hr.Scan(&lot, &store); err != nil {
			return nil, err
		}
		if i, ok := idx[lot]; ok {
			out[i].HeldStores = append(out[i].HeldStores, store)
		}
	}
	return out, hr.Err()
}

func (s *InventoryStore) Lot(ctx context.Context, merchantID, id int64) (*inventory.Lot, error) {
	return scanLot(s.DB.QueryRow(ctx, `SELECT `+lotCols+` FROM lots WHERE merchant_id = ? AND id = ?`, merchantID, id))
}

// SetHold holds the whole lot, in every store; releasing it lifts every
// hold on the lot, its stores' too.
func (s *InventoryStore) SetHold(ctx context.Context, merchantID, lotID int64, hold bool, reason string) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE lots SET hold = ?, hold_reason = ? WHERE merchant_id = ? AND id = ?`, hold, reason, merchantID, lotID)
		if err := mustAffect(res, err); err != nil {
			return err
		}
		if hold {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE stock SET hold = FALSE, hold_reason = '' WHERE merchant_id = ? AND lot_id = ?`, merchantID, lotID)
		return err
	})
}

// SetStoreHold implements inventory.Store: only the lot's units in that
// store (a store without stock of the lot has nothing to hold).
func (s *InventoryStore) SetStoreHold(ctx context.Context, merchantID, lotID, storeID int64, hold bool, reason string) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if err := mustAffect(tx.Exec(ctx, `UPDATE lots SET hold = hold WHERE merchant_id = ? AND id = ?`, merchantID, lotID)); err != nil {
			return err
		}
		if err := storeOfMerchant(ctx, tx, merchantID, storeID); err != nil {
			return err
		}
		if !hold {
			reason = ""
		}
		_, err := tx.Exec(ctx, `UPDATE stock SET hold = ?, hold_reason = ? WHERE merchant_id = ? AND lot_id = ? AND store_id = ?`, hold, reason, merchantID, lotID, storeID)
		return err
	})
}

// HeldStores implements inventory.Store.
func (s *InventoryStore) HeldStores(ctx context.Context, merchantID, lotID int64) ([]int64, error) {
	ids, err := queryIDs(ctx, s.DB, `SELECT store_id FROM stock WHERE merchant_id = ? AND lot_id = ? AND hold = TRUE ORDER BY store_id`, merchantID, lotID)
	if err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []int64{} // never nil, as before (no store on hold)
	}
	return ids, nil
}

func (s *InventoryStore) SetStock(ctx context.Context, merchantID, storeID, lotID, onHand int64) error {
	if onHand < 0 || onHand > 10_000_000 {
		return apperr.ErrInvalidQuantity.At("on_hand").With("库存数量无效", "Invalid stock quantity.")
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error { return setStockTx(ctx, tx, merchantID, storeID, lotID, onHand) })
}

// errUnknownLot refuses stock for a lot that is not the merchant's.
var errUnknownLot = apperr.InvalidField("lot_id", "unknown_lot", "批次不存在", "Unknown lot.")

func setStockTx(ctx context.Context, tx *Tx, merchantID, storeID, lotID, onHand int64) error {
	var skuID int64
	// the lot row lock serializes SetStock of one lot (PostgreSQL), so two
	// first settings cannot both insert its stock row
	if err := tx.QueryRow(ctx, `SELECT sku_id FROM lots WHERE merchant_id = ? AND id = ?`+tx.db.forUpdate(), merchantID, lotID).Scan(&skuID); err != nil {
		return errUnknownLot
	}
	if err := storeOfMerchant(ctx, tx, merchantID, storeID); err != nil {
		return err
	}
	var reserved int64
	err := tx.QueryRow(ctx, `SELECT reserved FROM stock WHERE store_id = ? AND lot_id = ?`+tx.db.forUpdate(), storeID, lotID).Scan(&reserved)
	if err == nil {
		if onHand < reserved {
			return inventory.ErrBelowReserved
		}
		_, err = tx.Exec(ctx, `UPDATE stock SET on_hand = ? WHERE store_id = ? AND lot_id = ?`, onHand, storeID, lotID)
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO stock (merchant_id, store_id, lot_id, sku_id, on_hand, reserved) VALUES (?, ?, ?, ?, ?, 0)`, merchantID, storeID, lotID, skuID, onHand)
	return err
}

// errLotMismatch refuses an import row whose lot exists with another expiry date.
var errLotMismatch = apperr.InvalidField("expires", "lot_mismatch", "批次已存在，到期日期不同", "The lot exists with another expiry date.")

// ImportStock applies a stock count in one transaction: for each row the
// SKU (by code) and store (by name or id) must exist; the lot is created
// when missing (a lot that exists must have the same expiry); then its
// on-hand units in that store are set as SetStock would. Any bad row fails
// the whole count, named by its row, and nothing changes. It returns how
// many lots it created.
func (s *InventoryStore) ImportStock(ctx context.Context, merchantID int64, rows []inventory.StockRow) (int, error) {
	created := 0
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		created = 0
		for _, r := range rows {
			var skuID int64
			if err := tx.QueryRow(ctx, `SELECT id FROM skus WHERE merchant_id = ? AND code = ?`, merchantID, r.SKUCode).Scan(&skuID); err != nil {
				return absentAs(err, catalog.ErrUnknownSKU.At(r.At("sku_code")).With("没有这个规格编码："+r.SKUCode, "No SKU with code "+r.SKUCode+"."))
			}
			storeID, err := importStore(ctx, tx, merchantID, r)
			if err != nil {
				return err
			}
			var lotID, expires int64
			err = tx.QueryRow(ctx, `SELECT id, expires_at FROM lots WHERE merchant_id = ? AND sku_id = ? AND code = ?`, merchantID, skuID, r.LotCode).Scan(&lotID, &expires)
			switch {
			case err == nil && expires != ms(r.ExpiresAt):
				return errLotMismatch.At(r.At("expires")).With("批次 "+r.LotCode+" 已存在，到期日期不同", "Lot "+r.LotCode+" exists with another expiry date.")
			case errors.Is(err, sql.ErrNoRows):
				l := inventory.Lot{MerchantID: merchantID, SKUID: skuID, Code: r.LotCode, ProducedAt: r.ProducedAt, ExpiresAt: r.ExpiresAt, Origin: r.Origin}
				if err := l.Validate(); err != nil {
					return inventory.ErrInvalidDates.At(r.At("expires")).With("到期日期须晚于生产日期", "Expiry must be after production.")
				}
				if lotID, err = tx.InsertID(ctx, `INSERT INTO lots (merchant_id, sku_id, code, produced_at, expires_at, origin, hold, hold_reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					merchantID, skuID, l.Code, ms(l.ProducedAt), ms(l.ExpiresAt), l.Origin, false, "", ms(tx.Now)); err != nil {
					return err
				}
				created++
			case err != nil:
				return err
			}
			if err := setStockTx(ctx, tx, merchantID, storeID, lotID, r.OnHand); err != nil {
				switch {
				case errors.Is(err, inventory.ErrBelowReserved):
					return inventory.ErrBelowReserved.With("第 "+strconv.Itoa(r.Row)+" 行：库存不能少于已被预订的数量", "Row "+strconv.Itoa(r.Row)+": stock cannot go below the units already reserved.")
				case errors.Is(err, stores.ErrUnknownStore): // a store id of another tenant, or none
					return stores.ErrUnknownStore.At(r.At("store")).With("没有这个门店："+r.Store, "No store "+r.Store+".")
				}
				return err
			}
		}
		return nil
	})
	return created, err
}

// errAmbiguousStore refuses a store name that several stores have.
var errAmbiguousStore = apperr.InvalidField("store", "ambiguous_store", "有多个门店叫这个名字，请填门店编号", "Several stores have this name; use the store id.")

// importStore finds the row's store by name (a name two stores share is
// refused rather than guessed); a number is taken as the store's id.
func importStore(ctx context.Context, tx *Tx, merchantID int64, r inventory.StockRow) (int64, error) {
	if id, err := strconv.ParseInt(r.Store, 10, 64); err == nil {
		return id, nil // setStockTx checks that it is the merchant's
	}
	unknown := stores.ErrUnknownStore.At(r.At("store")).With("没有这个门店："+r.Store, "No store "+r.Store+".")
	ids, err := queryIDs(ctx, tx, `SELECT id FROM stores WHERE merchant_id = ? AND name = ? LIMIT 2`, merchantID, r.Store)
	if err != nil {
		return 0, err
	}
	switch len(ids) {
	case 0:
		return 0, unknown
	case 1:
		return ids[0], nil
	}
	return 0, errAmbiguousStore.At(r.At("store"))
}

// Levels lists stock per store and lot of one SKU, or of every SKU when skuID is 0.
func (s *InventoryStore) Levels(ctx context.Context, merchantID, skuID int64) ([]inventory.Level, error) {
	if skuID == 0 {
		return queryLevels(ctx, s.DB.Query, ``, merchantID)
	}
	return queryLevels(ctx, s.DB.Query, `AND st.sku_id = ?`, merchantID, skuID)
}

type rowsLike interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}

func queryLevels[R rowsLike](ctx context.Context, query func(context.Context, string, ...any) (R, error), where string, args ...any) ([]inventory.Level, error) {
	rows, err := query(ctx, `SELECT st.store_id, st.lot_id, st.sku_id, l.code, l.expires_at, l.hold, st.hold, st.on_hand, st.reserved
		FROM stock st JOIN lots l ON l.id = st.lot_id WHERE st.merchant_id = ? `+where+` ORDER BY l.expires_at, st.lot_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []inventory.Level
	for rows.Next() {
		var lv inventory.Level
		var exp int64
		var lotHold bool
		if err := rows.Scan(&lv.StoreID, &lv.LotID, &lv.SKUID, &lv.LotCode, &exp, &lotHold, &lv.StoreHold, &lv.OnHand, &lv.Reserved); err != nil {
			return nil, err
		}
		lv.Hold = lotHold || lv.StoreHold // the whole lot, or its units in this store
		lv.ExpiresAt = fromMS(exp)
		out = append(out, lv)
	}
	return out, rows.Err()
}

func (s *InventoryStore) Available(ctx context.Context, merchantID int64, skuIDs []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(skuIDs) == 0 {
		return out, nil
	}
	args := []any{ms(s.DB.Now()), merchantID}
	ph := make([]string, len(skuIDs))
	for i, id := range skuIDs {
		ph[i] = "?"
		args = append(args, id)
		out[id] = 0
	}
	rows, err := s.DB.Query(ctx, `SELECT st.sku_id, SUM(st.on_hand - st.reserved) FROM stock st JOIN lots l ON l.id = st.lot_id
		WHERE l.hold = FALSE AND st.hold = FALSE AND l.expires_at > ? AND st.merchant_id = ? AND st.sku_id IN (`+strings.Join(ph, ",")+`) GROUP BY st.sku_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}
