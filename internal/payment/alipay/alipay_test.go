package alipay_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/payment/alipay"
	"github.com/shelflive/shelflive/internal/payment/alipay/alipaytest"
)

const appID = "2021000000000001"

// clock is the tests' one instant, in China time as Alipay writes it.
var clock = time.Date(2026, 12, 7, 8, 30, 0, 0, time.UTC)

func mustKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pubPEM(k *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func privPEM(k *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// newClient opens a client of the settings (as a merchant pastes them)
// against the gateway at base.
func newClient(t testing.TB, fields map[string]string, base string) *alipay.Client {
	t.Helper()
	settings, _, err := alipay.Parse(fields)
	if err != nil {
		t.Fatalf("parse settings: %v", err)
	}
	c, err := alipay.New(7, settings, base, nil, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startFake runs the local Alipay with one registered app and a client of it.
func startFake(t testing.TB) (*alipaytest.Fake, *alipay.Client) {
	t.Helper()
	f, err := alipaytest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	f.Now = func() time.Time { return clock }
	fields, err := f.NewApp(appID)
	if err != nil {
		t.Fatal(err)
	}
	return f, newClient(t, fields, f.URL)
}

// canonical is Alipay's string to sign, written out here without the
// package: every parameter with a value but the skipped ones, sorted by
// name, name=value joined by &, values not URL-encoded.
func canonical(v url.Values, skip ...string) string {
	var parts []string
	for k := range v {
		if v.Get(k) == "" || k == "sign" || strings.Contains(","+strings.Join(skip, ",")+",", ","+k+",") {
			continue
		}
		parts = append(parts, k+"="+v.Get(k))
	}
	sort.Strings(parts)
	return strings.Join(parts, "&")
}

func TestSignContent(t *testing.T) {
	v := url.Values{"method": {"alipay.trade.query"}, "app_id": {appID}, "sign": {"xx"}, "sign_type": {"RSA2"}, "charset": {"utf-8"},
		"biz_content": {`{"out_trade_no":"a&b=c"}`}, "notify_url": {""}, "timestamp": {"2026-12-07 16:30:00"}}
	t.Run("Request", func(t *testing.T) {
		// A request signs sign_type too; sign and empty values are left out.
		want := `app_id=` + appID + `&biz_content={"out_trade_no":"a&b=c"}&charset=utf-8&method=alipay.trade.query&sign_type=RSA2&timestamp=2026-12-07 16:30:00`
		if got := alipay.SignContent(v); got != want {
			t.Fatalf("request content\n got %s\nwant %s", got, want)
		}
	})
	t.Run("Notification", func(t *testing.T) {
		// A notification's content leaves out sign and sign_type.
		want := `app_id=` + appID + `&biz_content={"out_trade_no":"a&b=c"}&charset=utf-8&method=alipay.trade.query&timestamp=2026-12-07 16:30:00`
		if got := alipay.SignContent(v, "sign_type"); got != want {
			t.Fatalf("notification content\n got %s\nwant %s", got, want)
		}
	})
}

// TestSignRSA2: the signature is RSA PKCS#1 v1.5 over SHA-256, base64,
// checked here with the standard library directly; it is deterministic
// (PSS would not be), and Verify refuses a changed text, another key and
// malformed base64.
func TestSignRSA2(t *testing.T) {
	k := mustKey(t)
	content := "app_id=" + appID + "&total_amount=12.34"
	sig, err := alipay.Sign(k, content)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		t.Fatalf("signature is not standard base64: %v", err)
	}
	sum := sha256.Sum256([]byte(content))
	if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, sum[:], raw); err != nil {
		t.Fatalf("not RSA2 (PKCS#1 v1.5, SHA-256): %v", err)
	}
	if again, _ := alipay.Sign(k, content); again != sig {
		t.Fatal("two signatures of the same text differ: not PKCS#1 v1.5")
	}
	if err := alipay.Verify(&k.PublicKey, content, sig); err != nil {
		t.Fatalf("own signature: %v", err)
	}
	for name, tc := range map[string]struct {
		pub     *rsa.PublicKey
		content string
		sig     string
	}{
		"ErrAlteredAmount": {&k.PublicKey, "app_id=" + appID + "&total_amount=12.35", sig},
		"ErrWrongKey":      {&mustKey(t).PublicKey, content, sig},
		"ErrNotBase64":     {&k.PublicKey, content, "%%%"},
		"ErrEmpty":         {&k.PublicKey, content, ""},
	} {
		t.Run(name, func(t *testing.T) {
			if alipay.Verify(tc.pub, tc.content, tc.sig) == nil {
				t.Fatal("verified")
			}
		})
	}
}

// TestRequestSigned: what the client posts is signed with the app key over
// the canonical string (sign_type included), carries Alipay's common
// parameters, and the amount in yuan with two decimals.
func TestRequestSigned(t *testing.T) {
	appKey, aliKey := mustKey(t), mustKey(t)
	var got url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got = r.PostForm
		writeSigned(w, aliKey, "alipay_trade_precreate_response", `{"code":"10000","msg":"Success","out_trade_no":"i-1","qr_code":"https://qr.alipay.com/x"}`)
	}))
	defer srv.Close()
	c := newClient(t, map[string]string{"app_id": appID, "private_key_pem": privPEM(appKey), "alipay_public_key_pem": pubPEM(&aliKey.PublicKey)}, srv.URL)
	act, err := c.Start(context.Background(), &payment.Intent{Intent: "i-1", AmountFen: 1234}, payment.StartRequest{Method: payment.MethodQR, Description: "草莓", NotifyURL: "https://shop.example/notify"})
	if err != nil {
		t.Fatal(err)
	}
	if act.CodeURL != "https://qr.alipay.com/x" {
		t.Fatalf("action %+v", act)
	}
	sig, _ := base64.StdEncoding.DecodeString(got.Get("sign"))
	sum := sha256.Sum256([]byte(canonical(got)))
	if err := rsa.VerifyPKCS1v15(&appKey.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("the request's sign does not cover the canonical string %q: %v", canonical(got), err)
	}
	for k, want := range map[string]string{"app_id": appID, "method": "alipay.trade.precreate", "sign_type": "RSA2", "charset": "utf-8",
		"format": "JSON", "version": "1.0", "timestamp": "2026-12-07 16:30:00", "notify_url": "https://shop.example/notify"} {
		if got.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, got.Get(k), want)
		}
	}
	var biz map[string]string
	json.Unmarshal([]byte(got.Get("biz_content")), &biz)
	if biz["total_amount"] != "12.34" || biz["out_trade_no"] != "i-1" || biz["subject"] != "草莓" {
		t.Fatalf("biz_content %v", biz)
	}
	t.Run("WAP", func(t *testing.T) {
		// The phone's URL is the gateway with the signed parameters.
		act, err := c.Start(context.Background(), &payment.Intent{Intent: "i-2", AmountFen: 5}, payment.StartRequest{Method: payment.MethodWAP, ReturnURL: "https://shop.example/o/1"})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(act.PayURL)
		q := u.Query()
		sig, _ := base64.StdEncoding.DecodeString(q.Get("sign"))
		sum := sha256.Sum256([]byte(canonical(q)))
		if q.Get("method") != "alipay.trade.wap.pay" || rsa.VerifyPKCS1v15(&appKey.PublicKey, crypto.SHA256, sum[:], sig) != nil {
			t.Fatalf("WAP URL not signed over its parameters: %s", act.PayURL)
		}
		json.Unmarshal([]byte(q.Get("biz_content")), &biz)
		if biz["total_amount"] != "0.05" {
			t.Fatalf("5 fen sent as %q", biz["total_amount"])
		}
	})
}

