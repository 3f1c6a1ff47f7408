package wechatpay

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/payment"
)

// Amount is WeChat Pay's amount object (fen).
type Amount struct {
	Total    int64  `json:"total,omitempty"`
	Refund   int64  `json:"refund,omitempty"`
	Currency string `json:"currency,omitempty"`
}

// Transaction is an order as WeChat Pay reports it (query answers and
// decrypted TRANSACTION.SUCCESS callbacks).
type Transaction struct {
	MchID         string `json:"mchid"`
	AppID         string `json:"appid"`
	OutTradeNo    string `json:"out_trade_no"`
	TransactionID string `json:"transaction_id"`
	TradeState    string `json:"trade_state"`
	Amount        Amount `json:"amount"`
}

// RefundInfo is a refund as WeChat Pay reports it (refund answers and
// decrypted REFUND.* callbacks).
type RefundInfo struct {
	MchID        string `json:"mchid,omitempty"`
	OutTradeNo   string `json:"out_trade_no"`
	OutRefundNo  string `json:"out_refund_no"`
	RefundID     string `json:"refund_id"`
	Status       string `json:"status,omitempty"`        // refund answers
	RefundStatus string `json:"refund_status,omitempty"` // callbacks
	Amount       Amount `json:"amount"`
}

// Start implements payment.Provider: JSAPI (prepay id → page parameters),
// H5 (h5_url) or Native (code_url).
func (c *Client) Start(ctx context.Context, in *payment.Intent, req payment.StartRequest) (*payment.Action, error) {
	body := map[string]any{
		"appid": c.acct.AppID, "mchid": c.acct.MchID, "description": clip(req.Description, 127),
		"out_trade_no": in.Intent, "notify_url": req.NotifyURL,
		"amount": Amount{Total: in.AmountFen, Currency: "CNY"},
	}
	if !req.ExpiresAt.IsZero() {
		body["time_expire"] = req.ExpiresAt.In(cn.Shanghai).Format(time.RFC3339)
	}
	switch req.Method {
	case payment.MethodJSAPI, payment.MethodMiniProgram:
		// Both are WeChat Pay's JSAPI order; the mini-program pays as its
		// own appid, which the openid belongs to.
		appID := c.acct.AppID
		if req.Method == payment.MethodMiniProgram {
			if c.MiniProgramAppID == "" {
				return nil, payment.ErrBadMethod
			}
			appID = c.MiniProgramAppID
		}
		if req.OpenID == "" {
			return nil, payment.ErrNeedOpenID
		}
		body["appid"] = appID
		body["payer"] = map[string]string{"openid": req.OpenID}
		var out struct {
			PrepayID string `json:"prepay_id"`
		}
		if err := c.post(ctx, "/v3/pay/transactions/jsapi", body, &out); err != nil {
			return nil, err
		}
		return c.jsapiParams(req.Method, appID, out.PrepayID)
	case payment.MethodH5:
		body["scene_info"] = map[string]any{"payer_client_ip": req.ClientIP, "h5_info": map[string]string{"type": "Wap"}}
		var out struct {
			H5URL string `json:"h5_url"`
		}
		if err := c.post(ctx, "/v3/pay/transactions/h5", body, &out); err != nil {
			return nil, err
		}
		u := out.H5URL
		if req.ReturnURL != "" {
			u += "&redirect_url=" + url.QueryEscape(req.ReturnURL)
		}
		return &payment.Action{Method: payment.MethodH5, H5URL: u}, nil
	case payment.MethodNative:
		var out struct {
			CodeURL string `json:"code_url"`
		}
		if err := c.post(ctx, "/v3/pay/transactions/native", body, &out); err != nil {
			return nil, err
		}
		return &payment.Action{Method: payment.MethodNative, CodeURL: out.CodeURL}, nil
	}
	return nil, payment.ErrBadMethod
}

// jsapiParams are what WeixinJSBridge.invoke('getBrandWCPayRequest') takes
// (and, without appId, the mini-program's wx.requestPayment), signed with
// the merchant's key over the appid the order was made for.
func (c *Client) jsapiParams(method, appID, prepayID string) (*payment.Action, error) {
	if prepayID == "" {
		return nil, vendorErr(payment.ErrVendor, errors.New("no prepay_id"))
	}
	ts, nonce, pkg := strconv.FormatInt(c.Now().Unix(), 10), NonceStr(), "prepay_id="+prepayID
	sig, err := SignMessage(c.keys.priv, appID, ts, nonce, pkg)
	if err != nil {
		return nil, err
	}
	return &payment.Action{Method: method, JSAPI: map[string]string{
		"appId": appID, "timeStamp": ts, "nonceStr": nonce, "package": pkg, "signType": "RSA", "paySign": sig}}, nil
}

// post sends a signed POST; a verified error answer becomes ErrVendor.
func (c *Client) post(ctx context.Context, path string, body, out any) error {
	err := c.do(ctx, http.MethodPost, path, body, out)
	var ae *apiError
	if errors.As(err, &ae) {
		return vendorErr(payment.ErrVendor, ae)
	}
	return err
}

// Query implements payment.Provider.
func (c *Client) Query(ctx context.Context, in *payment.Intent) (*payment.Notification, error) {
	var t Transaction
	err := c.do(ctx, http.MethodGet, "/v3/pay/transactions/out-trade-no/"+url.PathEscape(in.Intent)+"?mchid="+c.acct.MchID, nil, &t)
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == "ORDER_NOT_EXIST" {
		return &payment.Notification{Intent: in.Intent, Status: "closed"}, nil
	}
	if err != nil {
		return nil, err
	}
	if t.MchID != c.acct.MchID || t.OutTradeNo != in.Intent {
		return nil, payment.ErrForeign
	}
	n := &payment.Notification{Intent: in.Intent, AmountFen: t.Amount.Total, ProviderRef: t.TransactionID,
		MerchantID: c.MerchantID, Nonce: "wx-query:" + in.Intent}
	switch t.TradeState {
	case "SUCCESS", "REFUND":
		n.Status = "paid"
	case "NOTPAY", "USERPAYING":
		n.Status = "pending"
	default: // CLOSED, REVOKED, PAYERROR
		n.Status = "closed"
	}
	return n, nil
}

