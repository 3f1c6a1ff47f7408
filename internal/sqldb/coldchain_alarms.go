package sqldb

// Cold-chain alarms: raised, cleared, the lots they touch, and quality's decisions.

import (
	"context"
	"database/sql"
	"time"

	"github.com/shelflive/shelflive/internal/coldchain"
)

// CreateAlarm implements coldchain.Store: the alarm and its lots (not yet
// held) in one transaction.
func (s *ColdChainStore) CreateAlarm(ctx context.Context, a *coldchain.Alarm) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) (err error) {
		a.ID, err = tx.InsertID(ctx, `INSERT INTO cc_alarms (merchant_id, location_id, device_id, kind, rule, storage_class, started_at, detected_at, peak, beyond_ms, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.MerchantID, a.LocationID, a.DevicePK, a.Kind, a.Rule, a.Class, ms(a.StartedAt), ms(a.DetectedAt), a.Peak, a.BeyondMS, a.Status)
		if err != nil {
			return err
		}
		return addAlarmLots(ctx, tx, a.MerchantID, a.ID, a.Lots)
	})
}

// ClearAlarm implements coldchain.Store.
func (s *ColdChainStore) ClearAlarm(ctx context.Context, merchantID, id int64, t time.Time) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE cc_alarms SET cleared_at = ?, status = CASE WHEN kind = 'missing_data' OR decision <> '' THEN 'resolved' ELSE 'cleared' END
			WHERE merchant_id = ? AND id = ? AND cleared_at IS NULL`, ms(t), merchantID, id)
		return err
	})
}

// AddAlarmLots implements coldchain.Store: adds lots or updates their held flag.
func (s *ColdChainStore) AddAlarmLots(ctx context.Context, merchantID, alarmID int64, lots []coldchain.AlarmLot) error {
	if len(lots) == 0 {
		return nil
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error { return addAlarmLots(ctx, tx, merchantID, alarmID, lots) })
}

func addAlarmLots(ctx context.Context, tx *Tx, merchantID, alarmID int64, lots []coldchain.AlarmLot) error {
	for _, l := range lots {
		if _, err := tx.Exec(ctx, `INSERT INTO cc_alarm_lots (alarm_id, lot_id, merchant_id, held) VALUES (?, ?, ?, ?)
			ON CONFLICT (alarm_id, lot_id) DO UPDATE SET held = excluded.held`, alarmID, l.LotID, merchantID, l.Held); err != nil {
			return err
		}
	}
	return nil
}

const ccAlarmCols = `a.id, a.merchant_id, a.location_id, COALESCE(c.name, ''), a.device_id, COALESCE(d.device_key, ''), a.kind, a.rule, a.storage_class,
	a.started_at, a.detected_at, a.cleared_at, a.peak, a.beyond_ms, a.status, a.decision, a.decided_by, a.decided_at, a.note`

const ccAlarmFrom = ` FROM cc_alarms a LEFT JOIN cc_locations c ON c.id = a.location_id LEFT JOIN cc_devices d ON d.id = a.device_id`

