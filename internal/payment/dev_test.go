package payment_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/payment"
)

var secret = []byte("test-secret-0123456789abcdef0123456789")

// signed is a callback request as the dev provider sends it.
func signed(d *payment.Dev, body string, at time.Time, nonce string) *http.Request {
	ts := strconv.FormatInt(at.Unix(), 10)
	r := httptest.NewRequest("POST", "/api/v1/payments/dev/callback", strings.NewReader(body))
	r.Header.Set("X-Dev-Timestamp", ts)
	r.Header.Set("X-Dev-Nonce", nonce)
	r.Header.Set("X-Dev-Signature", d.Sign(ts, nonce, []byte(body)))
	return r
}

func TestDevVerify(t *testing.T) {
	d := &payment.Dev{Secret: secret}
	now := time.Unix(1_800_000_000, 0)
	good := `{"intent":"pi_1","status":"paid","amount_fen":1280,"provider_ref":"r1"}`
	t.Run("OK", func(t *testing.T) {
		n, err := d.Verify(signed(d, good, now, "n1"), []byte(good), now)
		if err != nil {
			t.Fatal(err)
		}
		if n.Intent != "pi_1" || n.AmountFen != 1280 || n.ProviderRef != "r1" || n.Nonce != "n1" {
			t.Fatalf("notification %+v", n)
		}
	})
	tamper := func(f func(r *http.Request) ([]byte, time.Time)) error {
		r := signed(d, good, now, "n2")
		body, at := f(r)
		_, err := d.Verify(r, body, at)
		return err
	}
	for _, tc := range []struct {
		name string
		f    func(r *http.Request) ([]byte, time.Time)
		want error
	}{
		{"ErrOtherBody", func(*http.Request) ([]byte, time.Time) { return []byte(strings.Replace(good, "1280", "1", 1)), now }, payment.ErrBadSignature},
		{"ErrOtherSecret", func(r *http.Request) ([]byte, time.Time) {
			r.Header.Set("X-Dev-Signature", (&payment.Dev{Secret: []byte("another-secret-000000000000000000")}).Sign(r.Header.Get("X-Dev-Timestamp"), "n2", []byte(good)))
			return []byte(good), now
		}, payment.ErrBadSignature},
		{"ErrNoSignature", func(r *http.Request) ([]byte, time.Time) { r.Header.Del("X-Dev-Signature"); return []byte(good), now }, payment.ErrBadSignature},
		{"ErrNoNonce", func(r *http.Request) ([]byte, time.Time) { r.Header.Del("X-Dev-Nonce"); return []byte(good), now }, payment.ErrBadSignature},
		{"ErrNonceSwapped", func(r *http.Request) ([]byte, time.Time) { r.Header.Set("X-Dev-Nonce", "n3"); return []byte(good), now }, payment.ErrBadSignature},
		{"ErrStaleTimestamp", func(*http.Request) ([]byte, time.Time) { return []byte(good), now.Add(6 * time.Minute) }, payment.ErrStale},
		{"ErrFutureTimestamp", func(*http.Request) ([]byte, time.Time) { return []byte(good), now.Add(-6 * time.Minute) }, payment.ErrStale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tamper(tc.f); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	for name, body := range map[string]string{
		"ErrUnknownField": `{"intent":"pi_1","status":"paid","amount_fen":1,"extra":1}`,
		"ErrNotPaid":      `{"intent":"pi_1","status":"failed","amount_fen":1}`,
		"ErrNoIntent":     `{"status":"paid","amount_fen":1}`,
		"ErrRefundKind":   `{"intent":"pi_1","status":"paid","amount_fen":1,"kind":"refund","refund_no":"rf_1"}`,
		"ErrNotJSON":      `paid`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := d.Verify(signed(d, body, now, "n4"), []byte(body), now); !errors.Is(err, payment.ErrBadCallback) {
				t.Fatalf("got %v, want invalid_callback", err)
			}
		})
	}
}

// TestDevNotify: the dev provider posts a callback that its own Verify
// accepts, over real HTTP.
func TestDevNotify(t *testing.T) {
	now := time.Now()
	var got *payment.Notification
	var d *payment.Dev
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		n, err := d.Verify(r, body, now)
		if err != nil {
			http.Error(w, err.Error(), 401)
			return
		}
		got = n
	}))
	defer srv.Close()
	d = &payment.Dev{Secret: secret, Client: srv.Client(), CallbackURL: func() string { return srv.URL }}
	if err := d.Notify(context.Background(), payment.Notification{Intent: "pi_9", Status: "paid", AmountFen: 990, ProviderRef: "x"}, now); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Intent != "pi_9" || got.AmountFen != 990 || got.Nonce == "" {
		t.Fatalf("received %+v", got)
	}
	bad := &payment.Dev{Secret: []byte("wrong-secret-0000000000000000000000"), Client: srv.Client(), CallbackURL: func() string { return srv.URL }}
	if err := bad.Notify(context.Background(), payment.Notification{Intent: "pi_9", Status: "paid", AmountFen: 990}, now); err == nil {
		t.Fatal("a callback signed with another secret was accepted")
	}
}

func TestIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := payment.NewIntentID()
		if !strings.HasPrefix(id, "pi_") || seen[id] {
			t.Fatalf("intent id %q (duplicate: %v)", id, seen[id])
		}
		seen[id] = true
	}
	if a, b := payment.NewRefundNo(), payment.NewRefundNo(); a == b || a == "" {
		t.Fatalf("refund numbers %q %q", a, b)
	}
}
