package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/aftersales"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
)

// AftersaleStore keeps after-sales requests. Each write is one transaction
// with its refund row, stock effect, audit entry and the customer's inbox
// message.
type AftersaleStore struct{ DB *DB }

var _ aftersales.Store = (*AftersaleStore)(nil)

const aftersaleCols = `a.id, a.merchant_id, a.order_id, o.number, a.customer_id, a.store_id, a.kind, a.reason, a.note, a.photos, a.lines, a.amount_fen,
	a.status, a.before_handover, a.review_by, a.decided_by, a.decision_note, a.decided_at, a.refund_no, a.refunded_at, a.stock, a.created_at
	FROM aftersales a JOIN orders o ON o.id = a.order_id`

func scanAftersale(row interface{ Scan(...any) error }) (*aftersales.Request, error) {
	var r aftersales.Request
	var photos, lines string
	var before int64
	var review, created int64
	var decided, refunded sql.NullInt64
	if err := row.Scan(&r.ID, &r.MerchantID, &r.OrderID, &r.OrderNumber, &r.CustomerID, &r.StoreID, &r.Kind, &r.Reason, &r.Note, &photos, &lines, &r.AmountFen,
		&r.Status, &before, &review, &r.DecidedBy, &r.DecisionNote, &decided, &r.RefundNo, &refunded, &r.Stock, &created); err != nil {
		return nil, translate(err)
	}
	r.Photos, r.Lines = []string{}, []aftersales.Line{}
	json.Unmarshal([]byte(photos), &r.Photos)
	json.Unmarshal([]byte(lines), &r.Lines)
	r.BeforeHandover = before != 0
	r.ReviewBy, r.CreatedAt = fromMS(review), fromMS(created)
	r.DecidedAt, r.RefundedAt = nullMS(decided), nullMS(refunded)
	r.StatusLabel = r.Status.Label()
	return &r, nil
}

func getAftersale(ctx context.Context, q rowFn, merchantID, id int64, lock string) (*aftersales.Request, error) {
	return scanAftersale(q(ctx, `SELECT `+aftersaleCols+` WHERE a.merchant_id = ? AND a.id = ?`+lock, merchantID, id))
}

// Get implements aftersales.Store.
func (s *AftersaleStore) Get(ctx context.Context, merchantID, id int64) (*aftersales.Request, error) {
	return getAftersale(ctx, s.DB.QueryRow, merchantID, id, "")
}

// List implements aftersales.Store: newest first.
func (s *AftersaleStore) List(ctx context.Context, f aftersales.Filter) ([]aftersales.Request, error) {
	q, args := `SELECT `+aftersaleCols+` WHERE a.merchant_id = ?`, []any{f.MerchantID}
	if f.CustomerID != 0 {
		q, args = q+` AND a.customer_id = ?`, append(args, f.CustomerID)
	}
	if f.OrderID != 0 {
		q, args = q+` AND a.order_id = ?`, append(args, f.OrderID)
	}
	if f.StoreID != 0 {
		q, args = q+` AND a.store_id = ?`, append(args, f.StoreID)
	}
	if f.Status != "" {
		q, args = q+` AND a.status = ?`, append(args, string(f.Status))
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 100
	}
	return s.list(ctx, q+` ORDER BY a.id DESC LIMIT ?`, append(args, f.Limit)...)
}