// Alarms implements coldchain.Store.
func (s *ColdChainStore) Alarms(ctx context.Context, f coldchain.AlarmFilter) ([]coldchain.Alarm, error) {
	q := `SELECT ` + ccAlarmCols + ccAlarmFrom + ` WHERE a.merchant_id = ?`
	args := []any{f.MerchantID}
	switch f.Status {
	case "":
	case "active":
		q += ` AND a.status IN ('open', 'cleared')`
	default:
		q += ` AND a.status = ?`
		args = append(args, f.Status)
	}
	if f.LotID > 0 {
		q += ` AND a.id IN (SELECT alarm_id FROM cc_alarm_lots WHERE lot_id = ?)`
		args = append(args, f.LotID)
	}
	if len(f.LocationIDs) > 0 {
		q += ` AND a.location_id IN (` + placeholders(len(f.LocationIDs)) + `)`
		for _, id := range f.LocationIDs {
			args = append(args, id)
		}
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	q += ` ORDER BY a.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []coldchain.Alarm
	idx := map[int64]int{}
	for rows.Next() {
		a, err := scanAlarm(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		idx[a.ID] = len(out)
		out = append(out, *a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return []coldchain.Alarm{}, nil
	}
	ids := make([]int64, 0, len(out))
	for _, a := range out {
		ids = append(ids, a.ID)
	}
	lots, err := s.alarmLots(ctx, f.MerchantID, ids)
	if err != nil {
		return nil, err
	}
	for id, ls := range lots {
		out[idx[id]].Lots = ls
	}
	return out, nil
}

func scanAlarm(row interface{ Scan(...any) error }) (*coldchain.Alarm, error) {
	var a coldchain.Alarm
	var started, detected int64
	var cleared, decided sql.NullInt64
	if err := row.Scan(&a.ID, &a.MerchantID, &a.LocationID, &a.LocationName, &a.DevicePK, &a.DeviceKey, &a.Kind, &a.Rule, &a.Class,
		&started, &detected, &cleared, &a.Peak, &a.BeyondMS, &a.Status, &a.Decision, &a.DecidedBy, &decided, &a.Note); err != nil {
		return nil, translate(err)
	}
	a.StartedAt, a.DetectedAt, a.ClearedAt, a.DecidedAt = fromMS(started), fromMS(detected), nullMS(cleared), nullMS(decided)
	a.Lots = []coldchain.AlarmLot{}
	return &a, nil
}

func (s *ColdChainStore) alarmLots(ctx context.Context, merchantID int64, ids []int64) (map[int64][]coldchain.AlarmLot, error) {
	rows, err := s.DB.Query(ctx, `SELECT al.alarm_id, al.lot_id, l.code, p.name, al.held FROM cc_alarm_lots al JOIN lots l ON l.id = al.lot_id
		JOIN skus k ON k.id = l.sku_id JOIN products p ON p.id = k.product_id WHERE al.merchant_id = ? AND al.alarm_id IN (`+placeholders(len(ids))+`) ORDER BY al.lot_id`,
		locArgs(merchantID, ids)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]coldchain.AlarmLot{}
	for rows.Next() {
		var id int64
		var l coldchain.AlarmLot
		if err := rows.Scan(&id, &l.LotID, &l.LotCode, &l.Product, &l.Held); err != nil {
			return nil, err
		}
		out[id] = append(out[id], l)
	}
	return out, rows.Err()
}

// Alarm implements coldchain.Store.
func (s *ColdChainStore) Alarm(ctx context.Context, merchantID, id int64) (*coldchain.Alarm, error) {
	a, err := scanAlarm(s.DB.QueryRow(ctx, `SELECT `+ccAlarmCols+ccAlarmFrom+` WHERE a.merchant_id = ? AND a.id = ?`, merchantID, id))
	if err != nil {
		return nil, err
	}
	lots, err := s.alarmLots(ctx, merchantID, []int64{id})
	if err != nil {
		return nil, err
	}
	if ls := lots[id]; ls != nil {
		a.Lots = ls
	}
	return a, nil
}

// DecideAlarm implements coldchain.Store.
func (s *ColdChainStore) DecideAlarm(ctx context.Context, merchantID, id int64, decision, by, note string, at time.Time) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE cc_alarms SET decision = ?, decided_by = ?, decided_at = ?, note = ?,
			status = CASE WHEN cleared_at IS NULL THEN status ELSE 'resolved' END
			WHERE merchant_id = ? AND id = ? AND decision = '' AND kind = 'excursion'`, decision, by, ms(at), note, merchantID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return coldchain.ErrAlreadyDecided
		}
		return nil
	})
}

// OtherUndecidedAlarms implements coldchain.Store.
func (s *ColdChainStore) OtherUndecidedAlarms(ctx context.Context, merchantID, lotID, except int64) (int, error) {
	var n int
	err := s.DB.QueryRow(ctx, `SELECT count(*) FROM cc_alarm_lots al JOIN cc_alarms a ON a.id = al.alarm_id
		WHERE al.merchant_id = ? AND al.lot_id = ? AND a.kind = 'excursion' AND a.decision = '' AND a.id <> ?`, merchantID, lotID, except).Scan(&n)
	return n, err
}

// LotsAtLocation implements coldchain.Store.
func (s *ColdChainStore) LotsAtLocation(ctx context.Context, merchantID, locationID int64) ([]coldchain.AlarmLot, error) {
	rows, err := s.DB.Query(ctx, `SELECT DISTINCT l.id, l.code, p.name FROM cc_locations c
		JOIN stock st ON st.store_id = c.store_id AND st.merchant_id = c.merchant_id
		JOIN lots l ON l.id = st.lot_id JOIN skus k ON k.id = l.sku_id JOIN products p ON p.id = k.product_id
		WHERE c.merchant_id = ? AND c.id = ? AND st.on_hand > 0 AND p.storage = c.storage_class ORDER BY l.id`, merchantID, locationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []coldchain.AlarmLot
	for rows.Next() {
		var l coldchain.AlarmLot
		if err := rows.Scan(&l.LotID, &l.LotCode, &l.Product); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
