package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/order"
)

// CouponStore implements coupons.Store. Claims are written in batches
// (IssueBatch) behind the app's in-memory allocator; the budget is checked
// again in each batch's transaction.
type CouponStore struct {
	DB *DB
	// Fence, when set, is this node's lease holder id: a batch commits only
	// while the node holds the leader lease (as FlashStore.Fence).
	Fence string
}

var _ coupons.Store = (*CouponStore)(nil)

const couponCols = `id, merchant_id, COALESCE(room_id, 0), kind, title, amount_fen, min_spend_fen, percent_off, max_off_fen, budget_count, budget_fen, units,
	per_user_limit, valid_from, valid_until, scope, status, issued, created_at, pushed_at`

func scanCoupon(row interface{ Scan(...any) error }) (*coupons.Coupon, error) {
	var c coupons.Coupon
	var kind, status, scope string
	var units, from, until, created int64
	var pushed sql.NullInt64
	if err := row.Scan(&c.ID, &c.MerchantID, &c.RoomID, &kind, &c.Title, &c.AmountFen, &c.MinSpendFen, &c.PercentOff, &c.MaxOffFen, &c.BudgetCount, &c.BudgetFen, &units,
		&c.PerUserLimit, &from, &until, &scope, &status, &c.Issued, &created, &pushed); err != nil {
		return nil, translate(err)
	}
	c.Kind, c.Status = coupons.Kind(kind), coupons.Status(status)
	c.KindLabel = c.Kind.Label()
	c.ValidFrom, c.ValidUntil, c.CreatedAt, c.PushedAt = fromMS(from), fromMS(until), fromMS(created), nullMS(pushed)
	c.Remaining = units - c.Issued
	json.Unmarshal([]byte(scope), &c.Scope)
	return &c, nil
}

// Create implements coupons.Store.
func (s *CouponStore) Create(ctx context.Context, c *coupons.Coupon) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if c.RoomID != 0 {
			if err := absentAs(ofMerchant(ctx, tx, "rooms", c.MerchantID, c.RoomID), coupons.ErrUnknownRoom); err != nil {
				return err
			}
		}
		for _, id := range c.Scope.StoreIDs {
			if err := storeOfMerchant(ctx, tx, c.MerchantID, id); err != nil {
				return err
			}
		}
		scope, _ := json.Marshal(c.Scope)
		c.Status, c.CreatedAt, c.Remaining = coupons.Draft, tx.Now, c.Units()
		id, err := tx.InsertID(ctx, `INSERT INTO coupons (merchant_id, room_id, kind, title, amount_fen, min_spend_fen, percent_off, max_off_fen, budget_count, budget_fen, units,
			per_user_limit, valid_from, valid_until, scope, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?)`,
			c.MerchantID, nullID(c.RoomID), string(c.Kind), c.Title, c.AmountFen, c.MinSpendFen, c.PercentOff, c.MaxOffFen, c.BudgetCount, c.BudgetFen, c.Units(),
			c.PerUserLimit, ms(c.ValidFrom), ms(c.ValidUntil), string(scope), ms(tx.Now))
		c.ID = id
		return err
	})
}

// Get implements coupons.Store.
func (s *CouponStore) Get(ctx context.Context, merchantID, id int64) (*coupons.Coupon, error) {
	return scanCoupon(s.DB.QueryRow(ctx, `SELECT `+couponCols+` FROM coupons WHERE merchant_id = ? AND id = ?`, merchantID, id))
}

