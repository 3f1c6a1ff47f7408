package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/notify/webpush/pushtest"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestHouseholdPushes drives the fridge path through the front door: a
// viewer links a fridge (consent required), the fridge reports three days
// of milk going down, the push job sends one push to the live room selling
// milk, the link counts the open and lands in the room, a paid milk order
// counts as ordered, the one-tap link switches pushes off, and unlinking
// stops the device's token. Bad readings and bad tokens change nothing.
// The push also reaches the viewer's browser as a Web Push (quiet hours
// off for the test; they hold it to the morning otherwise).
func TestHouseholdPushes(t *testing.T) {
	rcv := pushtest.New()
	defer rcv.Close()
	s := newShop(t, "-quiet-hours", "off")
	buyer := viewerLogin(t, s.base, "demo", "13900000951")
	var key struct {
		PublicKey string `json:"public_key"`
	}
	send(t, nil, s.base, "GET", "/api/v1/push/key", nil, "", nil).want(t, 200).decode(t, &key)
	rcv.VAPIDKey = key.PublicKey
	browser := rcv.Subscribe()
	send(t, nil, s.base, "POST", "/api/v1/me/push-subscriptions", map[string]any{"endpoint": browser.Endpoint, "keys": map[string]string{"p256dh": browser.P256DH, "auth": browser.Auth}}, buyer.Token, nil).want(t, 200)

	send(t, nil, s.base, "POST", "/api/v1/me/devices", map[string]any{"name": "厨房冰箱", "kind": "fridge", "consent": false}, buyer.Token, nil).wantProblem(t, 400, "consent_required")
	send(t, nil, s.base, "POST", "/api/v1/me/devices", map[string]any{"name": "厨房冰箱", "kind": "toaster", "consent": true}, buyer.Token, nil).wantProblem(t, 400, "invalid_device")
	var linked struct {
		Device struct {
			ID int64 `json:"id"`
		} `json:"device"`
		Token string `json:"token"`
	}
	send(t, nil, s.base, "POST", "/api/v1/me/devices", map[string]any{"name": "厨房冰箱", "kind": "fridge", "consent": true}, buyer.Token, nil).want(t, 201).decode(t, &linked)
	if linked.Token == "" || linked.Device.ID == 0 {
		t.Fatalf("link answered %+v", linked)
	}

	now := time.Now().UTC()
	readings := []map[string]any{}
	for i, lv := range []float64{0.95, 0.7, 0.45, 0.2} {
		readings = append(readings, map[string]any{"category": "乳品", "level": lv, "at": now.Add(time.Duration(i-3) * 24 * time.Hour).Add(-time.Minute)})
	}
	send(t, nil, s.base, "POST", "/api/v1/household/readings", map[string]any{"readings": readings}, "not-a-device", nil).wantProblem(t, 401, "device_unauthorized")
	bad := append([]map[string]any{}, readings...)
	bad = append(bad, map[string]any{"category": "乳品", "level": 2})
	send(t, nil, s.base, "POST", "/api/v1/household/readings", map[string]any{"readings": bad}, linked.Token, nil).wantProblem(t, 400, "invalid_reading")
	type mine struct {
		Devices   []map[string]any `json:"devices"`
		Estimates []struct {
			Category string     `json:"category"`
			Level    float64    `json:"level"`
			Rate     float64    `json:"rate_per_day"`
			RunoutAt *time.Time `json:"runout_at"`
		} `json:"estimates"`
		Pushes bool `json:"pushes"`
	}
	var m mine
	send(t, nil, s.base, "GET", "/api/v1/me/devices", nil, buyer.Token, nil).want(t, 200).decode(t, &m)
	if len(m.Devices) != 1 || len(m.Estimates) != 0 || !m.Pushes {
		t.Fatalf("after a refused batch: %+v", m)
	}
	send(t, nil, s.base, "POST", "/api/v1/household/readings", map[string]any{"readings": readings}, linked.Token, nil).want(t, 200)
	send(t, nil, s.base, "GET", "/api/v1/me/devices", nil, buyer.Token, nil).want(t, 200).decode(t, &m)
	if len(m.Estimates) != 1 || m.Estimates[0].RunoutAt == nil || m.Estimates[0].Rate < 0.2 || m.Estimates[0].Rate > 0.3 {
		t.Fatalf("estimates %+v", m.Estimates)
	}
	if left := time.Until(*m.Estimates[0].RunoutAt); left < 12*time.Hour || left > 24*time.Hour {
		t.Fatalf("milk runs out in %v, want about 19 h", left)
	}

	// The leader's job (every 30 s, never at night in China) calls this;
	// here it runs now, twice: one push.
	ctx := context.Background()
	pushes, err := s.m.App.Household.SendDue(ctx, time.Now(), 100)
	if err != nil || len(pushes) != 1 {
		t.Fatalf("push run: %v %+v", err, pushes)
	}
	if again, _ := s.m.App.Household.SendDue(ctx, time.Now(), 100); len(again) != 0 {
		t.Fatalf("second run pushed again: %+v", again)
	}
	var inbox struct {
		Messages []struct {
			Kind  string `json:"kind"`
			Title string `json:"title"`
			Body  string `json:"body"`
			URL   string `json:"url"`
		} `json:"messages"`
	}
	send(t, nil, s.base, "GET", "/api/v1/me/inbox", nil, buyer.Token, nil).want(t, 200).decode(t, &inbox)
	if len(inbox.Messages) != 1 || inbox.Messages[0].Kind != "household.low" || !strings.HasPrefix(inbox.Messages[0].URL, "/h/") || !strings.Contains(inbox.Messages[0].Body, "乳品") {
		t.Fatalf("inbox %+v", inbox)
	}
	link := inbox.Messages[0].URL
	testkit.WaitFor(t, "the Web Push", 30*time.Second, func() bool { return rcv.Count() == 1 })
	var pushed struct{ Title, URL string }
	if err := json.Unmarshal(rcv.Received()[0].Payload, &pushed); err != nil || pushed.URL != link || !strings.Contains(pushed.Title, "乳品") || rcv.Rejected() != nil {
		t.Fatalf("web push %+v %v, rejected %v", pushed, err, rcv.Rejected())
	}
	r := send(t, nil, s.base, "GET", link, nil, "", nil)
	if r.Status != 302 || r.Header.Get("Location") != "/live/demo?src=fridge" {
		t.Fatalf("push link: %d %q", r.Status, r.Header.Get("Location"))
	}

	// A paid milk order after the open counts for the push.
	var milk int64
	var products struct {
		Products []struct {
			Name string `json:"name"`
			SKUs []struct {
				ID int64 `json:"id"`
			} `json:"skus"`
		} `json:"products"`
	}
	send(t, nil, s.base, "GET", "/api/v1/products", nil, testkit.OwnerToken, nil).want(t, 200).decode(t, &products)
	for _, p := range products.Products {
		if p.Name == "低温鲜牛奶" {
			milk = p.SKUs[0].ID
		}
	}
	placePaid(t, s.m, buyer.Token, milk, s.storeID, true)
	var stats struct {
		Stats struct {
			Devices, Pushes, Opened, Ordered int64
		} `json:"stats"`
	}
	testkit.WaitFor(t, "the paid order", 10*time.Second, func() bool {
		send(t, nil, s.base, "GET", "/api/v1/household/stats?days=7", nil, testkit.OwnerToken, nil).want(t, 200).decode(t, &stats)
		return stats.Stats.Ordered == 1
	})
	if stats.Stats.Devices != 1 || stats.Stats.Pushes != 1 || stats.Stats.Opened != 1 {
		t.Fatalf("stats %+v", stats.Stats)
	}
	send(t, nil, s.base, "GET", "/api/v1/household/stats?days=0", nil, testkit.OwnerToken, nil).wantProblem(t, 400, "invalid_days")

	// One tap switches pushes off; the API switches them back on.
	if r := send(t, nil, s.base, "GET", link+"/stop", nil, "", nil); r.Status != 200 || !strings.Contains(string(r.Body), `id="household-stop"`) {
		t.Fatalf("opt-out page: %d", r.Status)
	}
	send(t, nil, s.base, "GET", "/api/v1/me/devices", nil, buyer.Token, nil).want(t, 200).decode(t, &m)
	if m.Pushes {
		t.Fatal("pushes still on after the one-tap opt-out")
	}
	send(t, nil, s.base, "PUT", "/api/v1/me/household", map[string]any{}, buyer.Token, nil).wantProblem(t, 400, "invalid_household_settings")
	send(t, nil, s.base, "PUT", "/api/v1/me/household", map[string]any{"pushes": true}, buyer.Token, nil).want(t, 200)
	if r := send(t, nil, s.base, "GET", "/h/no-such-push", nil, "", nil); r.Status != 302 || r.Header.Get("Location") != "/" {
		t.Fatalf("an unknown push link: %d %q", r.Status, r.Header.Get("Location"))
	}

	// The export has the device; unlinking ends its token.
	if r := send(t, nil, s.base, "GET", "/api/v1/me/data", nil, buyer.Token, nil).want(t, 200); !strings.Contains(string(r.Body), "厨房冰箱") {
		t.Fatal("the privacy export lacks the linked device")
	}
	send(t, nil, s.base, "DELETE", "/api/v1/me/devices/"+itoa(linked.Device.ID), nil, buyer.Token, nil).want(t, 204)
	send(t, nil, s.base, "POST", "/api/v1/household/readings", map[string]any{"readings": readings[:1]}, linked.Token, nil).wantProblem(t, 401, "device_unauthorized")
	other := viewerLogin(t, s.base, "demo", "13900000952")
	send(t, nil, s.base, "DELETE", "/api/v1/me/devices/"+itoa(linked.Device.ID), nil, other.Token, nil).wantProblem(t, 404, "unknown_device")
}

