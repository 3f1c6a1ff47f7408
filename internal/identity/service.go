package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"golang.org/x/crypto/argon2"
)

// SMS sends one-time codes for a merchant's viewers (under that shop's SMS
// sign name where it has one). The dev sender only logs them; a real
// provider (Aliyun, Tencent Cloud SMS: sms.PerMerchant) implements the
// same interface.
type SMS interface {
	SendOTP(ctx context.Context, merchantID int64, phone, code string) error
}

// DevSMS logs codes instead of sending them, and lets the page show them.
type DevSMS struct{ Logger *slog.Logger }

// SendOTP logs the code with the phone masked (phone numbers stay out of logs).
func (d DevSMS) SendOTP(ctx context.Context, merchantID int64, phone, code string) error {
	d.Logger.Info("dev sms: one-time code", "phone", MaskPhone(phone), "code", code)
	return nil
}

// Service implements logins, sessions and tokens.
type Service struct {
	Store      Store
	SMS        SMS
	DevOTP     bool          // return the OTP to the page (dev mode only)
	SessionTTL time.Duration // browser sessions
	Now        func() time.Time
	Bus        RevocationBus // tells other nodes to drop revoked sessions; nil on one node
	CacheTTL   time.Duration // how long a node trusts a session it looked up; 0 = 5 s
	Logger     *slog.Logger

	throttle sync.Map // login key -> *attempts

	// cache keeps recently authenticated sessions for a few seconds, so a
	// stampede of requests does not cost two database reads each. A
	// revocation (logout, password change, disable) evicts them here and,
	// through Bus, on every other node (see Revocation).
	cacheMu sync.Mutex
	cache   map[string]*cachedPrincipal
	gen     uint64 // bumped by every eviction; see remember
}

const cacheTTL = 5 * time.Second

type cachedPrincipal struct {
	p       Principal
	expires time.Time // trusted until then (cacheTTL after it was read)
	ends    time.Time // the session's own end
	used    time.Time // last request that used it
}

// keepWarmIdle is how long KeepWarm re-reads a cached session nobody used:
// a viewer who opened the room a few minutes ago and now grabs a coupon
// card finds it cached.
const keepWarmIdle = 10 * time.Minute

// Errors of this domain.
var (
	ErrBadCredentials = apperr.New(apperr.Unauthorized, "bad_credentials", "账号或密码错误", "Wrong username or password.")
	ErrThrottled      = apperr.New(apperr.TooMany, "login_throttled", "尝试次数过多，请稍后再试", "Too many attempts; try again later.")
	// ErrStaffTextTooLong refuses a staff name over 40 characters, a login over 64, a guide code over 32 or a password over 256.
	ErrStaffTextTooLong = apperr.InvalidField("name", "staff_text_too_long", "姓名最多40字，用户名64位，导购码32位，密码256位", "Name at most 40 characters, username 64, guide code 32, password 256.")
	ErrBadPhone         = apperr.InvalidField("phone", "invalid_phone", "请输入11位中国大陆手机号", "Enter an 11-digit mainland China mobile number.")
	ErrBadOTP           = apperr.New(apperr.Unauthorized, "invalid_otp", "验证码错误或已过期", "Wrong or expired code.")
	ErrOTPTooOften      = apperr.New(apperr.TooMany, "otp_rate_limited", "验证码发送太频繁，请稍后再试", "Codes requested too often; wait a moment.")
	ErrSMSFailed        = apperr.New(apperr.Unavailable, "sms_failed", "验证码短信没有发出去，请稍后再试；如果一直收不到，请联系商家", "The login code could not be sent by SMS; try again in a moment, or contact the shop if it keeps failing.")
	ErrInvalidRole      = apperr.InvalidField("role", "invalid_role", "未知角色", "Unknown role.")
)

var phoneRE = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// NormalizePhone accepts "+86 138 0013 8000" style input and returns 13800138000.
func NormalizePhone(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "+86"), "0086")
	if !phoneRE.MatchString(s) {
		return "", ErrBadPhone
	}
	return s, nil
}

