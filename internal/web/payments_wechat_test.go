package web_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/payment/wechatpay"
	"github.com/shelflive/shelflive/internal/payment/wechatpay/wechatpaytest"
	"github.com/shelflive/shelflive/internal/testkit"
)

const testSecretKey = "test-secret-key-0123456789abcdef0123456789"

// wxShop is the demo shop with a WeChat Pay account at a local fake.
type wxShop struct {
	*demoShop
	fake   *wechatpaytest.Fake
	acct   *wechatpaytest.Merchant
	mchid  string
	fields map[string]string
	notify string
}

func newWeChatShop(t *testing.T, extra ...string) *wxShop {
	t.Helper()
	f, err := wechatpaytest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	s := newShop(t, append([]string{"-wechatpay-base-url", f.URL, "-secret-key", testSecretKey}, extra...)...)
	acct, fields, err := f.NewMerchant("1900000109")
	if err != nil {
		t.Fatal(err)
	}
	r := send(t, nil, s.base, "PUT", "/api/v1/payments/wechatpay", fields, testkit.OwnerToken, nil)
	if r.Status != 200 {
		t.Fatalf("put wechatpay: %d %s", r.Status, r.Body)
	}
	mer, err := s.m.App.Users.MerchantBySlug(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	return &wxShop{demoShop: s, fake: f, acct: acct, mchid: "1900000109", fields: fields,
		notify: s.base + "/api/v1/payments/wechatpay/notify/" + strconv.FormatInt(mer.ID, 10)}
}

type payAnswer struct {
	Intent    string `json:"intent"`
	AmountFen int64  `json:"amount_fen"`
	Provider  string `json:"provider"`
	Method    string `json:"method"`
	Action    struct {
		Method  string            `json:"method"`
		H5URL   string            `json:"h5_url"`
		CodeURL string            `json:"code_url"`
		PayURL  string            `json:"pay_url"`
		JSAPI   map[string]string `json:"jsapi"`
	} `json:"action"`
}

// order places a pickup order and starts paying it with WeChat Pay.
func (s *wxShop) order(t *testing.T, token, method string) (orderView, payAnswer) {
	t.Helper()
	r := send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), token, nil)
	if r.Status != 201 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	var o orderView
	r.decode(t, &o)
	r = send(t, nil, s.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/pay", map[string]string{"provider": "wechatpay", "method": method}, token, nil)
	if r.Status != 200 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	var p payAnswer
	r.decode(t, &p)
	if p.Intent == "" || p.AmountFen != o.TotalFen || p.Provider != "wechatpay" {
		t.Fatalf("pay answer %+v for %+v", p, o)
	}
	return o, p
}

