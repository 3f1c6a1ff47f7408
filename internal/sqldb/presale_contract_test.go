package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/presale"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// newPresale opens a pre-sale of the shop's SKU ending after d.
func newPresale(t testing.TB, s *shop, moq, deposit int64, d time.Duration) *presale.Presale {
	t.Helper()
	now := s.db.Now()
	p := &presale.Presale{MerchantID: s.m, Title: "粉丝共创款 速食杂粮粉", SKUID: s.sku, PriceFen: 3990, DepositFen: deposit, MOQ: moq, PerBuyerLimit: 5,
		Deadline: now.Add(d), ShipBy: now.Add(d + 20*24*time.Hour), Supplier: "五常粮食加工厂", CreatedBy: "owner"}
	if deposit > 0 {
		due := now.Add(d + 3*24*time.Hour)
		p.BalanceDueAt = &due
	}
	must(t, p.Validate(now))
	must(t, (&sqldb.PresaleStore{DB: s.db}).CreatePresale(context.Background(), p))
	return p
}

// commitFor places a pre-sale order of qty units for customer.
func commitFor(ctx context.Context, db *sqldb.DB, m, store, customer int64, p *presale.Presale, qty int64, key string) (*order.Order, error) {
	o := &order.Order{MerchantID: m, CustomerID: customer, Fulfilment: order.Pickup, StoreID: store, ContactPhone: "13800000000",
		IdempotencyKey: key, RequestHash: "h" + key, ReserveExpiresAt: db.Now().Add(15 * time.Minute)}
	cp := *p
	_, err := (&sqldb.PresaleStore{DB: db}).Commit(ctx, &cp, o, qty)
	return o, err
}

// payOrder pays an order through provider ("dev" refunds at once on
// cancel; "wechatpay" leaves the refund pending until the vendor answers).
func payOrder(ctx context.Context, db *sqldb.DB, o *order.Order, provider, nonce string) error {
	orders := &sqldb.OrderStore{DB: db}
	in := &payment.Intent{MerchantID: o.MerchantID, OrderID: o.ID, Provider: provider, Intent: "pi_" + nonce, AmountFen: o.TotalFen}
	if err := orders.CreateIntent(ctx, in); err != nil {
		return err
	}
	_, err := orders.ApplyPaid(ctx, &payment.Notification{Intent: in.Intent, AmountFen: o.TotalFen, Nonce: nonce, ProviderRef: "ref_" + nonce}, provider, db.Now())
	return err
}

