package sqldb

// An order's payment intents (payment.Store on OrderStore): created, looked
// up, paid by a provider's notification, and money that came too late
// refunded by itself.

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
)

// CreateIntent implements payment.Store.
func (s *OrderStore) CreateIntent(ctx context.Context, in *payment.Intent) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) (err error) {
		in.CreatedAt, in.Status = tx.Now, "pending"
		in.ID, err = tx.InsertID(ctx, `INSERT INTO payments (merchant_id, order_id, provider, method, intent, amount_fen, status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)`,
			in.MerchantID, in.OrderID, in.Provider, in.Method, in.Intent, in.AmountFen, ms(tx.Now))
		return err
	})
}

const intentCols = `id, merchant_id, order_id, provider, method, intent, amount_fen, status, provider_ref, created_at, paid_at`

func scanIntent(row interface{ Scan(...any) error }) (*payment.Intent, error) {
	var in payment.Intent
	var created int64
	var paid sql.NullInt64
	if err := row.Scan(&in.ID, &in.MerchantID, &in.OrderID, &in.Provider, &in.Method, &in.Intent, &in.AmountFen, &in.Status, &in.ProviderRef, &created, &paid); err != nil {
		return nil, translate(err)
	}
	in.CreatedAt, in.PaidAt = fromMS(created), nullMS(paid)
	return &in, nil
}

func (s *OrderStore) IntentByID(ctx context.Context, intent string) (*payment.Intent, error) {
	return scanIntent(s.DB.QueryRow(ctx, `SELECT `+intentCols+` FROM payments WHERE intent = ?`, intent))
}

func (s *OrderStore) PendingIntent(ctx context.Context, merchantID, orderID int64, provider, method string) (*payment.Intent, error) {
	return scanIntent(s.DB.QueryRow(ctx, `SELECT `+intentCols+` FROM payments WHERE merchant_id = ? AND order_id = ? AND provider = ? AND method = ? AND status = 'pending' ORDER BY id DESC LIMIT 1`,
		merchantID, orderID, provider, method))
}

// ApplyPaid implements payment.Store.
func (s *OrderStore) ApplyPaid(ctx context.Context, n *payment.Notification, provider string, now time.Time) (*order.Order, error) {
	var out *order.Order
	tooLate := false
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		tooLate, out = false, nil // a retried transaction starts over
		if _, err := tx.Exec(ctx, `INSERT INTO payment_notifications (provider, nonce, received_at) VALUES (?, ?, ?)`, provider, n.Nonce, ms(tx.Now)); err != nil {
			if isUnique(err, "payment_notifications", "nonce", "") {
				return payment.ErrReplayed
			}
			return err
		}
		in, err := scanIntent(tx.QueryRow(ctx, `SELECT `+intentCols+` FROM payments WHERE intent = ? AND provider = ?`+tx.db.forUpdate(), n.Intent, provider))
		if err != nil {
			return err
		}
		if n.MerchantID != 0 && n.MerchantID != in.MerchantID {
			return payment.ErrForeign // a vendor account's callback names another merchant's intent
		}
		if in.Status == "paid" || in.Status == "refunded" {
			// Applied before (and maybe refunded since): a new notification
			// of the same payment — Alipay may send one under a new
			// notify_id — changes nothing and is acknowledged. Taking a
			// refunded payment for new money recorded a second full refund.
			return payment.ErrReplayed
		}
		if n.AmountFen != in.AmountFen {
			return payment.ErrAmount
		}
		var status, number string
		var total, customerID int64
		if err := tx.QueryRow(ctx, `SELECT status, total_fen, number, customer_id FROM orders WHERE id = ?`+tx.db.forUpdate(), in.OrderID).Scan(&status, &total, &number, &customerID); err != nil {
			return err
		}
		if total != in.AmountFen {
			return payment.ErrAmount
		}
		if _, err := tx.Exec(ctx, `UPDATE payments SET status = 'paid', provider_ref = ?, paid_at = ? WHERE id = ?`, n.ProviderRef, ms(tx.Now), in.ID); err != nil {
			return err
		}
		if order.Status(status) != order.PendingPayment {
			// The money is taken but the order was cancelled or expired
			// (its stock may be sold again) or another payment paid it:
			// keep the payment and refund it in full, in this transaction.
			tooLate = true
			if err := refundTooLate(ctx, tx, in, number, customerID); err != nil {
				return err
			}
			out, err = getOrder(ctx, tx.QueryRow, tx.Query, in.MerchantID, in.OrderID)
			return err
		}
		out, err = transition(ctx, tx, in.MerchantID, in.OrderID, order.Paid)
		return err
	})
	if err != nil {
		return nil, err
	}
	if tooLate {
		return out, payment.ErrPaidTooLate
	}
	return out, nil
}