func (s *AftersaleStore) list(ctx context.Context, q string, args ...any) ([]aftersales.Request, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []aftersales.Request{}
	for rows.Next() {
		r, err := scanAftersale(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// Lapsed implements aftersales.Store.
func (s *AftersaleStore) Lapsed(ctx context.Context, now time.Time, limit int) ([]aftersales.Request, error) {
	return s.list(ctx, `SELECT `+aftersaleCols+` WHERE a.status = 'requested' AND a.review_by <= ? ORDER BY a.review_by LIMIT ?`, ms(now), limit)
}

// orderLine is a line of the order with its product's storage class.
type orderLine struct {
	sku, product, qty, unit int64
	storage                 catalog.StorageClass
}

func orderLinesTx(ctx context.Context, tx *Tx, orderID int64) (map[int64]orderLine, error) {
	rows, err := tx.Query(ctx, `SELECT l.sku_id, l.product_id, l.quantity, l.unit_fen, COALESCE(p.storage, 'chilled') FROM order_lines l
		LEFT JOIN products p ON p.id = l.product_id WHERE l.order_id = ?`, orderID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]orderLine{}
	for rows.Next() {
		var l orderLine
		var st string
		if err := rows.Scan(&l.sku, &l.product, &l.qty, &l.unit, &st); err != nil {
			return nil, err
		}
		l.storage = catalog.StorageClass(st)
		out[l.sku] = l
	}
	return out, rows.Err()
}

// refundable is what is left to refund of the order: its paid intent less
// pending and succeeded refunds (orders paid before intents were kept per
// provider: total less refunded).
func refundable(ctx context.Context, tx *Tx, o *order.Order) (int64, error) {
	in, committed, err := paidIntent(ctx, tx, o.ID)
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, apperr.ErrNotFound) {
		return o.TotalFen - o.RefundedFen, nil
	}
	if err != nil {
		return 0, translate(err)
	}
	return in.AmountFen - committed, nil
}

// Create implements aftersales.Store.
// It is long because it is one transaction: the order's checks, the
// request, its audit entry and the buyer's inbox message, in that order.
func (s *AftersaleStore) Create(ctx context.Context, r *aftersales.Request, ask aftersales.Ask, now time.Time) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		o, err := scanOrder(tx.QueryRow(ctx, `SELECT `+orderCols+` FROM orders WHERE merchant_id = ? AND id = ?`+tx.db.forUpdate(), r.MerchantID, r.OrderID))
		if err != nil {
			return err
		}
		if o.CustomerID != r.CustomerID {
			return apperr.ErrNotFound
		}
		var open int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM aftersales WHERE order_id = ? AND status IN ('requested', 'refunding')`, o.ID).Scan(&open); err != nil {
			return err
		}
		if open > 0 {
			return aftersales.ErrOpen
		}
		left, err := refundable(ctx, tx, o)
		if err != nil {
			return err
		}
		lines, err := orderLinesTx(ctx, tx, o.ID)
		if err != nil {
			return err
		}
		reason, _ := aftersales.ReasonByCode(ask.Reason)
		switch o.Status {
		case order.Paid, order.Ready:
			// Not handed over: the food is still in our cold chain, so
			// the only after-sale is cancelling it, refunded in full.
			if ask.Kind != aftersales.RefundOnly || ask.AmountFen != left {
				return aftersales.ErrBeforeHandover
			}
			r.BeforeHandover = true
			ask.Lines = nil
		case order.Shipped, order.Completed:
			if reason.BeforeHandover {
				return aftersales.ErrReason.With("该原因只适用于尚未取货/发货的订单", "That reason is only for orders not handed over yet.")
			}
			handed := o.CompletedAt
			if handed == nil {
				handed = o.ShippedAt
			}
			check := ask.Lines
			if len(check) == 0 {
				for _, l := range lines {
					check = append(check, aftersales.Line{SKUID: l.sku, Quantity: l.qty})
				}
			}
			var linesFen int64
			for _, l := range check {
				ol, ok := lines[l.SKUID]
				if !ok || l.Quantity > ol.qty {
					return aftersales.ErrLines
				}
				if handed != nil && now.After(handed.Add(aftersales.Window(ol.storage))) {
					return aftersales.ErrWindow.With(
						fmt.Sprintf("已超过售后时限（%s 商品交付后 %d 小时内）", storageZH(ol.storage), int(aftersales.Window(ol.storage).Hours())),
						fmt.Sprintf("Too late: %s items can be claimed within %d hours of handover.", ol.storage, int(aftersales.Window(ol.storage).Hours())))
				}
				linesFen += ol.unit * l.Quantity
			}
			if len(ask.Lines) > 0 && ask.AmountFen > linesFen {
				return aftersales.ErrAmount.With("退款金额不能超过所选商品的金额", "The amount is more than the chosen items cost.")
			}
		default:
			return aftersales.ErrNotEligible
		}
		if ask.AmountFen > left {
			return aftersales.ErrAmount
		}
		r.StoreID, r.Kind, r.Reason, r.Note, r.AmountFen = o.StoreID, ask.Kind, ask.Reason, ask.Note, ask.AmountFen
		r.Photos, r.Lines = append([]string{}, ask.Photos...), append([]aftersales.Line{}, ask.Lines...)
		r.Status, r.StatusLabel, r.CreatedAt, r.ReviewBy, r.OrderNumber = aftersales.Requested, aftersales.Requested.Label(), now, now.Add(aftersales.ReviewTime), o.Number
		photos, _ := json.Marshal(r.Photos)
		ls, _ := json.Marshal(r.Lines)
		before := 0
		if r.BeforeHandover {
			before = 1
		}
		if r.ID, err = tx.InsertID(ctx, `INSERT INTO aftersales (merchant_id, order_id, customer_id, store_id, kind, reason, note, photos, lines, amount_fen, status, before_handover, review_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?, ?)`,
			r.MerchantID, r.OrderID, r.CustomerID, r.StoreID, string(r.Kind), r.Reason, r.Note, string(photos), string(ls), r.AmountFen, before, ms(r.ReviewBy), ms(now)); err != nil {
			return err
		}
		if err := auditTx(ctx, tx, r.MerchantID, "buyer", "aftersale.request", r,
			fmt.Sprintf("kind=%s reason=%s amount_fen=%d photos=%d", r.Kind, r.Reason, r.AmountFen, len(r.Photos))); err != nil {
			return err
		}
		return inboxTx(ctx, tx, r, "requested", "售后申请已提交", "Request received",
			fmt.Sprintf("订单 %s 的售后申请已提交，门店将在 %s 前处理", o.Number, shanghaiHM(r.ReviewBy)),
			fmt.Sprintf("Your request for order %s was received; the store answers by %s (China time).", o.Number, shanghaiHM(r.ReviewBy)))
	})
}

// Decide implements aftersales.Store.
// It is long because it is one transaction: a rejection, or the refund
// with the approval, each with its audit entry and the buyer's message.
func (s *AftersaleStore) Decide(ctx context.Context, d aftersales.Decision) (*aftersales.Request, error) {
	var out *aftersales.Request
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		r, err := getAftersale(ctx, tx.QueryRow, d.MerchantID, d.ID, tx.db.forUpdateOf("a"))
		if err != nil {
			return err
		}
		if d.StoreID != 0 && r.StoreID != d.StoreID {
			return apperr.ErrNotFound
		}
		if r.Status != aftersales.Requested {
			return aftersales.ErrNotOpen
		}
		now := ms(tx.Now)
		if !d.Approve {
			if _, err := tx.Exec(ctx, `UPDATE aftersales SET status = 'rejected', decided_by = ?, decision_note = ?, decided_at = ? WHERE id = ?`, d.Actor, d.Note, now, r.ID); err != nil {
				return err
			}
			r.Status, r.DecisionNote = aftersales.Rejected, d.Note
			if err := auditTx(ctx, tx, r.MerchantID, d.Actor, "aftersale.reject", r, "note="+d.Note); err != nil {
				return err
			}
			if err := inboxTx(ctx, tx, r, "rejected", "售后申请未通过", "Request declined",
				fmt.Sprintf("订单 %s 的售后申请未通过：%s", r.OrderNumber, d.Note), fmt.Sprintf("Your request for order %s was declined: %s", r.OrderNumber, d.Note)); err != nil {
				return err
			}
			out, err = getAftersale(ctx, tx.QueryRow, d.MerchantID, d.ID, "")
			return err
		}

		o, err := scanOrder(tx.QueryRow(ctx, `SELECT `+orderCols+` FROM orders WHERE merchant_id = ? AND id = ?`+tx.db.forUpdate(), r.MerchantID, r.OrderID))
		if err != nil {
			return err
		}
		// The one refund of this request: a retry, a second click or the
		// lapse job racing staff finds the same row by its key.
		rf := &payment.Refund{MerchantID: r.MerchantID, OrderID: r.OrderID, AmountFen: r.AmountFen, RefundNo: payment.NewRefundNo(),
			Reason: "售后 aftersale #" + strconv.FormatInt(r.ID, 10) + " " + r.Reason, Actor: d.Actor}
		if _, err := createRefundTx(ctx, tx, rf, "aftersale:"+strconv.FormatInt(r.ID, 10)); err != nil {
			return err
		}
		stock := "none"
		switch {
		case r.BeforeHandover && (o.Status == order.Paid || o.Status == order.Ready):
			// Cancel: the reserved units never left the store's cold
			// chain, so they go back on sale; the refund above covers the
			// whole order, so the cancel refunds nothing more.
			if _, err := applyMove(ctx, tx, order.Move{MerchantID: r.MerchantID, ID: r.OrderID, To: order.Cancelled,
				From: []order.Status{order.Paid, order.Ready}, Actor: d.Actor}); err != nil {
				return err
			}
			stock = "released"
		case r.Kind == aftersales.ReturnRefund:
			if stock, err = settleReturn(ctx, tx, r, d.Received); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE aftersales SET status = 'refunding', decided_by = ?, decision_note = ?, decided_at = ?, refund_no = ?, stock = ? WHERE id = ?`,
			d.Actor, d.Note, now, rf.RefundNo, stock, r.ID); err != nil {
			return err
		}
		if rf.Status == "succeeded" { // recorded and confirmed before (cannot happen for a fresh key; kept for the invariant)
			if err := refundDoneForAftersale(ctx, tx, rf, "succeeded"); err != nil {
				return err
			}
		}
		if err := auditTx(ctx, tx, r.MerchantID, d.Actor, "aftersale.approve", r,
			fmt.Sprintf("refund_no=%s amount_fen=%d stock=%s", rf.RefundNo, r.AmountFen, stock)); err != nil {
			return err
		}
		if err := inboxTx(ctx, tx, r, "approved", "售后申请已同意", "Request approved",
			fmt.Sprintf("订单 %s 的售后申请已同意，¥%s 正在原路退回", r.OrderNumber, yuanText(r.AmountFen)),
			fmt.Sprintf("Your request for order %s was approved; ¥%s is on its way back to how you paid.", r.OrderNumber, yuanText(r.AmountFen))); err != nil {
			return err
		}
		out, err = getAftersale(ctx, tx.QueryRow, d.MerchantID, d.ID, "")
		return err
	})
	return out, err
}

