package sqldb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/aftersales"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestAftersaleRefundSequences drives random sequences of buy, pay, hand
// over, after-sales asks (every kind, amounts over and under what is
// left), decisions (twice at once, approve and reject, goods received or
// not), staff refunds retried under one key, racing vendor callbacks (the
// callback, its replay and the reconciler's query applied at the same
// time), the lapse rule and crash-restarts (the database closed and opened
// again mid-sequence), on SQLite and PostgreSQL. After every step:
//   - an order never has more refunded, or promised (pending + succeeded),
//     than was paid, and its refunded_fen is the sum of confirmed refunds;
//   - every approved request has exactly one refund, under its own key,
//     and is "refunded" exactly when that refund succeeded;
//   - stock: on_hand = initial − handed over + restocked, reserved = what
//     reserved allocations hold; chilled units that came back are only
//     ever written off, ambient ones restocked only when received.
func TestAftersaleRefundSequences(t *testing.T) {
	seeds := 6
	if testing.Short() {
		seeds = 3
	}
	for _, d := range dialects() {
		t.Run(string(d), func(t *testing.T) {
			total := map[string]int64{}
			for seed := uint64(1); seed <= uint64(seeds); seed++ {
				t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
					for k, v := range aftersaleSequence(t, d, seed) {
						total[k] += v
					}
				})
			}
			// The sequences must have exercised the machine, not only
			// refused asks.
			for _, k := range []string{"refunded", "rejected", "refund_failed", "written_off", "restocked", "cancelled"} {
				if total[k] == 0 {
					t.Errorf("no %s in %d sequences: %v", k, seeds, total)
				}
			}
		})
	}
}

type afterWorld struct {
	db       *sqldb.DB
	s        *shop
	orders   *sqldb.OrderStore
	as       *sqldb.AftersaleStore
	clock    time.Time
	ambient  int64 // ambient SKU
	initial  map[[2]int64]int64
	paid     map[int64]int64 // order → paid amount
	requests []int64
}

func (w *afterWorld) bind(db *sqldb.DB) {
	w.db = db
	db.Now = func() time.Time { return w.clock }
	w.orders, w.as = &sqldb.OrderStore{DB: db}, &sqldb.AftersaleStore{DB: db}
	w.s.db, w.s.orders = db, w.orders
	w.s.inv = &sqldb.InventoryStore{DB: db}
}

