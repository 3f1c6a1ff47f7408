// Package wxmsgtest is a local WeChat for the message APIs over real HTTP:
// client_credential access tokens, mini-program subscribe messages (each
// grant the user gave allows one message; none left answers 43101, as
// WeChat does), official account template messages (followers only:
// 43004), and the mini-program's jscode2session. Every send checks the
// access token (one the fake issued and did not revoke: else 40001), the
// template and its keywords, and the values' formats.
package wxmsgtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/wxapi/wxapitest"
	"github.com/shelflive/shelflive/internal/wxmsg"
)

// Sent is one message the fake accepted.
type Sent struct {
	Kind       string // subscribe | template
	AppID      string
	ToUser     string
	TemplateID string
	Page       string // subscribe: the mini-program page; template: the URL
	Data       map[string]string
}

// Fake is a running local WeChat: apps and their tokens are the Core's.
type Fake struct {
	wxapitest.Core
	URL string
	srv *httptest.Server

	mu        sync.Mutex
	templates map[string][]string // appid/template → keywords
	grants    map[string]int      // appid/openid/template → grants left
	followers map[string]bool     // appid/openid
	codes     map[string]string   // jscode → openid
	sent      []Sent
	down      int // answer this many sends with errcode -1 (system busy)
}

// Start runs a fake on a free port until Close.
func Start() *Fake {
	f := &Fake{templates: map[string][]string{}, grants: map[string]int{}, followers: map[string]bool{}, codes: map[string]string{}}
	f.srv = httptest.NewServer(f)
	f.URL = f.srv.URL
	return f
}

// Close stops the server.
func (f *Fake) Close() { f.srv.Close() }

// AddTemplate registers a template of the app with its keywords.
func (f *Fake) AddTemplate(appID, templateID string, keywords ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.templates[appID+"/"+templateID] = keywords
}

// Grant plays the user tapping 允许 in wx.requestSubscribeMessage: one more
// message of the template may be sent to them.
func (f *Fake) Grant(appID, openid, templateID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.grants[appID+"/"+openid+"/"+templateID]++
}

// Grants is how many messages of the template WeChat would still let through.
func (f *Fake) Grants(appID, openid, templateID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.grants[appID+"/"+openid+"/"+templateID]
}

// Follow makes openid a follower of the official account.
func (f *Fake) Follow(appID, openid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.followers[appID+"/"+openid] = true
}

// Code makes a wx.login code that jscode2session answers with openid.
func (f *Fake) Code(code, openid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.codes[code] = openid
}

// FailNext answers the next n sends with errcode -1 (system busy).
func (f *Fake) FailNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = n
}

// Sent lists the messages accepted, oldest first.
func (f *Fake) Sent() []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Sent(nil), f.sent...)
}

// ServeHTTP plays the APIs.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/cgi-bin/token":
		secret, ok := f.Secret(q.Get("appid"))
		if q.Get("grant_type") != "client_credential" || !ok || secret != q.Get("secret") {
			wxapitest.Errcode(w, 40125, "invalid appsecret")
			return
		}
		wxapitest.Answer(w, map[string]any{"access_token": f.Issue(q.Get("appid"), "at-"), "expires_in": 7200})
	case r.Method == http.MethodGet && r.URL.Path == "/sns/jscode2session":
		secret, ok := f.Secret(q.Get("appid"))
		f.mu.Lock()
		openid, known := f.codes[q.Get("js_code")]
		delete(f.codes, q.Get("js_code")) // a code is good once
		f.mu.Unlock()
		switch {
		case !ok || secret != q.Get("secret") || q.Get("grant_type") != "authorization_code":
			wxapitest.Errcode(w, 40125, "invalid appsecret")
		case !known:
			wxapitest.Errcode(w, 40029, "invalid code")
		default:
			wxapitest.Answer(w, map[string]any{"openid": openid, "session_key": wxapitest.RandHex(12)})
		}
	case r.Method == http.MethodPost && r.URL.Path == "/cgi-bin/message/subscribe/send":
		f.send(w, r, "subscribe")
	case r.Method == http.MethodPost && r.URL.Path == "/cgi-bin/message/template/send":
		f.send(w, r, "template")
	default:
		http.NotFound(w, r)
	}
}