// List implements coupons.Store, newest first.
func (s *CouponStore) List(ctx context.Context, merchantID int64, f coupons.ListFilter) ([]coupons.Coupon, error) {
	q, args := `SELECT `+couponCols+` FROM coupons WHERE merchant_id = ?`, []any{merchantID}
	if f.RoomID != 0 {
		q, args = q+` AND room_id = ?`, append(args, f.RoomID)
	}
	if f.StoreID != 0 {
		// The store's rooms' coupons, and whole-shop coupons whose scope
		// names no store or this one (scope is JSON text; store_ids is
		// absent, null, [] or a list of ids).
		shop := `(json_array_length(scope, '$.store_ids') IS NULL OR json_array_length(scope, '$.store_ids') = 0
			OR EXISTS (SELECT 1 FROM json_each(scope, '$.store_ids') WHERE value = ?))`
		if s.DB.Dialect == Postgres {
			shop = `(COALESCE(scope::jsonb -> 'store_ids', 'null'::jsonb) IN ('null'::jsonb, '[]'::jsonb)
				OR scope::jsonb -> 'store_ids' @> to_jsonb(?::bigint))`
		}
		q = q + ` AND (room_id IN (SELECT id FROM rooms WHERE merchant_id = ? AND store_id = ?) OR (room_id IS NULL AND ` + shop + `))`
		args = append(args, merchantID, f.StoreID, f.StoreID)
	}
	if !f.LiveAt.IsZero() {
		q, args = q+` AND status = ? AND valid_until > ?`, append(args, string(coupons.Live), ms(f.LiveAt))
	}
	return s.list(ctx, s.DB, q+` ORDER BY id DESC LIMIT `+strconv.Itoa(coupons.ListMax), args...)
}

func (s *CouponStore) list(ctx context.Context, db querier, q string, args ...any) ([]coupons.Coupon, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []coupons.Coupon{}
	for rows.Next() {
		c, err := scanCoupon(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// SetStatus implements coupons.Store.
func (s *CouponStore) SetStatus(ctx context.Context, merchantID, id int64, from, to coupons.Status) (bool, error) {
	var ok bool
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		set := `status = ?`
		args := []any{string(to)}
		if to == coupons.Live {
			set, args = set+`, pushed_at = ?`, append(args, ms(tx.Now))
		}
		n, err := rowsAffected(tx.Exec(ctx, `UPDATE coupons SET `+set+` WHERE merchant_id = ? AND id = ? AND status = ?`, append(args, merchantID, id, string(from))...))
		ok = n == 1
		return err
	})
	return ok, err
}

// Live implements coupons.Store.
func (s *CouponStore) Live(ctx context.Context) ([]coupons.Coupon, map[int64]map[int64]int64, error) {
	list, err := s.list(ctx, s.DB, `SELECT `+couponCols+` FROM coupons WHERE status = 'live'`)
	if err != nil {
		return nil, nil, err
	}
	held := map[int64]map[int64]int64{}
	for _, c := range list {
		rows, err := s.DB.Query(ctx, `SELECT customer_id, COUNT(*) FROM coupon_claims WHERE coupon_id = ? AND source = 'grab' GROUP BY customer_id`, c.ID)
		if err != nil {
			return nil, nil, err
		}
		m := map[int64]int64{}
		for rows.Next() {
			var cust, n int64
			if err := rows.Scan(&cust, &n); err != nil {
				rows.Close()
				return nil, nil, err
			}
			m[cust] = n
		}
		rows.Close()
		held[c.ID] = m
	}
	return list, held, nil
}

// IssueBatch implements coupons.Store: the claims of one batch in one
// transaction. Per coupon, the claims are inserted (a seq a customer
// already holds fails that claim alone), then one guarded UPDATE adds the
// number inserted to issued — `issued + n <= units` — or the whole batch
// rolls back: the database never holds more claims than the budget.
func (s *CouponStore) IssueBatch(ctx context.Context, batch []*coupons.Grab) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if s.Fence != "" {
			ok, err := holdsLease(ctx, tx, LeaderLease, s.Fence)
			if err != nil {
				return err
			}
			if !ok {
				return ErrLostLease
			}
		}
		live := map[int64]bool{}
		limit := map[int64]int64{}
		added := map[int64]int64{}
		var ok []*coupons.Grab
		for _, g := range batch {
			if _, seen := live[g.CouponID]; !seen {
				var status string
				var lim int64
				if err := tx.QueryRow(ctx, `SELECT status, per_user_limit FROM coupons WHERE merchant_id = ? AND id = ?`+tx.db.forUpdate(), g.MerchantID, g.CouponID).Scan(&status, &lim); err != nil {
					return err
				}
				live[g.CouponID], limit[g.CouponID] = status == string(coupons.Live), lim
			}
			if !live[g.CouponID] {
				g.Err = coupons.ErrNotLive
				continue
			}
			// The person's n-th claim: n within the limit, and unique.
			if g.Seq < 1 || g.Seq > limit[g.CouponID] {
				g.Err = coupons.ErrClaimLimit
				continue
			}
			ok = append(ok, g)
		}
		ids, err := insertClaims(ctx, tx, ok)
		if err != nil {
			return err
		}
		for _, g := range ok {
			k := claimKey{g.CouponID, g.CustomerID, g.Seq}
			id, found := ids[k]
			if !found { // that claim number exists already (or twice in this batch)
				g.Err = coupons.ErrClaimLimit
				continue
			}
			delete(ids, k)
			g.Claim = &coupons.Claim{ID: id, CouponID: g.CouponID, CustomerID: g.CustomerID, Status: coupons.ClaimIssued, ClaimedAt: tx.Now}
			added[g.CouponID]++
		}
		for id, n := range added {
			res, err := tx.Exec(ctx, `UPDATE coupons SET issued = issued + ? WHERE id = ? AND issued + ? <= units`, n, id, n)
			if k, _ := rowsAffected(res, err); k != 1 {
				if err != nil {
					return err
				}
				return coupons.ErrGone // more than the budget: nothing of this batch is written
			}
		}
		return nil
	})
}

