package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
)

// Payments wires the real vendors: merchants' accounts and where vendors
// call back. Zero value: only the dev provider (when DevPayments).
type Payments struct {
	Accounts *payment.Accounts
	// PublicURL is ShelfLive's base URL as the vendors and buyers reach it
	// (notify and return URLs).
	PublicURL func() string
	// DevPayments offers the dev provider (dev mode only).
	DevPayments bool
	// ReconcileEvery is how often the leader asks vendors about intents and
	// refunds whose callback never came (default 30 s); ReconcileAfter is
	// how old they must be first (default 1 min).
	ReconcileEvery, ReconcileAfter time.Duration

	reconcileMu sync.Mutex
}

// PayRequest is what the buyer's page asks for.
type PayRequest struct {
	Provider  string `json:"provider"`
	Method    string `json:"method"`
	ClientIP  string `json:"-"`
	OpenID    string `json:"-"`
	ReturnURL string `json:"-"`
}

// methods lists what each provider offers.
var methods = map[string][]string{
	"dev":       {payment.MethodPage},
	"wechatpay": {payment.MethodJSAPI, payment.MethodH5, payment.MethodNative, payment.MethodMiniProgram},
	"alipay":    {payment.MethodWAP, payment.MethodQR},
}

// NotifyURL is where a vendor calls back for a merchant's account.
func (a *App) NotifyURL(provider string, merchantID int64) string {
	return a.Pay.PublicURL() + "/api/v1/payments/" + provider + "/notify/" + strconv.FormatInt(merchantID, 10)
}

