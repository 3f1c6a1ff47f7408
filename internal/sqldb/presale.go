package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/presale"
)

// PresaleStore keeps pre-sales and their orders. Pre-sale orders are
// ordinary orders (payment, refunds, pickup codes work as for any order)
// without stock allocations: the goods are made only if the MOQ is reached.
type PresaleStore struct{ DB *DB }

var _ presale.Store = (*PresaleStore)(nil)

const presaleCols = `p.id, p.merchant_id, p.title, p.description, p.product_id, p.sku_id, pr.name, pr.name_en, k.name, p.price_fen, p.deposit_fen, p.moq, p.per_buyer_limit,
	p.deadline, p.balance_due_at, p.ship_by, p.supplier, COALESCE(p.room_id, 0), COALESCE(p.group_id, 0), p.status, p.committed_units, p.buyers, p.settled_at, p.created_by, p.created_at
	FROM presales p JOIN products pr ON pr.id = p.product_id JOIN skus k ON k.id = p.sku_id`

func scanPresale(row interface{ Scan(...any) error }) (*presale.Presale, error) {
	var p presale.Presale
	var status string
	var deadline, shipBy, created int64
	var due, settled sql.NullInt64
	if err := row.Scan(&p.ID, &p.MerchantID, &p.Title, &p.Description, &p.ProductID, &p.SKUID, &p.ProductName, &p.ProductNameEN, &p.SKUName, &p.PriceFen, &p.DepositFen, &p.MOQ, &p.PerBuyerLimit,
		&deadline, &due, &shipBy, &p.Supplier, &p.RoomID, &p.GroupID, &status, &p.Committed, &p.Buyers, &settled, &p.CreatedBy, &created); err != nil {
		return nil, translate(err)
	}
	p.Status, p.Deadline, p.ShipBy, p.CreatedAt = presale.Status(status), fromMS(deadline), fromMS(shipBy), fromMS(created)
	p.BalanceDueAt, p.SettledAt = nullMS(due), nullMS(settled)
	return &p, nil
}

// counts fills the live counts: units paid (deposit or full) while open,
// and forfeited deposits.
func (s *PresaleStore) counts(ctx context.Context, q querier, p *presale.Presale) error {
	if p.Status == presale.Open {
		if err := q.QueryRow(ctx, `SELECT COALESCE(SUM(po.quantity), 0), COUNT(DISTINCT po.customer_id) FROM presale_orders po JOIN orders o ON o.id = po.order_id
			WHERE po.presale_id = ? AND po.kind <> 'balance' AND o.status IN `+paidStatuses, p.ID).Scan(&p.Committed, &p.Buyers); err != nil {
			return err
		}
	}
	if p.DepositFen > 0 {
		if err := q.QueryRow(ctx, `SELECT COALESCE(SUM(quantity), 0) FROM presale_orders WHERE presale_id = ? AND kind = 'deposit' AND forfeited_at IS NOT NULL`, p.ID).Scan(&p.Forfeited); err != nil {
			return err
		}
	}
	p.Fill()
	return nil
}

// CreatePresale implements presale.Store.
func (s *PresaleStore) CreatePresale(ctx context.Context, p *presale.Presale) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error { return createPresaleTx(ctx, tx, p) })
}

