package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/shelflive/shelflive/internal/payment/wechatpay"
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

// TestMiniProgramPayment: a viewer logged in through the mini-program pays
// with WeChat Pay's JSAPI order made for the mini-program's appid and their
// mini-program openid; the parameters are signed over that appid (what
// wx.requestPayment checks) and the callback, which carries that appid,
// marks the order paid.
func TestMiniProgramPayment(t *testing.T) {
	jscode := &fakeJSCode2Session{AppID: "wx00000000000000mp", Secret: "mini-secret", used: map[string]bool{},
		codes: map[string]string{"code-1": "oMINI-openid-1"}}
	srv := httptest.NewServer(jscode)
	defer srv.Close()
	s := newWeChatShop(t, "-wechat-miniprogram-appid", jscode.AppID, "-wechat-miniprogram-secret", jscode.Secret, "-wechat-miniprogram-base-url", srv.URL)
	s.fake.BindAppID(s.mchid, jscode.AppID)
	r := send(t, nil, s.base, "POST", "/api/v1/auth/wechat/miniprogram", map[string]string{"merchant": "demo", "code": "code-1"}, "", nil)
	var mini session
	r.decode(t, &mini)
	if r.Status != 200 || mini.Token == "" {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}

	t.Run("OK", func(t *testing.T) {
		o, p := s.order(t, mini.Token, "miniprogram")
		j := p.Action.JSAPI
		if p.Method != "miniprogram" || p.Action.Method != "miniprogram" || j["appId"] != jscode.AppID || !strings.HasPrefix(j["package"], "prepay_id=") || j["signType"] != "RSA" {
			t.Fatalf("pay answer: %+v", p)
		}
		if err := wechatpay.VerifyMessage(s.acct.Pub, j["paySign"], jscode.AppID, j["timeStamp"], j["nonceStr"], j["package"]); err != nil {
			t.Fatalf("paySign does not verify over the mini-program's appid: %v", err)
		}
		vo, ok := s.fake.Order(s.mchid, p.Intent)
		if !ok || vo.Kind != "jsapi" || vo.AppID != jscode.AppID || vo.OpenID != "oMINI-openid-1" || vo.Total != o.TotalFen {
			t.Fatalf("vendor order: %+v", vo)
		}
		if st, err := s.fake.Pay(s.mchid, p.Intent); err != nil || st != 200 {
			t.Fatalf("callback: %d %v", st, err)
		}
		var got orderView
		send(t, nil, s.base, "GET", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10), nil, mini.Token, nil).decode(t, &got)
		if got.Status != "paid" || len(got.PickupCode) != 8 {
			t.Fatalf("after the callback: %+v", got)
		}
	})
	t.Run("ErrOpenIDRequired", func(t *testing.T) {
		// a phone account never logged in to the mini-program has no openid there
		buyer := viewerLogin(t, s.base, "demo", "13900000062")
		r := send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), buyer.Token, nil)
		var o orderView
		r.decode(t, &o)
		send(t, nil, s.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/pay", map[string]string{"provider": "wechatpay", "method": "miniprogram"}, buyer.Token, nil).
			wantProblem(t, 409, "openid_required")
	})
	t.Run("ErrOff", func(t *testing.T) {
		off := newWeChatShop(t) // WeChat Pay, but no mini-program on this install
		buyer := viewerLogin(t, off.base, "demo", "13900000063")
		r := send(t, nil, off.base, "POST", "/api/v1/orders", off.pickup([2]int64{off.sku1, 1}), buyer.Token, nil)
		var o orderView
		r.decode(t, &o)
		send(t, nil, off.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/pay", map[string]string{"provider": "wechatpay", "method": "miniprogram"}, buyer.Token, nil).
			wantProblem(t, 404, "miniprogram_off")
	})
}

