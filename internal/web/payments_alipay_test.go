package web_test

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/payment/alipay"
	"github.com/shelflive/shelflive/internal/payment/alipay/alipaytest"
	"github.com/shelflive/shelflive/internal/testkit"
)

const testAppID = "2021000000000001"

// TestAlipay: settings, QR (precreate) and WAP payments on the fake, every
// bad notification refused without a change, a dropped notification found
// by the reconciler once, a partial refund once under retries.
func TestAlipay(t *testing.T) {
	f, err := alipaytest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	s := newShop(t, "-alipay-base-url", f.URL, "-secret-key", testSecretKey)
	fields, err := f.NewApp(testAppID)
	if err != nil {
		t.Fatal(err)
	}
	bad := clone(fields)
	bad["app_id"] = "2021"
	send(t, nil, s.base, "PUT", "/api/v1/payments/alipay", bad, testkit.OwnerToken, nil).wantProblem(t, 400, "invalid_app_id")
	if r := send(t, nil, s.base, "PUT", "/api/v1/payments/alipay", fields, testkit.OwnerToken, nil); r.Status != 200 || strings.Contains(string(r.Body), pemBody(fields["private_key_pem"])) {
		t.Fatalf("put alipay: %d %s", r.Status, r.Body)
	}
	var check struct {
		OK   bool   `json:"ok"`
		Code string `json:"code"`
	}
	send(t, nil, s.base, "POST", "/api/v1/payments/alipay/check", nil, testkit.OwnerToken, nil).decode(t, &check)
	if !check.OK {
		t.Fatalf("check: %+v", check)
	}
	mer, _ := s.m.App.Users.MerchantBySlug(t.Context(), "demo")
	notify := s.base + "/api/v1/payments/alipay/notify/" + strconv.FormatInt(mer.ID, 10)

	buyer := viewerLogin(t, s.base, "demo", "13900000081")
	place := func() orderView {
		r := send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), buyer.Token, nil)
		if r.Status != 201 {
			t.Fatalf("order: %d %s", r.Status, r.Body)
		}
		var o orderView
		r.decode(t, &o)
		return o
	}
	pay := func(o orderView, method string) payAnswer {
		r := send(t, nil, s.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/pay", map[string]string{"provider": "alipay", "method": method}, buyer.Token, nil)
		if r.Status != 200 {
			t.Fatalf("pay: %d %s", r.Status, r.Body)
		}
		var p payAnswer
		r.decode(t, &p)
		return p
	}

	// QR on a desktop, then the notifications
	o := place()
	p := pay(o, "qr")
	if !strings.HasPrefix(p.Action.CodeURL, "https://qr.alipay.com/") {
		t.Fatalf("qr action %+v", p.Action)
	}
	// the buyer pays, but keep the notification to play with it
	f.DropNotifications.Store(true)
	if _, _, err := f.Pay(testAppID, p.Intent); err != nil {
		t.Fatal(err)
	}
	f.DropNotifications.Store(false)
	stock := s.stock(t)
	refused := func(name string, v url.Values, status int) {
		t.Helper()
		st, body, err := f.Deliver(notify, v)
		if err != nil || st != status || body == "success" {
			t.Fatalf("%s: answered %d %q (%v), want %d", name, st, body, err, status)
		}
		if got := orderStatus(t, s.base, buyer.Token, o.ID); got.Status != "pending_payment" {
			t.Fatalf("%s: order %s", name, got.Status)
		}
	}
	good := f.SignNotification(f.NotifyParams(testAppID, p.Intent))
	forger, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged := f.NotifyParams(testAppID, p.Intent)
	forged.Set("sign_type", "RSA2")
	sig, _ := alipay.Sign(forger, alipay.SignContent(forged, "sign_type"))
	forged.Set("sign", sig)
	refused("forged", forged, 401)
	tampered := url.Values{}
	for k, v := range good {
		tampered[k] = v
	}
	tampered.Set("total_amount", alipay.Yuan(o.TotalFen-1))
	refused("tampered", tampered, 401)
	stale := f.NotifyParams(testAppID, p.Intent)
	stale.Set("notify_time", time.Now().Add(-10*time.Minute).In(cn.Shanghai).Format("2006-01-02 15:04:05"))
	refused("stale", f.SignNotification(stale), 401)
	cheap := f.NotifyParams(testAppID, p.Intent)
	cheap.Set("total_amount", alipay.Yuan(o.TotalFen-1))
	refused("amount", f.SignNotification(cheap), 409)
	foreign := f.NotifyParams(testAppID, p.Intent)
	foreign.Set("app_id", "2021000000000999")
	refused("foreign app_id", f.SignNotification(foreign), 401)
	// another merchant's app, at its own URL, naming this merchant's trade
	other := &identity.Merchant{Slug: "rival", Name: "对手"}
	if err := s.m.App.Users.CreateMerchant(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	rivalFields, _ := f.NewApp("2021000000000777")
	if _, err := s.m.App.Pay.Accounts.Put(t.Context(), other.ID, "alipay", rivalFields); err != nil {
		t.Fatal(err)
	}
	rival := f.NotifyParams(testAppID, p.Intent)
	rival.Set("app_id", "2021000000000777")
	if st, _, _ := f.Deliver(s.base+"/api/v1/payments/alipay/notify/"+strconv.FormatInt(other.ID, 10), f.SignNotification(rival)); st != 401 {
		t.Fatalf("another merchant's app paid this merchant's order: %d", st)
	}
	if s.stock(t) != stock {
		t.Fatal("refused notifications changed stock")
	}
	// the genuine one, then its replay
	if st, body, _ := f.Deliver(notify, good); st != 200 || body != "success" {
		t.Fatalf("notification: %d %q", st, body)
	}
	paid := paidAt(t, s.base, buyer.Token, o.ID)
	if st, body, _ := f.Deliver(notify, good); st != 200 || body != "success" {
		t.Fatalf("replay: %d %q", st, body)
	}
	if again := paidAt(t, s.base, buyer.Token, o.ID); !again.Equal(paid) {
		t.Fatal("replay changed the order")
	}

	// WAP on a phone with the notification dropped: the reconciler finds it
	o2 := place()
	p2 := pay(o2, "wap")
	if !strings.HasPrefix(p2.Action.PayURL, f.URL+"?") {
		t.Fatalf("wap action %+v", p2.Action)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(p2.Action.PayURL) // the cashier checks our signature on the link
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("cashier: %v %v", resp, err)
	}
	resp.Body.Close()
	f.DropNotifications.Store(true)
	resp, err = hc.PostForm(strings.TrimSuffix(f.URL, "/gateway.do")+"/fake/wap/pay", url.Values{"app_id": {testAppID}, "out_trade_no": {p2.Intent}})
	if err != nil || resp.StatusCode != 303 || !strings.HasSuffix(resp.Header.Get("Location"), "/orders/"+strconv.FormatInt(o2.ID, 10)) {
		t.Fatalf("wap pay: %v %v", resp, err)
	}
	resp.Body.Close()
	if got := orderStatus(t, s.base, buyer.Token, o2.ID); got.Status != "pending_payment" {
		t.Fatalf("order %s without a notification", got.Status)
	}
	s.m.App.ReconcileOlderThan(t.Context(), 0)
	paid2 := paidAt(t, s.base, buyer.Token, o2.ID)
	s.m.App.ReconcileOlderThan(t.Context(), 0)
	f.DropNotifications.Store(false)
	if st, body, _ := f.Deliver(notify, f.SignNotification(f.NotifyParams(testAppID, p2.Intent))); st != 200 || body != "success" {
		t.Fatalf("late notification: %d %q", st, body)
	}
	if again := paidAt(t, s.base, buyer.Token, o2.ID); !again.Equal(paid2) {
		t.Fatal("paid twice")
	}

	// partial refund, retried
	path := "/api/v1/orders/" + strconv.FormatInt(o.ID, 10) + "/refunds"
	var rf struct {
		RefundNo string `json:"refund_no"`
		Status   string `json:"status"`
	}
	for i := 0; i < 3; i++ {
		r := send(t, nil, s.base, "POST", path, map[string]any{"amount_fen": 150}, testkit.OwnerToken, map[string]string{"Idempotency-Key": "ali-refund-1"})
		if r.Status != 200 {
			t.Fatalf("refund: %d %s", r.Status, r.Body)
		}
		var got struct {
			RefundNo string `json:"refund_no"`
			Status   string `json:"status"`
		}
		r.decode(t, &got)
		if got.Status != "succeeded" || (rf.RefundNo != "" && got.RefundNo != rf.RefundNo) {
			t.Fatalf("refund try %d: %+v (first %+v)", i, got, rf)
		}
		rf = got
	}
	s.m.App.ReconcileOlderThan(t.Context(), 0)
	var v struct {
		RefundedFen int64 `json:"refunded_fen"`
	}
	send(t, nil, s.base, "GET", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10), nil, testkit.OwnerToken, nil).decode(t, &v)
	tr, _ := f.Trade(testAppID, p.Intent)
	if v.RefundedFen != 150 || tr.Refunded != 150 {
		t.Fatalf("refunded %d here, %d at Alipay", v.RefundedFen, tr.Refunded)
	}

	// a wrong Alipay public key: the check says so
	wrong := clone(fields)
	other2, _ := alipaytest.Start()
	defer other2.Close()
	wrong["alipay_public_key_pem"] = other2.PublicKeyPEM()
	send(t, nil, s.base, "PUT", "/api/v1/payments/alipay", wrong, testkit.OwnerToken, nil)
	send(t, nil, s.base, "POST", "/api/v1/payments/alipay/check", nil, testkit.OwnerToken, nil).decode(t, &check)
	if check.OK || check.Code != "alipay_answer_unverified" {
		t.Fatalf("check with a wrong public key: %+v", check)
	}
}