// createPresaleTx checks the SKU, group and room of p and inserts it open;
// CocreateStore.ToPresale reuses it to open a pre-sale with its product.
func createPresaleTx(ctx context.Context, tx *Tx, p *presale.Presale) error {
	var active bool
	err := tx.QueryRow(ctx, `SELECT k.product_id, pr.name, pr.name_en, k.name, k.active AND pr.active FROM skus k JOIN products pr ON pr.id = k.product_id WHERE k.merchant_id = ? AND k.id = ?`,
		p.MerchantID, p.SKUID).Scan(&p.ProductID, &p.ProductName, &p.ProductNameEN, &p.SKUName, &active)
	if err == sql.ErrNoRows || (err == nil && !active) {
		return order.ErrUnknownSKU.At("sku_id")
	}
	if err != nil {
		return err
	}
	if p.GroupID != 0 {
		var n int64
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM fan_groups WHERE merchant_id = ? AND id = ?`, p.MerchantID, p.GroupID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.ErrNotFound.At("group_id")
		}
	}
	if p.RoomID != 0 {
		var n int64
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM rooms WHERE merchant_id = ? AND id = ?`, p.MerchantID, p.RoomID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.ErrNotFound.At("room_id")
		}
	}
	p.Status, p.CreatedAt = presale.Open, tx.Now.UTC().Truncate(time.Millisecond)
	p.ID, err = tx.InsertID(ctx, `INSERT INTO presales (merchant_id, title, description, product_id, sku_id, price_fen, deposit_fen, moq, per_buyer_limit, deadline, balance_due_at, ship_by,
		supplier, room_id, group_id, status, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)`,
		p.MerchantID, p.Title, p.Description, p.ProductID, p.SKUID, p.PriceFen, p.DepositFen, p.MOQ, p.PerBuyerLimit, ms(p.Deadline), optMS(p.BalanceDueAt), ms(p.ShipBy),
		p.Supplier, nullID(p.RoomID), nullID(p.GroupID), p.CreatedBy, ms(tx.Now))
	p.Fill()
	return err
}

// Presale implements presale.Store.
func (s *PresaleStore) Presale(ctx context.Context, merchantID, id int64) (*presale.Presale, error) {
	p, err := scanPresale(s.DB.QueryRow(ctx, `SELECT `+presaleCols+` WHERE p.merchant_id = ? AND p.id = ?`, merchantID, id))
	if err != nil {
		return nil, err
	}
	return p, s.counts(ctx, s.DB, p)
}

// PublicPresale implements presale.Store.
func (s *PresaleStore) PublicPresale(ctx context.Context, id int64) (*presale.Presale, error) {
	p, err := scanPresale(s.DB.QueryRow(ctx, `SELECT `+presaleCols+` WHERE p.id = ?`, id))
	if err != nil {
		return nil, err
	}
	return p, s.counts(ctx, s.DB, p)
}

// Presales implements presale.Store: newest first.
func (s *PresaleStore) Presales(ctx context.Context, merchantID int64, f presale.Filter) ([]presale.Presale, error) {
	q, args := `SELECT `+presaleCols+` WHERE p.merchant_id = ?`, []any{merchantID}
	if f.Status != "" {
		q, args = q+` AND p.status = ?`, append(args, string(f.Status))
	}
	if f.RoomID != 0 {
		q, args = q+` AND p.room_id = ?`, append(args, f.RoomID)
	}
	if f.GroupID != 0 {
		q, args = q+` AND p.group_id = ?`, append(args, f.GroupID)
	}
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 50
	}
	rows, err := s.DB.Query(ctx, q+` ORDER BY p.id DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, err
	}
	var out []presale.Presale
	for rows.Next() {
		p, err := scanPresale(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, *p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.counts(ctx, s.DB, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lockPresale reads the pre-sale in the transaction, locked on PostgreSQL
// (commits, settlement and the deposit rule of one pre-sale queue on it).
func lockPresale(ctx context.Context, tx *Tx, merchantID, id int64) (*presale.Presale, error) {
	return scanPresale(tx.QueryRow(ctx, `SELECT `+presaleCols+` WHERE p.merchant_id = ? AND p.id = ?`+tx.db.forUpdateOf("p"), merchantID, id))
}

// Commit implements presale.Store.
func (s *PresaleStore) Commit(ctx context.Context, p *presale.Presale, o *order.Order, qty int64) (bool, error) {
	for attempt := 1; ; attempt++ {
		created, err := s.commit(ctx, p, o, qty)
		if attempt < 5 && (errors.Is(err, errRaced) || errors.Is(err, apperr.ErrBusy)) {
			continue
		}
		return created, err
	}
}

func (s *PresaleStore) commit(ctx context.Context, in *presale.Presale, o *order.Order, qty int64) (bool, error) {
	created := false
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		if found, err := replayOrder(ctx, tx, o); found || err != nil {
			return err
		}
		p, err := lockPresale(ctx, tx, o.MerchantID, in.ID)
		if err != nil {
			return err
		}
		if p.Status != presale.Open || !tx.Now.Before(p.Deadline) {
			return presale.ErrClosed
		}
		var active bool
		if err := tx.QueryRow(ctx, `SELECT k.active AND pr.active FROM skus k JOIN products pr ON pr.id = k.product_id WHERE k.id = ?`, p.SKUID).Scan(&active); err != nil || !active {
			if err != nil && err != sql.ErrNoRows {
				return err
			}
			return order.ErrUnknownSKU
		}
		var mine int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(po.quantity), 0) FROM presale_orders po JOIN orders o ON o.id = po.order_id
			WHERE po.presale_id = ? AND po.customer_id = ? AND po.kind <> 'balance' AND o.status IN ('pending_payment', 'paid', 'ready', 'shipped', 'completed')`,
			p.ID, o.CustomerID).Scan(&mine); err != nil {
			return err
		}
		if mine+qty > p.PerBuyerLimit {
			return presale.ErrOverLimit
		}
		if _, err := (&OrderStore{DB: s.DB}).chooseStore(ctx, tx, o, true); err != nil {
			return err
		}
		kind := p.CommitKind()
		if err := insertPresaleOrder(ctx, tx, p, o, kind, qty, p.Deadline, 0); err != nil {
			return err
		}
		*in = *p
		created = true
		return nil
	})
	return created, err
}

