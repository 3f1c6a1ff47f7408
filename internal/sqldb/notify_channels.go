package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/notify"
)

func isNoRows(err error) bool {
	return errors.Is(err, sql.ErrNoRows) || errors.Is(err, apperr.ErrNotFound)
}

var _ notify.Channels = (*ReminderStore)(nil)

// enqueueChannels adds, in the reminder's own transaction, one delivery
// per channel for the inbox messages of key written at tx.Now: Web Push
// for viewers with a subscribed browser who did not opt out, SMS for those
// who opted in. Their key (message, channel) makes them exactly once.
// channels narrows it (none given: both).
func enqueueChannels(ctx context.Context, tx *Tx, quiet notify.Quiet, merchantID int64, key string, channels ...string) error {
	due := ms(quiet.NotBefore(tx.Now))
	conds := map[string]string{
		notify.ChannelPush: `EXISTS (SELECT 1 FROM push_subscriptions p WHERE p.customer_id = i.customer_id)
			AND NOT EXISTS (SELECT 1 FROM notify_prefs n WHERE n.customer_id = i.customer_id AND n.push_off = 1)`,
		notify.ChannelSMS: `EXISTS (SELECT 1 FROM notify_prefs n WHERE n.customer_id = i.customer_id AND n.sms_on = 1)`,
	}
	if len(channels) == 0 {
		channels = []string{notify.ChannelPush, notify.ChannelSMS}
	}
	for _, ch := range channels {
		if _, err := tx.Exec(ctx, `INSERT INTO notify_deliveries (inbox_id, channel, merchant_id, customer_id, state, due_at, attempts)
			SELECT i.id, ?, i.merchant_id, i.customer_id, 'pending', ?, 0 FROM inbox i
			WHERE i.dedupe_key = ? AND i.created_at = ? AND i.merchant_id = ? AND `+conds[ch]+`
			ON CONFLICT (inbox_id, channel) DO NOTHING`, ch, due, key, ms(tx.Now), merchantID); err != nil {
			return err
		}
	}
	return nil
}

// SavePushSubscription keeps a browser's subscription for the customer (a
// browser that moves to another account moves with its endpoint).
func (s *ReminderStore) SavePushSubscription(ctx context.Context, merchantID, customerID int64, p notify.PushSub) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO push_subscriptions (merchant_id, customer_id, endpoint, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (endpoint) DO UPDATE SET merchant_id = excluded.merchant_id, customer_id = excluded.customer_id, p256dh = excluded.p256dh, auth = excluded.auth`,
			merchantID, customerID, p.Endpoint, p.P256DH, p.Auth, ms(tx.Now))
		return err
	})
}

// DeletePushSubscription forgets one of the customer's browsers.
func (s *ReminderStore) DeletePushSubscription(ctx context.Context, merchantID, customerID int64, endpoint string) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE merchant_id = ? AND customer_id = ? AND endpoint = ?`, merchantID, customerID, endpoint)
		return err
	})
}

// RemovePushEndpoint forgets a subscription the push service says is gone.
func (s *ReminderStore) RemovePushEndpoint(ctx context.Context, endpoint string) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE endpoint = ?`, endpoint)
		return err
	})
}

// Prefs reads the customer's channel choices (defaults: push on, SMS off).
func (s *ReminderStore) Prefs(ctx context.Context, merchantID, customerID int64) (notify.Prefs, error) {
	p := notify.Prefs{Push: true}
	var pushOff, smsOn int64
	err := s.DB.QueryRow(ctx, `SELECT push_off, sms_on FROM notify_prefs WHERE merchant_id = ? AND customer_id = ?`, merchantID, customerID).Scan(&pushOff, &smsOn)
	if err != nil && !isNoRows(err) {
		return p, err
	}
	p.Push, p.SMS = pushOff == 0, smsOn == 1
	var n int64
	if err := s.DB.QueryRow(ctx, `SELECT count(*) FROM push_subscriptions WHERE merchant_id = ? AND customer_id = ?`, merchantID, customerID).Scan(&n); err != nil {
		return p, err
	}
	p.PushDevices = int(n)
	return p, nil
}

// SetPrefs stores the customer's channel choices; turning a channel off
// also drops its deliveries not yet sent.
func (s *ReminderStore) SetPrefs(ctx context.Context, merchantID, customerID int64, push, sms bool) error {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO notify_prefs (customer_id, merchant_id, push_off, sms_on, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (customer_id) DO UPDATE SET push_off = excluded.push_off, sms_on = excluded.sms_on, updated_at = excluded.updated_at`,
			customerID, merchantID, b(!push), b(sms), ms(tx.Now)); err != nil {
			return err
		}
		var off []string
		if !push {
			off = append(off, notify.ChannelPush)
		}
		if !sms {
			off = append(off, notify.ChannelSMS)
		}
		for _, ch := range off {
			if _, err := tx.Exec(ctx, `UPDATE notify_deliveries SET state = 'failed', last_error = 'opted out' WHERE customer_id = ? AND channel = ? AND state = 'pending'`, customerID, ch); err != nil {
				return err
			}
		}
		return nil
	})
}

