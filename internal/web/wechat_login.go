package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// wechatLoginRoutes: silent login inside WeChat. The official account's
// snsapi_base sign-in gives the visitor's openid without asking; an openid
// bound to a phone account (bound when that customer signed in for a
// payment or logged in by phone with the openid cookie set) logs them in.
func (s *Server) wechatLoginRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/wechat/login", Access: Public, Summary: "WeChat login: silent (snsapi_base), or with ?scope=userinfo the viewer is asked to share nickname and avatar (snsapi_userinfo); off to the shop's official account, back to ?next", handler: s.pageWeChatLogin},
		{Method: "GET", Path: "/wechat/login/callback", Access: Public, Summary: "Silent WeChat login comes back: a bound openid logs its customer in; the openid is kept for binding otherwise", handler: s.pageWeChatLoginDone},
	}
}

// loginState binds a silent-login round trip to the shop, the return path
// and 10 minutes.
func (s *Server) loginState(merchant, next string, exp int64) string {
	m := hmac.New(sha256.New, s.ClusterKey)
	fmt.Fprintf(m, "wechat-login\n%s\n%s\n%d", merchant, next, exp)
	return strconv.FormatInt(exp, 36) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func (s *Server) pageWeChatLogin(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	next := safeNext(q.Get("next"))
	merchant := q.Get("m")
	mid, err := s.merchantID(r, merchant)
	if err != nil || !slugRE.MatchString(merchant) {
		http.Redirect(w, r, next, http.StatusFound)
		return nil
	}
	exp := s.App.Now().Add(10 * time.Minute).Unix()
	back := s.App.Pay.PublicURL() + "/wechat/login/callback?m=" + url.QueryEscape(merchant) + "&next=" + url.QueryEscape(next)
	var u string
	if q.Get("scope") == "userinfo" {
		// The viewer tapped "use my WeChat nickname and avatar": WeChat asks them.
		back += "&scope=userinfo"
		u, err = s.App.WeChatConsentURL(r.Context(), mid, back, s.loginState(merchant, next+"\nuserinfo", exp))
	} else {
		u, err = s.App.WeChatSignInURL(r.Context(), mid, back, s.loginState(merchant, next, exp))
	}
	if err != nil {
		http.Redirect(w, r, next, http.StatusFound) // no official account here: the phone login stays
		return nil
	}
	http.Redirect(w, r, u, http.StatusFound)
	return nil
}

func (s *Server) pageWeChatLoginDone(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	next := safeNext(q.Get("next"))
	merchant := q.Get("m")
	userinfo := q.Get("scope") == "userinfo"
	signed := next
	if userinfo {
		signed += "\nuserinfo"
	}
	expS, _, _ := strings.Cut(q.Get("state"), ".")
	exp, err := strconv.ParseInt(expS, 36, 64)
	if err != nil || s.App.Now().Unix() > exp || !hmac.Equal([]byte(q.Get("state")), []byte(s.loginState(merchant, signed, exp))) || q.Get("code") == "" {
		http.Redirect(w, r, next, http.StatusFound) // also: the viewer said no to sharing (WeChat sends no code)
		return nil
	}
	mid, err := s.merchantID(r, merchant)
	if err != nil {
		http.Redirect(w, r, next, http.StatusFound)
		return nil
	}
	if userinfo {
		return s.weChatConsented(w, r, mid, next, q.Get("code"))
	}
	openid, err := s.App.WeChatOpenID(r.Context(), mid, q.Get("code"))
	if err != nil {
		s.Logger.Warn("wechat login failed", "err", err)
		http.Redirect(w, r, next, http.StatusFound)
		return nil
	}
	s.setSessionCookie(w, r, openIDCookie, s.sealOpenID(openid), 12*time.Hour)
	if cust, err := s.App.WeChatTickets.WeChatCustomer(r.Context(), mid, openid); err == nil && cust > 0 {
		if token, _, err := s.App.Identity.OpenCustomerSession(r.Context(), mid, cust); err == nil {
			s.setSessionCookie(w, r, viewerCookie, token, 30*24*time.Hour)
		}
	}
	http.Redirect(w, r, next, http.StatusFound)
	return nil
}

// bindOpenID binds the request's WeChat openid cookie (if any) to the
// customer who just proved their phone.
func (s *Server) bindOpenID(r *http.Request, merchantID, customerID int64) {
	c, err := r.Cookie(openIDCookie)
	if err != nil || s.App.WeChatTickets == nil {
		return
	}
	if openid := s.openID(c.Value); openid != "" {
		if err := s.App.WeChatTickets.BindWeChat(r.Context(), merchantID, openid, customerID); err != nil {
			s.Logger.Warn("wechat bind failed", "err", err)
		}
	}
}

// weChatConsented: the viewer agreed in WeChat to share their nickname and
// avatar. A logged-in viewer's account gets them (and the openid is bound
// to it); otherwise an account the openid is bound to does, and its
// session opens, as with the silent login.
func (s *Server) weChatConsented(w http.ResponseWriter, r *http.Request, merchantID int64, next, code string) error {
	var customerID int64
	if p := s.principalFromCookie(r, viewerCookie); p != nil && !p.IsStaff() && p.MerchantID == merchantID {
		customerID = p.SubjectID
	}
	cust, openid, err := s.App.WeChatConsented(r.Context(), merchantID, customerID, code)
	if err != nil {
		s.Logger.Warn("wechat consent failed", "err", err)
		http.Redirect(w, r, next, http.StatusFound)
		return nil
	}
	if openid != "" {
		s.setSessionCookie(w, r, openIDCookie, s.sealOpenID(openid), 12*time.Hour)
	}
	if customerID == 0 && cust > 0 {
		if token, _, err := s.App.Identity.OpenCustomerSession(r.Context(), merchantID, cust); err == nil {
			s.setSessionCookie(w, r, viewerCookie, token, 30*24*time.Hour)
		}
	}
	http.Redirect(w, r, next, http.StatusFound)
	return nil
}
