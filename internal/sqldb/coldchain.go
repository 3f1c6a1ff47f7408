package sqldb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"math"
	"sort"
	"strings"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/order"
)

// ColdChainStore implements coldchain.Store and coldchain.ExportStore.
type ColdChainStore struct{ DB *DB }

var (
	_ coldchain.Store       = (*ColdChainStore)(nil)
	_ coldchain.ExportStore = (*ColdChainStore)(nil)
)

const ccLocCols = `id, merchant_id, name, name_en, kind, storage_class, COALESCE(store_id, 0), gln, created_at`

func scanLocation(row interface{ Scan(...any) error }) (*coldchain.Location, error) {
	var l coldchain.Location
	var c int64
	if err := row.Scan(&l.ID, &l.MerchantID, &l.Name, &l.NameEN, &l.Kind, &l.Class, &l.StoreID, &l.GLN, &c); err != nil {
		return nil, translate(err)
	}
	l.CreatedAt = fromMS(c)
	return &l, nil
}

func (s *ColdChainStore) queryLocations(ctx context.Context, q string, args ...any) ([]coldchain.Location, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []coldchain.Location{}
	for rows.Next() {
		l, err := scanLocation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *l)
	}
	return out, rows.Err()
}

// CreateLocation implements coldchain.Store.
func (s *ColdChainStore) CreateLocation(ctx context.Context, l *coldchain.Location) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) (err error) {
		var store any
		if l.StoreID != 0 {
			if err := storeOfMerchant(ctx, tx, l.MerchantID, l.StoreID); err != nil {
				return err
			}
			store = l.StoreID
		}
		l.CreatedAt = tx.Now
		l.ID, err = tx.InsertID(ctx, `INSERT INTO cc_locations (merchant_id, name, name_en, kind, storage_class, store_id, gln, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			l.MerchantID, l.Name, l.NameEN, l.Kind, l.Class, store, l.GLN, ms(tx.Now))
		return err
	})
}

// Location implements coldchain.Store.
func (s *ColdChainStore) Location(ctx context.Context, merchantID, id int64) (*coldchain.Location, error) {
	return scanLocation(s.DB.QueryRow(ctx, `SELECT `+ccLocCols+` FROM cc_locations WHERE merchant_id = ? AND id = ?`, merchantID, id))
}

// ListLocations implements coldchain.Store.
func (s *ColdChainStore) ListLocations(ctx context.Context, merchantID int64) ([]coldchain.Location, error) {
	return s.queryLocations(ctx, `SELECT `+ccLocCols+` FROM cc_locations WHERE merchant_id = ? ORDER BY id`, merchantID)
}

// LocationsByGLN implements coldchain.Store.
func (s *ColdChainStore) LocationsByGLN(ctx context.Context, merchantID int64, glns []string) ([]coldchain.Location, error) {
	if len(glns) == 0 {
		return nil, nil
	}
	args := []any{merchantID}
	for _, g := range glns {
		args = append(args, g)
	}
	return s.queryLocations(ctx, `SELECT `+ccLocCols+` FROM cc_locations WHERE merchant_id = ? AND gln IN (`+placeholders(len(glns))+`) ORDER BY id`, args...)
}

// LocationsForLot implements coldchain.Store.
func (s *ColdChainStore) LocationsForLot(ctx context.Context, merchantID, lotID int64) ([]coldchain.Location, error) {
	return s.queryLocations(ctx, `SELECT `+ccLocCols+` FROM cc_locations c WHERE c.merchant_id = ? AND c.storage_class = (
		SELECT p.storage FROM lots l JOIN skus k ON k.id = l.sku_id JOIN products p ON p.id = k.product_id WHERE l.id = ? AND l.merchant_id = ?)
		AND c.store_id IN (SELECT store_id FROM stock WHERE lot_id = ? AND merchant_id = ? AND on_hand > 0) ORDER BY c.id`, merchantID, lotID, merchantID, lotID, merchantID)
}

const ccDevCols = `id, merchant_id, device_key, name, location_id, token_hash, created_at, last_seen`

func (s *ColdChainStore) queryDevices(ctx context.Context, q string, args ...any) ([]coldchain.Device, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []coldchain.Device{}
	for rows.Next() {
		var d coldchain.Device
		var c int64
		var seen sql.NullInt64
		if err := rows.Scan(&d.ID, &d.MerchantID, &d.Key, &d.Name, &d.LocationID, &d.TokenHash, &c, &seen); err != nil {
			return nil, err
		}
		d.CreatedAt, d.LastSeen = fromMS(c), nullMS(seen)
		out = append(out, d)
	}
	return out, rows.Err()
}

// CreateDevice implements coldchain.Store.
func (s *ColdChainStore) CreateDevice(ctx context.Context, d *coldchain.Device) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) (err error) {
		if err := absentAs(ofMerchant(ctx, tx, "cc_locations", d.MerchantID, d.LocationID), apperr.ErrInvalidLocation.With("位置不存在", "Unknown location.")); err != nil {
			return err
		}
		d.CreatedAt = tx.Now
		d.ID, err = tx.InsertID(ctx, `INSERT INTO cc_devices (merchant_id, device_key, name, location_id, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			d.MerchantID, d.Key, d.Name, d.LocationID, d.TokenHash, ms(tx.Now))
		return err
	})
}