// PaymentProviders lists the providers a merchant's checkout offers.
func (a *App) PaymentProviders(ctx context.Context, merchantID int64) ([]string, error) {
	out := []string{}
	if a.Pay.Accounts != nil {
		list, err := a.Pay.Accounts.Configured(ctx, merchantID)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	if a.Pay.DevPayments {
		out = append(out, "dev")
	}
	return out, nil
}

// provider opens the merchant's account at a vendor (or the dev provider).
func (a *App) provider(ctx context.Context, merchantID int64, name string) (payment.Provider, error) {
	if name == "dev" {
		if !a.Pay.DevPayments {
			return nil, payment.ErrNotConfigured
		}
		return a.Provider, nil
	}
	if _, ok := methods[name]; !ok || a.Pay.Accounts == nil {
		return nil, payment.ErrBadMethod
	}
	return a.Pay.Accounts.Provider(ctx, merchantID, name)
}

func validMethod(provider, method string) bool {
	for _, m := range methods[provider] {
		if m == method {
			return true
		}
	}
	return false
}

// VendorCallback verifies a vendor's callback for a merchant's account and
// applies it: a payment marks the order paid, a refund notice finishes the
// refund; anything forged, stale, foreign or replayed changes nothing.
func (a *App) VendorCallback(ctx context.Context, provider string, merchantID int64, verify func(p payment.Provider) (*payment.Notification, error)) (*payment.Notification, error) {
	if provider == "dev" {
		return nil, payment.ErrBadMethod
	}
	p, err := a.provider(ctx, merchantID, provider)
	if errors.Is(err, payment.ErrNotConfigured) || errors.Is(err, apperr.ErrNotFound) {
		return nil, apperr.ErrNotFound // no account here: no callback endpoint either
	}
	if err != nil {
		return nil, err
	}
	n, err := verify(p)
	if err != nil {
		return nil, err
	}
	n.MerchantID = merchantID
	if n.Kind == payment.KindRefund {
		return n, a.applyRefund(ctx, n, provider)
	}
	return n, a.applyPaid(ctx, n, provider)
}

func (a *App) applyPaid(ctx context.Context, n *payment.Notification, provider string) error {
	o, err := a.Payments.ApplyPaid(ctx, n, provider, a.Now())
	if errors.Is(err, payment.ErrPaidTooLate) {
		a.paidTooLate(ctx, o, provider, n)
		return nil // recorded and being refunded: the vendor may stop calling
	}
	if err != nil {
		return err
	}
	a.orderChanged(o) // as committed: no second read
	return nil
}

// paidTooLate sends the refund ApplyPaid recorded for a payment that came
// after its order was closed (or paid by another intent), and tells the
// buyer's open pages. If the vendor cannot be reached now, the refund
// stays pending and the reconciler sends it (also after a restart).
func (a *App) paidTooLate(ctx context.Context, o *order.Order, provider string, n *payment.Notification) {
	a.Logger.Warn("paid after the order stopped taking payments: refunding automatically", "provider", provider, "intent", n.Intent, "order", o.ID, "amount_fen", n.AmountFen)
	a.refundsPending(ctx, o)
	if o, err := a.Orders.Get(ctx, o.MerchantID, o.ID); err == nil {
		a.orderChanged(o)
	}
}

func (a *App) applyRefund(ctx context.Context, n *payment.Notification, provider string) error {
	rf, err := a.Payments.ApplyRefund(ctx, n, provider)
	if err != nil {
		return err
	}
	if o, err := a.Orders.Get(ctx, rf.MerchantID, rf.OrderID); err == nil {
		a.orderChanged(o)
	}
	return nil
}

// ErrInvalidRefundAmount refuses a refund of nothing.
var ErrInvalidRefundAmount = apperr.InvalidField("amount_fen", "invalid_amount", "退款金额须大于 0", "The refund amount must be more than 0.")

// Refund refunds part or all of a paid order through the provider it was
// paid with. The Idempotency-Key makes a retried request the same refund;
// the refund is recorded and audited before the vendor is asked, and counted
// in the order only when the vendor confirms it (answer, callback or the
// reconciler's query).
func (a *App) Refund(ctx context.Context, p *identity.Principal, orderID, amountFen int64, reason, idemKey string) (*payment.Refund, error) {

	o, err := a.Orders.Get(ctx, p.MerchantID, orderID)
	if err != nil {
		return nil, err
	}
	if at := p.AtStore(); at != 0 && o.StoreID != at {
		return nil, apperr.ErrNotFound
	}
	if idemKey == "" || len(idemKey) > 200 {
		return nil, order.ErrIdempotencyKey
	}
	if amountFen <= 0 {
		return nil, ErrInvalidRefundAmount
	}
	if len(reason) > 200 {
		return nil, apperr.ErrReasonTooLong.With("退款原因不超过 200 字节", "The reason is at most 200 bytes.")
	}
	rf := &payment.Refund{MerchantID: p.MerchantID, OrderID: orderID, AmountFen: amountFen, Reason: reason, Actor: p.Name, RefundNo: payment.NewRefundNo()}
	if _, err := a.Payments.CreateRefund(ctx, rf, idemKey); err != nil {
		return nil, err
	}
	if rf.Status == "pending" {
		a.submitRefund(ctx, rf)
	}
	return a.refundByNo(ctx, rf)
}

func (a *App) refundByNo(ctx context.Context, rf *payment.Refund) (*payment.Refund, error) {
	list, err := a.Payments.Refunds(ctx, rf.MerchantID, rf.OrderID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].RefundNo == rf.RefundNo {
			return &list[i], nil
		}
	}
	return rf, nil
}

// OrderRefunds lists an order's refunds (staff).
func (a *App) OrderRefunds(ctx context.Context, p *identity.Principal, orderID int64) ([]payment.Refund, error) {
	o, err := a.Orders.Get(ctx, p.MerchantID, orderID)
	if err != nil {
		return nil, err
	}
	if at := p.AtStore(); at != 0 && o.StoreID != at {
		return nil, apperr.ErrNotFound
	}
	return a.Payments.Refunds(ctx, p.MerchantID, orderID)
}

