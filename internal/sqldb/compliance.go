package sqldb

import (
	"context"
	"database/sql"
	"errors"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/compliance"
)

// ComplianceStore implements compliance.Store.
type ComplianceStore struct{ DB *DB }

var _ compliance.Store = (*ComplianceStore)(nil)

func (s *ComplianceStore) Terms(ctx context.Context, merchantID int64) ([]compliance.Term, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, term, severity, explanation, suggestion, created_by, created_at
		FROM compliance_terms WHERE merchant_id = ? ORDER BY id`, merchantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []compliance.Term{}
	for rows.Next() {
		t := compliance.Term{MerchantID: merchantID}
		var sev string
		var at int64
		if err := rows.Scan(&t.ID, &t.Term, &sev, &t.Explanation, &t.Suggestion, &t.CreatedBy, &at); err != nil {
			return nil, err
		}
		t.Severity, t.CreatedAt = compliance.Severity(sev), fromMS(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *ComplianceStore) Evidence(ctx context.Context, merchantID int64) ([]compliance.Evidence, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, kind, term, product_id, reference, note, valid_until, created_by, created_at
		FROM compliance_evidence WHERE merchant_id = ? ORDER BY id`, merchantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []compliance.Evidence{}
	for rows.Next() {
		e := compliance.Evidence{MerchantID: merchantID}
		var until sql.NullInt64
		var at int64
		if err := rows.Scan(&e.ID, &e.Kind, &e.Term, &e.ProductID, &e.Reference, &e.Note, &until, &e.CreatedBy, &at); err != nil {
			return nil, err
		}
		e.ValidUntil, e.CreatedAt = nullMS(until), fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *ComplianceStore) AddTerm(ctx context.Context, t *compliance.Term) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) (err error) {
		t.CreatedAt = tx.Now
		t.ID, err = tx.InsertID(ctx, `INSERT INTO compliance_terms (merchant_id, term, severity, explanation, suggestion, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, t.MerchantID, t.Term, string(t.Severity), t.Explanation, t.Suggestion, t.CreatedBy, ms(tx.Now))
		if errors.Is(translate(err), apperr.ErrConflict) {
			return compliance.ErrTermExists
		}
		return err
	})
}

func (s *ComplianceStore) AddEvidence(ctx context.Context, e *compliance.Evidence) error {
	if err := e.Validate(); err != nil {
		return err
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) (err error) {
		if e.ProductID != 0 {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM products WHERE merchant_id = ? AND id = ?`, e.MerchantID, e.ProductID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return compliance.ErrEvidenceProduct
			}
		}
		e.CreatedAt = tx.Now
		e.ID, err = tx.InsertID(ctx, `INSERT INTO compliance_evidence (merchant_id, kind, term, product_id, reference, note, valid_until, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.MerchantID, e.Kind, e.Term, e.ProductID, e.Reference, e.Note, optMS(e.ValidUntil), e.CreatedBy, ms(tx.Now))
		return err
	})
}

func (s *ComplianceStore) DeleteTerm(ctx context.Context, merchantID, id int64) error {
	return s.deleteOwned(ctx, `DELETE FROM compliance_terms WHERE merchant_id = ? AND id = ?`, merchantID, id)
}

func (s *ComplianceStore) DeleteEvidence(ctx context.Context, merchantID, id int64) error {
	return s.deleteOwned(ctx, `DELETE FROM compliance_evidence WHERE merchant_id = ? AND id = ?`, merchantID, id)
}

func (s *ComplianceStore) deleteOwned(ctx context.Context, q string, merchantID, id int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, q, merchantID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.ErrNotFound
		}
		return nil
	})
}

func (s *ComplianceStore) Script(ctx context.Context, merchantID, roomID int64) (string, error) {
	var body string
	err := s.DB.QueryRow(ctx, `SELECT body FROM room_scripts WHERE merchant_id = ? AND room_id = ?`, merchantID, roomID).Scan(&body)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return body, err
}

func (s *ComplianceStore) SetScript(ctx context.Context, merchantID, roomID int64, body, by string) error {
	if len([]rune(body)) > 20000 {
		return compliance.ErrScript
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM rooms WHERE merchant_id = ? AND id = ?`, merchantID, roomID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.ErrNotFound
		}
		_, err := tx.Exec(ctx, `INSERT INTO room_scripts (room_id, merchant_id, body, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (room_id) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			roomID, merchantID, body, by, ms(tx.Now))
		return err
	})
}
