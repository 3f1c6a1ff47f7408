package payment

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Sealer encrypts a merchant's vendor settings at rest (secretbox.Box).
type Sealer interface {
	Seal(plain []byte, ad string) string
	Open(sealed, ad string) ([]byte, error)
}

// Vendor is one payment vendor ShelfLive can talk to (wechatpay, alipay).
type Vendor struct {
	Name string
	// Parse validates what a merchant pasted (a JSON object) and returns
	// the settings to seal and the summary the admin may see again (ids and
	// key fingerprints, never a key).
	Parse func(fields map[string]string) (settings []byte, summary map[string]any, err error)
	// Open builds the merchant's provider from sealed-then-opened settings.
	Open func(merchantID int64, settings []byte) (Provider, error)
}

// StoredAccount is one merchant's sealed account at one vendor.
type StoredAccount struct {
	MerchantID int64
	Provider   string
	Sealed     string
	Summary    map[string]any
	UpdatedAt  time.Time
}

// AccountStore keeps sealed accounts.
type AccountStore interface {
	PutAccount(ctx context.Context, a *StoredAccount) error
	// Account returns apperr not_found when the merchant has none.
	Account(ctx context.Context, merchantID int64, provider string) (*StoredAccount, error)
	Accounts(ctx context.Context, merchantID int64) ([]StoredAccount, error)
}

// Accounts is the merchants' vendor accounts: stored sealed, opened into
// providers on use and cached (each node re-reads a row at most every
// few seconds, so a changed key reaches every node quickly).
type Accounts struct {
	Store   AccountStore
	Box     Sealer
	Vendors map[string]Vendor
	Now     func() time.Time
	// Recheck is how long an opened provider is used before the row is
	// read again (default 5 s).
	Recheck time.Duration

	mu    sync.Mutex
	cache map[accountKey]*openAccount
}

type accountKey struct {
	merchant int64
	provider string
}

type openAccount struct {
	p       Provider
	updated time.Time
	checked time.Time
}

// ErrSealed is a stored account that does not open: SHELFLIVE_SECRET_KEY
// changed since it was saved.
var ErrSealed = apperr.New(apperr.Conflict, "payment_settings_unreadable", "支付设置无法解密（密钥已更换？），请重新填写", "The stored payment settings cannot be decrypted (was SHELFLIVE_SECRET_KEY changed?); enter them again.")

func sealAD(merchantID int64, provider string) string {
	return fmt.Sprintf("payment:%s:merchant:%d", provider, merchantID)
}

// Put validates, seals and stores a merchant's settings for a vendor.
func (a *Accounts) Put(ctx context.Context, merchantID int64, provider string, fields map[string]string) (map[string]any, error) {
	v, ok := a.Vendors[provider]
	if !ok {
		return nil, ErrBadMethod
	}
	settings, summary, err := v.Parse(fields)
	if err != nil {
		return nil, err
	}
	if _, err := v.Open(merchantID, settings); err != nil {
		return nil, err
	}
	st := &StoredAccount{MerchantID: merchantID, Provider: provider, Sealed: a.Box.Seal(settings, sealAD(merchantID, provider)),
		Summary: summary, UpdatedAt: a.Now()}
	if err := a.Store.PutAccount(ctx, st); err != nil {
		return nil, err
	}
	a.mu.Lock()
	delete(a.cache, accountKey{merchantID, provider})
	a.mu.Unlock()
	return a.view(st), nil
}

func (a *Accounts) view(st *StoredAccount) map[string]any {
	out := map[string]any{"provider": st.Provider, "configured": true, "updated_at": st.UpdatedAt}
	for k, v := range st.Summary {
		out[k] = v
	}
	return out
}