// settleReturn applies the stock rule to a return's units, lot by lot (the
// lots the order's units were handed over from, earliest expiry first):
// chilled and frozen food is written off, never resold; an ambient item
// goes back on sale only when staff say they have it back in hand (and its
// lot has not expired).
func settleReturn(ctx context.Context, tx *Tx, r *aftersales.Request, received bool) (string, error) {
	lines, err := orderLinesTx(ctx, tx, r.OrderID)
	if err != nil {
		return "", err
	}
	result := ""
	for _, l := range r.Lines {
		ol := lines[l.SKUID]
		rows, err := tx.Query(ctx, `SELECT a.store_id, a.lot_id, SUM(a.quantity), MIN(l.expires_at) FROM allocations a JOIN lots l ON l.id = a.lot_id
			WHERE a.order_id = ? AND l.sku_id = ? AND a.state = 'consumed' GROUP BY a.store_id, a.lot_id ORDER BY MIN(l.expires_at)`, r.OrderID, l.SKUID)
		if err != nil {
			return "", err
		}
		type part struct{ store, lot, qty, exp int64 }
		var parts []part
		for rows.Next() {
			var p part
			if err := rows.Scan(&p.store, &p.lot, &p.qty, &p.exp); err != nil {
				rows.Close()
				return "", err
			}
			parts = append(parts, p)
		}
		rows.Close()
		left := l.Quantity
		for _, p := range parts {
			if left == 0 {
				break
			}
			q := min(left, p.qty)
			left -= q
			action := "written_off"
			if received && !aftersales.Fresh(ol.storage) && p.exp > ms(tx.Now) {
				action = "restocked"
				if _, err := tx.Exec(ctx, `UPDATE stock SET on_hand = on_hand + ? WHERE store_id = ? AND lot_id = ?`, q, p.store, p.lot); err != nil {
					return "", err
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO stock_writeoffs (merchant_id, store_id, lot_id, sku_id, quantity, action, reason, aftersale_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				r.MerchantID, p.store, p.lot, l.SKUID, q, action, "return:"+r.Reason, r.ID, ms(tx.Now)); err != nil {
				return "", err
			}
			if result == "" || result == action {
				result = action
			} else {
				result = "mixed"
			}
		}
	}
	if result == "" {
		result = "none"
	}
	return result, nil
}

// refundDoneForAftersale finishes the request whose refund the vendor just
// confirmed (or refused), in the transaction that applies the vendor's
// answer: once, whichever of the answer, the callback or the reconciler
// gets there first.
func refundDoneForAftersale(ctx context.Context, tx *Tx, rf *payment.Refund, status string) error {
	if rf.RefundNo == "" {
		return nil
	}
	r, err := scanAftersale(tx.QueryRow(ctx, `SELECT `+aftersaleCols+` WHERE a.merchant_id = ? AND a.refund_no = ?`, rf.MerchantID, rf.RefundNo))
	if errors.Is(err, apperr.ErrNotFound) {
		return nil // not an after-sales refund
	}
	if err != nil {
		return err
	}
	if r.Status != aftersales.Refunding {
		return nil
	}
	if status != "succeeded" {
		if _, err := tx.Exec(ctx, `UPDATE aftersales SET status = 'refund_failed' WHERE id = ?`, r.ID); err != nil {
			return err
		}
		if err := auditTx(ctx, tx, r.MerchantID, "system", "aftersale.refund_failed", r, "refund_no="+rf.RefundNo); err != nil {
			return err
		}
		return inboxTx(ctx, tx, r, "refund_failed", "退款未成功", "Refund failed",
			fmt.Sprintf("订单 %s 的退款未成功，门店会联系您处理", r.OrderNumber), fmt.Sprintf("The refund for order %s did not go through; the store will contact you.", r.OrderNumber))
	}
	if _, err := tx.Exec(ctx, `UPDATE aftersales SET status = 'refunded', refunded_at = ? WHERE id = ?`, ms(tx.Now), r.ID); err != nil {
		return err
	}
	if err := auditTx(ctx, tx, r.MerchantID, "system", "aftersale.refunded", r, fmt.Sprintf("refund_no=%s amount_fen=%d", rf.RefundNo, r.AmountFen)); err != nil {
		return err
	}
	return inboxTx(ctx, tx, r, "refunded", "退款成功", "Refunded",
		fmt.Sprintf("订单 %s 已退款 ¥%s", r.OrderNumber, yuanText(r.AmountFen)), fmt.Sprintf("¥%s of order %s was refunded.", yuanText(r.AmountFen), r.OrderNumber))
}

// Withdraw implements aftersales.Store.
func (s *AftersaleStore) Withdraw(ctx context.Context, merchantID, customerID, id int64) (*aftersales.Request, error) {
	var out *aftersales.Request
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		r, err := getAftersale(ctx, tx.QueryRow, merchantID, id, tx.db.forUpdateOf("a"))
		if err != nil {
			return err
		}
		if r.CustomerID != customerID {
			return apperr.ErrNotFound
		}
		if r.Status != aftersales.Requested {
			return aftersales.ErrNotOpen
		}
		if _, err := tx.Exec(ctx, `UPDATE aftersales SET status = 'withdrawn', decided_by = 'buyer', decided_at = ? WHERE id = ?`, ms(tx.Now), r.ID); err != nil {
			return err
		}
		if err := auditTx(ctx, tx, merchantID, "buyer", "aftersale.withdraw", r, ""); err != nil {
			return err
		}
		if err := inboxTx(ctx, tx, r, "withdrawn", "售后申请已撤销", "Request withdrawn",
			fmt.Sprintf("您已撤销订单 %s 的售后申请", r.OrderNumber), fmt.Sprintf("You withdrew your request for order %s.", r.OrderNumber)); err != nil {
			return err
		}
		out, err = getAftersale(ctx, tx.QueryRow, merchantID, id, "")
		return err
	})
	return out, err
}