// ListDevices implements coldchain.Store.
func (s *ColdChainStore) ListDevices(ctx context.Context, merchantID int64) ([]coldchain.Device, error) {
	return s.queryDevices(ctx, `SELECT `+ccDevCols+` FROM cc_devices WHERE merchant_id = ? ORDER BY id`, merchantID)
}

// AllDevices implements coldchain.Store.
func (s *ColdChainStore) AllDevices(ctx context.Context) ([]coldchain.Device, map[int64]string, error) {
	devs, err := s.queryDevices(ctx, `SELECT `+ccDevCols+` FROM cc_devices ORDER BY id`)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.DB.Query(ctx, `SELECT id, slug FROM merchants`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	slugs := map[int64]string{}
	for rows.Next() {
		var id int64
		var slug string
		if err := rows.Scan(&id, &slug); err != nil {
			return nil, nil, err
		}
		slugs[id] = slug
	}
	return devs, slugs, rows.Err()
}

// TouchDevices implements coldchain.Store.
func (s *ColdChainStore) TouchDevices(ctx context.Context, lastSeen map[int64]int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		for id, t := range lastSeen {
			if _, err := tx.Exec(ctx, `UPDATE cc_devices SET last_seen = ? WHERE id = ? AND (last_seen IS NULL OR last_seen < ?)`, t, id, t); err != nil {
				return err
			}
		}
		return nil
	})
}

type rollAgg struct {
	merchant, location  int64
	n                   int64
	sum, mn, mx, arrhen float64
}

