package web_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/payment/alipay/alipaytest"
	"github.com/shelflive/shelflive/internal/testkit"
)

// wxAliShop is the demo shop with a WeChat Pay account and an Alipay app,
// each at its local fake.
type wxAliShop struct {
	*wxShop
	ali       *alipaytest.Fake
	aliNotify string
	buyer     session
}

func newWeChatAlipayShop(t *testing.T, phone string) *wxAliShop {
	t.Helper()
	f, err := alipaytest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	s := newWeChatShop(t, "-alipay-base-url", f.URL)
	fields, err := f.NewApp(testAppID)
	if err != nil {
		t.Fatal(err)
	}
	send(t, nil, s.base, "PUT", "/api/v1/payments/alipay", fields, testkit.OwnerToken, nil).want(t, 200)
	mer, _ := s.m.App.Users.MerchantBySlug(t.Context(), "demo")
	return &wxAliShop{wxShop: s, ali: f, aliNotify: s.base + "/api/v1/payments/alipay/notify/" + strconv.FormatInt(mer.ID, 10),
		buyer: viewerLogin(t, s.base, "demo", phone)}
}

// alipayOrder places a pickup order and starts Alipay (QR: the fake opens
// the trade at once, as alipay.trade.precreate does).
func (s *wxAliShop) alipayOrder(t *testing.T) (orderView, payAnswer) {
	t.Helper()
	var o orderView
	send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), s.buyer.Token, nil).want(t, 201).decode(t, &o)
	return o, s.pay(t, o, "alipay", "qr")
}