func aftersaleSequence(t *testing.T, d sqldb.Dialect, seed uint64) map[string]int64 {
	ctx := context.Background()
	var reopen func() *sqldb.DB
	if d == sqldb.SQLite {
		dir := t.TempDir()
		reopen = func() *sqldb.DB {
			db, err := sqldb.Open(ctx, "", dir)
			must(t, err)
			return db
		}
	} else {
		u, _ := newPostgresSchema(t)
		reopen = func() *sqldb.DB {
			db, err := sqldb.Open(ctx, u, "")
			must(t, err)
			return db
		}
	}
	db := reopen()
	defer func() { db.Close() }()
	w := &afterWorld{clock: time.Now().UTC().Truncate(time.Millisecond), paid: map[int64]int64{}}
	db.Now = func() time.Time { return w.clock }
	w.s = newShop(t, db)
	w.bind(db)
	// an ambient product beside the shop's chilled strawberries
	amb := &catalog.Product{MerchantID: w.s.m, Name: "挂面 Noodles", Storage: catalog.Ambient, Active: true,
		SKUs: []catalog.SKU{{Code: "noodle", Name: "1kg", PriceFen: 990, Active: true}}}
	must(t, w.s.cat.CreateProduct(ctx, amb))
	w.ambient = amb.SKUs[0].ID
	w.s.lot(t, w.s.m, w.s.sku, w.s.store, "CH-A", 10*24*time.Hour, 200)
	w.s.lot(t, w.s.m, w.s.sku, w.s.store, "CH-B", 12*24*time.Hour, 200)
	w.s.lot(t, w.s.m, w.ambient, w.s.store, "AM-A", 300*24*time.Hour, 200)
	w.initial = map[[2]int64]int64{}
	rows, err := db.Query(ctx, `SELECT store_id, lot_id, on_hand FROM stock`)
	must(t, err)
	for rows.Next() {
		var s, l, n int64
		must(t, rows.Scan(&s, &l, &n))
		w.initial[[2]int64{s, l}] = n
	}
	rows.Close()

	rng := rand.New(rand.NewPCG(seed, seed*104729))
	var open []int64
	pick := func(list []int64) int64 { return list[rng.IntN(len(list))] }
	for step := 0; step < 150; step++ {
		w.clock = w.clock.Add(time.Duration(rng.IntN(60)) * time.Minute)
		switch op := rng.IntN(12); {
		case op < 2: // buy and pay
			o := w.s.newOrder(fmt.Sprint("k", step), "h")
			o.ReserveExpiresAt = w.clock.Add(15 * time.Minute)
			items := []order.Item{{SKUID: w.s.sku, Quantity: 1 + rng.Int64N(3)}}
			if rng.IntN(2) == 0 {
				items = append(items, order.Item{SKUID: w.ambient, Quantity: 1 + rng.Int64N(2)})
			}
			if _, err := w.orders.Create(ctx, o, items); err != nil {
				t.Fatalf("step %d: order: %v", step, err)
			}
			in := &payment.Intent{MerchantID: w.s.m, OrderID: o.ID, Provider: "wechatpay", Method: "native", Intent: payment.NewIntentID(), AmountFen: o.TotalFen}
			must(t, w.orders.CreateIntent(ctx, in))
			if _, err := w.orders.ApplyPaid(ctx, &payment.Notification{Intent: in.Intent, Status: "paid", AmountFen: o.TotalFen, ProviderRef: "tx" + in.Intent,
				MerchantID: w.s.m, Nonce: "pay:" + in.Intent}, "wechatpay", w.clock); err != nil {
				t.Fatalf("step %d: pay: %v", step, err)
			}
			w.paid[o.ID] = o.TotalFen
			open = append(open, o.ID)
		case op < 4 && len(open) > 0: // hand over (or make ready)
			id := pick(open)
			next := []order.Status{order.Ready, order.Completed, order.Completed}[rng.IntN(3)]
			w.s.move(ctx, id, next)
		case op < 6 && len(open) > 0: // the customer asks
			id := pick(open)
			o, err := w.orders.Get(ctx, w.s.m, id)
			must(t, err)
			ask := aftersales.Ask{Kind: []aftersales.Kind{aftersales.RefundOnly, aftersales.ReturnRefund, aftersales.Quality}[rng.IntN(3)],
				Reason: "damaged", AmountFen: 1 + rng.Int64N(o.TotalFen+200), Photos: []string{"/uploads/0123456789abcdef01234567.jpg"}}
			if o.Status == order.Paid || o.Status == order.Ready {
				ask.Kind, ask.Reason, ask.AmountFen = aftersales.RefundOnly, "changed_mind", o.TotalFen-o.RefundedFen-pendingFen(t, w.db, id)
			} else {
				var linesFen int64
				for _, l := range o.Lines {
					if rng.IntN(2) == 0 || ask.Kind == aftersales.ReturnRefund && len(ask.Lines) == 0 {
						q := 1 + rng.Int64N(l.Quantity)
						ask.Lines = append(ask.Lines, aftersales.Line{SKUID: l.SKUID, Quantity: q})
						linesFen += q * l.UnitFen
					}
				}
				if linesFen > 0 {
					ask.AmountFen = 1 + rng.Int64N(linesFen+50) // now and then more than the items cost: refused
				}
			}
			if ask.Validate() != nil {
				continue
			}
			r := &aftersales.Request{MerchantID: w.s.m, OrderID: id, CustomerID: w.s.cust}
			if err := w.as.Create(ctx, r, ask, w.clock); err == nil {
				w.requests = append(w.requests, r.ID)
			} else if _, ok := err.(*apperr.Error); !ok {
				t.Fatalf("step %d: ask: %v", step, err)
			}
		case op < 8 && len(w.requests) > 0: // staff decide, twice at once
			id := pick(w.requests)
			approve, received := rng.IntN(4) != 0, rng.IntN(3) != 0
			var wg sync.WaitGroup
			for i := 0; i < 2; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := w.as.Decide(ctx, aftersales.Decision{MerchantID: w.s.m, ID: id, Approve: approve, Received: received, Note: "看过照片", Actor: "clerk"})
					if _, ok := err.(*apperr.Error); err != nil && !ok {
						t.Errorf("step %d: decide: %v", step, err)
					}
				}()
			}
			wg.Wait()
		case op < 10: // the vendor answers pending refunds: callback, replay and query at once
			refunds, err := w.orders.PendingRefunds(ctx, w.clock.Add(time.Hour), 50)
			must(t, err)
			for _, rf := range refunds {
				status := "succeeded"
				if rng.IntN(8) == 0 {
					status = "failed"
				}
				var wg sync.WaitGroup
				for _, via := range []string{"notify-1", "notify-1", "refund-query:"} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						w.orders.ApplyRefund(ctx, &payment.Notification{Kind: payment.KindRefund, Intent: rf.Intent, RefundNo: rf.RefundNo, Status: status,
							AmountFen: rf.AmountFen, ProviderRef: "wx" + rf.RefundNo, MerchantID: rf.MerchantID, Nonce: via + rf.RefundNo}, rf.Provider)
					}()
				}
				wg.Wait()
			}
		case op == 10 && len(open) > 0: // a staff partial refund, retried under the same key
			id := pick(open)
			amt := 1 + rng.Int64N(300)
			for i := 0; i < 2; i++ {
				rf := &payment.Refund{MerchantID: w.s.m, OrderID: id, AmountFen: amt, RefundNo: payment.NewRefundNo(), Actor: "boss"}
				w.orders.CreateRefund(ctx, rf, "staff-"+strconv.Itoa(step))
			}
		case op == 11: // lapse rule, or a crash and restart
			if rng.IntN(2) == 0 {
				lapsed, err := w.as.Lapsed(ctx, w.clock.Add(25*time.Hour), 100)
				must(t, err)
				for _, r := range lapsed {
					w.as.Decide(ctx, aftersales.Decision{MerchantID: r.MerchantID, ID: r.ID, Approve: true, Actor: aftersales.LapseActor})
				}
			} else {
				db.Close()
				db = reopen()
				w.bind(db)
			}
		}
		w.check(t, step)
	}
	got := map[string]int64{}
	for _, q := range []string{"refunded", "rejected", "refund_failed", "requested", "refunding"} {
		got[q] = count(t, w.db, `SELECT count(*) FROM aftersales WHERE status = ?`, q)
	}
	got["written_off"] = count(t, w.db, `SELECT count(*) FROM stock_writeoffs WHERE action = 'written_off'`)
	got["restocked"] = count(t, w.db, `SELECT count(*) FROM stock_writeoffs WHERE action = 'restocked'`)
	got["cancelled"] = count(t, w.db, `SELECT count(*) FROM aftersales WHERE stock = 'released'`)
	t.Logf("requests and stock effects: %v", got)
	return got
}

