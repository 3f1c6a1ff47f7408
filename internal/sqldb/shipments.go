package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/delivery"
	"github.com/shelflive/shelflive/internal/notify"
	"github.com/shelflive/shelflive/internal/order"
)

// ShipmentStore implements delivery.Store.
type ShipmentStore struct {
	DB *DB
	// Quiet holds the Web Push and SMS copies of "shipped" and "delivered"
	// until the morning (nil: notify.DefaultQuiet); the inbox gets them at once.
	Quiet *notify.Quiet
}

var _ delivery.Store = (*ShipmentStore)(nil)

func (s *ShipmentStore) quiet() notify.Quiet {
	if s.Quiet == nil {
		return notify.DefaultQuiet
	}
	return *s.Quiet
}

const shipmentCols = `s.id, s.merchant_id, s.order_id, o.number, s.store_id, o.customer_id, o.contact_phone, s.carrier, s.tracking_no, s.stage,
	s.delivered_at, s.shipped_at, s.shipped_by, s.polled_at, s.poll_error, s.poll_failures FROM shipments s JOIN orders o ON o.id = s.order_id`

func scanShipment(row interface{ Scan(...any) error }) (*delivery.Shipment, error) {
	var sh delivery.Shipment
	var stage string
	var shipped int64
	var delivered, polled sql.NullInt64
	if err := row.Scan(&sh.ID, &sh.MerchantID, &sh.OrderID, &sh.OrderNumber, &sh.StoreID, &sh.CustomerID, &sh.Phone, &sh.Carrier, &sh.TrackingNo, &stage,
		&delivered, &shipped, &sh.ShippedBy, &polled, &sh.PollError, &sh.PollFailures); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, delivery.ErrNoShipment
		}
		return nil, translate(err)
	}
	sh.Stage, sh.ShippedAt, sh.DeliveredAt, sh.PolledAt = delivery.Stage(stage), fromMS(shipped), nullMS(delivered), nullMS(polled)
	sh.Delivered = sh.DeliveredAt != nil
	if c, ok := delivery.CarrierByCode(sh.Carrier); ok {
		sh.CarrierZH, sh.CarrierEN = c.ZH, c.EN
	}
	sh.Events = []delivery.Event{}
	return &sh, nil
}

func shipmentTx(ctx context.Context, q rowFn, query rowsFn, where string, args ...any) (*delivery.Shipment, error) {
	sh, err := scanShipment(q(ctx, `SELECT `+shipmentCols+` WHERE `+where, args...))
	if err != nil {
		return nil, err
	}
	rows, err := query(ctx, `SELECT at, stage, text, location, source FROM shipment_events WHERE shipment_id = ? ORDER BY at DESC, id DESC`, sh.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e delivery.Event
		var at int64
		var stage string
		if err := rows.Scan(&at, &stage, &e.Text, &e.Location, &e.Source); err != nil {
			return nil, err
		}
		e.At, e.Stage = fromMS(at), delivery.Stage(stage)
		sh.Events = append(sh.Events, e)
	}
	return sh, rows.Err()
}

// Shipment implements delivery.Store.
func (s *ShipmentStore) Shipment(ctx context.Context, merchantID, orderID int64) (*delivery.Shipment, error) {
	return shipmentTx(ctx, s.DB.QueryRow, s.DB.Query, `s.merchant_id = ? AND s.order_id = ?`, merchantID, orderID)
}

