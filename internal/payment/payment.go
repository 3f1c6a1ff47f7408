// Package payment holds payment intents and the provider interface. The
// built-in dev provider simulates a real one end to end: a pay page, then a
// provider → ShelfLive callback signed with HMAC that ShelfLive verifies like
// any real provider's (signature, timestamp window, nonce once, amount).
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

	"github.com/shelflive/shelflive/internal/apperr"
)

// Intent is one attempt to pay an order.
type Intent struct {
	ID          int64      `json:"id"`
	MerchantID  int64      `json:"-"`
	OrderID     int64      `json:"order_id"`
	Provider    string     `json:"provider"`
	Intent      string     `json:"intent"`
	AmountFen   int64      `json:"amount_fen"`
	Status      string     `json:"status"` // pending | paid | refunded
	ProviderRef string     `json:"provider_ref,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
	PayURL      string     `json:"pay_url,omitempty"`
}

// Notification is a verified provider callback.
type Notification struct {
	Intent      string `json:"intent"`
	Status      string `json:"status"` // paid
	AmountFen   int64  `json:"amount_fen"`
	ProviderRef string `json:"provider_ref"`
	Nonce       string `json:"-"`
}

// Provider is a payment service (dev, WeChat Pay, …).
type Provider interface {
	Name() string
	// PayURL is where the buyer goes to pay the intent.
	PayURL(in *Intent) string
	// Verify checks a callback request's authenticity and returns its content.
	Verify(r *http.Request, body []byte, now time.Time) (*Notification, error)
}

// Store persists intents and remembers callback nonces.
type Store interface {
	CreateIntent(ctx context.Context, in *Intent) error
	IntentByID(ctx context.Context, intent string) (*Intent, error)
	PendingIntent(ctx context.Context, merchantID, orderID int64) (*Intent, error)
	// ApplyPaid marks the intent and its order paid in one transaction, once:
	// a nonce seen before, an amount mismatch or an order that is no longer
	// payable changes nothing and returns an error.
	ApplyPaid(ctx context.Context, n *Notification, provider string, now time.Time) (orderID int64, merchantID int64, err error)
}

// Callback errors.
var (
	ErrBadSignature = apperr.New(apperr.Unauthorized, "bad_signature", "回调签名无效", "Invalid callback signature.")
	ErrStale        = apperr.New(apperr.Unauthorized, "stale_callback", "回调时间戳超出允许范围", "Callback timestamp outside the allowed window.")
	ErrReplayed     = apperr.New(apperr.Conflict, "replayed_callback", "重复的回调", "This callback was already processed.")
	ErrAmount       = apperr.New(apperr.Conflict, "amount_mismatch", "支付金额与订单不符", "Paid amount does not match the order.")
)

// NewIntentID returns a random public intent id.
func NewIntentID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "pi_" + hex.EncodeToString(b)
}

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

// PayURL implements Provider: the simulated provider's page.
func (d *Dev) PayURL(in *Intent) string { return "/pay/dev/" + in.Intent }

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
	if err := dec.Decode(&n); err != nil || n.Intent == "" || n.Status != "paid" {
		return nil, apperr.New(apperr.Invalid, "invalid_callback", "回调内容无效", "Malformed callback.")
	}
	n.Nonce = nonce
	return &n, nil
}