// submitRefund asks the vendor to refund (again: both vendors treat the
// same refund number as the same refund) and applies a final answer. A
// failure leaves the refund pending for the reconciler.
func (a *App) submitRefund(ctx context.Context, rf *payment.Refund) {
	p, err := a.provider(ctx, rf.MerchantID, rf.Provider)
	if err != nil {
		a.Logger.Warn("refund: provider", "refund", rf.RefundNo, "err", err)
		return
	}
	res, err := p.Refund(ctx, rf, a.NotifyURL(rf.Provider, rf.MerchantID))
	if err != nil {
		a.Logger.Warn("refund: vendor", "refund", rf.RefundNo, "provider", rf.Provider, "err", err)
		return
	}
	a.finishRefund(ctx, rf, res, "refund-answer:")
}

func (a *App) finishRefund(ctx context.Context, rf *payment.Refund, res *payment.RefundResult, via string) {
	if res.Status != "succeeded" && res.Status != "failed" {
		return // the vendor's callback (or the next query) finishes it
	}
	n := &payment.Notification{Kind: payment.KindRefund, Intent: rf.Intent, RefundNo: rf.RefundNo, Status: res.Status, AmountFen: rf.AmountFen,
		ProviderRef: res.ProviderRef, MerchantID: rf.MerchantID, Nonce: via + rf.RefundNo}
	if err := a.applyRefund(ctx, n, rf.Provider); err != nil && !errors.Is(err, payment.ErrReplayed) {
		a.Logger.Warn("refund: apply", "refund", rf.RefundNo, "err", err)
	}
}

// refundsPending sends an order's pending refunds to the vendor (those a
// cancellation or a too-late payment recorded).
func (a *App) refundsPending(ctx context.Context, o *order.Order) {
	list, err := a.Payments.Refunds(ctx, o.MerchantID, o.ID)
	if err != nil {
		return
	}
	for i := range list {
		if list[i].Status == "pending" {
			a.submitRefund(ctx, &list[i])
		}
	}
}

// closeVendorOrders closes, at the vendor, the pending payments of an order
// cancelled unpaid, so that a QR code or cashier page still open on the
// buyer's phone cannot take money for it (the vendor order otherwise stays
// payable until the reservation's end, its time_expire). It runs after the
// commit and waits at most 5 s for the vendors. An intent whose close
// failed — the vendor unreachable, or the buyer paid a moment before —
// stays pending: the reconciler asks about it, and money that did arrive
// is refunded by itself (ApplyPaid). A vendor that never saw the order (an
// Alipay WAP link nobody opened) cannot close it; that link dies at the
// reservation's end.
func (a *App) closeVendorOrders(ctx context.Context, o *order.Order) {
	if a.Pay.Accounts == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	list, err := a.Payments.OrderPendingIntents(ctx, o.MerchantID, o.ID)
	if err != nil {
		a.Logger.Warn("cancel: pending payments", "order", o.ID, "err", err)
		return
	}
	for i := range list {
		in := &list[i]
		p, err := a.provider(ctx, in.MerchantID, in.Provider)
		if err != nil {
			continue
		}
		if err := p.Close(ctx, in); err != nil {
			a.Logger.Info("cancel: vendor order not closed; the reconciler asks later", "intent", in.Intent, "provider", in.Provider, "err", err)
			continue
		}
		if err := a.Payments.CloseIntent(ctx, in.ID); err != nil {
			a.Logger.Warn("cancel: close intent", "intent", in.Intent, "err", err)
		}
	}
}

// Reconcile asks the vendors about pending intents and refunds whose
// callback never came, and applies what they say exactly as a callback
// would (the leader runs it; overlapping runs are harmless: each effect is
// applied once by the database).
func (a *App) Reconcile(ctx context.Context) {
	after := a.Pay.ReconcileAfter
	if after == 0 {
		after = time.Minute
	}
	a.ReconcileOlderThan(ctx, after)
}