func TestContractPresale(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		ps := &sqldb.PresaleStore{DB: db}
		p := newPresale(t, s, 3, 0, time.Hour)
		if p.Status != presale.Open || p.ProductName == "" || p.Rule == "" {
			t.Fatalf("created %+v", p)
		}
		// another tenant sees nothing; a foreign SKU is unknown
		_, err := ps.Presale(ctx, s.other, p.ID)
		wantCode(t, err, "not_found")
		bad := *p
		bad.ID, bad.MerchantID = 0, s.other
		wantCode(t, ps.CreatePresale(ctx, &bad), "unknown_sku")

		o1, err := commitFor(ctx, db, s.m, s.store, s.cust, p, 2, "a")
		must(t, err)
		if o1.TotalFen != 2*3990 || o1.Status != order.PendingPayment || len(o1.Lines) != 1 || o1.ReserveExpiresAt.After(p.Deadline) {
			t.Fatalf("commit order %+v", o1)
		}
		// a retry is the same order; the limit counts pending units too
		again, err := commitFor(ctx, db, s.m, s.store, s.cust, p, 2, "a")
		must(t, err)
		if again.ID != o1.ID {
			t.Fatalf("retry made order %d, first was %d", again.ID, o1.ID)
		}
		_, err = commitFor(ctx, db, s.m, s.store, s.cust, p, 4, "b")
		wantCode(t, err, "presale_limit_reached")
		// no stock moved: a pre-sale reserves nothing
		if n := count(t, db, `SELECT COUNT(*) FROM allocations WHERE order_id = ?`, o1.ID); n != 0 {
			t.Fatalf("allocations of a pre-sale order: %d", n)
		}
		got, err := ps.Presale(ctx, s.m, p.ID)
		must(t, err)
		if got.Committed != 0 {
			t.Fatalf("unpaid units counted: %d", got.Committed)
		}
		must(t, payOrder(ctx, db, o1, "dev", "n1"))
		got, _ = ps.Presale(ctx, s.m, p.ID)
		if got.Committed != 2 || got.Percent != 66 || got.Buyers != 1 {
			t.Fatalf("progress %+v", got)
		}
		if id, _ := ps.OfOrder(ctx, s.m, o1.ID); id != p.ID {
			t.Fatalf("OfOrder = %d", id)
		}
		if id, _ := ps.OfOrder(ctx, s.other, o1.ID); id != 0 {
			t.Fatalf("OfOrder across tenants = %d", id)
		}
		_, err = ps.Production(ctx, s.m, p.ID)
		wantCode(t, err, "presale_not_reached")
		// before the deadline nothing settles
		if _, changed, err := ps.Settle(ctx, s.m, p.ID); err != nil || changed {
			t.Fatalf("early settle: %v %v", changed, err)
		}
		// after it, commits are refused and the verdict is written once
		base := db.Now()
		db.Now = func() time.Time { return base.Add(2 * time.Hour) }
		_, err = commitFor(ctx, db, s.m, s.store, s.cust, p, 1, "c")
		wantCode(t, err, "presale_closed")
		due, err := ps.DueSettle(ctx, db.Now(), 10)
		must(t, err)
		if len(due) != 1 || due[0].ID != p.ID {
			t.Fatalf("due %+v", due)
		}
		got, changed, err := ps.Settle(ctx, s.m, p.ID)
		must(t, err)
		if !changed || got.Status != presale.Failed || got.Committed != 2 {
			t.Fatalf("settled %+v changed %v", got, changed)
		}
		if _, changed, _ := ps.Settle(ctx, s.m, p.ID); changed {
			t.Fatal("settled twice")
		}
		refs, _ := ps.RefundDue(ctx, 10)
		if len(refs) != 1 {
			t.Fatalf("refund due %+v", refs)
		}
		cancelled, err := ps.CancelPaid(ctx, s.m, p.ID, 10)
		must(t, err)
		if len(cancelled) != 1 || cancelled[0].Status != order.Cancelled || cancelled[0].RefundedFen != o1.TotalFen {
			t.Fatalf("cancelled %+v", cancelled)
		}
		if refs, _ := ps.RefundDue(ctx, 10); len(refs) != 0 {
			t.Fatalf("still due %+v", refs)
		}
	})
}

// TestPresaleSequences drives random sequences over three pre-sales (one
// that will miss its MOQ, one that reaches it, one with deposits) — commit,
// pay (dev provider, or a vendor whose refunds stay pending until it
// answers), expire, crash-restart (close and reopen the database), two
// "nodes" settling and refunding at once, the vendor answering refunds —
// and checks after the deadline that each pre-sale was decided by the units
// paid before it, that every paid order of a missed pre-sale was refunded
// exactly once for its whole amount and nothing else was refunded, that a
// late payment is refused, and that the deposit rule forfeits exactly the
// deposits whose balance was not paid in time. SQLite and PostgreSQL.
func TestPresaleSequences(t *testing.T) {
	seeds := 6
	if testing.Short() {
		seeds = 2
	}
	forEachDB(t, func(t *testing.T, db0 *sqldb.DB) {
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { presaleSequence(t, db0.Dialect, seed) })
		}
	})
}

