package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestRemindersEndToEnd: a viewer subscribes (预约) to the scheduled
// clearance live; its start is moved to 10 minutes from now, so the
// running node's job writes the 15-minute reminder into the viewer's inbox,
// and another when the host goes live — once each; 我的 shows them.
func TestRemindersEndToEnd(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	buyer := viewerLogin(t, s.base, "demo", "13900000971")
	var sub struct {
		Subscribed  bool  `json:"subscribed"`
		Subscribers int64 `json:"subscribers"`
	}
	send(t, nil, s.base, "PUT", "/api/v1/rooms/clearance/subscription", nil, buyer.Token, nil).want(t, 200).decode(t, &sub)
	send(t, nil, s.base, "PUT", "/api/v1/rooms/clearance/subscription", nil, buyer.Token, nil).want(t, 200).decode(t, &sub)
	if !sub.Subscribed || sub.Subscribers != 1 {
		t.Fatalf("subscription %+v", sub)
	}
	send(t, nil, s.base, "PUT", "/api/v1/rooms/demo/subscription", nil, buyer.Token, nil).wantProblem(t, 409, "room_not_scheduled")
	send(t, nil, s.base, "PATCH", "/api/v1/rooms/clearance", map[string]any{"scheduled_at": time.Now().Add(10 * time.Minute).UTC()}, owner, nil).want(t, 200)

	type inbox struct {
		Messages []struct {
			Kind string `json:"kind"`
			URL  string `json:"url"`
		} `json:"messages"`
		Unread int64 `json:"unread"`
	}
	read := func() inbox {
		var in inbox
		send(t, nil, s.base, "GET", "/api/v1/me/inbox", nil, buyer.Token, nil).want(t, 200).decode(t, &in)
		return in
	}
	testkit.WaitFor(t, "the 15-minute reminder", 30*time.Second, func() bool { return len(read().Messages) == 1 })
	if in := read(); in.Messages[0].Kind != "live.soon" || in.Messages[0].URL != "/live/clearance" || in.Unread != 1 {
		t.Fatalf("inbox %+v", in)
	}
	send(t, nil, s.base, "POST", "/api/v1/rooms/clearance/status", map[string]any{"status": "live"}, owner, nil).want(t, 200)
	testkit.WaitFor(t, "the start reminder", 30*time.Second, func() bool { return len(read().Messages) == 2 })
	time.Sleep(6 * time.Second) // the job runs every 5 s: nothing more may come
	if in := read(); len(in.Messages) != 2 || in.Messages[0].Kind != "live.started" || in.Unread != 2 {
		t.Fatalf("inbox after the start %+v", in)
	}
	page := string(send(t, nil, s.base, "GET", "/orders", nil, buyer.Token, nil).want(t, 200).Body)
	if !strings.Contains(page, `id="inbox"`) || !strings.Contains(page, "/live/clearance") {
		t.Fatal("我的 does not show the reminders")
	}
	if in := read(); in.Unread != 0 {
		t.Fatalf("unread after opening 我的: %d", in.Unread)
	}
}

// TestSubscribeButton: a scheduled room offers 预约 on the phone; tapping it
// asks for a login first, then subscribes.
func TestSubscribeButton(t *testing.T) {
	s := newShop(t)
	ctx := testkit.NewContext(t, testkit.Browser(t), 60*time.Second)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(s.base+"/live/clearance"),
		chromedp.WaitVisible(chromedp.CSS("#subscribe-btn")),
		chromedp.Click(chromedp.CSS("#subscribe-btn")),
		chromedp.WaitVisible(chromedp.CSS("#login-phone")),
		chromedp.SendKeys(chromedp.CSS("#login-phone"), "13900000972"),
		chromedp.Click(chromedp.CSS("#otp-send")),
		chromedp.WaitVisible(chromedp.CSS("#otp-dev")),
	); err != nil {
		t.Fatal(err)
	}
	dev, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#otp-dev").textContent`))
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#login-code"), dev[len(dev)-6:]),
		chromedp.Click(chromedp.CSS("#login-go")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#subscribe-btn").dataset.on === "1"`, chromedp.WithPollingTimeout(15*time.Second)),
	); err != nil {
		t.Fatal(err)
	}
	testkit.Screenshot(t, ctx, "room-subscribed")
}
