package sqldb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/household"
	"github.com/shelflive/shelflive/internal/notify"
)

// HouseholdStore keeps linked devices, their readings, the per-category
// estimates and the pushes sent from them.
type HouseholdStore struct {
	DB *DB
	// Quiet holds the Web Push of a nudge until the morning (nil:
	// notify.DefaultQuiet); the install's SHELFLIVE_QUIET_HOURS.
	Quiet *notify.Quiet
}

var _ household.Store = (*HouseholdStore)(nil)

func (s *HouseholdStore) quiet() notify.Quiet {
	if s.Quiet == nil {
		return notify.DefaultQuiet
	}
	return *s.Quiet
}

// LinkDevice stores a device; only the hash of its token is kept.
func (s *HouseholdStore) LinkDevice(ctx context.Context, d *household.Device, tokenHash string) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) (err error) {
		d.ConsentAt, d.CreatedAt = tx.Now, tx.Now
		d.ID, err = tx.InsertID(ctx, `INSERT INTO household_devices (merchant_id, customer_id, name, kind, token_hash, consent_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			d.MerchantID, d.CustomerID, d.Name, d.Kind, tokenHash, ms(tx.Now), ms(tx.Now))
		return err
	})
}

// Devices lists a customer's devices, unlinked ones too (consent history).
func (s *HouseholdStore) Devices(ctx context.Context, merchantID, customerID int64) ([]household.Device, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, name, kind, consent_at, revoked_at, last_seen_at, created_at FROM household_devices
		WHERE merchant_id = ? AND customer_id = ? ORDER BY id`, merchantID, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []household.Device{}
	for rows.Next() {
		d := household.Device{MerchantID: merchantID, CustomerID: customerID}
		var consent, created int64
		var revoked, seen sql.NullInt64
		if err := rows.Scan(&d.ID, &d.Name, &d.Kind, &consent, &revoked, &seen, &created); err != nil {
			return nil, err
		}
		d.ConsentAt, d.CreatedAt = fromMS(consent), fromMS(created)
		d.RevokedAt, d.LastSeenAt = nullMS(revoked), nullMS(seen)
		out = append(out, d)
	}
	return out, rows.Err()
}

// RevokeDevice withdraws consent: the token stops working at once, the
// device's readings are deleted, and estimates are rebuilt from the
// household's other devices (dropped when there are none).
func (s *HouseholdStore) RevokeDevice(ctx context.Context, merchantID, customerID, deviceID int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE household_devices SET revoked_at = ?, token_hash = ? WHERE merchant_id = ? AND customer_id = ? AND id = ? AND revoked_at IS NULL`,
			ms(tx.Now), fmt.Sprintf("revoked-%d", deviceID), merchantID, customerID, deviceID)
		if err := mustAffect(res, err); err != nil {
			return absentAs(err, household.ErrUnknownDevice)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM household_readings WHERE device_id = ?`, deviceID); err != nil {
			return err
		}
		return rebuildEstimates(ctx, tx, merchantID, customerID)
	})
}