type claimKey struct{ coupon, customer, seq int64 }

// claimChunks are the row counts of one multi-row claim INSERT: a batch is
// cut into chunks of these sizes, largest first, so a few prepared
// statements serve every batch size.
var claimChunks = []int{64, 16, 4, 1}

// insertClaims writes grabs' claims, many rows per statement, and returns
// the id of each claim written; a claim number that already exists (the
// UNIQUE (coupon_id, customer_id, seq)) is skipped and absent.
func insertClaims(ctx context.Context, tx *Tx, gs []*coupons.Grab) (map[claimKey]int64, error) {
	ids := make(map[claimKey]int64, len(gs))
	for len(gs) > 0 {
		n := 1
		for _, c := range claimChunks {
			if c <= len(gs) {
				n = c
				break
			}
		}
		args := make([]any, 0, 5*n)
		for _, g := range gs[:n] {
			args = append(args, g.MerchantID, g.CouponID, g.CustomerID, g.Seq, ms(tx.Now))
		}
		rows, err := tx.Query(ctx, `INSERT INTO coupon_claims (merchant_id, coupon_id, customer_id, seq, status, claimed_at) VALUES `+
			strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, 'issued', ?), `, n), ", ")+` ON CONFLICT DO NOTHING RETURNING id, coupon_id, customer_id, seq`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var k claimKey
			if err := rows.Scan(&id, &k.coupon, &k.customer, &k.seq); err != nil {
				rows.Close()
				return nil, err
			}
			ids[k] = id
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
		gs = gs[n:]
	}
	return ids, nil
}

// IssueNaive implements coupons.Store: the benchmark's baseline, one
// transaction per grab that counts the customer's claims and bumps the
// coupon's single row (`UPDATE … WHERE issued < units`).
func (s *CouponStore) IssueNaive(ctx context.Context, g *coupons.Grab) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		var limit, held int64
		var status string
		if err := tx.QueryRow(ctx, `SELECT per_user_limit, status FROM coupons WHERE id = ?`+tx.db.forUpdate(), g.CouponID).Scan(&limit, &status); err != nil {
			return translate(err)
		}
		if status != string(coupons.Live) {
			return coupons.ErrNotLive
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM coupon_claims WHERE coupon_id = ? AND customer_id = ?`, g.CouponID, g.CustomerID).Scan(&held); err != nil {
			return err
		}
		if held >= limit {
			return coupons.ErrClaimLimit
		}
		n, err := rowsAffected(tx.Exec(ctx, `UPDATE coupons SET issued = issued + 1 WHERE id = ? AND issued < units`, g.CouponID))
		if err != nil {
			return err
		}
		if n != 1 {
			return coupons.ErrGone
		}
		id, err := tx.InsertID(ctx, `INSERT INTO coupon_claims (merchant_id, coupon_id, customer_id, seq, status, claimed_at) VALUES (?, ?, ?, ?, 'issued', ?)`,
			g.MerchantID, g.CouponID, g.CustomerID, held+1, ms(tx.Now))
		if err != nil {
			return err
		}
		g.Claim = &coupons.Claim{ID: id, CouponID: g.CouponID, CustomerID: g.CustomerID, Status: coupons.ClaimIssued, ClaimedAt: tx.Now}
		return nil
	})
}

