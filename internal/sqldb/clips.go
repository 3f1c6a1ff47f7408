package sqldb

import (
	"context"
	"database/sql"
	"errors"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/clips"
)

// ClipStore implements clips.Store.
type ClipStore struct{ DB *DB }

var _ clips.Store = (*ClipStore)(nil)

const clipCols = `c.id, c.merchant_id, c.room_id, r.slug, c.product_id, c.pinned_at, c.span_from, c.span_to, c.title, c.hidden,
	c.status, c.object_key, c.media_from, c.duration_ms, c.bytes, c.video_codec, c.width, c.height, c.audio_codec, c.error, c.attempts,
	c.created_at, c.updated_at`

const clipFrom = ` FROM clips c JOIN rooms r ON r.id = c.room_id `

func scanClip(row interface{ Scan(...any) error }) (clips.Clip, error) {
	var c clips.Clip
	var pinned, from, to, mfrom, created, updated int64
	err := row.Scan(&c.ID, &c.MerchantID, &c.RoomID, &c.RoomSlug, &c.ProductID, &pinned, &from, &to, &c.Title, &c.Hidden,
		&c.Status, &c.Key, &mfrom, &c.DurationMS, &c.Bytes, &c.VideoCodec, &c.Width, &c.Height, &c.AudioCodec, &c.Error, &c.Attempts,
		&created, &updated)
	if err != nil {
		return c, err
	}
	c.PinnedAt, c.From, c.To, c.CreatedAt, c.UpdatedAt = fromMS(pinned), fromMS(from), fromMS(to), fromMS(created), fromMS(updated)
	if mfrom != 0 {
		c.Start = fromMS(mfrom)
	}
	return c, nil
}

