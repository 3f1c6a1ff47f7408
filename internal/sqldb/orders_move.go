package sqldb

// Moving orders through their status machine: the move with its
// conditions, what it does to the reserved stock, and expiry.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/order"
)

// Transition implements order.Store: a move with no conditions beyond the
// status machine and the pickup rule, on behalf of the system.
func (s *OrderStore) Transition(ctx context.Context, merchantID, id int64, next order.Status) (*order.Order, error) {
	return s.Apply(ctx, order.Move{MerchantID: merchantID, ID: id, To: next, Actor: "system"})
}

// Apply implements order.Store: the move's conditions are checked on the
// locked row in the transaction that applies it.
func (s *OrderStore) Apply(ctx context.Context, m order.Move) (*order.Order, error) {
	var out *order.Order
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		o, err := applyMove(ctx, tx, m)
		out = o
		return err
	})
	return out, err
}

func transition(ctx context.Context, tx *Tx, merchantID, id int64, next order.Status) (*order.Order, error) {
	return applyMove(ctx, tx, order.Move{MerchantID: merchantID, ID: id, To: next, Actor: "system"})
}

func applyMove(ctx context.Context, tx *Tx, m order.Move) (*order.Order, error) {
	cur, err := scanOrder(tx.QueryRow(ctx, `SELECT `+orderCols+` FROM orders WHERE merchant_id = ? AND id = ?`+tx.db.forUpdate(), m.MerchantID, m.ID))
	if err != nil {
		return nil, err
	}
	if err := m.Check(cur); err != nil {
		return nil, err
	}
	id, next := m.ID, m.To
	now := ms(tx.Now)
	switch next {
	case order.Shipped, order.Completed:
		// Food of a lot on hold is not handed over, whoever asks: the lot
		// went on hold after the order was paid.
		held, err := heldLotsOfOrder(ctx, tx, m.MerchantID, id)
		if err != nil {
			return nil, err
		}
		if len(held) > 0 {
			return nil, inventory.HandoverOnHold(held)
		}
		// Handover: reserved units leave the shelf exactly once. Rows already
		// consumed (shipped → completed) are skipped by the state filter.
		if err := settleAllocations(ctx, tx, id, "consumed", `on_hand = on_hand - ?, reserved = reserved - ?`, 2); err != nil {
			return nil, err
		}
	case order.Cancelled, order.Expired:
		if err := settleAllocations(ctx, tx, id, "released", `reserved = reserved - ?`, 1); err != nil {
			return nil, err
		}
		if err := returnCoupon(ctx, tx, id); err != nil { // the coupon refund rule (package coupons)
			return nil, err
		}
		if err := releaseSlot(ctx, tx, cur); err != nil {
			return nil, err
		}
	case order.Ready:
		if err := readyMessage(ctx, tx, cur); err != nil {
			return nil, err
		}
	}
	col := map[order.Status]string{order.Paid: "paid_at", order.Ready: "ready_at", order.Shipped: "shipped_at", order.Completed: "completed_at",
		order.Cancelled: "cancelled_at", order.Expired: "cancelled_at"}[next]
	refund := m.Refund(cur)
	if refund > 0 {
		var err error
		if refund, err = refundRemainder(ctx, tx, m.MerchantID, id, refund); err != nil {
			return nil, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE orders SET status = ?, `+col+` = ?, refunded_fen = refunded_fen + ? WHERE id = ?`, string(next), now, refund, id); err != nil {
		return nil, err
	}
	// Every refund, and every cancel someone asked for, is on the record,
	// committed with the move itself.
	if next == order.Cancelled && (refund > 0 || (m.Actor != "" && m.Actor != "system")) {
		actor := m.Actor
		if actor == "" {
			actor = "system"
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit_log (merchant_id, actor, action, object, detail, at) VALUES (?, ?, ?, ?, ?, ?)`,
			m.MerchantID, actor, "order.cancel", "order:"+cur.Number, fmt.Sprintf("refunded_fen=%d", refund), now); err != nil {
			return nil, err
		}
	}
	if next == order.Paid && refund == 0 {
		// The payment callback's path: only status and paid_at changed, so
		// the row need not be read again (the lines still are).
		at := fromMS(now)
		cur.Status, cur.StatusLabel, cur.PaidAt = next, next.Label(), &at
		list := []order.Order{*cur}
		if err := fillLines(ctx, tx.Query, list); err != nil {
			return nil, err
		}
		return &list[0], nil
	}
	return getOrder(ctx, tx.QueryRow, tx.Query, m.MerchantID, id)
}

func settleAllocations(ctx context.Context, tx *Tx, orderID int64, state, set string, nargs int) error {
	rows, err := tx.Query(ctx, `SELECT id, store_id, lot_id, quantity, COALESCE(sale_id, 0) FROM allocations WHERE order_id = ? AND state = 'reserved'`, orderID)
	if err != nil {
		return err
	}
	type alloc struct{ id, store, lot, qty, sale int64 }
	var list []alloc
	for rows.Next() {
		var a alloc
		if err := rows.Scan(&a.id, &a.store, &a.lot, &a.qty, &a.sale); err != nil {
			rows.Close()
			return err
		}
		list = append(list, a)
	}
	rows.Close()
	for _, a := range list {
		if state == "released" && a.sale != 0 {
			// Units of a running flash sale go back to the sale's quota,
			// which keeps them reserved; the sale returns what is left to
			// stock when it ends.
			var status string
			if err := tx.QueryRow(ctx, `SELECT status FROM flash_sales WHERE id = ?`+tx.db.forUpdate(), a.sale).Scan(&status); err != nil {
				return fmt.Errorf("settle allocation %d: %w", a.id, err)
			}
			if status == "running" {
				if _, err := tx.Exec(ctx, `UPDATE allocations SET state = ? WHERE id = ?`, state, a.id); err != nil {
					return err
				}
				continue
			}
		}
		args := []any{a.qty}
		if nargs == 2 {
			args = append(args, a.qty)
		}
		args = append(args, a.store, a.lot)
		res, err := tx.Exec(ctx, `UPDATE stock SET `+set+` WHERE store_id = ? AND lot_id = ?`, args...)
		if err := mustAffect(res, err); err != nil {
			return fmt.Errorf("settle allocation %d: %w", a.id, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE allocations SET state = ? WHERE id = ?`, state, a.id); err != nil {
			return err
		}
	}
	return nil
}

// ExpireDue implements order.Store.
func (s *OrderStore) ExpireDue(ctx context.Context, now time.Time, limit int) ([]order.Order, error) {
	rows, err := s.DB.Query(ctx, `SELECT merchant_id, id FROM orders WHERE status = 'pending_payment' AND reserve_expires_at <= ? ORDER BY reserve_expires_at LIMIT ?`, now.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	type key struct{ m, id int64 }
	var due []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.m, &k.id); err != nil {
			rows.Close()
			return nil, err
		}
		due = append(due, k)
	}
	rows.Close()
	var out []order.Order
	for _, k := range due {
		o, err := s.Transition(ctx, k.m, k.id, order.Expired)
		if errors.Is(err, apperr.ErrInvalidTransition) {
			continue // paid meanwhile
		}
		if err != nil {
			return out, err
		}
		out = append(out, *o)
	}
	return out, nil
}
