package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
)

// LiveStore implements live.Store.
type LiveStore struct{ DB *DB }

var _ live.Store = (*LiveStore)(nil)

const roomCols = `id, merchant_id, slug, title, title_en, COALESCE(host_staff_id, 0), host_name, status, scheduled_at, started_at, ended_at, poster, stream_key, COALESCE(pinned_product_id, 0), likes, created_at, COALESCE(store_id, 0)`

func scanRoom(row interface{ Scan(...any) error }) (*live.Room, error) {
	var r live.Room
	var status string
	var sched, started, ended sql.NullInt64
	var created int64
	err := row.Scan(&r.ID, &r.MerchantID, &r.Slug, &r.Title, &r.TitleEN, &r.HostStaffID, &r.HostName, &status, &sched, &started, &ended, &r.Poster, &r.StreamKey, &r.PinnedProductID, &r.Likes, &created, &r.StoreID)
	if err != nil {
		return nil, translate(err)
	}
	r.Status, r.ScheduledAt, r.StartedAt, r.EndedAt, r.CreatedAt = live.Status(status), nullMS(sched), nullMS(started), nullMS(ended), fromMS(created)
	return &r, nil
}

func (s *LiveStore) withLineup(ctx context.Context, r *live.Room, err error) (*live.Room, error) {
	if err != nil {
		return nil, err
	}
	ids, err := queryIDs(ctx, s.DB, `SELECT product_id FROM room_products WHERE room_id = ? ORDER BY position, product_id`, r.ID)
	if err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []int64{} // an empty lineup: [] in JSON, not null
	}
	r.ProductIDs = ids
	return r, nil
}

func (s *LiveStore) CreateRoom(ctx context.Context, r *live.Room) error {
	return s.CreateRoomWithLineup(ctx, r, nil)
}

// errSlugTaken refuses a room address another room has.
var errSlugTaken = apperr.InvalidField("slug", "slug_taken", "该房间地址已被使用", "That room address is taken.")

// CreateRoomWithLineup stores a room and, when productIDs is not nil, its
// lineup in one transaction: an unknown product (or any failure) leaves no
// room behind, so the slug stays free for the retry.
func (s *LiveStore) CreateRoomWithLineup(ctx context.Context, r *live.Room, productIDs []int64) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		return createRoomTx(ctx, tx, r, productIDs)
	})
}

// createRoomTx inserts a validated room and, when productIDs is not nil,
// its lineup inside tx.
func createRoomTx(ctx context.Context, tx *Tx, r *live.Room, productIDs []int64) (err error) {
	r.CreatedAt = tx.Now
	r.ID, err = tx.InsertID(ctx, `INSERT INTO rooms (merchant_id, slug, title, title_en, host_staff_id, host_name, status, scheduled_at, started_at, ended_at, poster, stream_key, created_at, store_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.MerchantID, r.Slug, r.Title, r.TitleEN, nullID(r.HostStaffID), r.HostName, string(r.Status),
		optMS(r.ScheduledAt), optMS(r.StartedAt), optMS(r.EndedAt), r.Poster, r.StreamKey, ms(tx.Now), nullID(r.StoreID))
	if err != nil && isUnique(err, "slug") {
		return errSlugTaken
	}
	if err != nil || productIDs == nil {
		return err
	}
	return setLineupTx(ctx, tx, r.MerchantID, r.ID, productIDs)
}

func (s *LiveStore) UpdateRoom(ctx context.Context, r *live.Room) error {
	return s.UpdateRoomWithLineup(ctx, r, nil)
}

// UpdateRoomWithLineup saves a room and, when productIDs is not nil,
// replaces its lineup in the same transaction.
func (s *LiveStore) UpdateRoomWithLineup(ctx context.Context, r *live.Room, productIDs []int64) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE rooms SET title = ?, title_en = ?, host_staff_id = ?, host_name = ?, status = ?, scheduled_at = ?, started_at = ?, ended_at = ?, poster = ?, stream_key = ?, store_id = ?
			WHERE merchant_id = ? AND id = ?`, r.Title, r.TitleEN, nullID(r.HostStaffID), r.HostName, string(r.Status), optMS(r.ScheduledAt), optMS(r.StartedAt), optMS(r.EndedAt),
			r.Poster, r.StreamKey, nullID(r.StoreID), r.MerchantID, r.ID)
		if err := mustAffect(res, err); err != nil || productIDs == nil {
			return err
		}
		return setLineupTx(ctx, tx, r.MerchantID, r.ID, productIDs)
	})
}