// insertPresaleOrder writes a pending order of kind for qty units, payable
// until payBy at the latest, and its presale_orders row.
func insertPresaleOrder(ctx context.Context, tx *Tx, p *presale.Presale, o *order.Order, kind presale.Kind, qty int64, payBy time.Time, depositOrder int64) error {
	unit := p.UnitFen(kind)
	name := p.SKUName
	switch kind {
	case presale.Deposit:
		name += " · 定金 deposit"
	case presale.Balance:
		name += " · 尾款 balance"
	default:
		name += " · 预售 pre-sale"
	}
	o.Status, o.TotalFen, o.SaleID = order.PendingPayment, unit*qty, 0
	o.Lines = []order.Line{{SKUID: p.SKUID, ProductID: p.ProductID, ProductName: p.ProductName, ProductNameEN: p.ProductNameEN, SKUName: name, Quantity: qty, UnitFen: unit, TotalFen: unit * qty}}
	if o.ReserveExpiresAt.IsZero() || o.ReserveExpiresAt.After(payBy) {
		o.ReserveExpiresAt = payBy
	}
	o.CreatedAt = tx.Now
	if err := insertOrderRows(ctx, tx, o, nil); err != nil {
		return err
	}
	o.StatusLabel = o.Status.Label()
	_, err := tx.Exec(ctx, `INSERT INTO presale_orders (order_id, presale_id, customer_id, kind, quantity, deposit_order_id) VALUES (?, ?, ?, ?, ?, ?)`,
		o.ID, p.ID, o.CustomerID, string(kind), qty, nullID(depositOrder))
	return err
}