// rebuildEstimates recomputes a household's estimates from the readings
// of its linked devices.
func rebuildEstimates(ctx context.Context, tx *Tx, merchantID, customerID int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM household_estimates WHERE merchant_id = ? AND customer_id = ?`, merchantID, customerID); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT r.category, r.level, r.at FROM household_readings r JOIN household_devices d ON d.id = r.device_id
		WHERE d.merchant_id = ? AND d.customer_id = ? AND d.revoked_at IS NULL ORDER BY r.at, r.id`, merchantID, customerID)
	if err != nil {
		return err
	}
	est := map[string]household.Estimate{}
	var order []string
	for rows.Next() {
		var r household.Reading
		var at int64
		if err := rows.Scan(&r.Category, &r.Level, &at); err != nil {
			rows.Close()
			return err
		}
		r.At = fromMS(at)
		if _, ok := est[r.Category]; !ok {
			order = append(order, r.Category)
		}
		est[r.Category] = est[r.Category].Observe(r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range order {
		if err := saveEstimate(ctx, tx, merchantID, customerID, est[c]); err != nil {
			return err
		}
	}
	return nil
}

func saveEstimate(ctx context.Context, tx *Tx, merchantID, customerID int64, e household.Estimate) error {
	_, err := tx.Exec(ctx, `INSERT INTO household_estimates (merchant_id, customer_id, category, level, level_at, anchor_level, anchor_at, rate, samples, runout_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (customer_id, category) DO UPDATE SET level = excluded.level, level_at = excluded.level_at, anchor_level = excluded.anchor_level,
			anchor_at = excluded.anchor_at, rate = excluded.rate, samples = excluded.samples, runout_at = excluded.runout_at`,
		merchantID, customerID, e.Category, e.Level, ms(e.LevelAt), e.AnchorLevel, ms(e.AnchorAt), e.Rate, e.Samples, optMS(e.RunoutAt))
	return err
}

const estimateCols = `category, level, level_at, anchor_level, anchor_at, rate, samples, runout_at`

func scanEstimate(sc interface{ Scan(...any) error }) (household.Estimate, error) {
	var e household.Estimate
	var levelAt, anchorAt int64
	var runout sql.NullInt64
	if err := sc.Scan(&e.Category, &e.Level, &levelAt, &e.AnchorLevel, &anchorAt, &e.Rate, &e.Samples, &runout); err != nil {
		return e, err
	}
	e.LevelAt, e.AnchorAt, e.RunoutAt = fromMS(levelAt), fromMS(anchorAt), nullMS(runout)
	return e, nil
}

// Ingest folds a device's readings into its household's estimates, in
// time order, in one transaction with the readings themselves.
func (s *HouseholdStore) Ingest(ctx context.Context, tokenHash string, rs []household.Reading) ([]household.Estimate, error) {
	var out []household.Estimate
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		out = out[:0]
		var deviceID, merchantID, customerID int64
		if err := tx.QueryRow(ctx, `SELECT id, merchant_id, customer_id FROM household_devices WHERE token_hash = ? AND revoked_at IS NULL`, tokenHash).
			Scan(&deviceID, &merchantID, &customerID); err != nil {
			if err == sql.ErrNoRows {
				return household.ErrDeviceToken
			}
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE household_devices SET last_seen_at = ? WHERE id = ?`, ms(tx.Now), deviceID); err != nil {
			return err
		}
		est := map[string]household.Estimate{}
		for _, r := range sortedReadings(rs) {
			if _, err := tx.Exec(ctx, `INSERT INTO household_readings (device_id, category, level, at) VALUES (?, ?, ?, ?)`, deviceID, r.Category, r.Level, ms(r.At)); err != nil {
				return err
			}
			e, ok := est[r.Category]
			if !ok {
				var err error
				e, err = scanEstimate(tx.QueryRow(ctx, `SELECT `+estimateCols+` FROM household_estimates WHERE customer_id = ? AND category = ?`, customerID, r.Category))
				if err != nil && err != sql.ErrNoRows {
					return err
				}
			}
			est[r.Category] = e.Observe(r)
		}
		for _, e := range est {
			if err := saveEstimate(ctx, tx, merchantID, customerID, e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// sortedReadings orders a batch by time (a device may send its buffer in
// any order); equal times keep their order.
func sortedReadings(rs []household.Reading) []household.Reading {
	out := slices.Clone(rs)
	slices.SortStableFunc(out, func(a, b household.Reading) int { return a.At.Compare(b.At) })
	return out
}

// Estimates lists a household's estimates.
func (s *HouseholdStore) Estimates(ctx context.Context, merchantID, customerID int64) ([]household.Estimate, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+estimateCols+` FROM household_estimates WHERE merchant_id = ? AND customer_id = ? ORDER BY category`, merchantID, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []household.Estimate{}
	for rows.Next() {
		e, err := scanEstimate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// SetOptOut switches a customer's household pushes off or on again.
func (s *HouseholdStore) SetOptOut(ctx context.Context, merchantID, customerID int64, off bool) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if !off {
			_, err := tx.Exec(ctx, `DELETE FROM household_optouts WHERE merchant_id = ? AND customer_id = ?`, merchantID, customerID)
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO household_optouts (customer_id, merchant_id, at) VALUES (?, ?, ?) ON CONFLICT (customer_id) DO NOTHING`, customerID, merchantID, ms(tx.Now))
		return err
	})
}

