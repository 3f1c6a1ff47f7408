package payment

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Dev is the built-in development provider.
type Dev struct {
	Secret      []byte
	BaseURL     func() string // ShelfLive's own base URL, for the pay page
	CallbackURL func() string // where the "provider" posts its callback
	Client      *http.Client
	Window      time.Duration // accepted clock skew of callbacks
}

// Name implements Provider.
func (d *Dev) Name() string { return "dev" }

// PayURL is the simulated provider's page.
func (d *Dev) PayURL(in *Intent) string { return "/pay/dev/" + in.Intent }

// Start implements Provider: the buyer goes to the simulated page.
func (d *Dev) Start(ctx context.Context, in *Intent, req StartRequest) (*Action, error) {
	return &Action{Method: MethodPage, PayURL: d.PayURL(in)}, nil
}

// Query implements Provider: the dev provider keeps no state of its own, so
// an intent is pending until its callback arrives.
func (d *Dev) Query(ctx context.Context, in *Intent) (*Notification, error) {
	return &Notification{Intent: in.Intent, Status: "pending"}, nil
}

// Close implements Provider.
func (d *Dev) Close(ctx context.Context, in *Intent) error { return nil }

// Refund implements Provider: no money moved, so a refund succeeds at once.
func (d *Dev) Refund(ctx context.Context, rf *Refund, notifyURL string) (*RefundResult, error) {
	return &RefundResult{Status: "succeeded", ProviderRef: "dev_" + rf.RefundNo}, nil
}

// QueryRefund implements Provider.
func (d *Dev) QueryRefund(ctx context.Context, rf *Refund) (*RefundResult, error) {
	return &RefundResult{Status: "succeeded", ProviderRef: "dev_" + rf.RefundNo}, nil
}

// Check implements Provider.
func (d *Dev) Check(ctx context.Context) error { return nil }

// Sign returns the signature header value for a callback body.
func (d *Dev) Sign(ts, nonce string, body []byte) string {
	m := hmac.New(sha256.New, d.Secret)
	m.Write([]byte(ts))
	m.Write([]byte{'\n'})
	m.Write([]byte(nonce))
	m.Write([]byte{'\n'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Notify plays the provider: it posts a signed callback to ShelfLive over HTTP.
func (d *Dev) Notify(ctx context.Context, n Notification, now time.Time) error {
	body, _ := json.Marshal(n)
	nonce := make([]byte, 12)
	rand.Read(nonce)
	ts := strconv.FormatInt(now.Unix(), 10)
	ns := hex.EncodeToString(nonce)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.CallbackURL(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Dev-Timestamp", ts)
	req.Header.Set("X-Dev-Nonce", ns)
	req.Header.Set("X-Dev-Signature", d.Sign(ts, ns, body))
	resp, err := d.Client.Do(req)
	if err != nil {
		return fmt.Errorf("dev provider callback: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("dev provider callback: %s: %s", resp.Status, b)
	}
	return nil
}

// Verify implements Provider.
func (d *Dev) Verify(r *http.Request, body []byte, now time.Time) (*Notification, error) {
	ts, nonce, sig := r.Header.Get("X-Dev-Timestamp"), r.Header.Get("X-Dev-Nonce"), r.Header.Get("X-Dev-Signature")
	want := d.Sign(ts, nonce, body)
	if sig == "" || nonce == "" || !hmac.Equal([]byte(sig), []byte(want)) {
		return nil, ErrBadSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, ErrBadSignature
	}
	window := d.Window
	if window == 0 {
		window = 5 * time.Minute
	}
	if d := now.Sub(time.Unix(sec, 0)); d > window || d < -window {
		return nil, ErrStale
	}
	var n Notification
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil || n.Intent == "" || n.Status != "paid" || n.Kind != KindPayment || n.RefundNo != "" {
		return nil, ErrBadCallback
	}
	n.Nonce = nonce
	return &n, nil
}