// ReconcileOlderThan is Reconcile for intents and refunds older than after
// (tests and benchmarks ask at once).
func (a *App) ReconcileOlderThan(ctx context.Context, after time.Duration) {
	a.Pay.reconcileMu.Lock()
	defer a.Pay.reconcileMu.Unlock()
	now := a.Now()
	intents, err := a.Payments.PendingIntents(ctx, now.Add(-72*time.Hour), now.Add(-after), 200)
	if err != nil {
		a.Logger.Error("reconcile: pending intents", "err", err)
		return
	}
	for i := range intents {
		a.reconcileIntent(ctx, &intents[i])
	}
	refunds, err := a.Payments.PendingRefunds(ctx, now.Add(-after), 200)
	if err != nil {
		a.Logger.Error("reconcile: pending refunds", "err", err)
		return
	}
	for i := range refunds {
		a.reconcileRefund(ctx, &refunds[i])
	}
}

func (a *App) reconcileIntent(ctx context.Context, in *payment.Intent) {
	p, err := a.provider(ctx, in.MerchantID, in.Provider)
	if err != nil {
		return
	}
	n, err := p.Query(ctx, in)
	if err != nil {
		a.Logger.Warn("reconcile: query", "intent", in.Intent, "provider", in.Provider, "err", err)
		return
	}
	switch n.Status {
	case "paid":
		n.MerchantID = in.MerchantID
		if err := a.applyPaid(ctx, n, in.Provider); err != nil && !errors.Is(err, payment.ErrReplayed) {
			a.Logger.Warn("reconcile: apply", "intent", in.Intent, "err", err)
		} else if err == nil {
			a.Logger.Info("reconcile: payment found without its callback", "intent", in.Intent, "provider", in.Provider)
		}
	case "closed":
		a.Payments.CloseIntent(ctx, in.ID)
	default:
		// Still unpaid: once the order can no longer be paid, close the
		// vendor order so the buyer cannot pay it any more.
		o, err := a.Orders.Get(ctx, in.MerchantID, in.OrderID)
		if err == nil && o.Status != order.PendingPayment && a.Now().After(o.ReserveExpiresAt) {
			// Both vendors got the reservation's end as the order's
			// time_expire, so after it nobody can pay; a vendor that never
			// saw the order (an Alipay WAP link nobody opened) cannot close it.
			if err := p.Close(ctx, in); err != nil {
				a.Logger.Info("reconcile: close", "intent", in.Intent, "provider", in.Provider, "err", err)
			}
			a.Payments.CloseIntent(ctx, in.ID)
		}
	}
}

func (a *App) reconcileRefund(ctx context.Context, rf *payment.Refund) {
	p, err := a.provider(ctx, rf.MerchantID, rf.Provider)
	if err != nil {
		return
	}
	res, err := p.QueryRefund(ctx, rf)
	if err != nil {
		// Never reached the vendor (or the vendor does not know it):
		// send it again under the same refund number.
		a.submitRefund(ctx, rf)
		return
	}
	a.finishRefund(ctx, rf, res, "refund-query:")
}

// reconcileLoop runs Reconcile on the leader.
func (a *App) reconcileTick(ctx context.Context, last *time.Time) {
	every := a.Pay.ReconcileEvery
	if every == 0 {
		every = 30 * time.Second
	}
	if a.Pay.Accounts == nil || a.Now().Sub(*last) < every {
		return
	}
	*last = a.Now()
	go a.Reconcile(ctx)
}

// wechatSignIn is the WeChat Pay provider's sign-in side (openid for JSAPI).
type wechatSignIn interface {
	CanSignIn() bool
	SignInURL(redirect, state string) string
	OpenID(ctx context.Context, code string) (string, error)
}

// WeChatSignInURL is where a buyer inside WeChat goes so the merchant's
// official account tells ShelfLive their openid (snsapi_base, no prompt).
func (a *App) WeChatSignInURL(ctx context.Context, merchantID int64, redirect, state string) (string, error) {
	p, err := a.provider(ctx, merchantID, "wechatpay")
	if err != nil {
		return "", err
	}
	s, ok := p.(wechatSignIn)
	if !ok || !s.CanSignIn() {
		return "", payment.ErrNeedOpenID
	}
	return s.SignInURL(redirect, state), nil
}