// writeSigned answers as Alipay: {"<method>_response": member, "sign": RSA2 over member's exact text}.
func writeSigned(w http.ResponseWriter, key *rsa.PrivateKey, member, raw string) {
	sig, _ := alipay.Sign(key, raw)
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	fmt.Fprintf(w, `{"%s":%s,"sign":%q}`, member, raw, sig)
}

// TestAnswerVerified: a synchronous answer counts only when Alipay's key
// signed its exact text and it is about the trade asked for.
func TestAnswerVerified(t *testing.T) {
	appKey, aliKey := mustKey(t), mustKey(t)
	const paid = `{"code":"10000","msg":"Success","out_trade_no":"i-1","trade_no":"2026x","trade_status":"TRADE_SUCCESS","total_amount":"12.34"}`
	cases := map[string]struct {
		answer func(w http.ResponseWriter)
		want   error
	}{
		"OK": {func(w http.ResponseWriter) { writeSigned(w, aliKey, "alipay_trade_query_response", paid) }, nil},
		"ErrWrongKey": {func(w http.ResponseWriter) { writeSigned(w, mustKey(t), "alipay_trade_query_response", paid) },
			alipay.ErrUnsigned},
		"ErrForgedSignature": {func(w http.ResponseWriter) {
			fmt.Fprintf(w, `{"alipay_trade_query_response":%s,"sign":%q}`, paid, base64.StdEncoding.EncodeToString(make([]byte, 256)))
		}, alipay.ErrUnsigned},
		"ErrUnsignedAnswer": {func(w http.ResponseWriter) { fmt.Fprintf(w, `{"alipay_trade_query_response":%s}`, paid) }, alipay.ErrUnsigned},
		"ErrAlteredAmount": {func(w http.ResponseWriter) {
			sig, _ := alipay.Sign(aliKey, paid)
			fmt.Fprintf(w, `{"alipay_trade_query_response":%s,"sign":%q}`, strings.Replace(paid, "12.34", "0.01", 1), sig)
		}, alipay.ErrUnsigned},
		"ErrReformatted": {func(w http.ResponseWriter) {
			// the same JSON with other spacing is not the text Alipay signed
			sig, _ := alipay.Sign(aliKey, paid)
			fmt.Fprintf(w, `{"alipay_trade_query_response":%s,"sign":%q}`, strings.ReplaceAll(paid, ",", ", "), sig)
		}, alipay.ErrUnsigned},
		"ErrOtherTrade": {func(w http.ResponseWriter) {
			// signed, but about another out_trade_no (a replayed answer)
			writeSigned(w, aliKey, "alipay_trade_query_response", strings.Replace(paid, `"i-1"`, `"i-2"`, 1))
		}, payment.ErrBadCallback},
		"ErrAmountFloat": {func(w http.ResponseWriter) {
			writeSigned(w, aliKey, "alipay_trade_query_response", strings.Replace(paid, "12.34", "12.345", 1))
		}, payment.ErrBadCallback},
		"ErrOtherMethod": {func(w http.ResponseWriter) { writeSigned(w, aliKey, "alipay_trade_close_response", paid) }, payment.ErrVendor},
		"ErrNotJSON":     {func(w http.ResponseWriter) { w.Write([]byte("<html>")) }, payment.ErrVendor},
		"ErrStatus": {func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadGateway)
		}, payment.ErrVendor},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tc.answer(w) }))
			defer srv.Close()
			c := newClient(t, map[string]string{"app_id": appID, "private_key_pem": privPEM(appKey), "alipay_public_key_pem": pubPEM(&aliKey.PublicKey)}, srv.URL)
			n, err := c.Query(context.Background(), &payment.Intent{Intent: "i-1", AmountFen: 1234})
			if tc.want == nil {
				if err != nil || n.Status != "paid" || n.AmountFen != 1234 || n.ProviderRef != "2026x" {
					t.Fatalf("query = %+v, %v", n, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("query = %+v, %v; want %v", n, err, tc.want)
			}
		})
	}
}

