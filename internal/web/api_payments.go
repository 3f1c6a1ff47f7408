package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/payment"
)

// paymentRoutes are the real vendors' routes: a merchant's settings (keys
// go in, never come out), the vendors' callbacks, and refunds.
func (s *Server) paymentRoutes() []Route {
	P, C, S := Public, Customer, Staff
	pw := identity.PermPaymentsWrite
	return []Route{
		{Method: "GET", Path: "/wechat/oauth", Access: C, Summary: "WeChat sign-in (snsapi_base) for a JSAPI payment: off to the official account's authorize page", handler: s.pageWeChatSignIn},
		{Method: "GET", Path: "/wechat/oauth/callback", Access: C, Summary: "WeChat sign-in comes back: the buyer's openid kept in a MACed cookie, back to the order", handler: s.pageWeChatSignInDone},
		{Method: "GET", Path: "/qr/pay", Access: C, Summary: "QR code (PNG) of a WeChat Pay / Alipay payment link, for a desktop checkout", handler: s.pagePayQR},
		api("GET", "/api/v1/payments", S, pw, "The shop's payment accounts: configured or not, ids and key fingerprints only", s.apiPaymentAccounts),
		api("PUT", "/api/v1/payments/wechatpay", S, pw, "Set the shop's WeChat Pay account (validated, stored encrypted, never returned)", s.apiPutPaymentAccount("wechatpay")),
		api("PUT", "/api/v1/payments/alipay", S, pw, "Set the shop's Alipay account (validated, stored encrypted, never returned)", s.apiPutPaymentAccount("alipay")),
		api("POST", "/api/v1/payments/alipay/check", S, pw, "Check the Alipay credentials with one harmless signed query", s.apiCheckPaymentAccount("alipay")),
		api("POST", "/api/v1/payments/alipay/notify/{merchant}", P, "", "Alipay asynchronous notification, RSA2-signed by Alipay", s.apiVendorNotify("alipay")),
		api("POST", "/api/v1/payments/wechatpay/check", S, pw, "Check the WeChat Pay credentials with one harmless signed query", s.apiCheckPaymentAccount("wechatpay")),
		api("POST", "/api/v1/payments/wechatpay/notify/{merchant}", P, "", "WeChat Pay callback (payments and refunds), signed by WeChat Pay, resource encrypted", s.apiVendorNotify("wechatpay")),
		api("GET", "/api/v1/orders/{id}/payment-options", C, "", "The payment providers the order's shop accepts", s.apiPaymentOptions),
		api("GET", "/api/v1/orders/{id}/refunds", S, identity.PermOrdersRead, "An order's refunds", s.apiOrderRefunds),
		api("POST", "/api/v1/orders/{id}/refunds", S, identity.PermOrdersRefund, "Refund part or all of a paid order through its provider (Idempotency-Key)", s.apiRefund),
		api("POST", "/api/v1/orders/{id}/refunds/retry", S, identity.PermOrdersRefund, "Retry a refund the provider refused (a new refund of the same amount, once)", s.apiRetryRefund),
	}
}

func (s *Server) apiPaymentAccounts(w http.ResponseWriter, r *http.Request) error {
	if s.App.Pay.Accounts == nil {
		return writeJSON(w, 200, map[string]any{"accounts": []any{}})
	}
	list, err := s.App.Pay.Accounts.Summaries(r.Context(), PrincipalFrom(r.Context()).MerchantID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"accounts": list})
}

func (s *Server) apiPutPaymentAccount(provider string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var fields map[string]string
		if err := decodeJSON(r, &fields); err != nil {
			return err
		}
		if s.App.Pay.Accounts == nil {
			return payment.ErrNotConfigured
		}
		p := PrincipalFrom(r.Context())
		sum, err := s.App.Pay.Accounts.Put(r.Context(), p.MerchantID, provider, fields)
		if err != nil {
			return err
		}
		s.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "payments.settings", "payments:"+provider, "keys replaced (write-only)")
		return writeJSON(w, 200, sum)
	}
}

func (s *Server) apiCheckPaymentAccount(provider string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.App.Pay.Accounts == nil {
			return payment.ErrNotConfigured
		}
		res := s.App.Pay.Accounts.Check(r.Context(), PrincipalFrom(r.Context()).MerchantID, provider)
		return writeJSON(w, 200, res)
	}
}

// apiVendorNotify is a vendor → ShelfLive callback for one merchant's
// account. Anything forged, tampered, stale, foreign or mismatched changes
// nothing, is logged and answered with an error (the vendor retries); a
// repeat of a callback already applied changes nothing and is acknowledged
// so the vendor stops retrying.
func (s *Server) apiVendorNotify(provider string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		merchantID, err := strconv.ParseInt(r.PathValue("merchant"), 10, 64)
		if err != nil || merchantID <= 0 {
			return apperr.ErrNotFound
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		_, err = s.App.VendorCallback(r.Context(), provider, merchantID, func(p payment.Provider) (*payment.Notification, error) {
			return p.Verify(r, body, s.App.Now())
		})
		if errors.Is(err, payment.ErrReplayed) {
			s.metrics.payments.WithLabelValues("duplicate").Inc()
			return vendorAck(w, provider)
		}
		if err != nil {
			s.metrics.payments.WithLabelValues("refused").Inc()
			s.Logger.Warn("payment callback refused", "provider", provider, "merchant", merchantID, "ip", s.clientIP(r), "code", apperr.As(err).Code)
			return err
		}
		s.metrics.payments.WithLabelValues("paid").Inc()
		return vendorAck(w, provider)
	}
}

// vendorAck is the answer each vendor documents for "received".
func vendorAck(w http.ResponseWriter, provider string) error {
	if provider == "alipay" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, err := w.Write([]byte("success"))
		return err
	}
	return writeJSON(w, 200, map[string]string{"code": "SUCCESS", "message": "成功"})
}

func (s *Server) apiPaymentOptions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := s.App.CustomerOrder(r.Context(), PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	list, err := s.App.PaymentProviders(r.Context(), o.MerchantID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"providers": list})
}

func (s *Server) apiOrderRefunds(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	list, err := s.App.OrderRefunds(r.Context(), PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"refunds": list})
}

func (s *Server) apiRefund(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		AmountFen int64  `json:"amount_fen"`
		Reason    string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	rf, err := s.App.Refund(r.Context(), PrincipalFrom(r.Context()), id, in.AmountFen, in.Reason, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, rf)
}

// payRequest reads the provider and method the page picked (an empty body
// is the dev provider's page, as before the choice existed).
func (s *Server) payRequest(r *http.Request, orderID int64) (app.PayRequest, error) {
	var req app.PayRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil && !errors.Is(err, errEmptyBody) {
			return req, err
		}
	}
	req.ClientIP = s.clientIP(r)
	req.ReturnURL = s.App.Pay.PublicURL() + "/orders/" + strconv.FormatInt(orderID, 10)
	if c, err := r.Cookie(openIDCookie); err == nil {
		req.OpenID = s.openID(c.Value)
	}
	return req, nil
}

func (s *Server) apiRetryRefund(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		RefundNo string `json:"refund_no"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	rf, err := s.App.RetryRefund(r.Context(), PrincipalFrom(r.Context()), id, in.RefundNo)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, rf)
}
