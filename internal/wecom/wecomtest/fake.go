// Package wecomtest is a local WeCom (企业微信) over real HTTP for the
// tests: gettoken checks the corp id and secret, add_msg_template checks
// the access token (one it issued and did not revoke: else 42001), the
// sender (a member of the corp: else 41048-like 60111) and the payload,
// and hands the link's URL to a checker the test gives (the share code).
package wecomtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"

	"github.com/shelflive/shelflive/internal/wecom"
)

// Fake is a running local WeCom.
type Fake struct {
	URL string
	srv *httptest.Server

	mu      sync.Mutex
	secrets map[string]string // corpid → secret
	tokens  map[string]string // live token → corpid
	fetches int
	users   map[string]bool // corpid/userid
	sent    []wecom.MsgTemplate
	// CheckURL, when set, must accept the link's URL (else errcode 40058).
	CheckURL func(u string) bool
	// Unreachable is the fail_list every task answers (contacts who
	// cannot receive it).
	Unreachable []string
}

// Start runs a fake on a free port until Close.
func Start() *Fake {
	f := &Fake{secrets: map[string]string{}, tokens: map[string]string{}, users: map[string]bool{}}
	f.srv = httptest.NewServer(f)
	f.URL = f.srv.URL
	return f
}

// Close stops the server.
func (f *Fake) Close() { f.srv.Close() }

// AddCorp registers a corp and its secret.
func (f *Fake) AddCorp(corpID, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets[corpID] = secret
}

// AddUser makes userid a member of the corp.
func (f *Fake) AddUser(corpID, userID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[corpID+"/"+userID] = true
}

// RevokeTokens expires every token issued so far: the next call answers 42001.
func (f *Fake) RevokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = map[string]string{}
}

// Fetches is how many tokens were issued.
func (f *Fake) Fetches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fetches
}

// Sent lists the accepted tasks, oldest first.
func (f *Fake) Sent() []wecom.MsgTemplate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]wecom.MsgTemplate(nil), f.sent...)
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, msg string) {
	answer(w, map[string]any{"errcode": code, "errmsg": msg})
}

func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	switch r.URL.Path {
	case "/cgi-bin/gettoken":
		corp := q.Get("corpid")
		secret, ok := f.secrets[corp]
		if !ok {
			fail(w, 40013, "invalid corpid")
			return
		}
		if secret != q.Get("corpsecret") {
			fail(w, 40001, "invalid credential")
			return
		}
		b := make([]byte, 16)
		rand.Read(b)
		tok := hex.EncodeToString(b)
		f.tokens[tok] = corp
		f.fetches++
		answer(w, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": 7200})
	case "/cgi-bin/externalcontact/add_msg_template":
		if r.Method != http.MethodPost {
			fail(w, 43002, "require POST method")
			return
		}
		corp, ok := f.tokens[q.Get("access_token")]
		if !ok {
			fail(w, 42001, "access_token expired")
			return
		}
		var m wecom.MsgTemplate
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			fail(w, 47001, "data format error")
			return
		}
		if m.ChatType != "single" {
			fail(w, 40097, "invalid chat_type")
			return
		}
		if !f.users[corp+"/"+m.Sender] {
			fail(w, 60111, "invalid string value `userid`")
			return
		}
		if m.Text.Content == "" || len(m.Attachments) != 1 || m.Attachments[0].MsgType != "link" || m.Attachments[0].Link == nil ||
			m.Attachments[0].Link.Title == "" || m.Attachments[0].Link.URL == "" {
			fail(w, 41001, "missing text or link attachment")
			return
		}
		if f.CheckURL != nil && !f.CheckURL(m.Attachments[0].Link.URL) {
			fail(w, 40058, "invalid link url")
			return
		}
		f.sent = append(f.sent, m)
		fl := append([]string{}, f.Unreachable...)
		answer(w, map[string]any{"errcode": 0, "errmsg": "ok", "fail_list": fl, "msgid": "msg" + strconv.Itoa(len(f.sent))})
	default:
		fail(w, 404, "no such api")
	}
}