// Stats implements aftersales.Store: per product and lot since from, the
// units handed over, the after-sales requests about it (after handover;
// a cancel before pickup says nothing about the food) and those refunded.
// A request counts for the lots its lines' units came from (no lines: the
// whole order's), once per lot.
func (s *AftersaleStore) Stats(ctx context.Context, merchantID int64, from time.Time) ([]aftersales.Stats, error) {
	rows, err := s.DB.Query(ctx, `SELECT a.id, a.status, a.amount_fen, a.lines, l.id, l.code, l.sku_id, p.id, p.name, p.name_en
		FROM aftersales a JOIN allocations al ON al.order_id = a.order_id AND al.state = 'consumed'
		JOIN lots l ON l.id = al.lot_id JOIN skus k ON k.id = l.sku_id JOIN products p ON p.id = k.product_id
		WHERE a.merchant_id = ? AND a.created_at >= ? AND a.status <> 'withdrawn' AND a.before_handover = 0
		ORDER BY a.id, l.id`, merchantID, ms(from))
	if err != nil {
		return nil, err
	}
	type key struct{ product, lot int64 }
	byKey := map[key]*aftersales.Stats{}
	var order []key
	seen := map[[2]int64]bool{}
	for rows.Next() {
		var id, amount, lotID, skuID, productID int64
		var status, lines, code, name, nameEN string
		if err := rows.Scan(&id, &status, &amount, &lines, &lotID, &code, &skuID, &productID, &name, &nameEN); err != nil {
			rows.Close()
			return nil, err
		}
		var ls []aftersales.Line
		json.Unmarshal([]byte(lines), &ls)
		if len(ls) > 0 && !slices.ContainsFunc(ls, func(l aftersales.Line) bool { return l.SKUID == skuID }) {
			continue
		}
		if seen[[2]int64{id, lotID}] {
			continue
		}
		seen[[2]int64{id, lotID}] = true
		k := key{productID, lotID}
		st := byKey[k]
		if st == nil {
			st = &aftersales.Stats{ProductID: productID, ProductName: name, ProductNameEN: nameEN, LotCode: code}
			byKey[k] = st
			order = append(order, k)
		}
		st.Complaints++
		if status == string(aftersales.Refunded) {
			st.Refunded++
			st.RefundedFen += amount
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]aftersales.Stats, 0, len(order))
	for _, k := range order {
		st := byKey[k]
		if err := s.DB.QueryRow(ctx, `SELECT COALESCE(SUM(x.quantity), 0) FROM allocations x JOIN orders o ON o.id = x.order_id
			WHERE x.lot_id = ? AND x.state = 'consumed' AND o.merchant_id = ?`, k.lot, merchantID).Scan(&st.Sold); err != nil {
			return nil, err
		}
		out = append(out, *st)
	}
	slices.SortStableFunc(out, func(a, b aftersales.Stats) int { return int(b.Complaints - a.Complaints) })
	return out, nil
}

