// Package wecomtest is a local WeCom (企业微信) over real HTTP for the
// tests: gettoken checks the corp id and secret, add_msg_template checks
// the access token (one it issued and did not revoke: else 42001), the
// sender (a member of the corp: else 41048-like 60111) and the payload,
// and hands the link's URL to a checker the test gives (the share code).
package wecomtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"

	"github.com/shelflive/shelflive/internal/wecom"
	"github.com/shelflive/shelflive/internal/wxapi/wxapitest"
)

// Fake is a running local WeCom: corps and their tokens are the Core's.
type Fake struct {
	wxapitest.Core
	URL string
	srv *httptest.Server

	mu    sync.Mutex
	users map[string]bool // corpid/userid
	sent  []wecom.MsgTemplate
	// CheckURL, when set, must accept the link's URL (else errcode 40058).
	CheckURL func(u string) bool
	// Unreachable is the fail_list every task answers (contacts who
	// cannot receive it).
	Unreachable []string
}

// Start runs a fake on a free port until Close.
func Start() *Fake {
	f := &Fake{users: map[string]bool{}}
	f.srv = httptest.NewServer(f)
	f.URL = f.srv.URL
	return f
}

// Close stops the server.
func (f *Fake) Close() { f.srv.Close() }

// AddCorp registers a corp and its secret.
func (f *Fake) AddCorp(corpID, secret string) { f.AddApp(corpID, secret) }

// AddUser makes userid a member of the corp.
func (f *Fake) AddUser(corpID, userID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[corpID+"/"+userID] = true
}

// Fetches is how many tokens were issued.
func (f *Fake) Fetches() int { return f.AllFetches() }

// Sent lists the accepted tasks, oldest first.
func (f *Fake) Sent() []wecom.MsgTemplate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]wecom.MsgTemplate(nil), f.sent...)
}

func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch r.URL.Path {
	case "/cgi-bin/gettoken":
		corp := q.Get("corpid")
		secret, ok := f.Secret(corp)
		if !ok {
			wxapitest.Errcode(w, 40013, "invalid corpid")
			return
		}
		if secret != q.Get("corpsecret") {
			wxapitest.Errcode(w, 40001, "invalid credential")
			return
		}
		wxapitest.Answer(w, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": f.Issue(corp, ""), "expires_in": 7200})
	case "/cgi-bin/externalcontact/add_msg_template":
		if r.Method != http.MethodPost {
			wxapitest.Errcode(w, 43002, "require POST method")
			return
		}
		corp, ok := f.TokenApp(r)
		if !ok {
			wxapitest.Errcode(w, 42001, "access_token expired")
			return
		}
		var m wecom.MsgTemplate
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			wxapitest.Errcode(w, 47001, "data format error")
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if m.ChatType != "single" {
			wxapitest.Errcode(w, 40097, "invalid chat_type")
			return
		}
		if !f.users[corp+"/"+m.Sender] {
			wxapitest.Errcode(w, 60111, "invalid string value `userid`")
			return
		}
		if m.Text.Content == "" || len(m.Attachments) != 1 || m.Attachments[0].MsgType != "link" || m.Attachments[0].Link == nil ||
			m.Attachments[0].Link.Title == "" || m.Attachments[0].Link.URL == "" {
			wxapitest.Errcode(w, 41001, "missing text or link attachment")
			return
		}
		if f.CheckURL != nil && !f.CheckURL(m.Attachments[0].Link.URL) {
			wxapitest.Errcode(w, 40058, "invalid link url")
			return
		}
		f.sent = append(f.sent, m)
		fl := append([]string{}, f.Unreachable...)
		wxapitest.Answer(w, map[string]any{"errcode": 0, "errmsg": "ok", "fail_list": fl, "msgid": "msg" + strconv.Itoa(len(f.sent))})
	default:
		wxapitest.Errcode(w, 404, "no such api")
	}
}