// Summaries lists every known vendor for the merchant: configured or not,
// with ids and fingerprints only.
func (a *Accounts) Summaries(ctx context.Context, merchantID int64) ([]map[string]any, error) {
	list, err := a.Store.Accounts(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	have := map[string]map[string]any{}
	for i := range list {
		have[list[i].Provider] = a.view(&list[i])
	}
	var out []map[string]any
	for _, name := range a.vendorNames() {
		if v, ok := have[name]; ok {
			out = append(out, v)
		} else {
			out = append(out, map[string]any{"provider": name, "configured": false})
		}
	}
	return out, nil
}

func (a *Accounts) vendorNames() []string {
	var names []string
	for n := range a.Vendors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Configured lists the vendors the merchant has an account at.
func (a *Accounts) Configured(ctx context.Context, merchantID int64) ([]string, error) {
	list, err := a.Store.Accounts(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, st := range list {
		if _, ok := a.Vendors[st.Provider]; ok {
			out = append(out, st.Provider)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Provider opens the merchant's account at the vendor.
func (a *Accounts) Provider(ctx context.Context, merchantID int64, provider string) (Provider, error) {
	v, ok := a.Vendors[provider]
	if !ok {
		return nil, ErrBadMethod
	}
	key := accountKey{merchantID, provider}
	now := a.Now()
	recheck := a.Recheck
	if recheck == 0 {
		recheck = 5 * time.Second
	}
	a.mu.Lock()
	c := a.cache[key]
	a.mu.Unlock()
	if c != nil && now.Sub(c.checked) < recheck {
		return c.p, nil
	}
	st, err := a.Store.Account(ctx, merchantID, provider)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, ErrNotConfigured
	}
	if err != nil {
		return nil, err
	}
	if c == nil || !c.updated.Equal(st.UpdatedAt) {
		settings, err := a.Box.Open(st.Sealed, sealAD(merchantID, provider))
		if err != nil {
			return nil, ErrSealed
		}
		p, err := v.Open(merchantID, settings)
		if err != nil {
			return nil, err
		}
		c = &openAccount{p: p, updated: st.UpdatedAt}
	}
	c = &openAccount{p: c.p, updated: c.updated, checked: now}
	a.mu.Lock()
	if a.cache == nil {
		a.cache = map[accountKey]*openAccount{}
	}
	a.cache[key] = c
	a.mu.Unlock()
	return c.p, nil
}

// CheckResult is the outcome of one credential check.
type CheckResult struct {
	Provider string `json:"provider"`
	OK       bool   `json:"ok"`
	Code     string `json:"code,omitempty"`
	Message  string `json:"message,omitempty"` // zh-CN
	English  string `json:"english,omitempty"`
}

// Check makes one harmless signed query with the merchant's account at the
// vendor (the admin's "check credentials" button).
func (a *Accounts) Check(ctx context.Context, merchantID int64, provider string) CheckResult {
	res := CheckResult{Provider: provider}
	p, err := a.Provider(ctx, merchantID, provider)
	if err == nil {
		err = p.Check(ctx)
	}
	if err != nil {
		e := apperr.As(err)
		res.Code, res.Message, res.English = e.Code, e.Message, e.English
		if e.Err != nil && e.Kind != apperr.Internal {
			res.English += " (" + e.Err.Error() + ")"
		}
		return res
	}
	res.OK = true
	return res
}

// CheckMerchant checks every configured vendor account of a merchant (for
// `shelflive doctor`); a merchant with none gets an empty list.
func (a *Accounts) CheckMerchant(ctx context.Context, merchantID int64) ([]CheckResult, error) {
	names, err := a.Configured(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	out := []CheckResult{}
	for _, n := range names {
		out = append(out, a.Check(ctx, merchantID, n))
	}
	return out, nil
}

// Fields reads a settings object's fields by name, refusing any other
// (a misspelt key name must not be silently ignored) and trimming spaces
// pasted around values.
func Fields(in map[string]string, names ...string) ([]string, error) {
	known := map[string]int{}
	for i, n := range names {
		known[n] = i
	}
	out := make([]string, len(names))
	for k, v := range in {
		i, ok := known[k]
		if !ok {
			return nil, apperr.ErrUnknownField.At(k).With("未知字段："+k, "Unknown field "+k+".")
		}
		out[i] = strings.TrimSpace(v)
	}
	return out, nil
}