// Ship implements delivery.Store: the order's move to shipped (applyMove:
// the pickup rule, held lots, stock leaving the shelf once) and the
// shipment row commit together, with the audit entry and the buyer's
// message. The order row is locked first, so two clerks shipping the same
// order at once ship it once and the second one's number is a correction.
func (s *ShipmentStore) Ship(ctx context.Context, in delivery.Ship) (*delivery.Shipment, error) {
	car, no, err := delivery.CheckTrackingNo(in.Carrier, in.TrackingNo)
	if err != nil {
		return nil, err
	}
	var out *delivery.Shipment
	err = s.DB.WriteTx(ctx, func(tx *Tx) error {
		cur, err := scanOrder(tx.QueryRow(ctx, `SELECT `+orderCols+` FROM orders WHERE merchant_id = ? AND id = ?`+tx.db.forUpdate(), in.MerchantID, in.OrderID))
		if err != nil {
			return err
		}
		if in.StoreID != 0 && cur.StoreID != in.StoreID {
			return apperr.ErrNotFound
		}
		if no == "" { // the store's rider: the order number stands in
			no = "SL" + cur.Number[:8] + cur.Number[9:]
		}
		if cur.Status == order.Shipped || cur.Status == order.Completed {
			return s.correct(ctx, tx, cur, car, no, in.Actor, &out)
		}
		if _, err := applyMove(ctx, tx, order.Move{MerchantID: in.MerchantID, ID: in.OrderID, To: order.Shipped, StoreID: in.StoreID, Actor: in.Actor}); err != nil {
			return err
		}
		next := sql.NullInt64{}
		if !car.Untracked {
			next = sql.NullInt64{Int64: ms(tx.Now), Valid: true}
		}
		id, err := tx.InsertID(ctx, `INSERT INTO shipments (merchant_id, order_id, store_id, carrier, tracking_no, stage, shipped_at, shipped_by, next_poll_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.MerchantID, in.OrderID, cur.StoreID, car.Code, no, string(delivery.StageCollected), ms(tx.Now), in.Actor, next)
		if err != nil {
			return err
		}
		text := fmt.Sprintf("商家已发货，%s 运单号 %s", car.ZH, no)
		if _, err := tx.Exec(ctx, `INSERT INTO shipment_events (shipment_id, at, stage, text, location, source, actor) VALUES (?, ?, ?, ?, '', 'manual', ?)`,
			id, ms(tx.Now), string(delivery.StageCollected), text, in.Actor); err != nil {
			return err
		}
		if err := auditOrder(ctx, tx, in.MerchantID, in.Actor, "order.ship", cur.Number, "carrier="+car.Code+" tracking_no="+no); err != nil {
			return err
		}
		if err := s.tell(ctx, tx, cur, "order.shipped", "订单已发货 Shipped", "shipped",
			fmt.Sprintf("订单 %s 已由%s发出，运单号 %s", cur.Number, car.ZH, no), fmt.Sprintf("Order %s was shipped with %s, tracking number %s.", cur.Number, car.EN, no)); err != nil {
			return err
		}
		out, err = shipmentTx(ctx, tx.QueryRow, tx.Query, `s.id = ?`, id)
		return err
	})
	return out, err
}

// correct changes a shipped order's carrier or number (a clerk's typo),
// audited and told to the buyer; the same carrier and number again is a
// retry and changes nothing.
func (s *ShipmentStore) correct(ctx context.Context, tx *Tx, o *order.Order, car delivery.Carrier, no, actor string, out **delivery.Shipment) error {
	sh, err := shipmentTx(ctx, tx.QueryRow, tx.Query, `s.order_id = ?`, o.ID)
	if errors.Is(err, delivery.ErrNoShipment) {
		return order.ErrBadTransition // shipped before shipments were kept
	}
	if err != nil {
		return err
	}
	if sh.Carrier == car.Code && sh.TrackingNo == no {
		*out = sh
		return nil
	}
	if sh.Delivered {
		return delivery.ErrDelivered
	}
	next := sql.NullInt64{}
	if !car.Untracked {
		next = sql.NullInt64{Int64: ms(tx.Now), Valid: true}
	}
	if _, err := tx.Exec(ctx, `UPDATE shipments SET carrier = ?, tracking_no = ?, next_poll_at = ?, poll_failures = 0, poll_error = '' WHERE id = ?`, car.Code, no, next, sh.ID); err != nil {
		return err
	}
	text := fmt.Sprintf("运单信息更正为 %s %s", car.ZH, no)
	if _, err := tx.Exec(ctx, `INSERT INTO shipment_events (shipment_id, at, stage, text, location, source, actor) VALUES (?, ?, ?, ?, '', 'manual', ?) ON CONFLICT DO NOTHING`,
		sh.ID, ms(tx.Now), string(sh.Stage), text, actor); err != nil {
		return err
	}
	if err := auditOrder(ctx, tx, o.MerchantID, actor, "order.ship_correct", o.Number, fmt.Sprintf("carrier=%s tracking_no=%s (was %s %s)", car.Code, no, sh.Carrier, sh.TrackingNo)); err != nil {
		return err
	}
	if err := s.tell(ctx, tx, o, "order.shipped", "运单号已更正 Tracking number corrected", "shipped:"+car.Code+":"+no,
		fmt.Sprintf("订单 %s 的运单信息已更正：%s %s", o.Number, car.ZH, no), fmt.Sprintf("Order %s: the parcel is with %s, tracking number %s.", o.Number, car.EN, no)); err != nil {
		return err
	}
	*out, err = shipmentTx(ctx, tx.QueryRow, tx.Query, `s.id = ?`, sh.ID)
	return err
}

// tell writes the buyer's inbox message (once per order and step) and
// queues its Web Push and SMS copies on the channels the buyer granted.
func (s *ShipmentStore) tell(ctx context.Context, tx *Tx, o *order.Order, kind, title, step, body, bodyEN string) error {
	if err := orderMessage(ctx, tx, o, kind, title, body, bodyEN, step); err != nil {
		return err
	}
	return enqueueChannels(ctx, tx, s.quiet(), o.MerchantID, "order:"+strconv.FormatInt(o.ID, 10)+":"+step)
}

func auditOrder(ctx context.Context, tx *Tx, merchantID int64, actor, action, number, detail string) error {
	if actor == "" {
		actor = "system"
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (merchant_id, actor, action, object, detail, at) VALUES (?, ?, ?, ?, ?, ?)`,
		merchantID, actor, action, "order:"+number, detail, ms(tx.Now))
	return err
}

// Record implements delivery.Store.
func (s *ShipmentStore) Record(ctx context.Context, u delivery.Update) (*delivery.Shipment, error) {
	sh, err := s.Shipment(ctx, u.MerchantID, u.OrderID)
	if err != nil {
		return nil, err
	}
	if u.StoreID != 0 && sh.StoreID != u.StoreID {
		return nil, apperr.ErrNotFound
	}
	return s.addEvents(ctx, u.MerchantID, sh.ID, []delivery.Event{u.Event}, u.Event.Stage, u.Actor, true)
}

// AddEvents implements delivery.Store.
func (s *ShipmentStore) AddEvents(ctx context.Context, merchantID, shipmentID int64, events []delivery.Event, stage delivery.Stage, actor string) (*delivery.Shipment, error) {
	return s.addEvents(ctx, merchantID, shipmentID, events, stage, actor, false)
}

func (s *ShipmentStore) addEvents(ctx context.Context, merchantID, shipmentID int64, events []delivery.Event, stage delivery.Stage, actor string, manual bool) (*delivery.Shipment, error) {
	var out *delivery.Shipment
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		// The order row first (every writer of an order locks it before
		// its shipment), then the shipment as it is now.
		var orderID int64
		if err := tx.QueryRow(ctx, `SELECT order_id FROM shipments WHERE merchant_id = ? AND id = ?`, merchantID, shipmentID).Scan(&orderID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return delivery.ErrNoShipment
			}
			return err
		}
		cur, err := scanOrder(tx.QueryRow(ctx, `SELECT `+orderCols+` FROM orders WHERE id = ?`+tx.db.forUpdate(), orderID))
		if err != nil {
			return err
		}
		sh, err := shipmentTx(ctx, tx.QueryRow, tx.Query, `s.id = ?`, shipmentID)
		if err != nil {
			return err
		}
		if sh.Delivered {
			if manual {
				return delivery.ErrDelivered
			}
			out = sh
			return nil // a late poll after delivery: nothing to add
		}
		for _, e := range events {
			if _, err := tx.Exec(ctx, `INSERT INTO shipment_events (shipment_id, at, stage, text, location, source, actor) VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (shipment_id, at, text) DO NOTHING`, shipmentID, ms(e.At), string(e.Stage), e.Text, e.Location, e.Source, actor); err != nil {
				return err
			}
		}
		if stage == "" {
			stage = sh.Stage
		}
		if _, err := tx.Exec(ctx, `UPDATE shipments SET stage = ? WHERE id = ?`, string(stage), shipmentID); err != nil {
			return err
		}
		if stage != sh.Stage && stage == delivery.StageProblem {
			if err := s.tell(ctx, tx, cur, "order.shipment", "包裹异常 Parcel problem", "parcel_problem",
				fmt.Sprintf("订单 %s 的包裹出现异常，门店会跟进处理", cur.Number), fmt.Sprintf("Something is wrong with the parcel of order %s; the store follows it up.", cur.Number)); err != nil {
				return err
			}
		}
		if manual {
			detail := "stage=" + string(stage)
			if len(events) == 1 {
				detail += " text=" + events[0].Text
			}
			if err := auditOrder(ctx, tx, merchantID, actor, "order.tracking_update", cur.Number, detail); err != nil {
				return err
			}
		}
		if stage == delivery.StageDelivered {
			if err := s.delivered(ctx, tx, cur, shipmentID, actor); err != nil {
				return err
			}
		}
		out, err = shipmentTx(ctx, tx.QueryRow, tx.Query, `s.id = ?`, shipmentID)
		return err
	})
	return out, err
}

