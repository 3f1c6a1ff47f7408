package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
)

// PaymentAccountStore implements payment.AccountStore: merchants' vendor
// accounts, sealed by payment.Accounts before they get here.
type PaymentAccountStore struct{ DB *DB }

var _ payment.AccountStore = (*PaymentAccountStore)(nil)

// PutAccount implements payment.AccountStore (insert or replace).
func (s *PaymentAccountStore) PutAccount(ctx context.Context, a *payment.StoredAccount) error {
	sum, err := json.Marshal(a.Summary)
	if err != nil {
		return err
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		a.UpdatedAt = tx.Now.UTC().Truncate(time.Millisecond)
		_, err := tx.Exec(ctx, `INSERT INTO payment_accounts (merchant_id, provider, sealed, summary, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (merchant_id, provider) DO UPDATE SET sealed = excluded.sealed, summary = excluded.summary, updated_at = excluded.updated_at`,
			a.MerchantID, a.Provider, a.Sealed, string(sum), ms(a.UpdatedAt))
		return err
	})
}

const accountCols = `merchant_id, provider, sealed, summary, updated_at`

func scanAccount(row interface{ Scan(...any) error }) (*payment.StoredAccount, error) {
	var a payment.StoredAccount
	var sum string
	var at int64
	if err := row.Scan(&a.MerchantID, &a.Provider, &a.Sealed, &sum, &at); err != nil {
		return nil, translate(err)
	}
	a.UpdatedAt = fromMS(at)
	if err := json.Unmarshal([]byte(sum), &a.Summary); err != nil {
		return nil, fmt.Errorf("payment account summary: %w", err)
	}
	return &a, nil
}

// Account implements payment.AccountStore.
func (s *PaymentAccountStore) Account(ctx context.Context, merchantID int64, provider string) (*payment.StoredAccount, error) {
	return scanAccount(s.DB.QueryRow(ctx, `SELECT `+accountCols+` FROM payment_accounts WHERE merchant_id = ? AND provider = ?`, merchantID, provider))
}

// Accounts implements payment.AccountStore.
func (s *PaymentAccountStore) Accounts(ctx context.Context, merchantID int64) ([]payment.StoredAccount, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+accountCols+` FROM payment_accounts WHERE merchant_id = ? ORDER BY provider`, merchantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []payment.StoredAccount
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// PendingIntents implements payment.Store: real vendors' pending intents.
func (s *OrderStore) PendingIntents(ctx context.Context, from, to time.Time, limit int) ([]payment.Intent, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+intentCols+` FROM payments WHERE status = 'pending' AND provider <> 'dev' AND created_at >= ? AND created_at <= ? ORDER BY created_at LIMIT ?`,
		ms(from), ms(to), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []payment.Intent
	for rows.Next() {
		in, err := scanIntent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *in)
	}
	return out, rows.Err()
}

// OrderPendingIntents implements payment.Store: the order's pending intents
// at real vendors.
func (s *OrderStore) OrderPendingIntents(ctx context.Context, merchantID, orderID int64) ([]payment.Intent, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+intentCols+` FROM payments WHERE order_id = ? AND merchant_id = ? AND status = 'pending' AND provider <> 'dev' ORDER BY id`,
		orderID, merchantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []payment.Intent
	for rows.Next() {
		in, err := scanIntent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *in)
	}
	return out, rows.Err()
}