// AppendReadings implements coldchain.Store: one chunk row per device and
// one rollup upsert per device and 5-minute bucket, in one transaction.
func (s *ColdChainStore) AppendReadings(ctx context.Context, rs []coldchain.Reading) error {
	if len(rs) == 0 {
		return nil
	}
	byDev := map[int64][]coldchain.Reading{}
	var order []int64
	for _, r := range rs {
		if _, ok := byDev[r.DevicePK]; !ok {
			order = append(order, r.DevicePK)
		}
		byDev[r.DevicePK] = append(byDev[r.DevicePK], r)
	}
	period := coldchain.RollupPeriod.Milliseconds()
	mn, mx := "min", "max"
	if s.DB.Dialect == Postgres {
		mn, mx = "LEAST", "GREATEST"
	}
	upsert := `INSERT INTO cc_rollups (device_id, bucket, merchant_id, location_id, n, t_sum, t_min, t_max, arrh_sum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (device_id, bucket) DO UPDATE SET n = cc_rollups.n + excluded.n, t_sum = cc_rollups.t_sum + excluded.t_sum,
		t_min = ` + mn + `(cc_rollups.t_min, excluded.t_min), t_max = ` + mx + `(cc_rollups.t_max, excluded.t_max), arrh_sum = cc_rollups.arrh_sum + excluded.arrh_sum`
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		for _, dev := range order {
			list := byDev[dev]
			// A device's readings can carry different locations only if it
			// was moved mid-batch; split chunks by location.
			for len(list) > 0 {
				loc := list[0].LocationID
				end := 1
				for end < len(list) && list[end].LocationID == loc {
					end++
				}
				part := list[:end]
				list = list[end:]
				data := coldchain.EncodeChunk(part) // sorts part by time
				if _, err := tx.Exec(ctx, `INSERT INTO cc_chunks (merchant_id, device_id, location_id, t_start, t_end, n, data) VALUES (?, ?, ?, ?, ?, ?, ?)`,
					part[0].MerchantID, dev, loc, part[0].TS, part[len(part)-1].TS, len(part), data); err != nil {
					return err
				}
				buckets := map[int64]*rollAgg{}
				var keys []int64
				for _, r := range part {
					b := r.TS - r.TS%period
					a := buckets[b]
					if a == nil {
						a = &rollAgg{merchant: r.MerchantID, location: loc, mn: math.Inf(1), mx: math.Inf(-1)}
						buckets[b] = a
						keys = append(keys, b)
					}
					a.n++
					a.sum += r.Temp
					a.mn, a.mx = math.Min(a.mn, r.Temp), math.Max(a.mx, r.Temp)
					a.arrhen += coldchain.Arrhenius(r.Temp)
				}
				if len(keys) >= bulkRollups {
					if err := upsertRollupsBulk(ctx, tx, upsert, dev, keys, buckets); err != nil {
						return err
					}
					continue
				}
				for _, b := range keys {
					a := buckets[b]
					if _, err := tx.Exec(ctx, upsert, dev, b, a.merchant, a.location, a.n, a.sum, a.mn, a.mx, a.arrhen); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// bulkRollups is the number of 5-minute buckets from which one device's
// rollups are written with multi-row statements (a logger's upload, the
// demo history) instead of one cached statement per bucket (live ingest).
const bulkRollups = 16

// upsertRollupsBulk writes one device's rollups 200 buckets per statement.
// The statements are not cached: their length varies with the batch.
func upsertRollupsBulk(ctx context.Context, tx *Tx, upsert string, dev int64, keys []int64, buckets map[int64]*rollAgg) error {
	const per = 200
	head, tail, _ := strings.Cut(upsert, "(?, ?, ?, ?, ?, ?, ?, ?, ?)")
	for len(keys) > 0 {
		n := min(per, len(keys))
		var q strings.Builder
		q.WriteString(head)
		args := make([]any, 0, n*9)
		for i, b := range keys[:n] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
			a := buckets[b]
			args = append(args, dev, b, a.merchant, a.location, a.n, a.sum, a.mn, a.mx, a.arrhen)
		}
		q.WriteString(tail)
		if _, err := tx.Tx.ExecContext(ctx, tx.db.rebind(q.String()), args...); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

func locArgs(merchantID int64, ids []int64, rest ...any) []any {
	args := []any{merchantID}
	for _, id := range ids {
		args = append(args, id)
	}
	return append(args, rest...)
}

// Points implements coldchain.Store.
func (s *ColdChainStore) Points(ctx context.Context, merchantID int64, locationIDs []int64, from, to int64) (map[int64][]coldchain.Point, error) {
	out := map[int64][]coldchain.Point{}
	if len(locationIDs) == 0 {
		return out, nil
	}
	rows, err := s.DB.Query(ctx, `SELECT location_id, data FROM cc_chunks WHERE merchant_id = ? AND location_id IN (`+placeholders(len(locationIDs))+`)
		AND t_end >= ? AND t_start < ? ORDER BY t_start, id`, locArgs(merchantID, locationIDs, from, to)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var buf []coldchain.Point
	for rows.Next() {
		var loc int64
		var data []byte
		if err := rows.Scan(&loc, &data); err != nil {
			return nil, err
		}
		buf, err = coldchain.DecodeChunk(data, buf[:0])
		if err != nil {
			return nil, err
		}
		for _, p := range buf {
			if p.TS >= from && p.TS < to {
				out[loc] = append(out[loc], p)
			}
		}
	}
	for _, pts := range out {
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].TS < pts[j].TS })
	}
	return out, rows.Err()
}

// DevicePoints implements coldchain.Store.
func (s *ColdChainStore) DevicePoints(ctx context.Context, merchantID, locationID, devicePK, from, to int64) ([]coldchain.Point, error) {
	rows, err := s.DB.Query(ctx, `SELECT data FROM cc_chunks WHERE merchant_id = ? AND location_id = ? AND device_id = ? AND t_end >= ? AND t_start < ? ORDER BY t_start, id`,
		merchantID, locationID, devicePK, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out, buf []coldchain.Point
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		if buf, err = coldchain.DecodeChunk(data, buf[:0]); err != nil {
			return nil, err
		}
		for _, p := range buf {
			if p.TS >= from && p.TS < to {
				out = append(out, p)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TS < out[j].TS })
	return out, rows.Err()
}

// Rollups implements coldchain.Store. Buckets of several devices at one
// location are merged.
func (s *ColdChainStore) Rollups(ctx context.Context, merchantID int64, locationIDs []int64, from, to int64) (map[int64][]coldchain.Rollup, error) {
	out := map[int64][]coldchain.Rollup{}
	if len(locationIDs) == 0 {
		return out, nil
	}
	rows, err := s.DB.Query(ctx, `SELECT location_id, bucket, SUM(n), SUM(t_sum), MIN(t_min), MAX(t_max), SUM(arrh_sum) FROM cc_rollups
		WHERE merchant_id = ? AND location_id IN (`+placeholders(len(locationIDs))+`) AND bucket >= ? AND bucket < ?
		GROUP BY location_id, bucket ORDER BY location_id, bucket`, locArgs(merchantID, locationIDs, from, to)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r coldchain.Rollup
		if err := rows.Scan(&r.LocationID, &r.Bucket, &r.N, &r.Sum, &r.Min, &r.Max, &r.SumArrh); err != nil {
			return nil, err
		}
		out[r.LocationID] = append(out[r.LocationID], r)
	}
	return out, rows.Err()
}

// DeleteRawBefore implements coldchain.Store.
func (s *ColdChainStore) DeleteRawBefore(ctx context.Context, cutoff int64) (int64, error) {
	var n int64
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM cc_chunks WHERE t_end < ?`, cutoff)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// LotInfo implements coldchain.Store.
func (s *ColdChainStore) LotInfo(ctx context.Context, merchantID, lotID int64) (*coldchain.LotInfo, error) {
	var l coldchain.LotInfo
	var p, e int64
	err := s.DB.QueryRow(ctx, `SELECT l.id, l.merchant_id, l.code, l.sku_id, k.name, k.gtin, pr.id, pr.name, pr.name_en, pr.storage, l.origin, l.produced_at, l.expires_at,
		l.hold, l.hold_reason, m.name, m.slug FROM lots l JOIN skus k ON k.id = l.sku_id JOIN products pr ON pr.id = k.product_id JOIN merchants m ON m.id = l.merchant_id
		WHERE l.merchant_id = ? AND l.id = ?`, merchantID, lotID).Scan(&l.ID, &l.MerchantID, &l.Code, &l.SKUID, &l.SKUName, &l.GTIN, &l.ProductID, &l.Product, &l.ProductEN,
		&l.Class, &l.Origin, &p, &e, &l.Hold, &l.HoldReason, &l.MerchantName, &l.MerchantSlug)
	if err != nil {
		return nil, translate(err)
	}
	l.ProducedAt, l.ExpiresAt = fromMS(p), fromMS(e)
	rows, err := s.DB.Query(ctx, `SELECT store_id, hold, on_hand FROM stock WHERE merchant_id = ? AND lot_id = ? AND (on_hand > 0 OR hold = TRUE) ORDER BY store_id`, merchantID, lotID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, onHand int64
		var hold bool
		if err := rows.Scan(&id, &hold, &onHand); err != nil {
			return nil, err
		}
		if hold {
			l.HeldStores = append(l.HeldStores, id)
		}
		if onHand > 0 {
			l.StoreIDs = append(l.StoreIDs, id)
		}
	}
	return &l, rows.Err()
}

// WriteOffLot implements coldchain.Store.
func (s *ColdChainStore) WriteOffLot(ctx context.Context, merchantID, lotID, storeID int64) (int64, error) {
	var n int64
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(on_hand - reserved), 0) FROM stock WHERE merchant_id = ? AND lot_id = ? AND (? = 0 OR store_id = ?)`,
			merchantID, lotID, storeID, storeID).Scan(&n); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE stock SET on_hand = reserved WHERE merchant_id = ? AND lot_id = ? AND (? = 0 OR store_id = ?)`, merchantID, lotID, storeID, storeID)
		return err
	})
	return n, err
}

// ReleaseUnpaidOnLot cancels every unpaid order that has units of the lot
// reserved, releasing all of those orders' reservations, in one
// transaction, and returns their ids. A held lot must not stay promised to
// buyers who have not paid yet: they could pay for food that cannot be
// handed over. The caller tells the buyers (order.status events) and the
// rooms (stock).
func (s *ColdChainStore) ReleaseUnpaidOnLot(ctx context.Context, merchantID, lotID int64) ([]int64, error) {
	return s.ReleaseUnpaidOnLotAt(ctx, merchantID, lotID, 0)
}

// ReleaseUnpaidOnLotAt is ReleaseUnpaidOnLot for the lot's units in one
// store (storeID 0: every store).
func (s *ColdChainStore) ReleaseUnpaidOnLotAt(ctx context.Context, merchantID, lotID, storeID int64) ([]int64, error) {
	var ids []int64
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		// Locked on PostgreSQL: an order paid meanwhile is re-checked
		// after its payment commits and skipped, not cancelled and refunded.
		var err error
		ids, err = queryIDs(ctx, tx, `SELECT o.id FROM orders o WHERE o.merchant_id = ? AND o.status = ?
			AND EXISTS (SELECT 1 FROM allocations a WHERE a.order_id = o.id AND a.lot_id = ? AND (? = 0 OR a.store_id = ?) AND a.state = 'reserved') ORDER BY o.id`+tx.db.forUpdate(),
			merchantID, string(order.PendingPayment), lotID, storeID, storeID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := transition(ctx, tx, merchantID, id, order.Cancelled); err != nil {
				return err
			}
		}
		return nil
	})
	return ids, err
}

var codeEnc = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// PublicCode implements coldchain.Store.
func (s *ColdChainStore) PublicCode(ctx context.Context, merchantID, lotID int64) (string, error) {
	var code string
	err := s.DB.QueryRow(ctx, `SELECT code FROM cc_lot_codes WHERE merchant_id = ? AND lot_id = ?`, merchantID, lotID).Scan(&code)
	if err == nil {
		return code, nil
	}
	if err != sql.ErrNoRows {
		return "", err
	}
	err = s.DB.WriteTx(ctx, func(tx *Tx) error {
		if err := absentAs(ofMerchant(ctx, tx, "lots", merchantID, lotID), coldchain.ErrLotNotFound); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT code FROM cc_lot_codes WHERE lot_id = ?`, lotID).Scan(&code); err == nil {
			return nil
		}
		b := make([]byte, 8)
		rand.Read(b)
		code = codeEnc.EncodeToString(b)
		if _, err := tx.Exec(ctx, `INSERT INTO cc_lot_codes (code, merchant_id, lot_id) VALUES (?, ?, ?) ON CONFLICT (lot_id) DO NOTHING`, code, merchantID, lotID); err != nil {
			return err
		}
		// a concurrent first request may have stored the lot's code (PostgreSQL)
		return tx.QueryRow(ctx, `SELECT code FROM cc_lot_codes WHERE lot_id = ?`, lotID).Scan(&code)
	})
	return code, err
}

