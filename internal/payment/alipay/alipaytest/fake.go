// Package alipaytest is a local Alipay OpenAPI gateway for tests: it checks
// ShelfLive's RSA2 request signatures with each app's registered public key,
// signs its answers and notifications with a key of its own, serves a WAP
// cashier a browser (or a test) confirms, and refunds.
package alipaytest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/payment/alipay"
)

// Fake is a running fake Alipay gateway (URL is the gateway.do URL).
type Fake struct {
	URL string
	Key *rsa.PrivateKey // Alipay's own key
	// DropNotifications loses notifications (the reconciler must find the payment).
	DropNotifications atomic.Bool
	Now               func() time.Time

	srv    *httptest.Server
	client *http.Client

	// RefundAnswerLost makes alipay.trade.refund refund (and notify) but
	// answer ACQ.SYSTEM_ERROR, as when the answer is lost on the way: only
	// the refund notification (or a later query) tells ShelfLive.
	RefundAnswerLost atomic.Bool

	mu      sync.Mutex
	apps    map[string]*rsa.PublicKey
	trades  map[string]*Trade // app_id/out_trade_no
	refunds map[string]*Refund
	sent    []Notification
}

// Trade is a fake trade.
type Trade struct {
	AppID, OutTradeNo, TradeNo, Status, NotifyURL, ReturnURL string
	Total, Refunded                                          int64
}

// Refund is a fake refund.
type Refund struct {
	OutTradeNo, OutRequestNo string
	Amount                   int64
}

// Notification is one notification the fake sent.
type Notification struct {
	URL    string
	Body   string
	Status int    // ShelfLive's answer
	Answer string // "success" when accepted
}

// Start runs a fake on a free port until Close.
func Start() (*Fake, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	f := &Fake{Key: key, Now: time.Now, apps: map[string]*rsa.PublicKey{}, trades: map[string]*Trade{}, refunds: map[string]*Refund{},
		client: &http.Client{Timeout: 10 * time.Second}}
	mux := http.NewServeMux()
	mux.HandleFunc("/gateway.do", f.gateway)
	mux.HandleFunc("POST /fake/wap/pay", f.wapPay)
	f.srv = httptest.NewServer(mux)
	f.URL = f.srv.URL + "/gateway.do"
	return f, nil
}

// Close stops the server.
func (f *Fake) Close() { f.srv.Close() }

// PublicKeyPEM is the Alipay public key a merchant pastes.
func (f *Fake) PublicKeyPEM() string {
	der, _ := x509.MarshalPKIXPublicKey(&f.Key.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// NewApp registers an app and returns the settings its owner pastes
// (PUT /api/v1/payments/alipay).
func (f *Fake) NewApp(appID string) (map[string]string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.apps[appID] = &key.PublicKey
	f.mu.Unlock()
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	return map[string]string{"app_id": appID, "private_key_pem": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"alipay_public_key_pem": f.PublicKeyPEM()}, nil
}

// Trade returns a copy of a trade.
func (f *Fake) Trade(appID, outTradeNo string) (Trade, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.trades[appID+"/"+outTradeNo]
	if !ok {
		return Trade{}, false
	}
	return *t, true
}

// Sent lists the notifications sent so far.
func (f *Fake) Sent() []Notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Notification(nil), f.sent...)
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Pay plays the buyer: the trade succeeds and its notification is sent
// (unless dropped). It returns ShelfLive's answer.
func (f *Fake) Pay(appID, outTradeNo string) (int, string, error) {
	f.mu.Lock()
	t := f.trades[appID+"/"+outTradeNo]
	if t == nil {
		f.mu.Unlock()
		return 0, "", fmt.Errorf("alipaytest: no trade %s", outTradeNo)
	}
	if t.Status == "WAIT_BUYER_PAY" {
		t.Status, t.TradeNo = "TRADE_SUCCESS", "2026"+randHex(10)
	}
	v := f.notifyParams(t)
	notify := t.NotifyURL
	f.mu.Unlock()
	if f.DropNotifications.Load() {
		return 0, "", nil
	}
	return f.Deliver(notify, f.SignNotification(v))
}

func (f *Fake) notifyParams(t *Trade) url.Values {
	return url.Values{"notify_time": {f.Now().In(cn.Shanghai).Format("2006-01-02 15:04:05")}, "notify_type": {"trade_status_sync"},
		"notify_id": {randHex(16)}, "app_id": {t.AppID}, "charset": {"utf-8"}, "version": {"1.0"}, "trade_no": {t.TradeNo},
		"out_trade_no": {t.OutTradeNo}, "trade_status": {t.Status}, "total_amount": {alipay.Yuan(t.Total)}, "receipt_amount": {alipay.Yuan(t.Total)}}
}

// NotifyParams are a notification's parameters for a trade, unsigned (tests
// change them, then sign with SignNotification or a key of their own).
func (f *Fake) NotifyParams(appID, outTradeNo string) url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.notifyParams(f.trades[appID+"/"+outTradeNo])
}

