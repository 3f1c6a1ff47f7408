package sqldb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/payment"
)

// RetryRefund implements payment.Store. The failed refund's row is locked
// first, so the leader's retry and staff's button serialize on it; the
// second finds the first's retry and returns it (the unique retry_of key
// backs this up).
func (s *OrderStore) RetryRefund(ctx context.Context, merchantID, orderID int64, refundNo, actor string) (*payment.Refund, bool, error) {
	var out *payment.Refund
	created := false
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		old, err := scanRefund(tx.QueryRow(ctx, `SELECT `+refundCols+` WHERE r.merchant_id = ? AND r.order_id = ? AND r.refund_no = ?`+tx.db.forUpdateOf("r"), merchantID, orderID, refundNo))
		if errors.Is(err, apperr.ErrNotFound) {
			return payment.ErrNotRetryable
		}
		if err != nil {
			return err
		}
		// Asked anew after the lock: on PostgreSQL the locking read re-checks
		// the failed row but not its joins, so a retry a racing retrier
		// committed meanwhile is seen only by a fresh statement.
		out, err = scanRefund(tx.QueryRow(ctx, `SELECT `+refundCols+` WHERE r.retry_of = ?`, old.ID))
		if err == nil {
			return nil
		}
		if !errors.Is(err, apperr.ErrNotFound) {
			return err
		}
		if old.Status != "failed" {
			return payment.ErrNotRetryable
		}
		var paid, committed int64
		if err := tx.QueryRow(ctx, `SELECT amount_fen FROM payments WHERE id = ?`+tx.db.forUpdate(), old.PaymentID).Scan(&paid); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(amount_fen), 0) FROM refunds WHERE payment_id = ? AND status IN ('pending', 'succeeded')`, old.PaymentID).Scan(&committed); err != nil {
			return err
		}
		if committed+old.AmountFen > paid {
			return payment.ErrRefundAmount
		}
		// The original actor stays on the refund (it decides how a
		// confirmed refund is counted: autoRefundActor); who retried is in
		// the audit log.
		no := payment.NewRefundNo()
		id, err := tx.InsertID(ctx, `INSERT INTO refunds (merchant_id, order_id, payment_id, provider, refund_no, amount_fen, reason, status, idem_key, actor, created_at, attempt, retry_of)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`,
			merchantID, orderID, old.PaymentID, old.Provider, no, old.AmountFen, old.Reason, fmt.Sprintf("retry:%d", old.ID), old.Actor, ms(tx.Now), old.Attempt+1, old.ID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE refunds SET retry_at = NULL WHERE id = ?`, old.ID); err != nil {
			return err
		}
		// The after-sales request this refund pays waits for the retry.
		if _, err := tx.Exec(ctx, `UPDATE aftersales SET refund_no = ?, status = 'refunding' WHERE merchant_id = ? AND refund_no = ? AND status = 'refund_failed'`,
			no, merchantID, old.RefundNo); err != nil {
			return err
		}
		var number string
		if err := tx.QueryRow(ctx, `SELECT number FROM orders WHERE id = ?`, orderID).Scan(&number); err != nil {
			return err
		}
		if err := auditOrder(ctx, tx, merchantID, actor, "order.refund_retry", number,
			fmt.Sprintf("refund_no=%s retries=%s amount_fen=%d attempt=%d", no, old.RefundNo, old.AmountFen, old.Attempt+1)); err != nil {
			return err
		}
		created = true
		out, err = scanRefund(tx.QueryRow(ctx, `SELECT `+refundCols+` WHERE r.id = ?`, id))
		return err
	})
	if err != nil && isUnique(err, "refunds_retry_of", "retry_of") {
		// A racing retrier committed between our read and insert (a
		// PostgreSQL re-check sees the locked row anew, not its joins).
		list, lerr := listRefunds(ctx, s.DB.Query, `WHERE r.merchant_id = ? AND r.order_id = ? AND rp.refund_no = ?`, merchantID, orderID, refundNo)
		if lerr == nil && len(list) == 1 {
			return &list[0], false, nil
		}
	}
	return out, created, err
}

// DueRetries implements payment.Store.
func (s *OrderStore) DueRetries(ctx context.Context, now time.Time, limit int) ([]payment.Refund, error) {
	return listRefunds(ctx, s.DB.Query, `WHERE r.status = 'failed' AND r.retry_at IS NOT NULL AND r.retry_at <= ? AND rn.id IS NULL ORDER BY r.retry_at LIMIT ?`, ms(now), limit)
}
