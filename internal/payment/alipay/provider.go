package alipay

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/payment"
)

func expire(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(cn.Shanghai).Format("2006-01-02 15:04:05")
}

// Start implements payment.Provider: WAP (a signed URL of the gateway the
// phone's browser opens) or QR (precreate's qr_code).
func (c *Client) Start(ctx context.Context, in *payment.Intent, req payment.StartRequest) (*payment.Action, error) {
	biz := map[string]any{"out_trade_no": in.Intent, "total_amount": Yuan(in.AmountFen), "subject": clip(req.Description, 256)}
	if e := expire(req.ExpiresAt); e != "" {
		biz["time_expire"] = e
	}
	switch req.Method {
	case payment.MethodWAP:
		biz["product_code"], biz["quit_url"] = "QUICK_WAP_WAY", req.ReturnURL
		v, err := c.params("alipay.trade.wap.pay", biz, map[string]string{"notify_url": req.NotifyURL, "return_url": req.ReturnURL})
		if err != nil {
			return nil, err
		}
		return &payment.Action{Method: payment.MethodWAP, PayURL: c.BaseURL + "?" + v.Encode()}, nil
	case payment.MethodQR:
		var out struct {
			QRCode string `json:"qr_code"`
		}
		if err := c.call(ctx, "alipay.trade.precreate", biz, map[string]string{"notify_url": req.NotifyURL}, &out); err != nil {
			return nil, business(err)
		}
		return &payment.Action{Method: payment.MethodQR, CodeURL: out.QRCode}, nil
	}
	return nil, payment.ErrBadMethod
}

// Trade is a trade as alipay.trade.query reports it.
type Trade struct {
	OutTradeNo  string `json:"out_trade_no"`
	TradeNo     string `json:"trade_no"`
	TradeStatus string `json:"trade_status"`
	TotalAmount string `json:"total_amount"`
}

// Query implements payment.Provider. A trade Alipay does not know yet
// (nobody scanned or opened it) is pending.
func (c *Client) Query(ctx context.Context, in *payment.Intent) (*payment.Notification, error) {
	var t Trade
	err := c.call(ctx, "alipay.trade.query", map[string]string{"out_trade_no": in.Intent}, nil, &t)
	var ae *apiError
	if errors.As(err, &ae) && ae.SubCode == "ACQ.TRADE_NOT_EXIST" {
		return &payment.Notification{Intent: in.Intent, Status: "pending"}, nil
	}
	if err != nil {
		return nil, business(err)
	}
	fen, ok := Fen(t.TotalAmount)
	if t.OutTradeNo != in.Intent || !ok {
		return nil, payment.ErrBadCallback
	}
	n := &payment.Notification{Intent: in.Intent, AmountFen: fen, ProviderRef: t.TradeNo, MerchantID: c.MerchantID, Nonce: "ali-query:" + in.Intent}
	switch t.TradeStatus {
	case "TRADE_SUCCESS", "TRADE_FINISHED":
		n.Status = "paid"
	case "WAIT_BUYER_PAY":
		n.Status = "pending"
	default:
		n.Status = "closed"
	}
	return n, nil
}

// Close implements payment.Provider.
func (c *Client) Close(ctx context.Context, in *payment.Intent) error {
	return business(c.call(ctx, "alipay.trade.close", map[string]string{"out_trade_no": in.Intent}, nil, nil))
}

// Refund implements payment.Provider: Alipay refunds synchronously
// (fund_change Y); the same out_request_no is the same refund.
func (c *Client) Refund(ctx context.Context, rf *payment.Refund, notifyURL string) (*payment.RefundResult, error) {
	var out struct {
		FundChange string `json:"fund_change"`
		TradeNo    string `json:"trade_no"`
	}
	biz := map[string]string{"out_trade_no": rf.Intent, "refund_amount": Yuan(rf.AmountFen), "out_request_no": rf.RefundNo, "refund_reason": clip(rf.Reason, 256)}
	if err := c.call(ctx, "alipay.trade.refund", biz, nil, &out); err != nil {
		return nil, business(err)
	}
	if out.FundChange == "Y" {
		return &payment.RefundResult{Status: "succeeded", ProviderRef: out.TradeNo}, nil
	}
	return c.QueryRefund(ctx, rf) // a repeated request answers N: ask what happened
}