// LotByPublicCode implements coldchain.Store.
func (s *ColdChainStore) LotByPublicCode(ctx context.Context, code string) (int64, int64, error) {
	var m, l int64
	if err := s.DB.QueryRow(ctx, `SELECT merchant_id, lot_id FROM cc_lot_codes WHERE code = ?`, strings.ToLower(code)).Scan(&m, &l); err != nil {
		return 0, 0, absentAs(err, coldchain.ErrLotNotFound)
	}
	return m, l, nil
}

// LotByGTIN implements coldchain.Store. GTINs are compared as 14 digits.
func (s *ColdChainStore) LotByGTIN(ctx context.Context, gtin, lot string) (int64, int64, error) {
	g := strings.Repeat("0", max(0, 14-len(gtin))) + gtin
	var m, l int64
	err := s.DB.QueryRow(ctx, `SELECT l.merchant_id, l.id FROM lots l JOIN skus k ON k.id = l.sku_id
		WHERE k.gtin IN (?, ?, ?) AND l.code = ? ORDER BY l.id LIMIT 1`, g, strings.TrimPrefix(g, "0"), strings.TrimLeft(g, "0"), lot).Scan(&m, &l)
	if err != nil {
		return 0, 0, absentAs(err, coldchain.ErrLotNotFound)
	}
	return m, l, nil
}

// CurrentLotByGTIN implements coldchain.Store.
func (s *ColdChainStore) CurrentLotByGTIN(ctx context.Context, gtin string) (int64, int64, error) {
	g := strings.Repeat("0", max(0, 14-len(gtin))) + gtin
	var m, l int64
	err := s.DB.QueryRow(ctx, `SELECT l.merchant_id, l.id FROM lots l JOIN skus k ON k.id = l.sku_id
		WHERE k.gtin IN (?, ?, ?) ORDER BY
		CASE WHEN l.hold = FALSE AND l.expires_at > ? AND EXISTS (SELECT 1 FROM stock st WHERE st.lot_id = l.id AND st.on_hand > st.reserved) THEN 0 ELSE 1 END,
		CASE WHEN l.hold = FALSE AND l.expires_at > ? THEN l.expires_at ELSE -l.produced_at END, l.id DESC LIMIT 1`,
		g, strings.TrimPrefix(g, "0"), strings.TrimLeft(g, "0"), ms(s.DB.Now()), ms(s.DB.Now())).Scan(&m, &l)
	if err != nil {
		return 0, 0, absentAs(err, coldchain.ErrLotNotFound)
	}
	return m, l, nil
}