// delivered closes the shipment and completes the order (completed_at
// starts the after-sales window, as a handover at the counter does), once:
// the shipment's delivered_at is written only while it is empty.
func (s *ShipmentStore) delivered(ctx context.Context, tx *Tx, o *order.Order, shipmentID int64, actor string) error {
	n, err := rowsAffected(tx.Exec(ctx, `UPDATE shipments SET delivered_at = ?, next_poll_at = NULL WHERE id = ? AND delivered_at IS NULL`, ms(tx.Now), shipmentID))
	if err != nil || n == 0 {
		return err
	}
	if o.Status == order.Shipped {
		if _, err := applyMove(ctx, tx, order.Move{MerchantID: o.MerchantID, ID: o.ID, To: order.Completed, Actor: actor}); err != nil {
			return err
		}
	}
	if err := auditOrder(ctx, tx, o.MerchantID, actor, "order.delivered", o.Number, "shipment="+strconv.FormatInt(shipmentID, 10)); err != nil {
		return err
	}
	return s.tell(ctx, tx, o, "order.delivered", "包裹已签收 Delivered", "delivered",
		fmt.Sprintf("订单 %s 已签收。如有问题，可在订单页申请售后", o.Number), fmt.Sprintf("Order %s was delivered. Anything wrong? Ask for after-sales on the order page.", o.Number))
}

