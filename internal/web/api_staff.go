package web

// Staff accounts and the audit log: the owner's and admin's handlers for
// the people who work the shop (moved out of api_orders.go).

import (
	"errors"
	"net/http"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/stores"
)

func (s *Server) apiListStaff(w http.ResponseWriter, r *http.Request) error {
	list, err := s.App.Users.ListStaff(r.Context(), PrincipalFrom(r.Context()).MerchantID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []identity.Staff{}
	}
	return writeJSON(w, 200, map[string]any{"staff": list})
}

type staffInput struct {
	Username  string        `json:"username"`
	Phone     string        `json:"phone"`
	Name      string        `json:"name"`
	Role      identity.Role `json:"role"`
	StoreID   int64         `json:"store_id"`
	GuideCode string        `json:"guide_code"`
	Password  string        `json:"password"`
	Disabled  bool          `json:"disabled"`
}

func (in *staffInput) check(p *identity.Principal) error {
	if !in.Role.Valid() {
		return identity.ErrInvalidRole
	}
	if in.Role == identity.RoleOwner && p.Role != identity.RoleOwner {
		return apperr.ErrForbidden
	}
	if in.Name == "" {
		return identity.ErrStaffName.With("姓名必填", "Name is required.")
	}
	if len([]rune(in.Name)) > 40 || len(in.Username) > 64 || len(in.GuideCode) > order.MaxGuideCode || len(in.Password) > 256 {
		return identity.ErrStaffTextTooLong
	}
	if in.Phone != "" {
		if _, err := identity.NormalizePhone(in.Phone); err != nil {
			return err
		}
	}
	if in.Password != "" {
		if err := identity.CheckNewPassword(in.Password, in.Username); err != nil {
			return err
		}
	}
	return nil
}

// checkStore refuses a store that is not the merchant's.
func (s *Server) checkStore(r *http.Request, merchantID, storeID int64) error {
	if storeID == 0 {
		return nil
	}
	_, err := s.App.Stores.Store(r.Context(), merchantID, storeID)
	if errors.Is(err, apperr.ErrNotFound) {
		return stores.ErrUnknownStore
	}
	return err // nil, or an outage: never "unknown store"
}

func (s *Server) apiCreateStaff(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	var in staffInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := in.check(p); err != nil {
		return err
	}
	if err := s.checkStore(r, p.MerchantID, in.StoreID); err != nil {
		return err
	}
	if in.Username == "" || in.Password == "" {
		return apperr.InvalidField("username", "username_required", "用户名和密码必填", "Username and password are required.")
	}
	hash, err := identity.HashPassword(in.Password)
	if err != nil {
		return err
	}
	st := &identity.Staff{MerchantID: p.MerchantID, Username: in.Username, Phone: in.Phone, Name: in.Name, Role: in.Role, StoreID: in.StoreID, GuideCode: in.GuideCode, PasswordHash: hash}
	if err := s.App.Users.CreateStaff(r.Context(), st); err != nil {
		return err
	}
	s.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "staff.create", st.Username, string(st.Role))
	return writeJSON(w, 201, st)
}

func (s *Server) apiUpdateStaff(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st, err := s.App.Users.Staff(r.Context(), p.MerchantID, id)
	if err != nil {
		return err
	}
	var in staffInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := in.check(p); err != nil {
		return err
	}
	if err := s.checkStore(r, p.MerchantID, in.StoreID); err != nil {
		return err
	}
	if st.Role == identity.RoleOwner && p.Role != identity.RoleOwner {
		return apperr.ErrForbidden
	}
	if st.ID == p.SubjectID && p.Kind == identity.KindStaff && in.Role != st.Role {
		return apperr.New(apperr.Conflict, "own_role", "不能修改自己的角色", "You cannot change your own role.")
	}
	if in.Role != st.Role {
		s.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "staff.role", st.Username, string(st.Role)+" -> "+string(in.Role))
	}
	st.Phone, st.Name, st.Role, st.StoreID, st.GuideCode, st.Disabled = in.Phone, in.Name, in.Role, in.StoreID, in.GuideCode, in.Disabled
	if in.Password != "" {
		if st.PasswordHash, err = identity.HashPassword(in.Password); err != nil {
			return err
		}
	}
	if err := s.App.Users.UpdateStaff(r.Context(), st); err != nil {
		return err
	}
	// A new password or a disable ends the person's sessions everywhere;
	// a new role or store applies to their next request on every node.
	s.App.Identity.StaffUpdated(r.Context(), st)
	if in.Password != "" || in.Disabled {
		s.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "staff.sessions_ended", st.Username, map[bool]string{true: "disabled", false: "password set"}[in.Disabled])
	}
	return writeJSON(w, 200, st)
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) error {
	list, err := s.App.AuditLog(r.Context(), PrincipalFrom(r.Context()).MerchantID, 200)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"entries": list})
}
