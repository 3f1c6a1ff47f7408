// Package wechatpaytest is a local WeChat Pay API v3 server for tests and
// benchmarks: it checks ShelfLive's WECHATPAY2-SHA256-RSA2048 signatures
// with each merchant's registered public key, signs its answers and
// callbacks with a key of its own (public-key mode, or platform
// certificates), encrypts callback resources with the merchant's APIv3 key,
// lets a test (or a browser on its H5 page) play the payer, and refunds.
package wechatpaytest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shelflive/shelflive/internal/payment/wechatpay"
	"github.com/shelflive/shelflive/internal/wxmsg/wxmsgtest"
)

// Fake is a running fake WeChat Pay.
type Fake struct {
	URL         string
	Key         *rsa.PrivateKey // WeChat Pay's own signing key
	PublicKeyID string
	// CertMode signs with a platform certificate (serial CertSerial) instead
	// of the public key, as accounts without a public key see.
	CertMode   bool
	CertSerial string
	certPEM    []byte

	// DropCallbacks loses callbacks (the reconciler must find the payment).
	DropCallbacks atomic.Bool
	// RefundsDown makes the refund API answer 500 SYSTEM_ERROR (a refund
	// that does not reach the vendor must be sent again later).
	RefundsDown atomic.Bool
	// RefundsAbnormal makes the bank refuse the refunds accepted meanwhile
	// (退款异常: REFUND.ABNORMAL, the money stays with the merchant).
	RefundsAbnormal atomic.Bool
	// Now is the fake's clock for timestamps (default time.Now).
	Now func() time.Time

	srv    *httptest.Server
	client *http.Client

	mu        sync.Mutex
	merchants map[string]*Merchant
	orders    map[string]*Order // by mchid/out_trade_no
	prepay    map[string]*Order // by prepay id
	refunds   map[string]*Refund
	sent      []Callback
	// official account: access tokens and jsapi tickets handed out
	accessTokens []string
	tickets      []string
	// Msg plays the official account's template messages (wxmsgtest): it
	// knows the access tokens this fake issues; tests register templates
	// and followers on it.
	Msg *wxmsgtest.Fake
	// snsTokens: snsapi access tokens → scope and openid (snsapi_userinfo)
	snsTokens map[string][2]string
}

// Merchant is an account the fake knows: what WeChat Pay keeps of it.
type Merchant struct {
	MchID, AppID, APIv3Key, Serial string
	Pub                            *rsa.PublicKey // the merchant API certificate's key
	// Bound are more appids bound to the 商户号 (AppID账号管理), e.g. a
	// mini-program: orders may be made for them too.
	Bound []string
}

// Order is a fake vendor order.
type Order struct {
	MchID, AppID, OutTradeNo, TransactionID, State, NotifyURL, Kind, PrepayID string
	OpenID                                                                    string // JSAPI: the payer
	Total, Refunded                                                           int64
}

// Refund is a fake vendor refund.
type Refund struct {
	MchID, OutTradeNo, OutRefundNo, RefundID, Status, NotifyURL string
	Amount, Total                                               int64
}

// Callback is one callback the fake sent (tests replay or tamper with it).
type Callback struct {
	URL    string
	Header http.Header
	Body   []byte
	Status int
}