// ClaimDeliveries takes due deliveries: their due_at moves lease ahead in
// the same transaction (rows locked, others skipped, on PostgreSQL).
func (s *ReminderStore) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]notify.Delivery, error) {
	var out []notify.Delivery
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		out = out[:0]
		lock := ""
		if s.DB.Dialect == Postgres {
			lock = " FOR UPDATE OF d SKIP LOCKED"
		}
		rows, err := tx.Query(ctx, `SELECT d.inbox_id, d.channel, d.merchant_id, d.customer_id, d.attempts, i.kind, i.room_id, i.title, i.body, i.body_en, i.url, i.created_at, c.phone
			FROM notify_deliveries d JOIN inbox i ON i.id = d.inbox_id JOIN customers c ON c.id = d.customer_id
			WHERE d.state = 'pending' AND d.due_at <= ? ORDER BY d.due_at LIMIT ?`+lock, ms(now), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d notify.Delivery
			var created int64
			if err := rows.Scan(&d.InboxID, &d.Channel, &d.MerchantID, &d.CustomerID, &d.Attempts, &d.Message.Kind, &d.Message.RoomID, &d.Message.Title,
				&d.Message.Body, &d.Message.BodyEN, &d.Message.URL, &created, &d.Phone); err != nil {
				rows.Close()
				return err
			}
			d.Message.ID = d.InboxID
			d.Message.CreatedAt = time.UnixMilli(created).UTC()
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		byCustomer := map[int64][]int{}
		byChannel := map[string][]int64{}
		for i := range out {
			out[i].Attempts++
			byChannel[out[i].Channel] = append(byChannel[out[i].Channel], out[i].InboxID)
			if out[i].Channel == notify.ChannelPush {
				byCustomer[out[i].CustomerID] = append(byCustomer[out[i].CustomerID], i)
			}
		}
		// The lease: one statement per channel and 500 rows, not one a row.
		for ch, ids := range byChannel {
			if err := execIn(ctx, tx, `UPDATE notify_deliveries SET due_at = ?, attempts = attempts + 1 WHERE channel = ? AND inbox_id IN `,
				[]any{ms(now.Add(lease)), ch}, ids); err != nil {
				return err
			}
		}
		if len(byCustomer) == 0 {
			return nil
		}
		ids := make([]any, 0, len(byCustomer))
		for c := range byCustomer {
			ids = append(ids, c)
		}
		for start := 0; start < len(ids); start += 500 {
			chunk := ids[start:min(start+500, len(ids))]
			rows, err := tx.Query(ctx, `SELECT id, customer_id, endpoint, p256dh, auth FROM push_subscriptions WHERE customer_id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, chunk...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var p notify.PushSub
				var cust int64
				if err := rows.Scan(&p.ID, &cust, &p.Endpoint, &p.P256DH, &p.Auth); err != nil {
					rows.Close()
					return err
				}
				for _, i := range byCustomer[cust] {
					out[i].Subs = append(out[i].Subs, p)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// FinishDeliveries records the results of a batch in one transaction.
func (s *ReminderStore) FinishDeliveries(ctx context.Context, now time.Time, results []notify.Result) error {
	sent := map[string][]int64{}
	for _, r := range results {
		if r.Sent {
			sent[r.Channel] = append(sent[r.Channel], r.InboxID)
		}
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		// Sent ones (nearly all) in one statement per channel and 500 rows.
		for ch, ids := range sent {
			if err := execIn(ctx, tx, `UPDATE notify_deliveries SET state = 'sent', sent_at = ?, last_error = '' WHERE channel = ? AND inbox_id IN `,
				[]any{ms(now), ch}, ids); err != nil {
				return err
			}
		}
		for _, r := range results {
			var err error
			switch {
			case r.Sent:
				continue
			case !r.Retry.IsZero():
				_, err = tx.Exec(ctx, `UPDATE notify_deliveries SET due_at = ?, last_error = ? WHERE inbox_id = ? AND channel = ? AND state = 'pending'`, ms(r.Retry), trimErr(r.Error), r.InboxID, r.Channel)
			default:
				_, err = tx.Exec(ctx, `UPDATE notify_deliveries SET state = 'failed', last_error = ? WHERE inbox_id = ? AND channel = ?`, trimErr(r.Error), r.InboxID, r.Channel)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func trimErr(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}

// AddMiniGrants implements notify.MiniGrants.
func (s *ReminderStore) AddMiniGrants(ctx context.Context, merchantID, customerID int64, appID string, templateIDs []string) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		for _, id := range templateIDs {
			if _, err := tx.Exec(ctx, `INSERT INTO wechat_mini_grants (merchant_id, customer_id, appid, template_id, credits, updated_at) VALUES (?, ?, ?, ?, 1, ?)
				ON CONFLICT (merchant_id, customer_id, appid, template_id) DO UPDATE SET credits = wechat_mini_grants.credits + 1, updated_at = excluded.updated_at`,
				merchantID, customerID, appID, id, ms(tx.Now)); err != nil {
				return err
			}
		}
		return nil
	})
}

// MiniGrantCredits implements notify.MiniGrants.
func (s *ReminderStore) MiniGrantCredits(ctx context.Context, merchantID, customerID int64, appID string) (map[string]int, error) {
	rows, err := s.DB.Query(ctx, `SELECT template_id, credits FROM wechat_mini_grants WHERE merchant_id = ? AND customer_id = ? AND appid = ?`, merchantID, customerID, appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// execIn runs query (ending in "IN ") with args and then ids as the list,
// 500 ids a statement.
func execIn(ctx context.Context, tx *Tx, query string, args []any, ids []int64) error {
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		a := append(append(make([]any, 0, len(args)+len(chunk)), args...), anyIDs(chunk)...)
		if _, err := tx.Exec(ctx, query+`(?`+strings.Repeat(", ?", len(chunk)-1)+`)`, a...); err != nil {
			return err
		}
	}
	return nil
}

func anyIDs(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