// IssuePrize gives a customer one claim of a coupon as a draw prize, at
// most once per (coupon, customer, seq): a repeat returns the claim that
// exists. It takes from the coupon's budget like a grab, guarded the same
// way, without an allocator (prizes are few and written by the leader).
func (s *CouponStore) IssuePrize(ctx context.Context, merchantID, couponID, customerID, seq int64) (int64, error) {
	var id int64
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		err := tx.QueryRow(ctx, `SELECT id FROM coupon_claims WHERE coupon_id = ? AND customer_id = ? AND seq = ?`, couponID, customerID, seq).Scan(&id)
		if err == nil || err != sql.ErrNoRows {
			return err
		}
		id, err = issueClaimTx(ctx, tx, merchantID, couponID, customerID, seq, "draw")
		return err
	})
	return id, err
}

// issueClaimTx gives a customer one coupon of the coupon's budget inside the
// caller's transaction (a draw's prize, points exchanged): the guarded
// count never issues past the budget (coupons.ErrGone).
func issueClaimTx(ctx context.Context, tx *Tx, merchantID, couponID, customerID, seq int64, source string) (int64, error) {
	n, err := rowsAffected(tx.Exec(ctx, `UPDATE coupons SET issued = issued + 1 WHERE merchant_id = ? AND id = ? AND issued < units`, merchantID, couponID))
	if err != nil {
		return 0, err
	}
	if n != 1 {
		return 0, coupons.ErrGone
	}
	return tx.InsertID(ctx, `INSERT INTO coupon_claims (merchant_id, coupon_id, customer_id, seq, status, source, claimed_at) VALUES (?, ?, ?, ?, 'issued', ?, ?)`,
		merchantID, couponID, customerID, seq, source, ms(tx.Now))
}

const claimCols = `cl.id, cl.coupon_id, cl.customer_id, cl.status, COALESCE(cl.order_id, 0), cl.saved_fen, cl.claimed_at`

