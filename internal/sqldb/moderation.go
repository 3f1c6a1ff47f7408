package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/moderation"
)

// ModerationStore implements moderation.Store.
type ModerationStore struct{ DB *DB }

var _ moderation.Store = (*ModerationStore)(nil)

// Words returns the merchant's word list, sorted by term.
func (s *ModerationStore) Words(ctx context.Context, merchantID int64) ([]moderation.Word, error) {
	rows, err := s.DB.Query(ctx, `SELECT term, action FROM moderation_words WHERE merchant_id = ? ORDER BY term`, merchantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []moderation.Word{}
	for rows.Next() {
		var w moderation.Word
		if err := rows.Scan(&w.Term, &w.Action); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// SetWords replaces the merchant's word list (cleaned first) in one
// transaction: readers see the old list or the new one, never a mix.
func (s *ModerationStore) SetWords(ctx context.Context, merchantID int64, words []moderation.Word) error {
	words, err := moderation.CleanWords(words)
	if err != nil {
		return err
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM moderation_words WHERE merchant_id = ?`, merchantID); err != nil {
			return err
		}
		for _, w := range words {
			if _, err := tx.Exec(ctx, `INSERT INTO moderation_words (merchant_id, term, action) VALUES (?, ?, ?)`, merchantID, w.Term, w.Action); err != nil {
				return err
			}
		}
		return nil
	})
}

// Restrict stores a restriction after checking its customer (and, for a
// mute, its room) are the merchant's.
func (s *ModerationStore) Restrict(ctx context.Context, r *moderation.Restriction) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) (err error) {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM customers WHERE merchant_id = ? AND id = ?`, r.MerchantID, r.CustomerID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.ErrNotFound
		}
		if r.RoomID != 0 {
			if err := roomInTenant(ctx, tx, r.MerchantID, r.RoomID); err != nil {
				return err
			}
		}
		r.CreatedAt = tx.Now
		r.ID, err = tx.InsertID(ctx, `INSERT INTO moderation_restrictions (merchant_id, customer_id, room_id, customer_name, until_at, reason, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.MerchantID, r.CustomerID, r.RoomID, r.CustomerName, optMS(r.Until), r.Reason, r.By, ms(tx.Now))
		return err
	})
}

const restrictionCols = `x.id, x.merchant_id, x.customer_id, x.customer_name, x.room_id, COALESCE(r.slug, ''), x.until_at, x.reason, x.created_by, x.created_at, x.lifted_at, x.lifted_by`

const restrictionFrom = ` FROM moderation_restrictions x LEFT JOIN rooms r ON r.id = x.room_id `

func scanRestriction(row interface{ Scan(...any) error }) (*moderation.Restriction, error) {
	var x moderation.Restriction
	var until, lifted sql.NullInt64
	var created int64
	if err := row.Scan(&x.ID, &x.MerchantID, &x.CustomerID, &x.CustomerName, &x.RoomID, &x.RoomSlug, &until, &x.Reason, &x.By, &created, &lifted, &x.LiftedBy); err != nil {
		return nil, translate(err)
	}
	x.Until, x.LiftedAt, x.CreatedAt = nullMS(until), nullMS(lifted), fromMS(created)
	x.Scope = moderation.ScopeRoom
	if x.RoomID == 0 {
		x.Scope = moderation.ScopeMerchant
	}
	return &x, nil
}

// Lift ends a restriction now (once: a second lift keeps the first).
func (s *ModerationStore) Lift(ctx context.Context, merchantID, id int64, by string, now time.Time) (*moderation.Restriction, error) {
	var out *moderation.Restriction
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE moderation_restrictions SET lifted_at = ?, lifted_by = ? WHERE merchant_id = ? AND id = ? AND lifted_at IS NULL`,
			ms(now), by, merchantID, id); err != nil {
			return err
		}
		var err error
		out, err = scanRestriction(tx.QueryRow(ctx, `SELECT `+restrictionCols+restrictionFrom+`WHERE x.merchant_id = ? AND x.id = ?`, merchantID, id))
		return err
	})
	return out, err
}

// Restricted is on the comment path: one indexed lookup by (merchant,
// customer), as the room ban check it replaces was.
func (s *ModerationStore) Restricted(ctx context.Context, merchantID, roomID, customerID int64, now time.Time) (*moderation.Restriction, error) {
	r, err := scanRestriction(s.DB.QueryRow(ctx, `SELECT `+restrictionCols+restrictionFrom+`WHERE x.merchant_id = ? AND x.customer_id = ? AND x.room_id IN (0, ?)
		AND x.lifted_at IS NULL AND (x.until_at IS NULL OR x.until_at > ?) ORDER BY x.room_id, x.until_at IS NULL DESC, x.until_at DESC LIMIT 1`, merchantID, customerID, roomID, ms(now)))
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, nil
	}
	return r, err
}