// MaskPhone shows 138****8000: enough to recognise, not enough to call.
func MaskPhone(p string) string {
	if len(p) < 7 {
		return "****"
	}
	return p[:3] + "****" + p[len(p)-4:]
}

// HashPassword hashes with argon2id (memory-hard), encoded with its parameters.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	const t, m, p = 2, 19 * 1024, 1
	key := argon2.IDKey([]byte(pw), salt, t, m, p, 32)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword compares in constant time.
func CheckPassword(encoded, pw string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NewToken returns a random URL-safe secret and its stored hash.
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is how secrets are looked up without storing them.
func HashToken(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

type attempts struct {
	mu    sync.Mutex
	n     int
	until time.Time
}

// checkThrottle allows 5 failures per key, then locks the key for a minute
// (doubling up to 15 minutes).
func (s *Service) checkThrottle(key string) error {
	v, _ := s.throttle.LoadOrStore(key, &attempts{})
	a := v.(*attempts)
	a.mu.Lock()
	defer a.mu.Unlock()
	if now := s.Now(); now.Before(a.until) {
		return &Throttled{Wait: a.until.Sub(now)}
	}
	return nil
}

// Throttled is ErrThrottled with how long the lockout still lasts, so the
// answer's Retry-After says the truth (it said 1 s for a 15-minute lockout).
type Throttled struct{ Wait time.Duration }

func (t *Throttled) Error() string { return ErrThrottled.Error() }

// Unwrap makes a Throttled an ErrThrottled for errors.Is and apperr.As.
func (t *Throttled) Unwrap() error { return ErrThrottled }

// RetryAfter is the rest of the lockout.
func (t *Throttled) RetryAfter() time.Duration { return t.Wait }

func (s *Service) recordFailure(key string) {
	v, _ := s.throttle.LoadOrStore(key, &attempts{})
	a := v.(*attempts)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	if a.n >= 5 {
		lock := time.Minute << min(a.n-5, 4)
		a.until = s.Now().Add(min(lock, 15*time.Minute))
	}
}

func (s *Service) recordSuccess(key string) { s.throttle.Delete(key) }

// Login checks a staff password and opens a new session (a fresh token every
// time: session rotation on login). It returns the raw token for the cookie.
func (s *Service) Login(ctx context.Context, login, password, clientIP string) (*Staff, string, *Session, error) {
	key := strings.ToLower(strings.TrimSpace(login))
	if err := s.checkThrottle("login:" + key); err != nil {
		return nil, "", nil, err
	}
	if err := s.checkThrottle("ip:" + clientIP); err != nil {
		return nil, "", nil, err
	}
	gen := s.generation()
	st, err := s.Store.StaffByLogin(ctx, key)
	if err != nil || st.Disabled || !CheckPassword(st.PasswordHash, password) {
		if err != nil && !errors.Is(err, apperr.ErrNotFound) {
			return nil, "", nil, err
		}
		s.recordFailure("login:" + key)
		s.recordFailure("ip:" + clientIP)
		return nil, "", nil, ErrBadCredentials
	}
	s.recordSuccess("login:" + key)
	if m, err := s.Store.Merchant(ctx, st.MerchantID); err != nil {
		return nil, "", nil, err
	} else if m.Disabled {
		return nil, "", nil, ErrMerchantDisabled
	}
	token, sess, err := s.openSession(ctx, KindStaff, st.MerchantID, st.ID, st.Role, "", s.SessionTTL)
	if err != nil {
		return nil, "", nil, err
	}
	if p, err := principalFor(sess, nil, st); err == nil {
		s.remember(sess.TokenHash, p, sess.ExpiresAt, gen)
	}
	return st, token, sess, nil
}

func (s *Service) openSession(ctx context.Context, kind SessionKind, merchantID, subject int64, role Role, label string, ttl time.Duration) (string, *Session, error) {
	token, hash := NewToken()
	csrf, _ := NewToken()
	now := s.Now()
	sess := &Session{TokenHash: hash, Kind: kind, MerchantID: merchantID, SubjectID: subject, Role: role,
		CSRF: csrf[:32], Label: label, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return "", nil, fmt.Errorf("open session: %w", err)
	}
	return token, sess, nil
}

// Authenticate resolves a raw session cookie or bearer token to a principal.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, apperr.ErrUnauthorized
	}
	hash := HashToken(token)
	now := s.Now()
	s.cacheMu.Lock()
	if c, ok := s.cache[hash]; ok && now.Before(c.expires) {
		c.used = now
		s.cacheMu.Unlock()
		p := c.p
		return &p, nil
	}
	gen := s.gen
	s.cacheMu.Unlock()
	sess, c, st, err := s.Store.SessionSubject(ctx, hash)
	if err != nil {
		return nil, apperr.ErrUnauthorized
	}
	if sess.MerchantDisabled { // before "revoked": disabling revoked it, and this says why
		return nil, ErrMerchantDisabled
	}
	if sess.RevokedAt != nil || s.Now().After(sess.ExpiresAt) {
		return nil, apperr.ErrUnauthorized
	}
	p, err := principalFor(sess, c, st)
	if err != nil {
		return nil, err
	}
	s.remember(hash, p, sess.ExpiresAt, gen)
	return p, nil
}