// SignNotification signs notification parameters as Alipay does.
func (f *Fake) SignNotification(v url.Values) url.Values {
	v.Set("sign_type", "RSA2")
	v.Del("sign")
	sig, _ := alipay.Sign(f.Key, alipay.SignContent(v, "sign_type"))
	v.Set("sign", sig)
	return v
}

// Deliver posts a notification and records it.
func (f *Fake) Deliver(to string, v url.Values) (int, string, error) {
	body := v.Encode()
	resp, err := f.client.Post(to, "application/x-www-form-urlencoded; charset=utf-8", bytes.NewBufferString(body))
	if err != nil {
		return 0, "", err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	f.mu.Lock()
	f.sent = append(f.sent, Notification{URL: to, Body: body, Status: resp.StatusCode, Answer: string(b)})
	f.mu.Unlock()
	return resp.StatusCode, string(b), nil
}

// gateway serves the OpenAPI methods (POST) and the WAP cashier (GET).
func (f *Fake) gateway(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	v := r.Form
	method := v.Get("method")
	f.mu.Lock()
	pub := f.apps[v.Get("app_id")]
	f.mu.Unlock()
	respKey := ""
	for _, c := range method {
		if c == '.' {
			respKey += "_"
		} else {
			respKey += string(c)
		}
	}
	respKey += "_response"
	if pub == nil {
		writeJSON(w, map[string]any{respKey: map[string]string{"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-app-id", "sub_msg": "无效的AppID参数"}})
		return
	}
	if v.Get("sign_type") != "RSA2" || alipay.Verify(pub, alipay.SignContent(v), v.Get("sign")) != nil {
		writeJSON(w, map[string]any{respKey: map[string]string{"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature", "sub_msg": "验签出错"}})
		return
	}
	var biz map[string]string
	json.Unmarshal([]byte(v.Get("biz_content")), &biz)
	if method == "alipay.trade.wap.pay" && r.Method == http.MethodGet {
		f.wapPage(w, v, biz)
		return
	}
	out := f.handle(method, v, biz)
	raw, _ := json.Marshal(out)
	sig, _ := alipay.Sign(f.Key, string(raw))
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	fmt.Fprintf(w, `{"%s":%s,"sign":%q}`, respKey, raw, sig)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

func fail(sub, msg string) map[string]string {
	return map[string]string{"code": "40004", "msg": "Business Failed", "sub_code": sub, "sub_msg": msg}
}

// handle answers one signed API call.
func (f *Fake) handle(method string, v url.Values, biz map[string]string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	app := v.Get("app_id")
	t := f.trades[app+"/"+biz["out_trade_no"]]
	switch method {
	case "alipay.trade.precreate":
		fen, ok := alipay.Fen(biz["total_amount"])
		if !ok || fen <= 0 || biz["subject"] == "" {
			return fail("ACQ.INVALID_PARAMETER", "参数无效")
		}
		if t == nil {
			t = &Trade{AppID: app, OutTradeNo: biz["out_trade_no"], Status: "WAIT_BUYER_PAY", NotifyURL: v.Get("notify_url"), Total: fen}
			f.trades[app+"/"+t.OutTradeNo] = t
		}
		return map[string]string{"code": "10000", "msg": "Success", "out_trade_no": t.OutTradeNo, "qr_code": "https://qr.alipay.com/bax" + randHex(10)}
	case "alipay.trade.query":
		if t == nil {
			return fail("ACQ.TRADE_NOT_EXIST", "交易不存在")
		}
		return map[string]string{"code": "10000", "msg": "Success", "out_trade_no": t.OutTradeNo, "trade_no": t.TradeNo, "trade_status": t.Status, "total_amount": alipay.Yuan(t.Total)}
	case "alipay.trade.close":
		if t == nil {
			return fail("ACQ.TRADE_NOT_EXIST", "交易不存在")
		}
		if t.Status != "WAIT_BUYER_PAY" {
			return fail("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
		}
		t.Status = "TRADE_CLOSED"
		return map[string]string{"code": "10000", "msg": "Success", "out_trade_no": t.OutTradeNo}
	case "alipay.trade.refund":
		if t == nil {
			return fail("ACQ.TRADE_NOT_EXIST", "交易不存在")
		}
		key := app + "/" + biz["out_trade_no"] + "/" + biz["out_request_no"]
		if f.refunds[key] != nil {
			return map[string]string{"code": "10000", "msg": "Success", "fund_change": "N", "trade_no": t.TradeNo, "out_trade_no": t.OutTradeNo}
		}
		fen, ok := alipay.Fen(biz["refund_amount"])
		if !ok || fen <= 0 || t.Status != "TRADE_SUCCESS" || t.Refunded+fen > t.Total {
			return fail("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
		}
		t.Refunded += fen
		f.refunds[key] = &Refund{OutTradeNo: t.OutTradeNo, OutRequestNo: biz["out_request_no"], Amount: fen}
		// Alipay also notifies the trade's notify_url of the refund (with
		// the refund's out_request_no as out_biz_no and the trade's
		// refunded total as refund_fee), once this answer is on its way.
		note := f.notifyParams(t)
		note.Set("out_biz_no", biz["out_request_no"])
		note.Set("refund_fee", alipay.Yuan(t.Refunded))
		note.Set("gmt_refund", f.Now().In(cn.Shanghai).Format("2006-01-02 15:04:05.000"))
		if t.Refunded == t.Total {
			note.Set("trade_status", "TRADE_CLOSED")
		}
		go func(to string) {
			if !f.DropNotifications.Load() {
				f.Deliver(to, f.SignNotification(note))
			}
		}(t.NotifyURL)
		if f.RefundAnswerLost.Load() {
			return fail("ACQ.SYSTEM_ERROR", "系统错误") // done, but the answer says otherwise
		}
		return map[string]string{"code": "10000", "msg": "Success", "fund_change": "Y", "trade_no": t.TradeNo, "out_trade_no": t.OutTradeNo, "refund_fee": alipay.Yuan(t.Refunded)}
	case "alipay.trade.fastpay.refund.query":
		rf := f.refunds[app+"/"+biz["out_trade_no"]+"/"+biz["out_request_no"]]
		if rf == nil {
			return map[string]string{"code": "10000", "msg": "Success"}
		}
		return map[string]string{"code": "10000", "msg": "Success", "out_trade_no": rf.OutTradeNo, "out_request_no": rf.OutRequestNo,
			"refund_amount": alipay.Yuan(rf.Amount), "refund_status": "REFUND_SUCCESS", "trade_no": t.TradeNo}
	}
	return fail("isv.invalid-method", "不存在的方法名")
}

// wapPage is the phone cashier the signed wap.pay URL opens.
func (f *Fake) wapPage(w http.ResponseWriter, v url.Values, biz map[string]string) {
	fen, ok := alipay.Fen(biz["total_amount"])
	if !ok {
		http.Error(w, "bad amount", 400)
		return
	}
	f.mu.Lock()
	key := v.Get("app_id") + "/" + biz["out_trade_no"]
	if f.trades[key] == nil {
		f.trades[key] = &Trade{AppID: v.Get("app_id"), OutTradeNo: biz["out_trade_no"], Status: "WAIT_BUYER_PAY", NotifyURL: v.Get("notify_url"), ReturnURL: v.Get("return_url"), Total: fen}
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><meta name="viewport" content="width=device-width"><title>支付宝 (fake)</title><h1>支付宝 · Alipay (fake)</h1><p id="amount">¥%s</p>
<form method="post" action="/fake/wap/pay"><input type="hidden" name="app_id" value="%s"><input type="hidden" name="out_trade_no" value="%s"><button id="confirm" type="submit">确认付款</button></form>`,
		alipay.Yuan(fen), html.EscapeString(v.Get("app_id")), html.EscapeString(biz["out_trade_no"]))
}

func (f *Fake) wapPay(w http.ResponseWriter, r *http.Request) {
	app, no := r.FormValue("app_id"), r.FormValue("out_trade_no")
	if _, _, err := f.Pay(app, no); err != nil {
		http.Error(w, err.Error(), 502)
		return
	}
	t, _ := f.Trade(app, no)
	if u, err := url.Parse(t.ReturnURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return
	}
	w.Write([]byte("paid"))
}
