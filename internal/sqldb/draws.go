package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/shelflive/shelflive/internal/draws"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/stores"
)

// DrawStore implements draws.Store.
type DrawStore struct{ DB *DB }

var _ draws.Store = (*DrawStore)(nil)

const drawCols = `id, merchant_id, room_id, title, entry, keyword, winners, prize_kind, COALESCE(prize_coupon_id, 0), COALESCE(prize_sku_id, 0), COALESCE(prize_store_id, 0),
	seed, commitment, status, opens_at, closes_at, drawn_at, created_at, (SELECT COUNT(*) FROM draw_entries e WHERE e.draw_id = draws.id)`

func scanDraw(row interface{ Scan(...any) error }) (*draws.Draw, error) {
	var d draws.Draw
	var entry, prize, status, seed string
	var opens, closes, created int64
	var drawn sql.NullInt64
	if err := row.Scan(&d.ID, &d.MerchantID, &d.RoomID, &d.Title, &entry, &d.Keyword, &d.Winners, &prize, &d.PrizeCouponID, &d.PrizeSKUID, &d.PrizeStoreID,
		&seed, &d.Commitment, &status, &opens, &closes, &drawn, &created, &d.Entrants); err != nil {
		return nil, translate(err)
	}
	d.Entry, d.PrizeKind, d.Status = draws.EntryKind(entry), draws.PrizeKind(prize), draws.Status(status)
	d.OpensAt, d.ClosesAt, d.CreatedAt, d.DrawnAt = fromMS(opens), fromMS(closes), fromMS(created), nullMS(drawn)
	d.SetSecretSeed(seed)
	if d.Status == draws.Drawn {
		d.Seed = seed // revealed
	}
	return &d, nil
}

// Create implements draws.Store.
func (s *DrawStore) Create(ctx context.Context, d *draws.Draw) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		switch d.PrizeKind {
		case draws.PrizeCoupon:
			if err := absentAs(ofMerchant(ctx, tx, "coupons", d.MerchantID, d.PrizeCouponID), draws.ErrPrizeCoupon); err != nil {
				return err
			}
		case draws.PrizeFreeSKU:
			if err := absentAs(ofMerchant(ctx, tx, "skus", d.MerchantID, d.PrizeSKUID), draws.ErrPrize.With("奖品商品不存在", "Unknown prize SKU.")); err != nil {
				return err
			}
			if err := storeOfMerchant(ctx, tx, d.MerchantID, d.PrizeStoreID); err != nil {
				return err
			}
			if d.AtStore != 0 && d.PrizeStoreID != d.AtStore {
				return stores.ErrUnknownStore // checked after the SKU, as an absent store is
			}
		}
		d.Status, d.CreatedAt = draws.Open, tx.Now
		id, err := tx.InsertID(ctx, `INSERT INTO draws (merchant_id, room_id, title, entry, keyword, winners, prize_kind, prize_coupon_id, prize_sku_id, prize_store_id,
			seed, commitment, status, opens_at, closes_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
			d.MerchantID, d.RoomID, d.Title, string(d.Entry), d.Keyword, d.Winners, string(d.PrizeKind), nullID(d.PrizeCouponID), nullID(d.PrizeSKUID), nullID(d.PrizeStoreID),
			d.SecretSeed(), d.Commitment, ms(d.OpensAt), ms(d.ClosesAt), ms(tx.Now))
		d.ID = id
		return err
	})
}

// Get implements draws.Store.
func (s *DrawStore) Get(ctx context.Context, merchantID, id int64) (*draws.Draw, error) {
	return scanDraw(s.DB.QueryRow(ctx, `SELECT `+drawCols+` FROM draws WHERE merchant_id = ? AND id = ?`, merchantID, id))
}

// ByID implements draws.Store.
func (s *DrawStore) ByID(ctx context.Context, id int64) (*draws.Draw, error) {
	return scanDraw(s.DB.QueryRow(ctx, `SELECT `+drawCols+` FROM draws WHERE id = ?`, id))
}

func (s *DrawStore) list(ctx context.Context, q string, args ...any) ([]draws.Draw, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+drawCols+` FROM draws WHERE `+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []draws.Draw{}
	for rows.Next() {
		d, err := scanDraw(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// RoomDraws implements draws.Store (newest first).
func (s *DrawStore) RoomDraws(ctx context.Context, merchantID, roomID int64) ([]draws.Draw, error) {
	return s.list(ctx, `merchant_id = ? AND room_id = ? ORDER BY id DESC LIMIT 50`, merchantID, roomID)
}

// Due implements draws.Store.
func (s *DrawStore) Due(ctx context.Context, now time.Time) ([]draws.Draw, error) {
	return s.list(ctx, `status = 'open' AND closes_at <= ? ORDER BY closes_at LIMIT 100`, ms(now))
}

// Enter implements draws.Store: the window and the status are checked on
// the locked draw row; the primary key makes it once per person.
func (s *DrawStore) Enter(ctx context.Context, merchantID, drawID int64, e draws.Entrant) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		var status string
		var opens, closes int64
		if err := tx.QueryRow(ctx, `SELECT status, opens_at, closes_at FROM draws WHERE merchant_id = ? AND id = ?`+tx.db.forShare(), merchantID, drawID).Scan(&status, &opens, &closes); err != nil {
			return translate(err)
		}
		if now := ms(tx.Now); status != string(draws.Open) || now >= closes || now < opens {
			return draws.ErrClosed
		}
		n, err := rowsAffected(tx.Exec(ctx, `INSERT INTO draw_entries (draw_id, customer_id, via, device, entered_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			drawID, e.CustomerID, string(e.Via), e.Device, ms(tx.Now)))
		if err == nil && n == 0 {
			return draws.ErrEntered
		}
		return err
	})
}