// principalFor is who a live session acts as; a customer who is gone or a
// disabled staff member has no principal.
func principalFor(sess *Session, c *Customer, st *Staff) (*Principal, error) {
	p := &Principal{Kind: sess.Kind, MerchantID: sess.MerchantID, SubjectID: sess.SubjectID, Role: sess.Role, SessionID: sess.ID, CSRF: sess.CSRF}
	switch sess.Kind {
	case KindCustomer:
		if c == nil {
			return nil, apperr.ErrUnauthorized
		}
		p.Name = CustomerDisplayName(c)
	case KindStaff:
		if st == nil || st.Disabled {
			return nil, apperr.ErrUnauthorized
		}
		p.Name, p.Role, p.StoreID = st.Name, st.Role, st.StoreID
	case KindToken:
		p.Name = "token:" + sess.Label
	}
	return p, nil
}

// remember caches a principal for cacheTTL (never past its session's end).
// Logins remember their new session too: a buyer who logs in from the buy
// sheet buys a moment later, and that request should not cost a lookup.
// gen is the cache generation read before the session was looked up: if
// an eviction came in meanwhile, the row read may predate a revocation
// and is not cached.
func (s *Service) remember(hash string, p *Principal, sessionEnds time.Time, gen uint64) {
	now := s.Now()
	until := now.Add(s.cacheTTL())
	if sessionEnds.Before(until) {
		until = sessionEnds
	}
	s.cacheMu.Lock()
	if s.gen != gen {
		s.cacheMu.Unlock()
		return
	}
	if s.cache == nil || len(s.cache) > 100_000 {
		s.cache = map[string]*cachedPrincipal{} // bounded: start over rather than grow
	}
	used := now
	if old, ok := s.cache[hash]; ok {
		used = old.used // a re-read by KeepWarm is not a use
	}
	s.cache[hash] = &cachedPrincipal{p: *p, expires: until, ends: sessionEnds, used: used}
	s.cacheMu.Unlock()
}

func (s *Service) cacheTTL() time.Duration {
	if s.CacheTTL > 0 {
		return s.CacheTTL
	}
	return cacheTTL
}

// KeepWarm re-reads the cached sessions every second, in bulk, before they
// expire, until ctx ends. A session is trusted at most cacheTTL after the
// database last confirmed it, as before; but a room full of viewers who
// logged in minutes ago no longer costs one session query per request when
// they all tap at once (a coupon card, a flash sale): a few hundred
// sessions per query, off the request path.
func (s *Service) KeepWarm(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.RefreshCache(ctx); err != nil && ctx.Err() == nil {
				s.logger().Warn("session cache refresh", "err", err)
			}
		}
	}
}

