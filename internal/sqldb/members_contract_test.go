package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractMembersJoin: 20 customers joining at once, each twice, get
// 20 different numbers 1…20, one card each; a customer of another merchant
// cannot join this one.
func TestContractMembersJoin(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		ms := &sqldb.MemberStore{DB: db}
		var wg sync.WaitGroup
		var mu sync.Mutex
		numbers, joins := map[string]int64{}, 0
		for i := range 20 {
			c, err := s.ids.UpsertCustomer(ctx, s.m, fmt.Sprintf("1370000%04d", i))
			must(t, err)
			for range 2 {
				wg.Go(func() {
					m, joined, err := ms.Join(ctx, s.m, c.ID, "api")
					if err != nil {
						t.Errorf("join: %v", err)
						return
					}
					mu.Lock()
					defer mu.Unlock()
					if joined {
						joins++
					}
					if prev, ok := numbers[m.Number]; ok && prev != c.ID {
						t.Errorf("number %s given to %d and %d", m.Number, prev, c.ID)
					}
					numbers[m.Number] = c.ID
				})
			}
		}
		wg.Wait()
		if joins != 20 || len(numbers) != 20 {
			t.Fatalf("40 joins of 20 customers: %d joined, %d numbers", joins, len(numbers))
		}
		for i := 1; i <= 20; i++ {
			if _, ok := numbers[members.NumberOf(int64(i))]; !ok {
				t.Fatalf("numbers %v lack %s", numbers, members.NumberOf(int64(i)))
			}
		}
		if _, _, err := ms.Join(ctx, s.m, s.otherCust, "api"); err == nil {
			t.Fatal("another merchant's customer joined")
		}
		if _, err := ms.Membership(ctx, s.other, s.otherCust); !errors.Is(err, members.ErrNotMember) {
			t.Fatalf("not a member: %v", err)
		}
	})
}

// TestContractMemberPrice: a member pays the member price in the order's
// transaction, a non-member the regular price; a member price above the
// regular price, or of another merchant's SKU, is refused.
func TestContractMemberPrice(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		ms := &sqldb.MemberStore{DB: db}
		s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 10)
		wantCode(t, ms.SetMemberPrice(ctx, s.m, s.sku, price+1), "member_price_invalid")
		wantCode(t, ms.SetMemberPrice(ctx, s.m, s.otherSKU, 100), "unknown_sku")
		must(t, ms.SetMemberPrice(ctx, s.m, s.sku, 990))
		if o := s.buy(t, 2); o.TotalFen != 2*price {
			t.Fatalf("non-member paid %d", o.TotalFen)
		}
		_, _, err := ms.Join(ctx, s.m, s.cust, "api")
		must(t, err)
		if o := s.buy(t, 2); o.TotalFen != 2*990 || o.Lines[0].UnitFen != 990 {
			t.Fatalf("member paid %d (%d each)", o.TotalFen, o.Lines[0].UnitFen)
		}
		must(t, ms.SetMemberPrice(ctx, s.m, s.sku, 0))
		if o := s.buy(t, 1); o.TotalFen != price {
			t.Fatalf("cleared member price: paid %d", o.TotalFen)
		}
	})
}

// payThrough pays an order through the payment store as a vendor callback does.
func payThrough(t *testing.T, s *shop, o *order.Order, intent string) {
	t.Helper()
	ctx := context.Background()
	must(t, s.orders.CreateIntent(ctx, &payment.Intent{MerchantID: s.m, OrderID: o.ID, Provider: "wechatpay", Method: "h5", Intent: intent, AmountFen: o.TotalFen}))
	_, err := s.orders.ApplyPaid(ctx, &payment.Notification{Intent: intent, AmountFen: o.TotalFen, Nonce: intent, MerchantID: s.m, ProviderRef: "ref" + intent}, "wechatpay", s.db.Now())
	must(t, err)
}