// TestNotification: an asynchronous notification counts only when signed
// by Alipay's key over its parameters but sign and sign_type, for this
// app, recent, with an exact amount.
func TestNotification(t *testing.T) {
	f, c := startFake(t)
	ctx := context.Background()
	if _, err := c.Start(ctx, &payment.Intent{Intent: "i-1", AmountFen: 1234}, payment.StartRequest{Method: payment.MethodQR, Description: "草莓", NotifyURL: "https://shop.example/n"}); err != nil {
		t.Fatal(err)
	}
	f.DropNotifications.Store(true)
	if _, _, err := f.Pay(appID, "i-1"); err != nil {
		t.Fatal(err)
	}
	params := func() url.Values { return f.NotifyParams(appID, "i-1") }
	verify := func(v url.Values, at time.Time) (*payment.Notification, error) {
		return c.Verify(httptest.NewRequest("POST", "/notify", nil), []byte(v.Encode()), at)
	}
	good := f.SignNotification(params())
	n, err := verify(good, clock)
	if err != nil {
		t.Fatalf("Alipay's notification: %v", err)
	}
	if n.Intent != "i-1" || n.Status != "paid" || n.AmountFen != 1234 || n.MerchantID != 7 || n.ProviderRef == "" || n.Nonce != "ali:"+appID+":"+good.Get("notify_id") {
		t.Fatalf("notification %+v", n)
	}
	t.Run("ReplayHasTheSameNonce", func(t *testing.T) {
		// The payment store refuses a second use of the nonce; the same
		// notification must give the same one.
		again, err := verify(good, clock.Add(time.Minute))
		if err != nil || again.Nonce != n.Nonce {
			t.Fatalf("replay: %+v %v", again, err)
		}
	})
	other := mustKey(t)
	cases := map[string]struct {
		v    func() url.Values
		at   time.Time
		want error
	}{
		"ErrForgedSignature": {func() url.Values {
			v := params()
			v.Set("sign_type", "RSA2")
			v.Set("sign", base64.StdEncoding.EncodeToString(make([]byte, 256)))
			return v
		}, clock, payment.ErrBadSignature},
		"ErrWrongKey": {func() url.Values {
			v := params()
			v.Set("sign_type", "RSA2")
			sig, _ := alipay.Sign(other, alipay.SignContent(v, "sign_type"))
			v.Set("sign", sig)
			return v
		}, clock, payment.ErrBadSignature},
		"ErrAlteredAmount": {func() url.Values {
			v := f.SignNotification(params())
			v.Set("total_amount", "0.01")
			return v
		}, clock, payment.ErrBadSignature},
		"ErrAlteredTrade": {func() url.Values {
			v := f.SignNotification(params())
			v.Set("out_trade_no", "i-2")
			return v
		}, clock, payment.ErrBadSignature},
		"ErrAddedParameter": {func() url.Values {
			v := f.SignNotification(params())
			v.Set("refund_fee", "12.34")
			return v
		}, clock, payment.ErrBadSignature},
		"ErrNotRSA2": {func() url.Values {
			v := f.SignNotification(params())
			v.Set("sign_type", "RSA")
			return v
		}, clock, payment.ErrBadSignature},
		"ErrUnsigned": {func() url.Values { v := f.SignNotification(params()); v.Del("sign"); return v }, clock, payment.ErrBadSignature},
		"ErrNoNotifyID": {func() url.Values {
			v := params()
			v.Del("notify_id")
			return f.SignNotification(v)
		}, clock, payment.ErrBadSignature},
		"ErrForeignApp": {func() url.Values {
			v := params()
			v.Set("app_id", "2021000000000002")
			return f.SignNotification(v)
		}, clock, payment.ErrForeign},
		"ErrStale":  {func() url.Values { return good }, clock.Add(6 * time.Minute), payment.ErrStale},
		"ErrFuture": {func() url.Values { return good }, clock.Add(-6 * time.Minute), payment.ErrStale},
		"ErrNotifyTime": {func() url.Values {
			v := params()
			v.Set("notify_time", clock.Format(time.RFC3339))
			return f.SignNotification(v)
		}, clock, payment.ErrBadCallback},
		"ErrAmountFloat": {func() url.Values {
			v := params()
			v.Set("total_amount", "12.345")
			return f.SignNotification(v)
		}, clock, payment.ErrBadCallback},
		"ErrUnknownStatus": {func() url.Values {
			v := params()
			v.Set("trade_status", "TRADE_PAID")
			return f.SignNotification(v)
		}, clock, payment.ErrBadCallback},
		"ClosedChangesNothing": {func() url.Values {
			v := params()
			v.Set("trade_status", "TRADE_CLOSED")
			return f.SignNotification(v)
		}, clock, payment.ErrReplayed},
		"ErrRefundAboveTotal": {func() url.Values {
			v := params()
			v.Set("out_biz_no", "r-1")
			v.Set("refund_fee", "12.35")
			return f.SignNotification(v)
		}, clock, payment.ErrBadCallback},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n, err := verify(tc.v(), tc.at)
			if !errors.Is(err, tc.want) {
				t.Fatalf("verify = %+v, %v; want %v", n, err, tc.want)
			}
		})
	}
	t.Run("Refund", func(t *testing.T) {
		v := params()
		v.Set("out_biz_no", "r-1")
		v.Set("refund_fee", "2.30")
		n, err := verify(f.SignNotification(v), clock)
		if err != nil || n.Kind != payment.KindRefund || n.RefundNo != "r-1" || n.RefundedTotalFen != 230 || n.Status != "succeeded" {
			t.Fatalf("refund notification %+v %v", n, err)
		}
	})
}

