package wechatpaytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/payment/wechatpay"
)

func (f *Fake) routes() http.Handler {
	mux := http.NewServeMux()
	for _, kind := range []string{"jsapi", "h5", "native"} {
		mux.HandleFunc("POST /v3/pay/transactions/"+kind, f.signed(f.create(kind)))
	}
	mux.HandleFunc("GET /v3/pay/transactions/out-trade-no/{no}", f.signed(f.query))
	mux.HandleFunc("POST /v3/pay/transactions/out-trade-no/{no}/close", f.signed(f.closeOrder))
	mux.HandleFunc("POST /v3/refund/domestic/refunds", f.signed(f.refund))
	mux.HandleFunc("GET /v3/refund/domestic/refunds/{no}", f.signed(f.queryRefund))
	mux.HandleFunc("GET /v3/certificates", f.signed(f.certificates))
	mux.HandleFunc("GET /connect/oauth2/authorize", f.oauthAuthorize)
	mux.HandleFunc("GET /sns/oauth2/access_token", f.oauthToken)
	mux.HandleFunc("GET /cgi-bin/token", f.cgiToken)
	mux.HandleFunc("GET /cgi-bin/ticket/getticket", f.cgiTicket)
	mux.Handle("POST /cgi-bin/message/template/send", f.Msg) // template messages: the tokens below are shared with it
	mux.HandleFunc("GET /sns/userinfo", f.oauthUserInfo)
	mux.HandleFunc("GET /fake/avatar/{openid}", f.avatar)
	mux.HandleFunc("GET /fake/h5", f.h5Page)
	mux.HandleFunc("POST /fake/h5/pay", f.h5Pay)
	return mux
}

type handler func(m *Merchant, body []byte, r *http.Request) (int, any)

// signed checks the merchant's request signature, then answers signed.
func (f *Fake) signed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m, code, msg := f.authenticate(r, body)
		if m == nil {
			f.answer(w, http.StatusUnauthorized, map[string]string{"code": code, "message": msg})
			return
		}
		status, out := h(m, body, r)
		f.answer(w, status, out)
	}
}

func (f *Fake) authenticate(r *http.Request, body []byte) (*Merchant, string, string) {
	a, ok := wechatpay.ParseAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return nil, "SIGN_ERROR", "Authorization 头缺失或格式错误"
	}
	f.mu.Lock()
	m := f.merchants[a["mchid"]]
	f.mu.Unlock()
	if m == nil {
		return nil, "SIGN_ERROR", "商户号不存在"
	}
	if a["serial_no"] != m.Serial {
		return nil, "SIGN_ERROR", "证书序列号不匹配"
	}
	if err := wechatpay.VerifyMessage(m.Pub, a["signature"], r.Method, r.URL.RequestURI(), a["timestamp"], a["nonce_str"], string(body)); err != nil {
		return nil, "SIGN_ERROR", "签名错误"
	}
	sec, _ := strconv.ParseInt(a["timestamp"], 10, 64)
	if d := f.Now().Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return nil, "SIGN_ERROR", "时间戳过期"
	}
	return m, "", ""
}