// refundThrough refunds part of an order and confirms it as the vendor does.
func refundThrough(t *testing.T, s *shop, o *order.Order, no string, amount int64) {
	t.Helper()
	ctx := context.Background()
	rf := &payment.Refund{MerchantID: s.m, OrderID: o.ID, AmountFen: amount, Actor: "owner", RefundNo: no}
	_, err := s.orders.CreateRefund(ctx, rf, no)
	must(t, err)
	_, err = s.orders.ApplyRefund(ctx, &payment.Notification{Kind: payment.KindRefund, RefundNo: no, Status: "succeeded", AmountFen: amount, Nonce: no, MerchantID: s.m}, "wechatpay")
	must(t, err)
}

// TestContractPointsOnce: a paid order earns its points once however many
// times (and however concurrently) it is settled; a partial refund takes
// back its share; points spent before a full refund stay spent and the
// balance stops at zero; an order paid before joining earns nothing.
func TestContractPointsOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		ms := &sqldb.MemberStore{DB: db}
		s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 100)
		before := s.buy(t, 1)
		payThrough(t, s, before, "pi_before")
		db.Now = func() time.Time { return time.Now().Add(time.Second) } // join strictly after that payment
		_, _, err := ms.Join(ctx, s.m, s.cust, "room:demo")
		must(t, err)
		if st, err := ms.SettleOrder(ctx, s.m, before.ID); err != nil || st.Earned != 0 {
			t.Fatalf("order paid before joining: %+v %v", st, err)
		}

		o := s.buy(t, 5) // 5 × 12.80 = 64.00 → 64 points
		if st, err := ms.SettleOrder(ctx, s.m, o.ID); err != nil || st.Earned != 0 || st.Changed {
			t.Fatalf("unpaid order settled: %+v %v", st, err)
		}
		payThrough(t, s, o, "pi_o")
		if list, err := ms.UnsettledOrders(ctx, db.Now().Add(-time.Hour), 10); err != nil || len(list) != 1 || list[0].OrderID != o.ID {
			t.Fatalf("unsettled: %+v %v", list, err)
		}
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if _, err := ms.SettleOrder(ctx, s.m, o.ID); err != nil {
					t.Errorf("settle: %v", err)
				}
			})
		}
		wg.Wait()
		m, err := ms.Membership(ctx, s.m, s.cust)
		must(t, err)
		if m.Points != 64 || m.EarnedTotal != 64 || m.SpendFen != 6400 {
			t.Fatalf("after 10 settles: %+v", m)
		}
		if n := count(t, db, `SELECT count(*) FROM member_ledger WHERE order_id = ? AND kind = 'earn'`, o.ID); n != 1 {
			t.Fatalf("%d earn entries", n)
		}
		if list, _ := ms.UnsettledOrders(ctx, db.Now().Add(-time.Hour), 10); len(list) != 0 {
			t.Fatalf("still unsettled: %+v", list)
		}

		refundThrough(t, s, o, "rf_a", 1600) // a quarter: 16 points back
		for range 3 {
			_, err = ms.SettleOrder(ctx, s.m, o.ID)
			must(t, err)
		}
		m, _ = ms.Membership(ctx, s.m, s.cust)
		if m.Points != 48 || m.EarnedTotal != 48 || m.SpendFen != 4800 {
			t.Fatalf("after a quarter refunded: %+v", m)
		}
		e, err := ms.SpendPoints(ctx, s.m, s.cust, 40, "coupon-1", "coupon")
		must(t, err)
		if e.Balance != 8 {
			t.Fatalf("spend entry %+v", e)
		}
		if again, err := ms.SpendPoints(ctx, s.m, s.cust, 40, "coupon-1", "coupon"); err != nil || again.ID != e.ID {
			t.Fatalf("retried spend: %+v %v", again, err)
		}
		_, err = ms.SpendPoints(ctx, s.m, s.cust, 9, "coupon-2", "coupon")
		wantCode(t, err, "points_insufficient")

		refundThrough(t, s, o, "rf_b", 4800) // the rest: 48 points owed back, 8 left to take
		_, err = ms.SettleOrder(ctx, s.m, o.ID)
		must(t, err)
		m, _ = ms.Membership(ctx, s.m, s.cust)
		if m.Points != 0 || m.EarnedTotal != 0 || m.SpendFen != 0 {
			t.Fatalf("after a full refund: %+v", m)
		}
		checkLedger(t, db, s.m, s.cust)
		list, err := ms.Ledger(ctx, s.m, s.cust, 10)
		must(t, err)
		if len(list) != 4 || list[0].Kind != members.Reverse || list[0].Delta != -8 || list[3].Kind != members.Earn {
			t.Fatalf("ledger %+v", list)
		}
	})
}