// BalanceOrder implements presale.Store.
func (s *PresaleStore) BalanceOrder(ctx context.Context, in *presale.Presale, depositOrderID int64, o *order.Order) (*order.Order, error) {
	var out *order.Order
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		p, err := lockPresale(ctx, tx, o.MerchantID, in.ID)
		if err != nil {
			return err
		}
		if p.Status != presale.Reached || p.BalanceDueAt == nil || !tx.Now.Before(*p.BalanceDueAt) {
			return presale.ErrNoBalance
		}
		var qty int64
		var forfeited sql.NullInt64
		err = tx.QueryRow(ctx, `SELECT quantity, forfeited_at FROM presale_orders WHERE order_id = ? AND presale_id = ? AND customer_id = ? AND kind = 'deposit'`,
			depositOrderID, p.ID, o.CustomerID).Scan(&qty, &forfeited)
		if err == sql.ErrNoRows {
			return apperr.ErrNotFound
		}
		if err != nil {
			return err
		}
		dep, err := getOrder(ctx, tx.QueryRow, tx.Query, o.MerchantID, depositOrderID)
		if err != nil {
			return err
		}
		if forfeited.Valid || (dep.Status != order.Paid && dep.Status != order.Ready) {
			return presale.ErrNoBalance
		}
		rows, err := tx.Query(ctx, `SELECT o.id, o.status FROM presale_orders po JOIN orders o ON o.id = po.order_id WHERE po.deposit_order_id = ? ORDER BY o.id`, depositOrderID)
		if err != nil {
			return err
		}
		var pending int64
		paid := false
		for rows.Next() {
			var id int64
			var st string
			if err := rows.Scan(&id, &st); err != nil {
				rows.Close()
				return err
			}
			switch order.Status(st) {
			case order.PendingPayment:
				pending = id
			case order.Paid, order.Ready, order.Shipped, order.Completed:
				paid = true
			}
		}
		rows.Close()
		if paid {
			return presale.ErrNoBalance
		}
		if pending != 0 {
			out, err = getOrder(ctx, tx.QueryRow, tx.Query, o.MerchantID, pending)
			return err
		}
		o.Fulfilment, o.StoreID, o.ContactName, o.ContactPhone, o.Address, o.RoomID = dep.Fulfilment, dep.StoreID, dep.ContactName, dep.ContactPhone, dep.Address, dep.RoomID
		if err := insertPresaleOrder(ctx, tx, p, o, presale.Balance, qty, *p.BalanceDueAt, depositOrderID); err != nil {
			return err
		}
		out = o
		return nil
	})
	return out, err
}