func (s *LiveStore) RoomBySlug(ctx context.Context, slug string) (*live.Room, error) {
	r, err := scanRoom(s.DB.QueryRow(ctx, `SELECT `+roomCols+` FROM rooms WHERE slug = ?`, slug))
	return s.withLineup(ctx, r, err)
}

func (s *LiveStore) RoomByID(ctx context.Context, id int64) (*live.Room, error) {
	r, err := scanRoom(s.DB.QueryRow(ctx, `SELECT `+roomCols+` FROM rooms WHERE id = ?`, id))
	return s.withLineup(ctx, r, err)
}

func (s *LiveStore) Room(ctx context.Context, merchantID, id int64) (*live.Room, error) {
	r, err := scanRoom(s.DB.QueryRow(ctx, `SELECT `+roomCols+` FROM rooms WHERE merchant_id = ? AND id = ?`, merchantID, id))
	return s.withLineup(ctx, r, err)
}

func (s *LiveStore) RoomByStreamKey(ctx context.Context, key string) (*live.Room, error) {
	if key == "" {
		return nil, apperr.ErrNotFound
	}
	r, err := scanRoom(s.DB.QueryRow(ctx, `SELECT `+roomCols+` FROM rooms WHERE stream_key = ?`, key))
	return s.withLineup(ctx, r, err)
}

func (s *LiveStore) ListRooms(ctx context.Context, merchantID int64) ([]live.Room, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+roomCols+` FROM rooms WHERE merchant_id = ? ORDER BY id DESC`, merchantID)
	if err != nil {
		return nil, err
	}
	var out []live.Room
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, *r)
	}
	rows.Close()
	for i := range out {
		if _, err := s.withLineup(ctx, &out[i], nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *LiveStore) ListPublicRooms(ctx context.Context, limit int) ([]live.Room, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+roomCols+` FROM rooms WHERE status <> 'ended'
		AND merchant_id IN (SELECT id FROM merchants WHERE disabled_at IS NULL) ORDER BY CASE status WHEN 'live' THEN 0 ELSE 1 END, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []live.Room
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

func (s *LiveStore) SetLineup(ctx context.Context, merchantID, roomID int64, productIDs []int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		return setLineupTx(ctx, tx, merchantID, roomID, productIDs)
	})
}

// setLineupTx replaces a room's lineup inside tx; every product must be the
// merchant's.
func setLineupTx(ctx context.Context, tx *Tx, merchantID, roomID int64, productIDs []int64) error {
	if err := roomInTenant(ctx, tx, merchantID, roomID); err != nil {
		return err
	}
	if tx.db.Dialect == Postgres {
		// one lineup save per room at a time: concurrent ones would
		// miss each other's rows in DELETE and leave a mix (or collide)
		if _, err := tx.Exec(ctx, `SELECT 1 FROM rooms WHERE id = ? FOR UPDATE`, roomID); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM room_products WHERE room_id = ?`, roomID); err != nil {
		return err
	}
	for i, pid := range productIDs {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM products WHERE merchant_id = ? AND id = ?`, merchantID, pid).Scan(&n); err != nil {
			return err // an outage is not an unknown product
		}
		if n == 0 {
			return catalog.ErrUnknownProduct.At("product_ids")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO room_products (room_id, product_id, position) VALUES (?, ?, ?)`, roomID, pid, i); err != nil {
			return err
		}
	}
	return nil
}

func roomInTenant(ctx context.Context, tx *Tx, merchantID, roomID int64) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM rooms WHERE merchant_id = ? AND id = ?`, merchantID, roomID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return apperr.ErrNotFound
	}
	return nil
}

func (s *LiveStore) Pin(ctx context.Context, merchantID, roomID, productID int64, at time.Time) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if productID == 0 { // unpin, kept as a pin of product 0: it ends the card's clip (clips.Spans)
			res, err := tx.Exec(ctx, `UPDATE rooms SET pinned_product_id = NULL WHERE merchant_id = ? AND id = ?`, merchantID, roomID)
			if err := mustAffect(res, err); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO room_pins (room_id, product_id, at) VALUES (?, 0, ?)`, roomID, ms(at))
			return err
		}
		if err := absentAs(ofMerchant(ctx, tx, "products", merchantID, productID), catalog.ErrUnknownProduct); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE rooms SET pinned_product_id = ? WHERE merchant_id = ? AND id = ?`, productID, merchantID, roomID)
		if err := mustAffect(res, err); err != nil {
			return err
		}
		// a pinned product joins the lineup if it was not in it
		if _, err := tx.Exec(ctx, `INSERT INTO room_products (room_id, product_id, position) SELECT ?, ?, 1000 WHERE NOT EXISTS (SELECT 1 FROM room_products WHERE room_id = ? AND product_id = ?)`,
			roomID, productID, roomID, productID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO room_pins (room_id, product_id, at) VALUES (?, ?, ?)`, roomID, productID, ms(at))
		return err
	})
}

