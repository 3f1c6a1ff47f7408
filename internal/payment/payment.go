// Package payment holds payment intents, refunds, the Provider interface
// and the per-merchant vendor accounts (Accounts). Vendors live in
// subpackages (wechatpay, alipay); the built-in dev provider (dev.go)
// simulates one end to end: a pay page, then a provider → ShelfLive callback
// signed with HMAC that ShelfLive verifies like any real provider's
// (signature, timestamp window, nonce once, amount).
package payment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/order"
)

// Intent is one attempt to pay an order with one provider and method.
type Intent struct {
	ID          int64      `json:"id"`
	MerchantID  int64      `json:"-"`
	OrderID     int64      `json:"order_id"`
	Provider    string     `json:"provider"`
	Method      string     `json:"method,omitempty"`
	Intent      string     `json:"intent"`
	AmountFen   int64      `json:"amount_fen"`
	Status      string     `json:"status"` // pending | paid | refunded | closed
	ProviderRef string     `json:"provider_ref,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
	PayURL      string     `json:"pay_url,omitempty"`
	// Action is what the buyer's page does next (set by StartPayment only).
	Action *Action `json:"action,omitempty"`
}

// Notification kinds.
const (
	KindPayment = "" // the buyer paid
	KindRefund  = "refund"
)

// Notification is a verified provider callback (or the answer to a query,
// which the reconciler applies the same way).
type Notification struct {
	Kind        string `json:"kind,omitempty"`
	Intent      string `json:"intent"`
	Status      string `json:"status"` // paid (payments), succeeded | failed (refunds); pending/closed from queries
	AmountFen   int64  `json:"amount_fen"`
	ProviderRef string `json:"provider_ref"`
	RefundNo    string `json:"refund_no,omitempty"`
	// RefundedTotalFen is what the vendor says the payment's refunds add
	// up to so far, when it names no amount of this refund (Alipay's
	// refund_fee); AmountFen is then 0.
	RefundedTotalFen int64 `json:"-"`
	// MerchantID is the merchant whose callback URL was called (0 for the
	// install-wide dev provider): the intent must be theirs.
	MerchantID int64  `json:"-"`
	Nonce      string `json:"-"`
}

// Payment methods a page can ask for.
const (
	MethodPage   = "page"   // dev provider: ShelfLive's simulated pay page
	MethodJSAPI  = "jsapi"  // WeChat Pay inside WeChat
	MethodH5     = "h5"     // WeChat Pay in another phone browser
	MethodNative = "native" // WeChat Pay QR code on a desktop
	MethodWAP    = "wap"    // Alipay on a phone
	MethodQR     = "qr"     // Alipay QR code on a desktop
	// MethodMiniProgram is WeChat Pay inside the install's WeChat
	// mini-program: JSAPI with the mini-program's appid (bound to the same
	// 商户号) and the buyer's openid from the mini-program login; the
	// mini-program passes the parameters to wx.requestPayment.
	MethodMiniProgram = "miniprogram"
)

// StartRequest is what a provider needs to open a vendor order.
type StartRequest struct {
	Method      string
	Description string
	NotifyURL   string // the vendor's callback to ShelfLive
	ReturnURL   string // where the buyer's browser comes back
	ClientIP    string // H5 needs the payer's IP
	OpenID      string // JSAPI needs the payer's openid
	ExpiresAt   time.Time
}

// Action is what the buyer's page needs to pay.
type Action struct {
	Method  string            `json:"method"`
	PayURL  string            `json:"pay_url,omitempty"`  // dev page, Alipay WAP
	H5URL   string            `json:"h5_url,omitempty"`   // WeChat H5
	CodeURL string            `json:"code_url,omitempty"` // WeChat Native / Alipay precreate: show as a QR code
	JSAPI   map[string]string `json:"jsapi,omitempty"`    // WeixinJSBridge getBrandWCPayRequest parameters
}

// Refund is one refund of (part of) a paid intent.
type Refund struct {
	ID          int64      `json:"id"`
	MerchantID  int64      `json:"-"`
	OrderID     int64      `json:"order_id"`
	PaymentID   int64      `json:"-"`
	Provider    string     `json:"provider"`
	RefundNo    string     `json:"refund_no"`
	Intent      string     `json:"intent"`
	AmountFen   int64      `json:"amount_fen"`
	PaidFen     int64      `json:"-"` // the intent's amount (vendors want the total)
	Reason      string     `json:"reason,omitempty"`
	Status      string     `json:"status"` // pending | succeeded | failed
	Actor       string     `json:"actor"`
	ProviderRef string     `json:"provider_ref,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	DoneAt      *time.Time `json:"done_at,omitempty"`
	// Retries (retry.go): the try this is (1: the first), the failed
	// refund it retries, when the leader retries it if it failed, and the
	// refund that retried it.
	Attempt   int        `json:"attempt"`
	RetryOf   string     `json:"retry_of,omitempty"`
	RetryAt   *time.Time `json:"retry_at,omitempty"`
	RetriedBy string     `json:"retried_by,omitempty"`
}

