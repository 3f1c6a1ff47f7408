package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/shelflive/shelflive/internal/apperr"
)

// wechatProfileRoutes: the nickname and avatar a viewer agreed to share
// through WeChat (snsapi_userinfo, started from 我的 by /wechat/login?scope=userinfo).
func (s *Server) wechatProfileRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/me/wechat-profile", Access: Customer, API: true, Summary: "The WeChat nickname and avatar the viewer agreed to share (null when none)", handler: s.apiWeChatProfile},
		{Method: "GET", Path: "/api/v1/me/wechat-profile/avatar", Access: Customer, API: true, Summary: "The shared WeChat avatar image", handler: s.apiWeChatAvatar},
		{Method: "DELETE", Path: "/api/v1/me/wechat-profile", Access: Customer, API: true, Summary: "Forget the shared WeChat nickname and avatar", handler: s.apiDeleteWeChatProfile},
	}
}

func (s *Server) apiWeChatProfile(w http.ResponseWriter, r *http.Request) error {
	if s.App.WeChatTickets == nil {
		return writeJSON(w, 200, map[string]any{"profile": nil})
	}
	p := PrincipalFrom(r.Context())
	prof, err := s.App.WeChatTickets.WeChatProfileOf(r.Context(), p.MerchantID, p.SubjectID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"profile": prof})
}

func (s *Server) apiWeChatAvatar(w http.ResponseWriter, r *http.Request) error {
	if s.App.WeChatTickets == nil {
		return apperr.ErrNotFound
	}
	p := PrincipalFrom(r.Context())
	b, typ, err := s.App.WeChatTickets.WeChatAvatar(r.Context(), p.MerchantID, p.SubjectID)
	if errors.Is(err, apperr.ErrNotFound) {
		w.WriteHeader(http.StatusNoContent) // no avatar shared
		return nil
	}
	if err != nil {
		return err
	}
	if !strings.HasPrefix(typ, "image/") {
		typ = "application/octet-stream"
	}
	w.Header().Set("Content-Type", typ)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err = w.Write(b)
	return err
}

func (s *Server) apiDeleteWeChatProfile(w http.ResponseWriter, r *http.Request) error {
	if s.App.WeChatTickets == nil {
		return apperr.ErrNotFound
	}
	p := PrincipalFrom(r.Context())
	if err := s.App.WeChatTickets.DeleteWeChatProfile(r.Context(), p.MerchantID, p.SubjectID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// meWeChat is what 我的 shows about WeChat: the shared profile, or — inside
// WeChat, for a shop whose official account can sign in — the button that
// asks for it.
func (s *Server) meWeChat(r *http.Request, merchantID, customerID int64) map[string]any {
	if s.App.WeChatTickets == nil {
		return nil
	}
	prof, err := s.App.WeChatTickets.WeChatProfileOf(r.Context(), merchantID, customerID)
	if err != nil {
		return nil
	}
	if prof != nil {
		return map[string]any{"Profile": prof}
	}
	if !strings.Contains(r.UserAgent(), "MicroMessenger") {
		return nil
	}
	m, err := s.App.Users.Merchant(r.Context(), merchantID)
	if err != nil {
		return nil
	}
	if _, err := s.App.WeChatConsentURL(r.Context(), merchantID, "", ""); err != nil {
		return nil // no official account that can ask
	}
	return map[string]any{"Consent": "/wechat/login?m=" + m.Slug + "&scope=userinfo&next=%2Fme"}
}