// OptedOut reports whether the customer switched pushes off.
func (s *HouseholdStore) OptedOut(ctx context.Context, merchantID, customerID int64) (bool, error) {
	var n int
	err := s.DB.QueryRow(ctx, `SELECT count(*) FROM household_optouts WHERE merchant_id = ? AND customer_id = ?`, merchantID, customerID).Scan(&n)
	return n > 0, err
}

type dueEstimate struct {
	merchantID, customerID int64
	e                      household.Estimate
}

// SendDue pushes every due estimate once: not opted out, no push of the
// category within CategoryGap, fewer than WeeklyCap pushes in 7 days, and
// something to point at. The push row and its inbox message are written in
// one transaction; the (customer, category, bucket) key keeps a rerun or a
// second node from sending it again.
func (s *HouseholdStore) SendDue(ctx context.Context, now time.Time, limit int) ([]household.Push, error) {
	rows, err := s.DB.Query(ctx, `SELECT e.merchant_id, e.customer_id, e.level, e.level_at, e.anchor_level, e.anchor_at, e.rate, e.samples, e.runout_at, e.category FROM household_estimates e
		WHERE e.runout_at IS NOT NULL AND e.runout_at <= ? AND e.runout_at > ? AND e.samples >= ? AND e.level <= 0.5
		AND NOT EXISTS (SELECT 1 FROM household_optouts o WHERE o.customer_id = e.customer_id)
		AND NOT EXISTS (SELECT 1 FROM household_pushes p WHERE p.customer_id = e.customer_id AND p.category = e.category AND p.sent_at > ?)
		ORDER BY e.runout_at LIMIT ?`,
		ms(now.Add(household.Lead)), ms(now.Add(-12*time.Hour)), household.MinSamples, ms(now.Add(-household.CategoryGap)), limit)
	if err != nil {
		return nil, err
	}
	var due []dueEstimate
	for rows.Next() {
		var d dueEstimate
		var levelAt, anchorAt int64
		var runout sql.NullInt64
		if err := rows.Scan(&d.merchantID, &d.customerID, &d.e.Level, &levelAt, &d.e.AnchorLevel, &anchorAt, &d.e.Rate, &d.e.Samples, &runout, &d.e.Category); err != nil {
			rows.Close()
			return nil, err
		}
		d.e.LevelAt, d.e.AnchorAt, d.e.RunoutAt = fromMS(levelAt), fromMS(anchorAt), nullMS(runout)
		due = append(due, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []household.Push
	for _, d := range due {
		if !d.e.Due(now) {
			continue
		}
		p, err := s.sendOne(ctx, now, d)
		if err != nil {
			return out, err
		}
		if p != nil {
			out = append(out, *p)
		}
	}
	return out, nil
}

func (s *HouseholdStore) sendOne(ctx context.Context, now time.Time, d dueEstimate) (*household.Push, error) {
	target, err := s.target(ctx, d.merchantID, d.e.Category, now)
	if err != nil || target == nil {
		return nil, err
	}
	var p *household.Push
	err = s.DB.WriteTx(ctx, func(tx *Tx) error {
		p = nil
		var week int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM household_pushes WHERE customer_id = ? AND sent_at > ?`, d.customerID, ms(now.Add(-7*24*time.Hour))).Scan(&week); err != nil {
			return err
		}
		if week >= household.WeeklyCap {
			return nil
		}
		var tok [16]byte
		rand.Read(tok[:])
		push := household.Push{CustomerID: d.customerID, Category: d.e.Category, RunoutAt: *d.e.RunoutAt, SentAt: now, RoomID: target.RoomID, ProductID: target.ProductID}
		token := hex.EncodeToString(tok[:])
		push.URL = "/h/" + token
		title, body, bodyEN := pushText(d.e, target)
		push.Title = title
		bucket := now.UnixMilli() / household.CategoryGap.Milliseconds()
		id, err := tx.InsertID(ctx, `INSERT INTO household_pushes (merchant_id, customer_id, category, bucket, token, title, url, room_id, product_id, runout_at, sent_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id, category, bucket) DO NOTHING`,
			d.merchantID, d.customerID, d.e.Category, bucket, token, title, push.URL, target.RoomID, target.ProductID, ms(push.RunoutAt), ms(now))
		if err == sql.ErrNoRows {
			return nil // another run sent it
		}
		if err != nil {
			return err
		}
		push.ID = id
		key := fmt.Sprintf("household:%s:%d", d.e.Category, bucket)
		if _, err := tx.Exec(ctx, `INSERT INTO inbox (merchant_id, customer_id, kind, room_id, title, body, body_en, url, dedupe_key, created_at)
			VALUES (?, ?, 'household.low', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id, dedupe_key) DO NOTHING`,
			d.merchantID, d.customerID, target.RoomID, title, body, bodyEN, push.URL, key, ms(tx.Now)); err != nil {
			return err
		}
		// Web Push to the customer's browsers (when they subscribed and did
		// not switch it off), held to the morning in the quiet hours; not
		// SMS: a text is for the lives they asked to be reminded of.
		if err := enqueueChannels(ctx, tx, s.quiet(), d.merchantID, key, notify.ChannelPush); err != nil {
			return err
		}
		p = &push
		return nil
	})
	return p, err
}

// pushText words the nudge: what runs low, when, and where to get more.
func pushText(e household.Estimate, t *household.Target) (title, body, bodyEN string) {
	when := "明天"
	if e.RunoutAt.Sub(e.LevelAt) < 12*time.Hour {
		when = "今天"
	}
	pct := int(e.Level*100 + 0.5)
	where, whereEN := "看看回放里的「"+t.ProductName+"」", "Have a look at "+t.ProductName+" in the replay."
	switch {
	case t.Live:
		where, whereEN = "「"+t.RoomTitle+"」正在直播，点击进入", "\""+t.RoomTitle+"\" is live now — tap to join."
	case t.StartsAt != nil:
		where, whereEN = "「"+t.RoomTitle+"」"+t.StartsAt.In(cn.Shanghai).Format("1月2日 15:04")+" 开播，点击预约", "\""+t.RoomTitle+"\" starts "+t.StartsAt.In(cn.Shanghai).Format("Jan 2 15:04")+" (China time)."
	}
	return "家里的" + e.Category + "快用完了", fmt.Sprintf("冰箱显示%s还剩约%d%%，预计%s用完。%s。", e.Category, pct, when, where),
		fmt.Sprintf("Your %s is at about %d%% and should run out soon. %s", e.Category, pct, whereEN)
}

// target is the room to send a household to: the live on now, else the
// soonest scheduled one, else the latest replay — whichever has an active
// product of the category in its lineup (cards are bought from there).
// No such room: no push.
func (s *HouseholdStore) target(ctx context.Context, merchantID int64, category string, now time.Time) (*household.Target, error) {
	var t household.Target
	var at sql.NullInt64
	var status string
	err := s.DB.QueryRow(ctx, `SELECT r.id, r.slug, r.title, r.status, r.scheduled_at,
			(SELECT p.id FROM room_products rp JOIN products p ON p.id = rp.product_id WHERE rp.room_id = r.id AND p.category = ? AND p.active ORDER BY rp.position LIMIT 1),
			(SELECT p.name FROM room_products rp JOIN products p ON p.id = rp.product_id WHERE rp.room_id = r.id AND p.category = ? AND p.active ORDER BY rp.position LIMIT 1)
		FROM rooms r
		WHERE r.merchant_id = ? AND (r.status IN ('live', 'ended') OR (r.status = 'scheduled' AND r.scheduled_at > ?))
		AND EXISTS (SELECT 1 FROM room_products rp JOIN products p ON p.id = rp.product_id WHERE rp.room_id = r.id AND p.category = ? AND p.active)
		ORDER BY CASE r.status WHEN 'live' THEN 0 WHEN 'scheduled' THEN 1 ELSE 2 END, CASE WHEN r.status = 'scheduled' THEN r.scheduled_at ELSE -r.id END
		LIMIT 1`, category, category, merchantID, ms(now), category).Scan(&t.RoomID, &t.RoomSlug, &t.RoomTitle, &status, &at, &t.ProductID, &t.ProductName)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t.Live = status == "live"
	if status == "scheduled" {
		t.StartsAt = nullMS(at)
	}
	return &t, nil
}

// Open marks a push opened (the first time) and returns it.
func (s *HouseholdStore) Open(ctx context.Context, token string, now time.Time) (*household.Push, error) {
	var p household.Push
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE household_pushes SET opened_at = ? WHERE token = ? AND opened_at IS NULL`, ms(now), token); err != nil {
			return err
		}
		var runout, sent int64
		var opened sql.NullInt64
		err := tx.QueryRow(ctx, `SELECT id, customer_id, category, title, url, room_id, product_id, runout_at, sent_at, opened_at FROM household_pushes WHERE token = ?`, token).
			Scan(&p.ID, &p.CustomerID, &p.Category, &p.Title, &p.URL, &p.RoomID, &p.ProductID, &runout, &sent, &opened)
		if err == sql.ErrNoRows {
			return household.ErrNoPush
		}
		p.RunoutAt, p.SentAt, p.OpenedAt = fromMS(runout), fromMS(sent), nullMS(opened)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// OptOutByToken switches off the pushes of the customer a push went to.
func (s *HouseholdStore) OptOutByToken(ctx context.Context, token string) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		var merchantID, customerID int64
		if err := tx.QueryRow(ctx, `SELECT merchant_id, customer_id FROM household_pushes WHERE token = ?`, token).Scan(&merchantID, &customerID); err != nil {
			if err == sql.ErrNoRows {
				return household.ErrNoPush
			}
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO household_optouts (customer_id, merchant_id, at) VALUES (?, ?, ?) ON CONFLICT (customer_id) DO NOTHING`, customerID, merchantID, ms(tx.Now))
		return err
	})
}

// Stats counts devices, pushes, opens and the orders that followed an
// opened push: a paid order of the same customer with a product of the
// push's category within OrderWindow of the open.
func (s *HouseholdStore) Stats(ctx context.Context, merchantID int64, since time.Time) (household.Stats, error) {
	var st household.Stats
	err := s.DB.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM household_devices WHERE merchant_id = ? AND revoked_at IS NULL),
		(SELECT count(DISTINCT customer_id) FROM household_devices WHERE merchant_id = ? AND revoked_at IS NULL),
		(SELECT count(*) FROM household_optouts WHERE merchant_id = ?),
		(SELECT count(*) FROM household_pushes WHERE merchant_id = ? AND sent_at >= ?),
		(SELECT count(*) FROM household_pushes WHERE merchant_id = ? AND sent_at >= ? AND opened_at IS NOT NULL),
		(SELECT count(*) FROM household_pushes p WHERE p.merchant_id = ? AND p.sent_at >= ? AND p.opened_at IS NOT NULL AND EXISTS (
			SELECT 1 FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN products pr ON pr.id = l.product_id
			WHERE o.merchant_id = p.merchant_id AND o.customer_id = p.customer_id AND o.paid_at IS NOT NULL
			AND o.paid_at >= p.opened_at AND o.paid_at <= p.opened_at + ? AND pr.category = p.category))`,
		merchantID, merchantID, merchantID, merchantID, ms(since), merchantID, ms(since), merchantID, ms(since), household.OrderWindow.Milliseconds()).
		Scan(&st.Devices, &st.Households, &st.OptedOut, &st.Pushes, &st.Opened, &st.Ordered)
	if err != nil {
		return st, translate(err)
	}
	return st, nil
}
