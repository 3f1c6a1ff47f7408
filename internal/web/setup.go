package web

import (
	"crypto/subtle"
	"net/http"
	"sync"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
)

// Setup is the first start of an install with no merchant: /setup creates
// the first merchant and its owner, like `shelflive merchant create`, for
// whoever holds the one-time token the node printed when it started. The
// token is only made while no merchant exists, is kept in memory only and
// is spent by the first merchant created (here or by the CLI).
type Setup struct {
	mu    sync.Mutex
	token string
}

// NewSetup guards /setup with token; an empty token keeps it closed.
func NewSetup(token string) *Setup { return &Setup{token: token} }

// Errors of the first-start setup.
var (
	ErrSetupClosed = apperr.New(apperr.Gone, "setup_closed", "ShelfLive 已完成初始设置，请直接登录", "ShelfLive is already set up; log in instead.")
	ErrSetupToken  = apperr.New(apperr.Forbidden, "setup_token", "设置口令不对：请使用本节点启动时打印的口令", "Wrong setup token: use the one this node printed when it started.")
)

// open reports whether setup is still offered: a token was made at start
// and no merchant exists yet (one may have been created by the CLI or on
// another node since).
func (s *Server) setupOpen(r *http.Request) (bool, error) {
	if s.Setup == nil {
		return false, nil
	}
	s.Setup.mu.Lock()
	has := s.Setup.token != ""
	s.Setup.mu.Unlock()
	if !has {
		return false, nil
	}
	n, err := s.App.Users.CountMerchants(r.Context())
	if err != nil {
		return false, err
	}
	if n > 0 {
		s.Setup.mu.Lock()
		s.Setup.token = ""
		s.Setup.mu.Unlock()
		return false, nil
	}
	return true, nil
}

func (s *Server) pageSetup(w http.ResponseWriter, r *http.Request) error {
	open, err := s.setupOpen(r)
	if err != nil {
		return err
	}
	// Set up already (or never offered): the page says so and links to the login.
	return s.render(w, r, 200, "setup.html", map[string]any{"Closed": !open})
}

// apiSetup creates the first merchant and its owner, then logs the owner in.
func (s *Server) apiSetup(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		SetupToken string `json:"setup_token"`
		identity.NewMerchant
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.limit(w, "setup:"+s.clientIP(r), 0.2, 5); err != nil {
		return err
	}
	open, err := s.setupOpen(r)
	if err != nil {
		return err
	}
	if !open {
		return ErrSetupClosed
	}
	s.Setup.mu.Lock()
	defer s.Setup.mu.Unlock() // one setup at a time on this node
	if s.Setup.token == "" {
		return ErrSetupClosed
	}
	if subtle.ConstantTimeCompare([]byte(in.SetupToken), []byte(s.Setup.token)) != 1 {
		s.Logger.Warn("setup refused: wrong setup token", "ip", s.clientIP(r))
		return ErrSetupToken
	}
	m, owner, err := s.App.Identity.CreateMerchant(r.Context(), in.NewMerchant)
	if err != nil {
		return err
	}
	s.Setup.token = "" // spent
	s.App.Audit.Audit(r.Context(), m.ID, owner.Username, "merchant.create", m.Slug, "setup page")
	s.Logger.Info("first merchant created through /setup", "merchant", m.Slug)
	st, token, sess, err := s.App.Identity.Login(r.Context(), owner.Username, in.Password, s.clientIP(r))
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, staffCookie, token, s.App.Identity.SessionTTL)
	return writeJSON(w, 201, map[string]any{"merchant": m,
		"session": sessionView{Kind: identity.KindStaff, Name: st.Name, Role: st.Role, Merchant: st.MerchantID, CSRF: sess.CSRF}})
}
