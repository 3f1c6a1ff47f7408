package web_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/notify/webpush/pushtest"
	"github.com/shelflive/shelflive/internal/testkit"
)

type prefsView struct {
	Push         bool `json:"push"`
	SMS          bool `json:"sms"`
	PushDevices  int  `json:"push_devices"`
	SMSAvailable bool `json:"sms_available"`
}

// TestWebPushReminders: two viewers subscribe to the scheduled live and
// register a browser with a local push service; when the live is 10
// minutes away each browser gets exactly one aes128gcm push, signed with
// the install's VAPID key (the receiver checks the JWT and decrypts); a
// browser whose subscription is gone (410) is forgotten; the one-tap
// opt-out link in the push turns pushes off, so the start reminder goes to
// the inbox only; a viewer who opted in to SMS gets a dev text.
func TestWebPushReminders(t *testing.T) {
	rcv := pushtest.New()
	defer rcv.Close()
	s := newShop(t, "-quiet-hours", "off")
	var key struct {
		PublicKey string `json:"public_key"`
	}
	send(t, nil, s.base, "GET", "/api/v1/push/key", nil, "", nil).want(t, 200).decode(t, &key)
	if len(key.PublicKey) != 87 {
		t.Fatalf("VAPID key %q", key.PublicKey)
	}
	rcv.VAPIDKey = key.PublicKey

	a := viewerLogin(t, s.base, "demo", "13900001451")
	b := viewerLogin(t, s.base, "demo", "13900001452")
	subA, subB := rcv.Subscribe(), rcv.Subscribe()
	register := func(token string, endpoint, p256dh, auth string) result {
		return send(t, nil, s.base, "POST", "/api/v1/me/push-subscriptions", map[string]any{"endpoint": endpoint, "expirationTime": nil, "keys": map[string]string{"p256dh": p256dh, "auth": auth}}, token, nil)
	}
	register(a.Token, subA.Endpoint, subA.P256DH, subA.Auth).want(t, 200)
	register(b.Token, subB.Endpoint, subB.P256DH, subB.Auth).want(t, 200)
	register(a.Token, subA.Endpoint, "AAAA", subA.Auth).wantProblem(t, 400, "invalid_push_subscription")
	register(a.Token, "ftp://x", subA.P256DH, subA.Auth).wantProblem(t, 400, "invalid_push_subscription")
	var p prefsView
	send(t, nil, s.base, "GET", "/api/v1/me/notify-prefs", nil, a.Token, nil).want(t, 200).decode(t, &p)
	if !p.Push || p.SMS || p.PushDevices != 1 {
		t.Fatalf("prefs %+v", p)
	}
	send(t, nil, s.base, "PUT", "/api/v1/me/notify-prefs", map[string]any{"sms": true}, b.Token, nil).want(t, 200).decode(t, &p)
	if !p.SMS || !p.Push || !p.SMSAvailable {
		t.Fatalf("sms opt-in %+v", p)
	}
	rcv.Unsubscribe(subB.Endpoint) // b's browser dropped the subscription: the push service answers 410

	for _, v := range []session{a, b} {
		send(t, nil, s.base, "PUT", "/api/v1/rooms/clearance/subscription", nil, v.Token, nil).want(t, 200)
	}
	send(t, nil, s.base, "PATCH", "/api/v1/rooms/clearance", map[string]any{"scheduled_at": time.Now().Add(10 * time.Minute).UTC()}, testkit.OwnerToken, nil).want(t, 200)
	testkit.WaitFor(t, "a's push", 30*time.Second, func() bool { return rcv.Count() >= 1 })
	testkit.WaitFor(t, "b's gone browser forgotten", 30*time.Second, func() bool {
		var q prefsView
		send(t, nil, s.base, "GET", "/api/v1/me/notify-prefs", nil, b.Token, nil).decode(t, &q)
		return q.PushDevices == 0
	})
	time.Sleep(2 * time.Second) // the sender runs every second: nothing more may come
	got := rcv.Received()
	if len(got) != 1 || got[0].Endpoint != subA.Endpoint || rcv.Rejected() != nil {
		t.Fatalf("received %d pushes (%+v), rejected %v", len(got), got, rcv.Rejected())
	}
	var msg struct {
		Title, Body, URL, Tag string
		OptOut                string `json:"opt_out"`
	}
	if err := json.Unmarshal(got[0].Payload, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.URL != "/live/clearance" || msg.Title == "" || !strings.Contains(msg.Body, "开始") || !strings.HasPrefix(msg.OptOut, "/notify/off/") || got[0].Topic == "" {
		t.Fatalf("push payload %+v topic %q", msg, got[0].Topic)
	}
	// One tap: no more pushes for a.
	page := string(send(t, nil, s.base, "GET", msg.OptOut, nil, "", nil).want(t, 200).Body)
	if !strings.Contains(page, "optout-text") {
		t.Fatal("opt-out page")
	}
	send(t, nil, s.base, "GET", "/api/v1/me/notify-prefs", nil, a.Token, nil).decode(t, &p)
	if p.Push {
		t.Fatalf("still on after the opt-out link: %+v", p)
	}
	send(t, nil, s.base, "GET", "/notify/off/1.2.push.forged", nil, "", nil).want(t, 404)
	// The start: inbox for both, no push (a opted out, b has no browser).
	send(t, nil, s.base, "POST", "/api/v1/rooms/clearance/status", map[string]any{"status": "live"}, testkit.OwnerToken, nil).want(t, 200)
	testkit.WaitFor(t, "start reminder in a's inbox", 30*time.Second, func() bool {
		var in struct {
			Messages []struct{ Kind string } `json:"messages"`
		}
		send(t, nil, s.base, "GET", "/api/v1/me/inbox", nil, a.Token, nil).decode(t, &in)
		return len(in.Messages) == 2
	})
	time.Sleep(2 * time.Second)
	if n := rcv.Count(); n != 1 {
		t.Fatalf("%d pushes after opting out, want still 1", n)
	}
}

// TestReminderChannelsOnMyPage: 我的 shows the channels (inbox always on,
// browser push, SMS opt-in) and one tap switches SMS; the service worker is
// served at the root with its scope.
func TestReminderChannelsOnMyPage(t *testing.T) {
	s := newShop(t)
	r := send(t, nil, s.base, "GET", "/sw.js", nil, "", nil).want(t, 200)
	if !strings.Contains(r.Header.Get("Content-Type"), "javascript") || r.Header.Get("Service-Worker-Allowed") != "/" || !strings.Contains(string(r.Body), "showNotification") {
		t.Fatalf("sw.js: %q %q", r.Header.Get("Content-Type"), r.Header.Get("Service-Worker-Allowed"))
	}
	v := viewerLogin(t, s.base, "demo", "13900001461")
	send(t, nil, s.base, "PUT", "/api/v1/rooms/clearance/subscription", nil, v.Token, nil).want(t, 200)
	ctx := testkit.NewContext(t, testkit.Browser(t), 60*time.Second)
	runB(t, ctx, "我的 channels", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		withCookie(s.base, "sl_viewer", v.Token), chromedp.Navigate(s.base+"/me"),
		chromedp.WaitVisible(chromedp.CSS("#ch-sms")),
		chromedp.Click(chromedp.CSS("#ch-sms")))
	testkit.WaitFor(t, "SMS on", 10*time.Second, func() bool {
		var p prefsView
		send(t, nil, s.base, "GET", "/api/v1/me/notify-prefs", nil, v.Token, nil).decode(t, &p)
		return p.SMS
	})
	runB(t, ctx, "scroll", chromedp.ScrollIntoView(chromedp.CSS("#subscriptions")))
	testkit.Screenshot(t, ctx, "me-channels")
	if sw, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`navigator.serviceWorker.getRegistration("/").then(r => !!r)`, chromedp.EvalAwaitPromise)); !sw {
		t.Error("the service worker is not registered")
	}
}
