package identity

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
)

// InviteKind says what a one-time staff link does.
type InviteKind string

const (
	InviteJoin  InviteKind = "invite" // a new staff account: role and store set by the owner, password by the invitee
	InviteReset InviteKind = "reset"  // a new password for an existing account; ends all its sessions
)

// Invite is a one-time link the owner gives a person: it works once,
// until it expires, and only its token's hash is stored.
type Invite struct {
	ID         int64      `json:"id"`
	MerchantID int64      `json:"merchant_id"`
	Kind       InviteKind `json:"kind"`
	StaffID    int64      `json:"staff_id,omitempty"` // reset: whose password
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	StoreID    int64      `json:"store_id,omitempty"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	UsedAt     *time.Time `json:"used_at,omitempty"`
	TokenHash  string     `json:"-"`
}

// InviteStore is the persistence of one-time staff links and of password
// changes, each of which ends sessions in the same transaction.
type InviteStore interface {
	CreateInvite(ctx context.Context, in *Invite) error
	// InviteByTokenHash returns a link whatever its state (used, expired).
	InviteByTokenHash(ctx context.Context, hash string) (*Invite, error)
	// AcceptInvite spends a live link: for InviteJoin it creates st (its
	// role, store and merchant from the link); for InviteReset it sets the
	// account's password hash to st.PasswordHash and revokes every session
	// of it. ErrInviteInvalid when the link is used, expired or unknown.
	AcceptInvite(ctx context.Context, hash string, st *Staff) (*Invite, error)
	// SetPassword stores a new password hash and revokes every session of
	// the staff member except keep (0: all), in one transaction.
	SetPassword(ctx context.Context, merchantID, staffID int64, hash string, keep int64) error
}

// Errors of invitations and password changes.
var (
	ErrInviteInvalid   = apperr.New(apperr.Gone, "invite_invalid", "链接已失效（已用过或已过期），请向店主要一个新链接", "This link no longer works (used or expired); ask the owner for a new one.")
	ErrInviteTTL       = apperr.InvalidField("valid_hours", "invalid_valid_hours", "有效期须为 1–168 小时", "Links are valid for 1–168 hours.")
	ErrWrongPassword   = apperr.InvalidField("current_password", "wrong_password", "当前密码不对", "The current password is wrong.")
	ErrStaffOnly       = apperr.New(apperr.Forbidden, "staff_only", "仅限员工账号", "Only staff accounts can do this.")
	ErrStaffName       = apperr.InvalidField("name", "name_required", "姓名必填，最多 100 字", "Name is required, at most 100 characters.")
	ErrUsernameInvalid = apperr.InvalidField("username", "invalid_username", "用户名须为 3–64 位字母、数字或 . _ @ -", "Usernames are 3–64 letters, digits or . _ @ -.")
)

// DefaultInviteTTL is how long a link works when the owner does not say.
const DefaultInviteTTL = 72 * time.Hour

// NewInvite is what the owner decides about the person they invite.
type NewInvite struct {
	Name       string `json:"name"`
	Role       Role   `json:"role"`
	StoreID    int64  `json:"store_id"`
	ValidHours int    `json:"valid_hours"` // 0 = 72
}

// InviteStaff makes a one-time link for a new staff account. The raw
// token is returned once; the caller checked role and store.
func (s *Service) InviteStaff(ctx context.Context, merchantID int64, by string, in NewInvite) (string, *Invite, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 100 {
		return "", nil, ErrStaffName
	}
	if !in.Role.Valid() {
		return "", nil, ErrInvalidRole
	}
	ttl, err := inviteTTL(in.ValidHours)
	if err != nil {
		return "", nil, err
	}
	return s.newInvite(ctx, &Invite{MerchantID: merchantID, Kind: InviteJoin, Name: in.Name, Role: in.Role, StoreID: in.StoreID, CreatedBy: by}, ttl)
}

// ResetLink makes a one-time link that sets a new password for st; using
// it ends every session of st.
func (s *Service) ResetLink(ctx context.Context, st *Staff, by string, validHours int) (string, *Invite, error) {
	ttl, err := inviteTTL(validHours)
	if err != nil {
		return "", nil, err
	}
	return s.newInvite(ctx, &Invite{MerchantID: st.MerchantID, Kind: InviteReset, StaffID: st.ID, Name: st.Name, Role: st.Role, StoreID: st.StoreID, CreatedBy: by}, ttl)
}

func inviteTTL(hours int) (time.Duration, error) {
	if hours == 0 {
		return DefaultInviteTTL, nil
	}
	if hours < 1 || hours > 168 {
		return 0, ErrInviteTTL
	}
	return time.Duration(hours) * time.Hour, nil
}

func (s *Service) newInvite(ctx context.Context, in *Invite, ttl time.Duration) (string, *Invite, error) {
	token, hash := NewToken()
	in.TokenHash, in.CreatedAt, in.ExpiresAt = hash, s.Now(), s.Now().Add(ttl)
	if err := s.Store.CreateInvite(ctx, in); err != nil {
		return "", nil, err
	}
	return token, in, nil
}

// LiveInvite returns the link of token if it still works.
func (s *Service) LiveInvite(ctx context.Context, token string) (*Invite, error) {
	in, err := s.Store.InviteByTokenHash(ctx, HashToken(token))
	if err != nil || in.UsedAt != nil || !s.Now().Before(in.ExpiresAt) {
		return nil, ErrInviteInvalid
	}
	return in, nil
}

// AcceptInvite spends a link: the invitee chooses a username (new
// accounts) and a password. A reset ends every session of the account on
// every node.
func (s *Service) AcceptInvite(ctx context.Context, token, username, password string) (*Invite, *Staff, error) {
	in, err := s.LiveInvite(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	st := &Staff{}
	if in.Kind == InviteJoin {
		username = strings.TrimSpace(username)
		if !loginRE.MatchString(username) {
			return nil, nil, ErrUsernameInvalid
		}
		st.Username = username
	} else {
		cur, err := s.Store.Staff(ctx, in.MerchantID, in.StaffID)
		if err != nil {
			return nil, nil, apperr.NotFoundAs(err, ErrInviteInvalid)
		}
		username = cur.Username
	}
	if err := CheckNewPassword(password, username); err != nil {
		return nil, nil, err
	}
	if st.PasswordHash, err = HashPassword(password); err != nil {
		return nil, nil, err
	}
	in, err = s.Store.AcceptInvite(ctx, HashToken(token), st)
	if err != nil {
		return nil, nil, err
	}
	if in.Kind == InviteReset {
		s.Revoked(ctx, Revocation{MerchantID: in.MerchantID, StaffID: in.StaffID})
	}
	return in, st, nil
}

// ChangePassword lets staff change their own password; every other
// session of theirs ends, on every node, and this one stays.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, current, next string) error {
	if p.Kind != KindStaff {
		return ErrStaffOnly
	}
	st, err := s.Store.Staff(ctx, p.MerchantID, p.SubjectID)
	if err != nil {
		return err
	}
	key := "login:" + strings.ToLower(st.Username)
	if err := s.checkThrottle(key); err != nil {
		return err
	}
	if !CheckPassword(st.PasswordHash, current) {
		s.recordFailure(key)
		return ErrWrongPassword
	}
	if err := CheckNewPassword(next, st.Username); err != nil {
		return err
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	if err := s.Store.SetPassword(ctx, p.MerchantID, st.ID, hash, p.SessionID); err != nil {
		return err
	}
	s.Revoked(ctx, Revocation{MerchantID: p.MerchantID, StaffID: st.ID, Keep: p.SessionID})
	return nil
}

// StaffUpdated is called after an owner's edit of an account was saved
// (Store.UpdateStaff ended its sessions in the database when the password
// changed or the account was disabled): every node drops the account's
// cached sessions, so the change — or the end — applies to its next
// request everywhere.
func (s *Service) StaffUpdated(ctx context.Context, st *Staff) {
	s.Revoked(ctx, Revocation{MerchantID: st.MerchantID, StaffID: st.ID})
}