func claimsOf(ctx context.Context, db querier, merchantID, customerID int64, where string) ([]coupons.Claim, error) {
	rows, err := db.Query(ctx, `SELECT `+claimCols+`, `+couponColsAs("c")+` FROM coupon_claims cl JOIN coupons c ON c.id = cl.coupon_id
		WHERE cl.merchant_id = ? AND cl.customer_id = ?`+where+` ORDER BY cl.id DESC LIMIT 200`, merchantID, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []coupons.Claim{}
	for rows.Next() {
		var cl coupons.Claim
		var status string
		var at int64
		var c coupons.Coupon
		var kind, cstatus, scope string
		var units, from, until, created int64
		var pushed sql.NullInt64
		if err := rows.Scan(&cl.ID, &cl.CouponID, &cl.CustomerID, &status, &cl.OrderID, &cl.SavedFen, &at,
			&c.ID, &c.MerchantID, &c.RoomID, &kind, &c.Title, &c.AmountFen, &c.MinSpendFen, &c.PercentOff, &c.MaxOffFen, &c.BudgetCount, &c.BudgetFen, &units,
			&c.PerUserLimit, &from, &until, &scope, &cstatus, &c.Issued, &created, &pushed); err != nil {
			return nil, err
		}
		cl.Status, cl.ClaimedAt = coupons.ClaimStatus(status), fromMS(at)
		c.Kind, c.Status, c.KindLabel = coupons.Kind(kind), coupons.Status(cstatus), coupons.Kind(kind).Label()
		c.ValidFrom, c.ValidUntil, c.CreatedAt, c.PushedAt = fromMS(from), fromMS(until), fromMS(created), nullMS(pushed)
		c.Remaining = units - c.Issued
		json.Unmarshal([]byte(scope), &c.Scope)
		cl.Coupon = &c
		out = append(out, cl)
	}
	return out, rows.Err()
}

func couponColsAs(alias string) string {
	return strings.NewReplacer("COALESCE(room_id", "COALESCE("+alias+".room_id").Replace(
		strings.Join(func() []string {
			parts := strings.Split(couponCols, ",")
			for i, p := range parts {
				p = strings.TrimSpace(p)
				if !strings.HasPrefix(p, "COALESCE(") && p != "0)" {
					p = alias + "." + p
				}
				parts[i] = p
			}
			return parts
		}(), ", "))
}

// Wallet implements coupons.Store.
func (s *CouponStore) Wallet(ctx context.Context, merchantID, customerID int64) ([]coupons.Claim, error) {
	return claimsOf(ctx, s.DB, merchantID, customerID, "")
}

// Report implements coupons.Store.
func (s *CouponStore) Report(ctx context.Context, merchantID, roomID int64) ([]coupons.ReportRow, error) {
	q := `SELECT c.id, COALESCE(c.room_id, 0), COALESCE(r.slug, ''), COALESCE(r.title, ''), c.title, c.kind, c.units, c.issued,
		(SELECT COUNT(*) FROM coupon_claims cl WHERE cl.coupon_id = c.id AND cl.status = 'used'),
		(SELECT COUNT(*) FROM coupon_claims cl JOIN orders o ON o.id = cl.order_id WHERE cl.coupon_id = c.id AND cl.status = 'used' AND o.paid_at IS NOT NULL),
		(SELECT COALESCE(SUM(o.discount_fen), 0) FROM coupon_claims cl JOIN orders o ON o.id = cl.order_id WHERE cl.coupon_id = c.id AND cl.status = 'used' AND o.paid_at IS NOT NULL),
		(SELECT COALESCE(SUM(o.total_fen - o.refunded_fen), 0) FROM coupon_claims cl JOIN orders o ON o.id = cl.order_id WHERE cl.coupon_id = c.id AND cl.status = 'used' AND o.paid_at IS NOT NULL),
		(SELECT COALESCE(SUM(cl.returned), 0) FROM coupon_claims cl WHERE cl.coupon_id = c.id),
		(SELECT COUNT(*) FROM coupon_claims cl WHERE cl.coupon_id = c.id AND cl.status = 'void')
		FROM coupons c LEFT JOIN rooms r ON r.id = c.room_id WHERE c.merchant_id = ?`
	args := []any{merchantID}
	if roomID != 0 {
		q, args = q+` AND c.room_id = ?`, append(args, roomID)
	}
	rows, err := s.DB.Query(ctx, q+` ORDER BY c.room_id, c.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []coupons.ReportRow{}
	for rows.Next() {
		var r coupons.ReportRow
		var kind string
		if err := rows.Scan(&r.CouponID, &r.RoomID, &r.RoomSlug, &r.RoomTitle, &r.Title, &kind, &r.Units, &r.Issued, &r.Used, &r.PaidOrders, &r.CostFen, &r.RevenueFen, &r.Returned, &r.Void); err != nil {
			return nil, err
		}
		r.Kind = coupons.Kind(kind)
		out = append(out, r)
	}
	return out, rows.Err()
}

// FirstOrder implements coupons.Store.
func (s *CouponStore) FirstOrder(ctx context.Context, merchantID, customerID int64) (bool, error) {
	return firstOrder(ctx, s.DB, merchantID, customerID)
}

func firstOrder(ctx context.Context, db querier, merchantID, customerID int64) (bool, error) {
	var n int64
	err := db.QueryRow(ctx, `SELECT COUNT(*) FROM orders WHERE merchant_id = ? AND customer_id = ? AND status NOT IN ('cancelled', 'expired')`, merchantID, customerID).Scan(&n)
	return n == 0, err
}

// applyCoupon weighs the buyer's wallet against the order being created
// (inside its transaction) and marks the chosen claim used by it: the
// best one for o.Coupon "" or "auto", the named claim for a claim id, none
// for "none". It lowers o.TotalFen by the saving. The claim's guarded
// UPDATE (status = 'issued') is what makes a coupon apply at most once.
func applyCoupon(ctx context.Context, tx *Tx, o *order.Order) error {
	o.DiscountFen, o.CouponClaimID = 0, 0
	pick := strings.TrimSpace(o.CouponPick)
	if pick == "none" || o.SaleID != 0 || o.DrawID != 0 || o.TrialID != 0 {
		return nil
	}
	wallet, err := claimsOf(ctx, tx, o.MerchantID, o.CustomerID, ` AND cl.status = 'issued'`)
	if err != nil || len(wallet) == 0 {
		if err == nil && pick != "" && pick != "auto" {
			return coupons.ErrNotApplicable
		}
		return err
	}
	cart := coupons.Cart{StoreID: o.StoreID, RoomID: o.RoomID, Now: tx.Now}
	for _, ln := range o.Lines {
		var category string
		if err := tx.QueryRow(ctx, `SELECT category FROM products WHERE id = ?`, ln.ProductID).Scan(&category); err != nil {
			return err
		}
		cart.Lines = append(cart.Lines, coupons.Line{ProductID: ln.ProductID, Category: category, TotalFen: ln.TotalFen})
	}
	if cart.FirstOrder, err = firstOrder(ctx, tx, o.MerchantID, o.CustomerID); err != nil {
		return err
	}
	best, opts := coupons.Best(&cart, wallet)
	if pick != "" && pick != "auto" {
		best = nil
		for i := range opts {
			if fmt.Sprint(opts[i].ClaimID) == pick {
				best = &opts[i]
			}
		}
		if best == nil {
			return coupons.ErrNotApplicable
		}
	}
	if best == nil {
		return nil
	}
	o.DiscountFen, o.CouponClaimID = best.SavedFen, best.ClaimID
	o.TotalFen -= best.SavedFen
	return nil
}

// useCoupon marks the order's claim used, once: a claim already used by
// another order fails the order (the buyer retries without it).
func useCoupon(ctx context.Context, tx *Tx, o *order.Order) error {
	if o.CouponClaimID == 0 {
		return nil
	}
	n, err := rowsAffected(tx.Exec(ctx, `UPDATE coupon_claims SET status = 'used', order_id = ?, saved_fen = ?, used_at = ? WHERE id = ? AND customer_id = ? AND status = 'issued'`,
		o.ID, o.DiscountFen, ms(tx.Now), o.CouponClaimID, o.CustomerID))
	if err != nil {
		return err
	}
	if n != 1 {
		return errRaced
	}
	return nil
}

// returnCoupon applies the refund rule when an order is cancelled or
// expires: its claim goes back to the wallet while the coupon is still
// valid, and is void after. (A partial refund does not move the order, so
// the coupon stays used.)
func returnCoupon(ctx context.Context, tx *Tx, orderID int64) error {
	_, err := tx.Exec(ctx, `UPDATE coupon_claims SET
		status = CASE WHEN (SELECT valid_until FROM coupons WHERE id = coupon_claims.coupon_id) > ? THEN 'issued' ELSE 'void' END,
		order_id = NULL, saved_fen = 0, returned = returned + 1,
		used_at = CASE WHEN (SELECT valid_until FROM coupons WHERE id = coupon_claims.coupon_id) > ? THEN NULL ELSE CAST(? AS BIGINT) END
		WHERE order_id = ? AND status = 'used'`, ms(tx.Now), ms(tx.Now), ms(tx.Now), orderID)
	return err
}

// CouponClaimOf reports the claim an order used, for tests and views.
func (s *CouponStore) CouponClaimOf(ctx context.Context, orderID int64) (*coupons.Claim, error) {
	var cl coupons.Claim
	var status string
	var at int64
	err := s.DB.QueryRow(ctx, `SELECT id, coupon_id, customer_id, status, saved_fen, claimed_at FROM coupon_claims WHERE order_id = ?`, orderID).Scan(&cl.ID, &cl.CouponID, &cl.CustomerID, &status, &cl.SavedFen, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	cl.Status, cl.ClaimedAt, cl.OrderID = coupons.ClaimStatus(status), fromMS(at), orderID
	return &cl, nil
}
