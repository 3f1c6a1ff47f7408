package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/notify"
)

// ReminderStore keeps live subscriptions (预约) and viewers' inboxes.
type ReminderStore struct {
	DB *DB
	// Quiet holds pushes and texts written in the quiet hours until the
	// morning (zero value: notify.DefaultQuiet).
	Quiet *notify.Quiet
	// MiniAppID and MiniTemplate are the mini-program and its live_start
	// subscribe template: live reminders go as subscribe messages to
	// viewers with credits of it (empty: none).
	MiniAppID, MiniTemplate string
}

func (s *ReminderStore) quiet() notify.Quiet {
	if s.Quiet == nil {
		return notify.DefaultQuiet
	}
	return *s.Quiet
}

var _ notify.Store = (*ReminderStore)(nil)

// Subscribe records a subscription once.
func (s *ReminderStore) Subscribe(ctx context.Context, merchantID, roomID, customerID int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO room_subscriptions (room_id, customer_id, merchant_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (room_id, customer_id) DO NOTHING`,
			roomID, customerID, merchantID, ms(tx.Now))
		return err
	})
}

// Unsubscribe removes a subscription (no error when there was none).
func (s *ReminderStore) Unsubscribe(ctx context.Context, merchantID, roomID, customerID int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM room_subscriptions WHERE merchant_id = ? AND room_id = ? AND customer_id = ?`, merchantID, roomID, customerID)
		return err
	})
}

// Subscribed reports whether the customer subscribed to the room.
func (s *ReminderStore) Subscribed(ctx context.Context, roomID, customerID int64) (bool, error) {
	var n int
	err := s.DB.QueryRow(ctx, `SELECT count(*) FROM room_subscriptions WHERE room_id = ? AND customer_id = ?`, roomID, customerID).Scan(&n)
	return n > 0, err
}

// Subscribers counts a room's subscribers.
func (s *ReminderStore) Subscribers(ctx context.Context, merchantID, roomID int64) (int64, error) {
	var n int64
	err := s.DB.QueryRow(ctx, `SELECT count(*) FROM room_subscriptions WHERE merchant_id = ? AND room_id = ?`, merchantID, roomID).Scan(&n)
	return n, err
}