// RefreshCache is one round of KeepWarm: the sessions used in the last
// keepWarmIdle whose trust ends within a quarter of a cache time (at least
// 1.2 s: the round is every second) are read again;
// a revoked, expired or disabled one leaves the cache, the others are
// trusted for another cache time. Sessions unused for longer are dropped.
func (s *Service) RefreshCache(ctx context.Context) error {
	now := s.Now()
	ttl := s.cacheTTL()
	var hashes []string
	s.cacheMu.Lock()
	gen := s.gen
	for h, c := range s.cache {
		switch {
		case now.Sub(c.used) > keepWarmIdle || !now.Before(c.ends):
			if !now.Before(c.expires) {
				delete(s.cache, h)
			}
		case c.expires.Sub(now) < max(ttl/4, 1200*time.Millisecond):
			hashes = append(hashes, h)
		}
	}
	s.cacheMu.Unlock()
	if len(hashes) == 0 {
		return nil
	}
	rows, err := s.Store.SessionSubjects(ctx, hashes)
	if err != nil {
		return err
	}
	for _, r := range rows {
		sess := r.Session
		p, err := principalFor(sess, r.Customer, r.Staff)
		if err != nil || sess.MerchantDisabled || sess.RevokedAt != nil || !now.Before(sess.ExpiresAt) {
			s.cacheMu.Lock()
			delete(s.cache, sess.TokenHash)
			s.cacheMu.Unlock()
			continue
		}
		s.remember(sess.TokenHash, p, sess.ExpiresAt, gen)
	}
	return nil
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Service) generation() uint64 {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	return s.gen
}

// Forget drops a session from the cache of every node (erasure).
func (s *Service) Forget(ctx context.Context, merchantID, sessionID int64) {
	s.Revoked(ctx, Revocation{MerchantID: merchantID, SessionID: sessionID})
}

// Revoke revokes a session or token of the merchant, here and on every node.
func (s *Service) Revoke(ctx context.Context, merchantID, sessionID int64) error {
	if err := s.Store.RevokeSession(ctx, merchantID, sessionID); err != nil {
		return err
	}
	s.Forget(ctx, merchantID, sessionID)
	return nil
}

// CustomerDisplayName is what other viewers see: never the full number.
func CustomerDisplayName(c *Customer) string {
	if c.Name != "" {
		return c.Name
	}
	return "用户" + c.Phone[len(c.Phone)-4:]
}

// Logout revokes the caller's session.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	return s.Revoke(ctx, p.MerchantID, p.SessionID)
}

// RequestOTP sends a login code to phone. In dev mode the code is returned
// so the page can show it; otherwise it returns "".
func (s *Service) RequestOTP(ctx context.Context, merchantID int64, phone string) (string, error) {
	phone, err := NormalizePhone(phone)
	if err != nil {
		return "", err
	}
	n, err := s.Store.CountRecentOTPs(ctx, merchantID, phone, s.Now().Add(-10*time.Minute))
	if err != nil {
		return "", err
	}
	if n >= 5 {
		return "", ErrOTPTooOften
	}
	v, _ := rand.Int(rand.Reader, big.NewInt(1000000))
	code := fmt.Sprintf("%06d", v.Int64())
	if err := s.Store.CreateOTP(ctx, merchantID, phone, HashToken(phone+":"+code), s.Now().Add(5*time.Minute)); err != nil {
		return "", err
	}
	if err := s.SMS.SendOTP(ctx, merchantID, phone, code); err != nil {
		// The provider's code and message go to the log (never the phone
		// or the login code); the viewer gets a message they can act on.
		s.logger().Warn("login code not sent", "phone", MaskPhone(phone), "err", err)
		return "", ErrSMSFailed
	}
	if s.DevOTP {
		return code, nil
	}
	return "", nil
}