// checkLedger: the balance is the sum of the ledger and never negative,
// every entry's balance is what it left, and no order earned twice.
func checkLedger(t *testing.T, db *sqldb.DB, merchantID, customerID int64) {
	t.Helper()
	sum := count(t, db, `SELECT COALESCE(SUM(delta), 0) FROM member_ledger WHERE merchant_id = ? AND customer_id = ?`, merchantID, customerID)
	bal := count(t, db, `SELECT points FROM memberships WHERE merchant_id = ? AND customer_id = ?`, merchantID, customerID)
	if sum != bal || bal < 0 {
		t.Fatalf("balance %d, ledger sums to %d", bal, sum)
	}
	if n := count(t, db, `SELECT count(*) FROM member_ledger WHERE balance < 0`); n != 0 {
		t.Fatalf("%d entries left a negative balance", n)
	}
	if n := count(t, db, `SELECT count(*) FROM (SELECT order_id FROM member_ledger WHERE kind = 'earn' GROUP BY order_id HAVING count(*) > 1) x`); n != 0 {
		t.Fatalf("%d orders earned twice", n)
	}
	if n := count(t, db, `SELECT count(*) FROM member_points_orders po JOIN orders o ON o.id = po.order_id WHERE po.reversed > po.earned OR po.refunded_fen > o.refunded_fen`); n != 0 {
		t.Fatalf("%d orders reversed more than earned", n)
	}
}

// TestPropertyPoints runs random pays, partial refunds, spends and repeated
// settles and checks after every step: the balance is the ledger's sum and
// never negative, each order earns once, refunds never take back more than
// the order earned, and a settled order's points follow ReversalTarget.
func TestPropertyPoints(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		ms := &sqldb.MemberStore{DB: db}
		s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 10000)
		prog := members.DefaultProgram()
		prog.MerchantID, prog.PointsPerYuan = s.m, 3
		must(t, ms.SaveProgram(ctx, prog))
		_, _, err := ms.Join(ctx, s.m, s.cust, "api")
		must(t, err)
		r := rand.New(rand.NewPCG(7, uint64(len(db.Dialect))))
		var paid []*order.Order
		refunded := map[int64]int64{}
		for step := range 120 {
			switch k := r.IntN(10); {
			case k < 3:
				o := s.buy(t, r.Int64N(4)+1)
				payThrough(t, s, o, fmt.Sprintf("pi_%d", step))
				paid = append(paid, o)
			case k < 6 && len(paid) > 0:
				o := paid[r.IntN(len(paid))]
				left := o.TotalFen - refunded[o.ID]
				if left > 0 {
					amt := min(left, r.Int64N(o.TotalFen)+1)
					refundThrough(t, s, o, fmt.Sprintf("rf_%d", step), amt)
					refunded[o.ID] += amt
				}
			case k < 8:
				if _, err := ms.SpendPoints(ctx, s.m, s.cust, r.Int64N(60)+1, fmt.Sprintf("sp_%d", step), ""); err != nil && !errors.Is(err, members.ErrPoints) {
					t.Fatal(err)
				}
			default:
				list, err := ms.UnsettledOrders(ctx, db.Now().Add(-time.Hour), 50)
				must(t, err)
				for _, ref := range list {
					for range r.IntN(2) + 1 {
						_, err := ms.SettleOrder(ctx, ref.MerchantID, ref.OrderID)
						must(t, err)
					}
				}
			}
			checkLedger(t, db, s.m, s.cust)
		}
		list, err := ms.UnsettledOrders(ctx, db.Now().Add(-time.Hour), 500)
		must(t, err)
		for _, ref := range list {
			_, err := ms.SettleOrder(ctx, ref.MerchantID, ref.OrderID)
			must(t, err)
		}
		checkLedger(t, db, s.m, s.cust)
		for _, o := range paid {
			st, err := ms.SettleOrder(ctx, s.m, o.ID)
			must(t, err)
			earned := prog.PointsFor(o.TotalFen)
			if st.Changed || st.Earned != earned || st.Reversed != members.ReversalTarget(earned, o.TotalFen, refunded[o.ID]) {
				t.Fatalf("order %d (paid %d, refunded %d): %+v", o.ID, o.TotalFen, refunded[o.ID], st)
			}
		}
	})
}

