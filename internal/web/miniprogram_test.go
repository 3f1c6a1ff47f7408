package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/shelflive/shelflive/internal/testkit"
)

// fakeJSCode2Session is WeChat's jscode2session over real HTTP: it checks
// the appid, secret and grant type as WeChat does, answers openid and
// session_key for the codes it knows and errcode 40029 for others, and
// takes each code once (40163 the second time), as WeChat does.
type fakeJSCode2Session struct {
	AppID, Secret string
	mu            sync.Mutex
	codes         map[string]string // code → openid
	used          map[string]bool
	calls         int
}

func (f *fakeJSCode2Session) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	q := r.URL.Query()
	answer := func(v map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	switch {
	case r.Method != http.MethodGet || r.URL.Path != "/sns/jscode2session":
		http.NotFound(w, r)
	case q.Get("appid") != f.AppID:
		answer(map[string]any{"errcode": 40013, "errmsg": "invalid appid"})
	case q.Get("secret") != f.Secret:
		answer(map[string]any{"errcode": 40125, "errmsg": "invalid appsecret"})
	case q.Get("grant_type") != "authorization_code":
		answer(map[string]any{"errcode": 40002, "errmsg": "invalid grant_type"})
	case f.used[q.Get("js_code")]:
		answer(map[string]any{"errcode": 40163, "errmsg": "code been used"})
	case f.codes[q.Get("js_code")] == "":
		answer(map[string]any{"errcode": 40029, "errmsg": "invalid code"})
	default:
		f.used[q.Get("js_code")] = true
		answer(map[string]any{"openid": f.codes[q.Get("js_code")], "session_key": "c2Vzc2lvbmtleQ=="})
	}
}

func TestMiniProgramLogin(t *testing.T) {
	fake := &fakeJSCode2Session{AppID: "wx00000000000000aa", Secret: "mini-secret", used: map[string]bool{},
		codes: map[string]string{"code-a1": "oAAAA-openid-1", "code-a2": "oAAAA-openid-1", "code-b": "oBBBB-openid-2"}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	m := testkit.StartNode(t, "", "-wechat-miniprogram-appid", fake.AppID, "-wechat-miniprogram-secret", fake.Secret, "-wechat-miniprogram-base-url", srv.URL)
	base := m.URL()
	login := func(t *testing.T, code string) session {
		t.Helper()
		r := send(t, nil, base, "POST", "/api/v1/auth/wechat/miniprogram", map[string]string{"merchant": "demo", "code": code}, "", nil)
		if r.Status != 200 {
			t.Fatalf("login %s: %d %s", code, r.Status, r.Body)
		}
		var s session
		r.decode(t, &s)
		if s.Token == "" || s.Kind != "customer" {
			t.Fatalf("login %s: %s", code, r.Body)
		}
		return s
	}
	subject := func(t *testing.T, token string) int64 {
		t.Helper()
		p, err := m.App.Identity.Authenticate(context.Background(), token)
		if err != nil {
			t.Fatal(err)
		}
		return p.SubjectID
	}

	t.Run("OK", func(t *testing.T) {
		first := login(t, "code-a1")
		again := login(t, "code-a2") // the same WeChat user, a new wx.login
		other := login(t, "code-b")
		if a, b := subject(t, first.Token), subject(t, again.Token); a == 0 || a != b {
			t.Fatalf("same openid logged in as customers %d and %d", a, b)
		}
		if subject(t, first.Token) == subject(t, other.Token) {
			t.Fatal("two openids share one customer")
		}
		// the token is a viewer session the rest of the API takes
		r := send(t, nil, base, "GET", "/api/v1/auth/me", nil, first.Token, nil)
		var me session
		r.decode(t, &me)
		if r.Status != 200 || me.Kind != "customer" || me.Role != "viewer" {
			t.Fatalf("me: %d %s", r.Status, r.Body)
		}
	})
	t.Run("ErrCodeInvalid", func(t *testing.T) {
		for _, code := range []string{"made-up", "code-b"} { // unknown; already used
			r := send(t, nil, base, "POST", "/api/v1/auth/wechat/miniprogram", map[string]string{"merchant": "demo", "code": code}, "", nil)
			if p := r.problem(t, 400); p.Code != "miniprogram_code_invalid" || p.Field != "code" {
				t.Fatalf("%s: %+v", code, p)
			}
		}
	})
	t.Run("ErrUnknownMerchant", func(t *testing.T) {
		r := send(t, nil, base, "POST", "/api/v1/auth/wechat/miniprogram", map[string]string{"merchant": "nope", "code": "code-a1"}, "", nil)
		if p := r.problem(t, 400); p.Code != "unknown_merchant" {
			t.Fatalf("%+v", p)
		}
	})
	t.Run("ErrWrongSecret", func(t *testing.T) {
		wrong := testkit.StartNode(t, "", "-wechat-miniprogram-appid", fake.AppID, "-wechat-miniprogram-secret", "not-it", "-wechat-miniprogram-base-url", srv.URL)
		r := send(t, nil, wrong.URL(), "POST", "/api/v1/auth/wechat/miniprogram", map[string]string{"merchant": "demo", "code": "made-up"}, "", nil)
		if p := r.problem(t, 502); p.Code != "wechat_unavailable" {
			t.Fatalf("%+v", p)
		}
	})
	t.Run("ErrOff", func(t *testing.T) {
		off := testkit.StartNode(t, "")
		calls := fake.calls
		r := send(t, nil, off.URL(), "POST", "/api/v1/auth/wechat/miniprogram", map[string]string{"merchant": "demo", "code": "code-a1"}, "", nil)
		if p := r.problem(t, 404); p.Code != "miniprogram_off" {
			t.Fatalf("%+v", p)
		}
		if fake.calls != calls {
			t.Fatal("a node without a mini-program called WeChat")
		}
	})
}