// VerifyOTP logs a customer in with phone + code, creating the customer on
// first login, and returns a new session token.
func (s *Service) VerifyOTP(ctx context.Context, merchantID int64, phone, code string) (*Customer, string, *Session, error) {
	phone, err := NormalizePhone(phone)
	if err != nil {
		return nil, "", nil, err
	}
	code = strings.TrimSpace(code)
	gen := s.generation()
	if err := s.Store.UseOTP(ctx, merchantID, phone, HashToken(phone+":"+code), 5); err != nil {
		return nil, "", nil, err
	}
	c, err := s.Store.UpsertCustomer(ctx, merchantID, phone)
	if err != nil {
		return nil, "", nil, err
	}
	token, sess, err := s.openSession(ctx, KindCustomer, merchantID, c.ID, RoleViewer, "", 30*24*time.Hour)
	if err != nil {
		return nil, "", nil, err
	}
	if p, err := principalFor(sess, c, nil); err == nil {
		s.remember(sess.TokenHash, p, sess.ExpiresAt, gen)
	}
	return c, token, sess, nil
}

// OpenCustomerSession logs a known customer in without a code: the WeChat
// sign-in found the openid they bound to their phone account before.
func (s *Service) OpenCustomerSession(ctx context.Context, merchantID, customerID int64) (string, *Session, error) {
	gen := s.generation()
	c, err := s.Store.Customer(ctx, merchantID, customerID)
	if err != nil {
		return "", nil, err
	}
	token, sess, err := s.openSession(ctx, KindCustomer, merchantID, c.ID, RoleViewer, "wechat", 30*24*time.Hour)
	if err != nil {
		return "", nil, err
	}
	if p, err := principalFor(sess, c, nil); err == nil {
		s.remember(sess.TokenHash, p, sess.ExpiresAt, gen)
	}
	return token, sess, nil
}

// LoginWeChatMini opens a viewer session for the customer bound to a
// mini-program openid (the server checked it with WeChat's jscode2session),
// creating the customer on the first login.
func (s *Service) LoginWeChatMini(ctx context.Context, merchantID int64, appID, openID, unionID string) (*Customer, string, *Session, error) {
	gen := s.generation()
	c, err := s.Store.WeChatMiniCustomer(ctx, merchantID, appID, openID, unionID)
	if err != nil {
		return nil, "", nil, err
	}
	token, sess, err := s.openSession(ctx, KindCustomer, merchantID, c.ID, RoleViewer, "", 30*24*time.Hour)
	if err != nil {
		return nil, "", nil, err
	}
	if p, err := principalFor(sess, c, nil); err == nil {
		s.remember(sess.TokenHash, p, sess.ExpiresAt, gen)
	}
	return c, token, sess, nil
}

// CreateToken issues an API token with a role for automation; the raw token
// is returned once and only its hash is stored.
func (s *Service) CreateToken(ctx context.Context, merchantID int64, role Role, label string, ttl time.Duration) (string, *Session, error) {
	if !role.Valid() {
		return "", nil, ErrInvalidRole
	}
	if ttl <= 0 {
		ttl = 365 * 24 * time.Hour
	}
	return s.openSession(ctx, KindToken, merchantID, 0, role, label, ttl)
}

// EnsureToken stores a fixed token (SHELFLIVE_ADMIN_TOKEN) if not yet stored.
func (s *Service) EnsureToken(ctx context.Context, merchantID int64, role Role, label, token string) error {
	if _, err := s.Store.SessionByTokenHash(ctx, HashToken(token)); err == nil {
		return nil
	}
	csrf, _ := NewToken()
	now := s.Now()
	return s.Store.CreateSession(ctx, &Session{TokenHash: HashToken(token), Kind: KindToken, MerchantID: merchantID,
		Role: role, CSRF: csrf[:32], Label: label, CreatedAt: now, ExpiresAt: now.Add(100 * 365 * 24 * time.Hour)})
}