// Restrictions lists the merchant's restrictions, newest first (500 at most).
func (s *ModerationStore) Restrictions(ctx context.Context, merchantID int64, activeOnly bool, now time.Time) ([]moderation.Restriction, error) {
	q := `SELECT ` + restrictionCols + restrictionFrom + `WHERE x.merchant_id = ?`
	args := []any{merchantID}
	if activeOnly {
		q += ` AND x.lifted_at IS NULL AND (x.until_at IS NULL OR x.until_at > ?)`
		args = append(args, ms(now))
	}
	rows, err := s.DB.Query(ctx, q+` ORDER BY x.id DESC LIMIT 500`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []moderation.Restriction{}
	for rows.Next() {
		r, err := scanRestriction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// AddReport stores a viewer's report of a comment of the merchant's room.
func (s *ModerationStore) AddReport(ctx context.Context, r *moderation.Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) (err error) {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM comments WHERE merchant_id = ? AND room_id = ? AND id = ?`, r.MerchantID, r.RoomID, r.CommentID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.ErrNotFound
		}
		r.CreatedAt, r.Status = tx.Now, moderation.ReportOpen
		r.ID, err = tx.InsertID(ctx, `INSERT INTO comment_reports (merchant_id, room_id, comment_id, reporter_id, reason, note, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			r.MerchantID, r.RoomID, r.CommentID, r.ReporterID, r.Reason, r.Note, r.Status, ms(tx.Now))
		if err != nil && isUnique(err, "reporter_id") {
			return moderation.ErrAlreadyReported
		}
		return err
	})
}

const reportCols = `p.id, p.merchant_id, p.room_id, r.slug, p.comment_id, c.body, c.author_id, c.author_name, p.reporter_id, p.reason, p.note, p.status, p.created_at, p.decided_by, p.decided_at,
	(SELECT count(*) FROM comment_reports q WHERE q.comment_id = p.comment_id AND q.status = 'open')`

const reportFrom = ` FROM comment_reports p JOIN rooms r ON r.id = p.room_id JOIN comments c ON c.id = p.comment_id `

func scanReport(row interface{ Scan(...any) error }) (*moderation.Report, error) {
	var p moderation.Report
	var created int64
	var decided sql.NullInt64
	if err := row.Scan(&p.ID, &p.MerchantID, &p.RoomID, &p.RoomSlug, &p.CommentID, &p.CommentBody, &p.AuthorID, &p.AuthorName, &p.ReporterID, &p.Reason, &p.Note, &p.Status,
		&created, &p.DecidedBy, &decided, &p.ReportsCount); err != nil {
		return nil, translate(err)
	}
	p.CreatedAt, p.DecidedAt = fromMS(created), nullMS(decided)
	return &p, nil
}

// Reports lists the merchant's reports, newest first.
func (s *ModerationStore) Reports(ctx context.Context, merchantID int64, status string, limit int) ([]moderation.Report, error) {
	q := `SELECT ` + reportCols + reportFrom + `WHERE p.merchant_id = ?`
	args := []any{merchantID}
	if status != "" {
		q += ` AND p.status = ?`
		args = append(args, status)
	}
	rows, err := s.DB.Query(ctx, q+` ORDER BY p.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []moderation.Report{}
	for rows.Next() {
		p, err := scanReport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

// DecideReports closes every open report of the reported comment at once:
// one decision per comment, however many viewers reported it.
func (s *ModerationStore) DecideReports(ctx context.Context, merchantID, reportID int64, status, by string, now time.Time) (*moderation.Report, error) {
	var out *moderation.Report
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		p, err := scanReport(tx.QueryRow(ctx, `SELECT `+reportCols+reportFrom+`WHERE p.merchant_id = ? AND p.id = ?`, merchantID, reportID))
		if err != nil {
			return err
		}
		if status != moderation.ReportUpheld && status != moderation.ReportDismissed {
			return moderation.ErrInvalidDecision
		}
		if _, err := tx.Exec(ctx, `UPDATE comment_reports SET status = ?, decided_by = ?, decided_at = ? WHERE merchant_id = ? AND comment_id = ? AND status = 'open'`,
			status, by, ms(now), merchantID, p.CommentID); err != nil {
			return err
		}
		out, err = scanReport(tx.QueryRow(ctx, `SELECT `+reportCols+reportFrom+`WHERE p.merchant_id = ? AND p.id = ?`, merchantID, reportID))
		return err
	})
	return out, err
}