// refundTooLate records the full refund of a payment that arrived for an
// order that no longer takes it, audits it and tells the buyer in their
// inbox. The refund's idempotency key is the intent, so however often the
// vendor calls back (or the reconciler asks), the payment is refunded once;
// the app sends it to the vendor after commit, and the reconciler sends a
// pending refund again after a restart. The dev provider moved no money:
// its refund is done at once.
func refundTooLate(ctx context.Context, tx *Tx, in *payment.Intent, number string, customerID int64) error {
	status, done := "pending", sql.NullInt64{}
	if in.Provider == "dev" {
		status, done = "succeeded", sql.NullInt64{Int64: ms(tx.Now), Valid: true}
	}
	refundNo := payment.NewRefundNo()
	if _, err := tx.Exec(ctx, `INSERT INTO refunds (merchant_id, order_id, payment_id, provider, refund_no, amount_fen, reason, status, idem_key, actor, created_at, done_at)
		VALUES (?, ?, ?, ?, ?, ?, '订单已取消或超时，自动退款 paid after the order was closed', ?, ?, 'payment.auto_refund', ?, ?)`,
		in.MerchantID, in.OrderID, in.ID, in.Provider, refundNo, in.AmountFen, status, "too-late:"+in.Intent, ms(tx.Now), done); err != nil {
		return err
	}
	if status == "succeeded" {
		if err := countTooLateRefund(ctx, tx, in.OrderID, in.AmountFen); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE payments SET status = 'refunded' WHERE id = ?`, in.ID); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (merchant_id, actor, action, object, detail, at) VALUES (?, ?, 'payment.auto_refund', ?, ?, ?)`,
		in.MerchantID, "payment:"+in.Provider, "order:"+number,
		fmt.Sprintf("intent=%s refund_no=%s amount_fen=%d: paid after the order stopped taking payments", in.Intent, refundNo, in.AmountFen), ms(tx.Now)); err != nil {
		return err
	}
	yuan := fmt.Sprintf("%d.%02d", in.AmountFen/100, in.AmountFen%100)
	_, err := tx.Exec(ctx, `INSERT INTO inbox (merchant_id, customer_id, kind, room_id, title, body, body_en, url, dedupe_key, created_at)
		VALUES (?, ?, 'refund', 0, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id, dedupe_key) DO NOTHING`,
		in.MerchantID, customerID, "订单 "+number+" 的付款将原路退回",
		"这笔 ¥"+yuan+" 的付款到账时，订单已取消、超时或已由另一笔付款支付；款项已自动原路退回，通常 1–3 个工作日到账。",
		"Your payment of ¥"+yuan+" arrived after order "+number+" was closed or already paid; it is refunded to where it came from automatically (usually 1–3 working days).",
		"/orders/"+strconv.FormatInt(in.OrderID, 10), "refund:"+in.Intent, ms(tx.Now))
	return err
}

// autoRefundActor marks the refunds refundTooLate records.
const autoRefundActor = "payment.auto_refund"

// countTooLateRefund adds a late payment's refund to the order's refunded
// total only when that payment was the order's only money: the order was
// closed unpaid (cancelled or expired) and nothing else was refunded. The
// second payment of an order another payment paid is refunded apart from
// the order's own refunds (counting it would break refunded ≤ total and
// show a paid order as refunded).
func countTooLateRefund(ctx context.Context, tx *Tx, orderID, amount int64) error {
	_, err := tx.Exec(ctx, `UPDATE orders SET refunded_fen = refunded_fen + ? WHERE id = ? AND status IN ('cancelled', 'expired') AND paid_at IS NULL AND refunded_fen + ? <= total_fen`,
		amount, orderID, amount)
	return err
}
