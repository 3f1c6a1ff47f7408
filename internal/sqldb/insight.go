package sqldb

import (
	"context"
	"database/sql"
	"strings"

	"github.com/shelflive/shelflive/internal/insight"
)

// InsightStore implements the analytics stores of internal/insight.
type InsightStore struct{ DB *DB }

var (
	_ insight.EventStore    = (*InsightStore)(nil)
	_ insight.ActivityStore = (*InsightStore)(nil)
)

const (
	insightCols  = `(merchant_id, room_id, kind, visitor, session, product_id, code, value, at, customer_id)`
	insightRow   = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insightChunk = 64 // rows per multi-row INSERT: one statement shape, cached once
)

var insertEvents = `INSERT INTO insight_events ` + insightCols + ` VALUES ` + strings.TrimSuffix(strings.Repeat(insightRow+", ", insightChunk), ", ")

// paidStatuses is the SQL list of order statuses that mean the money came in.
const paidStatuses = `('paid', 'ready', 'shipped', 'completed')`

// AppendEvents writes a batch in one transaction, 64 rows per statement.
func (s *InsightStore) AppendEvents(ctx context.Context, evs []insight.Event) error {
	if len(evs) == 0 {
		return nil
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		args := make([]any, 0, 10*insightChunk)
		for len(evs) >= insightChunk {
			args = args[:0]
			for _, e := range evs[:insightChunk] {
				args = appendEvent(args, e)
			}
			if _, err := tx.Exec(ctx, insertEvents, args...); err != nil {
				return err
			}
			evs = evs[insightChunk:]
		}
		for _, e := range evs {
			if _, err := tx.Exec(ctx, `INSERT INTO insight_events `+insightCols+` VALUES `+insightRow, appendEvent(args[:0], e)...); err != nil {
				return err
			}
		}
		return nil
	})
}

func appendEvent(args []any, e insight.Event) []any {
	return append(args, e.MerchantID, e.RoomID, string(e.Kind), e.Visitor, e.Session, e.ProductID, e.Code, e.Value, ms(e.At), e.CustomerID)
}

