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

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/payment"
)

// openIDCookie holds the viewer's WeChat openid for JSAPI payments, as the
// WeChat OAuth (snsapi_base) round trip found it, MACed with the cluster
// key so a page cannot make up someone else's.
const openIDCookie = "sl_wx_openid"

func (s *Server) openIDMAC(openid string) string {
	m := hmac.New(sha256.New, s.ClusterKey)
	m.Write([]byte("wechat-openid\n" + openid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sealOpenID is the cookie value for an openid.
func (s *Server) sealOpenID(openid string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(openid)) + "." + s.openIDMAC(openid)
}

// openID reads the cookie value; "" when it is not one ShelfLive made.
func (s *Server) openID(v string) string {
	enc, mac, ok := strings.Cut(v, ".")
	if !ok || len(s.ClusterKey) == 0 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !hmac.Equal([]byte(mac), []byte(s.openIDMAC(string(raw)))) {
		return ""
	}
	return string(raw)
}

// signInState binds a sign-in round trip to the buyer and where they go
// back to, for 10 minutes.
func (s *Server) signInState(subject int64, next string, exp int64) string {
	m := hmac.New(sha256.New, s.ClusterKey)
	fmt.Fprintf(m, "wechat-signin\n%d\n%s\n%d", subject, next, exp)
	return strconv.FormatInt(exp, 36) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// safeNext keeps the return path on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/orders"
	}
	return next
}

// pageWeChatSignIn sends a buyer inside WeChat through the merchant's
// official account sign-in (snsapi_base) so JSAPI can pay with their openid.
func (s *Server) pageWeChatSignIn(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	next := safeNext(r.URL.Query().Get("next"))
	exp := s.App.Now().Add(10 * time.Minute).Unix()
	st := s.signInState(p.SubjectID, next, exp)
	back := s.App.Pay.PublicURL() + "/wechat/oauth/callback?next=" + url.QueryEscape(next)
	u, err := s.App.WeChatSignInURL(r.Context(), p.MerchantID, back, st)
	if err != nil {
		return s.signInFailed(w, r, next, err)
	}
	http.Redirect(w, r, u, http.StatusFound)
	return nil
}

// pageWeChatSignInDone takes WeChat's code, checks the state, keeps the
// openid in a MACed cookie and goes back to the order.
func (s *Server) pageWeChatSignInDone(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	q := r.URL.Query()
	next := safeNext(q.Get("next"))
	expS, _, _ := strings.Cut(q.Get("state"), ".")
	exp, err := strconv.ParseInt(expS, 36, 64)
	if err != nil || s.App.Now().Unix() > exp || !hmac.Equal([]byte(q.Get("state")), []byte(s.signInState(p.SubjectID, next, exp))) || q.Get("code") == "" {
		return s.signInFailed(w, r, next, payment.ErrNeedOpenID)
	}
	openid, err := s.App.WeChatOpenID(r.Context(), p.MerchantID, q.Get("code"))
	if err != nil {
		return s.signInFailed(w, r, next, err)
	}
	s.setSessionCookie(w, r, openIDCookie, s.sealOpenID(openid), 12*time.Hour)
	if s.App.WeChatTickets != nil { // the payer's openid is theirs: bind it for silent login
		s.App.WeChatTickets.BindWeChat(r.Context(), p.MerchantID, openid, p.SubjectID)
	}
	http.Redirect(w, r, next, http.StatusFound)
	return nil
}

// signInFailed logs why and goes back to the order without paying again
// at once (no loop through the sign-in); the buyer sees the pay button.
func (s *Server) signInFailed(w http.ResponseWriter, r *http.Request, next string, err error) error {
	s.Logger.Warn("wechat sign-in failed", "code", apperr.As(err).Code)
	path, _, _ := strings.Cut(next, "?")
	http.Redirect(w, r, path, http.StatusFound)
	return nil
}