// TestWeChatPaySettings: keys go in, are checked, sealed, and never come
// out; the credential check proves them against the fake.
func TestWeChatPaySettings(t *testing.T) {
	s := newWeChatShop(t)
	r := send(t, nil, s.base, "GET", "/api/v1/payments", nil, testkit.OwnerToken, nil)
	if r.Status != 200 {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	body := string(r.Body)
	for _, secret := range []string{s.fields["apiv3_key"], pemBody(s.fields["private_key_pem"]), "PRIVATE KEY"} {
		if strings.Contains(body, secret) {
			t.Fatalf("GET /api/v1/payments shows a secret: %s", body)
		}
	}
	if !strings.Contains(body, `"mchid":"1900000109"`) || !strings.Contains(body, `"private_key":"SHA256:`) || !strings.Contains(body, `"configured":true`) {
		t.Fatalf("summary: %s", body)
	}
	// sealed at rest
	var sealed string
	if err := s.m.DB.QueryRow(t.Context(), `SELECT sealed FROM payment_accounts WHERE provider = 'wechatpay'`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, "v1:") || strings.Contains(sealed, s.fields["apiv3_key"]) || strings.Contains(sealed, "1900000109") {
		t.Fatalf("stored in the clear: %.80s", sealed)
	}
	var check struct {
		OK   bool   `json:"ok"`
		Code string `json:"code"`
	}
	send(t, nil, s.base, "POST", "/api/v1/payments/wechatpay/check", nil, testkit.OwnerToken, nil).decode(t, &check)
	if !check.OK {
		t.Fatalf("check: %+v", check)
	}

	// bad settings: refused with the field, nothing changes
	bad := clone(s.fields)
	bad["apiv3_key"] = "too-short"
	send(t, nil, s.base, "PUT", "/api/v1/payments/wechatpay", bad, testkit.OwnerToken, nil).wantProblem(t, 400, "invalid_apiv3_key")
	send(t, nil, s.base, "POST", "/api/v1/payments/wechatpay/check", nil, testkit.OwnerToken, nil).decode(t, &check)
	if !check.OK {
		t.Fatalf("a refused PUT changed the account: %+v", check)
	}
	// only the owner
	host := staffLogin(t, s.base, "host", "shelflive-demo")
	send(t, nil, s.base, "PUT", "/api/v1/payments/wechatpay", s.fields, host.Token, nil).wantProblem(t, 403, "forbidden")

	buyer := viewerLogin(t, s.base, "demo", "13900000061")
	o, p := s.order(t, buyer.Token, "native")

	// a wrong WeChat Pay public key: the check says so
	other, err := wechatpaytest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	wrong := clone(s.fields)
	wrong["public_key_pem"] = other.PublicKeyPEM()
	if r := send(t, nil, s.base, "PUT", "/api/v1/payments/wechatpay", wrong, testkit.OwnerToken, nil); r.Status != 200 {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	send(t, nil, s.base, "POST", "/api/v1/payments/wechatpay/check", nil, testkit.OwnerToken, nil).decode(t, &check)
	if check.OK || check.Code != "wechatpay_answer_unverified" {
		t.Fatalf("check with a wrong public key: %+v", check)
	}
	// its callbacks are refused too
	if st, _ := s.fake.Pay(s.mchid, p.Intent); st != 401 {
		t.Fatalf("callback verified with a wrong public key: %d", st)
	}
	if got := orderStatus(t, s.base, buyer.Token, o.ID); got.Status != "pending_payment" {
		t.Fatalf("order %s", got.Status)
	}
}

// paidAt is when the order was paid, as its buyer sees it.
func paidAt(t *testing.T, base, token string, id int64) time.Time {
	t.Helper()
	var v struct {
		Status string     `json:"status"`
		PaidAt *time.Time `json:"paid_at"`
	}
	send(t, nil, base, "GET", "/api/v1/orders/"+strconv.FormatInt(id, 10), nil, token, nil).decode(t, &v)
	if v.PaidAt == nil {
		t.Fatalf("order %d is %s, not paid", id, v.Status)
	}
	return *v.PaidAt
}

func pemBody(p string) string {
	lines := strings.Split(strings.TrimSpace(p), "\n")
	return lines[1]
}

func clone(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestWeChatPayH5 pays an order on the fake's H5 cashier: the callback
// marks it paid; forged, tampered, replayed, stale, wrong-amount and
// foreign callbacks change nothing.
func TestWeChatPayH5(t *testing.T) {
	s := newWeChatShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900000062")
	o, p := s.order(t, buyer.Token, "h5")
	if !strings.HasPrefix(p.Action.H5URL, s.fake.URL+"/fake/h5?") || !strings.Contains(p.Action.H5URL, "redirect_url=") {
		t.Fatalf("h5 action %+v", p.Action)
	}
	var opts struct {
		Providers []string `json:"providers"`
	}
	send(t, nil, s.base, "GET", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/payment-options", nil, buyer.Token, nil).decode(t, &opts)
	if strings.Join(opts.Providers, ",") != "wechatpay,dev" {
		t.Fatalf("options %v", opts.Providers)
	}
	stock := s.stock(t)
	tx := wechatpay.Transaction{MchID: s.mchid, AppID: s.fields["appid"], OutTradeNo: p.Intent, TransactionID: "4200000001", TradeState: "SUCCESS",
		Amount: wechatpay.Amount{Total: o.TotalFen, Currency: "CNY"}}

	refused := func(name string, h http.Header, body []byte, status int) {
		t.Helper()
		st, err := s.fake.Deliver(s.notify, h, body)
		if err != nil || st != status {
			t.Fatalf("%s: answered %d (%v), want %d", name, st, err, status)
		}
		if got := orderStatus(t, s.base, buyer.Token, o.ID); got.Status != "pending_payment" {
			t.Fatalf("%s: order %s", name, got.Status)
		}
	}
	// forged: signed with a key that is not WeChat Pay's
	body, h, err := s.fake.Callback(s.mchid, "TRANSACTION.SUCCESS", "transaction", tx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	forger, _ := rsa.GenerateKey(rand.Reader, 2048)
	sig, _ := wechatpay.SignMessage(forger, h.Get("Wechatpay-Timestamp"), h.Get("Wechatpay-Nonce"), string(body))
	fh := h.Clone()
	fh.Set("Wechatpay-Signature", sig)
	refused("forged", fh, body, 401)
	// tampered: one byte of the signed body changed
	refused("tampered", h, bytes.Replace(body, []byte(`"summary":"`), []byte(`"summary":"X`), 1), 401)
	// stale: a genuine callback from 10 minutes ago
	old, oh, _ := s.fake.Callback(s.mchid, "TRANSACTION.SUCCESS", "transaction", tx, time.Now().Add(-10*time.Minute))
	refused("stale", oh, old, 401)
	// wrong amount
	cheap := tx
	cheap.Amount.Total = o.TotalFen - 1
	cb, ch, _ := s.fake.Callback(s.mchid, "TRANSACTION.SUCCESS", "transaction", cheap, time.Now())
	refused("amount", ch, cb, 409)
	// another merchant number inside a resource under this account's key
	foreign := tx
	foreign.MchID = "1900000999"
	cb, ch, _ = s.fake.Callback(s.mchid, "TRANSACTION.SUCCESS", "transaction", foreign, time.Now())
	refused("foreign mchid", ch, cb, 401)
	// another merchant's genuine account, calling back at its own URL about
	// this merchant's intent
	other := &identity.Merchant{Slug: "rival", Name: "对手"}
	if err := s.m.App.Users.CreateMerchant(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	_, rivalFields, _ := s.fake.NewMerchant("1900000777")
	if _, err := s.m.App.Pay.Accounts.Put(t.Context(), other.ID, "wechatpay", rivalFields); err != nil {
		t.Fatal(err)
	}
	rtx := tx
	rtx.MchID, rtx.AppID = "1900000777", rivalFields["appid"]
	cb, ch, _ = s.fake.Callback("1900000777", "TRANSACTION.SUCCESS", "transaction", rtx, time.Now())
	st, _ := s.fake.Deliver(s.base+"/api/v1/payments/wechatpay/notify/"+strconv.FormatInt(other.ID, 10), ch, cb)
	if st != 401 {
		t.Fatalf("another merchant's account paid this merchant's intent: %d", st)
	}
	// and at this merchant's URL it does not even decrypt
	refused("rival at our URL", ch, cb, 401)
	if s.stock(t) != stock {
		t.Fatal("refused callbacks changed stock")
	}

	// the buyer pays on the fake's H5 page
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.PostForm(s.fake.URL+"/fake/h5/pay", map[string][]string{"prepay_id": {strings.TrimPrefix(strings.Split(p.Action.H5URL, "&")[0], s.fake.URL+"/fake/h5?prepay_id=")},
		"redirect_url": {s.base + "/orders/" + strconv.FormatInt(o.ID, 10)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 || !strings.HasSuffix(resp.Header.Get("Location"), "/orders/"+strconv.FormatInt(o.ID, 10)) {
		t.Fatalf("h5 pay: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	paid := paidAt(t, s.base, buyer.Token, o.ID)
	// replayed: the very callback again is acknowledged and changes nothing
	sent := s.fake.Sent()
	last := sent[len(sent)-1]
	if st, _ := s.fake.Deliver(last.URL, last.Header, last.Body); st != 200 {
		t.Fatalf("replay answered %d", st)
	}
	if again := paidAt(t, s.base, buyer.Token, o.ID); !again.Equal(paid) {
		t.Fatalf("replay changed the order: paid at %v, then %v", paid, again)
	}
	var n int
	s.m.DB.QueryRow(t.Context(), `SELECT COUNT(*) FROM payments WHERE status = 'paid'`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d paid intents", n)
	}
}

// TestWeChatPayReconcileAndRefund: a dropped callback is found by the
// reconciler, once; a partial refund finishes with its refund callback,
// once under retries; cancelling refunds the rest.
func TestWeChatPayReconcileAndRefund(t *testing.T) {
	s := newWeChatShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900000063")
	o, p := s.order(t, buyer.Token, "native")
	if !strings.HasPrefix(p.Action.CodeURL, "weixin://wxpay/bizpayurl?pr=") {
		t.Fatalf("native action %+v", p.Action)
	}
	s.fake.DropCallbacks.Store(true)
	if _, err := s.fake.Pay(s.mchid, p.Intent); err != nil {
		t.Fatal(err)
	}
	if got := orderStatus(t, s.base, buyer.Token, o.ID); got.Status != "pending_payment" {
		t.Fatalf("order %s without a callback", got.Status)
	}
	s.m.App.ReconcileOlderThan(t.Context(), 0)
	paid := paidAt(t, s.base, buyer.Token, o.ID)
	s.m.App.ReconcileOlderThan(t.Context(), 0)
	s.fake.DropCallbacks.Store(false)
	if st, _ := s.fake.Pay(s.mchid, p.Intent); st != 200 { // the late callback: acknowledged, nothing changes
		t.Fatalf("late callback answered %d", st)
	}
	if again := paidAt(t, s.base, buyer.Token, o.ID); !again.Equal(paid) {
		t.Fatalf("paid twice: %v then %v", paid, again)
	}

	// partial refund, retried with the same key
	path := "/api/v1/orders/" + strconv.FormatInt(o.ID, 10) + "/refunds"
	key := map[string]string{"Idempotency-Key": "refund-1"}
	var rf struct {
		RefundNo  string `json:"refund_no"`
		Status    string `json:"status"`
		AmountFen int64  `json:"amount_fen"`
	}
	r := send(t, nil, s.base, "POST", path, map[string]any{"amount_fen": 100, "reason": "少了一个"}, testkit.OwnerToken, key)
	if r.Status != 200 {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}
	r.decode(t, &rf)
	if (rf.Status != "pending" && rf.Status != "succeeded") || rf.AmountFen != 100 { // the fake may call back before the answer
		t.Fatalf("refund %+v", rf)
	}
	refunded := func() int64 {
		var v struct {
			RefundedFen int64 `json:"refunded_fen"`
		}
		send(t, nil, s.base, "GET", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10), nil, testkit.OwnerToken, nil).decode(t, &v)
		return v.RefundedFen
	}
	testkit.WaitFor(t, "refund callback", 20*time.Second, func() bool { return refunded() == 100 })
	var again struct {
		RefundNo string `json:"refund_no"`
		Status   string `json:"status"`
	}
	send(t, nil, s.base, "POST", path, map[string]any{"amount_fen": 100, "reason": "少了一个"}, testkit.OwnerToken, key).decode(t, &again)
	if again.RefundNo != rf.RefundNo || again.Status != "succeeded" {
		t.Fatalf("retry: %+v, first %+v", again, rf)
	}
	sent := s.fake.Sent()
	last := sent[len(sent)-1]
	if st, _ := s.fake.Deliver(last.URL, last.Header, last.Body); st != 200 {
		t.Fatalf("refund callback replay answered %d", st)
	}
	s.m.App.ReconcileOlderThan(t.Context(), 0)
	if got := refunded(); got != 100 {
		t.Fatalf("refunded %d after retries", got)
	}
	send(t, nil, s.base, "POST", path, map[string]any{"amount_fen": o.TotalFen}, testkit.OwnerToken, map[string]string{"Idempotency-Key": "refund-2"}).wantProblem(t, 409, "refund_exceeds_paid")
	var audit struct {
		Entries []struct {
			Action string `json:"action"`
		} `json:"entries"`
	}
	send(t, nil, s.base, "GET", "/api/v1/audit", nil, testkit.OwnerToken, nil).decode(t, &audit)
	raw, _ := json.Marshal(audit)
	if !strings.Contains(string(raw), "order.refund") {
		t.Fatalf("refund not audited: %s", raw)
	}

	// cancelling the paid order refunds the rest through WeChat Pay
	r = send(t, nil, s.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/status", map[string]string{"status": "cancelled"}, testkit.OwnerToken, nil)
	if r.Status != 200 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	testkit.WaitFor(t, "refund of the rest", 20*time.Second, func() bool { return refunded() == o.TotalFen })
	vo, _ := s.fake.Order(s.mchid, p.Intent)
	if vo.Refunded != o.TotalFen {
		t.Fatalf("vendor refunded %d of %d", vo.Refunded, o.TotalFen)
	}
}

// TestWeChatPayJSAPISignIn: inside WeChat, JSAPI needs the buyer's openid:
// the WeChat sign-in round trip (snsapi_base, on the fake) keeps it in a
// MACed cookie, and paying with JSAPI then answers the WeixinJSBridge
// parameters; without it, or with a forged state, it is refused.
func TestWeChatPayJSAPISignIn(t *testing.T) {
	s := newWeChatShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900000064")
	r := send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), buyer.Token, nil)
	var o orderView
	r.decode(t, &o)
	pay := "/api/v1/orders/" + strconv.FormatInt(o.ID, 10) + "/pay"
	send(t, nil, s.base, "POST", pay, map[string]string{"provider": "wechatpay", "method": "jsapi"}, buyer.Token, nil).wantProblem(t, 409, "openid_required")

	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 20 * time.Second}
	get := func(u string, cookie string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+buyer.Token)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	next := "/orders/" + strconv.FormatInt(o.ID, 10) + "?pay=1"
	resp := get(s.base+"/wechat/oauth?next="+url.QueryEscape(next), "")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 302 || !strings.HasPrefix(loc, s.fake.URL+"/connect/oauth2/authorize?") || !strings.Contains(loc, "snsapi_base") {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, loc)
	}
	resp = get(strings.Split(loc, "#")[0], "")
	back := resp.Header.Get("Location")
	if !strings.HasPrefix(back, s.base+"/wechat/oauth/callback?") {
		t.Fatalf("authorize: %d %s", resp.StatusCode, back)
	}
	// a forged state is refused
	bu, _ := url.Parse(back)
	q := bu.Query()
	q.Set("state", q.Get("state")+"x")
	bu.RawQuery = q.Encode()
	if resp := get(bu.String(), ""); resp.StatusCode != 302 || resp.Header.Get("Location") != "/orders/"+strconv.FormatInt(o.ID, 10) || len(resp.Cookies()) != 0 {
		t.Fatalf("forged state: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = get(back, "")
	if resp.StatusCode != 302 || resp.Header.Get("Location") != next {
		t.Fatalf("callback: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "sl_wx_openid" && c.HttpOnly {
			cookie = c.Name + "=" + c.Value
		}
	}
	if cookie == "" {
		t.Fatal("no openid cookie")
	}
	r = send(t, nil, s.base, "POST", pay, map[string]string{"provider": "wechatpay", "method": "jsapi"}, buyer.Token, map[string]string{"Cookie": cookie})
	if r.Status != 200 {
		t.Fatalf("jsapi: %d %s", r.Status, r.Body)
	}
	var p payAnswer
	r.decode(t, &p)
	j := p.Action.JSAPI
	if j["appId"] != s.fields["appid"] || !strings.HasPrefix(j["package"], "prepay_id=") || j["signType"] != "RSA" || j["paySign"] == "" {
		t.Fatalf("jsapi params %v", j)
	}
	if vo, ok := s.fake.Order(s.mchid, p.Intent); !ok || vo.Kind != "jsapi" {
		t.Fatalf("vendor order %+v", vo)
	}
	// a made-up cookie is not an openid
	send(t, nil, s.base, "POST", pay, map[string]string{"provider": "wechatpay", "method": "jsapi"}, buyer.Token, map[string]string{"Cookie": "sl_wx_openid=b3BlbmlkLXg.AAAA"}).wantProblem(t, 409, "openid_required")
}

// TestWeChatPayPaidTooLate: the buyer pays an order on WeChat Pay as it is
// cancelled (WeChat Pay's callback comes after the cancel, whose close of
// the vendor order was refused: already paid). The callback is
// acknowledged, the order stays cancelled, and the money goes back by
// itself through WeChat Pay's refund API — once, however often WeChat Pay
// calls back, audited, with a message in the buyer's inbox. When the
// refund API is down at that moment, the refund waits, survives a restart,
// and the reconciler sends it once the vendor is back.
func TestWeChatPayPaidTooLate(t *testing.T) {
	dir := t.TempDir()
	s := newWeChatShop(t, "-data-dir", dir)
	buyer := viewerLogin(t, s.base, "demo", "13900000091")
	cancelThenPay := func(base string) (orderView, payAnswer) {
		o, p := s.order(t, buyer.Token, "h5")
		s.fake.DropCallbacks.Store(true)
		s.fake.Pay(s.mchid, p.Intent) // paid at WeChat Pay; the callback is late
		s.fake.DropCallbacks.Store(false)
		send(t, nil, base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/cancel", nil, buyer.Token, nil).want(t, 200)
		if st, err := s.fake.Pay(s.mchid, p.Intent); err != nil || st != 200 { // WeChat Pay calls back
			t.Fatalf("the callback after the cancel: %d %v (want acknowledged)", st, err)
		}
		return o, p
	}
	type refundList struct {
		Refunds []struct {
			Status    string `json:"status"`
			AmountFen int64  `json:"amount_fen"`
			Actor     string `json:"actor"`
		} `json:"refunds"`
	}
	refunds := func(base string, id int64) refundList {
		var l refundList
		send(t, nil, base, "GET", "/api/v1/orders/"+strconv.FormatInt(id, 10)+"/refunds", nil, testkit.OwnerToken, nil).want(t, 200).decode(t, &l)
		return l
	}

	o, p := cancelThenPay(s.base)
	testkit.WaitFor(t, "the automatic refund", 20*time.Second, func() bool {
		return orderStatus(t, s.base, buyer.Token, o.ID).RefundedFen == o.TotalFen
	})
	// WeChat Pay retries the same callback: acknowledged, nothing more.
	for _, c := range s.fake.Sent() {
		if strings.Contains(string(c.Body), "TRANSACTION.SUCCESS") {
			if st, err := s.fake.Deliver(c.URL, c.Header, c.Body); err != nil || st != 200 {
				t.Fatalf("retried callback: %d %v", st, err)
			}
		}
	}
	s.m.App.ReconcileOlderThan(t.Context(), 0)
	if l := refunds(s.base, o.ID); len(l.Refunds) != 1 || l.Refunds[0].Status != "succeeded" || l.Refunds[0].AmountFen != o.TotalFen || l.Refunds[0].Actor != "payment.auto_refund" {
		t.Fatalf("refunds %+v", l)
	}
	if vo, _ := s.fake.Order(s.mchid, p.Intent); vo.Refunded != o.TotalFen {
		t.Fatalf("WeChat Pay refunded %d of %d", vo.Refunded, o.TotalFen)
	}
	if got := orderStatus(t, s.base, buyer.Token, o.ID); got.Status != "cancelled" {
		t.Fatalf("the order after the late payment: %+v", got)
	}
	if n := auditCount(t, s.demoShop, "payment.auto_refund"); n != 1 {
		t.Fatalf("%d payment.auto_refund audit entries", n)
	}
	var inbox struct {
		Messages []struct {
			Kind, Title, URL string
		} `json:"messages"`
	}
	send(t, nil, s.base, "GET", "/api/v1/me/inbox", nil, buyer.Token, nil).want(t, 200).decode(t, &inbox)
	if len(inbox.Messages) != 1 || inbox.Messages[0].Kind != "refund" || inbox.Messages[0].URL != "/orders/"+strconv.FormatInt(o.ID, 10) || !strings.Contains(inbox.Messages[0].Title, o.Number) {
		t.Fatalf("the buyer's inbox: %+v", inbox)
	}

	// The refund API is down when the late payment comes; then a restart.
	s.fake.RefundsDown.Store(true)
	o2, p2 := cancelThenPay(s.base)
	if l := refunds(s.base, o2.ID); len(l.Refunds) != 1 || l.Refunds[0].Status != "pending" {
		t.Fatalf("refund while WeChat Pay is down: %+v", l)
	}
	s.m.Close()
	m2 := testkit.StartNode(t, dir, "-wechatpay-base-url", s.fake.URL, "-secret-key", testSecretKey)
	s.fake.RefundsDown.Store(false)
	m2.App.ReconcileOlderThan(t.Context(), 0)
	testkit.WaitFor(t, "the refund after the restart", 20*time.Second, func() bool {
		return orderStatus(t, m2.URL(), buyer.Token, o2.ID).RefundedFen == o2.TotalFen
	})
	m2.App.ReconcileOlderThan(t.Context(), 0)
	if vo, _ := s.fake.Order(s.mchid, p2.Intent); vo.Refunded != o2.TotalFen {
		t.Fatalf("WeChat Pay refunded %d of %d after the restart", vo.Refunded, o2.TotalFen)
	}
	if l := refunds(m2.URL(), o2.ID); len(l.Refunds) != 1 || l.Refunds[0].Status != "succeeded" {
		t.Fatalf("refunds after the restart %+v", l)
	}
}
