package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

type memberCard struct {
	Number   string `json:"number"`
	Points   int64  `json:"points"`
	SpendFen int64  `json:"spend_fen"`
	TierRank int    `json:"tier_rank"`
	Tier     struct {
		Name string `json:"name"`
	} `json:"tier"`
}

type membershipView struct {
	Member bool        `json:"member"`
	Card   *memberCard `json:"card"`
	Ledger []struct {
		Kind    string `json:"kind"`
		Delta   int64  `json:"delta"`
		OrderID int64  `json:"order_id"`
	} `json:"ledger"`
}

// myCard waits until the buyer's card satisfies ok (points are settled
// right after the payment commits) and returns it.
func myCard(t *testing.T, s *demoShop, token string, ok func(v membershipView) bool) membershipView {
	t.Helper()
	var v membershipView
	deadline := time.Now().Add(10 * time.Second)
	for {
		v = membershipView{}
		send(t, nil, s.base, "GET", "/api/v1/me/membership", nil, token, nil).want(t, 200).decode(t, &v)
		if ok(v) || time.Now().After(deadline) {
			return v
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMembershipPointsAndPrices: a viewer joins (once) and gets a number;
// a member pays the member price, a non-member the regular one; a paid
// order earns its points once, a half refund takes half of them back;
// points are redeemed at the counter once per key, never below zero; bad
// programmes and prices are refused.
func TestMembershipPointsAndPrices(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	var prog map[string]any
	send(t, nil, s.base, "GET", "/api/v1/members/program", nil, owner, nil).want(t, 200).decode(t, &prog)
	send(t, nil, s.base, "PUT", "/api/v1/members/program", map[string]any{"basis": "spend", "points_per_yuan": 2, "tiers": []map[string]any{{"name": "普通", "threshold": 0}, {"name": "高级", "threshold": 0}}}, owner, nil).wantProblem(t, 400, "member_program_invalid")
	send(t, nil, s.base, "PUT", "/api/v1/members/program", map[string]any{"basis": "spend", "points_per_yuan": 2, "tiers": []map[string]any{{"name": "普通会员", "name_en": "Member", "threshold": 0}, {"name": "金卡", "name_en": "Gold", "threshold": 5000}}}, owner, nil).want(t, 200)

	var room struct {
		Products []struct {
			SKUs []struct {
				ID       int64 `json:"id"`
				PriceFen int64 `json:"price_fen"`
			} `json:"skus"`
		} `json:"products"`
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo", nil, "", nil).want(t, 200).decode(t, &room)
	regular := int64(0)
	for _, p := range room.Products {
		for _, k := range p.SKUs {
			if k.ID == s.sku1 {
				regular = k.PriceFen
			}
		}
	}
	if regular < 200 {
		t.Fatalf("sku %d price %d", s.sku1, regular)
	}
	memberPrice := regular - 100
	send(t, nil, s.base, "PUT", "/api/v1/members/prices", map[string]any{"sku_id": s.sku1, "member_price_fen": regular + 1}, owner, nil).wantProblem(t, 400, "member_price_invalid")
	send(t, nil, s.base, "PUT", "/api/v1/members/prices", map[string]any{"sku_id": s.sku1, "member_price_fen": memberPrice}, owner, nil).want(t, 200)

	buyer := viewerLogin(t, s.base, "demo", "13900000961")
	if v := myCard(t, s, buyer.Token, func(membershipView) bool { return true }); v.Member || v.Card != nil {
		t.Fatalf("before joining: %+v", v)
	}
	var o orderView
	send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), buyer.Token, map[string]string{"Idempotency-Key": "m-1"}).want(t, 201).decode(t, &o)
	if o.TotalFen != regular {
		t.Fatalf("a non-member paid %d, want %d", o.TotalFen, regular)
	}

	var joined struct {
		Joined bool       `json:"joined"`
		Card   memberCard `json:"card"`
	}
	send(t, nil, s.base, "POST", "/api/v1/me/membership", map[string]any{"source": "room:demo"}, buyer.Token, nil).want(t, 201).decode(t, &joined)
	if !joined.Joined || len(joined.Card.Number) != 8 || joined.Card.Tier.Name != "普通会员" {
		t.Fatalf("join: %+v", joined)
	}
	var again struct {
		Joined bool       `json:"joined"`
		Card   memberCard `json:"card"`
	}
	send(t, nil, s.base, "POST", "/api/v1/me/membership", nil, buyer.Token, nil).want(t, 200).decode(t, &again)
	if again.Joined || again.Card.Number != joined.Card.Number {
		t.Fatalf("second join: %+v", again)
	}

	send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 4}), buyer.Token, map[string]string{"Idempotency-Key": "m-2"}).want(t, 201).decode(t, &o)
	if o.TotalFen != 4*memberPrice {
		t.Fatalf("a member paid %d, want 4 × %d", o.TotalFen, memberPrice)
	}
	payDev(t, s, buyer.Token, o.ID)
	want := o.TotalFen / 100 * 2
	v := myCard(t, s, buyer.Token, func(v membershipView) bool { return v.Card != nil && v.Card.Points == want })
	if v.Card.Points != want || v.Card.SpendFen != o.TotalFen || len(v.Ledger) != 1 || v.Ledger[0].Kind != "earn" || v.Ledger[0].OrderID != o.ID {
		t.Fatalf("after paying %d fen: %+v", o.TotalFen, v)
	}
	if (o.TotalFen >= 5000) != (v.Card.TierRank == 1) {
		t.Fatalf("tier after %d fen: %+v", o.TotalFen, v.Card)
	}
	s.m.App.ReconcileOlderThan(t.Context(), 0) // whatever runs again, the order earned once
	if v := myCard(t, s, buyer.Token, func(membershipView) bool { return true }); v.Card.Points != want || len(v.Ledger) != 1 {
		t.Fatalf("points counted again: %+v", v)
	}

	half := o.TotalFen / 2
	r := send(t, nil, s.base, "POST", "/api/v1/orders/"+itoa(o.ID)+"/refunds", map[string]any{"amount_fen": half}, owner, map[string]string{"Idempotency-Key": "m-refund"})
	if r.Status != 200 && r.Status != 201 {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}
	back := want * half / o.TotalFen
	v = myCard(t, s, buyer.Token, func(v membershipView) bool { return v.Card.Points == want-back })
	if v.Card.Points != want-back || v.Ledger[0].Kind != "reverse" || v.Ledger[0].Delta != -back {
		t.Fatalf("after refunding %d of %d: %+v, want %d points", half, o.TotalFen, v, want-back)
	}

	// at the counter
	redeem := func(points int64, key string) result {
		return send(t, nil, s.base, "POST", "/api/v1/members/redeem", map[string]any{"number": joined.Card.Number, "points": points, "note": "换购鸡蛋"}, owner, map[string]string{"Idempotency-Key": key})
	}
	redeem(want-back+1, "r-0").wantProblem(t, 409, "points_insufficient")
	redeem(0, "r-0").wantProblem(t, 400, "points_invalid")
	send(t, nil, s.base, "POST", "/api/v1/members/redeem", map[string]any{"number": "99999999", "points": 1}, owner, map[string]string{"Idempotency-Key": "r-x"}).wantProblem(t, 404, "not_member")
	redeem(1, "r-1").want(t, 200)
	redeem(1, "r-1").want(t, 200)
	if v := myCard(t, s, buyer.Token, func(membershipView) bool { return true }); v.Card.Points != want-back-1 {
		t.Fatalf("after redeeming 1 point twice with one key: %d, want %d", v.Card.Points, want-back-1)
	}
	// points for a coupon (积分兑券): an offer of the programme, one transaction
	var cp struct {
		ID int64 `json:"id"`
	}
	send(t, nil, s.base, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "积分兑2元", "amount_fen": 200, "budget_count": 10}, owner, nil).want(t, 201).decode(t, &cp)
	send(t, nil, s.base, "PUT", "/api/v1/members/program", map[string]any{"basis": "spend", "points_per_yuan": 2, "exchange": []map[string]any{{"coupon_id": 999999, "points": 1}},
		"tiers": []map[string]any{{"name": "普通会员", "threshold": 0}}}, owner, nil).wantProblem(t, 400, "points_offer_invalid")
	send(t, nil, s.base, "PUT", "/api/v1/members/program", map[string]any{"basis": "spend", "points_per_yuan": 2, "exchange": []map[string]any{{"coupon_id": cp.ID, "points": 2}},
		"tiers": []map[string]any{{"name": "普通会员", "name_en": "Member", "threshold": 0}, {"name": "金卡", "name_en": "Gold", "threshold": 5000}}}, owner, nil).want(t, 200)
	before := myCard(t, s, buyer.Token, func(membershipView) bool { return true }).Card.Points
	exchange := func(coupon int64, key string) result {
		return send(t, nil, s.base, "POST", "/api/v1/me/points/exchange", map[string]any{"coupon_id": coupon}, buyer.Token, map[string]string{"Idempotency-Key": key})
	}
	exchange(cp.ID+1000, "e-0").wantProblem(t, 400, "points_offer_unknown")
	exchange(cp.ID, "e-1").want(t, 200)
	exchange(cp.ID, "e-1").want(t, 200)
	var wallet struct {
		Claims []struct {
			CouponID int64 `json:"coupon_id"`
		} `json:"claims"`
	}
	send(t, nil, s.base, "GET", "/api/v1/me/coupons", nil, buyer.Token, nil).want(t, 200).decode(t, &wallet)
	got := 0
	for _, c := range wallet.Claims {
		if c.CouponID == cp.ID {
			got++
		}
	}
	if after := myCard(t, s, buyer.Token, func(membershipView) bool { return true }).Card.Points; after != before-2 || got != 1 {
		t.Fatalf("exchanging twice with one key: %d → %d points, %d coupons in the wallet (%s)", before, after, got, "want -2 and 1")
	}

	var list struct {
		Members []memberCard `json:"members"`
	}
	send(t, nil, s.base, "GET", "/api/v1/members", nil, owner, nil).want(t, 200).decode(t, &list)
	if len(list.Members) != 1 || list.Members[0].Number != joined.Card.Number {
		t.Fatalf("members %+v", list.Members)
	}
}

