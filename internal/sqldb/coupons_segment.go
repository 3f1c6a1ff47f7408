package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/order"
)

// KindCouponIssued is the inbox kind of a coupon issued to a segment.
const KindCouponIssued = "coupon.issued"

// IssueToSegment gives every customer of the segment one coupon, in one
// transaction: the request key is looked up first (a repeat returns the
// first issue, nothing new), the coupon's row is locked (not a live card,
// still valid), the segment's customers are listed, the remaining budget
// must cover all of them (coupons.ErrBudgetShort otherwise: nobody gets
// one), the claims are written with the issue's claim number, the guarded
// count moves (`issued + n <= units`), and each customer gets an inbox
// message. prog answers tier segments.
func (s *CouponStore) IssueToSegment(ctx context.Context, in *coupons.SegmentIssue, prog members.Program, title, body, bodyEN string) error {
	err := s.issueToSegment(ctx, in, prog, title, body, bodyEN)
	if errors.Is(err, apperr.ErrConflict) {
		// The same key committed by a concurrent request (PostgreSQL: the
		// unique request key): the second run finds it and answers it.
		err = s.issueToSegment(ctx, in, prog, title, body, bodyEN)
	}
	return err
}

func (s *CouponStore) issueToSegment(ctx context.Context, in *coupons.SegmentIssue, prog members.Program, title, body, bodyEN string) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		var prev coupons.SegmentIssue
		var seg string
		var at int64
		err := tx.QueryRow(ctx, `SELECT id, coupon_id, segment, issued, created_by, created_at FROM coupon_segment_issues WHERE merchant_id = ? AND request_key = ?`,
			in.MerchantID, in.Key).Scan(&prev.ID, &prev.CouponID, &seg, &prev.Issued, &prev.By, &at)
		if err == nil {
			if prev.CouponID != in.CouponID || seg != in.Segment.Marshal() {
				return order.ErrIdempotencyUsed
			}
			in.ID, in.Issued, in.By, in.CreatedAt, in.Repeated = prev.ID, prev.Issued, prev.By, fromMS(at), true
			return nil
		}
		if err != sql.ErrNoRows {
			return err
		}
		var status string
		var units, issued, until int64
		if err := tx.QueryRow(ctx, `SELECT status, units, issued, valid_until FROM coupons WHERE merchant_id = ? AND id = ?`+tx.db.forUpdate(),
			in.MerchantID, in.CouponID).Scan(&status, &units, &issued, &until); err != nil {
			return translate(err)
		}
		if status == string(coupons.Live) {
			return coupons.ErrCardLive
		}
		if ms(tx.Now) >= until {
			return coupons.ErrWindow.With("券已过期", "The coupon has expired.")
		}
		custs, err := segmentCustomersTx(ctx, tx, in.MerchantID, in.Segment, prog)
		if err != nil {
			return err
		}
		n := int64(len(custs))
		if issued+n > units {
			return coupons.ErrBudgetShort.With(fmt.Sprintf("剩余 %d 张，这个人群有 %d 位顾客", units-issued, n),
				fmt.Sprintf("%d coupons left for %d customers in the segment.", units-issued, n))
		}
		in.CreatedAt, in.Issued = tx.Now, n
		if in.ID, err = tx.InsertID(ctx, `INSERT INTO coupon_segment_issues (merchant_id, coupon_id, segment, request_key, issued, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			in.MerchantID, in.CouponID, in.Segment.Marshal(), in.Key, n, in.By, ms(tx.Now)); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		seq := coupons.SegmentSeq(in.ID)
		for _, c := range custs {
			if _, err := tx.Exec(ctx, `INSERT INTO coupon_claims (merchant_id, coupon_id, customer_id, seq, status, source, claimed_at) VALUES (?, ?, ?, ?, 'issued', 'segment', ?)`,
				in.MerchantID, in.CouponID, c, seq, ms(tx.Now)); err != nil {
				return err
			}
		}
		if k, err := rowsAffected(tx.Exec(ctx, `UPDATE coupons SET issued = issued + ? WHERE id = ? AND issued + ? <= units`, n, in.CouponID, n)); err != nil || k != 1 {
			if err != nil {
				return err
			}
			return coupons.ErrBudgetShort
		}
		_, err = tx.Exec(ctx, `INSERT INTO inbox (merchant_id, customer_id, kind, room_id, title, body, body_en, url, dedupe_key, created_at)
			SELECT ?, customer_id, ?, 0, ?, ?, ?, ?, ?, ? FROM coupon_claims WHERE coupon_id = ? AND seq = ?
			ON CONFLICT (customer_id, dedupe_key) DO NOTHING`,
			in.MerchantID, KindCouponIssued, title, body, bodyEN, "/me#coupons", fmt.Sprintf("coupon-issue:%d", in.ID), ms(tx.Now), in.CouponID, seq)
		return err
	})
}

// SegmentIssues lists a coupon's issues to segments, newest first.
func (s *CouponStore) SegmentIssues(ctx context.Context, merchantID, couponID int64) ([]coupons.SegmentIssue, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, coupon_id, segment, issued, created_by, created_at FROM coupon_segment_issues WHERE merchant_id = ? AND coupon_id = ? ORDER BY id DESC LIMIT 100`, merchantID, couponID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []coupons.SegmentIssue{}
	for rows.Next() {
		var it coupons.SegmentIssue
		var seg string
		var at int64
		if err := rows.Scan(&it.ID, &it.CouponID, &seg, &it.Issued, &it.By, &at); err != nil {
			return nil, err
		}
		if sg, err := members.UnmarshalSegment(seg); err == nil {
			it.Segment = *sg
		}
		it.MerchantID, it.CreatedAt = merchantID, fromMS(at)
		out = append(out, it)
	}
	return out, rows.Err()
}