// Entrants implements draws.Store, oldest entry first.
func (s *DrawStore) Entrants(ctx context.Context, drawID int64) ([]draws.Entrant, error) {
	rows, err := s.DB.Query(ctx, `SELECT e.customer_id, c.phone, e.via, e.device, e.entered_at, c.created_at, e.excluded FROM draw_entries e
		JOIN customers c ON c.id = e.customer_id WHERE e.draw_id = ? ORDER BY e.entered_at, e.customer_id`, drawID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []draws.Entrant{}
	for rows.Next() {
		var e draws.Entrant
		var via, phone string
		var at, created int64
		if err := rows.Scan(&e.CustomerID, &phone, &via, &e.Device, &at, &created, &e.Excluded); err != nil {
			return nil, err
		}
		e.Via, e.EnteredAt, e.AccountCreatedAt, e.Name = draws.EntryKind(via), fromMS(at), fromMS(created), identity.MaskPhone(phone)
		out = append(out, e)
	}
	return out, rows.Err()
}

// SaveResult implements draws.Store.
func (s *DrawStore) SaveResult(ctx context.Context, drawID int64, excluded map[int64]string, winners []int64) (bool, error) {
	var ok bool
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		n, err := rowsAffected(tx.Exec(ctx, `UPDATE draws SET status = 'drawn', drawn_at = ? WHERE id = ? AND status = 'open'`, ms(tx.Now), drawID))
		if err != nil || n == 0 {
			return err
		}
		ok = true
		for cust, why := range excluded {
			if _, err := tx.Exec(ctx, `UPDATE draw_entries SET excluded = ? WHERE draw_id = ? AND customer_id = ?`, why, drawID, cust); err != nil {
				return err
			}
		}
		for i, cust := range winners {
			if _, err := tx.Exec(ctx, `INSERT INTO draw_winners (draw_id, customer_id, position) VALUES (?, ?, ?)`, drawID, cust, i+1); err != nil {
				return err
			}
		}
		return nil
	})
	return ok, err
}

// Result implements draws.Store.
func (s *DrawStore) Result(ctx context.Context, drawID int64) (*draws.Result, error) {
	d, err := s.ByID(ctx, drawID)
	if err != nil {
		return nil, err
	}
	res := &draws.Result{Draw: *d, Entries: []draws.Entrant{}, Excluded: []draws.Entrant{}, Winners: []draws.Winner{}}
	if d.Status != draws.Drawn {
		return res, nil
	}
	all, err := s.Entrants(ctx, drawID)
	if err != nil {
		return nil, err
	}
	for _, e := range all {
		if e.Excluded != "" {
			res.Excluded = append(res.Excluded, e)
		} else {
			res.Entries = append(res.Entries, e)
		}
	}
	rows, err := s.DB.Query(ctx, `SELECT w.customer_id, c.phone, w.position, COALESCE(w.claim_id, 0), COALESCE(w.order_id, 0) FROM draw_winners w
		JOIN customers c ON c.id = w.customer_id WHERE w.draw_id = ? ORDER BY w.position`, drawID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var w draws.Winner
		var phone string
		if err := rows.Scan(&w.CustomerID, &phone, &w.Position, &w.ClaimID, &w.OrderID); err != nil {
			return nil, err
		}
		w.Name = identity.MaskPhone(phone)
		res.Winners = append(res.Winners, w)
	}
	return res, rows.Err()
}

// PendingPrizes implements draws.Store.
func (s *DrawStore) PendingPrizes(ctx context.Context) ([]draws.PendingPrize, error) {
	rows, err := s.DB.Query(ctx, `SELECT draw_id, customer_id FROM draw_winners WHERE claim_id IS NULL AND order_id IS NULL ORDER BY draw_id, position LIMIT 200`)
	if err != nil {
		return nil, err
	}
	type key struct{ d, c int64 }
	var keys []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.d, &k.c); err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	var out []draws.PendingPrize
	for _, k := range keys {
		d, err := s.ByID(ctx, k.d)
		if err != nil {
			return nil, err
		}
		out = append(out, draws.PendingPrize{Draw: *d, CustomerID: k.c})
	}
	return out, nil
}

// SetPrize implements draws.Store.
func (s *DrawStore) SetPrize(ctx context.Context, drawID, customerID, claimID, orderID int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		return mustAffect(tx.Exec(ctx, `UPDATE draw_winners SET claim_id = ?, order_id = ? WHERE draw_id = ? AND customer_id = ?`, nullID(claimID), nullID(orderID), drawID, customerID))
	})
}