// WeChatOpenID exchanges the sign-in code for the buyer's openid.
func (a *App) WeChatOpenID(ctx context.Context, merchantID int64, code string) (string, error) {
	p, err := a.provider(ctx, merchantID, "wechatpay")
	if err != nil {
		return "", err
	}
	s, ok := p.(wechatSignIn)
	if !ok {
		return "", payment.ErrNeedOpenID
	}
	return s.OpenID(ctx, code)
}

// wechatTicket is an official account that can sign JS-SDK pages.
type wechatTicket interface {
	AppID() string
	CanSignIn() bool
	JSAPITicket(ctx context.Context) (string, time.Duration, error)
	SignJSSDK(ticket, nonce string, timestamp int64, pageURL string) string
}

// TicketCache keeps JS-SDK tickets for every node and the WeChat openids
// bound to customers (sqldb.WeChatTicketStore).
type TicketCache interface {
	Ticket(ctx context.Context, appID string, fetch func(context.Context) (string, time.Duration, error)) (string, error)
	BindWeChat(ctx context.Context, merchantID int64, openid string, customerID int64) error
	WeChatCustomer(ctx context.Context, merchantID int64, openid string) (int64, error)
	// The nickname and avatar a customer agreed to share (snsapi_userinfo).
	SaveWeChatProfile(ctx context.Context, merchantID, customerID int64, openid, nickname string, avatar []byte, avatarType string) error
	WeChatProfileOf(ctx context.Context, merchantID, customerID int64) (*identity.WeChatProfile, error)
	WeChatAvatar(ctx context.Context, merchantID, customerID int64) ([]byte, string, error)
	DeleteWeChatProfile(ctx context.Context, merchantID, customerID int64) error
}

// wechatConsent is an official account that asks for the buyer's profile.
type wechatConsent interface {
	CanSignIn() bool
	ConsentURL(redirect, state string) string
	UserInfo(ctx context.Context, code string) (*identity.WeChatUser, error)
}

// WeChatConsentURL is where a viewer who tapped "use my WeChat nickname and
// avatar" goes: the official account's snsapi_userinfo sign-in, where
// WeChat asks them.
func (a *App) WeChatConsentURL(ctx context.Context, merchantID int64, redirect, state string) (string, error) {
	p, err := a.provider(ctx, merchantID, "wechatpay")
	if err != nil {
		return "", err
	}
	s, ok := p.(wechatConsent)
	if !ok || !s.CanSignIn() {
		return "", payment.ErrNeedOpenID
	}
	return s.ConsentURL(redirect, state), nil
}

// WeChatConsented takes the code WeChat sent back after the viewer agreed:
// the openid is bound to the customer and their nickname and avatar kept
// (with the time of consent). customerID 0 (not logged in) uses the
// customer the openid is already bound to, and nothing is kept when there
// is none. It answers the customer and the openid.
func (a *App) WeChatConsented(ctx context.Context, merchantID, customerID int64, code string) (int64, string, error) {
	p, err := a.provider(ctx, merchantID, "wechatpay")
	if err != nil {
		return 0, "", err
	}
	s, ok := p.(wechatConsent)
	if !ok {
		return 0, "", payment.ErrNeedOpenID
	}
	u, err := s.UserInfo(ctx, code)
	if err != nil {
		return 0, "", err
	}
	if u.Snapshot {
		return 0, "", nil // a 快照页 visitor: a virtual openid, nothing to bind or keep
	}
	if customerID == 0 {
		if customerID, err = a.WeChatTickets.WeChatCustomer(ctx, merchantID, u.OpenID); err != nil || customerID == 0 {
			return 0, u.OpenID, err
		}
	} else if err := a.WeChatTickets.BindWeChat(ctx, merchantID, u.OpenID, customerID); err != nil {
		return 0, u.OpenID, err
	}
	if u.Nickname == "" && len(u.Avatar) == 0 {
		return customerID, u.OpenID, nil // scope snsapi_base: they did not share
	}
	return customerID, u.OpenID, a.WeChatTickets.SaveWeChatProfile(ctx, merchantID, customerID, u.OpenID, u.Nickname, u.Avatar, u.AvatarType)
}

