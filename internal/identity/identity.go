// Package identity holds tenants (merchants), staff with roles, customers
// (viewers who buy), sessions and API tokens, and the one permission table
// every adapter asks.
package identity

import (
	"context"
	"time"
)

// Merchant is a tenant: every other row belongs to exactly one.
type Merchant struct {
	ID     int64  `json:"id"`
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	NameEN string `json:"name_en,omitempty"`
	// Disabled merchants are closed: their staff and viewers are refused
	// and their rooms are off (set by `shelflive merchant disable`).
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// Staff is a person working for a merchant, with one role.
type Staff struct {
	ID           int64     `json:"id"`
	MerchantID   int64     `json:"merchant_id"`
	Username     string    `json:"username"`
	Phone        string    `json:"phone,omitempty"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	StoreID      int64     `json:"store_id,omitempty"`
	GuideCode    string    `json:"guide_code,omitempty"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	PasswordHash string    `json:"-"`
}

// Customer is a viewer who logged in with a phone number (guest checkout).
type Customer struct {
	ID         int64     `json:"id"`
	MerchantID int64     `json:"merchant_id"`
	Phone      string    `json:"phone"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"created_at"`
}

// SessionKind tells who a session belongs to.
type SessionKind string

const (
	KindStaff    SessionKind = "staff"
	KindCustomer SessionKind = "customer"
	KindToken    SessionKind = "token" // API token: acts with its role, no CSRF
)

// Principal is the authenticated caller of a request.
type Principal struct {
	Kind       SessionKind
	MerchantID int64
	SubjectID  int64 // staff or customer id
	Role       Role
	Name       string
	StoreID    int64
	SessionID  int64
	CSRF       string
	Bearer     bool // authenticated by an Authorization header, not a cookie
}

// IsStaff reports whether the caller acts for the merchant (staff session or token).
func (p *Principal) IsStaff() bool { return p != nil && p.Kind != KindCustomer }

// AtStore is the one store a store-bound staff member works at — store
// staff, guides and hosts assigned to a store — or 0 for staff of every store.
func (p *Principal) AtStore() int64 {
	if p == nil || !StoreBound(p.Role) {
		return 0
	}
	return p.StoreID
}

// StoreBound reports whether a role works at one store when it has one:
// store staff and guides, and hosts of a store's studio, who run only that
// store's rooms and see only its orders.
func StoreBound(r Role) bool { return r == RoleStore || r == RoleGuide || r == RoleHost }

// Session is a stored login or API token; only the token's hash is kept.
type Session struct {
	ID         int64
	TokenHash  string
	Kind       SessionKind
	MerchantID int64
	SubjectID  int64
	Role       Role
	CSRF       string
	Label      string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	// MerchantDisabled is filled by SessionSubject: the session's merchant
	// is closed, so the session acts for nobody.
	MerchantDisabled bool
}

// SessionRow is a session with its customer or staff member (nil for the
// other kinds, or when the subject is gone).
type SessionRow struct {
	Session  *Session
	Customer *Customer
	Staff    *Staff
}

// Store is the persistence identity needs. Every method is tenant-scoped
// where a merchant id is given; lookups by secret (token hash, username) are
// global because the secret decides the tenant.
type Store interface {
	MerchantBySlug(ctx context.Context, slug string) (*Merchant, error)
	Merchant(ctx context.Context, id int64) (*Merchant, error)
	CreateMerchant(ctx context.Context, m *Merchant) error
	// CreateMerchantOwner creates a merchant and its owner account in one
	// transaction (conflict when the slug or the login is taken).
	CreateMerchantOwner(ctx context.Context, m *Merchant, owner *Staff) error
	ListMerchants(ctx context.Context) ([]Merchant, error)
	CountMerchants(ctx context.Context) (int, error)
	// DisableMerchant closes a merchant and revokes every session and token
	// of it, in one transaction.
	DisableMerchant(ctx context.Context, id int64) error

	StaffByLogin(ctx context.Context, login string) (*Staff, error) // username or phone
	Staff(ctx context.Context, merchantID, id int64) (*Staff, error)
	ListStaff(ctx context.Context, merchantID int64) ([]Staff, error)
	CreateStaff(ctx context.Context, s *Staff) error
	// UpdateStaff saves an account; a changed password or a disable
	// revokes every session of it in the same transaction.
	UpdateStaff(ctx context.Context, s *Staff) error
	StaffByGuideCode(ctx context.Context, merchantID int64, code string) (*Staff, error)

	UpsertCustomer(ctx context.Context, merchantID int64, phone string) (*Customer, error)
	// WeChatMiniCustomer is the customer bound to a mini-program openid,
	// created (without a phone) on their first login.
	WeChatMiniCustomer(ctx context.Context, merchantID int64, appID, openID, unionID string) (*Customer, error)
	// WeChatMiniOpenID is the mini-program openid bound to a customer (the
	// latest, should there be several); apperr.ErrNotFound when none.
	WeChatMiniOpenID(ctx context.Context, merchantID int64, appID string, customerID int64) (string, error)
	Customer(ctx context.Context, merchantID, id int64) (*Customer, error)

	CreateSession(ctx context.Context, s *Session) error
	SessionByTokenHash(ctx context.Context, hash string) (*Session, error)
	// SessionSubject is SessionByTokenHash with the customer or staff member
	// it belongs to (nil for the other kinds, or when the subject is gone),
	// in one round trip: it runs on every request whose session is not cached.
	SessionSubject(ctx context.Context, hash string) (*Session, *Customer, *Staff, error)
	// SessionSubjects is SessionSubject for many sessions in a few queries
	// (the session cache re-reads what it keeps); unknown hashes are left out.
	SessionSubjects(ctx context.Context, hashes []string) ([]SessionRow, error)
	RevokeSession(ctx context.Context, merchantID, id int64) error
	ListTokens(ctx context.Context, merchantID int64) ([]Session, error)

	CreateOTP(ctx context.Context, merchantID int64, phone, codeHash string, expires time.Time) error
	// UseOTP checks the newest unused OTP for phone; it counts attempts and
	// consumes the OTP on success.
	UseOTP(ctx context.Context, merchantID int64, phone, codeHash string, maxAttempts int) error
	CountRecentOTPs(ctx context.Context, merchantID int64, phone string, since time.Time) (int, error)

	InviteStore
}

// AuditEntry is one staff action in the append-only audit log.
type AuditEntry struct {
	ID     int64     `json:"id"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Object string    `json:"object"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}