// QueryRefund implements payment.Provider.
func (c *Client) QueryRefund(ctx context.Context, rf *payment.Refund) (*payment.RefundResult, error) {
	var out struct {
		RefundAmount string `json:"refund_amount"`
		RefundStatus string `json:"refund_status"`
		TradeNo      string `json:"trade_no"`
	}
	if err := c.call(ctx, "alipay.trade.fastpay.refund.query", map[string]string{"out_trade_no": rf.Intent, "out_request_no": rf.RefundNo}, nil, &out); err != nil {
		return nil, business(err)
	}
	if out.RefundAmount == "" {
		return nil, payment.ErrNotRefundable // Alipay has no such refund: send it again
	}
	if fen, ok := Fen(out.RefundAmount); !ok || fen != rf.AmountFen {
		return nil, payment.ErrAmount
	}
	if out.RefundStatus == "" || out.RefundStatus == "REFUND_SUCCESS" {
		return &payment.RefundResult{Status: "succeeded", ProviderRef: out.TradeNo}, nil
	}
	return &payment.RefundResult{Status: "pending", ProviderRef: out.TradeNo}, nil
}

// Check implements payment.Provider: a query about a trade that does not
// exist; a signed ACQ.TRADE_NOT_EXIST proves the app key and Alipay's key.
func (c *Client) Check(ctx context.Context) error {
	err := c.call(ctx, "alipay.trade.query", map[string]string{"out_trade_no": "shelflive_check_0"}, nil, nil)
	var ae *apiError
	if errors.As(err, &ae) && ae.SubCode == "ACQ.TRADE_NOT_EXIST" {
		return nil
	}
	return business(err)
}

// Verify implements payment.Provider for asynchronous notifications
// (application/x-www-form-urlencoded) of payments and refunds: RSA2 over
// the sorted parameters but sign and sign_type, with the Alipay public key;
// the app_id must be this account's, notify_time recent.
func (c *Client) Verify(r *http.Request, body []byte, now time.Time) (*payment.Notification, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil || v.Get("sign") == "" || v.Get("notify_id") == "" {
		return nil, payment.ErrBadSignature
	}
	if v.Get("sign_type") != "RSA2" || Verify(c.keys.pub, SignContent(v, "sign_type"), v.Get("sign")) != nil {
		return nil, payment.ErrBadSignature
	}
	if v.Get("app_id") != c.acct.AppID {
		return nil, payment.ErrForeign
	}
	at, err := time.ParseInLocation("2006-01-02 15:04:05", v.Get("notify_time"), cn.Shanghai)
	if err != nil {
		return nil, payment.ErrBadCallback
	}
	if d := now.Sub(at); d > c.Window || d < -c.Window {
		return nil, payment.ErrStale
	}
	fen, ok := Fen(v.Get("total_amount"))
	if !ok {
		return nil, payment.ErrBadCallback
	}
	nonce := "ali:" + c.acct.AppID + ":" + v.Get("notify_id")
	if v.Get("out_biz_no") != "" && v.Get("refund_fee") != "" {
		// A refund's notification: out_biz_no is the refund's
		// out_request_no, refund_fee the trade's refunded total so far
		// (trade_status TRADE_SUCCESS after a partial refund, TRADE_CLOSED
		// after a full one). It finishes a refund whose answer never came.
		total, ok := Fen(v.Get("refund_fee"))
		if !ok || total <= 0 || total > fen {
			return nil, payment.ErrBadCallback
		}
		return &payment.Notification{Kind: payment.KindRefund, Intent: v.Get("out_trade_no"), RefundNo: v.Get("out_biz_no"), Status: "succeeded",
			RefundedTotalFen: total, ProviderRef: v.Get("trade_no"), MerchantID: c.MerchantID, Nonce: nonce}, nil
	}
	switch v.Get("trade_status") {
	case "TRADE_SUCCESS", "TRADE_FINISHED":
	case "TRADE_CLOSED", "WAIT_BUYER_PAY":
		return nil, payment.ErrReplayed // nothing to apply: acknowledged, nothing changes
	default:
		return nil, payment.ErrBadCallback
	}
	return &payment.Notification{Intent: v.Get("out_trade_no"), Status: "paid", AmountFen: fen, ProviderRef: v.Get("trade_no"),
		MerchantID: c.MerchantID, Nonce: nonce}, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
