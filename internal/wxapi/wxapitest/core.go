// Package wxapitest is what the local WeChat-family APIs of the tests
// (wxmsgtest, wecomtest) have in common: the apps they know with their
// secrets, the access tokens they issued (valid until revoked), how many
// each app was issued, and answers with errcode and errmsg. Each fake
// embeds a Core and serves its own API's paths over real HTTP.
package wxapitest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
)

// Core is the apps and tokens of one fake. The zero Core is ready.
type Core struct {
	mu      sync.Mutex
	secrets map[string]string // app (appid, corpid) → secret
	tokens  map[string]string // live token → app
	fetches map[string]int    // app → tokens issued
}

// AddApp registers an app (an official account, a mini-program, a WeCom
// corp) and its secret.
func (c *Core) AddApp(appID, secret string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.secrets == nil {
		c.secrets = map[string]string{}
	}
	c.secrets[appID] = secret
}

// Secret is the app's secret; ok is false for an app never added.
func (c *Core) Secret(appID string) (secret string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	secret, ok = c.secrets[appID]
	return secret, ok
}

// Issue makes a new token of the app, valid until RevokeTokens.
func (c *Core) Issue(appID, prefix string) string {
	tok := prefix + RandHex(12)
	c.AddToken(appID, tok)
	return tok
}

// AddToken makes token valid for appID (a fake that issues the official
// account's tokens elsewhere, wechatpaytest, shares them this way).
func (c *Core) AddToken(appID, token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == nil {
		c.tokens, c.fetches = map[string]string{}, map[string]int{}
	}
	c.tokens[token] = appID
	c.fetches[appID]++
}

// TokenApp is the app whose live token r's access_token query is.
func (c *Core) TokenApp(r *http.Request) (appID string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	appID, ok = c.tokens[r.URL.Query().Get("access_token")]
	return appID, ok
}

// RevokeTokens ends every token issued so far (as a fetch elsewhere, the
// console, or expiry does): the next call with one answers a token errcode.
func (c *Core) RevokeTokens() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens = map[string]string{}
}

// Fetches is how many tokens the app was issued.
func (c *Core) Fetches(appID string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches[appID]
}

// AllFetches is how many tokens were issued, all apps together.
func (c *Core) AllFetches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.fetches {
		n += k
	}
	return n
}

// RandHex is n random bytes in hex.
func RandHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Answer writes v as the JSON answer.
func Answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// Errcode answers a refusal: {"errcode": code, "errmsg": msg}.
func Errcode(w http.ResponseWriter, code int, msg string) {
	Answer(w, map[string]any{"errcode": code, "errmsg": msg})
}
