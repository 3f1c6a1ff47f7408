package wechatpay_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/payment/wechatpay"
	"github.com/shelflive/shelflive/internal/payment/wechatpay/wechatpaytest"
)

func open(t *testing.T, f *wechatpaytest.Fake, fields map[string]string) *wechatpay.Client {
	t.Helper()
	settings, _, err := wechatpay.Parse(fields)
	if err != nil {
		t.Fatal(err)
	}
	c, err := wechatpay.New(1, settings, f.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func startFake(t *testing.T, certMode bool) *wechatpaytest.Fake {
	t.Helper()
	f, err := wechatpaytest.Start()
	if err != nil {
		t.Fatal(err)
	}
	f.CertMode = certMode
	t.Cleanup(f.Close)
	return f
}

// callbackSink records the callbacks the fake sends.
type callbackSink struct {
	srv  *httptest.Server
	reqs chan *http.Request
	body chan []byte
}

func newSink(t *testing.T) *callbackSink {
	s := &callbackSink{reqs: make(chan *http.Request, 10), body: make(chan []byte, 10)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		b.ReadFrom(r.Body)
		s.reqs <- r.Clone(context.Background())
		s.body <- b.Bytes()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *callbackSink) next(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	select {
	case r := <-s.reqs:
		return r, <-s.body
	case <-time.After(20 * time.Second):
		t.Fatal("no callback")
	}
	return nil, nil
}

func TestParseRefusesBadSettings(t *testing.T) {
	f := startFake(t, false)
	_, good, err := f.NewMerchant("1900000109")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ field, value, code string }{
		"mchid":        {"mchid", "19x", "invalid_mchid"},
		"appid":        {"appid", "wx12", "invalid_appid"},
		"serial":       {"serial_no", "zz", "invalid_serial_no"},
		"apiv3 short":  {"apiv3_key", "short", "invalid_apiv3_key"},
		"private key":  {"private_key_pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "invalid_private_key"},
		"public key":   {"public_key_pem", "not a key", "invalid_public_key"},
		"public id":    {"public_key_id", "KEY_1", "invalid_public_key_id"},
		"unknown name": {"mch_id", "1900000109", "unknown_field"},
	} {
		t.Run(name, func(t *testing.T) {
			fields := map[string]string{}
			for k, v := range good {
				fields[k] = v
			}
			fields[tc.field] = tc.value
			if _, _, err := wechatpay.Parse(fields); !apperr.Is(err, tc.code) {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
		})
	}
	_, sum, err := wechatpay.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range sum {
		if s, ok := v.(string); ok && (strings.Contains(good["private_key_pem"], s) && len(s) > 20 || s == good["apiv3_key"]) {
			t.Fatalf("summary %s leaks a secret", k)
		}
	}
}

func TestProviderAgainstFake(t *testing.T) {
	for _, mode := range []string{"public_key", "platform_certificates"} {
		t.Run(mode, func(t *testing.T) {
			f := startFake(t, mode == "platform_certificates")
			_, fields, err := f.NewMerchant("1900000109")
			if err != nil {
				t.Fatal(err)
			}
			c := open(t, f, fields)
			ctx := context.Background()
			if err := c.Check(ctx); err != nil {
				t.Fatalf("check: %v", err)
			}
			sink := newSink(t)
			in := &payment.Intent{Intent: payment.NewIntentID(), AmountFen: 1990}
			req := payment.StartRequest{Description: "草莓 500g", NotifyURL: sink.srv.URL, ClientIP: "1.2.3.4", ReturnURL: "https://shop.example/orders/1", ExpiresAt: time.Now().Add(15 * time.Minute)}
			req.Method = payment.MethodH5
			act, err := c.Start(ctx, in, req)
			if err != nil || !strings.HasPrefix(act.H5URL, f.URL+"/fake/h5?prepay_id=") || !strings.Contains(act.H5URL, "redirect_url=https%3A%2F%2Fshop.example") {
				t.Fatalf("h5: %+v %v", act, err)
			}
			q, err := c.Query(ctx, in)
			if err != nil || q.Status != "pending" {
				t.Fatalf("query before paying: %+v %v", q, err)
			}
			if _, err := f.Pay("1900000109", in.Intent); err != nil {
				t.Fatal(err)
			}
			r, body := sink.next(t)
			n, err := c.Verify(r, body, time.Now())
			if err != nil || n.Intent != in.Intent || n.Status != "paid" || n.AmountFen != 1990 || n.ProviderRef == "" {
				t.Fatalf("verify: %+v %v", n, err)
			}
			q, err = c.Query(ctx, in)
			if err != nil || q.Status != "paid" || q.AmountFen != 1990 {
				t.Fatalf("query after paying: %+v %v", q, err)
			}
			res, err := c.Refund(ctx, &payment.Refund{Intent: in.Intent, RefundNo: payment.NewRefundNo(), AmountFen: 500, PaidFen: 1990}, sink.srv.URL)
			if err != nil || res.Status != "pending" {
				t.Fatalf("refund: %+v %v", res, err)
			}
			r, body = sink.next(t)
			n, err = c.Verify(r, body, time.Now())
			if err != nil || n.Kind != payment.KindRefund || n.Status != "succeeded" || n.AmountFen != 500 {
				t.Fatalf("refund callback: %+v %v", n, err)
			}
			// tampered body
			bad := bytes.Replace(body, []byte(`"id":"`), []byte(`"id":"x`), 1)
			if _, err := c.Verify(r, bad, time.Now()); err != payment.ErrBadSignature {
				t.Fatalf("tampered: %v", err)
			}
			// stale
			if _, err := c.Verify(r, body, time.Now().Add(6*time.Minute)); err != payment.ErrStale {
				t.Fatalf("stale: %v", err)
			}
			for _, m := range []string{payment.MethodNative, payment.MethodJSAPI} {
				req.Method, req.OpenID = m, "o-openid"
				act, err := c.Start(ctx, &payment.Intent{Intent: payment.NewIntentID(), AmountFen: 100}, req)
				if err != nil || (m == payment.MethodNative && !strings.HasPrefix(act.CodeURL, "weixin://")) || (m == payment.MethodJSAPI && act.JSAPI["paySign"] == "") {
					t.Fatalf("%s: %+v %v", m, act, err)
				}
			}
		})
	}
}

func TestWrongKeysRefused(t *testing.T) {
	f := startFake(t, false)
	_, fields, err := f.NewMerchant("1900000109")
	if err != nil {
		t.Fatal(err)
	}
	other, err := wechatpaytest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, otherFields, _ := other.NewMerchant("1900000109")
	ctx := context.Background()
	t.Run("WrongPublicKey", func(t *testing.T) {
		bad := map[string]string{}
		for k, v := range fields {
			bad[k] = v
		}
		bad["public_key_pem"] = other.PublicKeyPEM()
		err := open(t, f, bad).Check(ctx)
		if !errors.Is(err, wechatpay.ErrUnsigned) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("WrongPrivateKey", func(t *testing.T) {
		bad := map[string]string{}
		for k, v := range fields {
			bad[k] = v
		}
		bad["private_key_pem"] = otherFields["private_key_pem"]
		err := open(t, f, bad).Check(ctx)
		if !errors.Is(err, wechatpay.ErrRefused) {
			t.Fatalf("got %v", err)
		}
	})
}

// BenchmarkVerifyCallback is the vendor half of applying a callback: the
// RSA-2048 signature check and the AES-256-GCM decryption.
func BenchmarkVerifyCallback(b *testing.B) {
	f, err := wechatpaytest.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	_, fields, _ := f.NewMerchant("1900000109")
	settings, _, _ := wechatpay.Parse(fields)
	c, _ := wechatpay.New(1, settings, f.URL, nil, nil)
	tx := wechatpay.Transaction{MchID: "1900000109", AppID: fields["appid"], OutTradeNo: "pi_x", TransactionID: "42", TradeState: "SUCCESS", Amount: wechatpay.Amount{Total: 100, Currency: "CNY"}}
	body, h, _ := f.Callback("1900000109", "TRANSACTION.SUCCESS", "transaction", tx, time.Now())
	r := httptest.NewRequest("POST", "/", nil)
	r.Header = h
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Verify(r, body, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