// RefundResult is a vendor's answer about a refund.
type RefundResult struct {
	Status      string // pending | succeeded | failed
	ProviderRef string
}

// Provider is one payment account at one vendor (or the dev provider).
type Provider interface {
	Name() string
	// Start opens a vendor order for the intent and says what the page does.
	Start(ctx context.Context, in *Intent, req StartRequest) (*Action, error)
	// Query asks the vendor about an intent (the reconciler, when the
	// callback never came): Status paid, pending or closed.
	Query(ctx context.Context, in *Intent) (*Notification, error)
	// Close closes an unpaid vendor order (the order expired).
	Close(ctx context.Context, in *Intent) error
	// Refund asks the vendor to refund; the vendor may finish later (callback).
	Refund(ctx context.Context, rf *Refund, notifyURL string) (*RefundResult, error)
	// QueryRefund asks about a refund whose callback never came.
	QueryRefund(ctx context.Context, rf *Refund) (*RefundResult, error)
	// Verify checks a callback request's authenticity and returns its content.
	Verify(r *http.Request, body []byte, now time.Time) (*Notification, error)
	// Check makes one harmless signed query: do the credentials work?
	Check(ctx context.Context) error
}

// Store persists intents and refunds and remembers callback nonces.
type Store interface {
	CreateIntent(ctx context.Context, in *Intent) error
	IntentByID(ctx context.Context, intent string) (*Intent, error)
	// PendingIntent is the order's latest pending intent of this provider
	// and method.
	PendingIntent(ctx context.Context, merchantID, orderID int64, provider, method string) (*Intent, error)
	// ApplyPaid marks the intent and its order paid in one transaction, once:
	// a nonce seen before, an amount mismatch or another merchant's intent
	// changes nothing and returns an error. A payment for an order that no
	// longer takes it (cancelled, expired, or paid by another intent) is
	// kept and refunded in full in the same transaction — a pending refund
	// keyed by the intent (so once however often the vendor calls back), an
	// audit entry and a message in the buyer's inbox — and ApplyPaid
	// returns ErrPaidTooLate after the commit: the caller sends the refund.
	// It returns the order as committed (paid; or as it stands, with
	// ErrPaidTooLate), so the caller tells watchers without reading it again.
	ApplyPaid(ctx context.Context, n *Notification, provider string, now time.Time) (*order.Order, error)
	// PendingIntents lists pending intents of real vendors created between
	// from and to (the reconciler asks the vendor about them).
	PendingIntents(ctx context.Context, from, to time.Time, limit int) ([]Intent, error)
	// OrderPendingIntents lists an order's pending intents of real vendors
	// (closed at the vendor when the order is cancelled unpaid).
	OrderPendingIntents(ctx context.Context, merchantID, orderID int64) ([]Intent, error)
	// CloseIntent marks a pending intent closed (the vendor order is closed).
	CloseIntent(ctx context.Context, id int64) error
	// CreateRefund records a pending refund of a paid intent of the order;
	// the sum of pending and succeeded refunds never exceeds what was paid.
	// A retry with the same idempotency key returns the first refund.
	CreateRefund(ctx context.Context, rf *Refund, idemKey string) (created bool, err error)
	// ApplyRefund marks a pending refund succeeded (adding to the order's
	// refunded amount) or failed, once.
	ApplyRefund(ctx context.Context, n *Notification, provider string) (*Refund, error)
	Refunds(ctx context.Context, merchantID, orderID int64) ([]Refund, error)
	PendingRefunds(ctx context.Context, before time.Time, limit int) ([]Refund, error)
	// RetryRefund records the retry of the order's failed refund refundNo
	// (pending, a new refund number, the same amount), with its audit
	// entry and the after-sales request it pays moved back to refunding;
	// the same retry again returns it (created false). Errors:
	// refund_not_retryable, refund_exceeds_paid, not_found.
	RetryRefund(ctx context.Context, merchantID, orderID int64, refundNo, actor string) (rf *Refund, created bool, err error)
	// DueRetries lists failed refunds whose automatic retry is due.
	DueRetries(ctx context.Context, now time.Time, limit int) ([]Refund, error)
}

