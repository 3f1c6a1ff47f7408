package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/cocreate"
	"github.com/shelflive/shelflive/internal/presale"
)

// CocreateStore keeps co-creation drafts, their option groups and one vote
// per customer per option group. Counts are computed from the votes (an
// index on draft and option), so a changed vote can never leave a counter
// behind.
type CocreateStore struct{ DB *DB }

var _ cocreate.Store = (*CocreateStore)(nil)

const draftCols = `id, merchant_id, name, story, origin, images, COALESCE(group_id, 0), COALESCE(room_id, 0), COALESCE(trial_id, 0), status,
	COALESCE(presale_id, 0), created_by, created_at, closes_at, closed_at FROM cocreate_drafts`

func scanDraft(row interface{ Scan(...any) error }) (*cocreate.Draft, error) {
	var d cocreate.Draft
	var status, images string
	var created int64
	var closes, closed sql.NullInt64
	if err := row.Scan(&d.ID, &d.MerchantID, &d.Name, &d.Story, &d.Origin, &images, &d.GroupID, &d.RoomID, &d.TrialID, &status,
		&d.PresaleID, &d.CreatedBy, &created, &closes, &closed); err != nil {
		return nil, translate(err)
	}
	if err := json.Unmarshal([]byte(images), &d.Images); err != nil || d.Images == nil {
		d.Images = []string{}
	}
	d.Status, d.CreatedAt, d.ClosesAt, d.ClosedAt = cocreate.Status(status), fromMS(created), nullMS(closes), nullMS(closed)
	return &d, nil
}