func pendingFen(t *testing.T, db *sqldb.DB, orderID int64) int64 {
	return count(t, db, `SELECT COALESCE(SUM(amount_fen), 0) FROM refunds WHERE order_id = ? AND status = 'pending'`, orderID)
}

func (w *afterWorld) check(t *testing.T, step int) {
	t.Helper()
	ctx := context.Background()
	db := w.db
	for id, paid := range w.paid {
		var refunded int64
		must(t, db.QueryRow(ctx, `SELECT refunded_fen FROM orders WHERE id = ?`, id).Scan(&refunded))
		ok := count(t, db, `SELECT COALESCE(SUM(amount_fen), 0) FROM refunds WHERE order_id = ? AND status = 'succeeded'`, id)
		promised := count(t, db, `SELECT COALESCE(SUM(amount_fen), 0) FROM refunds WHERE order_id = ? AND status IN ('pending', 'succeeded')`, id)
		if refunded != ok || promised > paid || refunded > paid {
			t.Fatalf("step %d: order %d paid %d, refunded_fen %d, confirmed refunds %d, promised %d", step, id, paid, refunded, ok, promised)
		}
	}
	rows, err := db.Query(ctx, `SELECT id, status, refund_no, kind, stock FROM aftersales`)
	must(t, err)
	type req struct {
		id                           int64
		status, no, kind, stockState string
	}
	var reqs []req
	for rows.Next() {
		var r req
		must(t, rows.Scan(&r.id, &r.status, &r.no, &r.kind, &r.stockState))
		reqs = append(reqs, r)
	}
	rows.Close()
	for _, r := range reqs {
		n := count(t, db, `SELECT count(*) FROM refunds WHERE idem_key = ?`, "aftersale:"+strconv.FormatInt(r.id, 10))
		switch r.status {
		case "requested", "rejected", "withdrawn":
			if n != 0 || r.no != "" {
				t.Fatalf("step %d: %s request %d has %d refunds", step, r.status, r.id, n)
			}
		default:
			var st string
			must(t, db.QueryRow(ctx, `SELECT status FROM refunds WHERE idem_key = ? AND refund_no = ?`, "aftersale:"+strconv.FormatInt(r.id, 10), r.no).Scan(&st))
			want := map[string]string{"pending": "refunding", "succeeded": "refunded", "failed": "refund_failed"}[st]
			if n != 1 || want != r.status {
				t.Fatalf("step %d: request %d is %s with %d refunds (its refund %s)", step, r.id, r.status, n, st)
			}
		}
	}
	// stock
	srows, err := db.Query(ctx, `SELECT st.store_id, st.lot_id, st.on_hand, st.reserved,
		COALESCE((SELECT SUM(a.quantity) FROM allocations a WHERE a.store_id = st.store_id AND a.lot_id = st.lot_id AND a.state = 'reserved'), 0),
		COALESCE((SELECT SUM(a.quantity) FROM allocations a WHERE a.store_id = st.store_id AND a.lot_id = st.lot_id AND a.state = 'consumed'), 0),
		COALESCE((SELECT SUM(x.quantity) FROM stock_writeoffs x WHERE x.store_id = st.store_id AND x.lot_id = st.lot_id AND x.action = 'restocked'), 0)
		FROM stock st`)
	must(t, err)
	defer srows.Close()
	for srows.Next() {
		var store, lot, onHand, reserved, held, consumed, restocked int64
		must(t, srows.Scan(&store, &lot, &onHand, &reserved, &held, &consumed, &restocked))
		if reserved != held || onHand != w.initial[[2]int64{store, lot}]-consumed+restocked || reserved > onHand {
			t.Fatalf("step %d: store %d lot %d: on_hand %d reserved %d (allocations hold %d, handed over %d, restocked %d, initial %d)",
				step, store, lot, onHand, reserved, held, consumed, restocked, w.initial[[2]int64{store, lot}])
		}
	}
	if n := count(t, db, `SELECT count(*) FROM stock_writeoffs x JOIN lots l ON l.id = x.lot_id WHERE l.sku_id = ? AND x.action = 'restocked'`, w.s.sku); n != 0 {
		t.Fatalf("step %d: %d chilled returns put back on sale", step, n)
	}
	if n := count(t, db, `SELECT count(*) FROM stock_writeoffs x JOIN aftersales a ON a.id = x.aftersale_id WHERE x.action = 'restocked' AND a.decided_by = ?`, aftersales.LapseActor); n != 0 {
		t.Fatalf("step %d: %d returns restocked without being received", step, n)
	}
	// returned units never exceed what was handed over
	if n := count(t, db, `SELECT count(*) FROM (SELECT x.aftersale_id, x.lot_id, SUM(x.quantity) AS q FROM stock_writeoffs x GROUP BY x.aftersale_id, x.lot_id) y
		JOIN aftersales a ON a.id = y.aftersale_id
		WHERE y.q > (SELECT COALESCE(SUM(al.quantity), 0) FROM allocations al WHERE al.order_id = a.order_id AND al.lot_id = y.lot_id AND al.state = 'consumed')`); n != 0 {
		t.Fatalf("step %d: %d returns of more units than were handed over", step, n)
	}
}