// ClaimPolls implements delivery.Store.
func (s *ShipmentStore) ClaimPolls(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]delivery.Shipment, error) {
	var out []delivery.Shipment
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, next_poll_at FROM shipments WHERE next_poll_at IS NOT NULL AND next_poll_at <= ? AND delivered_at IS NULL ORDER BY next_poll_at LIMIT ?`, ms(now), limit)
		if err != nil {
			return err
		}
		type due struct{ id, at int64 }
		var list []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.at); err != nil {
				rows.Close()
				return err
			}
			list = append(list, d)
		}
		rows.Close()
		for _, d := range list {
			n, err := rowsAffected(tx.Exec(ctx, `UPDATE shipments SET next_poll_at = ? WHERE id = ? AND next_poll_at = ?`, ms(now.Add(lease)), d.id, d.at))
			if err != nil {
				return err
			}
			if n == 0 {
				continue // another claimer took it
			}
			sh, err := scanShipment(tx.QueryRow(ctx, `SELECT `+shipmentCols+` WHERE s.id = ?`, d.id))
			if err != nil {
				return err
			}
			out = append(out, *sh)
		}
		return nil
	})
	return out, err
}

// Polled implements delivery.Store.
func (s *ShipmentStore) Polled(ctx context.Context, shipmentID int64, now, next time.Time, failures int, errText string) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE shipments SET polled_at = ?, next_poll_at = ?, poll_failures = ?, poll_error = ? WHERE id = ? AND delivered_at IS NULL`,
			ms(now), ms(next), failures, trimErr(errText), shipmentID)
		return err
	})
}