// Errors of callbacks, intents and refunds.
var (
	ErrBadSignature  = apperr.New(apperr.Unauthorized, "bad_signature", "回调签名无效", "Invalid callback signature.")
	ErrStale         = apperr.New(apperr.Unauthorized, "stale_callback", "回调时间戳超出允许范围", "Callback timestamp outside the allowed window.")
	ErrReplayed      = apperr.New(apperr.Conflict, "replayed_callback", "重复的回调", "This callback was already processed.")
	ErrAmount        = apperr.New(apperr.Conflict, "amount_mismatch", "支付金额与订单不符", "Paid amount does not match the order.")
	ErrBadCallback   = apperr.New(apperr.Invalid, "invalid_callback", "回调内容无效", "Malformed callback.")
	ErrForeign       = apperr.New(apperr.Unauthorized, "foreign_callback", "回调不属于该商户", "This callback belongs to another merchant account.")
	ErrNotConfigured = apperr.New(apperr.Conflict, "payment_not_configured", "商户未配置该支付方式", "This shop does not accept this payment method.")
	ErrBadMethod     = apperr.New(apperr.Invalid, "invalid_payment_method", "不支持的支付方式", "Unsupported payment provider or method.")
	ErrNeedOpenID    = apperr.New(apperr.Conflict, "openid_required", "请在微信内授权后支付", "Open this page in WeChat and allow it to identify you first.")
	ErrVendor        = apperr.New(apperr.Unavailable, "payment_vendor_error", "支付服务暂时不可用，请稍后再试", "The payment service did not answer as expected; try again shortly.")
	ErrRefundAmount  = apperr.New(apperr.Conflict, "refund_exceeds_paid", "退款金额超过可退金额", "The refund is more than what is left to refund.")
	ErrNotRefundable = apperr.New(apperr.Conflict, "not_refundable", "该订单没有可退款的支付", "This order has no payment to refund.")
)

// ErrPaidTooLate is not a refusal and never an API answer: ApplyPaid
// returns it after committing a payment that came for an order that no
// longer takes it, together with that payment's automatic full refund;
// the caller sends the refund and acknowledges the vendor.
var ErrPaidTooLate = errors.New("payment: paid after the order stopped taking payments; refund recorded")

// NewIntentID returns a random public intent id. It is also the vendor's
// out_trade_no: 27 characters of [a-z0-9_], which both vendors accept.
func NewIntentID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "pi_" + hex.EncodeToString(b)
}

// NewRefundNo returns a random refund number (the vendor's out_refund_no).
func NewRefundNo() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "rf_" + hex.EncodeToString(b)
}