// segmentCustomersTx lists the merchant's customers in a segment, the
// same rules as MemberStore.InSegment asks for one customer: members,
// tier ≥ n (prog.Rank), buyers of a category or at a store (paid and not
// fully refunded orders), members of a fan group.
func segmentCustomersTx(ctx context.Context, tx *Tx, merchantID int64, seg members.Segment, prog members.Program) ([]int64, error) {
	var q string
	args := []any{merchantID}
	switch seg.Kind {
	case members.SegMembers:
		q = `SELECT customer_id FROM memberships WHERE merchant_id = ?`
	case members.SegTier:
		rows, err := tx.Query(ctx, `SELECT `+membershipCols+` FROM memberships WHERE merchant_id = ? ORDER BY customer_id`, merchantID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			m, err := scanMembership(rows)
			if err != nil {
				return nil, err
			}
			if prog.Rank(m) >= seg.Tier {
				out = append(out, m.CustomerID)
			}
		}
		return out, rows.Err()
	case members.SegCategoryBuyer:
		q, args = `SELECT DISTINCT o.customer_id FROM orders o JOIN order_lines ol ON ol.order_id = o.id JOIN products p ON p.id = ol.product_id
			WHERE o.merchant_id = ? AND p.category = ? AND `+bought, append(args, seg.Category)
	case members.SegStoreCustomer:
		if err := storeOfMerchant(ctx, tx, merchantID, seg.StoreID); err != nil {
			return nil, err
		}
		q, args = `SELECT DISTINCT o.customer_id FROM orders o WHERE o.merchant_id = ? AND o.store_id = ? AND `+bought, append(args, seg.StoreID)
	case members.SegFanGroup:
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM fan_groups WHERE merchant_id = ? AND id = ?`, merchantID, seg.GroupID).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, members.ErrSegment.At("group_id")
		}
		q, args = `SELECT fm.customer_id FROM fan_members fm JOIN fan_groups g ON g.id = fm.group_id WHERE g.merchant_id = ? AND g.id = ?`, append(args, seg.GroupID)
	default:
		return nil, members.ErrSegment.At("kind")
	}
	return queryIDs(ctx, tx, q+` ORDER BY 1`, args...)
}
