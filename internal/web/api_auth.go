package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
)

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, 200, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) error {
	if s.Ready != nil {
		if err := s.Ready(r.Context()); err != nil {
			s.Logger.Warn("not ready", "err", err)
			return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		}
	}
	return writeJSON(w, 200, map[string]string{"status": "ready"})
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}

type sessionView struct {
	Kind     identity.SessionKind `json:"kind"`
	Name     string               `json:"name"`
	Role     identity.Role        `json:"role"`
	Merchant int64                `json:"merchant_id"`
	CSRF     string               `json:"csrf,omitempty"`
	Token    string               `json:"token,omitempty"` // for API clients; browsers use the cookie
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.limit(w, "login:"+s.clientIP(r), 1, 10); err != nil {
		return err
	}
	st, token, sess, err := s.App.Identity.Login(r.Context(), in.Login, in.Password, s.clientIP(r))
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, staffCookie, token, s.App.Identity.SessionTTL)
	s.Logger.Info("staff login", "staff", st.ID, "role", st.Role)
	return writeJSON(w, 200, sessionView{Kind: identity.KindStaff, Name: st.Name, Role: st.Role, Merchant: st.MerchantID, CSRF: sess.CSRF, Token: token})
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	if err := s.App.Identity.Logout(r.Context(), p); err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return err
	}
	name := viewerCookie
	if p.IsStaff() {
		name = staffCookie
	}
	s.setSessionCookie(w, r, name, "", -time.Second)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	return writeJSON(w, 200, sessionView{Kind: p.Kind, Name: p.Name, Role: p.Role, Merchant: p.MerchantID, CSRF: p.CSRF})
}

// errUnknownMerchant is a merchant slug no shop has.
var errUnknownMerchant = apperr.InvalidField("merchant", "unknown_merchant", "商家不存在", "Unknown merchant.")

func (s *Server) merchantID(r *http.Request, slug string) (int64, error) {
	m, err := s.App.Identity.OpenMerchant(r.Context(), slug)
	if errors.Is(err, apperr.ErrNotFound) {
		return 0, errUnknownMerchant
	}
	if err != nil {
		return 0, err // a closed shop logs nobody in
	}
	return m.ID, nil
}

func (s *Server) apiOTP(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Merchant string `json:"merchant"`
		Phone    string `json:"phone"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.limit(w, "otp:"+s.clientIP(r), 0.2, 5); err != nil {
		return err
	}
	mid, err := s.merchantID(r, in.Merchant)
	if err != nil {
		return err
	}
	code, err := s.App.Identity.RequestOTP(r.Context(), mid, in.Phone)
	if err != nil {
		return err
	}
	out := map[string]any{"sent": true}
	if code != "" {
		out["dev_code"] = code // dev mode only: there is no SMS gateway
	}
	return writeJSON(w, 200, out)
}

func (s *Server) apiOTPVerify(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Merchant string `json:"merchant"`
		Phone    string `json:"phone"`
		Code     string `json:"code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.limit(w, "otpv:"+s.clientIP(r), 1, 10); err != nil {
		return err
	}
	mid, err := s.merchantID(r, in.Merchant)
	if err != nil {
		return err
	}
	c, token, sess, err := s.App.Identity.VerifyOTP(r.Context(), mid, in.Phone, in.Code)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, viewerCookie, token, 30*24*time.Hour)
	s.bindOpenID(r, mid, c.ID) // inside WeChat: the next visit logs in silently
	return writeJSON(w, 200, sessionView{Kind: identity.KindCustomer, Name: identity.CustomerDisplayName(c), Role: identity.RoleViewer, Merchant: mid, CSRF: sess.CSRF, Token: token})
}

// apiMiniProgramLogin logs a viewer in with the code the mini-program got
// from wx.login; the answer is the OTP verify answer (a bearer token: the
// mini-program keeps it, it has no cookies).
func (s *Server) apiMiniProgramLogin(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Merchant string `json:"merchant"`
		Code     string `json:"code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.limit(w, "wxmini:"+s.clientIP(r), 1, 10); err != nil {
		return err
	}
	mid, err := s.merchantID(r, in.Merchant)
	if err != nil {
		return err
	}
	c, token, sess, err := s.App.MiniProgramLogin(r.Context(), mid, in.Code)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, sessionView{Kind: identity.KindCustomer, Name: identity.CustomerDisplayName(c), Role: identity.RoleViewer, Merchant: mid, CSRF: sess.CSRF, Token: token})
}

func (s *Server) apiListTokens(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	list, err := s.App.Users.ListTokens(r.Context(), p.MerchantID)
	if err != nil {
		return err
	}
	type tokenView struct {
		ID        int64         `json:"id"`
		Label     string        `json:"label"`
		Role      identity.Role `json:"role"`
		CreatedAt time.Time     `json:"created_at"`
		ExpiresAt time.Time     `json:"expires_at"`
		Revoked   bool          `json:"revoked"`
	}
	out := []tokenView{}
	for _, t := range list {
		out = append(out, tokenView{t.ID, t.Label, t.Role, t.CreatedAt, t.ExpiresAt, t.RevokedAt != nil})
	}
	return writeJSON(w, 200, map[string]any{"tokens": out})
}

func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	var in struct {
		Role  identity.Role `json:"role"`
		Label string        `json:"label"`
		Days  int           `json:"days"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Role == identity.RoleOwner && p.Role != identity.RoleOwner {
		return apperr.ErrForbidden
	}
	token, sess, err := s.App.Identity.CreateToken(r.Context(), p.MerchantID, in.Role, in.Label, time.Duration(in.Days)*24*time.Hour)
	if err != nil {
		return err
	}
	s.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "token.create", in.Label, string(in.Role))
	return writeJSON(w, 201, map[string]any{"id": sess.ID, "token": token, "role": sess.Role, "label": sess.Label, "expires_at": sess.ExpiresAt})
}

func (s *Server) apiRevokeToken(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	tokens, err := s.App.Users.ListTokens(r.Context(), p.MerchantID)
	if err != nil {
		return err
	}
	isToken := false
	for _, t := range tokens {
		isToken = isToken || t.ID == id
	}
	if !isToken { // this route revokes API tokens, not people's sessions
		return apperr.ErrNotFound
	}
	if err := s.App.Identity.Revoke(r.Context(), p.MerchantID, id); err != nil {
		return err
	}
	s.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "token.revoke", "token", "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