// Close implements payment.Provider.
func (c *Client) Close(ctx context.Context, in *payment.Intent) error {
	return c.post(ctx, "/v3/pay/transactions/out-trade-no/"+url.PathEscape(in.Intent)+"/close", map[string]string{"mchid": c.acct.MchID}, nil)
}

// Refund implements payment.Provider.
func (c *Client) Refund(ctx context.Context, rf *payment.Refund, notifyURL string) (*payment.RefundResult, error) {
	body := map[string]any{"out_trade_no": rf.Intent, "out_refund_no": rf.RefundNo, "reason": clip(rf.Reason, 80),
		"notify_url": notifyURL, "amount": Amount{Refund: rf.AmountFen, Total: rf.PaidFen, Currency: "CNY"}}
	var out RefundInfo
	if err := c.post(ctx, "/v3/refund/domestic/refunds", body, &out); err != nil {
		return nil, err
	}
	return refundResult(&out, out.Status), nil
}

// QueryRefund implements payment.Provider.
func (c *Client) QueryRefund(ctx context.Context, rf *payment.Refund) (*payment.RefundResult, error) {
	var out RefundInfo
	if err := c.do(ctx, http.MethodGet, "/v3/refund/domestic/refunds/"+url.PathEscape(rf.RefundNo), nil, &out); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return nil, vendorErr(payment.ErrVendor, ae)
		}
		return nil, err
	}
	return refundResult(&out, out.Status), nil
}

func refundResult(r *RefundInfo, status string) *payment.RefundResult {
	res := &payment.RefundResult{ProviderRef: r.RefundID, Status: "pending"}
	switch status {
	case "SUCCESS":
		res.Status = "succeeded"
	case "CLOSED", "ABNORMAL":
		res.Status = "failed"
	}
	return res
}

// Check implements payment.Provider: it asks about an order number that
// does not exist. A signed "ORDER_NOT_EXIST" proves WeChat Pay accepted our
// signature (mchid, serial, private key) and that its answer verifies
// (public key); nothing is created.
func (c *Client) Check(ctx context.Context) error {
	err := c.do(ctx, http.MethodGet, "/v3/pay/transactions/out-trade-no/shelflive_check_0?mchid="+c.acct.MchID, nil, nil)
	var ae *apiError
	if errors.As(err, &ae) {
		if ae.Code == "ORDER_NOT_EXIST" || ae.Status == http.StatusNotFound {
			return nil
		}
		return vendorErr(ErrRefused, ae)
	}
	return err
}

// notification is a callback's envelope.
type notification struct {
	ID           string   `json:"id"`
	CreateTime   string   `json:"create_time"`
	EventType    string   `json:"event_type"`
	ResourceType string   `json:"resource_type"`
	Resource     Resource `json:"resource"`
	Summary      string   `json:"summary"`
}

// Verify implements payment.Provider for payment and refund callbacks:
// signature with WeChat Pay's key, time window, decryption with the APIv3
// key, and the merchant number must be this account's.
func (c *Client) Verify(r *http.Request, body []byte, now time.Time) (*payment.Notification, error) {
	if err := c.verify(r.Context(), r.Header, body, false, now); err != nil {
		if errors.Is(err, payment.ErrStale) {
			return nil, payment.ErrStale
		}
		return nil, payment.ErrBadSignature
	}
	var env notification
	if err := json.Unmarshal(body, &env); err != nil || env.ID == "" {
		return nil, payment.ErrBadCallback
	}
	plain, err := env.Resource.Decrypt(c.acct.APIv3Key)
	if err != nil {
		return nil, payment.ErrBadSignature
	}
	nonce := "wx:" + c.acct.MchID + ":" + env.ID
	switch env.EventType {
	case "TRANSACTION.SUCCESS":
		var t Transaction
		if err := json.Unmarshal(plain, &t); err != nil || t.TradeState != "SUCCESS" {
			return nil, payment.ErrBadCallback
		}
		if t.MchID != c.acct.MchID || (t.AppID != c.acct.AppID && (c.MiniProgramAppID == "" || t.AppID != c.MiniProgramAppID)) {
			return nil, payment.ErrForeign
		}
		return &payment.Notification{Intent: t.OutTradeNo, Status: "paid", AmountFen: t.Amount.Total,
			ProviderRef: t.TransactionID, MerchantID: c.MerchantID, Nonce: nonce}, nil
	case "REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED":
		var rf RefundInfo
		if err := json.Unmarshal(plain, &rf); err != nil || rf.OutRefundNo == "" {
			return nil, payment.ErrBadCallback
		}
		if rf.MchID != c.acct.MchID {
			return nil, payment.ErrForeign
		}
		res := refundResult(&rf, rf.RefundStatus)
		return &payment.Notification{Kind: payment.KindRefund, Intent: rf.OutTradeNo, RefundNo: rf.OutRefundNo, Status: res.Status,
			AmountFen: rf.Amount.Refund, ProviderRef: rf.RefundID, MerchantID: c.MerchantID, Nonce: nonce}, nil
	}
	return nil, payment.ErrBadCallback
}

// clip shortens s to at most n bytes without cutting a character.
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
