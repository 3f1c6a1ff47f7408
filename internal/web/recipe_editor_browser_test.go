package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestRecipeEditorOnAPhone: a trusted fan (the shop made them the group's
// moderator) writes a recipe on the group page (390×844) with the editor —
// one ingredient linked to a product on sale, one not — and the post
// shows it with "buy all ingredients" for the linked one. A fan who is
// not a moderator gets no editor.
func TestRecipeEditorOnAPhone(t *testing.T) {
	s := newShop(t, "-rate-limits=false")
	owner := staffLogin(t, s.base, "owner", "shelflive-demo")
	send(t, nil, s.base, "POST", "/api/v1/groups", map[string]any{"slug": "bakers", "name": "烘焙同好会"}, owner.Token, nil).want(t, 201)
	trusted := viewerLogin(t, s.base, "demo", "13900002130")
	send(t, nil, s.base, "PUT", "/api/v1/groups/bakers/membership", nil, trusted.Token, nil).want(t, 200)
	var cust int64
	if err := s.m.DB.QueryRow(t.Context(), `SELECT customer_id FROM fan_members WHERE group_id = (SELECT id FROM fan_groups WHERE slug = 'bakers')`).Scan(&cust); err != nil {
		t.Fatal(err)
	}
	send(t, nil, s.base, "PUT", "/api/v1/groups/bakers/moderators/"+itoa(cust), map[string]any{"moderator": true}, owner.Token, nil).want(t, 204)
	browser := testkit.Browser(t)
	phone := testkit.NewContext(t, browser, 120*time.Second)
	runB(t, phone, "editor", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), withCookie(s.base, "sl_viewer", trusted.Token),
		chromedp.Navigate(s.base+"/groups/bakers"), chromedp.WaitVisible(chromedp.CSS("#recipe-toggle")),
		chromedp.Click(chromedp.CSS("#recipe-toggle")), chromedp.WaitVisible(chromedp.CSS("#ing-rows .ing-row:nth-child(2) .ing-sku")),
		chromedp.SendKeys(chromedp.CSS("#post-text"), "周末的草莓奶油杯"),
		chromedp.SendKeys(chromedp.CSS("#recipe-title"), "草莓奶油杯"),
		chromedp.SetValue(chromedp.CSS("#ing-rows .ing-row:nth-child(1) .ing-sku"), itoa(s.sku1)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#ing-rows .ing-row:nth-child(1) .ing-sku").dispatchEvent(new Event("change"))`),
		chromedp.SendKeys(chromedp.CSS("#ing-rows .ing-row:nth-child(1) .ing-amount"), "200g"),
		chromedp.SendKeys(chromedp.CSS("#ing-rows .ing-row:nth-child(2) .ing-name"), "白砂糖"),
		chromedp.SendKeys(chromedp.CSS("#ing-rows .ing-row:nth-child(2) .ing-amount"), "15g"),
		chromedp.SendKeys(chromedp.CSS("#recipe-steps"), "1. 草莓切块\n2. 奶油打发后装杯"))
	testkit.Settled(t, phone)
	testkit.Screenshot(t, phone, "recipe-01-editor")
	runB(t, phone, "post", chromedp.Click(chromedp.CSS("#post-send")), chromedp.WaitVisible(chromedp.CSS(".post .recipe .buy-all")))
	n, _ := chromedp.Run(phone, chromedp.Evaluate[int](`document.querySelectorAll(".post .recipe .ingredients li").length`))
	buyable, _ := chromedp.Run(phone, chromedp.Evaluate[int](`document.querySelectorAll(".post .recipe .ing-buy").length`))
	name, _ := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector(".post .recipe .ingredients li").textContent`))
	if n != 2 || buyable != 1 || name == "" {
		t.Fatalf("posted recipe: %d ingredients, %d to buy, first %q", n, buyable, name)
	}
	testkit.Settled(t, phone)
	testkit.Screenshot(t, phone, "recipe-02-posted")

	// a fan (member, not moderator) gets the compose form without the editor
	fan := viewerLogin(t, s.base, "demo", "13900002131")
	send(t, nil, s.base, "PUT", "/api/v1/groups/bakers/membership", nil, fan.Token, nil).want(t, 200)
	other := testkit.NewContext(t, browser, 60*time.Second)
	runB(t, other, "fan", chromedp.EmulateViewport(390, 844), withCookie(s.base, "sl_viewer", fan.Token),
		chromedp.Navigate(s.base+"/groups/bakers"), chromedp.WaitVisible(chromedp.CSS("#post-text")))
	if has, _ := chromedp.Run(other, chromedp.Evaluate[bool](`document.querySelector("#recipe-toggle") !== null`)); has {
		t.Fatal("a fan who is not a moderator got the recipe editor")
	}
}
