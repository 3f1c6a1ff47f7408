package identity

import (
	"context"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Errors of merchant accounts and passwords.
var (
	ErrMerchantDisabled = apperr.New(apperr.Forbidden, "merchant_disabled", "该商家已停用，请联系平台运营方", "This merchant is disabled; contact the platform operator.")
	ErrShopClosed       = apperr.New(apperr.Gone, "shop_closed", "该店铺已停止营业", "This shop is closed.")
	ErrBadSlug          = apperr.ErrInvalidSlug.With("店铺标识须为 2–32 位小写字母、数字或连字符", "The slug must be 2–32 lowercase letters, digits or hyphens.")
	ErrMerchantName     = apperr.InvalidField("name", "merchant_name_required", "请填写店铺名称（最多 100 字）", "Enter the shop's name (at most 100 characters).")
	ErrBadLogin         = apperr.InvalidField("owner_login", "invalid_login", "登录名须为 3–64 位字母、数字或 . _ @ -", "The login must be 3–64 letters, digits or . _ @ -.")

	// Password rules: each refusal says what to change.
	ErrPasswordShort  = apperr.InvalidField("password", "weak_password", "密码至少 10 位", "Passwords need at least 10 characters.")
	ErrPasswordLong   = apperr.InvalidField("password", "password_too_long", "密码最多 128 位", "Passwords have at most 128 characters.")
	ErrPasswordSimple = apperr.InvalidField("password", "simple_password", "密码须混合至少两类字符（字母、数字、符号），或至少 16 位", "Mix at least two kinds of characters (letters, digits, symbols), or use 16 or more.")
	ErrPasswordCommon = apperr.InvalidField("password", "common_password", "这个密码太常见，容易被猜到，请换一个", "This password is too common to be safe; choose another.")
	ErrPasswordLogin  = apperr.InvalidField("password", "password_like_login", "密码不能包含登录名或店铺标识", "The password must not contain the login or the shop's slug.")
)

var (
	slugRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$`)
	loginRE = regexp.MustCompile(`^[A-Za-z0-9._@-]{3,64}$`)
)

// commonPasswords are refused outright: the first guesses of anyone trying
// logins, and what people type when a form insists on ten characters.
var commonPasswords = map[string]bool{
	"password": true, "password1": true, "password12": true, "password123": true, "passw0rd": true,
	"1234567890": true, "0123456789": true, "12345678910": true, "qwertyuiop": true, "1q2w3e4r5t": true,
	"qwerty123": true, "qwerty1234": true, "abc1234567": true, "a123456789": true, "abcd123456": true,
	"iloveyou": true, "woaini1314": true, "woaini520": true, "5201314520": true, "1314520520": true,
	"admin12345": true, "administrator": true, "shelflive": true, "shelflive1": true, "shelflive123": true,
	"shelflive-demo": true, "welcome123": true, "changeme123": true, "letmein123": true, "zxcvbnm123": true,
}

// CheckNewPassword says why a password someone is choosing is too weak,
// or nil. logins are names it must not contain (login, slug).
func CheckNewPassword(pw string, logins ...string) error {
	n := utf8.RuneCountInString(pw)
	if n < 10 {
		return ErrPasswordShort
	}
	if n > 128 {
		return ErrPasswordLong
	}
	low := strings.ToLower(pw)
	if commonPasswords[low] || oneRepeated(low) {
		return ErrPasswordCommon
	}
	for _, l := range logins {
		if l = strings.ToLower(strings.TrimSpace(l)); len(l) >= 3 && strings.Contains(low, l) {
			return ErrPasswordLogin
		}
	}
	if n < 16 && charClasses(pw) < 2 {
		return ErrPasswordSimple
	}
	return nil
}

// oneRepeated is "aaaaaaaaaa" or "abababab…": one short unit over and over.
func oneRepeated(s string) bool {
	for unit := 1; unit <= 3 && unit < len(s); unit++ {
		if strings.Repeat(s[:unit], len(s)/unit+1)[:len(s)] == s {
			return true
		}
	}
	return false
}

func charClasses(pw string) int {
	var lower, upper, digit, other int
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			other = 1
		}
	}
	return lower + upper + digit + other
}

// NewMerchant is what it takes to open a shop: the merchant and its owner.
type NewMerchant struct {
	Slug       string `json:"slug"`
	Name       string `json:"name"`
	OwnerLogin string `json:"owner_login"`
	OwnerName  string `json:"owner_name,omitempty"`
	Password   string `json:"password"`
}

// ErrOwnerNameTooLong refuses an owner's name over 100 characters.
var ErrOwnerNameTooLong = apperr.InvalidField("owner_name", "name_too_long", "姓名最多 100 字", "Names have at most 100 characters.")

// Validate checks the shape of a new merchant and the owner's password.
func (in *NewMerchant) Validate() error {
	in.Slug = strings.TrimSpace(in.Slug)
	in.Name = strings.TrimSpace(in.Name)
	in.OwnerLogin = strings.TrimSpace(in.OwnerLogin)
	if !slugRE.MatchString(in.Slug) {
		return ErrBadSlug
	}
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 100 {
		return ErrMerchantName
	}
	if !loginRE.MatchString(in.OwnerLogin) {
		return ErrBadLogin
	}
	if utf8.RuneCountInString(in.OwnerName) > 100 {
		return ErrOwnerNameTooLong
	}
	return CheckNewPassword(in.Password, in.OwnerLogin, in.Slug)
}

// CreateMerchant opens a shop: the merchant and its owner account, in one
// transaction. Used by `shelflive merchant create` and /setup.
func (s *Service) CreateMerchant(ctx context.Context, in NewMerchant) (*Merchant, *Staff, error) {
	if err := in.Validate(); err != nil {
		return nil, nil, err
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, nil, err
	}
	name := in.OwnerName
	if name == "" {
		name = in.OwnerLogin
	}
	m := &Merchant{Slug: in.Slug, Name: in.Name}
	owner := &Staff{Username: in.OwnerLogin, Name: name, Role: RoleOwner, PasswordHash: hash}
	if err := s.Store.CreateMerchantOwner(ctx, m, owner); err != nil {
		return nil, nil, err
	}
	return m, owner, nil
}

// DisableMerchant closes a shop: its sessions and tokens are revoked (on
// every node at once, see Revocation) and its rooms are off.
func (s *Service) DisableMerchant(ctx context.Context, slug string) (*Merchant, error) {
	m, err := s.Store.MerchantBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	if err := s.Store.DisableMerchant(ctx, m.ID); err != nil {
		return nil, err
	}
	m.Disabled = true
	s.Revoked(ctx, Revocation{MerchantID: m.ID})
	return m, nil
}

// OpenMerchant is the merchant of slug when it is open for business.
func (s *Service) OpenMerchant(ctx context.Context, slug string) (*Merchant, error) {
	m, err := s.Store.MerchantBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	if m.Disabled {
		return nil, ErrShopClosed
	}
	return m, nil
}