// Commitments implements presale.Store.
func (s *PresaleStore) Commitments(ctx context.Context, merchantID, presaleID, customerID int64) ([]presale.Commitment, error) {
	rows, err := s.DB.Query(ctx, `SELECT po.order_id, po.kind, po.quantity, o.status, po.forfeited_at,
			COALESCE((SELECT MAX(b.order_id) FROM presale_orders b WHERE b.deposit_order_id = po.order_id), 0)
		FROM presale_orders po JOIN orders o ON o.id = po.order_id JOIN presales p ON p.id = po.presale_id
		WHERE p.merchant_id = ? AND po.presale_id = ? AND po.customer_id = ? AND po.kind <> 'balance' ORDER BY po.order_id`, merchantID, presaleID, customerID)
	if err != nil {
		return nil, err
	}
	out := []presale.Commitment{}
	for rows.Next() {
		c := presale.Commitment{PresaleID: presaleID}
		var kind string
		var forfeited sql.NullInt64
		if err := rows.Scan(&c.OrderID, &kind, &c.Quantity, &c.OrderStatus, &forfeited, &c.BalanceOrderID); err != nil {
			rows.Close()
			return nil, err
		}
		c.Kind, c.ForfeitedAt = presale.Kind(kind), nullMS(forfeited)
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].BalanceOrderID == 0 {
			continue
		}
		if err := s.DB.QueryRow(ctx, `SELECT status, total_fen FROM orders WHERE id = ?`, out[i].BalanceOrderID).Scan(&out[i].BalanceStatus, &out[i].BalanceFen); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// OfOrder implements presale.Store.
func (s *PresaleStore) OfOrder(ctx context.Context, merchantID, orderID int64) (int64, error) {
	var id int64
	err := s.DB.QueryRow(ctx, `SELECT po.presale_id FROM presale_orders po JOIN presales p ON p.id = po.presale_id WHERE po.order_id = ? AND p.merchant_id = ?`, orderID, merchantID).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return id, err
}

func (s *PresaleStore) refs(ctx context.Context, q string, args ...any) ([]presale.Ref, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []presale.Ref
	for rows.Next() {
		var r presale.Ref
		if err := rows.Scan(&r.MerchantID, &r.ID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DueSettle implements presale.Store.
func (s *PresaleStore) DueSettle(ctx context.Context, now time.Time, limit int) ([]presale.Ref, error) {
	return s.refs(ctx, `SELECT merchant_id, id FROM presales WHERE status = 'open' AND deadline <= ? ORDER BY deadline LIMIT ?`, ms(now), limit)
}

// Settle implements presale.Store. One transaction, guarded by the status:
// the pending orders expire first (after that no payment can apply to
// them: ApplyPaid checks the order's status on the locked row), then the
// paid units are counted and the verdict written.
func (s *PresaleStore) Settle(ctx context.Context, merchantID, id int64) (*presale.Presale, bool, error) {
	var out *presale.Presale
	changed := false
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		p, err := lockPresale(ctx, tx, merchantID, id)
		if err != nil {
			return err
		}
		out = p
		if p.Status != presale.Open || tx.Now.Before(p.Deadline) {
			return nil
		}
		pending, err := queryIDs(ctx, tx, `SELECT po.order_id FROM presale_orders po JOIN orders o ON o.id = po.order_id WHERE po.presale_id = ? AND o.status = 'pending_payment' ORDER BY po.order_id`, id)
		if err != nil {
			return err
		}
		for _, oid := range pending {
			if _, err := transition(ctx, tx, merchantID, oid, order.Expired); err != nil && !errors.Is(err, apperr.ErrInvalidTransition) {
				return err
			}
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(po.quantity), 0), COUNT(DISTINCT po.customer_id) FROM presale_orders po JOIN orders o ON o.id = po.order_id
			WHERE po.presale_id = ? AND po.kind <> 'balance' AND o.status IN `+paidStatuses, id).Scan(&p.Committed, &p.Buyers); err != nil {
			return err
		}
		p.Status = presale.Verdict(p.Committed, p.MOQ)
		now := tx.Now.UTC().Truncate(time.Millisecond)
		p.SettledAt = &now
		if _, err := tx.Exec(ctx, `UPDATE presales SET status = ?, committed_units = ?, buyers = ?, settled_at = ? WHERE id = ? AND status = 'open'`,
			string(p.Status), p.Committed, p.Buyers, ms(now), id); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, changed, s.counts(ctx, s.DB, out)
}

// RefundDue implements presale.Store.
func (s *PresaleStore) RefundDue(ctx context.Context, limit int) ([]presale.Ref, error) {
	return s.refs(ctx, `SELECT p.merchant_id, p.id FROM presales p WHERE p.status = 'failed' AND EXISTS (
		SELECT 1 FROM presale_orders po JOIN orders o ON o.id = po.order_id WHERE po.presale_id = p.id AND o.status IN ('paid', 'ready'))
		ORDER BY p.id LIMIT ?`, limit)
}

// CancelPaid implements presale.Store.
func (s *PresaleStore) CancelPaid(ctx context.Context, merchantID, id int64, limit int) ([]order.Order, error) {
	var status string
	if err := s.DB.QueryRow(ctx, `SELECT status FROM presales WHERE merchant_id = ? AND id = ?`, merchantID, id).Scan(&status); err != nil {
		return nil, translate(err)
	}
	if presale.Status(status) != presale.Failed {
		return nil, nil
	}
	ids, err := queryIDs(ctx, s.DB, `SELECT po.order_id FROM presale_orders po JOIN orders o ON o.id = po.order_id WHERE po.presale_id = ? AND o.status IN ('paid', 'ready') ORDER BY po.order_id LIMIT ?`, id, limit)
	if err != nil {
		return nil, err
	}
	orders := &OrderStore{DB: s.DB}
	var out []order.Order
	for _, oid := range ids {
		o, err := orders.Apply(ctx, order.Move{MerchantID: merchantID, ID: oid, To: order.Cancelled, From: []order.Status{order.Paid, order.Ready}, Actor: "presale.failed"})
		if errors.Is(err, apperr.ErrInvalidTransition) {
			continue // cancelled meanwhile (another node, staff)
		}
		if err != nil {
			return out, err
		}
		out = append(out, *o)
	}
	return out, nil
}

// ForfeitDue implements presale.Store.
func (s *PresaleStore) ForfeitDue(ctx context.Context, now time.Time, limit int) ([]order.Order, error) {
	due, err := s.refs(ctx, `SELECT merchant_id, id FROM presales WHERE status = 'reached' AND deposit_fen > 0 AND forfeited_at IS NULL AND balance_due_at <= ? ORDER BY balance_due_at LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, err
	}
	var out []order.Order
	for _, r := range due {
		err := s.DB.WriteTx(ctx, func(tx *Tx) error {
			var forfeited sql.NullInt64
			var due int64
			if err := tx.QueryRow(ctx, `SELECT forfeited_at, balance_due_at FROM presales WHERE id = ?`+tx.db.forUpdate(), r.ID).Scan(&forfeited, &due); err != nil {
				return err
			}
			if forfeited.Valid || ms(tx.Now) < due {
				return nil
			}
			pending, err := queryIDs(ctx, tx, `SELECT po.order_id FROM presale_orders po JOIN orders o ON o.id = po.order_id WHERE po.presale_id = ? AND po.kind = 'balance' AND o.status = 'pending_payment'`, r.ID)
			if err != nil {
				return err
			}
			for _, oid := range pending {
				o, err := transition(ctx, tx, r.MerchantID, oid, order.Expired)
				if errors.Is(err, apperr.ErrInvalidTransition) {
					continue
				}
				if err != nil {
					return err
				}
				tx.OnCommit(func() { out = append(out, *o) })
			}
			// A deposit whose balance is not paid now is forfeited (the
			// stated rule); its paid deposit stays with the merchant.
			if _, err := tx.Exec(ctx, `UPDATE presale_orders SET forfeited_at = ? WHERE presale_id = ? AND kind = 'deposit' AND forfeited_at IS NULL
				AND EXISTS (SELECT 1 FROM orders d WHERE d.id = presale_orders.order_id AND d.status IN `+paidStatuses+`)
				AND NOT EXISTS (SELECT 1 FROM presale_orders b JOIN orders bo ON bo.id = b.order_id WHERE b.deposit_order_id = presale_orders.order_id AND bo.status IN `+paidStatuses+`)`,
				ms(tx.Now), r.ID); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE presales SET forfeited_at = ? WHERE id = ?`, ms(tx.Now), r.ID)
			return err
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// Unnotified implements presale.Store.
func (s *PresaleStore) Unnotified(ctx context.Context, limit int) ([]presale.Ref, error) {
	return s.refs(ctx, `SELECT merchant_id, id FROM presales WHERE status IN ('reached', 'failed') AND notified_at IS NULL ORDER BY id LIMIT ?`, limit)
}

// MarkNotified implements presale.Store.
func (s *PresaleStore) MarkNotified(ctx context.Context, merchantID, id int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE presales SET notified_at = ? WHERE merchant_id = ? AND id = ? AND notified_at IS NULL`, ms(tx.Now), merchantID, id)
		return err
	})
}

// Production implements presale.Store: the paid units per destination.
func (s *PresaleStore) Production(ctx context.Context, merchantID, id int64) (*presale.Production, error) {
	p, err := s.Presale(ctx, merchantID, id)
	if err != nil {
		return nil, err
	}
	if p.Status != presale.Reached {
		return nil, presale.ErrNotReached
	}
	rows, err := s.DB.Query(ctx, `SELECT o.fulfilment, o.store_id, st.name, COUNT(*), SUM(po.quantity) FROM presale_orders po JOIN orders o ON o.id = po.order_id JOIN stores st ON st.id = o.store_id
		WHERE po.presale_id = ? AND po.kind <> 'balance' AND po.forfeited_at IS NULL AND o.status IN `+paidStatuses+`
		GROUP BY o.fulfilment, o.store_id, st.name ORDER BY o.fulfilment DESC, o.store_id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &presale.Production{Presale: *p, Lines: []presale.ProductionLine{}}
	for rows.Next() {
		var l presale.ProductionLine
		var ful string
		if err := rows.Scan(&ful, &l.StoreID, &l.StoreName, &l.Orders, &l.Units); err != nil {
			return nil, err
		}
		l.Fulfilment = order.Fulfilment(ful)
		out.Units += l.Units
		out.Lines = append(out.Lines, l)
	}
	return out, rows.Err()
}