func (s *wxAliShop) pay(t *testing.T, o orderView, provider, method string) payAnswer {
	t.Helper()
	var p payAnswer
	send(t, nil, s.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/pay", map[string]string{"provider": provider, "method": method}, s.buyer.Token, nil).
		want(t, 200).decode(t, &p)
	if p.Intent == "" {
		t.Fatalf("pay %s/%s: %+v", provider, method, p)
	}
	return p
}

func (s *wxAliShop) cancel(t *testing.T, o orderView) {
	t.Helper()
	send(t, nil, s.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/cancel", nil, s.buyer.Token, nil).want(t, 200)
}

type refundRow struct {
	RefundNo  string `json:"refund_no"`
	Status    string `json:"status"`
	AmountFen int64  `json:"amount_fen"`
	Actor     string `json:"actor"`
	Intent    string `json:"intent"`
}

func (s *wxAliShop) refunds(t *testing.T, id int64) []refundRow {
	t.Helper()
	var l struct {
		Refunds []refundRow `json:"refunds"`
	}
	send(t, nil, s.base, "GET", "/api/v1/orders/"+strconv.FormatInt(id, 10)+"/refunds", nil, testkit.OwnerToken, nil).want(t, 200).decode(t, &l)
	return l.Refunds
}

// wantAutoRefunded checks that the cancelled order's one payment came back
// in full, once, by the automatic refund, and that the order stayed
// cancelled.
func (s *wxAliShop) wantAutoRefunded(t *testing.T, o orderView, intent string) {
	t.Helper()
	testkit.WaitFor(t, "the automatic refund of "+intent, 20*time.Second, func() bool {
		s.m.App.ReconcileOlderThan(t.Context(), 0) // finishes a refund whose callback is still to come
		return orderStatus(t, s.base, s.buyer.Token, o.ID).RefundedFen == o.TotalFen
	})
	l := s.refunds(t, o.ID)
	if len(l) != 1 || l[0].Status != "succeeded" || l[0].AmountFen != o.TotalFen || l[0].Actor != "payment.auto_refund" || l[0].Intent != intent {
		t.Fatalf("refunds of order %d: %+v", o.ID, l)
	}
	if got := orderStatus(t, s.base, s.buyer.Token, o.ID); got.Status != "cancelled" {
		t.Fatalf("order after its late payment: %+v", got)
	}
}

// TestCancelClosesVendorOrders: cancelling an unpaid order closes its open
// vendor orders at once — the WeChat Pay H5 order and the Alipay QR trade
// the buyer started — so neither can take money any more; the intents are
// closed and the reconciler has nothing left to ask.
func TestCancelClosesVendorOrders(t *testing.T) {
	s := newWeChatAlipayShop(t, "13900000093")
	o, pa := s.alipayOrder(t)
	pw := s.pay(t, o, "wechatpay", "h5")
	if vo, _ := s.fake.Order(s.mchid, pw.Intent); vo.State != "NOTPAY" {
		t.Fatalf("WeChat Pay order before the cancel: %+v", vo)
	}
	s.cancel(t, o)
	if vo, _ := s.fake.Order(s.mchid, pw.Intent); vo.State != "CLOSED" {
		t.Fatalf("WeChat Pay order after the cancel: %q, want CLOSED", vo.State)
	}
	if tr, _ := s.ali.Trade(testAppID, pa.Intent); tr.Status != "TRADE_CLOSED" {
		t.Fatalf("Alipay trade after the cancel: %q, want TRADE_CLOSED", tr.Status)
	}
	for _, id := range []string{pw.Intent, pa.Intent} {
		in, err := s.m.App.Payments.IntentByID(t.Context(), id)
		if err != nil || in.Status != "closed" {
			t.Fatalf("intent %s after the cancel: %+v %v", id, in, err)
		}
	}
	if l := s.refunds(t, o.ID); len(l) != 0 {
		t.Fatalf("refunds of an order never paid: %+v", l)
	}
}

// TestPaidTooLateFoundByReconciler: the buyer paid (WeChat Pay H5, Alipay
// QR) just as the order was cancelled, and the vendor's callback never
// came. The close at the cancel is refused (already paid), so the intent
// stays pending; the reconciler's query finds the money and it goes back
// in full through the vendor's refund API, once however often the
// reconciler runs, audited.
func TestPaidTooLateFoundByReconciler(t *testing.T) {
	s := newWeChatAlipayShop(t, "13900000094")
	s.fake.DropCallbacks.Store(true)
	s.ali.DropNotifications.Store(true)

	ow, pw := s.order(t, s.buyer.Token, "h5")
	if _, err := s.fake.Pay(s.mchid, pw.Intent); err != nil {
		t.Fatal(err)
	}
	s.cancel(t, ow)
	oa, pa := s.alipayOrder(t)
	if _, _, err := s.ali.Pay(testAppID, pa.Intent); err != nil {
		t.Fatal(err)
	}
	s.cancel(t, oa)
	for _, id := range []string{pw.Intent, pa.Intent} {
		if in, _ := s.m.App.Payments.IntentByID(t.Context(), id); in == nil || in.Status != "pending" {
			t.Fatalf("intent %s after a refused close: %+v", id, in)
		}
	}

	s.m.App.ReconcileOlderThan(t.Context(), 0)
	s.fake.DropCallbacks.Store(false) // WeChat Pay's refund callback may finish it now
	s.wantAutoRefunded(t, ow, pw.Intent)
	s.wantAutoRefunded(t, oa, pa.Intent)
	s.m.App.ReconcileOlderThan(t.Context(), 0)
	if vo, _ := s.fake.Order(s.mchid, pw.Intent); vo.Refunded != ow.TotalFen {
		t.Fatalf("WeChat Pay refunded %d of %d", vo.Refunded, ow.TotalFen)
	}
	if tr, _ := s.ali.Trade(testAppID, pa.Intent); tr.Refunded != oa.TotalFen {
		t.Fatalf("Alipay refunded %d of %d", tr.Refunded, oa.TotalFen)
	}
	if n := auditCount(t, s.demoShop, "payment.auto_refund"); n != 2 {
		t.Fatalf("%d payment.auto_refund audit entries, want 2", n)
	}
}

// TestAlipayPaidTooLate: Alipay's notification of a payment arrives after
// the order was cancelled: it is acknowledged ("success", so Alipay stops
// notifying), the order stays cancelled, and the money goes back in full
// through alipay.trade.refund — once, however often Alipay notifies again.
func TestAlipayPaidTooLate(t *testing.T) {
	s := newWeChatAlipayShop(t, "13900000095")
	o, p := s.alipayOrder(t)
	s.ali.DropNotifications.Store(true)
	if _, _, err := s.ali.Pay(testAppID, p.Intent); err != nil {
		t.Fatal(err)
	}
	s.ali.DropNotifications.Store(false)
	s.cancel(t, o)
	late := s.ali.SignNotification(s.ali.NotifyParams(testAppID, p.Intent))
	if st, body, err := s.ali.Deliver(s.aliNotify, late); err != nil || st != 200 || body != "success" {
		t.Fatalf("the late notification: %d %q %v", st, body, err)
	}
	s.wantAutoRefunded(t, o, p.Intent)
	// Alipay notifies again (same notification, then a new notify_id).
	for _, v := range []map[string][]string{late, s.ali.SignNotification(s.ali.NotifyParams(testAppID, p.Intent))} {
		if st, body, _ := s.ali.Deliver(s.aliNotify, v); st != 200 || body != "success" {
			t.Fatalf("repeated notification: %d %q", st, body)
		}
	}
	s.m.App.ReconcileOlderThan(t.Context(), 0)
	if l := s.refunds(t, o.ID); len(l) != 1 {
		t.Fatalf("refunds after repeated notifications: %+v", l)
	}
	if tr, _ := s.ali.Trade(testAppID, p.Intent); tr.Refunded != o.TotalFen {
		t.Fatalf("Alipay refunded %d of %d", tr.Refunded, o.TotalFen)
	}
	if n := auditCount(t, s.demoShop, "payment.auto_refund"); n != 1 {
		t.Fatalf("%d payment.auto_refund audit entries", n)
	}
}

// TestColdChainHoldClosesVendorOrders: a fridge excursion puts the lot on
// hold and cancels the unpaid orders holding its units; their open WeChat
// Pay orders are closed at once, so nobody pays for food that cannot be
// handed over.
func TestColdChainHoldClosesVendorOrders(t *testing.T) {
	s := newWeChatAlipayShop(t, "13900000096")
	o, p := s.order(t, s.buyer.Token, "h5")
	var loc struct {
		ID int64 `json:"id"`
	}
	send(t, nil, s.base, "POST", "/api/v1/coldchain/locations", map[string]any{"name": "冷藏展示柜", "kind": "display_fridge", "storage_class": "chilled", "store_id": s.storeID},
		testkit.OwnerToken, nil).want(t, 201).decode(t, &loc)
	var dev struct {
		Token string `json:"token"`
	}
	send(t, nil, s.base, "POST", "/api/v1/coldchain/devices", map[string]any{"device_id": "fridge-late-pay", "location_id": loc.ID}, testkit.OwnerToken, nil).
		want(t, 201).decode(t, &dev)
	at := time.Now().Add(-40 * time.Minute)
	for i, temp := range []float64{3, 13} {
		send(t, nil, s.base, "POST", "/api/v1/telemetry", map[string]any{"readings": []any{map[string]any{"ts": at.Add(time.Duration(i) * time.Minute).UnixMilli(),
			"values": map[string]any{"temperature": temp}}}}, dev.Token, nil).want(t, 202)
	}
	testkit.WaitFor(t, "the unpaid order cancelled by the hold", 15*time.Second, func() bool {
		return orderStatus(t, s.base, s.buyer.Token, o.ID).Status == "cancelled"
	})
	testkit.WaitFor(t, "its WeChat Pay order closed, and the intent", 10*time.Second, func() bool {
		vo, _ := s.fake.Order(s.mchid, p.Intent)
		in, _ := s.m.App.Payments.IntentByID(t.Context(), p.Intent)
		return vo.State == "CLOSED" && in != nil && in.Status == "closed"
	})
}