// WeChatJSConfig is what wx.config needs on a page.
type WeChatJSConfig struct {
	AppID     string `json:"appId"`
	Timestamp int64  `json:"timestamp"`
	NonceStr  string `json:"nonceStr"`
	Signature string `json:"signature"`
}

// WeChatShareConfig signs pageURL (without its #fragment) for the
// merchant's official account's JS-SDK, with the jsapi_ticket every node
// shares (fetched once per expiry for all of them).
func (a *App) WeChatShareConfig(ctx context.Context, merchantID int64, pageURL string) (*WeChatJSConfig, error) {
	if a.WeChatTickets == nil {
		return nil, payment.ErrNeedOpenID
	}
	p, err := a.provider(ctx, merchantID, "wechatpay")
	if err != nil {
		return nil, err
	}
	s, ok := p.(wechatTicket)
	if !ok || !s.CanSignIn() {
		return nil, payment.ErrNeedOpenID
	}
	ticket, err := a.WeChatTickets.Ticket(ctx, s.AppID(), s.JSAPITicket)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 8)
	rand.Read(b)
	c := &WeChatJSConfig{AppID: s.AppID(), Timestamp: a.Now().Unix(), NonceStr: hex.EncodeToString(b)}
	if i := strings.IndexByte(pageURL, '#'); i >= 0 {
		pageURL = pageURL[:i]
	}
	c.Signature = s.SignJSSDK(ticket, c.NonceStr, c.Timestamp, pageURL)
	return c, nil
}

// RetryRefund retries a refund the vendor refused (staff's button): a new
// refund of the same amount under a new number, sent at once; pressing it
// again, or the leader's automatic retry racing it, gives the same retry.
func (a *App) RetryRefund(ctx context.Context, p *identity.Principal, orderID int64, refundNo string) (*payment.Refund, error) {
	o, err := a.Orders.Get(ctx, p.MerchantID, orderID)
	if err != nil {
		return nil, err
	}
	if at := p.AtStore(); at != 0 && o.StoreID != at {
		return nil, apperr.ErrNotFound
	}
	return a.retryRefund(ctx, p.MerchantID, orderID, refundNo, p.Name)
}

func (a *App) retryRefund(ctx context.Context, merchantID, orderID int64, refundNo, actor string) (*payment.Refund, error) {
	rf, _, err := a.Payments.RetryRefund(ctx, merchantID, orderID, refundNo, actor)
	if err != nil {
		return nil, err
	}
	if rf.Status == "pending" {
		a.submitRefund(ctx, rf)
	}
	if o, err := a.Orders.Get(ctx, merchantID, orderID); err == nil {
		a.orderChanged(o)
	}
	return a.refundByNo(ctx, rf)
}

// retryFailedRefunds retries, on the leader, the failed refunds whose
// backoff is over (payment.RetryBackoff; at most payment.MaxAutoAttempts
// tries, then staff decide). Each failed refund is retried once whoever
// gets there first (the store's unique key), so a retry racing staff's
// button or another node makes one refund.
func (a *App) retryFailedRefunds(ctx context.Context) {
	due, err := a.Payments.DueRetries(ctx, a.Now(), 20)
	if err != nil {
		a.Logger.Error("refund retries: due", "err", err)
		return
	}
	for _, rf := range due {
		got, err := a.retryRefund(ctx, rf.MerchantID, rf.OrderID, rf.RefundNo, payment.RetryActor)
		if err != nil {
			a.Logger.Warn("refund retry", "refund", rf.RefundNo, "err", err)
			continue
		}
		a.Logger.Info("refund retried", "failed", rf.RefundNo, "retry", got.RefundNo, "attempt", got.Attempt, "status", got.Status)
	}
}