func (s *LiveStore) Pins(ctx context.Context, merchantID, roomID int64) ([]live.Pin, error) {
	rows, err := s.DB.Query(ctx, `SELECT p.product_id, p.at FROM room_pins p JOIN rooms r ON r.id = p.room_id WHERE r.merchant_id = ? AND p.room_id = ? ORDER BY p.at`, merchantID, roomID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []live.Pin
	for rows.Next() {
		var p live.Pin
		var at int64
		if err := rows.Scan(&p.ProductID, &at); err != nil {
			return nil, err
		}
		p.At = fromMS(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *LiveStore) AddLikes(ctx context.Context, roomID, n int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE rooms SET likes = likes + ? WHERE id = ?`, n, roomID)
		return err
	})
}

func (s *LiveStore) AddComment(ctx context.Context, c *live.Comment) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) (err error) {
		c.CreatedAt = tx.Now
		c.ID, err = tx.InsertID(ctx, `INSERT INTO comments (room_id, merchant_id, author_kind, author_id, author_name, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.RoomID, c.MerchantID, c.AuthorKind, c.AuthorID, c.AuthorName, c.Body, ms(tx.Now))
		return err
	})
}

func (s *LiveStore) DeleteComment(ctx context.Context, merchantID, roomID, id int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE comments SET deleted = TRUE WHERE merchant_id = ? AND room_id = ? AND id = ?`, merchantID, roomID, id)
		return mustAffect(res, err)
	})
}

func (s *LiveStore) Comment(ctx context.Context, merchantID, roomID, id int64) (*live.Comment, error) {
	var c live.Comment
	var at int64
	err := s.DB.QueryRow(ctx, `SELECT id, room_id, merchant_id, author_kind, author_id, author_name, body, deleted, created_at FROM comments WHERE merchant_id = ? AND room_id = ? AND id = ?`,
		merchantID, roomID, id).Scan(&c.ID, &c.RoomID, &c.MerchantID, &c.AuthorKind, &c.AuthorID, &c.AuthorName, &c.Body, &c.Deleted, &at)
	if err != nil {
		return nil, translate(err)
	}
	c.CreatedAt = fromMS(at)
	return &c, nil
}

func (s *LiveStore) RecentComments(ctx context.Context, roomID int64, limit int) ([]live.Comment, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, room_id, merchant_id, author_kind, author_id, author_name, body, created_at FROM comments WHERE room_id = ? AND deleted = FALSE ORDER BY id DESC LIMIT ?`, roomID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []live.Comment
	for rows.Next() {
		var c live.Comment
		var at int64
		if err := rows.Scan(&c.ID, &c.RoomID, &c.MerchantID, &c.AuthorKind, &c.AuthorID, &c.AuthorName, &c.Body, &at); err != nil {
			return nil, err
		}
		c.CreatedAt = fromMS(at)
		out = append(out, c)
	}
	// oldest first, as a chat reads
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, rows.Err()
}

// Audit appends a staff action to the audit log (append-only: no update or delete path exists).
func (db *DB) Audit(ctx context.Context, merchantID int64, actor, action, object, detail string) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO audit_log (merchant_id, actor, action, object, detail, at) VALUES (?, ?, ?, ?, ?, ?)`, merchantID, actor, action, object, detail, ms(tx.Now))
		return err
	})
}

// AuditLog lists the newest audit entries of a merchant.
func (db *DB) AuditLog(ctx context.Context, merchantID int64, limit int) ([]identity.AuditEntry, error) {
	rows, err := db.Query(ctx, `SELECT id, actor, action, object, detail, at FROM audit_log WHERE merchant_id = ? ORDER BY id DESC LIMIT ?`, merchantID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []identity.AuditEntry{}
	for rows.Next() {
		var e identity.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.Actor, &e.Action, &e.Object, &e.Detail, &at); err != nil {
			return nil, err
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