// CloseIntent implements payment.Store.
func (s *OrderStore) CloseIntent(ctx context.Context, id int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE payments SET status = 'closed' WHERE id = ? AND status = 'pending'`, id)
		return err
	})
}

const refundCols = `r.id, r.merchant_id, r.order_id, r.payment_id, r.provider, r.refund_no, p.intent, r.amount_fen, p.amount_fen,
	r.reason, r.status, r.actor, r.provider_ref, r.created_at, r.done_at, r.attempt, COALESCE(rp.refund_no, ''), r.retry_at, COALESCE(rn.refund_no, '')
	FROM refunds r JOIN payments p ON p.id = r.payment_id LEFT JOIN refunds rp ON rp.id = r.retry_of LEFT JOIN refunds rn ON rn.retry_of = r.id`

func scanRefund(row interface{ Scan(...any) error }) (*payment.Refund, error) {
	var rf payment.Refund
	var created int64
	var done, retryAt sql.NullInt64
	if err := row.Scan(&rf.ID, &rf.MerchantID, &rf.OrderID, &rf.PaymentID, &rf.Provider, &rf.RefundNo, &rf.Intent, &rf.AmountFen, &rf.PaidFen,
		&rf.Reason, &rf.Status, &rf.Actor, &rf.ProviderRef, &created, &done, &rf.Attempt, &rf.RetryOf, &retryAt, &rf.RetriedBy); err != nil {
		return nil, translate(err)
	}
	rf.CreatedAt, rf.DoneAt, rf.RetryAt = fromMS(created), nullMS(done), nullMS(retryAt)
	return &rf, nil
}

func listRefunds(ctx context.Context, q func(ctx context.Context, query string, args ...any) (*sql.Rows, error), query string, args ...any) ([]payment.Refund, error) {
	rows, err := q(ctx, `SELECT `+refundCols+` `+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []payment.Refund{}
	for rows.Next() {
		rf, err := scanRefund(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *rf)
	}
	return out, rows.Err()
}

// Refunds implements payment.Store.
func (s *OrderStore) Refunds(ctx context.Context, merchantID, orderID int64) ([]payment.Refund, error) {
	return listRefunds(ctx, s.DB.Query, `WHERE r.merchant_id = ? AND r.order_id = ? ORDER BY r.id`, merchantID, orderID)
}

// PendingRefunds implements payment.Store.
func (s *OrderStore) PendingRefunds(ctx context.Context, before time.Time, limit int) ([]payment.Refund, error) {
	return listRefunds(ctx, s.DB.Query, `WHERE r.status = 'pending' AND r.created_at <= ? ORDER BY r.created_at LIMIT ?`, ms(before), limit)
}

// paidIntent is the order's paid intent (locked) and what is already
// refunded or being refunded from it.
func paidIntent(ctx context.Context, tx *Tx, orderID int64) (in *payment.Intent, committed int64, err error) {
	in, err = scanIntent(tx.QueryRow(ctx, `SELECT `+intentCols+` FROM payments WHERE order_id = ? AND status = 'paid' ORDER BY id DESC LIMIT 1`+tx.db.forUpdate(), orderID))
	if err != nil {
		return nil, 0, err
	}
	err = tx.QueryRow(ctx, `SELECT COALESCE(SUM(amount_fen), 0) FROM refunds WHERE payment_id = ? AND status IN ('pending', 'succeeded')`, in.ID).Scan(&committed)
	return in, committed, err
}

// refundRemainder refunds what is left of a cancelled paid order: the dev
// provider moved no money, so its refund is done at once (and counted in
// the order's refunded amount); a real vendor's refund is recorded pending
// and counted when the vendor confirms it (app sends it after commit).
func refundRemainder(ctx context.Context, tx *Tx, merchantID, orderID, total int64) (int64, error) {
	in, committed, err := paidIntent(ctx, tx, orderID)
	if err != nil {
		if err := absentAs(err, nil); err != nil {
			return 0, err // an outage, not an order without intents
		}
		return total, nil // paid before intents were kept per provider: the old rule
	}
	rem := in.AmountFen - committed
	if rem <= 0 {
		return 0, nil
	}
	status, done := "pending", sql.NullInt64{}
	if in.Provider == "dev" {
		status, done = "succeeded", sql.NullInt64{Int64: ms(tx.Now), Valid: true}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO refunds (merchant_id, order_id, payment_id, provider, refund_no, amount_fen, reason, status, idem_key, actor, created_at, done_at)
		VALUES (?, ?, ?, ?, ?, ?, '订单取消 order cancelled', ?, ?, 'order.cancel', ?, ?)`,
		merchantID, orderID, in.ID, in.Provider, payment.NewRefundNo(), rem, status, "cancel:"+strconv.FormatInt(orderID, 10), ms(tx.Now), done); err != nil {
		return 0, err
	}
	if status == "pending" {
		return 0, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE payments SET status = 'refunded' WHERE id = ?`, in.ID); err != nil {
		return 0, err
	}
	return rem, nil
}

// CreateRefund implements payment.Store: one transaction checks the order,
// the amount left to refund, records the refund pending and audits it.
func (s *OrderStore) CreateRefund(ctx context.Context, rf *payment.Refund, idemKey string) (bool, error) {
	created := false
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		var err error
		created, err = createRefundTx(ctx, tx, rf, idemKey)
		return err
	})
	return created, err
}

// createRefundTx is CreateRefund inside a caller's transaction (an
// after-sales approval records its refund with its decision).
func createRefundTx(ctx context.Context, tx *Tx, rf *payment.Refund, idemKey string) (created bool, err error) {
	if old, err := scanRefund(tx.QueryRow(ctx, `SELECT `+refundCols+` WHERE r.merchant_id = ? AND r.idem_key = ?`, rf.MerchantID, idemKey)); err == nil {
		if old.OrderID != rf.OrderID || old.AmountFen != rf.AmountFen {
			return false, order.ErrIdempotencyUsed
		}
		*rf = *old
		return false, nil
	}
	var status, number string
	if err := tx.QueryRow(ctx, `SELECT status, number FROM orders WHERE merchant_id = ? AND id = ?`+tx.db.forUpdate(), rf.MerchantID, rf.OrderID).Scan(&status, &number); err != nil {
		return false, translate(err)
	}
	switch order.Status(status) {
	case order.Paid, order.Ready, order.Shipped, order.Completed:
	default:
		return false, payment.ErrNotRefundable
	}
	in, committed, err := paidIntent(ctx, tx, rf.OrderID)
	if err != nil {
		return false, absentAs(err, payment.ErrNotRefundable)
	}
	if committed+rf.AmountFen > in.AmountFen {
		return false, payment.ErrRefundAmount
	}
	rf.PaymentID, rf.Provider, rf.Intent, rf.PaidFen, rf.Status, rf.CreatedAt = in.ID, in.Provider, in.Intent, in.AmountFen, "pending", tx.Now
	if rf.ID, err = tx.InsertID(ctx, `INSERT INTO refunds (merchant_id, order_id, payment_id, provider, refund_no, amount_fen, reason, status, idem_key, actor, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
		rf.MerchantID, rf.OrderID, in.ID, in.Provider, rf.RefundNo, rf.AmountFen, rf.Reason, idemKey, rf.Actor, ms(tx.Now)); err != nil {
		return false, err
	}
	created = true
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (merchant_id, actor, action, object, detail, at) VALUES (?, ?, 'order.refund', ?, ?, ?)`,
		rf.MerchantID, rf.Actor, "order:"+number, fmt.Sprintf("refund_no=%s amount_fen=%d provider=%s reason=%s", rf.RefundNo, rf.AmountFen, in.Provider, rf.Reason), ms(tx.Now))
	return created, err
}

// ApplyRefund implements payment.Store.
func (s *OrderStore) ApplyRefund(ctx context.Context, n *payment.Notification, provider string) (*payment.Refund, error) {
	var out *payment.Refund
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO payment_notifications (provider, nonce, received_at) VALUES (?, ?, ?)`, provider, n.Nonce, ms(tx.Now)); err != nil {
			if isUnique(err, "payment_notifications", "nonce", "") {
				return payment.ErrReplayed
			}
			return err
		}
		rf, err := scanRefund(tx.QueryRow(ctx, `SELECT `+refundCols+` WHERE r.refund_no = ? AND r.provider = ?`+tx.db.forUpdateOf("r"), n.RefundNo, provider))
		if err != nil {
			return err
		}
		switch {
		case n.MerchantID != 0 && n.MerchantID != rf.MerchantID:
			return payment.ErrForeign
		case rf.Status != "pending":
			return payment.ErrReplayed
		case n.Intent != "" && n.Intent != rf.Intent:
			return payment.ErrAmount
		case n.AmountFen != rf.AmountFen && !(n.AmountFen == 0 && n.RefundedTotalFen > 0):
			return payment.ErrAmount
		case n.Status != "succeeded" && n.Status != "failed":
			return payment.ErrBadCallback
		}
		if n.AmountFen == 0 {
			// The vendor states the payment's refunded total instead of
			// this refund's amount (Alipay): it must cover the refunds
			// already counted plus this one, and no more than was paid.
			var done int64
			if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(amount_fen), 0) FROM refunds WHERE payment_id = ? AND status = 'succeeded'`, rf.PaymentID).Scan(&done); err != nil {
				return err
			}
			if n.RefundedTotalFen < done+rf.AmountFen || n.RefundedTotalFen > rf.PaidFen {
				return payment.ErrAmount
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE refunds SET status = ?, provider_ref = ?, done_at = ? WHERE id = ?`, n.Status, n.ProviderRef, ms(tx.Now), rf.ID); err != nil {
			return err
		}
		if n.Status == "failed" && rf.Attempt < payment.MaxAutoAttempts {
			// The leader tries again later (payment.RetryBackoff).
			if _, err := tx.Exec(ctx, `UPDATE refunds SET retry_at = ? WHERE id = ?`, ms(tx.Now.Add(payment.RetryBackoff(rf.Attempt))), rf.ID); err != nil {
				return err
			}
		}
		if err := refundDoneForAftersale(ctx, tx, rf, n.Status); err != nil {
			return err
		}
		if n.Status == "succeeded" {
			count := func() error {
				_, err := tx.Exec(ctx, `UPDATE orders SET refunded_fen = refunded_fen + ? WHERE id = ?`, rf.AmountFen, rf.OrderID)
				return err
			}
			if rf.Actor == autoRefundActor {
				count = func() error { return countTooLateRefund(ctx, tx, rf.OrderID, rf.AmountFen) }
			}
			if err := count(); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE payments SET status = 'refunded' WHERE id = ? AND amount_fen <= (SELECT COALESCE(SUM(amount_fen), 0) FROM refunds WHERE payment_id = ? AND status = 'succeeded')`,
				rf.PaymentID, rf.PaymentID); err != nil {
				return err
			}
		}
		out, err = scanRefund(tx.QueryRow(ctx, `SELECT `+refundCols+` WHERE r.id = ?`, rf.ID))
		return err
	})
	return out, err
}

// forUpdateOf locks only the named table's rows of a join (PostgreSQL).
func (db *DB) forUpdateOf(alias string) string {
	if db.Dialect == Postgres {
		return " FOR UPDATE OF " + alias
	}
	return ""
}
