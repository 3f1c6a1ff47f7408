package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/members"
)

// MemberStore keeps memberships, the merchant's programme, the points
// ledger, member prices and the segment each restricted room is for.
type MemberStore struct{ DB *DB }

var _ members.Store = (*MemberStore)(nil)

// Program returns the merchant's programme, or the default before one was saved.
func (s *MemberStore) Program(ctx context.Context, merchantID int64) (members.Program, error) {
	return programOf(ctx, s.DB, merchantID)
}

func programOf(ctx context.Context, q querier, merchantID int64) (members.Program, error) {
	var raw string
	var at int64
	err := q.QueryRow(ctx, `SELECT program, updated_at FROM member_programs WHERE merchant_id = ?`, merchantID).Scan(&raw, &at)
	if err == sql.ErrNoRows {
		p := members.DefaultProgram()
		p.MerchantID = merchantID
		return p, nil
	}
	if err != nil {
		return members.Program{}, err
	}
	var p members.Program
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return members.Program{}, fmt.Errorf("member program of merchant %d: %w", merchantID, err)
	}
	p.MerchantID, p.UpdatedAt = merchantID, fromMS(at)
	return p, nil
}

// SaveProgram stores a validated programme.
func (s *MemberStore) SaveProgram(ctx context.Context, p members.Program) error {
	b, err := json.Marshal(members.Program{Basis: p.Basis, Tiers: p.Tiers, PointsPerYuan: p.PointsPerYuan, Exchange: p.Exchange})
	if err != nil {
		return err
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO member_programs (merchant_id, program, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (merchant_id) DO UPDATE SET program = excluded.program, updated_at = excluded.updated_at`, p.MerchantID, string(b), ms(tx.Now))
		return err
	})
}

const membershipCols = `merchant_id, customer_id, number, points, earned_total, spend_fen, source, joined_at`

func scanMembership(row interface{ Scan(...any) error }) (*members.Membership, error) {
	var m members.Membership
	var joined int64
	if err := row.Scan(&m.MerchantID, &m.CustomerID, &m.Number, &m.Points, &m.EarnedTotal, &m.SpendFen, &m.Source, &joined); err != nil {
		return nil, err
	}
	m.JoinedAt = fromMS(joined)
	return &m, nil
}

func membershipTx(ctx context.Context, q querier, merchantID, customerID int64, lock string) (*members.Membership, error) {
	m, err := scanMembership(q.QueryRow(ctx, `SELECT `+membershipCols+` FROM memberships WHERE merchant_id = ? AND customer_id = ?`+lock, merchantID, customerID))
	if err == sql.ErrNoRows {
		return nil, members.ErrNotMember
	}
	return m, err
}

// errJoinRaced rolls a join back when the customer joined meanwhile.
var errJoinRaced = errors.New("members: joined concurrently")

// Join makes the customer a member with the merchant's next number (from
// member_numbers, whose row serializes concurrent joins). A second join, or
// a racing one, returns the existing card.
func (s *MemberStore) Join(ctx context.Context, merchantID, customerID int64, source string) (*members.Membership, bool, error) {
	for attempt := 1; ; attempt++ {
		var out *members.Membership
		joined := false
		err := s.DB.WriteTx(ctx, func(tx *Tx) error {
			if m, err := membershipTx(ctx, tx, merchantID, customerID, ""); err == nil {
				out = m
				return nil
			} else if err != members.ErrNotMember {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM customers WHERE merchant_id = ? AND id = ?`, merchantID, customerID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return apperr.ErrNotFound
			}
			var seq int64
			if err := tx.QueryRow(ctx, `INSERT INTO member_numbers (merchant_id, last) VALUES (?, 1)
				ON CONFLICT (merchant_id) DO UPDATE SET last = member_numbers.last + 1 RETURNING last`, merchantID).Scan(&seq); err != nil {
				return err
			}
			res, err := tx.Exec(ctx, `INSERT INTO memberships (merchant_id, customer_id, seq, number, source, joined_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				merchantID, customerID, seq, members.NumberOf(seq), source, ms(tx.Now))
			if added, err := rowsAffected(res, err); err != nil {
				return err
			} else if added == 0 {
				return errJoinRaced // the customer joined meanwhile: roll the number back
			}
			joined = true
			out, err = membershipTx(ctx, tx, merchantID, customerID, "")
			return err
		})
		if errors.Is(err, errJoinRaced) && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		return out, joined, nil
	}
}

// Membership returns the customer's card at the merchant.
func (s *MemberStore) Membership(ctx context.Context, merchantID, customerID int64) (*members.Membership, error) {
	return membershipTx(ctx, s.DB, merchantID, customerID, "")
}

// MembershipByNumber finds a card by its printed number.
func (s *MemberStore) MembershipByNumber(ctx context.Context, merchantID int64, number string) (*members.Membership, error) {
	m, err := scanMembership(s.DB.QueryRow(ctx, `SELECT `+membershipCols+` FROM memberships WHERE merchant_id = ? AND number = ?`, merchantID, number))
	if err == sql.ErrNoRows {
		return nil, members.ErrNotMember
	}
	return m, err
}

// Members lists the newest members first.
func (s *MemberStore) Members(ctx context.Context, merchantID int64, limit int) ([]members.Membership, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+membershipCols+` FROM memberships WHERE merchant_id = ? ORDER BY seq DESC LIMIT ?`, merchantID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []members.Membership{}
	for rows.Next() {
		m, err := scanMembership(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// Ledger lists a member's points entries, newest first.
func (s *MemberStore) Ledger(ctx context.Context, merchantID, customerID int64, limit int) ([]members.Entry, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, kind, delta, balance, order_id, note, at FROM member_ledger WHERE merchant_id = ? AND customer_id = ? ORDER BY id DESC LIMIT ?`, merchantID, customerID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []members.Entry{}
	for rows.Next() {
		var e members.Entry
		var kind string
		var order sql.NullInt64
		var at int64
		if err := rows.Scan(&e.ID, &kind, &e.Delta, &e.Balance, &order, &e.Note, &at); err != nil {
			return nil, err
		}
		e.Kind, e.OrderID, e.At = members.EntryKind(kind), order.Int64, fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// entryTx appends a ledger entry and moves the balance by delta; the
// unique key makes it once (false: it was written before).
func entryTx(ctx context.Context, tx *Tx, m *members.Membership, kind members.EntryKind, delta, earnedDelta, spendDelta, orderID int64, key, note string) (bool, error) {
	res, err := tx.Exec(ctx, `INSERT INTO member_ledger (merchant_id, customer_id, kind, delta, balance, order_id, entry_key, note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		m.MerchantID, m.CustomerID, string(kind), delta, m.Points+delta, nullID(orderID), key, note, ms(tx.Now))
	if added, err := rowsAffected(res, err); err != nil || added == 0 {
		return false, err
	}
	res, err = tx.Exec(ctx, `UPDATE memberships SET points = points + ?, earned_total = earned_total + ?, spend_fen = spend_fen + ? WHERE merchant_id = ? AND customer_id = ? AND points + ? >= 0`,
		delta, earnedDelta, spendDelta, m.MerchantID, m.CustomerID, delta)
	if n, err := rowsAffected(res, err); err != nil {
		return false, err
	} else if n != 1 {
		return false, members.ErrPoints
	}
	m.Points += delta
	m.EarnedTotal += earnedDelta
	m.SpendFen += spendDelta
	return true, nil
}

// SettleOrder brings an order's points in line with the order in one
// transaction, with the member's row locked (PostgreSQL; SQLite has one
// writer): earn once when paid by a member who had joined by then; on
// refunds take back ReversalTarget of the earned points, as far as the
// balance goes (never below zero: what was spent already stays spent).
// It is long because it is one transaction over one member's row:
// earning and reversing read and write the same balance.
func (s *MemberStore) SettleOrder(ctx context.Context, merchantID, orderID int64) (*members.Settlement, error) {
	out := &members.Settlement{OrderID: orderID}
	// Every paid or refunded order comes here (the payment callback's
	// path), and most buyers are no members: a read says so without a
	// write transaction (it was one more turn of the single writer per
	// callback). A customer who joins after this read joined after the
	// payment, which earns nothing; a join racing it on PostgreSQL is caught
	// by the leader's UnsettledOrders.
	var member int64
	err := s.DB.QueryRow(ctx, `SELECT COALESCE(m.customer_id, 0) FROM orders o
		LEFT JOIN memberships m ON m.merchant_id = o.merchant_id AND m.customer_id = o.customer_id
		WHERE o.merchant_id = ? AND o.id = ?`, merchantID, orderID).Scan(&member)
	if err == nil && member == 0 {
		return out, nil
	}
	err = s.DB.WriteTx(ctx, func(tx *Tx) error {
		*out = members.Settlement{OrderID: orderID}
		var customerID, total, refunded int64
		var paidAt sql.NullInt64
		err := tx.QueryRow(ctx, `SELECT customer_id, total_fen, refunded_fen, paid_at FROM orders WHERE merchant_id = ? AND id = ?`, merchantID, orderID).Scan(&customerID, &total, &refunded, &paidAt)
		if err == sql.ErrNoRows {
			return apperr.ErrNotFound
		}
		if err != nil {
			return err
		}
		if !paidAt.Valid {
			return nil // nothing paid, nothing earned
		}
		m, err := membershipTx(ctx, tx, merchantID, customerID, s.DB.forUpdate())
		if err == members.ErrNotMember {
			return nil
		}
		if err != nil {
			return err
		}
		if paidAt.Int64 < ms(m.JoinedAt) {
			return nil // paid before joining: the programme starts at joining
		}
		var earned, reversed, seenRefund int64
		err = tx.QueryRow(ctx, `SELECT earned, reversed, refunded_fen FROM member_points_orders WHERE order_id = ?`, orderID).Scan(&earned, &reversed, &seenRefund)
		if err == sql.ErrNoRows {
			prog, err := programOf(ctx, tx, merchantID)
			if err != nil {
				return err
			}
			earned = prog.PointsFor(total)
			if _, err := tx.Exec(ctx, `INSERT INTO member_points_orders (order_id, merchant_id, customer_id, paid_fen, earned) VALUES (?, ?, ?, ?, ?)`, orderID, merchantID, customerID, total, earned); err != nil {
				return err
			}
			if _, err := entryTx(ctx, tx, m, members.Earn, earned, earned, total, orderID, fmt.Sprintf("order:%d:earn", orderID), ""); err != nil {
				return err
			}
			out.Changed = true
		} else if err != nil {
			return err
		}
		out.Earned, out.Reversed = earned, reversed
		if refunded == seenRefund {
			return nil
		}
		target := members.ReversalTarget(earned, total, refunded)
		take := min(target-reversed, m.Points)
		if target > reversed {
			if _, err := entryTx(ctx, tx, m, members.Reverse, -take, -(target - reversed), -(refunded - seenRefund), orderID,
				fmt.Sprintf("order:%d:reverse:%d", orderID, refunded), fmt.Sprintf("refund %d fen: %d points back, %d taken", refunded-seenRefund, target-reversed, take)); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, `UPDATE memberships SET spend_fen = spend_fen - ? WHERE merchant_id = ? AND customer_id = ?`, refunded-seenRefund, merchantID, customerID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE member_points_orders SET reversed = ?, refunded_fen = ? WHERE order_id = ?`, max(target, reversed), refunded, orderID); err != nil {
			return err
		}
		out.Reversed, out.Changed = max(target, reversed), true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UnsettledOrders lists members' orders paid since `since` (after the
// customer joined) without a points row, or with refunds the row has not
// seen; the leader settles them, so a crash between a payment and its
// points only delays them.
func (s *MemberStore) UnsettledOrders(ctx context.Context, since time.Time, limit int) ([]members.OrderRef, error) {
	rows, err := s.DB.Query(ctx, `SELECT o.merchant_id, o.id FROM orders o
		JOIN memberships m ON m.merchant_id = o.merchant_id AND m.customer_id = o.customer_id
		LEFT JOIN member_points_orders po ON po.order_id = o.id
		WHERE o.paid_at IS NOT NULL AND o.paid_at >= ? AND o.paid_at >= m.joined_at
		  AND (po.order_id IS NULL OR po.refunded_fen <> o.refunded_fen)
		ORDER BY o.id LIMIT ?`, ms(since), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []members.OrderRef
	for rows.Next() {
		var r members.OrderRef
		if err := rows.Scan(&r.MerchantID, &r.OrderID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SpendPoints takes points off the balance once per key.
func (s *MemberStore) SpendPoints(ctx context.Context, merchantID, customerID, points int64, key, note string) (*members.Entry, error) {
	if points <= 0 {
		return nil, members.ErrPointsAmount
	}
	if key == "" || len(key) > 100 {
		return nil, members.ErrPointsAmount.At("key")
	}
	var out members.Entry
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		m, err := membershipTx(ctx, tx, merchantID, customerID, s.DB.forUpdate())
		if err != nil {
			return err
		}
		if m.Points < points {
			// A retry of a spend that went through is not "too few points".
			if done, err := s.entryByKey(ctx, tx, merchantID, "spend:"+key, &out); err != nil || done {
				return err
			}
			return members.ErrPoints
		}
		if _, err := entryTx(ctx, tx, m, members.Spend, -points, 0, 0, 0, "spend:"+key, note); err != nil {
			return err
		}
		_, err = s.entryByKey(ctx, tx, merchantID, "spend:"+key, &out) // this spend, or the same key's earlier one
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ExchangePoints takes the offer's points and issues one coupon in one
// transaction: the member's row locked, the balance checked, the ledger
// entry (key exchange:<key>, unique) and the coupon claim (the coupon's
// guarded budget) written together, so points are never taken without a
// coupon nor a coupon given without its points. A repeated key returns
// the first exchange.
func (s *MemberStore) ExchangePoints(ctx context.Context, merchantID, customerID int64, offer members.Offer, key string) (*members.Entry, int64, error) {
	if key == "" || len(key) > 100 {
		return nil, 0, members.ErrPointsAmount.At("key")
	}
	var out members.Entry
	var claim int64
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		m, err := membershipTx(ctx, tx, merchantID, customerID, s.DB.forUpdate())
		if err != nil {
			return err
		}
		ekey := "exchange:" + key
		if done, err := s.entryByKey(ctx, tx, merchantID, ekey, &out); err != nil || done {
			if done {
				err = tx.QueryRow(ctx, `SELECT id FROM coupon_claims WHERE merchant_id = ? AND customer_id = ? AND seq = ?`, merchantID, customerID, -(int64(1)<<40)-out.ID).Scan(&claim)
			}
			return err
		}
		if m.Points < offer.Points {
			return members.ErrPoints
		}
		if _, err := entryTx(ctx, tx, m, members.Spend, -offer.Points, 0, 0, 0, ekey, fmt.Sprintf("coupon:%d", offer.CouponID)); err != nil {
			return err
		}
		if _, err := s.entryByKey(ctx, tx, merchantID, ekey, &out); err != nil {
			return err
		}
		// The claim's seq is derived from the ledger entry: unique per
		// exchange, and never one a grab (1…n) or a draw (-draw id) uses.
		claim, err = issueClaimTx(ctx, tx, merchantID, offer.CouponID, customerID, -(int64(1)<<40)-out.ID, "points")
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return &out, claim, nil
}

func (s *MemberStore) entryByKey(ctx context.Context, tx *Tx, merchantID int64, key string, e *members.Entry) (bool, error) {
	var kind string
	var order sql.NullInt64
	var at int64
	err := tx.QueryRow(ctx, `SELECT id, kind, delta, balance, order_id, note, at FROM member_ledger WHERE merchant_id = ? AND entry_key = ?`, merchantID, key).
		Scan(&e.ID, &kind, &e.Delta, &e.Balance, &order, &e.Note, &at)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	e.Kind, e.OrderID, e.At = members.EntryKind(kind), order.Int64, fromMS(at)
	return true, nil
}

// SetMemberPrice sets (priceFen > 0) or clears (0) a SKU's member price;
// it must not be above the SKU's regular price.
func (s *MemberStore) SetMemberPrice(ctx context.Context, merchantID, skuID, priceFen int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		var regular int64
		err := tx.QueryRow(ctx, `SELECT price_fen FROM skus WHERE merchant_id = ? AND id = ?`, merchantID, skuID).Scan(&regular)
		if err == sql.ErrNoRows {
			return catalog.ErrUnknownSKU
		}
		if err != nil {
			return err
		}
		if priceFen == 0 {
			_, err := tx.Exec(ctx, `DELETE FROM member_prices WHERE merchant_id = ? AND sku_id = ?`, merchantID, skuID)
			return err
		}
		if priceFen < 0 || priceFen > regular {
			return members.ErrMemberPrice
		}
		_, err = tx.Exec(ctx, `INSERT INTO member_prices (sku_id, merchant_id, price_fen, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (sku_id) DO UPDATE SET price_fen = excluded.price_fen, updated_at = excluded.updated_at`, skuID, merchantID, priceFen, ms(tx.Now))
		return err
	})
}

// MemberPrices maps the merchant's SKUs to their member prices.
func (s *MemberStore) MemberPrices(ctx context.Context, merchantID int64) (map[int64]int64, error) {
	return memberPrices(ctx, s.DB, `SELECT sku_id, price_fen FROM member_prices WHERE merchant_id = ?`, merchantID)
}

// memberPricesTx is what a member pays per SKU, read inside the order's
// transaction: empty unless the customer is a member at that moment.
func memberPricesTx(ctx context.Context, tx *Tx, merchantID, customerID int64) (map[int64]int64, error) {
	return memberPrices(ctx, tx, `SELECT mp.sku_id, mp.price_fen FROM member_prices mp JOIN memberships m ON m.merchant_id = mp.merchant_id
		WHERE mp.merchant_id = ? AND m.customer_id = ?`, merchantID, customerID)
}

func memberPrices(ctx context.Context, q querier, query string, args ...any) (map[int64]int64, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var sku, price int64
		if err := rows.Scan(&sku, &price); err != nil {
			return nil, err
		}
		out[sku] = price
	}
	return out, rows.Err()
}

// boughtStatuses are orders that count as a purchase (paid, not cancelled).
const bought = `o.paid_at IS NOT NULL AND o.status IN ('paid', 'ready', 'shipped', 'completed') AND o.refunded_fen < o.total_fen`

// InSegment answers the database-backed segment rules for one customer.
func (s *MemberStore) InSegment(ctx context.Context, merchantID, customerID int64, seg members.Segment, prog members.Program) (bool, error) {
	if customerID <= 0 {
		return false, nil
	}
	var n int
	var err error
	switch seg.Kind {
	case members.SegMembers:
		err = s.DB.QueryRow(ctx, `SELECT count(*) FROM memberships WHERE merchant_id = ? AND customer_id = ?`, merchantID, customerID).Scan(&n)
	case members.SegTier:
		m, err := s.Membership(ctx, merchantID, customerID)
		if err == members.ErrNotMember {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return prog.Rank(m) >= seg.Tier, nil
	case members.SegCategoryBuyer:
		err = s.DB.QueryRow(ctx, `SELECT count(*) FROM orders o JOIN order_lines ol ON ol.order_id = o.id JOIN products p ON p.id = ol.product_id
			WHERE o.merchant_id = ? AND o.customer_id = ? AND p.category = ? AND `+bought, merchantID, customerID, seg.Category).Scan(&n)
	case members.SegStoreCustomer:
		err = s.DB.QueryRow(ctx, `SELECT count(*) FROM orders o WHERE o.merchant_id = ? AND o.customer_id = ? AND o.store_id = ? AND `+bought, merchantID, customerID, seg.StoreID).Scan(&n)
	default:
		return false, nil // fan groups are answered outside the database adapter
	}
	return n > 0, err
}

// SetAudience restricts a room of the merchant to a segment, or opens it (nil).
func (s *MemberStore) SetAudience(ctx context.Context, merchantID, roomID int64, seg *members.Segment) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		return setAudienceTx(ctx, tx, merchantID, roomID, seg)
	})
}

// setAudienceTx restricts (or opens, seg nil) a room of the merchant inside tx.
func setAudienceTx(ctx context.Context, tx *Tx, merchantID, roomID int64, seg *members.Segment) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM rooms WHERE merchant_id = ? AND id = ?`, merchantID, roomID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return apperr.ErrNotFound
	}
	if seg == nil {
		_, err := tx.Exec(ctx, `DELETE FROM room_audiences WHERE room_id = ?`, roomID)
		return err
	}
	if seg.Kind == members.SegStoreCustomer {
		if err := storeOfMerchant(ctx, tx, merchantID, seg.StoreID); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO room_audiences (room_id, merchant_id, segment, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (room_id) DO UPDATE SET segment = excluded.segment, updated_at = excluded.updated_at`, roomID, merchantID, seg.Marshal(), ms(tx.Now))
	return err
}

// Audience is the segment a room is restricted to, nil when it is open.
func (s *MemberStore) Audience(ctx context.Context, roomID int64) (*members.Segment, error) {
	var raw string
	err := s.DB.QueryRow(ctx, `SELECT segment FROM room_audiences WHERE room_id = ?`, roomID).Scan(&raw)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return members.UnmarshalSegment(raw)
}