// RoomActivity reads what the tables say about one room of the merchant.
func (s *InsightStore) RoomActivity(ctx context.Context, merchantID, roomID int64) (*insight.Activity, error) {
	a := &insight.Activity{}
	steps := []func(context.Context, int64, int64, *insight.Activity) error{
		s.sessions, s.returning, s.products, s.shares, s.minutes, s.orderTotals,
	}
	for _, step := range steps {
		if err := step(ctx, merchantID, roomID, a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (s *InsightStore) sessions(ctx context.Context, merchantID, roomID int64, a *insight.Activity) error {
	rows, err := s.DB.Query(ctx, `SELECT MAX(visitor), MIN(CASE WHEN kind = 'view_start' THEN at END), MAX(CASE WHEN kind = 'view_end' THEN at END)
		FROM insight_events WHERE merchant_id = ? AND room_id = ? AND kind IN ('view_start', 'view_end')
		GROUP BY session`, merchantID, roomID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		var start, end sql.NullInt64
		if err := rows.Scan(&v, &start, &end); err != nil {
			return err
		}
		if !start.Valid {
			continue // the start was dropped: the session cannot be placed
		}
		sp := insight.Span{Visitor: v, Start: fromMS(start.Int64)}
		if end.Valid {
			sp.End = fromMS(end.Int64)
		}
		a.Sessions = append(a.Sessions, sp)
	}
	return rows.Err()
}

// PairedOutcomes implements insight.ActivityStore: the viewers shown both
// cards with the customers their events were sent as, then per arm the
// customers who asked (the question comments Askers counts) and who paid
// (the buyers of the funnel); each viewer falls in one cell of each table.
func (s *InsightStore) PairedOutcomes(ctx context.Context, merchantID, roomA, productA, roomB, productB int64) (asked, bought insight.Pairs, err error) {
	customers := map[string][]int64{} // viewer shown both → the customers they were
	err = s.scan(ctx, func(r *sql.Rows) error {
		var v string
		var c int64
		if err := r.Scan(&v, &c); err != nil {
			return err
		}
		if _, ok := customers[v]; !ok {
			customers[v] = nil
		}
		if c != 0 {
			customers[v] = append(customers[v], c)
		}
		return nil
	}, `SELECT s.visitor, COALESCE(l.customer_id, 0) FROM (
			SELECT DISTINCT a.visitor FROM insight_events a
			WHERE a.merchant_id = ? AND a.room_id = ? AND a.product_id = ? AND a.kind = 'card_shown' AND EXISTS (
				SELECT 1 FROM insight_events b WHERE b.merchant_id = a.merchant_id AND b.visitor = a.visitor
				AND b.room_id = ? AND b.product_id = ? AND b.kind = 'card_shown')
		) s LEFT JOIN (
			SELECT DISTINCT visitor, customer_id FROM insight_events WHERE merchant_id = ? AND customer_id <> 0
		) l ON l.visitor = s.visitor`, merchantID, roomA, productA, roomB, productB, merchantID)
	if err != nil || len(customers) == 0 {
		return asked, bought, err
	}
	set := func(q string, room, product int64) (map[int64]bool, error) {
		out := map[int64]bool{}
		ids, err := queryIDs(ctx, s.DB, q, merchantID, room, product)
		for _, id := range ids {
			out[id] = true
		}
		return out, err
	}
	const askers = `SELECT DISTINCT c.author_id FROM comment_insights ci JOIN comments c ON c.id = ci.comment_id
		WHERE ci.merchant_id = ? AND ci.room_id = ? AND ci.product_id = ? AND ci.staff = FALSE AND c.deleted = FALSE
		AND ci.intent IN ` + questionIntents
	const buyers = `SELECT DISTINCT o.customer_id FROM orders o JOIN order_lines l ON l.order_id = o.id
		WHERE o.merchant_id = ? AND o.room_id = ? AND l.product_id = ? AND o.status IN ` + paidStatuses
	var sets [4]map[int64]bool // asked a, asked b, bought a, bought b
	for i, q := range []struct {
		sql           string
		room, product int64
	}{{askers, roomA, productA}, {askers, roomB, productB}, {buyers, roomA, productA}, {buyers, roomB, productB}} {
		if sets[i], err = set(q.sql, q.room, q.product); err != nil {
			return asked, bought, err
		}
	}
	hasAny := func(cs []int64, in map[int64]bool) bool {
		for _, c := range cs {
			if in[c] {
				return true
			}
		}
		return false
	}
	for _, cs := range customers {
		asked.Add(hasAny(cs, sets[0]), hasAny(cs, sets[1]))
		bought.Add(hasAny(cs, sets[2]), hasAny(cs, sets[3]))
	}
	return asked, bought, nil
}

// returning counts visitors of the room who had watched another of the
// merchant's rooms before.
func (s *InsightStore) returning(ctx context.Context, merchantID, roomID int64, a *insight.Activity) error {
	return s.DB.QueryRow(ctx, `SELECT COUNT(DISTINCT e.visitor) FROM insight_events e
		WHERE e.merchant_id = ? AND e.room_id = ? AND e.kind = 'view_start' AND EXISTS (
			SELECT 1 FROM insight_events p WHERE p.merchant_id = e.merchant_id AND p.visitor = e.visitor
			AND p.at < e.at AND p.kind = 'view_start' AND p.room_id <> e.room_id)`, merchantID, roomID).Scan(&a.Returning)
}

// products fills the lineup's funnel: distinct visitors per event kind,
// orders with a line of the product, the first pin and the first order.
// It is long because it is one funnel: the queries and the product rows
// they fill share one map.
func (s *InsightStore) products(ctx context.Context, merchantID, roomID int64, a *insight.Activity) error {
	byID := map[int64]*insight.ProductCounts{}
	var order []int64
	get := func(id int64) *insight.ProductCounts {
		if p, ok := byID[id]; ok {
			return p
		}
		p := &insight.ProductCounts{ProductID: id}
		byID[id] = p
		order = append(order, id)
		return p
	}
	err := s.scan(ctx, func(r *sql.Rows) error {
		var id int64
		var name, en string
		if err := r.Scan(&id, &name, &en); err != nil {
			return err
		}
		p := get(id)
		p.Name, p.NameEN = name, en
		return nil
	}, `SELECT rp.product_id, p.name, p.name_en FROM room_products rp JOIN products p ON p.id = rp.product_id
		WHERE rp.room_id = ? AND p.merchant_id = ? ORDER BY rp.position, rp.product_id`, roomID, merchantID)
	if err != nil {
		return err
	}
	err = s.scan(ctx, func(r *sql.Rows) error {
		var id, n int64
		var kind string
		if err := r.Scan(&id, &kind, &n); err != nil {
			return err
		}
		p := get(id)
		switch insight.Kind(kind) {
		case insight.CardShown:
			p.Shown = n
		case insight.CardOpen:
			p.Opened = n
		case insight.Checkout:
			p.Checkout = n
		}
		return nil
	}, `SELECT product_id, kind, COUNT(DISTINCT visitor) FROM insight_events
		WHERE merchant_id = ? AND room_id = ? AND kind IN ('card_shown', 'card_open', 'checkout') GROUP BY product_id, kind`, merchantID, roomID)
	if err != nil {
		return err
	}
	err = s.scan(ctx, func(r *sql.Rows) error {
		var id, orders, paid, buyers, units, gmv, first int64
		if err := r.Scan(&id, &orders, &paid, &buyers, &units, &gmv, &first); err != nil {
			return err
		}
		p := get(id)
		p.Orders, p.Paid, p.Buyers, p.Units, p.GMVFen = orders, paid, buyers, units, gmv
		t := fromMS(first)
		p.FirstOrderAt = &t
		return nil
	}, `SELECT l.product_id, COUNT(DISTINCT o.id),
			COUNT(DISTINCT CASE WHEN o.status IN `+paidStatuses+` THEN o.id END),
			COUNT(DISTINCT CASE WHEN o.status IN `+paidStatuses+` THEN o.customer_id END),
			COALESCE(SUM(CASE WHEN o.status IN `+paidStatuses+` THEN l.quantity ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN o.status IN `+paidStatuses+` THEN l.total_fen ELSE 0 END), 0),
			MIN(o.created_at)
		FROM orders o JOIN order_lines l ON l.order_id = o.id
		WHERE o.merchant_id = ? AND o.room_id = ? GROUP BY l.product_id`, merchantID, roomID)
	if err != nil {
		return err
	}
	err = s.scan(ctx, func(r *sql.Rows) error {
		var id, at int64
		if err := r.Scan(&id, &at); err != nil {
			return err
		}
		if p, ok := byID[id]; ok {
			t := fromMS(at)
			p.FirstPinAt = &t
		}
		return nil
	}, `SELECT rp.product_id, MIN(rp.at) FROM room_pins rp JOIN rooms r ON r.id = rp.room_id
		WHERE rp.room_id = ? AND r.merchant_id = ? AND rp.product_id <> 0 GROUP BY rp.product_id`, roomID, merchantID)
	if err != nil {
		return err
	}
	for _, id := range order {
		a.Products = append(a.Products, *byID[id])
	}
	return nil
}

// shares counts share links per attribution code and the room's orders that
// came through each code.
func (s *InsightStore) shares(ctx context.Context, merchantID, roomID int64, a *insight.Activity) error {
	return s.scan(ctx, func(r *sql.Rows) error {
		var c insight.ShareCount
		if err := r.Scan(&c.Code, &c.Name, &c.Shares, &c.Orders, &c.Paid, &c.RevenueFen); err != nil {
			return err
		}
		a.Shares = append(a.Shares, c)
		return nil
	}, `SELECT c.code, COALESCE(MAX(st.name), ''), MAX(c.shares), MAX(c.orders), MAX(c.paid), MAX(c.revenue) FROM (
			SELECT code, COUNT(*) AS shares, 0 AS orders, 0 AS paid, 0 AS revenue FROM insight_events
				WHERE merchant_id = ? AND room_id = ? AND kind = 'share' AND code <> '' GROUP BY code
			UNION ALL
			SELECT guide_code, 0, COUNT(*), SUM(CASE WHEN status IN `+paidStatuses+` THEN 1 ELSE 0 END),
				SUM(CASE WHEN status IN `+paidStatuses+` THEN total_fen - refunded_fen ELSE 0 END) FROM orders
				WHERE merchant_id = ? AND room_id = ? AND guide_code <> '' GROUP BY guide_code
		) c LEFT JOIN staff st ON st.merchant_id = ? AND st.guide_code = c.code
		GROUP BY c.code ORDER BY 6 DESC, 4 DESC, 3 DESC, c.code`, merchantID, roomID, merchantID, roomID, merchantID)
}

func (s *InsightStore) minutes(ctx context.Context, merchantID, roomID int64, a *insight.Activity) error {
	minute := func(dst *[]insight.Minute) func(r *sql.Rows) error {
		return func(r *sql.Rows) error {
			var m, n int64
			if err := r.Scan(&m, &n); err != nil {
				return err
			}
			*dst = append(*dst, insight.Minute{At: fromMS(m * 60000), N: n})
			return nil
		}
	}
	if err := s.scan(ctx, minute(&a.Comments), `SELECT created_at / 60000, COUNT(*) FROM comments
		WHERE merchant_id = ? AND room_id = ? AND deleted = FALSE GROUP BY created_at / 60000 ORDER BY 1`, merchantID, roomID); err != nil {
		return err
	}
	return s.scan(ctx, minute(&a.Likes), `SELECT at / 60000, SUM(value) FROM insight_events
		WHERE merchant_id = ? AND room_id = ? AND kind = 'likes' GROUP BY at / 60000 ORDER BY 1`, merchantID, roomID)
}

func (s *InsightStore) orderTotals(ctx context.Context, merchantID, roomID int64, a *insight.Activity) error {
	return s.DB.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN status IN `+paidStatuses+` THEN 1 ELSE 0 END), 0),
			COUNT(DISTINCT CASE WHEN status IN `+paidStatuses+` THEN customer_id END),
			COALESCE(SUM(CASE WHEN status IN `+paidStatuses+` THEN total_fen - refunded_fen ELSE 0 END), 0)
		FROM orders WHERE merchant_id = ? AND room_id = ?`, merchantID, roomID).Scan(&a.Orders, &a.Paid, &a.Buyers, &a.GMVFen)
}

// scan runs a query and calls fn for each row.
func (s *InsightStore) scan(ctx context.Context, fn func(*sql.Rows) error, q string, args ...any) error {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

var _ insight.BrandStore = (*InsightStore)(nil)

// BrandRooms sums every room of the merchant: unique viewers from the
// sessions, orders and paid GMV (net of refunds) from the orders.
func (s *InsightStore) BrandRooms(ctx context.Context, merchantID int64) ([]insight.RoomSummary, error) {
	out := []insight.RoomSummary{}
	err := s.scan(ctx, func(r *sql.Rows) error {
		var x insight.RoomSummary
		if err := r.Scan(&x.RoomID, &x.Slug, &x.Title, &x.TitleEN, &x.Status, &x.StoreID, &x.UniqueViewers, &x.Orders, &x.Paid, &x.GMVFen); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	}, `SELECT r.id, r.slug, r.title, r.title_en, r.status, COALESCE(r.store_id, 0),
			COALESCE((SELECT COUNT(DISTINCT e.visitor) FROM insight_events e WHERE e.merchant_id = r.merchant_id AND e.room_id = r.id AND e.kind = 'view_start'), 0),
			COALESCE(o.orders, 0), COALESCE(o.paid, 0), COALESCE(o.gmv, 0)
		FROM rooms r LEFT JOIN (
			SELECT room_id, COUNT(*) AS orders, SUM(CASE WHEN status IN `+paidStatuses+` THEN 1 ELSE 0 END) AS paid,
				SUM(CASE WHEN status IN `+paidStatuses+` THEN total_fen - refunded_fen ELSE 0 END) AS gmv
			FROM orders WHERE merchant_id = ? AND room_id IS NOT NULL GROUP BY room_id
		) o ON o.room_id = r.id
		WHERE r.merchant_id = ? ORDER BY CASE r.status WHEN 'live' THEN 0 ELSE 1 END, r.id DESC`, merchantID, merchantID)
	return out, err
}