func auditTx(ctx context.Context, tx *Tx, merchantID int64, actor, action string, r *aftersales.Request, detail string) error {
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (merchant_id, actor, action, object, detail, at) VALUES (?, ?, ?, ?, ?, ?)`,
		merchantID, actor, action, "aftersale:"+strconv.FormatInt(r.ID, 10), "order="+r.OrderNumber+" "+detail, ms(tx.Now))
	return err
}

// inboxTx tells the customer, once per request and step.
func inboxTx(ctx context.Context, tx *Tx, r *aftersales.Request, step, title, titleEN, body, bodyEN string) error {
	_, err := tx.Exec(ctx, `INSERT INTO inbox (merchant_id, customer_id, kind, room_id, title, body, body_en, url, dedupe_key, created_at)
		VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id, dedupe_key) DO NOTHING`,
		r.MerchantID, r.CustomerID, "aftersale."+step, title+" "+titleEN, body, bodyEN, "/orders/"+strconv.FormatInt(r.OrderID, 10),
		fmt.Sprintf("aftersale:%d:%s", r.ID, step), ms(tx.Now))
	return err
}

func storageZH(s catalog.StorageClass) string {
	return map[catalog.StorageClass]string{catalog.Chilled: "冷藏", catalog.Frozen: "冷冻", catalog.Ambient: "常温"}[s]
}

func yuanText(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

func shanghaiHM(t time.Time) string { return t.In(cn.Shanghai).Format("01-02 15:04") }

// PickupWindowActor is who cancels a pickup order nobody collected.
const PickupWindowActor = "system:pickup-window"

// ExpirePickups cancels paid pickup orders nobody collected within their
// store's pickup window (from ready, else from paid), each in its own
// transaction with its full refund (recorded pending for a real vendor;
// the app sends it), its audit entry and the buyer's inbox message. A
// handover at the counter at the same moment wins or loses on the order's
// row lock; the loser changes nothing.
func (s *AftersaleStore) ExpirePickups(ctx context.Context, now time.Time, limit int) ([]order.Order, error) {
	rows, err := s.DB.Query(ctx, `SELECT o.merchant_id, o.id FROM orders o JOIN stores st ON st.id = o.store_id
		WHERE o.status IN ('paid', 'ready') AND o.fulfilment = 'pickup'
		AND COALESCE(o.ready_at, o.paid_at) + st.pickup_window_hours * 3600000 <= ? ORDER BY o.id LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, err
	}
	type key struct{ merchant, id int64 }
	var due []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.merchant, &k.id); err != nil {
			rows.Close()
			return nil, err
		}
		due = append(due, k)
	}
	rows.Close()
	out := []order.Order{}
	for _, k := range due {
		var done *order.Order
		err := s.DB.WriteTx(ctx, func(tx *Tx) error {
			o, err := applyMove(ctx, tx, order.Move{MerchantID: k.merchant, ID: k.id, To: order.Cancelled,
				From: []order.Status{order.Paid, order.Ready}, Actor: PickupWindowActor})
			if err != nil {
				return err
			}
			done = o
			_, err = tx.Exec(ctx, `INSERT INTO inbox (merchant_id, customer_id, kind, room_id, title, body, body_en, url, dedupe_key, created_at)
				VALUES (?, ?, 'order.pickup_expired', 0, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id, dedupe_key) DO NOTHING`,
				o.MerchantID, o.CustomerID, "订单已取消并退款 Order cancelled and refunded",
				fmt.Sprintf("订单 %s 超过自提保留时间未取货，已取消并原路退款 ¥%s", o.Number, yuanText(o.TotalFen)),
				fmt.Sprintf("Order %s was not picked up in time; it was cancelled and ¥%s is refunded.", o.Number, yuanText(o.TotalFen)),
				"/orders/"+strconv.FormatInt(o.ID, 10), "order:"+strconv.FormatInt(o.ID, 10)+":pickup_expired", ms(tx.Now))
			return err
		})
		if err != nil && !errors.Is(err, order.ErrBadTransition) && !errors.Is(err, apperr.ErrInvalidTransition) {
			return out, err
		}
		if err == nil {
			out = append(out, *done)
		}
	}
	return out, nil
}
