package web_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/draws"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestCouponAndDrawBrowser: the host creates a 直播间专享 coupon in the
// studio and pushes its card with the studio button; a viewer on a phone
// (390×844) grabs it from the room, opens the pinned product, sees the
// saving on the buy sheet, orders and pays 5 元 less. Then the host opens
// a like 福袋 in the studio: the phone shows its commitment, the viewer
// enters, the host draws, and the phone shows the winner and the seed,
// whose SHA-256 is the commitment shown before.
func TestCouponAndDrawBrowser(t *testing.T) {
	s := newShop(t, "-rate-limits=false")
	buyer := viewerLogin(t, s.base, "demo", "13900001801")
	owner := staffLogin(t, s.base, "owner", "shelflive-demo")
	browser := testkit.Browser(t)

	desk := testkit.NewContext(t, browser, 150*time.Second)
	runB(t, desk, "studio coupon", chromedp.EmulateViewport(1440, 900), withCookie(s.base, "sl_staff", owner.Token),
		chromedp.Navigate(s.base+"/studio?room=demo"), chromedp.WaitVisible(chromedp.CSS("#coupon-create")),
		chromedp.Click(chromedp.CSS("#coupon-create")), chromedp.WaitVisible(chromedp.CSS(`[id^="coupon-push-"]`)),
		chromedp.Click(chromedp.CSS(`[id^="coupon-push-"]`)),
		chromedp.Poll[chromedp.Void](`!document.querySelector('[id^="coupon-push-"]') && document.querySelector("#coupon-list").textContent.includes("停止领取")`, chromedp.WithPollingTimeout(20*time.Second)))
	testkit.Screenshot(t, desk, "coupon-00-studio")

	phone := testkit.NewContext(t, browser, 150*time.Second)
	runB(t, phone, "grab", chromedp.Emulate(device.IPhone12Pro), withCookie(s.base, "sl_viewer", buyer.Token),
		chromedp.Navigate(s.base+"/live/demo"), chromedp.WaitEnabled(chromedp.CSS("#coupon-grab")),
		chromedp.Click(chromedp.CSS("#coupon-grab")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#coupon-grab").disabled && document.querySelector("#coupon-grab").textContent === "已领取"`, chromedp.WithPollingTimeout(20*time.Second)))
	testkit.Settled(t, phone)
	testkit.Screenshot(t, phone, "coupon-01-grabbed")

	runB(t, phone, "buy sheet", chromedp.Click(chromedp.CSS("#pinned #buy-btn")), chromedp.WaitVisible(chromedp.CSS("#sheet-saving")),
		chromedp.WaitEnabled(chromedp.CSS("#confirm-order")))
	saving, _ := chromedp.Run(phone, chromedp.Text(chromedp.CSS("#sheet-saving")))
	total, _ := chromedp.Run(phone, chromedp.Text(chromedp.CSS("#sheet-total")))
	if saving != "-¥5.00" || !strings.Contains(total, "¥") {
		t.Fatalf("buy sheet: saving %q total %q", saving, total)
	}
	testkit.Screenshot(t, phone, "coupon-02-buy-sheet")
	runB(t, phone, "order", chromedp.Click(chromedp.CSS("#confirm-order")), chromedp.WaitVisible(chromedp.CSS("#confirm-pay")))
	runB(t, phone, "pay", chromedp.Click(chromedp.CSS("#confirm-pay")))
	var mine struct {
		Orders []struct {
			Status      string `json:"status"`
			TotalFen    int64  `json:"total_fen"`
			DiscountFen int64  `json:"discount_fen"`
			Lines       []struct {
				TotalFen int64 `json:"total_fen"`
			} `json:"lines"`
		} `json:"orders"`
	}
	testkit.WaitFor(t, "the order paid", 20*time.Second, func() bool {
		send(t, nil, s.base, "GET", "/api/v1/me/orders", nil, buyer.Token, nil).want(t, 200).decode(t, &mine)
		return len(mine.Orders) == 1 && mine.Orders[0].Status == "paid"
	})
	o := mine.Orders[0]
	if o.DiscountFen != 500 || o.TotalFen != o.Lines[0].TotalFen-500 || !strings.HasPrefix(total, fmt.Sprintf("¥%.2f", float64(o.TotalFen)/100)) {
		t.Fatalf("paid order %+v, the sheet said %q", o, total)
	}

	// 福袋: commitment first, then the winner and the seed.
	runB(t, desk, "studio draw", chromedp.WaitVisible(chromedp.CSS("#draw-start")),
		chromedp.SetValue(chromedp.CSS("#draw-entry"), "like"), chromedp.SetValue(chromedp.CSS("#draw-winners"), "1"),
		chromedp.Click(chromedp.CSS("#draw-start")), chromedp.WaitVisible(chromedp.CSS("#draw-now")))
	runB(t, phone, "room again", chromedp.Navigate(s.base+"/live/demo"), chromedp.WaitVisible(chromedp.CSS("#draw-commitment")), chromedp.WaitEnabled(chromedp.CSS("#draw-enter")))
	commitment, _ := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#draw-commitment").title`))
	if len(commitment) != 64 {
		t.Fatalf("commitment on the card: %q", commitment)
	}
	runB(t, phone, "enter", chromedp.Click(chromedp.CSS("#draw-enter")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#draw-entrants").textContent.startsWith("1")`, chromedp.WithPollingTimeout(20*time.Second)))
	testkit.Settled(t, phone)
	testkit.Screenshot(t, phone, "draw-00-open")
	runB(t, desk, "draw now", chromedp.Click(chromedp.CSS("#draw-now")), chromedp.WaitVisible(chromedp.CSS("#draw-start")))
	runB(t, phone, "winners", chromedp.WaitVisible(chromedp.CSS("#draw-seed")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#draw-winners").textContent.includes("139****1801")`, chromedp.WithPollingTimeout(20*time.Second)))
	seed, _ := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#draw-seed").title`))
	if c, err := draws.Commitment(seed); err != nil || c != commitment {
		t.Fatalf("seed %q hashes to %q, the card showed %q before", seed, c, commitment)
	}
	testkit.Settled(t, phone)
	testkit.Screenshot(t, phone, "draw-01-drawn")

	// A 福袋 whose prize is a zero-price item, set in the studio: the
	// winner's order is paid at 0 and picked up at the chosen store.
	runB(t, desk, "studio free-item draw", chromedp.WaitVisible(chromedp.CSS("#draw-start")),
		chromedp.SetValue(chromedp.CSS("#draw-entry"), "like"), chromedp.SetValue(chromedp.CSS("#draw-winners"), "1"),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#draw-prize-kind"); s.value = "free_sku"; s.dispatchEvent(new Event("change")); })()`),
		chromedp.WaitVisible(chromedp.CSS("#draw-prize-sku")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#draw-prize-store").options.length > 0`, chromedp.WithPollingTimeout(20*time.Second)))
	testkit.Screenshot(t, desk, "draw-02-studio-free-item")
	runB(t, desk, "open free-item draw", chromedp.Click(chromedp.CSS("#draw-start")), chromedp.WaitVisible(chromedp.CSS("#draw-now")))
	// The card may render again as the room's events arrive: click whatever
	// button is there once it is enabled.
	runB(t, phone, "enter free-item draw", chromedp.Navigate(s.base+"/live/demo"),
		chromedp.Poll[chromedp.Void](`(() => { const b = document.querySelector("#draw-enter"); if (!b || b.disabled) return false; b.click(); return true; })()`, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Poll[chromedp.Void](`document.querySelector("#draw-entrants").textContent.startsWith("1")`, chromedp.WithPollingTimeout(20*time.Second)))
	runB(t, desk, "draw the free item", chromedp.Click(chromedp.CSS("#draw-now")), chromedp.WaitVisible(chromedp.CSS("#draw-start")))
	testkit.WaitFor(t, "the prize order", 20*time.Second, func() bool {
		send(t, nil, s.base, "GET", "/api/v1/me/orders", nil, buyer.Token, nil).want(t, 200).decode(t, &mine)
		for _, o := range mine.Orders {
			if o.TotalFen == 0 && o.Status == "paid" {
				return true
			}
		}
		return false
	})

	// The admin's cost report counts the paid order's saving.
	runB(t, desk, "admin report", chromedp.Navigate(s.base+"/admin#coupons"), chromedp.WaitVisible(chromedp.CSS("#coupon-total")))
	rep, _ := chromedp.Run(desk, chromedp.Text(chromedp.CSS("#coupon-total")))
	if !strings.Contains(rep, "¥5.00") {
		t.Fatalf("admin coupon report: %q", rep)
	}
	testkit.Screenshot(t, desk, "coupon-03-admin-report")

	// 定向发券: the buyer joins the membership; the admin issues a whole-shop
	// coupon to the members — once, however often the form is submitted.
	send(t, nil, s.base, "POST", "/api/v1/me/membership", nil, buyer.Token, nil).want(t, 201)
	send(t, nil, s.base, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "会员专享立减3元", "amount_fen": 300, "budget_count": 50}, owner.Token, nil).want(t, 201)
	runB(t, desk, "admin segment issue", chromedp.Navigate(s.base+"/admin?again=1#coupons"), chromedp.WaitVisible(chromedp.CSS("#issue-go")),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#issue-coupon"); s.value = [...s.options].find((o) => o.text.startsWith("会员专享立减3元")).value; s.dispatchEvent(new Event("change")); })()`),
		chromedp.Click(chromedp.CSS("#issue-go")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#issue-result").textContent.includes("已发放给 1 位顾客")`, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Click(chromedp.CSS("#issue-go")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#issue-result").textContent.includes("没有重复发放")`, chromedp.WithPollingTimeout(20*time.Second)))
	testkit.Screenshot(t, desk, "coupon-04-admin-segment-issue")
	var inbox struct {
		Messages []struct{ Kind, Title string } `json:"messages"`
	}
	send(t, nil, s.base, "GET", "/api/v1/me/inbox", nil, buyer.Token, nil).want(t, 200).decode(t, &inbox)
	n := 0
	for _, m := range inbox.Messages {
		if m.Kind == "coupon.issued" && strings.Contains(m.Title, "会员专享立减3元") {
			n++
		}
	}
	var wallet struct {
		Claims []struct {
			Coupon struct{ Title string } `json:"coupon"`
		} `json:"claims"`
	}
	send(t, nil, s.base, "GET", "/api/v1/me/coupons", nil, buyer.Token, nil).want(t, 200).decode(t, &wallet)
	got := 0
	for _, c := range wallet.Claims {
		if c.Coupon.Title == "会员专享立减3元" {
			got++
		}
	}
	if n != 1 || got != 1 {
		t.Fatalf("after two submits: %d inbox messages and %d coupons in the wallet, want 1 and 1 (%+v)", n, got, inbox)
	}
}

// TestDrawPrizeStoreOfStoreHost: the studio's 福袋 form offers a host bound
// to one store only that store as a free item's pickup store (the server
// refuses any other with 400 unknown_store), though the item is in stock at
// another store too, which the owner is offered; the host's draw opens.
func TestDrawPrizeStoreOfStoreHost(t *testing.T) {
	s := newShop(t, "-rate-limits=false")
	owner := testkit.OwnerToken
	var stores struct{ Stores []struct{ ID int64 } }
	send(t, nil, s.base, "GET", "/api/v1/stores", nil, owner, nil).decode(t, &stores)
	if len(stores.Stores) < 2 {
		t.Fatalf("demo data: stores %+v", stores.Stores)
	}
	mine, other := stores.Stores[0].ID, stores.Stores[1].ID
	now := time.Now().UTC()
	for i, st := range []int64{mine, other} {
		var lot struct {
			ID int64 `json:"id"`
		}
		send(t, nil, s.base, "POST", "/api/v1/lots", map[string]any{"sku_id": s.sku1, "code": "DRAW-" + strconv.Itoa(i), "produced_at": now.Add(-24 * time.Hour), "expires_at": now.Add(10 * 24 * time.Hour)}, owner, nil).want(t, 201).decode(t, &lot)
		send(t, nil, s.base, "PUT", "/api/v1/stock", map[string]any{"store_id": st, "lot_id": lot.ID, "on_hand": 5}, owner, nil).want(t, 204)
	}
	send(t, nil, s.base, "POST", "/api/v1/rooms", map[string]any{"slug": "draw-mine", "title": "本店直播", "store_id": mine}, owner, nil).want(t, 201)
	send(t, nil, s.base, "POST", "/api/v1/staff", map[string]any{"username": "draw-host", "name": "门店主播", "role": "host", "store_id": mine, "password": "Store-Host-2468"}, owner, nil).want(t, 201)

	browser := testkit.Browser(t)
	offered := func(login, password string) []int64 {
		t.Helper()
		tab := testkit.NewTab(t, browser, 90*time.Second)
		tab.Width, tab.Height = 1440, 900
		tab.StaffOpen(s.base, login, password, "/studio?room=draw-mine", "#draw-start")
		tab.Do(login+" picks a free item", chromedp.SetValue(chromedp.CSS("#draw-entry"), "like"),
			chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#draw-prize-kind"); s.value = "free_sku"; s.dispatchEvent(new Event("change"));
				const k = document.querySelector("#draw-prize-sku"); k.value = "`+itoa(s.sku1)+`"; k.dispatchEvent(new Event("change")); })()`),
			chromedp.Poll[chromedp.Void](`document.querySelector("#draw-prize-store").options.length > 0`, chromedp.WithPollingTimeout(20*time.Second)))
		testkit.Settled(t, tab.Ctx)
		testkit.Screenshot(t, tab.Ctx, "draw-prize-store-"+login)
		ids, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[[]int64](`[...document.querySelector("#draw-prize-store").options].map((o) => Number(o.value))`))
		if err != nil {
			t.Fatal(err)
		}
		if login == "draw-host" {
			tab.Do("the host opens the draw", chromedp.Click(chromedp.CSS("#draw-start")), chromedp.WaitVisible(chromedp.CSS("#draw-now")))
		}
		return ids
	}
	if ids := offered("owner", demo.Password); !slices.Contains(ids, mine) || !slices.Contains(ids, other) {
		t.Fatalf("the owner is offered stores %v, want %d and %d among them", ids, mine, other)
	}
	if ids := offered("draw-host", "Store-Host-2468"); len(ids) != 1 || ids[0] != mine {
		t.Fatalf("the store's host is offered stores %v, want only theirs (%d)", ids, mine)
	}
	var list struct {
		Draws []struct {
			PrizeStoreID int64 `json:"prize_store_id"`
		}
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/draw-mine/draws", nil, "", nil).want(t, 200).decode(t, &list)
	if len(list.Draws) != 1 || list.Draws[0].PrizeStoreID != mine {
		t.Fatalf("draws %+v, want the host's at store %d", list.Draws, mine)
	}
}
