package app

import (
	"context"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/order"
)

// StaffInput is a staff account as the owner or an admin writes it.
type StaffInput struct {
	Username  string        `json:"username"`
	Phone     string        `json:"phone"`
	Name      string        `json:"name"`
	Role      identity.Role `json:"role"`
	StoreID   int64         `json:"store_id"`
	GuideCode string        `json:"guide_code"`
	Password  string        `json:"password"`
	Disabled  bool          `json:"disabled"`
}

// check applies the rules every staff write shares: a known role, owners
// made only by owners, a name, bounded texts, a valid phone and password.
func (in *StaffInput) check(p *identity.Principal) error {
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

// ErrUsernameRequired refuses a staff account without username or password.
var ErrUsernameRequired = apperr.InvalidField("username", "username_required", "用户名和密码必填", "Username and password are required.")

// CreateStaff adds a staff account to the caller's merchant and audits it.
func (a *App) CreateStaff(ctx context.Context, p *identity.Principal, in StaffInput) (*identity.Staff, error) {
	if err := in.check(p); err != nil {
		return nil, err
	}
	if err := a.checkStore(ctx, p.MerchantID, in.StoreID); err != nil {
		return nil, err
	}
	if in.Username == "" || in.Password == "" {
		return nil, ErrUsernameRequired
	}
	hash, err := identity.HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	st := &identity.Staff{MerchantID: p.MerchantID, Username: in.Username, Phone: in.Phone, Name: in.Name, Role: in.Role, StoreID: in.StoreID, GuideCode: in.GuideCode, PasswordHash: hash}
	if err := a.Users.CreateStaff(ctx, st); err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "staff.create", st.Username, string(st.Role))
	return st, nil
}

// ErrOwnRole refuses a change of one's own role.
var ErrOwnRole = apperr.New(apperr.Conflict, "own_role", "不能修改自己的角色", "You cannot change your own role.")

// UpdateStaff saves in over st, an account of the caller's merchant as
// stored: only an owner edits an owner, nobody changes their own role; a
// new password or a disable ends the person's sessions everywhere, a new
// role or store applies to their next request on every node. The role
// change is audited once the save has committed.
func (a *App) UpdateStaff(ctx context.Context, p *identity.Principal, st *identity.Staff, in StaffInput) (*identity.Staff, error) {
	if err := in.check(p); err != nil {
		return nil, err
	}
	if err := a.checkStore(ctx, p.MerchantID, in.StoreID); err != nil {
		return nil, err
	}
	if st.Role == identity.RoleOwner && p.Role != identity.RoleOwner {
		return nil, apperr.ErrForbidden
	}
	if st.ID == p.SubjectID && p.Kind == identity.KindStaff && in.Role != st.Role {
		return nil, ErrOwnRole
	}
	oldRole := st.Role
	st.Phone, st.Name, st.Role, st.StoreID, st.GuideCode, st.Disabled = in.Phone, in.Name, in.Role, in.StoreID, in.GuideCode, in.Disabled
	if in.Password != "" {
		var err error
		if st.PasswordHash, err = identity.HashPassword(in.Password); err != nil {
			return nil, err
		}
	}
	if err := a.Users.UpdateStaff(ctx, st); err != nil {
		return nil, err
	}
	if in.Role != oldRole {
		a.Audit.Audit(ctx, p.MerchantID, p.Name, "staff.role", st.Username, string(oldRole)+" -> "+string(in.Role))
	}
	a.Identity.StaffUpdated(ctx, st)
	if in.Password != "" || in.Disabled {
		a.Audit.Audit(ctx, p.MerchantID, p.Name, "staff.sessions_ended", st.Username, map[bool]string{true: "disabled", false: "password set"}[in.Disabled])
	}
	return st, nil
}
