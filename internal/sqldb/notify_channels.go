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
// who opted in, and — for live reminders, which name them — WeChat
// template messages for viewers bound to the official account and
// subscribe messages for viewers with a credit of miniTemplate. Their key
// (message, channel) makes them exactly once. channels narrows it (none
// given: Web Push and SMS).
func enqueueChannels(ctx context.Context, tx *Tx, quiet notify.Quiet, merchantID int64, key string, channels ...string) error {
	return enqueueWith(ctx, tx, quiet, "", merchantID, key, channels...)
}

func enqueueWith(ctx context.Context, tx *Tx, quiet notify.Quiet, miniTemplate string, merchantID int64, key string, channels ...string) error {
	due := ms(quiet.NotBefore(tx.Now))
	conds := map[string]string{
		notify.ChannelPush: `EXISTS (SELECT 1 FROM push_subscriptions p WHERE p.customer_id = i.customer_id)
			AND NOT EXISTS (SELECT 1 FROM notify_prefs n WHERE n.customer_id = i.customer_id AND n.push_off = 1)`,
		notify.ChannelSMS: `EXISTS (SELECT 1 FROM notify_prefs n WHERE n.customer_id = i.customer_id AND n.sms_on = 1)`,
		notify.ChannelWxSub: `EXISTS (SELECT 1 FROM wechat_mini_grants g WHERE g.merchant_id = i.merchant_id AND g.customer_id = i.customer_id AND g.template_id = ? AND g.credits > 0)
			AND NOT EXISTS (SELECT 1 FROM notify_prefs n WHERE n.customer_id = i.customer_id AND n.wx_sub_off = 1)`,
		notify.ChannelWxTpl: `EXISTS (SELECT 1 FROM wechat_bindings b WHERE b.customer_id = i.customer_id AND b.merchant_id = i.merchant_id)
			AND NOT EXISTS (SELECT 1 FROM notify_prefs n WHERE n.customer_id = i.customer_id AND n.wx_tpl_off = 1)`,
	}
	if len(channels) == 0 {
		channels = []string{notify.ChannelPush, notify.ChannelSMS}
	}
	for _, ch := range channels {
		args := []any{ch, due, key, ms(tx.Now), merchantID}
		if ch == notify.ChannelWxSub {
			if miniTemplate == "" {
				continue // no mini-program reminder template: no subscribe messages
			}
			args = append(args, miniTemplate)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO notify_deliveries (inbox_id, channel, merchant_id, customer_id, state, due_at, attempts)
			SELECT i.id, ?, i.merchant_id, i.customer_id, 'pending', ?, 0 FROM inbox i
			WHERE i.dedupe_key = ? AND i.created_at = ? AND i.merchant_id = ? AND `+conds[ch]+`
			ON CONFLICT (inbox_id, channel) DO NOTHING`, args...); err != nil {
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
	var pushOff, smsOn, subOff, tplOff int64
	err := s.DB.QueryRow(ctx, `SELECT push_off, sms_on, wx_sub_off, wx_tpl_off FROM notify_prefs WHERE merchant_id = ? AND customer_id = ?`, merchantID, customerID).Scan(&pushOff, &smsOn, &subOff, &tplOff)
	if err != nil && !isNoRows(err) {
		return p, err
	}
	p.Push, p.SMS, p.WxSub, p.WxTpl = pushOff == 0, smsOn == 1, subOff == 0, tplOff == 0
	var n, grants, bound int64
	if err := s.DB.QueryRow(ctx, `SELECT (SELECT count(*) FROM push_subscriptions WHERE merchant_id = ? AND customer_id = ?),
		(SELECT COALESCE(SUM(credits), 0) FROM wechat_mini_grants WHERE merchant_id = ? AND customer_id = ? AND template_id = ?),
		(SELECT count(*) FROM wechat_bindings WHERE merchant_id = ? AND customer_id = ?)`,
		merchantID, customerID, merchantID, customerID, s.MiniTemplate, merchantID, customerID).Scan(&n, &grants, &bound); err != nil {
		return p, err
	}
	p.PushDevices, p.WxSubGrants, p.WxBound = int(n), int(grants), bound > 0
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

// SetWeChatPrefs switches the WeChat channels; a channel turned off drops
// its unsent deliveries, and the subscribe grants they held are free again.
func (s *ReminderStore) SetWeChatPrefs(ctx context.Context, merchantID, customerID int64, sub, tpl bool) error {
	b := func(v bool) int {
		if v {
			return 0
		}
		return 1
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO notify_prefs (customer_id, merchant_id, wx_sub_off, wx_tpl_off, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (customer_id) DO UPDATE SET wx_sub_off = excluded.wx_sub_off, wx_tpl_off = excluded.wx_tpl_off, updated_at = excluded.updated_at`,
			customerID, merchantID, b(sub), b(tpl), ms(tx.Now)); err != nil {
			return err
		}
		if !sub {
			// credits held by unsent subscribe messages go back to the viewer
			held, err := queryIDs(ctx, tx, `SELECT inbox_id FROM notify_deliveries WHERE customer_id = ? AND channel = ? AND state = 'pending' AND grant_template <> ''`, customerID, notify.ChannelWxSub)
			if err != nil {
				return err
			}
			for _, id := range held {
				if err := returnCredit(ctx, tx, id); err != nil {
					return err
				}
			}
		}
		for ch, on := range map[string]bool{notify.ChannelWxSub: sub, notify.ChannelWxTpl: tpl} {
			if on {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE notify_deliveries SET state = 'failed', last_error = 'opted out' WHERE customer_id = ? AND channel = ? AND state = 'pending'`, customerID, ch); err != nil {
				return err
			}
		}
		return nil
	})
}

// ClaimDeliveries takes due deliveries: their due_at moves lease ahead in
// the same transaction (rows locked, others skipped, on PostgreSQL).
// It is long because it is one transaction: select, lock and move the due
// deliveries, then read what each needs to send.
func (s *ReminderStore) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]notify.Delivery, error) {
	var out []notify.Delivery
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		out = out[:0]
		lock := ""
		if s.DB.Dialect == Postgres {
			lock = " FOR UPDATE OF d SKIP LOCKED"
		}
		rows, err := tx.Query(ctx, `SELECT d.inbox_id, d.channel, d.merchant_id, d.customer_id, d.attempts, i.kind, i.room_id, i.title, i.body, i.body_en, i.url, i.created_at, c.phone,
				COALESCE(r.slug, ''), COALESCE(r.started_at, r.scheduled_at, 0)
			FROM notify_deliveries d JOIN inbox i ON i.id = d.inbox_id JOIN customers c ON c.id = d.customer_id LEFT JOIN rooms r ON r.id = i.room_id
			WHERE d.state = 'pending' AND d.due_at <= ? ORDER BY d.due_at LIMIT ?`+lock, ms(now), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d notify.Delivery
			var created, starts int64
			if err := rows.Scan(&d.InboxID, &d.Channel, &d.MerchantID, &d.CustomerID, &d.Attempts, &d.Message.Kind, &d.Message.RoomID, &d.Message.Title,
				&d.Message.Body, &d.Message.BodyEN, &d.Message.URL, &created, &d.Phone, &d.Slug, &starts); err != nil {
				rows.Close()
				return err
			}
			d.StartsAt = time.UnixMilli(starts).UTC()
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
		if err := claimWeChat(ctx, tx, s.MiniTemplate, out); err != nil {
			return err
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
		// (a subscribe message sent keeps the credit it spent)
		for _, r := range results {
			var err error
			switch {
			case r.Sent:
				continue
			case !r.Retry.IsZero():
				_, err = tx.Exec(ctx, `UPDATE notify_deliveries SET due_at = ?, last_error = ? WHERE inbox_id = ? AND channel = ? AND state = 'pending'`, ms(r.Retry), trimErr(r.Error), r.InboxID, r.Channel)
			default:
				_, err = tx.Exec(ctx, `UPDATE notify_deliveries SET state = 'failed', last_error = ? WHERE inbox_id = ? AND channel = ?`, trimErr(r.Error), r.InboxID, r.Channel)
				if err == nil && r.Channel == notify.ChannelWxSub {
					err = finishGrant(ctx, tx, now, r)
				}
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

// claimWeChat completes claimed WeChat deliveries: a subscribe message
// spends one of the viewer's credits of its template (wechat_mini_grants;
// the decrement is conditional on credits > 0 and the row is locked by it,
// so two claimers never spend one credit twice) and records it on the
// delivery (grant_template; a retry keeps the credit it holds); its openid
// is the viewer's mini-program login. A template message gets the viewer's
// bound official account openid. A subscribe delivery left without a
// credit or login has no OpenID, and the sender gives it up.
func claimWeChat(ctx context.Context, tx *Tx, miniTemplate string, out []notify.Delivery) error {
	for i := range out {
		d := &out[i]
		switch d.Channel {
		case notify.ChannelWxSub:
			var appID, tmpl string
			err := tx.QueryRow(ctx, `SELECT d.grant_template, COALESCE(g.appid, '') FROM notify_deliveries d
				LEFT JOIN wechat_mini_grants g ON g.merchant_id = d.merchant_id AND g.customer_id = d.customer_id AND g.template_id = d.grant_template
				WHERE d.inbox_id = ? AND d.channel = ?`, d.InboxID, d.Channel).Scan(&tmpl, &appID)
			if err != nil {
				return err
			}
			if tmpl == "" {
				// spend a credit of the live_start template
				err := tx.QueryRow(ctx, `SELECT appid, template_id FROM wechat_mini_grants WHERE merchant_id = ? AND customer_id = ? AND template_id = ? AND credits > 0 LIMIT 1`,
					d.MerchantID, d.CustomerID, miniTemplate).Scan(&appID, &tmpl)
				if isNoRows(err) {
					continue
				}
				if err != nil {
					return err
				}
				n, err := rowsAffected(tx.Exec(ctx, `UPDATE wechat_mini_grants SET credits = credits - 1, updated_at = ? WHERE merchant_id = ? AND customer_id = ? AND appid = ? AND template_id = ? AND credits > 0`,
					ms(tx.Now), d.MerchantID, d.CustomerID, appID, tmpl))
				if err != nil {
					return err
				}
				if n == 0 {
					continue // another sender spent the last one
				}
				if _, err := tx.Exec(ctx, `UPDATE notify_deliveries SET grant_template = ? WHERE inbox_id = ? AND channel = ?`, tmpl, d.InboxID, d.Channel); err != nil {
					return err
				}
			}
			d.AppID, d.TemplateID = appID, tmpl
			err = tx.QueryRow(ctx, `SELECT openid FROM wechat_mini_logins WHERE merchant_id = ? AND appid = ? AND customer_id = ? ORDER BY created_at DESC LIMIT 1`,
				d.MerchantID, appID, d.CustomerID).Scan(&d.OpenID)
			if err != nil && !isNoRows(err) {
				return err
			}
		case notify.ChannelWxTpl:
			err := tx.QueryRow(ctx, `SELECT openid FROM wechat_bindings WHERE merchant_id = ? AND customer_id = ? ORDER BY created_at DESC LIMIT 1`, d.MerchantID, d.CustomerID).Scan(&d.OpenID)
			if err != nil && !isNoRows(err) {
				return err
			}
		}
	}
	return nil
}

// finishGrant settles the credit of a subscribe delivery given up: WeChat
// refused (43101: the viewer has none left there) → the credit stays spent
// and the viewer's other credits of the template are dropped; any other
// end → the credit was not spent and goes back.
func finishGrant(ctx context.Context, tx *Tx, now time.Time, r notify.Result) error {
	if !r.Refused {
		return returnCredit(ctx, tx, r.InboxID)
	}
	_, err := tx.Exec(ctx, `UPDATE wechat_mini_grants SET credits = 0, updated_at = ? WHERE (merchant_id, customer_id, template_id) IN
		(SELECT merchant_id, customer_id, grant_template FROM notify_deliveries WHERE inbox_id = ? AND channel = ?)`, ms(now), r.InboxID, notify.ChannelWxSub)
	return err
}

// returnCredit gives the credit a subscribe delivery holds back.
func returnCredit(ctx context.Context, tx *Tx, inboxID int64) error {
	if _, err := tx.Exec(ctx, `UPDATE wechat_mini_grants SET credits = credits + 1 WHERE (merchant_id, customer_id, template_id) IN
		(SELECT merchant_id, customer_id, grant_template FROM notify_deliveries WHERE inbox_id = ? AND channel = ?)`, inboxID, notify.ChannelWxSub); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE notify_deliveries SET grant_template = '' WHERE inbox_id = ? AND channel = ?`, inboxID, notify.ChannelWxSub)
	return err
}