// TestAlipayRefundNotifications: Alipay tells of each refund in an
// asynchronous notification too (out_biz_no = the refund's out_request_no,
// refund_fee = the trade's refunded total). When the refund's answer is
// lost, the notification finishes it; when both come, it counts once; a
// tampered or impossible one is refused and changes nothing; the full
// refund's TRADE_CLOSED notification is a refund, not a closed trade.
func TestAlipayRefundNotifications(t *testing.T) {
	f, err := alipaytest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	s := newShop(t, "-alipay-base-url", f.URL, "-secret-key", testSecretKey)
	fields, err := f.NewApp(testAppID)
	if err != nil {
		t.Fatal(err)
	}
	send(t, nil, s.base, "PUT", "/api/v1/payments/alipay", fields, testkit.OwnerToken, nil).want(t, 200)
	mer, _ := s.m.App.Users.MerchantBySlug(t.Context(), "demo")
	notify := s.base + "/api/v1/payments/alipay/notify/" + strconv.FormatInt(mer.ID, 10)
	buyer := viewerLogin(t, s.base, "demo", "13900000082")
	var o orderView
	send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 2}), buyer.Token, nil).want(t, 201).decode(t, &o)
	var p payAnswer
	send(t, nil, s.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/pay", map[string]string{"provider": "alipay", "method": "qr"}, buyer.Token, nil).want(t, 200).decode(t, &p)
	if st, body, err := f.Pay(testAppID, p.Intent); err != nil || st != 200 || body != "success" {
		t.Fatalf("pay: %d %q %v", st, body, err)
	}
	refunded := func() int64 { return orderStatus(t, s.base, buyer.Token, o.ID).RefundedFen }
	refundNote := func(refundNo string) (alipaytest.Notification, url.Values) {
		t.Helper()
		var n alipaytest.Notification
		testkit.WaitFor(t, "the refund notification of "+refundNo, 10*time.Second, func() bool {
			for _, x := range f.Sent() {
				if v, _ := url.ParseQuery(x.Body); v.Get("out_biz_no") == refundNo {
					n = x
					return true
				}
			}
			return false
		})
		v, _ := url.ParseQuery(n.Body)
		return n, v
	}
	refund := func(amount int64, key string) (no, status string) {
		t.Helper()
		var rf struct {
			RefundNo string `json:"refund_no"`
			Status   string `json:"status"`
		}
		send(t, nil, s.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/refunds", map[string]any{"amount_fen": amount, "reason": "少了一个"},
			testkit.OwnerToken, map[string]string{"Idempotency-Key": key}).want(t, 200).decode(t, &rf)
		return rf.RefundNo, rf.Status
	}

	// The answer is lost: only the notification tells.
	f.RefundAnswerLost.Store(true)
	// (The answer said SYSTEM_ERROR, so only the notification — which may
	// come before the API's own answer — can finish it: the reconciler
	// waits a minute.)
	no1, status := refund(300, "ali-note-1")
	if status != "pending" && status != "succeeded" {
		t.Fatalf("refund whose answer was lost: %s", status)
	}
	n1, v1 := refundNote(no1)
	testkit.WaitFor(t, "the refund notification applied", 10*time.Second, func() bool { return refunded() == 300 })
	if n1.Status != 200 || n1.Answer != "success" || v1.Get("refund_fee") != "3.00" || v1.Get("trade_status") != "TRADE_SUCCESS" {
		t.Fatalf("notification %+v %v", n1, v1)
	}
	f.RefundAnswerLost.Store(false)
	// Replayed: acknowledged, nothing changes.
	if st, body, _ := f.Deliver(notify, v1); st != 200 || body != "success" || refunded() != 300 {
		t.Fatalf("replayed refund notification: %d %q, refunded %d", st, body, refunded())
	}
	// Tampered (the total raised after signing) and impossible (more
	// refunded than paid, signed by Alipay): refused.
	tampered := url.Values{}
	for k, v := range v1 {
		tampered[k] = v
	}
	tampered.Set("refund_fee", alipay.Yuan(o.TotalFen))
	tampered.Set("notify_id", "tampered-1")
	if st, _, _ := f.Deliver(notify, tampered); st != 401 {
		t.Fatalf("tampered refund notification: %d", st)
	}
	tooMuch := url.Values{}
	for k, v := range v1 {
		tooMuch[k] = v
	}
	tooMuch.Set("refund_fee", alipay.Yuan(o.TotalFen+1))
	tooMuch.Set("notify_id", "too-much-1")
	if st, _, _ := f.Deliver(notify, f.SignNotification(tooMuch)); st != 400 {
		t.Fatalf("refund notification over the paid amount: %d", st)
	}

	// The rest: answer and notification both come; counted once; the
	// trade closes.
	no2, status := refund(o.TotalFen-300, "ali-note-2")
	if status != "succeeded" {
		t.Fatalf("second refund: %s", status)
	}
	n2, v2 := refundNote(no2) // recorded once answered
	if n2.Status != 200 || n2.Answer != "success" || v2.Get("trade_status") != "TRADE_CLOSED" || v2.Get("refund_fee") != alipay.Yuan(o.TotalFen) {
		t.Fatalf("closing notification %+v %v", n2, v2)
	}
	s.m.App.ReconcileOlderThan(t.Context(), 0)
	if tr, _ := f.Trade(testAppID, p.Intent); refunded() != o.TotalFen || tr.Refunded != o.TotalFen {
		t.Fatalf("refunded %d here, %d at Alipay, of %d", refunded(), tr.Refunded, o.TotalFen)
	}
}