// TestMiniProgramSubscribe: the mini-program reads its template ids from
// the server and hands back what wx.requestSubscribeMessage answered; each
// accept is one message the viewer allowed, per template; erase drops them.
func TestMiniProgramSubscribe(t *testing.T) {
	fake := &fakeJSCode2Session{AppID: "wx00000000000000sb", Secret: "mini-secret", used: map[string]bool{},
		codes: map[string]string{"code-s": "oSUB-openid"}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	m := testkit.StartNode(t, "", "-wechat-miniprogram-appid", fake.AppID, "-wechat-miniprogram-secret", fake.Secret, "-wechat-miniprogram-base-url", srv.URL,
		"-wechat-miniprogram-templates", "live_start=TMPL-live-001,order_ready=TMPL-ready-002")
	base := m.URL()
	var cfg struct {
		AppID     string            `json:"appid"`
		Templates map[string]string `json:"templates"`
	}
	send(t, nil, base, "GET", "/api/v1/miniprogram/config", nil, "", nil).decode(t, &cfg)
	if cfg.AppID != fake.AppID || cfg.Templates["live_start"] != "TMPL-live-001" || cfg.Templates["order_ready"] != "TMPL-ready-002" {
		t.Fatalf("config: %+v", cfg)
	}
	r := send(t, nil, base, "POST", "/api/v1/auth/wechat/miniprogram", map[string]string{"merchant": "demo", "code": "code-s"}, "", nil)
	var mini session
	r.decode(t, &mini)
	type grant struct {
		Kind       string `json:"kind"`
		TemplateID string `json:"template_id"`
		Credits    int    `json:"credits"`
	}
	credits := func(t *testing.T, r result) map[string]int {
		t.Helper()
		var out struct {
			Grants []grant `json:"grants"`
		}
		r.decode(t, &out)
		if r.Status != 200 || len(out.Grants) != 2 {
			t.Fatalf("grants: %d %s", r.Status, r.Body)
		}
		c := map[string]int{}
		for _, g := range out.Grants {
			c[g.Kind] = g.Credits
		}
		return c
	}
	subscribe := func(results map[string]string) result {
		return send(t, nil, base, "POST", "/api/v1/me/miniprogram/subscriptions", map[string]any{"results": results}, mini.Token, nil)
	}

	t.Run("OK", func(t *testing.T) {
		if c := credits(t, send(t, nil, base, "GET", "/api/v1/me/miniprogram/subscriptions", nil, mini.Token, nil)); c["live_start"] != 0 || c["order_ready"] != 0 {
			t.Fatalf("before: %v", c)
		}
		if c := credits(t, subscribe(map[string]string{"TMPL-live-001": "accept", "TMPL-ready-002": "reject"})); c["live_start"] != 1 || c["order_ready"] != 0 {
			t.Fatalf("after one accept: %v", c)
		}
		if c := credits(t, subscribe(map[string]string{"TMPL-live-001": "accept", "TMPL-ready-002": "accept"})); c["live_start"] != 2 || c["order_ready"] != 1 {
			t.Fatalf("after two more: %v", c)
		}
	})
	t.Run("ErrUnknownTemplate", func(t *testing.T) {
		subscribe(map[string]string{"TMPL-someone-elses": "accept"}).wantProblem(t, 400, "unknown_template")
	})
	t.Run("ErrAnswer", func(t *testing.T) {
		subscribe(map[string]string{"TMPL-live-001": "yes please"}).wantProblem(t, 400, "invalid_subscribe_answer")
	})
	t.Run("ErrNotLoggedIn", func(t *testing.T) {
		send(t, nil, base, "GET", "/api/v1/me/miniprogram/subscriptions", nil, "", nil).wantProblem(t, 401, "login_required")
	})
	t.Run("EraseDropsGrants", func(t *testing.T) {
		if r := send(t, nil, base, "DELETE", "/api/v1/me", nil, mini.Token, nil); r.Status/100 != 2 {
			t.Fatalf("erase: %d %s", r.Status, r.Body)
		}
		var n int
		if err := m.DB.QueryRow(t.Context(), `SELECT COUNT(*) FROM wechat_mini_grants`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("grants left after erase: %d %v", n, err)
		}
	})
}