// CreateDraft implements cocreate.Store.
func (s *CocreateStore) CreateDraft(ctx context.Context, d *cocreate.Draft) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if d.GroupID != 0 {
			if err := ofMerchant(ctx, tx, "fan_groups", d.MerchantID, d.GroupID); err != nil {
				return at(err, "group_id")
			}
		}
		if d.RoomID != 0 {
			if err := ofMerchant(ctx, tx, "rooms", d.MerchantID, d.RoomID); err != nil {
				return at(err, "room_id")
			}
		}
		images, _ := json.Marshal(d.Images)
		d.Status, d.CreatedAt = cocreate.Open, tx.Now.UTC().Truncate(time.Millisecond)
		id, err := tx.InsertID(ctx, `INSERT INTO cocreate_drafts (merchant_id, name, story, origin, images, group_id, room_id, trial_id, status, created_by, created_at, closes_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`, d.MerchantID, d.Name, d.Story, d.Origin, string(images), nullID(d.GroupID), nullID(d.RoomID), nullID(d.TrialID),
			d.CreatedBy, ms(tx.Now), optMS(d.ClosesAt))
		if err != nil {
			return err
		}
		d.ID = id
		for i := range d.Groups {
			g := &d.Groups[i]
			if g.ID, err = tx.InsertID(ctx, `INSERT INTO cocreate_groups (draft_id, position, name) VALUES (?, ?, ?)`, id, i, g.Name); err != nil {
				return err
			}
			for j := range g.Options {
				if g.Options[j].ID, err = tx.InsertID(ctx, `INSERT INTO cocreate_options (group_id, draft_id, position, text) VALUES (?, ?, ?, ?)`, g.ID, id, j, g.Options[j].Text); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// at names the body field a not-found refers to; other errors pass.
func at(err error, field string) error {
	if errors.Is(err, apperr.ErrNotFound) {
		return apperr.ErrNotFound.At(field)
	}
	return err
}

// fill reads each draft's option groups, options and counts.
func (s *CocreateStore) fill(ctx context.Context, q querier, ds []*cocreate.Draft) error {
	for _, d := range ds {
		d.Groups = []cocreate.OptionGroup{}
		rows, err := q.Query(ctx, `SELECT g.id, g.name, o.id, o.text FROM cocreate_groups g JOIN cocreate_options o ON o.group_id = g.id
			WHERE g.draft_id = ? ORDER BY g.position, o.position`, d.ID)
		if err != nil {
			return err
		}
		at := map[int64]int{}
		for rows.Next() {
			var gid int64
			var gname string
			var o cocreate.Option
			if err := rows.Scan(&gid, &gname, &o.ID, &o.Text); err != nil {
				rows.Close()
				return err
			}
			i, ok := at[gid]
			if !ok {
				i = len(d.Groups)
				at[gid] = i
				d.Groups = append(d.Groups, cocreate.OptionGroup{ID: gid, Name: gname, Options: []cocreate.Option{}})
			}
			d.Groups[i].Options = append(d.Groups[i].Options, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		votes := map[int64]int64{}
		rows, err = q.Query(ctx, `SELECT option_id, COUNT(*) FROM cocreate_votes WHERE draft_id = ? GROUP BY option_id`, d.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var opt, n int64
			if err := rows.Scan(&opt, &n); err != nil {
				rows.Close()
				return err
			}
			votes[opt] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range d.Groups {
			g := &d.Groups[i]
			for j := range g.Options {
				g.Options[j].Votes = votes[g.Options[j].ID]
				g.Votes += g.Options[j].Votes
			}
		}
		if err := q.QueryRow(ctx, `SELECT COUNT(DISTINCT customer_id) FROM cocreate_votes WHERE draft_id = ?`, d.ID).Scan(&d.Voters); err != nil {
			return err
		}
	}
	return nil
}

func (s *CocreateStore) one(ctx context.Context, q querier, where string, args ...any) (*cocreate.Draft, error) {
	d, err := scanDraft(q.QueryRow(ctx, `SELECT `+draftCols+` WHERE `+where, args...))
	if err != nil {
		return nil, err
	}
	return d, s.fill(ctx, q, []*cocreate.Draft{d})
}

// Draft implements cocreate.Store.
func (s *CocreateStore) Draft(ctx context.Context, merchantID, id int64) (*cocreate.Draft, error) {
	return s.one(ctx, s.DB, `merchant_id = ? AND id = ?`, merchantID, id)
}

// PublicDraft implements cocreate.Store.
func (s *CocreateStore) PublicDraft(ctx context.Context, id int64) (*cocreate.Draft, error) {
	return s.one(ctx, s.DB, `id = ?`, id)
}

// Drafts implements cocreate.Store.
func (s *CocreateStore) Drafts(ctx context.Context, merchantID int64, f cocreate.Filter) ([]cocreate.Draft, error) {
	q, args := `SELECT `+draftCols+` WHERE merchant_id = ?`, []any{merchantID}
	if f.Status != "" {
		q, args = q+` AND status = ?`, append(args, string(f.Status))
	}
	if f.GroupID != 0 {
		q, args = q+` AND group_id = ?`, append(args, f.GroupID)
	}
	if f.RoomID != 0 {
		q, args = q+` AND room_id = ?`, append(args, f.RoomID)
	}
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 50
	}
	return s.list(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)...)
}

func (s *CocreateStore) list(ctx context.Context, q string, args ...any) ([]cocreate.Draft, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var ds []*cocreate.Draft
	for rows.Next() {
		d, err := scanDraft(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		ds = append(ds, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.fill(ctx, s.DB, ds); err != nil {
		return nil, err
	}
	out := make([]cocreate.Draft, len(ds))
	for i, d := range ds {
		out[i] = *d
	}
	return out, nil
}

// Vote implements cocreate.Store. The primary key (option group,
// customer) is the one-vote rule; the upsert makes a second vote — or two
// racing ones — leave exactly one row, the last choice. The draft's row is
// read FOR SHARE, so a close waits for votes in flight and no vote lands
// after it.
func (s *CocreateStore) Vote(ctx context.Context, merchantID, draftID, customerID, optionID int64, now time.Time) (*cocreate.Draft, error) {
	var out *cocreate.Draft
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		d, err := scanDraft(tx.QueryRow(ctx, `SELECT `+draftCols+` WHERE merchant_id = ? AND id = ?`+s.DB.forShare(), merchantID, draftID))
		if err != nil {
			return err
		}
		if !d.IsOpen(now) {
			return cocreate.ErrClosed
		}
		var group int64
		err = tx.QueryRow(ctx, `SELECT group_id FROM cocreate_options WHERE draft_id = ? AND id = ?`, draftID, optionID).Scan(&group)
		if err == sql.ErrNoRows {
			return cocreate.ErrOption
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cocreate_votes (group_id, customer_id, draft_id, option_id, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (group_id, customer_id) DO UPDATE SET option_id = excluded.option_id, at = excluded.at`, group, customerID, draftID, optionID, ms(now)); err != nil {
			return err
		}
		if err := s.fill(ctx, tx, []*cocreate.Draft{d}); err != nil {
			return err
		}
		out = d
		return nil
	})
	return out, err
}

// MyVotes implements cocreate.Store.
func (s *CocreateStore) MyVotes(ctx context.Context, draftID, customerID int64) ([]int64, error) {
	ids, err := queryIDs(ctx, s.DB, `SELECT option_id FROM cocreate_votes WHERE draft_id = ? AND customer_id = ? ORDER BY group_id`, draftID, customerID)
	if err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []int64{} // no votes: [] in JSON, not null
	}
	return ids, nil
}

// CloseDraft implements cocreate.Store.
func (s *CocreateStore) CloseDraft(ctx context.Context, merchantID, id int64, now time.Time) (*cocreate.Draft, error) {
	var out *cocreate.Draft
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE cocreate_drafts SET status = 'closed', closed_at = ? WHERE merchant_id = ? AND id = ? AND status = 'open'`, ms(now), merchantID, id); err != nil {
			return err
		}
		d, err := s.one(ctx, tx, `merchant_id = ? AND id = ?`, merchantID, id)
		out = d
		return err
	})
	return out, err
}

// SetRoom implements cocreate.Store.
func (s *CocreateStore) SetRoom(ctx context.Context, merchantID, id, roomID int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if err := ofMerchant(ctx, tx, "rooms", merchantID, roomID); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE cocreate_drafts SET room_id = ? WHERE merchant_id = ? AND id = ?`, roomID, merchantID, id)
		return mustAffect(res, err)
	})
}

// DueDrafts implements cocreate.Store.
func (s *CocreateStore) DueDrafts(ctx context.Context, now time.Time) ([]cocreate.Draft, error) {
	return s.list(ctx, `SELECT `+draftCols+` WHERE status = 'open' AND closes_at IS NOT NULL AND closes_at <= ? ORDER BY id LIMIT 100`, ms(now))
}

// ToPresale implements cocreate.Store: the product, the pre-sale and the
// draft's link commit together or not at all. The guarded UPDATE (no
// pre-sale yet) runs first, so of two racing requests one creates and the
// other finds the link.
func (s *CocreateStore) ToPresale(ctx context.Context, merchantID, draftID int64, prod *catalog.Product, ps *presale.Presale) error {
	if err := prod.Validate(); err != nil {
		return err
	}
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		// claim the draft first: a racing request waits on this row, then
		// finds the link set and stops
		res, err := tx.Exec(ctx, `UPDATE cocreate_drafts SET presale_id = NULL, status = 'closed', closed_at = COALESCE(closed_at, ?)
			WHERE merchant_id = ? AND id = ? AND presale_id IS NULL`, ms(tx.Now), merchantID, draftID)
		if n, err := rowsAffected(res, err); err != nil {
			return err
		} else if n == 0 {
			if err := ofMerchant(ctx, tx, "cocreate_drafts", merchantID, draftID); err != nil {
				return err
			}
			return cocreate.ErrPresale
		}
		prod.MerchantID = merchantID
		if err := insertProduct(ctx, tx, prod); err != nil {
			return err
		}
		ps.MerchantID, ps.SKUID = merchantID, prod.SKUs[0].ID
		if err := createPresaleTx(ctx, tx, ps); err != nil {
			return err
		}
		res, err = tx.Exec(ctx, `UPDATE cocreate_drafts SET presale_id = ? WHERE merchant_id = ? AND id = ? AND presale_id IS NULL`, ps.ID, merchantID, draftID)
		if n, err := rowsAffected(res, err); err != nil {
			return err
		} else if n == 0 {
			return cocreate.ErrPresale
		}
		return nil
	})
	if err != nil {
		prod.ID, ps.ID = 0, 0
	}
	return err
}
