package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/promotions"
)

// PollStore keeps room polls, their options and one vote per customer.
type PollStore struct{ DB *DB }

var _ promotions.PollStore = (*PollStore)(nil)

const pollCols = `id, merchant_id, room_id, question, status, votes, created_by, created_at, closes_at, closed_at`

func scanPoll(row interface{ Scan(...any) error }) (*promotions.Poll, error) {
	var p promotions.Poll
	var status string
	var created int64
	var closes, closed sql.NullInt64
	if err := row.Scan(&p.ID, &p.MerchantID, &p.RoomID, &p.Question, &status, &p.Votes, &p.CreatedBy, &created, &closes, &closed); err != nil {
		return nil, err
	}
	p.Status, p.CreatedAt = promotions.PollStatus(status), time.UnixMilli(created).UTC()
	if closes.Valid {
		t := time.UnixMilli(closes.Int64).UTC()
		p.ClosesAt = &t
	}
	if closed.Valid {
		t := time.UnixMilli(closed.Int64).UTC()
		p.ClosedAt = &t
	}
	return &p, nil
}

func nullMs(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}

// CreatePoll stores an open poll with its options; the partial unique index
// keeps one open poll per room.
func (s *PollStore) CreatePoll(ctx context.Context, p *promotions.Poll) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		p.Status, p.CreatedAt = promotions.PollOpen, tx.Now.UTC()
		id, err := tx.InsertID(ctx, `INSERT INTO polls (merchant_id, room_id, question, status, created_by, created_at, closes_at) VALUES (?, ?, ?, 'open', ?, ?, ?)`,
			p.MerchantID, p.RoomID, p.Question, p.CreatedBy, ms(tx.Now), nullMs(p.ClosesAt))
		if err != nil {
			if isUnique(err, "polls_one_open", "polls.room_id", "room_id") {
				return promotions.ErrPollOpenOne
			}
			return err
		}
		p.ID = id
		for i := range p.Options {
			oid, err := tx.InsertID(ctx, `INSERT INTO poll_options (poll_id, position, text, product_id) VALUES (?, ?, ?, ?)`, id, i, p.Options[i].Text, p.Options[i].ProductID)
			if err != nil {
				return err
			}
			p.Options[i].ID = oid
		}
		return nil
	})
}

func (s *PollStore) options(ctx context.Context, q querier, polls []*promotions.Poll) error {
	for _, p := range polls {
		rows, err := q.Query(ctx, `SELECT id, text, product_id, votes FROM poll_options WHERE poll_id = ? ORDER BY position`, p.ID)
		if err != nil {
			return err
		}
		p.Options = p.Options[:0]
		for rows.Next() {
			var o promotions.PollOption
			if err := rows.Scan(&o.ID, &o.Text, &o.ProductID, &o.Votes); err != nil {
				rows.Close()
				return err
			}
			p.Options = append(p.Options, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Poll returns one poll of the merchant with its counts.
func (s *PollStore) Poll(ctx context.Context, merchantID, id int64) (*promotions.Poll, error) {
	return s.poll(ctx, s.DB, merchantID, id)
}

func (s *PollStore) poll(ctx context.Context, q querier, merchantID, id int64) (*promotions.Poll, error) {
	p, err := scanPoll(q.QueryRow(ctx, `SELECT `+pollCols+` FROM polls WHERE merchant_id = ? AND id = ?`, merchantID, id))
	if err == sql.ErrNoRows {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return p, s.options(ctx, q, []*promotions.Poll{p})
}

// RoomPolls lists a room's polls, newest first.
func (s *PollStore) RoomPolls(ctx context.Context, merchantID, roomID int64, limit int) ([]promotions.Poll, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+pollCols+` FROM polls WHERE merchant_id = ? AND room_id = ? ORDER BY id DESC LIMIT ?`, merchantID, roomID, limit)
	if err != nil {
		return nil, err
	}
	var ps []*promotions.Poll
	for rows.Next() {
		p, err := scanPoll(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		ps = append(ps, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.options(ctx, s.DB, ps); err != nil {
		return nil, err
	}
	out := make([]promotions.Poll, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out, nil
}

// Vote records and counts one vote in one transaction. The primary key
// (poll, customer) is the once-per-person rule, so two racing votes of the
// same customer count once.
func (s *PollStore) Vote(ctx context.Context, merchantID, pollID, customerID, optionID int64, now time.Time) (*promotions.Poll, error) {
	var out *promotions.Poll
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		p, err := scanPoll(tx.QueryRow(ctx, `SELECT `+pollCols+` FROM polls WHERE merchant_id = ? AND id = ?`+s.DB.forUpdate(), merchantID, pollID))
		if err == sql.ErrNoRows {
			return apperr.ErrNotFound
		}
		if err != nil {
			return err
		}
		if !p.IsOpen(now) {
			return promotions.ErrPollClosed
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM poll_options WHERE poll_id = ? AND id = ?`, pollID, optionID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return promotions.ErrPollOption
		}
		res, err := tx.Exec(ctx, `INSERT INTO poll_votes (poll_id, customer_id, option_id, at) VALUES (?, ?, ?, ?) ON CONFLICT (poll_id, customer_id) DO NOTHING`, pollID, customerID, optionID, ms(now))
		if added, err := rowsAffected(res, err); err != nil {
			return err
		} else if added == 0 {
			return promotions.ErrVoted
		}
		if _, err := tx.Exec(ctx, `UPDATE poll_options SET votes = votes + 1 WHERE id = ?`, optionID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE polls SET votes = votes + 1 WHERE id = ?`, pollID); err != nil {
			return err
		}
		out, err = s.poll(ctx, tx, merchantID, pollID)
		return err
	})
	return out, err
}

// ClosePoll closes an open poll; closing a closed one returns it as it is.
func (s *PollStore) ClosePoll(ctx context.Context, merchantID, id int64, now time.Time) (*promotions.Poll, error) {
	var out *promotions.Poll
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE polls SET status = 'closed', closed_at = ? WHERE merchant_id = ? AND id = ? AND status = 'open'`, ms(now), merchantID, id)
		if _, err := rowsAffected(res, err); err != nil {
			return err
		}
		out, err = s.poll(ctx, tx, merchantID, id)
		return err
	})
	return out, err
}

// DuePolls lists open polls whose closing time passed, across merchants
// (the leader closes them).
func (s *PollStore) DuePolls(ctx context.Context, now time.Time) ([]promotions.Poll, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+pollCols+` FROM polls WHERE status = 'open' AND closes_at IS NOT NULL AND closes_at <= ? LIMIT 100`, ms(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []promotions.Poll
	for rows.Next() {
		p, err := scanPoll(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

// VotedFor returns the option a customer chose in a poll, 0 if none.
func (s *PollStore) VotedFor(ctx context.Context, pollID, customerID int64) (int64, error) {
	var opt int64
	err := s.DB.QueryRow(ctx, `SELECT option_id FROM poll_votes WHERE poll_id = ? AND customer_id = ?`, pollID, customerID).Scan(&opt)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return opt, err
}
