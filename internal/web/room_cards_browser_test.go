package web_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/shelflive/shelflive/internal/testkit"
)

type rect struct{ X, Y, Width, Height float64 }

func (a rect) overlaps(b rect) bool {
	return a.X < b.X+b.Width && b.X < a.X+a.Width && a.Y < b.Y+b.Height && b.Y < a.Y+a.Height
}

// roomCards measures the room's open cards (coupon, 福袋, poll), their
// column and the pinned product on the phone page.
const roomCardsJS = `JSON.stringify((() => {
  const r = (el) => { const b = el.getBoundingClientRect(); return { X: b.x, Y: b.y, Width: b.width, Height: b.height }; };
  const cards = {};
  for (const id of ["coupon-card", "draw-card", "poll"]) { const el = document.getElementById(id); if (!el.classList.contains("hidden")) cards[id] = r(el); }
  const pinned = document.getElementById("pinned");
  return { cards, column: r(document.getElementById("room-cards")), pinned: pinned.classList.contains("hidden") ? null : r(pinned), vw: innerWidth, vh: innerHeight };
})())`

// TestRoomCardsDoNotOverlap: on a phone (390×844) the 福袋 card and the
// poll card — and the coupon card with them — open at once sit one above
// the other: no two overlap, each is whole on screen inside the card
// column, and none covers the pinned product.
func TestRoomCardsDoNotOverlap(t *testing.T) {
	s := newShop(t, "-rate-limits=false")
	buyer := viewerLogin(t, s.base, "demo", "13900001902")
	owner := staffLogin(t, s.base, "owner", "shelflive-demo")
	var prize struct{ ID int64 }
	send(t, nil, s.base, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "福袋奖品券", "room": "demo", "amount_fen": 300, "budget_count": 10}, owner.Token, nil).want(t, 201).decode(t, &prize)
	send(t, nil, s.base, "POST", "/api/v1/rooms/demo/draws", map[string]any{"title": "草莓福袋", "entry": "like", "winners": 1, "prize_kind": "coupon", "prize_coupon_id": prize.ID, "minutes": 30}, owner.Token, nil).want(t, 201)
	send(t, nil, s.base, "POST", "/api/v1/rooms/demo/polls", map[string]any{"question": "下一款想看哪个口味？", "options": []string{"草莓", "芒果", "榴莲", "蓝莓"}}, owner.Token, nil).want(t, 201)

	browser := testkit.Browser(t)
	phone := testkit.NewContext(t, browser, 90*time.Second)
	check := func(state string, want int) {
		t.Helper()
		testkit.Settled(t, phone)
		raw, err := chromedp.Run(phone, chromedp.Evaluate[string](roomCardsJS))
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Cards  map[string]rect
			Column rect
			Pinned *rect
			VW, VH float64
		}
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Cards) != want {
			t.Fatalf("%s: %d cards open, want %d: %s", state, len(m.Cards), want, raw)
		}
		for id, a := range m.Cards {
			if a.Width < 100 || a.Height < 30 || a.X < 0 || a.X+a.Width > m.VW || a.Y < 0 || a.Y+a.Height > m.Column.Y+m.Column.Height+0.5 {
				t.Fatalf("%s: %s is not whole on screen inside the card column: %s", state, id, raw)
			}
			if m.Pinned != nil && a.overlaps(*m.Pinned) {
				t.Fatalf("%s: %s covers the pinned product: %s", state, id, raw)
			}
			for id2, b := range m.Cards {
				if id < id2 && a.overlaps(b) {
					t.Fatalf("%s: %s and %s overlap: %s", state, id, id2, raw)
				}
			}
		}
		testkit.Screenshot(t, phone, "room-cards-"+state)
	}
	runB(t, phone, "room", chromedp.Emulate(device.IPhone12Pro), withCookie(s.base, "sl_viewer", buyer.Token),
		chromedp.Navigate(s.base+"/live/demo"), chromedp.WaitVisible(chromedp.CSS("#draw-card #draw-enter")), chromedp.WaitVisible(chromedp.CSS("#poll .poll-opt")))
	check("01-draw-and-poll", 2)

	// The host pushes a coupon card: three cards, still none on another.
	var card struct{ ID int64 }
	send(t, nil, s.base, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "直播间立减5元", "room": "demo", "amount_fen": 500, "budget_count": 100}, owner.Token, nil).want(t, 201).decode(t, &card)
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/coupons/%d/push", card.ID), nil, owner.Token, nil).want(t, 200)
	runB(t, phone, "coupon card", chromedp.WaitVisible(chromedp.CSS("#coupon-card #coupon-grab")))
	check("02-coupon-draw-and-poll", 3)

	// A pre-sale chip and a trial chip below it (rooms may have both): the
	// column starts below them. The chips are filled as their scripts do.
	runB(t, phone, "chips", chromedp.Evaluate[chromedp.Void](`(() => {
		SL.presale.update({ id: 1, title: "草莓酸奶共创款", percent: 73, status: "open", committed: 73, moq: 100 });
		const tr = document.getElementById("trial-chip");
		tr.replaceChildren(...["新品内测 · 免费试用", "草莓酸奶杯 新品内测", "5 份名额 · 2 人已申请 · 去申请 ›"].map((x) => { const s = document.createElement("span"); s.textContent = x; return s; }));
		tr.classList.add("below"); tr.classList.remove("hidden");
		SL.placeRoomCards();
	})()`))
	testkit.Settled(t, phone)
	raw, err := chromedp.Run(phone, chromedp.Evaluate[string](`JSON.stringify(["presale-chip", "trial-chip", "coupon-card", "draw-card", "poll"].map((id) => {
		const b = document.getElementById(id).getBoundingClientRect(); return { X: b.x, Y: b.y, Width: b.width, Height: b.height }; }))`))
	if err != nil {
		t.Fatal(err)
	}
	var rs []rect
	if err := json.Unmarshal([]byte(raw), &rs); err != nil {
		t.Fatal(err)
	}
	for i, chip := range rs[:2] {
		for _, card := range rs[2:] {
			if chip.Height == 0 || chip.overlaps(card) {
				t.Fatalf("chip %d and a card overlap (or the chip is not shown): %s", i, raw)
			}
		}
	}
	testkit.Screenshot(t, phone, "room-cards-03-under-two-chips")
}
