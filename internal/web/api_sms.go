package web

import (
	"net/http"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/sms"
)

// smsRoutes are the shop's own SMS sign name and template for login codes
// (the install's provider account sends them).
func (s *Server) smsRoutes() []Route {
	pw := identity.PermPaymentsWrite
	return []Route{
		{Method: "GET", Path: "/api/v1/sms/settings", Access: Staff, Perm: pw, API: true, Summary: "The shop's SMS sign name and template for login codes, the install's default and what is in effect", handler: s.apiSMSSettings},
		{Method: "PUT", Path: "/api/v1/sms/settings", Access: Staff, Perm: pw, API: true, Summary: "Set the shop's own SMS sign name and template (empty: the install's), checked against the install's provider", handler: s.apiPutSMSSettings},
	}
}

func (s *Server) apiSMSSettings(w http.ResponseWriter, r *http.Request) error {
	v, err := s.App.SMSSettings(r.Context(), PrincipalFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

func (s *Server) apiPutSMSSettings(w http.ResponseWriter, r *http.Request) error {
	var in sms.Settings
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v, err := s.App.PutSMSSettings(r.Context(), PrincipalFrom(r.Context()), in)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}