func (f *Fake) answer(w http.ResponseWriter, status int, out any) {
	var body []byte
	if out != nil {
		body, _ = json.Marshal(out)
	}
	for k, v := range f.signHeader(body, f.Now()) {
		w.Header()[k] = v
	}
	if body != nil {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	w.Write(body)
}

func apiErr(code, msg string) map[string]string {
	return map[string]string{"code": code, "message": msg}
}

func (f *Fake) create(kind string) handler {
	return func(m *Merchant, body []byte, r *http.Request) (int, any) {
		var in struct {
			AppID       string           `json:"appid"`
			MchID       string           `json:"mchid"`
			Description string           `json:"description"`
			OutTradeNo  string           `json:"out_trade_no"`
			NotifyURL   string           `json:"notify_url"`
			Amount      wechatpay.Amount `json:"amount"`
			Payer       *struct {
				OpenID string `json:"openid"`
			} `json:"payer"`
			SceneInfo *struct {
				IP string `json:"payer_client_ip"`
			} `json:"scene_info"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return 400, apiErr("PARAM_ERROR", "JSON 格式错误")
		}
		switch {
		case in.MchID != m.MchID:
			return 400, apiErr("MCH_NOT_EXISTS", "商户号与签名不符")
		case in.AppID != m.AppID && !slices.Contains(m.Bound, in.AppID):
			return 400, apiErr("APPID_MCHID_NOT_MATCH", "appid 与 mchid 不匹配")
		case in.Amount.Total <= 0 || in.Amount.Currency != "CNY":
			return 400, apiErr("PARAM_ERROR", "金额错误")
		case len(in.OutTradeNo) < 6 || len(in.OutTradeNo) > 32 || in.NotifyURL == "" || in.Description == "":
			return 400, apiErr("PARAM_ERROR", "参数错误")
		case kind == "jsapi" && (in.Payer == nil || in.Payer.OpenID == ""):
			return 400, apiErr("PARAM_ERROR", "缺少 openid")
		case kind == "h5" && (in.SceneInfo == nil || in.SceneInfo.IP == ""):
			return 400, apiErr("PARAM_ERROR", "缺少 payer_client_ip")
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		key := m.MchID + "/" + in.OutTradeNo
		o := f.orders[key]
		if o == nil {
			o = &Order{MchID: m.MchID, AppID: in.AppID, OutTradeNo: in.OutTradeNo, State: "NOTPAY", NotifyURL: in.NotifyURL,
				Kind: kind, Total: in.Amount.Total, PrepayID: "wx" + randHex(14)}
			if in.Payer != nil {
				o.OpenID = in.Payer.OpenID
			}
			f.orders[key], f.prepay[o.PrepayID] = o, o
		} else if o.Kind != kind || o.Total != in.Amount.Total {
			return 400, apiErr("INVALID_REQUEST", "201 商户订单号重复")
		} else if o.State != "NOTPAY" {
			return 400, apiErr("ORDERPAID", "该订单已支付或已关闭")
		}
		switch kind {
		case "h5":
			return 200, map[string]string{"h5_url": f.URL + "/fake/h5?prepay_id=" + o.PrepayID + "&package=" + randHex(4)}
		case "native":
			return 200, map[string]string{"code_url": "weixin://wxpay/bizpayurl?pr=" + o.PrepayID}
		}
		return 200, map[string]string{"prepay_id": o.PrepayID}
	}
}

func (f *Fake) query(m *Merchant, body []byte, r *http.Request) (int, any) {
	if r.URL.Query().Get("mchid") != m.MchID {
		return 400, apiErr("PARAM_ERROR", "mchid 与签名不符")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.orders[m.MchID+"/"+r.PathValue("no")]
	if o == nil {
		return 404, apiErr("ORDER_NOT_EXIST", "订单不存在")
	}
	return 200, f.transaction(o)
}

func (f *Fake) closeOrder(m *Merchant, body []byte, r *http.Request) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.orders[m.MchID+"/"+r.PathValue("no")]
	if o == nil {
		return 404, apiErr("ORDER_NOT_EXIST", "订单不存在")
	}
	if o.State == "SUCCESS" {
		return 400, apiErr("ORDERPAID", "订单已支付")
	}
	o.State = "CLOSED"
	return 204, nil
}

func (f *Fake) refund(m *Merchant, body []byte, r *http.Request) (int, any) {
	if f.RefundsDown.Load() {
		return 500, apiErr("SYSTEM_ERROR", "系统繁忙，请稍后重试")
	}
	var in struct {
		OutTradeNo  string           `json:"out_trade_no"`
		OutRefundNo string           `json:"out_refund_no"`
		NotifyURL   string           `json:"notify_url"`
		Amount      wechatpay.Amount `json:"amount"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.OutRefundNo == "" || in.Amount.Refund <= 0 {
		return 400, apiErr("PARAM_ERROR", "参数错误")
	}
	f.mu.Lock()
	if rf := f.refunds[m.MchID+"/"+in.OutRefundNo]; rf != nil {
		f.mu.Unlock()
		return 200, refundInfo(rf, false) // the same out_refund_no: the same refund
	}
	o := f.orders[m.MchID+"/"+in.OutTradeNo]
	switch {
	case o == nil:
		f.mu.Unlock()
		return 404, apiErr("RESOURCE_NOT_EXISTS", "订单不存在")
	case o.State != "SUCCESS" && o.State != "REFUND":
		f.mu.Unlock()
		return 400, apiErr("INVALID_REQUEST", "订单未支付")
	case in.Amount.Total != o.Total || o.Refunded+in.Amount.Refund > o.Total:
		f.mu.Unlock()
		return 400, apiErr("INVALID_REQUEST", "退款金额超过订单可退金额")
	}
	o.Refunded += in.Amount.Refund
	o.State = "REFUND"
	rf := &Refund{MchID: m.MchID, OutTradeNo: in.OutTradeNo, OutRefundNo: in.OutRefundNo, RefundID: "5030" + randHex(10),
		Status: "PROCESSING", NotifyURL: in.NotifyURL, Amount: in.Amount.Refund, Total: o.Total}
	f.refunds[m.MchID+"/"+in.OutRefundNo] = rf
	answer := refundInfo(rf, false)
	f.mu.Unlock()
	// The bank finishes a moment later; then the refund callback comes.
	abnormal := f.RefundsAbnormal.Load()
	go func() {
		f.mu.Lock()
		event := "REFUND.SUCCESS"
		rf.Status = "SUCCESS"
		if abnormal {
			event, rf.Status = "REFUND.ABNORMAL", "ABNORMAL"
			o.Refunded -= rf.Amount
		}
		cb := refundInfo(rf, true)
		f.mu.Unlock()
		if rf.NotifyURL != "" {
			f.Notify(rf.NotifyURL, m.MchID, event, "refund", cb)
		}
	}()
	return 200, answer
}

func refundInfo(rf *Refund, callback bool) wechatpay.RefundInfo {
	out := wechatpay.RefundInfo{OutTradeNo: rf.OutTradeNo, OutRefundNo: rf.OutRefundNo, RefundID: rf.RefundID,
		Amount: wechatpay.Amount{Total: rf.Total, Refund: rf.Amount}}
	if callback {
		out.MchID, out.RefundStatus = rf.MchID, rf.Status
	} else {
		out.Status = rf.Status
	}
	return out
}

func (f *Fake) queryRefund(m *Merchant, body []byte, r *http.Request) (int, any) {
	if f.RefundsDown.Load() {
		return 500, apiErr("SYSTEM_ERROR", "系统繁忙，请稍后重试")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rf := f.refunds[m.MchID+"/"+r.PathValue("no")]
	if rf == nil {
		return 404, apiErr("RESOURCE_NOT_EXISTS", "退款单不存在")
	}
	return 200, refundInfo(rf, false)
}

func (f *Fake) certificates(m *Merchant, body []byte, r *http.Request) (int, any) {
	res, err := wechatpay.Encrypt(m.APIv3Key, f.certPEM, "certificate", "certificate")
	if err != nil {
		return 500, apiErr("SYSTEM_ERROR", err.Error())
	}
	return 200, map[string]any{"data": []any{map[string]any{"serial_no": f.CertSerial, "effective_time": time.Now().Format(time.RFC3339),
		"expire_time": time.Now().Add(365 * 24 * time.Hour).Format(time.RFC3339), "encrypt_certificate": res}}}
}

// h5Page is the cashier a phone browser is sent to (h5_url).
func (f *Fake) h5Page(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	o := f.prepay[r.URL.Query().Get("prepay_id")]
	f.mu.Unlock()
	if o == nil {
		http.Error(w, "unknown prepay_id", 404)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b bytes.Buffer
	b.WriteString(`<!doctype html><meta name="viewport" content="width=device-width"><title>微信支付 (fake)</title><h1>微信支付 · WeChat Pay (fake)</h1>`)
	b.WriteString(`<p id="amount">¥` + strconv.FormatFloat(float64(o.Total)/100, 'f', 2, 64) + `</p>`)
	b.WriteString(`<form method="post" action="/fake/h5/pay"><input type="hidden" name="prepay_id" value="` + html.EscapeString(o.PrepayID) + `">`)
	b.WriteString(`<input type="hidden" name="redirect_url" value="` + html.EscapeString(r.URL.Query().Get("redirect_url")) + `">`)
	b.WriteString(`<button id="confirm" type="submit">确认支付</button></form>`)
	w.Write(b.Bytes())
}

func (f *Fake) h5Pay(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	o := f.prepay[r.FormValue("prepay_id")]
	f.mu.Unlock()
	if o == nil {
		http.Error(w, "unknown prepay_id", 404)
		return
	}
	if _, err := f.Pay(o.MchID, o.OutTradeNo); err != nil {
		http.Error(w, err.Error(), 502)
		return
	}
	if u, err := url.Parse(r.FormValue("redirect_url")); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return
	}
	w.Write([]byte("paid"))
}

// oauthAuthorize plays WeChat's sign-in: snsapi_base goes straight back
// to redirect_uri with a code that names the appid; snsapi_userinfo first
// shows WeChat's consent page (允许 / 拒绝), as WeChat does, and only 允许
// comes back with a code (拒绝 comes back with none).
func (f *Fake) oauthAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	u, err := url.Parse(q.Get("redirect_uri"))
	scope := q.Get("scope")
	if err != nil || (scope != "snsapi_base" && scope != "snsapi_userinfo") || q.Get("response_type") != "code" || q.Get("appid") == "" {
		http.Error(w, "bad request", 400)
		return
	}
	v := u.Query()
	v.Set("state", q.Get("state"))
	if scope == "snsapi_userinfo" {
		denied := *u
		denied.RawQuery = v.Encode()
		v.Set("code", "code-"+q.Get("appid")+"-ui-"+randHex(4))
		u.RawQuery = v.Encode()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="zh-CN"><meta name="viewport" content="width=device-width"><title>微信授权</title>
<body><h1>授权登录</h1><p id="ask">该网页申请获取你的昵称、头像</p>
<a id="allow" href="%s">允许</a> <a id="deny" href="%s">拒绝</a></body></html>`, html.EscapeString(u.String()), html.EscapeString(denied.String()))
		return
	}
	v.Set("code", "code-"+q.Get("appid")+"-"+randHex(4))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// oauthToken exchanges a code for an openid when appid and secret match an
// account whose AppSecret is OAuthSecret; a snsapi_userinfo code also gets
// an access token that /sns/userinfo takes.
func (f *Fake) oauthToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Content-Type", "application/json")
	if q.Get("secret") != OAuthSecret || !strings.HasPrefix(q.Get("code"), "code-"+q.Get("appid")+"-") || q.Get("grant_type") != "authorization_code" {
		w.Write([]byte(`{"errcode":40029,"errmsg":"invalid code"}`))
		return
	}
	openid := "o" + q.Get("appid")[2:10] + "-buyer"
	scope := "snsapi_base"
	if strings.HasPrefix(q.Get("code"), "code-"+q.Get("appid")+"-ui-") {
		scope = "snsapi_userinfo"
	}
	tok := "sns-" + randHex(8)
	f.mu.Lock()
	f.snsTokens[tok] = [2]string{scope, openid}
	f.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": 7200, "refresh_token": "r-" + randHex(8), "openid": openid, "scope": scope})
}

// UserNickname is what /sns/userinfo answers as the buyer's nickname.
const UserNickname = "草莓妈妈🍓"

// oauthUserInfo plays /sns/userinfo: the token must be a snsapi_userinfo
// one issued for that openid.
func (f *Fake) oauthUserInfo(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	t, ok := f.snsTokens[q.Get("access_token")]
	f.mu.Unlock()
	switch {
	case !ok:
		w.Write([]byte(`{"errcode":40001,"errmsg":"invalid credential"}`))
	case t[0] != "snsapi_userinfo":
		w.Write([]byte(`{"errcode":48001,"errmsg":"api unauthorized"}`))
	case t[1] != q.Get("openid"):
		w.Write([]byte(`{"errcode":40003,"errmsg":"invalid openid"}`))
	default:
		json.NewEncoder(w).Encode(map[string]any{"openid": t[1], "nickname": UserNickname, "sex": 0, "province": "", "city": "", "country": "",
			"headimgurl": f.URL + "/fake/avatar/" + url.PathEscape(t[1]), "privilege": []string{}})
	}
}

// avatar serves a 64×64 PNG, as WeChat's image host does for headimgurl.
func (f *Fake) avatar(w http.ResponseWriter, r *http.Request) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			c := color.RGBA{0xe8, 0x3a, 0x4f, 0xff} // strawberry red, a green leaf on top
			if y < 14 && x > 20 && x < 44 {
				c = color.RGBA{0x2e, 0x9e, 0x4f, 0xff}
			}
			img.Set(x, y, c)
		}
	}
	w.Header().Set("Content-Type", "image/png")
	png.Encode(w, img)
}

// OAuthSecret is the AppSecret the fake accepts for every account.
const OAuthSecret = "fake-official-account-secret-0001"

// cgiToken plays the official account's access_token (client_credential).
func (f *Fake) cgiToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Content-Type", "application/json")
	if q.Get("grant_type") != "client_credential" || q.Get("secret") != OAuthSecret || q.Get("appid") == "" {
		w.Write([]byte(`{"errcode":40125,"errmsg":"invalid appsecret"}`))
		return
	}
	tok := "at-" + randHex(8)
	f.mu.Lock()
	f.accessTokens = append(f.accessTokens, tok)
	f.mu.Unlock()
	f.Msg.AddToken(q.Get("appid"), tok)
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": 7200})
}

// cgiTicket plays getticket (type=jsapi) for an access_token it issued;
// each call makes a new ticket, as WeChat's do, and is counted.
func (f *Fake) cgiTicket(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	known := false
	for _, t := range f.accessTokens {
		known = known || t == q.Get("access_token")
	}
	if !known || q.Get("type") != "jsapi" {
		w.Write([]byte(`{"errcode":40001,"errmsg":"invalid credential"}`))
		return
	}
	f.tickets = append(f.tickets, "fake-jsapi-ticket-"+randHex(8))
	json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "errmsg": "ok", "ticket": f.tickets[len(f.tickets)-1], "expires_in": 7200})
}

// Tickets lists the jsapi_tickets handed out, oldest first.
func (f *Fake) Tickets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.tickets...)
}
