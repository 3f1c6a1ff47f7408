package wxapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/wecom"
	"github.com/shelflive/shelflive/internal/wecom/wecomtest"
	"github.com/shelflive/shelflive/internal/wxapi"
	"github.com/shelflive/shelflive/internal/wxmsg"
	"github.com/shelflive/shelflive/internal/wxmsg/wxmsgtest"
)

// openTokens is the token cache the nodes share (sqldb.WeChatTicketStore)
// on SQLite, with a clock the test moves.
func openTokens(t *testing.T) (*sqldb.WeChatTicketStore, *time.Time) {
	t.Helper()
	db, err := sqldb.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	db.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	return &sqldb.WeChatTicketStore{DB: db}, &now
}

// wechat is a local WeChat with one app and a subscribe template, and a
// send through the shared client.
type wechat struct {
	fake   *wxmsgtest.Fake
	client *wxmsg.Client
	fetch  wxapi.Fetch
	send   func(ctx context.Context, tok string) error
}

func newWeChat(t *testing.T) *wechat {
	f := wxmsgtest.Start()
	t.Cleanup(f.Close)
	f.AddApp("wx-app", "s3cret")
	f.AddTemplate("wx-app", "tpl", "thing1")
	c := &wxmsg.Client{BaseURL: f.URL}
	w := &wechat{fake: f, client: c}
	w.fetch = func(ctx context.Context) (string, time.Duration, error) {
		return c.AccessToken(ctx, "wx-app", "s3cret")
	}
	w.send = func(ctx context.Context, tok string) error {
		f.Grant("wx-app", "o-1", "tpl")
		return c.SendSubscribe(ctx, tok, wxmsg.Subscribe{ToUser: "o-1", TemplateID: "tpl", Page: "pages/room/room", Data: map[string]wxmsg.Value{"thing1": {Value: "草莓"}}})
	}
	return w
}