// TestHouseholdOnMyPage: on 我的 at phone size a viewer links a fridge
// (the consent box is required), is shown the device token once, and after
// the fridge reports sees each category's level and run-out; the switch
// turns pushes off.
func TestHouseholdOnMyPage(t *testing.T) {
	s := newShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900000953")
	ctx := testkit.NewContext(t, testkit.Browser(t), 90*time.Second)
	runB(t, ctx, "open 我的", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		withCookie(s.base, "sl_viewer", buyer.Token),
		chromedp.Navigate(s.base+"/me"),
		chromedp.WaitVisible(chromedp.CSS("#hh-link")))
	if txt, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#household").textContent`)); strings.Contains(txt, "null") || !strings.Contains(txt, "还没有绑定设备") {
		t.Fatalf("冰箱提醒 before linking: %q", txt)
	}
	runB(t, ctx, "link without consent", chromedp.SendKeys(`#hh-link input[name=name]`, "厨房冰箱"), chromedp.Click(`#hh-link button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS("#hh-link .error")))
	runB(t, ctx, "link with consent", chromedp.Click(`#hh-consent-box`), chromedp.Click(`#hh-link button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS("#hh-token code")))
	token, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#hh-token code").textContent`))
	now := time.Now().UTC()
	var readings []map[string]any
	for i, lv := range []float64{0.9, 0.65, 0.4, 0.15} {
		readings = append(readings, map[string]any{"category": "乳品", "level": lv, "at": now.Add(time.Duration(i-3) * 24 * time.Hour).Add(-time.Minute)})
		readings = append(readings, map[string]any{"category": "水果", "level": 0.95 - 0.05*float64(i), "at": now.Add(time.Duration(i-3) * 24 * time.Hour).Add(-time.Minute)})
	}
	send(t, nil, s.base, "POST", "/api/v1/household/readings", map[string]any{"readings": readings}, strings.TrimSpace(token), nil).want(t, 200)
	runB(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#hh-levels li")))
	runB(t, ctx, "scroll", chromedp.ScrollIntoView("#household"))
	testkit.Screenshot(t, ctx, "me-household-390")
	levels, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#hh-levels").textContent`))
	if !strings.Contains(levels, "乳品") || !strings.Contains(levels, "15%") || !strings.Contains(levels, "用完") || !strings.Contains(levels, "水果") {
		t.Fatalf("levels: %q", levels)
	}
	if wide, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); wide {
		t.Fatal("我的 scrolls sideways at 390 px")
	}
	runB(t, ctx, "pushes off", chromedp.Click(`#hh-pushes`))
	testkit.WaitFor(t, "pushes off", 10*time.Second, func() bool {
		var m struct {
			Pushes bool `json:"pushes"`
		}
		send(t, nil, s.base, "GET", "/api/v1/me/devices", nil, buyer.Token, nil).want(t, 200).decode(t, &m)
		return !m.Pushes
	})
}