// Start runs a fake on a free port until Close.
func Start() (*Fake, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	f := &Fake{Key: key, PublicKeyID: "PUB_KEY_ID_0114232134912410000000000000", CertSerial: "5157F09EFDC096DE15EBE81A47057A72",
		Now: time.Now, merchants: map[string]*Merchant{}, orders: map[string]*Order{}, prepay: map[string]*Order{}, refunds: map[string]*Refund{},
		client: &http.Client{Timeout: 10 * time.Second}}
	serial, _ := new(big.Int).SetString(f.CertSerial, 16)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "Tenpay.com Root CA (fake)"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(5 * 365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	f.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	f.Msg = wxmsgtest.Start()
	f.snsTokens = map[string][2]string{}
	f.srv = httptest.NewServer(f.routes())
	f.URL = f.srv.URL
	return f, nil
}

// Close stops the server.
func (f *Fake) Close() { f.srv.Close(); f.Msg.Close() }

// PublicKeyPEM is the WeChat Pay public key a merchant pastes.
func (f *Fake) PublicKeyPEM() string {
	der, _ := x509.MarshalPKIXPublicKey(&f.Key.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// NewMerchant registers an account and returns the settings its owner
// pastes into ShelfLive (PUT /api/v1/payments/wechatpay).
func (f *Fake) NewMerchant(mchid string) (*Merchant, map[string]string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	m := &Merchant{MchID: mchid, AppID: "wx" + randHex(8), APIv3Key: randHex(16), Serial: strings.ToUpper("3775B6A45ACD588826D15E583A95F5DD" + randHex(4)), Pub: &key.PublicKey}
	f.mu.Lock()
	f.merchants[mchid] = m
	f.mu.Unlock()
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	settings := map[string]string{"mchid": m.MchID, "appid": m.AppID, "serial_no": m.Serial,
		"private_key_pem": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "apiv3_key": m.APIv3Key, "app_secret": OAuthSecret}
	if !f.CertMode {
		settings["public_key_id"], settings["public_key_pem"] = f.PublicKeyID, f.PublicKeyPEM()
	}
	return m, settings, nil
}

// BindAppID binds another appid (a mini-program's) to a merchant, as the
// merchant platform's AppID账号管理 does.
func (f *Fake) BindAppID(mchid, appid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.merchants[mchid]; m != nil {
		m.Bound = append(m.Bound, appid)
	}
}

// Order returns a copy of a vendor order.
func (f *Fake) Order(mchid, outTradeNo string) (Order, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[mchid+"/"+outTradeNo]
	if !ok {
		return Order{}, false
	}
	return *o, true
}

// Sent lists the callbacks sent so far.
func (f *Fake) Sent() []Callback {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Callback(nil), f.sent...)
}

// Pay plays the payer: the order becomes SUCCESS and its callback is sent
// (unless callbacks are dropped). It returns ShelfLive's answer status.
func (f *Fake) Pay(mchid, outTradeNo string) (int, error) {
	f.mu.Lock()
	o, ok := f.orders[mchid+"/"+outTradeNo]
	if !ok {
		f.mu.Unlock()
		return 0, fmt.Errorf("wechatpaytest: no order %s", outTradeNo)
	}
	if o.State == "NOTPAY" {
		o.State, o.TransactionID = "SUCCESS", "4200"+randHex(10)
	}
	tx := f.transaction(o)
	notify := o.NotifyURL
	f.mu.Unlock()
	return f.Notify(notify, mchid, "TRANSACTION.SUCCESS", "transaction", tx)
}

func (f *Fake) transaction(o *Order) wechatpay.Transaction {
	return wechatpay.Transaction{MchID: o.MchID, AppID: o.AppID, OutTradeNo: o.OutTradeNo, TransactionID: o.TransactionID,
		TradeState: o.State, Amount: wechatpay.Amount{Total: o.Total, Currency: "CNY"}}
}

// Notify sends a callback of the event about payload, encrypted with the
// merchant's APIv3 key and signed by WeChat Pay, to url.
func (f *Fake) Notify(url, mchid, event, originalType string, payload any) (int, error) {
	if f.DropCallbacks.Load() {
		return 0, nil
	}
	body, h, err := f.Callback(mchid, event, originalType, payload, f.Now())
	if err != nil {
		return 0, err
	}
	return f.Deliver(url, h, body)
}

// Callback builds a signed, encrypted callback without sending it.
func (f *Fake) Callback(mchid, event, originalType string, payload any, at time.Time) ([]byte, http.Header, error) {
	f.mu.Lock()
	m := f.merchants[mchid]
	f.mu.Unlock()
	if m == nil {
		return nil, nil, fmt.Errorf("wechatpaytest: unknown merchant %s", mchid)
	}
	plain, _ := json.Marshal(payload)
	res, err := wechatpay.Encrypt(m.APIv3Key, plain, originalType, originalType)
	if err != nil {
		return nil, nil, err
	}
	body, _ := json.Marshal(map[string]any{"id": randHex(16), "create_time": at.Format(time.RFC3339), "resource_type": "encrypt-resource",
		"event_type": event, "summary": "支付成功", "resource": res})
	return body, f.signHeader(body, at), nil
}

// Deliver posts a callback and records it.
func (f *Fake) Deliver(url string, h http.Header, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = h.Clone()
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	f.mu.Lock()
	f.sent = append(f.sent, Callback{URL: url, Header: h.Clone(), Body: body, Status: resp.StatusCode})
	f.mu.Unlock()
	return resp.StatusCode, nil
}

// signHeader signs a message from WeChat Pay (answer or callback).
func (f *Fake) signHeader(body []byte, at time.Time) http.Header {
	ts, nonce := strconv.FormatInt(at.Unix(), 10), wechatpay.NonceStr()
	sig, _ := wechatpay.SignMessage(f.Key, ts, nonce, string(body))
	serial := f.PublicKeyID
	if f.CertMode {
		serial = f.CertSerial
	}
	h := http.Header{}
	h.Set("Wechatpay-Timestamp", ts)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Signature", sig)
	h.Set("Wechatpay-Serial", serial)
	return h
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