// TestMembersOnlyClearance: a clearance session for members only. A
// stranger's page shows the join path and none of the goods (no cards,
// no flash sale, nothing in the room state); the API refuses a
// non-member's order (segment_required); the room's public stream carries
// none of the goods events, which reach members on lineup:<room>, a topic
// a non-member cannot follow. On a phone (390×844) the stranger joins from
// the gate, sees the session and buys at the ladder price.
func TestMembersOnlyClearance(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	var lot struct {
		ID int64 `json:"id"`
	}
	now := time.Now().UTC()
	send(t, nil, s.base, "POST", "/api/v1/lots", map[string]any{"sku_id": s.sku1, "code": "NEAR-M", "produced_at": now.Add(-48 * time.Hour), "expires_at": now.Add(20 * time.Hour)}, owner, nil).want(t, 201).decode(t, &lot)
	send(t, nil, s.base, "PUT", "/api/v1/stock", map[string]any{"store_id": s.storeID, "lot_id": lot.ID, "on_hand": 6}, owner, nil).want(t, 204)
	send(t, nil, s.base, "POST", "/api/v1/clearance/sessions", map[string]any{"store_id": s.storeID, "sku_ids": []int64{s.sku1}, "segment": map[string]any{"kind": "nobody"}}, owner, nil).wantProblem(t, 400, "segment_invalid")
	var sess struct {
		RoomID   int64  `json:"room_id"`
		RoomSlug string `json:"room_slug"`
		Items    []struct {
			SaleID     int64 `json:"sale_id"`
			PriceFen   int64 `json:"price_fen"`
			RegularFen int64 `json:"regular_fen"`
		} `json:"items"`
	}
	send(t, nil, s.base, "POST", "/api/v1/clearance/sessions", map[string]any{"store_id": s.storeID, "sku_ids": []int64{s.sku1}, "minutes": 30, "per_user_limit": 2,
		"segment": map[string]any{"kind": "members"}}, owner, nil).want(t, 201).decode(t, &sess)
	if len(sess.Items) != 1 || sess.Items[0].PriceFen >= sess.Items[0].RegularFen {
		t.Fatalf("session %+v", sess)
	}
	ladder := sess.Items[0].PriceFen
	var aud struct {
		Segment *struct {
			Kind string `json:"kind"`
		} `json:"segment"`
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/"+sess.RoomSlug+"/audience", nil, owner, nil).want(t, 200).decode(t, &aud)
	if aud.Segment == nil || aud.Segment.Kind != "members" {
		t.Fatalf("audience %+v", aud)
	}

	type roomState struct {
		Room struct {
			ID         int64   `json:"id"`
			ProductIDs []int64 `json:"product_ids"`
		} `json:"room"`
		Products []struct {
			Name string `json:"name"`
		} `json:"products"`
		Flash []struct {
			ID       int64 `json:"id"`
			PriceFen int64 `json:"price_fen"`
		} `json:"flash_sales"`
		Locked bool `json:"locked"`
		Gate   *struct {
			Text     string `json:"text"`
			Joinable bool   `json:"joinable"`
		} `json:"gate"`
	}
	var staffView roomState
	send(t, nil, s.base, "GET", "/api/v1/rooms/"+sess.RoomSlug, nil, owner, nil).want(t, 200).decode(t, &staffView)
	if staffView.Locked || len(staffView.Products) != 1 || len(staffView.Flash) != 1 || staffView.Flash[0].PriceFen != ladder {
		t.Fatalf("staff see the session: %+v", staffView)
	}
	productName := staffView.Products[0].Name

	stranger := viewerLogin(t, s.base, "demo", "13900000971")
	for who, token := range map[string]string{"anonymous": "", "non-member": stranger.Token} {
		var st roomState
		r := send(t, nil, s.base, "GET", "/api/v1/rooms/"+sess.RoomSlug, nil, token, nil).want(t, 200)
		r.decode(t, &st)
		if !st.Locked || len(st.Products) != 0 || len(st.Flash) != 0 || len(st.Room.ProductIDs) != 0 || st.Gate == nil || st.Gate.Text != "加入会员即可抢购临期好货" || !st.Gate.Joinable {
			t.Fatalf("%s sees %+v", who, st)
		}
		if strings.Contains(string(r.Body), productName) {
			t.Fatalf("%s's room state names the product %q", who, productName)
		}
	}
	page := send(t, nil, s.base, "GET", "/live/"+sess.RoomSlug, nil, stranger.Token, nil).want(t, 200)
	if !strings.Contains(string(page.Body), "加入会员即可抢购临期好货") || strings.Contains(string(page.Body), productName) {
		t.Fatal("the stranger's page lacks the join path or names the goods")
	}
	body := s.pickup([2]int64{s.sku1, 1})
	body["flash_sale_id"] = sess.Items[0].SaleID
	send(t, nil, s.base, "POST", "/api/v1/orders", body, stranger.Token, map[string]string{"Idempotency-Key": "x-1"}).wantProblem(t, 403, "segment_required")
	plain := s.pickup([2]int64{s.sku1, 1})
	plain["room_id"] = sess.RoomID
	send(t, nil, s.base, "POST", "/api/v1/orders", plain, stranger.Token, map[string]string{"Idempotency-Key": "x-2"}).wantProblem(t, 403, "segment_required")
	send(t, nil, s.base, "GET", "/api/v1/ws?sub=lineup:"+itoa(sess.RoomID), nil, stranger.Token, nil).wantProblem(t, 403, "segment_required")

	// The streams: a non-member on the room topic, a member on both.
	member := viewerLogin(t, s.base, "demo", "13900000972")
	send(t, nil, s.base, "POST", "/api/v1/me/membership", nil, member.Token, nil).want(t, 201)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	outside := listen(t, ctx, s.base, stranger.Token, "sub=room:"+itoa(sess.RoomID))
	inside := listen(t, ctx, s.base, member.Token, "sub=room:"+itoa(sess.RoomID)+"&sub=lineup:"+itoa(sess.RoomID))
	testkit.WaitFor(t, "the member's lineup snapshot", 10*time.Second, func() bool { return inside.has(productName) })
	send(t, nil, s.base, "POST", "/api/v1/rooms/"+sess.RoomSlug+"/pin", map[string]any{"product_id": staffView.Room.ProductIDs[0]}, owner, nil).want(t, 200)
	var mo orderView
	send(t, nil, s.base, "POST", "/api/v1/orders", body, member.Token, map[string]string{"Idempotency-Key": "m-1"}).want(t, 201).decode(t, &mo)
	if mo.TotalFen != ladder {
		t.Fatalf("member's clearance order %d, want the ladder price %d", mo.TotalFen, ladder)
	}
	var cp struct {
		ID int64 `json:"id"`
	}
	send(t, nil, s.base, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "会员立减1元", "room": sess.RoomSlug, "amount_fen": 100, "budget_count": 50}, owner, nil).want(t, 201).decode(t, &cp)
	send(t, nil, s.base, "POST", "/api/v1/coupons/"+itoa(cp.ID)+"/push", nil, owner, nil).want(t, 200)
	send(t, nil, s.base, "POST", "/api/v1/coupons/"+itoa(cp.ID)+"/grab", nil, stranger.Token, nil).wantProblem(t, 403, "segment_required")
	if r := send(t, nil, s.base, "POST", "/api/v1/coupons/"+itoa(cp.ID)+"/grab", nil, member.Token, nil); r.Status != 201 {
		t.Fatalf("member grabs the room's coupon: %d %s", r.Status, r.Body)
	}
	testkit.WaitFor(t, "the member gets the pin, the sale's stock and the coupon card", 10*time.Second, func() bool {
		return inside.has("card.pinned") && inside.has("flash.stock") && inside.has("coupon.pushed") && inside.has("coupon.stock")
	})
	send(t, nil, s.base, "POST", "/api/v1/rooms/"+sess.RoomSlug+"/comments", map[string]any{"text": "大家好"}, member.Token, nil)
	testkit.WaitFor(t, "the stranger still gets the room (comments)", 10*time.Second, func() bool { return outside.has("大家好") })
	for _, leak := range []string{"card.pinned", "flash.", "product.updated", "coupon.", "会员立减1元", productName} {
		if outside.has(leak) {
			t.Fatalf("the non-member's stream carries %q:\n%s", leak, outside.all())
		}
	}

	// On a phone: the stranger gets the join path, joins, sees the goods, buys at the ladder price.
	ctxB := testkit.NewContext(t, testkit.Browser(t), 120*time.Second)
	if err := chromedp.Do(ctxB,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(s.base+"/live/"+sess.RoomSlug),
		chromedp.WaitVisible(chromedp.CSS("#gate-join")),
	); err != nil {
		t.Fatal(err)
	}
	gate, _ := chromedp.Run(ctxB, chromedp.Evaluate[string](`document.querySelector("#gate").textContent + "|" + document.querySelector("#flash").classList.contains("hidden") + "|" + document.querySelector("#pinned").classList.contains("hidden") + "|" + document.body.innerText.includes(`+fmt.Sprintf("%q", productName)+`)`))
	if !strings.Contains(gate, "加入会员即可抢购临期好货") || !strings.HasSuffix(gate, "|true|true|false") {
		t.Fatalf("the stranger's phone: %q", gate)
	}
	testkit.Screenshot(t, ctxB, "members-gate")
	if err := chromedp.Do(ctxB,
		chromedp.Click(chromedp.CSS("#gate-join")),
		chromedp.WaitVisible(chromedp.CSS("#login-phone")),
		chromedp.SendKeys(chromedp.CSS("#login-phone"), "13900000973"),
		chromedp.Click(chromedp.CSS("#otp-send")),
		chromedp.WaitVisible(chromedp.CSS("#otp-dev")),
	); err != nil {
		t.Fatal(err)
	}
	dev, _ := chromedp.Run(ctxB, chromedp.Evaluate[string](`document.querySelector("#otp-dev").textContent`))
	if err := chromedp.Do(ctxB,
		chromedp.SendKeys(chromedp.CSS("#login-code"), dev[len(dev)-6:]),
		chromedp.Click(chromedp.CSS("#login-go")),
	); err != nil {
		t.Fatal(err)
	}
	// Joining reloads the page: poll again when the reload cut a poll short.
	var err error
	for try := 0; try < 5; try++ {
		// Null-safe: a poll can land on the reloaded page while it is still being parsed.
		err = chromedp.Do(ctxB, chromedp.Poll[chromedp.Void](`(() => { const q = (s) => document.querySelector(s), f = q("#flash"), b = q("#flash-buy"), m = q("#member-pill");
		  return document.readyState !== "loading" && !q("#gate") && f && !f.classList.contains("hidden") && q("#flash-expiry") && b && !b.disabled && m && m.textContent.includes("★"); })()`, chromedp.WithPollingTimeout(30*time.Second)))
		if err == nil || !strings.Contains(err.Error(), "-32000") { // navigated, or the old page's context went away
			break
		}
	}
	if err != nil {
		text, _ := chromedp.Run(ctxB, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("after joining, the phone does not show the session: %v\n%s", err, text)
	}
	price := fmt.Sprintf("%.2f", float64(ladder)/100)
	card, _ := chromedp.Run(ctxB, chromedp.Evaluate[string](`document.querySelector("#flash").textContent + "|" + document.querySelector("#member-pill").textContent`))
	if !strings.Contains(card, price) || !strings.Contains(card, "★") {
		t.Fatalf("the member's flash card %q lacks the ladder price %s or the member pill", card, price)
	}
	testkit.Screenshot(t, ctxB, "members-clearance")
	if err := chromedp.Do(ctxB,
		chromedp.Click(chromedp.CSS("#flash-buy")),
		chromedp.WaitEnabled(chromedp.CSS("#confirm-order")),
		chromedp.Click(chromedp.CSS("#confirm-order")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-pay")),
	); err != nil {
		t.Fatal(err)
	}
	paid, _ := chromedp.Run(ctxB, chromedp.Evaluate[string](`document.body.innerText`))
	if !strings.Contains(paid, price) {
		t.Fatalf("the order page does not show the ladder price %s:\n%s", price, paid)
	}
}

// TestMyPageMemberCard: 我的 at 390×844 offers the membership to a
// non-member; one tap joins, and the card shows the number, the tier and
// the points, which grow after a paid order.
func TestMyPageMemberCard(t *testing.T) {
	s := newShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900001481")
	ctx := testkit.NewContext(t, testkit.Browser(t), 90*time.Second)
	runB(t, ctx, "open 我的", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		withCookie(s.base, "sl_viewer", buyer.Token),
		chromedp.Navigate(s.base+"/me?from=demo"),
		chromedp.WaitVisible(chromedp.CSS("#member-join")))
	runB(t, ctx, "join", chromedp.Click(chromedp.CSS("#member-join")), chromedp.WaitVisible(chromedp.CSS("#member-number")))
	var v membershipView
	send(t, nil, s.base, "GET", "/api/v1/me/membership", nil, buyer.Token, nil).want(t, 200).decode(t, &v)
	if !v.Member || v.Card == nil {
		t.Fatalf("after the tap: %+v", v)
	}
	o, intent, _ := placeAndStartPaying(t, s, buyer.Token, 1)
	send(t, nil, s.base, "POST", "/api/v1/payments/dev/"+intent+"/confirm", nil, "", nil).want(t, 200)
	v = myCard(t, s, buyer.Token, func(v membershipView) bool { return v.Card != nil && v.Card.Points > 0 })
	if v.Card.Points != o.TotalFen/100 {
		t.Fatalf("points after paying %d fen: %d", o.TotalFen, v.Card.Points)
	}
	runB(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#member-points")))
	card, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#member-card").textContent`))
	if !strings.Contains(card, v.Card.Number) || !strings.Contains(card, "普通会员") || !strings.Contains(card, fmt.Sprint(v.Card.Points)) {
		t.Fatalf("the card on 我的: %q, want number %s, tier, %d points", card, v.Card.Number, v.Card.Points)
	}
	testkit.Screenshot(t, ctx, "me-member-card")
}

// TestAdminMembers: in /admin (1440×900) the owner edits the programme
// (points per yuan, a tier), sets a member price and sees a member; the
// clearance tab makes a members-only session whose room a stranger sees
// locked.
func TestAdminMembers(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	buyer := viewerLogin(t, s.base, "demo", "13900001491")
	send(t, nil, s.base, "POST", "/api/v1/me/membership", nil, buyer.Token, nil).want(t, 201)
	var lot struct {
		ID int64 `json:"id"`
	}
	now := time.Now().UTC()
	send(t, nil, s.base, "POST", "/api/v1/lots", map[string]any{"sku_id": s.sku1, "code": "NEAR-ADM", "produced_at": now.Add(-48 * time.Hour), "expires_at": now.Add(9 * time.Hour)}, owner, nil).want(t, 201).decode(t, &lot)
	send(t, nil, s.base, "PUT", "/api/v1/stock", map[string]any{"store_id": s.storeID, "lot_id": lot.ID, "on_hand": 4}, owner, nil).want(t, 204)

	tab := testkit.NewTab(t, testkit.Browser(t), 90*time.Second)
	tab.StaffOpen(s.base, "owner", demo.Password, "/admin%23members", "#member-save")
	ctx := tab.Ctx
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#admin-main").textContent`))
	if !strings.Contains(text, "00000001") || !strings.Contains(text, "普通会员") {
		t.Fatalf("the members tab lacks the member: %q", text)
	}
	runB(t, ctx, "edit the programme",
		chromedp.SetValue(chromedp.CSS("#member-rate"), "3"),
		chromedp.SetValue(chromedp.CSS(`#member-tiers tbody tr:nth-child(2) .tier-threshold`), "300"),
		chromedp.Click(chromedp.CSS("#member-save")),
		chromedp.SetValue(chromedp.CSS(`.member-price[data-sku="`+itoa(s.sku1)+`"]`), "9.90"),
		chromedp.Click(chromedp.CSS(`tr:has(.member-price[data-sku="`+itoa(s.sku1)+`"]) button`)))
	testkit.Screenshot(t, ctx, "admin-members")
	var prog struct {
		PointsPerYuan int64 `json:"points_per_yuan"`
		Tiers         []struct {
			Threshold int64 `json:"threshold"`
		} `json:"tiers"`
	}
	testkit.WaitFor(t, "the programme saved", 10*time.Second, func() bool {
		send(t, nil, s.base, "GET", "/api/v1/members/program", nil, owner, nil).want(t, 200).decode(t, &prog)
		return prog.PointsPerYuan == 3 && len(prog.Tiers) == 3 && prog.Tiers[1].Threshold == 30000
	})
	testkit.WaitFor(t, "the member price saved", 10*time.Second, func() bool {
		var p struct {
			Prices []struct {
				SKUID    int64 `json:"sku_id"`
				PriceFen int64 `json:"member_price_fen"`
			} `json:"prices"`
		}
		send(t, nil, s.base, "GET", "/api/v1/members/prices", nil, owner, nil).want(t, 200).decode(t, &p)
		return len(p.Prices) == 1 && p.Prices[0].SKUID == s.sku1 && p.Prices[0].PriceFen == 990
	})

	runB(t, ctx, "a members-only clearance",
		chromedp.Navigate(s.base+"/admin#clearance?store="+itoa(s.storeID)),
		chromedp.WaitVisible(chromedp.CSS("#clearance-audience")),
		chromedp.SetValue(chromedp.CSS("#clearance-audience"), "members"),
		chromedp.Click(chromedp.CSS("#clearance-start")),
		chromedp.WaitVisible(chromedp.CSS("#clearance-made a")))
	link, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#clearance-made a").getAttribute("href")`))
	var st struct {
		Locked bool `json:"locked"`
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/"+strings.TrimPrefix(link, "/live/"), nil, "", nil).want(t, 200).decode(t, &st)
	if !st.Locked {
		t.Fatalf("the admin's members-only session %s is open to strangers", link)
	}
}

// TestFanGroupSession: a room restricted to a fan group shows strangers
// the group's page as the way in; once they join the group (fans domain),
// the same segment check lets them see and buy; another shop's or an
// unknown group is refused.
func TestFanGroupSession(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	var g struct {
		ID   int64  `json:"id"`
		Slug string `json:"slug"`
	}
	send(t, nil, s.base, "POST", "/api/v1/groups", map[string]any{"slug": "bakers", "name": "烘焙爱好者", "topic": "烘焙"}, owner, nil).want(t, 201).decode(t, &g)
	send(t, nil, s.base, "PUT", "/api/v1/rooms/demo/audience", map[string]any{"segment": map[string]any{"kind": "fan_group", "group_id": g.ID + 1000}}, owner, nil).wantProblem(t, 400, "segment_invalid")
	send(t, nil, s.base, "PUT", "/api/v1/rooms/demo/audience", map[string]any{"segment": map[string]any{"kind": "fan_group", "group_id": g.ID}}, owner, nil).want(t, 200)
	fan := viewerLogin(t, s.base, "demo", "13900001501")
	var st struct {
		Locked   bool `json:"locked"`
		Products []struct {
			ID int64 `json:"id"`
		} `json:"products"`
		Gate *struct {
			Text    string `json:"text"`
			JoinURL string `json:"join_url"`
		} `json:"gate"`
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo", nil, fan.Token, nil).want(t, 200).decode(t, &st)
	if !st.Locked || len(st.Products) != 0 || st.Gate == nil || st.Gate.JoinURL != "/groups/bakers" || !strings.Contains(st.Gate.Text, "烘焙爱好者") {
		t.Fatalf("a stranger in the bakers' room: %+v", st)
	}
	send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), fan.Token, map[string]string{"Idempotency-Key": "fg-0"}).want(t, 201) // no room named: an ordinary order
	body := s.pickup([2]int64{s.sku1, 1})
	var demo struct {
		Room struct {
			ID int64 `json:"id"`
		} `json:"room"`
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo", nil, owner, nil).want(t, 200).decode(t, &demo)
	body["room_id"] = demo.Room.ID
	send(t, nil, s.base, "POST", "/api/v1/orders", body, fan.Token, map[string]string{"Idempotency-Key": "fg-1"}).wantProblem(t, 403, "segment_required")
	send(t, nil, s.base, "PUT", "/api/v1/groups/bakers/membership", nil, fan.Token, nil).want(t, 200)
	st.Locked, st.Products, st.Gate = false, nil, nil
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo", nil, fan.Token, nil).want(t, 200).decode(t, &st)
	if st.Locked || len(st.Products) == 0 {
		t.Fatalf("a member of the group: %+v", st)
	}
	send(t, nil, s.base, "POST", "/api/v1/orders", body, fan.Token, map[string]string{"Idempotency-Key": "fg-2"}).want(t, 201)
	send(t, nil, s.base, "PUT", "/api/v1/rooms/demo/audience", map[string]any{"segment": nil}, owner, nil).want(t, 200)
	other := viewerLogin(t, s.base, "demo", "13900001502")
	st.Locked, st.Products, st.Gate = false, nil, nil
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo", nil, other.Token, nil).want(t, 200).decode(t, &st)
	if st.Locked || st.Gate != nil {
		t.Fatalf("the room opened again: %+v", st)
	}
}

// TestMemberPriceInTheSheet: a member's buy sheet (390×844) shows the
// member price the order will charge, with the regular price struck out.
func TestMemberPriceInTheSheet(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	var room struct {
		Products []struct {
			ID   int64 `json:"id"`
			SKUs []struct {
				ID       int64 `json:"id"`
				PriceFen int64 `json:"price_fen"`
			} `json:"skus"`
		} `json:"products"`
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo", nil, owner, nil).want(t, 200).decode(t, &room)
	var productID int64
	for _, p := range room.Products {
		for _, k := range p.SKUs {
			if k.ID == s.sku1 {
				productID = p.ID
				for _, k := range p.SKUs {
					send(t, nil, s.base, "PUT", "/api/v1/members/prices", map[string]any{"sku_id": k.ID, "member_price_fen": k.PriceFen - 100}, owner, nil).want(t, 200)
				}
			}
		}
	}
	send(t, nil, s.base, "POST", "/api/v1/rooms/demo/pin", map[string]any{"product_id": productID}, owner, nil).want(t, 200)
	member := viewerLogin(t, s.base, "demo", "13900001511")
	send(t, nil, s.base, "POST", "/api/v1/me/membership", nil, member.Token, nil).want(t, 201)
	ctx := testkit.NewContext(t, testkit.Browser(t), 90*time.Second)
	runB(t, ctx, "open the room", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		withCookie(s.base, "sl_viewer", member.Token),
		chromedp.Navigate(s.base+"/live/demo"),
		chromedp.WaitVisible(chromedp.CSS("#buy-btn")))
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.querySelector("#member-pill").textContent.includes("★")`, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("the member pill: %v", err)
	}
	runB(t, ctx, "open the sheet", chromedp.Click(chromedp.CSS("#buy-btn")), chromedp.WaitVisible(chromedp.CSS("#sheet-price")))
	price, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#sheet-price").textContent`))
	if !strings.Contains(price, "会员价") {
		t.Fatalf("the member's sheet: %q", price)
	}
	testkit.Screenshot(t, ctx, "member-price-sheet")
}

// TestMemberQuoteMatchesOrder: a member's coupon quote prices the cart at
// member prices, as the order's transaction does.
func TestMemberQuoteMatchesOrder(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	buyer := viewerLogin(t, s.base, "demo", "13900001521")
	send(t, nil, s.base, "POST", "/api/v1/me/membership", nil, buyer.Token, nil).want(t, 201)
	send(t, nil, s.base, "PUT", "/api/v1/members/prices", map[string]any{"sku_id": s.sku1, "member_price_fen": 1000}, owner, nil).want(t, 200)
	var q struct {
		SubtotalFen int64 `json:"subtotal_fen"`
	}
	send(t, nil, s.base, "POST", "/api/v1/coupons/quote", s.pickup([2]int64{s.sku1, 3}), buyer.Token, nil).want(t, 200).decode(t, &q)
	var o orderView
	send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 3}), buyer.Token, map[string]string{"Idempotency-Key": "q-1"}).want(t, 201).decode(t, &o)
	if q.SubtotalFen != 3000 || o.TotalFen != 3000 {
		t.Fatalf("quote subtotal %d, order total %d; want both 3000 (member price)", q.SubtotalFen, o.TotalFen)
	}
}