// TestFen: Alipay's amounts are read exactly, never through a float
// (1.15 * 100 is 114.99999999999999 as a float64).
func TestFen(t *testing.T) {
	for in, want := range map[string]int64{"12.34": 1234, "0.01": 1, "1.15": 115, "0.29": 29, "19.99": 1999, "4.35": 435,
		"12": 1200, "12.3": 1230, "0": 0, "0.00": 0, "99999999.99": 9999999999} {
		if got, ok := alipay.Fen(in); !ok || got != want {
			t.Errorf("Fen(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", ".", "12.", ".5", "12.345", "-1.00", "+1.00", "1e2", "1,00", " 1.00", "1.00 ", "1.0a", "１.00", "0x10", "12.-1", "NaN", "1_000.00"} {
		if got, ok := alipay.Fen(in); ok {
			t.Errorf("Fen(%q) = %d, accepted", in, got)
		}
	}
	if yuan := 1.15; int64(math.Floor(yuan*100)) == 115 {
		t.Fatal("the float pitfall this test guards against is gone: pick another example")
	}
	// Every amount round-trips through Yuan.
	for fen := int64(0); fen < 100000; fen++ {
		if got, ok := alipay.Fen(alipay.Yuan(fen)); !ok || got != fen {
			t.Fatalf("Fen(Yuan(%d)) = %d, %v (%q)", fen, got, ok, alipay.Yuan(fen))
		}
	}
	for range 10000 {
		fen := mrand.Int64N(1 << 40)
		if got, ok := alipay.Fen(alipay.Yuan(fen)); !ok || got != fen {
			t.Fatalf("Fen(Yuan(%d)) = %d, %v", fen, got, ok)
		}
		if want := strconv.FormatInt(fen/100, 10) + "." + fmt.Sprintf("%02d", fen%100); alipay.Yuan(fen) != want {
			t.Fatalf("Yuan(%d) = %s", fen, alipay.Yuan(fen))
		}
	}
}

// TestTrades: query, close and refund against the local Alipay over HTTP.
func TestTrades(t *testing.T) {
	f, c := startFake(t)
	f.DropNotifications.Store(true)
	ctx := context.Background()
	start := func(t *testing.T, no string, fen int64) *payment.Intent {
		t.Helper()
		in := &payment.Intent{Intent: no, AmountFen: fen}
		if _, err := c.Start(ctx, in, payment.StartRequest{Method: payment.MethodQR, Description: "草莓 500g", NotifyURL: "https://shop.example/n", ExpiresAt: clock.Add(15 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		return in
	}
	query := func(t *testing.T, in *payment.Intent) *payment.Notification {
		t.Helper()
		n, err := c.Query(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Run("Check", func(t *testing.T) {
		if err := c.Check(ctx); err != nil {
			t.Fatalf("check: %v", err)
		}
	})
	t.Run("QueryUnknownIsPending", func(t *testing.T) {
		if n := query(t, &payment.Intent{Intent: "never-started"}); n.Status != "pending" || n.AmountFen != 0 {
			t.Fatalf("%+v", n)
		}
	})
	t.Run("QueryPaid", func(t *testing.T) {
		in := start(t, "q-1", 1999)
		if n := query(t, in); n.Status != "pending" {
			t.Fatalf("before paying: %+v", n)
		}
		if _, _, err := f.Pay(appID, "q-1"); err != nil {
			t.Fatal(err)
		}
		n := query(t, in)
		tr, _ := f.Trade(appID, "q-1")
		if n.Status != "paid" || n.AmountFen != 1999 || n.ProviderRef != tr.TradeNo || n.Nonce != "ali-query:q-1" || n.MerchantID != 7 {
			t.Fatalf("after paying: %+v", n)
		}
	})
	t.Run("Close", func(t *testing.T) {
		in := start(t, "c-1", 100)
		if err := c.Close(ctx, in); err != nil {
			t.Fatal(err)
		}
		if n := query(t, in); n.Status != "closed" {
			t.Fatalf("after close: %+v", n)
		}
		paid := start(t, "c-2", 100)
		f.Pay(appID, "c-2")
		if err := c.Close(ctx, paid); !errors.Is(err, payment.ErrVendor) {
			t.Fatalf("closing a paid trade: %v", err)
		}
		if tr, _ := f.Trade(appID, "c-2"); tr.Status != "TRADE_SUCCESS" {
			t.Fatalf("paid trade is %s", tr.Status)
		}
	})
	t.Run("Refund", func(t *testing.T) {
		in := start(t, "r-1", 1234)
		f.Pay(appID, "r-1")
		rf := &payment.Refund{Intent: "r-1", RefundNo: "rf-1", AmountFen: 234, PaidFen: 1234, Reason: "破损"}
		res, err := c.Refund(ctx, rf, "")
		if err != nil || res.Status != "succeeded" {
			t.Fatalf("refund: %+v %v", res, err)
		}
		// The same out_request_no is the same refund (Alipay answers
		// fund_change N; the client asks what happened).
		res, err = c.Refund(ctx, rf, "")
		if err != nil || res.Status != "succeeded" {
			t.Fatalf("repeated refund: %+v %v", res, err)
		}
		if tr, _ := f.Trade(appID, "r-1"); tr.Refunded != 234 {
			t.Fatalf("refunded %d, want 234 once", tr.Refunded)
		}
		if res, err := c.QueryRefund(ctx, rf); err != nil || res.Status != "succeeded" {
			t.Fatalf("query refund: %+v %v", res, err)
		}
		// A refund query naming another amount than Alipay's is refused.
		if _, err := c.QueryRefund(ctx, &payment.Refund{Intent: "r-1", RefundNo: "rf-1", AmountFen: 235}); !errors.Is(err, payment.ErrAmount) {
			t.Fatalf("query refund with another amount: %v", err)
		}
		if _, err := c.QueryRefund(ctx, &payment.Refund{Intent: "r-1", RefundNo: "rf-never", AmountFen: 1}); !errors.Is(err, payment.ErrNotRefundable) {
			t.Fatalf("unknown refund: %v", err)
		}
		if _, err := c.Refund(ctx, &payment.Refund{Intent: "r-1", RefundNo: "rf-2", AmountFen: 1001, PaidFen: 1234}, ""); !errors.Is(err, payment.ErrVendor) {
			t.Fatalf("refund beyond what is left: %v", err)
		}
		if tr, _ := f.Trade(appID, "r-1"); tr.Refunded != 234 {
			t.Fatalf("refunded %d after the refused refund", tr.Refunded)
		}
		_ = in
	})
	t.Run("Concurrent", func(t *testing.T) {
		in := start(t, "p-1", 500)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				if _, err := c.Query(ctx, in); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}

// TestAccountKeys: the wrong key pasted is told apart: the app's own
// public key in place of Alipay's fails verification of every answer
// (alipay_answer_unverified), an app Alipay does not know is refused.
func TestAccountKeys(t *testing.T) {
	f, _ := startFake(t)
	fields, err := f.NewApp("2021000000000009")
	if err != nil {
		t.Fatal(err)
	}
	wrong := map[string]string{"app_id": fields["app_id"], "private_key_pem": fields["private_key_pem"], "alipay_public_key_pem": pubPEM(&mustKey(t).PublicKey)}
	if err := newClient(t, wrong, f.URL).Check(context.Background()); !errors.Is(err, alipay.ErrUnsigned) {
		t.Fatalf("check with another Alipay public key: %v, want alipay_answer_unverified", err)
	}
	stranger := map[string]string{"app_id": "2021000000000010", "private_key_pem": privPEM(mustKey(t)), "alipay_public_key_pem": f.PublicKeyPEM()}
	if err := newClient(t, stranger, f.URL).Check(context.Background()); !errors.Is(err, alipay.ErrRefused) {
		t.Fatalf("check of an app Alipay does not know: %v, want alipay_refused", err)
	}
	// Another app's private key: Alipay cannot verify the request.
	mixed := map[string]string{"app_id": "2021000000000009", "private_key_pem": privPEM(mustKey(t)), "alipay_public_key_pem": f.PublicKeyPEM()}
	if err := newClient(t, mixed, f.URL).Check(context.Background()); !errors.Is(err, alipay.ErrRefused) {
		t.Fatalf("check signed with another key: %v, want alipay_refused", err)
	}
	if _, _, err := alipay.Parse(map[string]string{"app_id": "12345", "private_key_pem": fields["private_key_pem"], "alipay_public_key_pem": f.PublicKeyPEM()}); !errors.Is(err, alipay.ErrAppID) {
		t.Fatalf("short app_id: %v", err)
	}
}
