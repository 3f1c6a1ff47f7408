package web

import (
	"errors"
	"net/http"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
)

// accountRoutes are staff accounts' credentials: one-time invitation and
// reset links, and changing one's own password. Every change of a
// password (and a disable, see apiUpdateStaff) ends that person's
// sessions on every node at once (identity.Revocation).
func (s *Server) accountRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/invite/{token}", Access: Public, Summary: "A one-time staff link: choose a username and password (invitation) or a new password (reset)", handler: s.pageInvite},
		api("POST", "/api/v1/staff/invites", Staff, identity.PermStaffWrite, "Invite staff with a one-time link (role and store set here, password by the invitee)", s.apiInviteStaff),
		api("POST", "/api/v1/staff/{id}/reset-link", Staff, identity.PermStaffWrite, "A one-time link that sets a new password for a staff account and ends its sessions", s.apiResetLink),
		api("POST", "/api/v1/invites/accept", Public, "", "Use a one-time staff link: create the account or set the new password, then log in", s.apiAcceptInvite),
		api("POST", "/api/v1/auth/password", AnyLogin, "", "Change one's own staff password; every other session of the account ends", s.apiChangePassword),
	}
}

// inviteView is a link as the owner sees it: the URL is shown once.
type inviteView struct {
	URL    string           `json:"url"`
	Invite *identity.Invite `json:"invite"`
}

func (s *Server) inviteURL(r *http.Request, token string) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/invite/" + token
}

func (s *Server) apiInviteStaff(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	var in identity.NewInvite
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Role == identity.RoleOwner && p.Role != identity.RoleOwner {
		return apperr.ErrForbidden
	}
	if err := s.checkStore(r, p.MerchantID, in.StoreID); err != nil {
		return err
	}
	token, inv, err := s.App.Identity.InviteStaff(r.Context(), p.MerchantID, p.Name, in)
	if err != nil {
		return err
	}
	s.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "staff.invite", inv.Name, string(inv.Role))
	return writeJSON(w, 201, inviteView{URL: s.inviteURL(r, token), Invite: inv})
}

func (s *Server) apiResetLink(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		ValidHours int `json:"valid_hours"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
	}
	st, err := s.App.Users.Staff(r.Context(), p.MerchantID, id)
	if err != nil {
		return err
	}
	if st.Role == identity.RoleOwner && p.Role != identity.RoleOwner {
		return apperr.ErrForbidden
	}
	token, inv, err := s.App.Identity.ResetLink(r.Context(), st, p.Name, in.ValidHours)
	if err != nil {
		return err
	}
	s.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "staff.reset_link", st.Username, "")
	return writeJSON(w, 201, inviteView{URL: s.inviteURL(r, token), Invite: inv})
}

func (s *Server) pageInvite(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Referrer-Policy", "no-referrer") // the link's token stays out of other sites' logs
	inv, err := s.App.Identity.LiveInvite(r.Context(), r.PathValue("token"))
	if errors.Is(err, identity.ErrInviteInvalid) {
		// A used or expired link is an everyday thing, not an error: say what to do.
		return s.render(w, r, 200, "invite.html", map[string]any{"Invalid": true})
	}
	if err != nil {
		return err
	}
	m, err := s.App.Users.Merchant(r.Context(), inv.MerchantID)
	if err != nil {
		return err
	}
	if m.Disabled {
		return identity.ErrShopClosed
	}
	data := map[string]any{"Invite": inv, "Merchant": m, "Token": r.PathValue("token")}
	if inv.StoreID != 0 {
		if st, err := s.App.Stores.Store(r.Context(), inv.MerchantID, inv.StoreID); err == nil {
			data["Store"] = st
		}
	}
	return s.render(w, r, 200, "invite.html", data)
}

func (s *Server) apiAcceptInvite(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token    string `json:"token"`
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.limit(w, "invite:"+s.clientIP(r), 0.5, 10); err != nil {
		return err
	}
	inv, st, err := s.App.Identity.AcceptInvite(r.Context(), in.Token, in.Username, in.Password)
	if err != nil {
		return err
	}
	login := st.Username
	if inv.Kind == identity.InviteReset {
		cur, err := s.App.Users.Staff(r.Context(), inv.MerchantID, inv.StaffID)
		if err != nil {
			return err
		}
		login = cur.Username
		s.App.Audit.Audit(r.Context(), inv.MerchantID, cur.Username, "staff.password_reset", cur.Username, "sessions ended")
	} else {
		s.App.Audit.Audit(r.Context(), inv.MerchantID, st.Username, "staff.join", st.Username, string(st.Role))
	}
	staff, token, sess, err := s.App.Identity.Login(r.Context(), login, in.Password, s.clientIP(r))
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, staffCookie, token, s.App.Identity.SessionTTL)
	return writeJSON(w, 201, sessionView{Kind: identity.KindStaff, Name: staff.Name, Role: staff.Role, Merchant: staff.MerchantID, CSRF: sess.CSRF})
}

func (s *Server) apiChangePassword(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.App.Identity.ChangePassword(r.Context(), p, in.Current, in.New); err != nil {
		return err
	}
	s.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "staff.password_change", p.Name, "other sessions ended")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