// send answers a template or subscribe message as WeChat does. It is long
// because it is the list of checks WeChat makes of a message, each one
// case, before the message is kept.
func (f *Fake) send(w http.ResponseWriter, r *http.Request, kind string) {
	var m struct {
		ToUser      string                       `json:"touser"`
		TemplateID  string                       `json:"template_id"`
		Page        string                       `json:"page"`
		URL         string                       `json:"url"`
		MiniProgram *wxmsg.MiniProgramLink       `json:"miniprogram"`
		State       string                       `json:"miniprogram_state"`
		Lang        string                       `json:"lang"`
		Data        map[string]map[string]string `json:"data"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	err := dec.Decode(&m)
	appID, ok := f.TokenApp(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case !ok:
		wxapitest.Errcode(w, wxmsg.CodeInvalidToken, "invalid credential, access_token is invalid or not latest")
		return
	case err != nil:
		wxapitest.Errcode(w, 47001, "data format error: "+err.Error())
		return
	case f.down > 0:
		f.down--
		wxapitest.Errcode(w, -1, "system error")
		return
	case kind == "subscribe" && m.Lang != "" && m.Lang != "zh_CN" && m.Lang != "en_US" && m.Lang != "zh_HK" && m.Lang != "zh_TW":
		wxapitest.Errcode(w, 47003, "argument invalid! lang")
		return
	case m.ToUser == "":
		wxapitest.Errcode(w, wxmsg.CodeInvalidOpenID, "invalid openid")
		return
	}
	keys, ok := f.templates[appID+"/"+m.TemplateID]
	if !ok {
		wxapitest.Errcode(w, 40037, "invalid template_id")
		return
	}
	data := map[string]string{}
	for _, k := range keys {
		v, ok := m.Data[k]
		if !ok {
			wxapitest.Errcode(w, 47003, "argument invalid! data."+k+" is empty")
			return
		}
		val := v["value"]
		switch {
		case strings.HasPrefix(k, "thing") && (val == "" || utf8.RuneCountInString(val) > 20):
			wxapitest.Errcode(w, 47003, "argument invalid! data."+k+".value invalid")
			return
		case strings.HasPrefix(k, "time"):
			if _, err := time.Parse("2006-01-02 15:04", val); err != nil {
				wxapitest.Errcode(w, 47003, "argument invalid! data."+k+".value invalid")
				return
			}
		}
		data[k] = val
	}
	if len(m.Data) != len(keys) {
		wxapitest.Errcode(w, 47003, "argument invalid! data has unknown keywords")
		return
	}
	s := Sent{Kind: kind, AppID: appID, ToUser: m.ToUser, TemplateID: m.TemplateID, Data: data}
	switch kind {
	case "subscribe":
		if m.Page == "" || strings.HasPrefix(m.Page, "/") || strings.Contains(m.Page, "://") {
			wxapitest.Errcode(w, 41030, "invalid page")
			return
		}
		g := appID + "/" + m.ToUser + "/" + m.TemplateID
		if f.grants[g] == 0 {
			wxapitest.Errcode(w, wxmsg.CodeRefused, "user refuse to accept the msg")
			return
		}
		f.grants[g]--
		s.Page = m.Page
	case "template":
		if !f.followers[appID+"/"+m.ToUser] {
			wxapitest.Errcode(w, wxmsg.CodeNotFollowing, "require subscribe")
			return
		}
		if !strings.HasPrefix(m.URL, "https://") && !strings.HasPrefix(m.URL, "http://") {
			wxapitest.Errcode(w, 40062, "invalid url")
			return
		}
		s.Page = m.URL
	}
	f.sent = append(f.sent, s)
	wxapitest.Answer(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": len(f.sent)})
}