func (s *ClipStore) list(ctx context.Context, where string, args ...any) ([]clips.Clip, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+clipCols+clipFrom+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []clips.Clip{}
	for rows.Next() {
		c, err := scanClip(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *ClipStore) one(ctx context.Context, where string, args ...any) (*clips.Clip, error) {
	c, err := scanClip(s.DB.QueryRow(ctx, `SELECT `+clipCols+clipFrom+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// EnsureClips adds the spans not yet known as pending clips, in one
// transaction; a span already cut keeps its clip (staff's title and
// hiding stay). With retry, failed clips of these spans are queued again.
func (s *ClipStore) EnsureClips(ctx context.Context, merchantID, roomID int64, spans []clips.Span, retry bool) ([]clips.Clip, error) {
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		if err := roomInTenant(ctx, tx, merchantID, roomID); err != nil {
			return err
		}
		now := ms(tx.Now)
		for _, sp := range spans {
			var id int64
			var status string
			err := tx.QueryRow(ctx, `SELECT id, status FROM clips WHERE room_id = ? AND pinned_at = ?`, roomID, ms(sp.PinnedAt)).Scan(&id, &status)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if _, err := tx.Exec(ctx, `INSERT INTO clips (merchant_id, room_id, product_id, pinned_at, span_from, span_to, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, merchantID, roomID, sp.ProductID, ms(sp.PinnedAt), ms(sp.From), ms(sp.To), now, now); err != nil {
					return err
				}
			case err != nil:
				return err
			case retry && status == string(clips.Failed):
				if _, err := tx.Exec(ctx, `UPDATE clips SET status = 'pending', error = '', attempts = 0, span_from = ?, span_to = ?, updated_at = ? WHERE id = ?`,
					ms(sp.From), ms(sp.To), now, id); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.RoomClips(ctx, merchantID, roomID)
}

// RoomClips lists a room's clips in the order of the live.
func (s *ClipStore) RoomClips(ctx context.Context, merchantID, roomID int64) ([]clips.Clip, error) {
	return s.list(ctx, `WHERE c.merchant_id = ? AND c.room_id = ? ORDER BY c.pinned_at`, merchantID, roomID)
}

// ProductClips lists a product's clips from every live, newest first.
func (s *ClipStore) ProductClips(ctx context.Context, merchantID, productID int64) ([]clips.Clip, error) {
	return s.list(ctx, `WHERE c.merchant_id = ? AND c.product_id = ? ORDER BY c.pinned_at DESC`, merchantID, productID)
}

// ListClips lists the merchant's newest clips.
func (s *ClipStore) ListClips(ctx context.Context, merchantID int64, limit int) ([]clips.Clip, error) {
	return s.list(ctx, `WHERE c.merchant_id = ? ORDER BY c.pinned_at DESC LIMIT ?`, merchantID, limit)
}

// Clip is one of the merchant's clips.
func (s *ClipStore) Clip(ctx context.Context, merchantID, id int64) (*clips.Clip, error) {
	return s.one(ctx, `WHERE c.merchant_id = ? AND c.id = ?`, merchantID, id)
}

// ClipByID is a clip by its public id (its page's link names no shop).
func (s *ClipStore) ClipByID(ctx context.Context, id int64) (*clips.Clip, error) {
	return s.one(ctx, `WHERE c.id = ?`, id)
}

// PendingClips is the cutter's queue: pending clips, least recently tried first.
func (s *ClipStore) PendingClips(ctx context.Context, limit int) ([]clips.Clip, error) {
	return s.list(ctx, `WHERE c.status = 'pending' ORDER BY c.updated_at, c.id LIMIT ?`, limit)
}

// FinishClip records a cut: ready with its media, failed with the reason,
// or (pending) one more attempt. Only a pending clip changes, so a late
// second cutter cannot undo a result.
func (s *ClipStore) FinishClip(ctx context.Context, merchantID, id int64, status clips.Status, m clips.Media, reason string) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		now := ms(tx.Now)
		var res sql.Result
		var err error
		switch status {
		case clips.Ready:
			var start int64
			if !m.Start.IsZero() {
				start = ms(m.Start)
			}
			res, err = tx.Exec(ctx, `UPDATE clips SET status = 'ready', object_key = ?, media_from = ?, duration_ms = ?, bytes = ?, video_codec = ?, width = ?, height = ?,
				audio_codec = ?, error = '', attempts = attempts + 1, updated_at = ? WHERE merchant_id = ? AND id = ? AND status = 'pending'`,
				clips.Key(merchantID, id), start, m.DurationMS, m.Bytes, m.VideoCodec, m.Width, m.Height, m.AudioCodec, now, merchantID, id)
		case clips.Failed:
			res, err = tx.Exec(ctx, `UPDATE clips SET status = 'failed', error = ?, attempts = attempts + 1, updated_at = ? WHERE merchant_id = ? AND id = ? AND status = 'pending'`,
				trimRunes(reason, 200), now, merchantID, id)
		default:
			res, err = tx.Exec(ctx, `UPDATE clips SET attempts = attempts + 1, updated_at = ? WHERE merchant_id = ? AND id = ? AND status = 'pending'`, now, merchantID, id)
		}
		return mustAffect(res, err)
	})
}

// UpdateClip changes a clip's title or visibility.
func (s *ClipStore) UpdateClip(ctx context.Context, merchantID, id int64, u clips.Update) (*clips.Clip, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		now := ms(tx.Now)
		if u.Title != nil {
			res, err := tx.Exec(ctx, `UPDATE clips SET title = ?, updated_at = ? WHERE merchant_id = ? AND id = ?`, *u.Title, now, merchantID, id)
			if err := mustAffect(res, err); err != nil {
				return err
			}
		}
		if u.Hidden != nil {
			res, err := tx.Exec(ctx, `UPDATE clips SET hidden = ?, updated_at = ? WHERE merchant_id = ? AND id = ?`, *u.Hidden, now, merchantID, id)
			if err := mustAffect(res, err); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Clip(ctx, merchantID, id)
}

func trimRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