// reopenable opens a fresh database and can close and open it again, the
// way a crashed node comes back.
func reopenable(t *testing.T, d sqldb.Dialect) (open func() *sqldb.DB) {
	ctx := context.Background()
	url, dir := "", t.TempDir()
	if d == sqldb.Postgres {
		url, _ = newPostgresSchema(t)
		dir = ""
	}
	return func() *sqldb.DB {
		db, err := sqldb.Open(ctx, url, dir)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
}

func presaleSequence(t *testing.T, d sqldb.Dialect, seed uint64) {
	ctx := context.Background()
	open := reopenable(t, d)
	db := open()
	defer func() { db.Close() }()
	base := db.Now()
	clock := base
	db.Now = func() time.Time { return clock }
	s := newShop(t, db)
	custs := []int64{s.cust}
	for i := 0; i < 6; i++ {
		c, err := s.ids.UpsertCustomer(ctx, s.m, fmt.Sprintf("1390000000%d", i))
		must(t, err)
		custs = append(custs, c.ID)
	}
	miss := newPresale(t, s, 60, 0, time.Hour)     // too many to reach
	reach := newPresale(t, s, 4, 0, time.Hour)     // easily reached
	deposit := newPresale(t, s, 3, 500, time.Hour) // reached with deposits (forced below)
	presales := []*presale.Presale{miss, reach, deposit}

	rng := rand.New(rand.NewPCG(seed, seed*104729))
	type placed struct {
		o        *order.Order
		p        *presale.Presale
		qty      int64
		paid     bool
		provider string
		late     bool // paid after it stopped taking payments: refunded in full by the store
	}
	var orders []*placed
	paidUnits := map[int64]int64{}
	restart := func() {
		db.Close()
		db = open()
		db.Now = func() time.Time { return clock }
		s.db = db
	}
	nonce := 0
	pay := func(pl *placed) {
		nonce++
		prov := "dev"
		if rng.IntN(2) == 0 {
			prov = "wechatpay"
		}
		err := payOrder(ctx, db, pl.o, prov, fmt.Sprintf("s%d-%d", seed, nonce))
		switch {
		case err == nil:
			pl.paid, pl.provider = true, prov
			paidUnits[pl.p.ID] += pl.qty
		case errors.Is(err, payment.ErrPaidTooLate):
			pl.late = true
		case !apperr.Is(err, "not_payable"):
			t.Fatalf("pay: %v", err)
		}
	}
	for step := 0; step < 60; step++ {
		switch op := rng.IntN(10); {
		case op < 5:
			p := presales[rng.IntN(len(presales))]
			qty := 1 + rng.Int64N(2)
			o, err := commitFor(ctx, db, s.m, s.store, custs[rng.IntN(len(custs))], p, qty, fmt.Sprint("k", step))
			if err == nil {
				orders = append(orders, &placed{o: o, p: p, qty: qty})
			} else if !apperr.Is(err, "presale_limit_reached") {
				t.Fatalf("commit: %v", err)
			}
		case op < 8 && len(orders) > 0:
			pl := orders[rng.IntN(len(orders))]
			if !pl.paid && !pl.late {
				pay(pl)
			}
		case op == 8:
			clock = clock.Add(time.Duration(rng.IntN(4)) * time.Minute) // some unpaid orders expire
			if _, err := (&sqldb.OrderStore{DB: db}).ExpireDue(ctx, clock, 100); err != nil {
				t.Fatal(err)
			}
		default:
			restart()
		}
	}
	// Make sure the reachable ones reach (pay enough fresh orders).
	for _, p := range []*presale.Presale{reach, deposit} {
		for i := 0; paidUnits[p.ID] < p.MOQ; i++ {
			o, err := commitFor(ctx, db, s.m, s.store, custs[i%len(custs)], p, 1, fmt.Sprintf("top%d-%d", p.ID, i))
			if apperr.Is(err, "presale_limit_reached") {
				continue
			}
			must(t, err)
			pl := &placed{o: o, p: p, qty: 1}
			orders = append(orders, pl)
			pay(pl)
		}
	}
	// One order is left unpaid on purpose: its payment arrives too late.
	late, err := commitFor(ctx, db, s.m, s.store, custs[len(custs)-1], miss, 1, "late")
	lateOK := err == nil
	if err != nil && !apperr.Is(err, "presale_limit_reached") {
		t.Fatal(err)
	}

	// The deadline passes. Two "nodes" settle and refund at the same
	// time, in small batches, with crashes in between.
	clock = base.Add(time.Hour + time.Second)
	for round := 0; round < 40; round++ {
		var wg sync.WaitGroup
		for n := 0; n < 2; n++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ps := &sqldb.PresaleStore{DB: db}
				due, err := ps.DueSettle(ctx, clock, 10)
				if err != nil {
					t.Error(err)
					return
				}
				for _, r := range due {
					if _, _, err := ps.Settle(ctx, r.MerchantID, r.ID); err != nil && !errors.Is(err, apperr.ErrBusy) {
						t.Error("settle:", err)
					}
				}
				refs, err := ps.RefundDue(ctx, 10)
				if err != nil {
					t.Error(err)
					return
				}
				for _, r := range refs {
					if _, err := ps.CancelPaid(ctx, r.MerchantID, r.ID, 1+rng.IntN(3)); err != nil && !errors.Is(err, apperr.ErrBusy) {
						t.Error("cancel paid:", err)
					}
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		if rng.IntN(3) == 0 {
			restart()
		}
		if lateOK && round == 1 {
			// The vendor took the money after the deadline: the order
			// expired at settlement, so the payment is refunded, not counted.
			nonce++
			err := payOrder(ctx, db, late, "dev", fmt.Sprintf("late%d", seed))
			if !errors.Is(err, payment.ErrPaidTooLate) {
				t.Fatalf("late payment: %v", err)
			}
			orders = append(orders, &placed{o: late, p: miss, qty: 1, late: true})
		}
	}
	ps := &sqldb.PresaleStore{DB: db}
	for _, p := range presales {
		got, err := ps.Presale(ctx, s.m, p.ID)
		must(t, err)
		if want := presale.Verdict(paidUnits[p.ID], p.MOQ); got.Status != want || got.Committed != paidUnits[p.ID] {
			t.Fatalf("presale %d: status %s committed %d, want %s %d", p.ID, got.Status, got.Committed, want, paidUnits[p.ID])
		}
	}
	// The vendor answers every pending refund (some twice: a callback and
	// the reconciler's query); only the first counts.
	orderStore := &sqldb.OrderStore{DB: db}
	for _, pl := range orders {
		list, err := orderStore.Refunds(ctx, s.m, pl.o.ID)
		must(t, err)
		for _, rf := range list {
			if rf.Status != "pending" {
				continue
			}
			for i := 0; i < 2; i++ {
				_, err := orderStore.ApplyRefund(ctx, &payment.Notification{Kind: payment.KindRefund, RefundNo: rf.RefundNo, Intent: rf.Intent, AmountFen: rf.AmountFen,
					Status: "succeeded", Nonce: fmt.Sprintf("rf-%s-%d", rf.RefundNo, i)}, rf.Provider)
				if i == 0 {
					must(t, err)
				} else {
					wantCode(t, err, "replayed_callback")
				}
			}
		}
	}
	for _, pl := range orders {
		o, err := orderStore.Get(ctx, s.m, pl.o.ID)
		must(t, err)
		list, err := orderStore.Refunds(ctx, s.m, pl.o.ID)
		must(t, err)
		var refunded int64
		for _, rf := range list {
			if rf.Status == "succeeded" {
				refunded += rf.AmountFen
			}
		}
		failed := pl.p.ID == miss.ID
		switch {
		case pl.paid && failed:
			if o.Status != order.Cancelled || len(list) != 1 || refunded != o.TotalFen || o.RefundedFen != o.TotalFen {
				t.Fatalf("paid order %d of the missed pre-sale: status %s, %d refunds, %d of %d refunded (order says %d)", o.ID, o.Status, len(list), refunded, o.TotalFen, o.RefundedFen)
			}
		case pl.paid:
			if o.Status != order.Paid || len(list) != 0 {
				t.Fatalf("paid order %d of a reached pre-sale: %s with %d refunds", o.ID, o.Status, len(list))
			}
		case pl.late:
			if o.Status == order.Paid || len(list) != 1 || refunded != o.TotalFen {
				t.Fatalf("late-paid order %d: %s with %d refunds, %d of %d refunded", o.ID, o.Status, len(list), refunded, o.TotalFen)
			}
		default:
			if o.Status == order.Paid || len(list) != 0 {
				t.Fatalf("unpaid order %d: %s with %d refunds", o.ID, o.Status, len(list))
			}
		}
	}
	prod, err := ps.Production(ctx, s.m, reach.ID)
	must(t, err)
	if prod.Units != paidUnits[reach.ID] {
		t.Fatalf("production %d units, paid %d", prod.Units, paidUnits[reach.ID])
	}

	// Deposits: some buyers pay their balance, some open it and leave it,
	// some never look; at the due date exactly the unpaid ones forfeit.
	keep := map[int64]bool{}
	for _, pl := range orders {
		if pl.p.ID != deposit.ID || !pl.paid {
			continue
		}
		switch rng.IntN(3) {
		case 0:
			b, err := ps.BalanceOrder(ctx, deposit, pl.o.ID, &order.Order{MerchantID: s.m, CustomerID: pl.o.CustomerID, ReserveExpiresAt: clock.Add(15 * time.Minute)})
			must(t, err)
			if b.TotalFen != pl.qty*(deposit.PriceFen-deposit.DepositFen) {
				t.Fatalf("balance %d for %d units", b.TotalFen, pl.qty)
			}
			nonce++
			must(t, payOrder(ctx, db, b, "dev", fmt.Sprintf("bal%d-%d", seed, nonce)))
			keep[pl.o.ID] = true
			_, err = ps.BalanceOrder(ctx, deposit, pl.o.ID, &order.Order{MerchantID: s.m, CustomerID: pl.o.CustomerID})
			wantCode(t, err, "presale_no_balance")
		case 1:
			_, err := ps.BalanceOrder(ctx, deposit, pl.o.ID, &order.Order{MerchantID: s.m, CustomerID: pl.o.CustomerID, ReserveExpiresAt: clock.Add(5 * 24 * time.Hour)})
			must(t, err)
		}
	}
	clock = deposit.BalanceDueAt.Add(time.Second)
	for i := 0; i < 3; i++ {
		if _, err := ps.ForfeitDue(ctx, clock, 10); err != nil {
			t.Fatal(err)
		}
		restart()
		ps = &sqldb.PresaleStore{DB: db}
	}
	var wantForfeit int64
	for _, pl := range orders {
		if pl.p.ID != deposit.ID || !pl.paid {
			continue
		}
		cs, err := ps.Commitments(ctx, s.m, deposit.ID, pl.o.CustomerID)
		must(t, err)
		for _, c := range cs {
			if c.OrderID != pl.o.ID {
				continue
			}
			if (c.ForfeitedAt != nil) == keep[pl.o.ID] {
				t.Fatalf("deposit order %d: forfeited %v, balance paid %v", pl.o.ID, c.ForfeitedAt != nil, keep[pl.o.ID])
			}
			if c.BalanceOrderID != 0 && !keep[pl.o.ID] && c.BalanceStatus != string(order.Expired) {
				t.Fatalf("unpaid balance order %d is %s", c.BalanceOrderID, c.BalanceStatus)
			}
		}
		if !keep[pl.o.ID] {
			wantForfeit += pl.qty
		}
	}
	got, err := ps.Presale(ctx, s.m, deposit.ID)
	must(t, err)
	if got.Forfeited != wantForfeit {
		t.Fatalf("forfeited %d units, want %d", got.Forfeited, wantForfeit)
	}
	prod, err = ps.Production(ctx, s.m, deposit.ID)
	must(t, err)
	if prod.Units != paidUnits[deposit.ID]-wantForfeit {
		t.Fatalf("deposit production %d units, want %d", prod.Units, paidUnits[deposit.ID]-wantForfeit)
	}
}
