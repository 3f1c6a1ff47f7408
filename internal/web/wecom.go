package web

import (
	"net/http"
	"strconv"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
)

// wecomRoutes: the shop's WeCom (企业微信) connection, guides' WeCom
// userids, and a guide sending a live to their WeCom customers.
func (s *Server) wecomRoutes() []Route {
	api := func(method, path string, perm identity.Permission, summary string, h func(w http.ResponseWriter, r *http.Request) error) Route {
		return Route{Method: method, Path: path, Access: Staff, Perm: perm, API: true, Summary: summary, handler: h}
	}
	return []Route{
		api("GET", "/api/v1/wecom/settings", identity.PermPaymentsWrite, "The shop's WeCom connection: corp id, whether a secret is set (never the secret)", s.apiWeComSettings),
		api("PUT", "/api/v1/wecom/settings", identity.PermPaymentsWrite, "Connect WeCom: corp id and the customer-contact secret (sealed at rest; empty keeps the stored one)", s.apiSetWeComSettings),
		api("PUT", "/api/v1/staff/{id}/wecom", identity.PermStaffWrite, "Set (or, empty, clear) a staff member's WeCom userid", s.apiSetWeComUserID),
		api("POST", "/api/v1/guides/me/wecom/send", identity.PermOrdersFulfil, "Send a scheduled or live room to the calling guide's WeCom customers (a 群发 task with the guide's signed share link); once per room and day", s.apiSendWeCom),
	}
}

func (s *Server) apiWeComSettings(w http.ResponseWriter, r *http.Request) error {
	v, err := s.App.WeComSettings(r.Context(), PrincipalFrom(r.Context()).MerchantID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

func (s *Server) apiSetWeComSettings(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		CorpID string `json:"corp_id"`
		Secret string `json:"secret"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.App.SetWeComSettings(r.Context(), PrincipalFrom(r.Context()), in.CorpID, in.Secret); err != nil {
		return err
	}
	return s.apiWeComSettings(w, r)
}

func (s *Server) apiSetWeComUserID(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.ErrNotFound
	}
	var in struct {
		UserID string `json:"userid"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.App.SetWeComUserID(r.Context(), PrincipalFrom(r.Context()), id, in.UserID); err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"staff_id": id, "userid": in.UserID})
}

func (s *Server) apiSendWeCom(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Slug string `json:"slug"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	room, err := s.App.GuideRoom(r.Context(), p, in.Slug) // a room the guide page may list
	if err != nil {
		return err
	}
	res, err := s.App.SendWeCom(r.Context(), p, room, s.App.Pay.PublicURL())
	if err != nil {
		return err
	}
	return writeJSON(w, 200, res)
}