// TestCall: the shared client's call with a cached token, on WeChat's and
// WeCom's fakes and the token cache the nodes share.
func TestCall(t *testing.T) {
	ctx := context.Background()
	t.Run("OneFetchWhileValid", func(t *testing.T) {
		tokens, _ := openTokens(t)
		w := newWeChat(t)
		for range 3 {
			if err := wxapi.Call(ctx, tokens, "at:wx-app", w.fetch, wxmsg.IsTokenError, func(tok string) error { return w.send(ctx, tok) }); err != nil {
				t.Fatal(err)
			}
		}
		if n := w.fake.Fetches("wx-app"); n != 1 {
			t.Fatalf("%d token fetches for 3 sends, want 1", n)
		}
	})
	t.Run("RefreshOnExpiry", func(t *testing.T) {
		tokens, now := openTokens(t)
		w := newWeChat(t)
		var used []string
		call := func() {
			t.Helper()
			if err := wxapi.Call(ctx, tokens, "at:wx-app", w.fetch, wxmsg.IsTokenError, func(tok string) error { used = append(used, tok); return w.send(ctx, tok) }); err != nil {
				t.Fatal(err)
			}
		}
		call()
		*now = now.Add(7200*time.Second - 4*time.Minute) // within five minutes of the token's end
		call()
		if n := w.fake.Fetches("wx-app"); n != 2 || used[0] == used[1] {
			t.Fatalf("%d fetches, tokens %v: an expiring token was used again", n, used)
		}
	})
	t.Run("RefreshOn40001", func(t *testing.T) {
		tokens, _ := openTokens(t)
		w := newWeChat(t)
		send := func(tok string) error { return w.send(ctx, tok) }
		if err := wxapi.Call(ctx, tokens, "at:wx-app", w.fetch, wxmsg.IsTokenError, send); err != nil {
			t.Fatal(err)
		}
		w.fake.RevokeTokens() // another fetch replaced it: WeChat answers 40001
		var codes []error
		err := wxapi.Call(ctx, tokens, "at:wx-app", w.fetch, wxmsg.IsTokenError, func(tok string) error {
			err := send(tok)
			codes = append(codes, err)
			return err
		})
		if err != nil || len(codes) != 2 || !wxapi.HasCode(codes[0], wxmsg.CodeInvalidToken) || w.fake.Fetches("wx-app") != 2 {
			t.Fatalf("after the token was replaced: %v, calls %v, %d fetches", err, codes, w.fake.Fetches("wx-app"))
		}
		if len(w.fake.Sent()) != 2 {
			t.Fatalf("sent %d, want 2", len(w.fake.Sent()))
		}
	})
	t.Run("RefreshOn42001", func(t *testing.T) {
		tokens, _ := openTokens(t)
		f := wecomtest.Start()
		defer f.Close()
		f.AddCorp("ww-corp", "s3cret")
		f.AddUser("ww-corp", "guide")
		c := &wecom.Client{BaseURL: f.URL}
		fetch := func(ctx context.Context) (string, time.Duration, error) {
			return c.AccessToken(ctx, "ww-corp", "s3cret")
		}
		var calls []error
		send := func(tok string) error {
			_, err := c.AddMsgTemplate(ctx, tok, wecom.MsgTemplate{ChatType: "single", Sender: "guide", Text: wecom.Text{Content: "直播预告"},
				Attachments: []wecom.Attachment{{MsgType: "link", Link: &wecom.Link{Title: "直播", URL: "https://shop.example/live/a"}}}})
			calls = append(calls, err)
			return err
		}
		if err := wxapi.Call(ctx, tokens, "wecom:ww-corp", fetch, wecom.IsTokenError, send); err != nil {
			t.Fatal(err)
		}
		f.RevokeTokens() // expired early: WeCom answers 42001
		calls = nil
		if err := wxapi.Call(ctx, tokens, "wecom:ww-corp", fetch, wecom.IsTokenError, send); err != nil {
			t.Fatal(err)
		}
		if len(calls) != 2 || !wxapi.HasCode(calls[0], wecom.CodeTokenExpired) || f.Fetches() != 2 || len(f.Sent()) != 2 {
			t.Fatalf("calls %v, %d fetches, %d sent", calls, f.Fetches(), len(f.Sent()))
		}
	})
	t.Run("SecondRefusalReturned", func(t *testing.T) {
		tokens, _ := openTokens(t)
		w := newWeChat(t)
		n := 0
		err := wxapi.Call(ctx, tokens, "at:wx-app", w.fetch, wxmsg.IsTokenError, func(tok string) error {
			n++
			w.fake.RevokeTokens()
			return w.send(ctx, tok)
		})
		if !wxmsg.IsTokenError(err) || n != 2 {
			t.Fatalf("a token refused twice: %v after %d calls, want the token error after 2", err, n)
		}
	})
	t.Run("OtherErrorsNotRetried", func(t *testing.T) {
		tokens, _ := openTokens(t)
		w := newWeChat(t)
		n := 0
		err := wxapi.Call(ctx, tokens, "at:wx-app", w.fetch, wxmsg.IsTokenError, func(tok string) error {
			n++
			return w.client.SendSubscribe(ctx, tok, wxmsg.Subscribe{ToUser: "o-2", TemplateID: "tpl", Page: "pages/room/room", Data: map[string]wxmsg.Value{"thing1": {Value: "x"}}})
		})
		if !wxmsg.IsRefused(err) || n != 1 || w.fake.Fetches("wx-app") != 1 {
			t.Fatalf("no grant: %v after %d calls and %d fetches", err, n, w.fake.Fetches("wx-app"))
		}
	})
	t.Run("ConcurrentCallersShareOneFetch", func(t *testing.T) {
		tokens, _ := openTokens(t)
		w := newWeChat(t)
		var fetches atomic.Int32
		slow := func(ctx context.Context) (string, time.Duration, error) {
			fetches.Add(1)
			time.Sleep(30 * time.Millisecond) // WeChat answering while the others wait
			return w.fetch(ctx)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for range 10 {
			wg.Go(func() {
				errs <- wxapi.Call(ctx, tokens, "at:wx-app", slow, wxmsg.IsTokenError, func(tok string) error { return w.send(ctx, tok) })
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if fetches.Load() != 1 || w.fake.Fetches("wx-app") != 1 || len(w.fake.Sent()) != 10 {
			t.Fatalf("10 callers: %d fetches (WeChat issued %d), %d sent", fetches.Load(), w.fake.Fetches("wx-app"), len(w.fake.Sent()))
		}
	})
	t.Run("ConcurrentRefreshesShareOneFetch", func(t *testing.T) {
		tokens, _ := openTokens(t)
		w := newWeChat(t)
		if err := wxapi.Call(ctx, tokens, "at:wx-app", w.fetch, wxmsg.IsTokenError, func(tok string) error { return w.send(ctx, tok) }); err != nil {
			t.Fatal(err)
		}
		w.fake.RevokeTokens()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if err := wxapi.Call(ctx, tokens, "at:wx-app", w.fetch, wxmsg.IsTokenError, func(tok string) error { return w.send(ctx, tok) }); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		// Each caller saw the old token refused; the first refresh fetched,
		// the others found it replaced.
		if n := w.fake.Fetches("wx-app"); n != 2 {
			t.Fatalf("%d fetches for one refused token, want 2 (the first and one refresh)", n)
		}
	})
}

// TestClient: errcode answers, HTTP failures and token answers, the same
// for WeChat and WeCom.
func TestClient(t *testing.T) {
	ctx := context.Background()
	var answer string
	var status int
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		if status != 0 {
			w.WriteHeader(status)
		}
		w.Write([]byte(answer))
	}))
	defer srv.Close()
	c := &wxapi.Client{API: "wecom", BaseURL: srv.URL + "/"}
	reset := func(a string, s int) { answer, status = a, s }

	t.Run("Errcode", func(t *testing.T) {
		reset(`{"errcode":60111,"errmsg":"invalid userid"}`, 0)
		var out struct{ MsgID string }
		err := c.Post(ctx, "/cgi-bin/x", "tok", map[string]string{"a": "b"}, &out)
		var e *wxapi.Error
		if !errors.As(err, &e) || e.Code != 60111 || e.API != "wecom" || e.Msg != "invalid userid" || err.Error() != "wecom errcode 60111: invalid userid" {
			t.Fatalf("err %v", err)
		}
		if !wxapi.HasCode(err, 1, 60111) || wxapi.HasCode(err, 42001) || wxapi.HasCode(errors.New("x"), 0) {
			t.Fatal("HasCode")
		}
		if got.URL.Query().Get("access_token") != "tok" || got.Method != http.MethodPost || got.Header.Get("Content-Type") != "application/json" || got.URL.Path != "/cgi-bin/x" {
			t.Fatalf("request %s %s %v", got.Method, got.URL, got.Header)
		}
	})
	t.Run("OK", func(t *testing.T) {
		reset(`{"errcode":0,"errmsg":"ok","msgid":"m1"}`, 0)
		var out struct {
			MsgID string `json:"msgid"`
		}
		if err := c.Post(ctx, "/cgi-bin/x", "tok", nil, &out); err != nil || out.MsgID != "m1" {
			t.Fatalf("%+v %v", out, err)
		}
		reset(`{"msgid":"m2"}`, 0) // WeChat leaves errcode out on success too
		if err := c.Get(ctx, "/cgi-bin/y", url.Values{"q": {"1"}}, &out); err != nil || out.MsgID != "m2" || got.URL.Query().Get("q") != "1" {
			t.Fatalf("%+v %v", out, err)
		}
	})
	t.Run("ErrHTTP", func(t *testing.T) {
		reset(`busy`, http.StatusServiceUnavailable)
		err := c.Get(ctx, "/cgi-bin/y", nil, nil)
		var e *wxapi.Error
		if err == nil || errors.As(err, &e) {
			t.Fatalf("503: %v", err)
		}
	})
	t.Run("ErrNotJSON", func(t *testing.T) {
		reset(`<html>`, 0)
		if err := c.Get(ctx, "/cgi-bin/y", nil, nil); err == nil {
			t.Fatal("accepted")
		}
	})
	t.Run("Token", func(t *testing.T) {
		reset(`{"access_token":"t1","expires_in":7200}`, 0)
		tok, ttl, err := c.AccessToken(ctx, "/cgi-bin/gettoken", url.Values{"corpid": {"c"}})
		if err != nil || tok != "t1" || ttl != 2*time.Hour {
			t.Fatalf("%q %v %v", tok, ttl, err)
		}
		reset(`{"errcode":40001,"errmsg":"invalid credential"}`, 0)
		_, _, err = c.AccessToken(ctx, "/cgi-bin/gettoken", nil)
		if !wxapi.HasCode(err, 40001) || err.Error() != "wecom errcode 40001: gettoken: invalid credential" {
			t.Fatalf("refused: %v", err)
		}
		reset(`{"errcode":0,"errmsg":"ok"}`, 0)
		if _, _, err = c.AccessToken(ctx, "/cgi-bin/gettoken", nil); err == nil {
			t.Fatal("an answer without a token was taken")
		}
	})
}