// Subscriptions lists the customer's subscriptions with their rooms.
func (s *ReminderStore) Subscriptions(ctx context.Context, merchantID, customerID int64) ([]notify.Subscription, error) {
	rows, err := s.DB.Query(ctx, `SELECT r.id, r.slug, r.title, r.status, r.scheduled_at, rs.created_at
		FROM room_subscriptions rs JOIN rooms r ON r.id = rs.room_id AND r.merchant_id = rs.merchant_id
		WHERE rs.merchant_id = ? AND rs.customer_id = ? ORDER BY COALESCE(r.scheduled_at, 0) DESC, r.id DESC LIMIT 100`, merchantID, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []notify.Subscription{}
	for rows.Next() {
		var sub notify.Subscription
		var at sql.NullInt64
		var created int64
		if err := rows.Scan(&sub.RoomID, &sub.Slug, &sub.Title, &sub.Status, &at, &created); err != nil {
			return nil, err
		}
		if at.Valid {
			t := time.UnixMilli(at.Int64).UTC()
			sub.ScheduledAt = &t
		}
		sub.CreatedAt = time.UnixMilli(created).UTC()
		out = append(out, sub)
	}
	return out, rows.Err()
}

type dueRoom struct {
	id, merchant int64
	slug, title  string
	at           time.Time
}

func (s *ReminderStore) dueRooms(ctx context.Context, q string, args ...any) ([]dueRoom, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []dueRoom
	for rows.Next() {
		var r dueRoom
		var at int64
		if err := rows.Scan(&r.id, &r.merchant, &r.slug, &r.title, &at); err != nil {
			return nil, err
		}
		r.at = time.UnixMilli(at).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// fanOut writes one message per subscriber of a room in one statement; the
// unique (customer, dedupe key) makes a second run write nothing.
func (s *ReminderStore) fanOut(ctx context.Context, r dueRoom, kind, body, bodyEN string) (int64, error) {
	var n int64
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		var err error
		n, err = rowsAffected(tx.Exec(ctx, `INSERT INTO inbox (merchant_id, customer_id, kind, room_id, title, body, body_en, url, dedupe_key, created_at)
			SELECT ?, customer_id, ?, room_id, ?, ?, ?, ?, ?, ? FROM room_subscriptions WHERE room_id = ?
			ON CONFLICT (customer_id, dedupe_key) DO NOTHING`,
			r.merchant, kind, r.title, body, bodyEN, "/live/"+r.slug, fmt.Sprintf("room:%d:%s", r.id, kind), ms(tx.Now), r.id))
		if err != nil || n == 0 {
			return err
		}
		return enqueueWith(ctx, tx, s.quiet(), s.MiniTemplate, r.merchant, fmt.Sprintf("room:%d:%s", r.id, kind), notify.AllChannels...)
	})
	return n, err
}

// RemindSoon reminds subscribers of scheduled rooms that start within lead.
func (s *ReminderStore) RemindSoon(ctx context.Context, now time.Time, lead time.Duration) (int64, error) {
	rooms, err := s.dueRooms(ctx, `SELECT id, merchant_id, slug, title, scheduled_at FROM rooms
		WHERE status = 'scheduled' AND scheduled_at IS NOT NULL AND scheduled_at <= ? AND scheduled_at > ?`, ms(now.Add(lead)), ms(now.Add(-time.Hour)))
	if err != nil {
		return 0, err
	}
	var total int64
	for _, r := range rooms {
		at := r.at.In(cn.Shanghai).Format("15:04")
		n, err := s.fanOut(ctx, r, notify.KindSoon, "您预约的直播将于 "+at+" 开始，点击进入直播间", "The live you subscribed to starts at "+at+" (China time). Tap to join.")
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// RemindStarted tells subscribers of rooms that went live since `since`.
func (s *ReminderStore) RemindStarted(ctx context.Context, now, since time.Time) (int64, error) {
	rooms, err := s.dueRooms(ctx, `SELECT id, merchant_id, slug, title, started_at FROM rooms
		WHERE status = 'live' AND started_at IS NOT NULL AND started_at >= ? AND started_at <= ?`, ms(since), ms(now))
	if err != nil {
		return 0, err
	}
	var total int64
	for _, r := range rooms {
		n, err := s.fanOut(ctx, r, notify.KindStarted, "您预约的直播开始了，快来看看", "The live you subscribed to has started. Come and watch.")
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// Inbox lists a customer's newest messages and how many are unread.
func (s *ReminderStore) Inbox(ctx context.Context, merchantID, customerID int64, limit int) ([]notify.Message, int64, error) {
	var unread int64
	if err := s.DB.QueryRow(ctx, `SELECT count(*) FROM inbox WHERE merchant_id = ? AND customer_id = ? AND read_at IS NULL`, merchantID, customerID).Scan(&unread); err != nil {
		return nil, 0, err
	}
	rows, err := s.DB.Query(ctx, `SELECT id, kind, room_id, title, body, body_en, url, created_at, read_at FROM inbox WHERE merchant_id = ? AND customer_id = ? ORDER BY id DESC LIMIT ?`, merchantID, customerID, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []notify.Message{}
	for rows.Next() {
		var m notify.Message
		var bodyEN string
		var created int64
		var read sql.NullInt64
		if err := rows.Scan(&m.ID, &m.Kind, &m.RoomID, &m.Title, &m.Body, &bodyEN, &m.URL, &created, &read); err != nil {
			return nil, 0, err
		}
		m.BodyEN = bodyEN
		m.CreatedAt = time.UnixMilli(created).UTC()
		if read.Valid {
			t := time.UnixMilli(read.Int64).UTC()
			m.ReadAt = &t
		}
		out = append(out, m)
	}
	return out, unread, rows.Err()
}

// MarkRead marks every message of the customer read.
func (s *ReminderStore) MarkRead(ctx context.Context, merchantID, customerID int64, now time.Time) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE inbox SET read_at = ? WHERE merchant_id = ? AND customer_id = ? AND read_at IS NULL`, ms(now), merchantID, customerID)
		return err
	})
}