// TestContractSegments: each database-backed segment rule admits exactly
// the customers it names, never another merchant's.
func TestContractSegments(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		ms := &sqldb.MemberStore{DB: db}
		s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 100)
		prog, err := ms.Program(ctx, s.m)
		must(t, err)
		stranger, err := s.ids.UpsertCustomer(ctx, s.m, "13900000001")
		must(t, err)
		in := func(cust int64, seg members.Segment) bool {
			t.Helper()
			ok, err := ms.InSegment(ctx, s.m, cust, seg, prog)
			must(t, err)
			return ok
		}
		segMembers := members.Segment{Kind: members.SegMembers}
		silver := members.Segment{Kind: members.SegTier, Tier: 1}
		must(t, db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE products SET category = '水果' WHERE merchant_id = ?`, s.m)
			return err
		}))
		chilled := members.Segment{Kind: members.SegCategoryBuyer, Category: "水果"}
		frozen := members.Segment{Kind: members.SegCategoryBuyer, Category: "乳品"}
		atStore := members.Segment{Kind: members.SegStoreCustomer, StoreID: s.store}
		atShipper := members.Segment{Kind: members.SegStoreCustomer, StoreID: s.shipper}
		for _, seg := range []members.Segment{segMembers, silver, chilled, atStore} {
			if in(s.cust, seg) || in(stranger.ID, seg) {
				t.Fatalf("%+v admits before anything happened", seg)
			}
		}
		_, _, err = ms.Join(ctx, s.m, s.cust, "api")
		must(t, err)
		if !in(s.cust, segMembers) || in(stranger.ID, segMembers) || in(s.cust, silver) {
			t.Fatal("members segment")
		}
		o := s.buy(t, 40) // ¥512 paid: silver (≥ ¥500)
		if in(s.cust, chilled) || in(s.cust, atStore) {
			t.Fatal("an unpaid order made a past buyer")
		}
		payThrough(t, s, o, "pi_seg")
		_, err = ms.SettleOrder(ctx, s.m, o.ID)
		must(t, err)
		if !in(s.cust, silver) || !in(s.cust, chilled) || in(s.cust, frozen) || !in(s.cust, atStore) || in(s.cust, atShipper) {
			t.Fatal("after a paid ¥512 pickup of a chilled product: silver, chilled buyer, store customer")
		}
		// another merchant: none of it counts there
		otherProg, _ := ms.Program(ctx, s.other)
		for _, seg := range []members.Segment{segMembers, chilled, {Kind: members.SegStoreCustomer, StoreID: s.otherStore}} {
			if ok, err := ms.InSegment(ctx, s.other, s.cust, seg, otherProg); err != nil || ok {
				t.Fatalf("other merchant %+v: %v %v", seg, ok, err)
			}
		}
		// a full refund: no longer a buyer, back under silver
		refundThrough(t, s, o, "rf_seg", o.TotalFen)
		_, err = ms.SettleOrder(ctx, s.m, o.ID)
		must(t, err)
		if in(s.cust, chilled) || in(s.cust, silver) {
			t.Fatal("a fully refunded order still counts")
		}

		// room audiences: set, read, cleared; another merchant's room or store refused
		r := roomOf(t, s)
		must(t, ms.SetAudience(ctx, s.m, r, &segMembers))
		if got, err := ms.Audience(ctx, r); err != nil || got == nil || got.Kind != members.SegMembers {
			t.Fatalf("audience %+v %v", got, err)
		}
		wantCode(t, ms.SetAudience(ctx, s.other, r, &segMembers), "not_found")
		bad := members.Segment{Kind: members.SegStoreCustomer, StoreID: s.otherStore}
		wantCode(t, ms.SetAudience(ctx, s.m, r, &bad), "unknown_store")
		must(t, ms.SetAudience(ctx, s.m, r, nil))
		if got, err := ms.Audience(ctx, r); err != nil || got != nil {
			t.Fatalf("cleared audience %+v %v", got, err)
		}
	})
}

func roomOf(t *testing.T, s *shop) int64 {
	t.Helper()
	r := &live.Room{MerchantID: s.m, Slug: "members-only", Title: "会员专场"}
	must(t, s.live.CreateRoom(context.Background(), r))
	return r.ID
}

// TestContractPointsExchange: points and the coupon move together. Too few
// points issue no coupon; a coupon whose budget is gone takes no points; a
// retried key is the same exchange; racing exchanges of one member never
// overdraw the balance nor issue more coupons than points paid for.
func TestContractPointsExchange(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		ms := &sqldb.MemberStore{DB: db}
		cs := &sqldb.CouponStore{DB: db}
		s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 100)
		c := newCoupon(t, s, cs, coupons.Coupon{Kind: coupons.Fixed, Title: "积分兑 5 元", AmountFen: 500, BudgetCount: 4})
		offer := members.Offer{CouponID: c.ID, Points: 30}
		_, _, err := ms.Join(ctx, s.m, s.cust, "api")
		must(t, err)
		claims := func() int64 {
			return count(t, db, `SELECT count(*) FROM coupon_claims WHERE customer_id = ? AND source = 'points'`, s.cust)
		}
		_, _, err = ms.ExchangePoints(ctx, s.m, s.cust, offer, "x0")
		wantCode(t, err, "points_insufficient")
		if claims() != 0 {
			t.Fatal("a coupon without the points")
		}
		o := s.buy(t, 10) // ¥128 → 128 points
		payThrough(t, s, o, "pi_x")
		_, err = ms.SettleOrder(ctx, s.m, o.ID)
		must(t, err)

		e, claim, err := ms.ExchangePoints(ctx, s.m, s.cust, offer, "x1")
		must(t, err)
		e2, claim2, err := ms.ExchangePoints(ctx, s.m, s.cust, offer, "x1")
		must(t, err)
		if e.Balance != 98 || claim == 0 || e2.ID != e.ID || claim2 != claim || claims() != 1 {
			t.Fatalf("exchange %+v claim %d, retry %+v claim %d, %d claims", e, claim, e2, claim2, claims())
		}
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				_, _, err := ms.ExchangePoints(ctx, s.m, s.cust, offer, fmt.Sprintf("race-%d", i))
				if err != nil && !errors.Is(err, members.ErrPoints) && !errors.Is(err, coupons.ErrGone) {
					t.Errorf("exchange: %v", err)
				}
			})
		}
		wg.Wait()
		m, err := ms.Membership(ctx, s.m, s.cust)
		must(t, err)
		n := claims()
		// 98 points buy 3 more at 30, and the budget of 4 allows 3 more: 4 in all, 8 points left.
		if n != 4 || m.Points != 128-30*n {
			t.Fatalf("after racing exchanges: %d coupons, %d points", n, m.Points)
		}
		_, _, err = ms.ExchangePoints(ctx, s.m, s.cust, members.Offer{CouponID: c.ID, Points: 1}, "x-gone")
		wantCode(t, err, "coupon_gone")
		if m2, _ := ms.Membership(ctx, s.m, s.cust); m2.Points != m.Points {
			t.Fatalf("the budget was gone but %d points were taken", m.Points-m2.Points)
		}
		checkLedger(t, db, s.m, s.cust)
	})
}
