package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestStudioCouponOverrideBrowser: the studio's coupon form (1366×900)
// answers a title the compliance review blocks as the admin's does
// (TestAdminCouponOverrideBrowser), not with a toast: a host (in English)
// sees the findings below the form and that an owner must approve, and
// gets no override; nothing is created. The owner sees the claim
// underlined, what they typed kept, gives a reason and confirms: the room
// coupon exists as typed and the override is audited.
func TestStudioCouponOverrideBrowser(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	base, owner := m.URL(), testkit.OwnerToken
	const blocked, reason = "全网最低价 会员券", "法务已确认：本店同款商品比价有记录"
	find := func() *titledCoupon { return couponTitled(t, base, blocked) }
	var room struct {
		Room struct {
			ID int64 `json:"id"`
		} `json:"room"`
	}
	send(t, nil, base, "GET", "/api/v1/rooms/demo", nil, owner, nil).want(t, 200).decode(t, &room)
	open := func(login, next string) *testkit.Tab {
		tab := testkit.NewTab(t, browser, 120*time.Second)
		tab.Width, tab.Height = 1366, 900
		tab.StaffOpen(base, login, demo.Password, next, "#coupon-create")
		tab.Do("fill the coupon form",
			chromedp.Clear(chromedp.CSS("#coupon-title")), chromedp.SendKeys(chromedp.CSS("#coupon-title"), blocked),
			chromedp.SetValue(chromedp.CSS("#coupon-amount"), "8"),
			chromedp.SetValue(chromedp.CSS("#coupon-budget"), "50"),
			chromedp.Click(chromedp.CSS("#coupon-create")))
		return tab
	}
	// the review in view, for the screenshot
	show := func(tab *testkit.Tab) {
		tab.Do("scroll to the review", chromedp.Evaluate[chromedp.Void](`document.querySelector("#coupon-review").scrollIntoView({ block: "center" })`))
		testkit.Settled(t, tab.Ctx)
	}

	host := open("host", "/studio?room=demo&lang=en")
	host.Wait("host sees the review", `(() => { const r = document.querySelector("#coupon-review");
		return r && !r.classList.contains("hidden") && r.querySelector("mark") && r.textContent.includes("Coupon title") &&
			document.querySelector("#coupon-owner-needed").textContent.includes("An owner must approve") && !document.querySelector("#coupon-override"); })()`)
	show(host)
	testkit.Screenshot(t, host.Ctx, "studio-coupon-blocked-host-en")
	if c := find(); c != nil {
		t.Fatalf("a refused coupon was created: %+v", c)
	}

	tab := open("owner", "/studio?room=demo")
	tab.Wait("owner sees the review", `(() => { const r = document.querySelector("#coupon-review");
		return r && !r.classList.contains("hidden") && r.querySelector("mark").textContent === "全网最低价" &&
			r.querySelectorAll(".cf-finding").length > 0 && r.textContent.includes("优惠券名称") && !!document.querySelector("#coupon-override"); })()`)
	kept, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](`[document.querySelector("#coupon-title").value, document.querySelector("#coupon-amount").value, document.querySelector("#coupon-budget").value].join("|")`))
	if err != nil || kept != blocked+"|8|50" {
		t.Fatalf("the form lost what was typed: %q (%v)", kept, err)
	}
	show(tab)
	testkit.Screenshot(t, tab.Ctx, "studio-coupon-blocked-owner")
	if c := find(); c != nil {
		t.Fatalf("a refused coupon was created before the override: %+v", c)
	}

	tab.Do("override", chromedp.SendKeys(chromedp.CSS("#coupon-override-reason"), reason), chromedp.Click(chromedp.CSS("#coupon-override button")))
	tab.Wait("created", `[...document.querySelectorAll("#coupon-list li b")].some((b) => b.textContent === `+jsString(blocked)+`) && !document.querySelector("#coupon-review:not(.hidden)") &&
		document.querySelector("#coupon-list").textContent.includes("直播间专享") && !document.querySelector("#coupon-list").textContent.includes("Live room only")`)
	testkit.Screenshot(t, tab.Ctx, "studio-coupon-overridden")
	if c := find(); c == nil || c.AmountFen != 800 || c.BudgetCount != 50 || c.RoomID != room.Room.ID {
		t.Fatalf("the overridden coupon: %+v (room %d)", c, room.Room.ID)
	}

	wantCouponOverrideAudit(t, base, blocked, reason)
}
