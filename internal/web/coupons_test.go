package web_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/testkit"
)

type couponView struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	Issued    int64  `json:"issued"`
	Remaining int64  `json:"remaining"`
}

// TestCouponCardAPI: the host creates and pushes a card with 12 coupons;
// 40 viewers grab at once: exactly 12 win, the rest hear coupon_gone, a
// second grab coupon_claim_limit; the room's state shows the card; the
// checkout quote and the order both take 5 元 off; the same coupon is not
// applied twice; cancelling the unpaid order returns it; the cost report
// counts it once paid; another shop's viewer cannot see the coupon.
func TestCouponCardAPI(t *testing.T) {
	s := newShop(t, "-rate-limits=false") // 40 logins from one address
	owner := testkit.OwnerToken
	send(t, nil, s.base, "POST", "/api/v1/coupons", map[string]any{"kind": "threshold", "title": "满5减6", "room": "demo", "amount_fen": 600, "min_spend_fen": 500, "budget_count": 12}, owner, nil).
		wantProblem(t, 400, "coupon_min_spend")
	var c couponView
	send(t, nil, s.base, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "直播间立减5元", "room": "demo", "amount_fen": 500, "budget_count": 12}, owner, nil).want(t, 201).decode(t, &c)
	if c.Status != "draft" || c.Remaining != 12 {
		t.Fatalf("new coupon %+v", c)
	}
	first := viewerLogin(t, s.base, "demo", "13900001200")
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/coupons/%d/grab", c.ID), nil, first.Token, nil).wantProblem(t, 409, "coupon_not_live")
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/coupons/%d/push", c.ID), nil, owner, nil).want(t, 200)
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/coupons/%d/push", c.ID), nil, owner, nil).wantProblem(t, 409, "coupon_pushed")

	viewers := []session{first}
	for i := 1; i < 40; i++ {
		viewers = append(viewers, viewerLogin(t, s.base, "demo", fmt.Sprintf("139000012%02d", i)))
	}
	var mu sync.Mutex
	won, gone := map[int]bool{}, 0
	var wg sync.WaitGroup
	for i, v := range viewers {
		wg.Go(func() {
			r := send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/coupons/%d/grab", c.ID), nil, v.Token, nil)
			mu.Lock()
			defer mu.Unlock()
			switch r.Status {
			case 201:
				won[i] = true
			case 409:
				gone++
			default:
				t.Errorf("grab: %d %s", r.Status, r.Body)
			}
		})
	}
	wg.Wait()
	if len(won) != 12 || gone != 28 {
		t.Fatalf("40 viewers for 12 coupons: %d won, %d gone", len(won), gone)
	}
	var winner session
	for i := range won {
		winner = viewers[i]
		break
	}
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/coupons/%d/grab", c.ID), nil, winner.Token, nil).wantProblem(t, 409, "coupon_claim_limit")
	var room struct {
		Coupons []couponView `json:"coupons"`
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo", nil, "", nil).want(t, 200).decode(t, &room)
	if len(room.Coupons) != 1 || room.Coupons[0].Remaining != 0 {
		t.Fatalf("room coupons %+v", room.Coupons)
	}

	cart := map[string]any{"items": []map[string]any{{"sku_id": s.sku1, "quantity": 1}}, "fulfilment": "pickup", "store_id": s.storeID}
	var q struct {
		SubtotalFen, SavedFen, TotalFen int64
		Best                            *struct {
			ClaimID  int64 `json:"claim_id"`
			SavedFen int64 `json:"saved_fen"`
		}
	}
	send(t, nil, s.base, "POST", "/api/v1/coupons/quote", cart, winner.Token, nil).want(t, 200).decode(t, &q)
	if q.Best == nil || q.Best.SavedFen != 500 {
		t.Fatalf("quote %+v", q)
	}
	var o struct {
		ID          int64 `json:"id"`
		TotalFen    int64 `json:"total_fen"`
		DiscountFen int64 `json:"discount_fen"`
		Claim       int64 `json:"coupon_claim_id"`
	}
	send(t, nil, s.base, "POST", "/api/v1/orders", cart, winner.Token, map[string]string{"Idempotency-Key": "cp-1"}).want(t, 201).decode(t, &o)
	if o.DiscountFen != 500 || o.Claim != q.Best.ClaimID {
		t.Fatalf("order with the coupon %+v", o)
	}
	var o2 struct {
		DiscountFen int64 `json:"discount_fen"`
	}
	send(t, nil, s.base, "POST", "/api/v1/orders", cart, winner.Token, map[string]string{"Idempotency-Key": "cp-2"}).want(t, 201).decode(t, &o2)
	if o2.DiscountFen != 0 {
		t.Fatal("the coupon applied twice")
	}
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", o.ID), nil, winner.Token, nil).want(t, 200)
	var w struct {
		Claims []struct {
			Status string `json:"status"`
		} `json:"claims"`
	}
	send(t, nil, s.base, "GET", "/api/v1/me/coupons", nil, winner.Token, nil).want(t, 200).decode(t, &w)
	if len(w.Claims) != 1 || w.Claims[0].Status != "issued" {
		t.Fatalf("wallet after the cancel: %+v", w)
	}
	var rep struct {
		Rows []struct {
			Issued   int64 `json:"issued"`
			Returned int64 `json:"returned"`
		} `json:"rows"`
	}
	send(t, nil, s.base, "GET", "/api/v1/reports/coupons?room=demo", nil, owner, nil).want(t, 200).decode(t, &rep)
	if len(rep.Rows) != 1 || rep.Rows[0].Issued != 12 || rep.Rows[0].Returned != 1 {
		t.Fatalf("report %+v", rep)
	}
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/coupons/%d/end", c.ID), nil, owner, nil).want(t, 200)
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/coupons/%d/grab", c.ID), nil, viewers[0].Token, nil).wantProblem(t, 409, "coupon_not_live")
}

// TestCouponStoreHost: a host bound to one store makes coupons for their
// studio's rooms only: a whole-shop coupon or another store's room is
// refused (400 coupon_room_required) and nothing is created; the owner may
// make either.
func TestCouponStoreHost(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	var stores struct{ Stores []struct{ ID int64 } }
	send(t, nil, s.base, "GET", "/api/v1/stores", nil, owner, nil).decode(t, &stores)
	if len(stores.Stores) < 2 {
		t.Fatalf("demo data: stores %+v", stores.Stores)
	}
	var room struct{ StoreID int64 }
	room.StoreID = stores.Stores[0].ID
	other := stores.Stores[1].ID
	send(t, nil, s.base, "POST", "/api/v1/rooms", map[string]any{"slug": "store-a-live", "title": "门店直播", "store_id": room.StoreID}, owner, nil).want(t, 201)
	hosts := map[int64]string{}
	for i, store := range []int64{room.StoreID, other} {
		name := fmt.Sprintf("store-host-%d", i)
		send(t, nil, s.base, "POST", "/api/v1/staff", map[string]any{"username": name, "name": "门店主播", "role": "host", "store_id": store, "password": "Store-Host-2468"}, owner, nil).want(t, 201)
		hosts[store] = staffLogin(t, s.base, name, "Store-Host-2468").Token
	}
	count := func() int {
		var list struct{ Coupons []couponView }
		send(t, nil, s.base, "GET", "/api/v1/coupons", nil, owner, nil).want(t, 200).decode(t, &list)
		return len(list.Coupons)
	}
	before := count()
	shopWide := map[string]any{"kind": "fixed", "title": "全店立减2元", "amount_fen": 200, "budget_count": 10}
	if p := send(t, nil, s.base, "POST", "/api/v1/coupons", shopWide, hosts[room.StoreID], nil).wantProblem(t, 400, "coupon_room_required"); p.Field != "room_id" {
		t.Fatalf("field %q", p.Field)
	}
	inRoom := map[string]any{"kind": "fixed", "title": "本店直播立减2元", "room": "store-a-live", "amount_fen": 200, "budget_count": 10}
	send(t, nil, s.base, "POST", "/api/v1/coupons", inRoom, hosts[other], nil).wantProblem(t, 400, "coupon_room_required")
	if n := count(); n != before {
		t.Fatalf("refused coupons were created: %d → %d", before, n)
	}
	send(t, nil, s.base, "POST", "/api/v1/coupons", inRoom, hosts[room.StoreID], nil).want(t, 201)
	send(t, nil, s.base, "POST", "/api/v1/coupons", shopWide, owner, nil).want(t, 201)
	if n := count(); n != before+2 {
		t.Fatalf("coupons %d → %d, want 2 more", before, n)
	}
}

// TestCouponsReadAccess: reading the shop's coupons (the list, a coupon's
// issues to segments) is for whoever opens the admin console (admin.view:
// owner, admin, host, quality), whose 优惠券 tab lists them beside the cost
// report they already read; it once needed room.host, so a quality
// member's tab failed. Creating still needs room.host and issuing
// rooms.write; guides, store staff and moderators read none of it.
func TestCouponsReadAccess(t *testing.T) {
	s := newShop(t)
	var c couponView
	send(t, nil, s.base, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "会员日立减5元", "amount_fen": 500, "budget_count": 20}, testkit.OwnerToken, nil).want(t, 201).decode(t, &c)
	send(t, nil, s.base, "POST", "/api/v1/staff", map[string]any{"username": "mod-c", "name": "场控小陈", "role": "moderator", "password": "Moderate-2468"}, testkit.OwnerToken, nil).want(t, 201)
	for _, who := range []struct {
		login, password string
		read            bool
	}{{"owner", "shelflive-demo", true}, {"host", "shelflive-demo", true}, {"quality", "shelflive-demo", true},
		{"guide", "shelflive-demo", false}, {"store", "shelflive-demo", false}, {"mod-c", "Moderate-2468", false}} {
		tok := staffLogin(t, s.base, who.login, who.password).Token
		list := send(t, nil, s.base, "GET", "/api/v1/coupons", nil, tok, nil)
		issues := send(t, nil, s.base, "GET", fmt.Sprintf("/api/v1/coupons/%d/issues", c.ID), nil, tok, nil)
		if !who.read {
			list.wantProblem(t, 403, "forbidden")
			issues.wantProblem(t, 403, "forbidden")
			continue
		}
		var got struct{ Coupons []couponView }
		list.want(t, 200).decode(t, &got)
		if len(got.Coupons) != 1 || got.Coupons[0].ID != c.ID {
			t.Errorf("%s lists %+v", who.login, got.Coupons)
		}
		issues.want(t, 200)
	}
	quality := staffLogin(t, s.base, "quality", "shelflive-demo").Token
	send(t, nil, s.base, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "品控立减", "amount_fen": 100, "budget_count": 1}, quality, nil).wantProblem(t, 403, "forbidden")
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/coupons/%d/issue", c.ID), map[string]any{"segment": map[string]any{"kind": "members"}}, staffLogin(t, s.base, "host", "shelflive-demo").Token, map[string]string{"Idempotency-Key": "k1"}).wantProblem(t, 403, "forbidden")
}

// TestCouponStoreScope: a host bound to one store reads that store's
// coupons only: its rooms' coupons and the whole-shop coupons that apply
// at it, never another store's or the brand's rooms' coupons or a
// whole-shop coupon only for other stores; a coupon they may not read
// answers 404, as another store's room does; the cost report shows their
// rooms' coupons only (a whole-shop coupon's cost is every store's). The
// owner reads everything.
func TestCouponStoreScope(t *testing.T) {
	s, mine, other, host := newStoreHostShop(t, "scope")
	owner := testkit.OwnerToken

	ids := map[string]int64{}
	create := func(name string, body map[string]any) {
		t.Helper()
		body["kind"], body["title"], body["amount_fen"], body["budget_count"] = "fixed", "立减1元 "+name, 100, 10
		var c couponView
		send(t, nil, s.base, "POST", "/api/v1/coupons", body, owner, nil).want(t, 201).decode(t, &c)
		ids[name] = c.ID
	}
	create("my-room", map[string]any{"room": "scope-mine"})
	create("other-room", map[string]any{"room": "scope-other"})
	create("brand-room", map[string]any{"room": "scope-brand"})
	create("shop", map[string]any{})
	create("shop-mine", map[string]any{"scope": map[string]any{"store_ids": []int64{mine}}})
	create("shop-other", map[string]any{"scope": map[string]any{"store_ids": []int64{other}}})
	hostSees := map[string]bool{"my-room": true, "shop": true, "shop-mine": true}

	listed := func(tok, query string) map[int64]bool {
		t.Helper()
		var list struct{ Coupons []couponView }
		send(t, nil, s.base, "GET", "/api/v1/coupons"+query, nil, tok, nil).want(t, 200).decode(t, &list)
		got := map[int64]bool{}
		for _, c := range list.Coupons {
			got[c.ID] = true
		}
		return got
	}
	type report struct {
		Rows []struct {
			CouponID int64 `json:"coupon_id"`
			CostFen  int64 `json:"cost_fen"`
			Issued   int64 `json:"issued"`
		}
		Total struct{ Issued int64 }
	}
	reported := func(tok string) map[int64]bool {
		t.Helper()
		var r report
		send(t, nil, s.base, "GET", "/api/v1/reports/coupons", nil, tok, nil).want(t, 200).decode(t, &r)
		got := map[int64]bool{}
		var issued int64
		for _, row := range r.Rows {
			got[row.CouponID] = true
			issued += row.Issued
		}
		if issued != r.Total.Issued {
			t.Errorf("report total issued %d, rows sum to %d", r.Total.Issued, issued)
		}
		return got
	}
	ownerList, hostList := listed(owner, ""), listed(host, "")
	ownerReport, hostReport := reported(owner), reported(host)
	for name, id := range ids {
		if !ownerList[id] || !ownerReport[id] {
			t.Errorf("owner: %s listed %v, reported %v", name, ownerList[id], ownerReport[id])
		}
		if hostList[id] != hostSees[name] {
			t.Errorf("store host lists %s: %v, want %v", name, hostList[id], hostSees[name])
		}
		if want := name == "my-room"; hostReport[id] != want {
			t.Errorf("store host's cost report has %s: %v, want %v", name, hostReport[id], want)
		}
		issues := send(t, nil, s.base, "GET", fmt.Sprintf("/api/v1/coupons/%d/issues", id), nil, host, nil)
		if hostSees[name] {
			issues.want(t, 200)
		} else {
			issues.wantProblem(t, 404, "not_found")
		}
		send(t, nil, s.base, "GET", fmt.Sprintf("/api/v1/coupons/%d/issues", id), nil, owner, nil).want(t, 200)
	}
	if len(hostList) != len(hostSees) {
		t.Errorf("store host lists %d coupons, want %d: %v", len(hostList), len(hostSees), hostList)
	}
	// The studio's list of its room still has the room's coupon.
	if got := listed(host, "?room=scope-mine"); len(got) != 1 || !got[ids["my-room"]] {
		t.Errorf("store host's room list %v", got)
	}
	send(t, nil, s.base, "GET", "/api/v1/coupons?room=scope-other", nil, host, nil).wantProblem(t, 404, "not_found")
}

// TestDrawPrizeStoreScope: a host bound to one store gives as a 福袋 prize
// only a coupon they read (app.couponScope): their rooms' coupons and the
// whole-shop coupons that apply at their store. Another store's or the
// brand's room's coupon, or a whole-shop coupon only for another store,
// answers exactly as a coupon that does not exist (400 draw_prize, same
// text), and no draw is made. The owner gives any of the merchant's.
func TestDrawPrizeStoreScope(t *testing.T) {
	s, mine, other, host := newStoreHostShop(t, "prize")
	owner := testkit.OwnerToken

	ids := map[string]int64{}
	for name, body := range map[string]map[string]any{
		"my-room":    {"room": "prize-mine"},
		"other-room": {"room": "prize-other"},
		"brand-room": {"room": "prize-brand"},
		"shop":       {},
		"shop-mine":  {"scope": map[string]any{"store_ids": []int64{mine}}},
		"shop-other": {"scope": map[string]any{"store_ids": []int64{other}}},
	} {
		body["kind"], body["title"], body["amount_fen"], body["budget_count"] = "fixed", "福袋券 "+name, 100, 10
		var c couponView
		send(t, nil, s.base, "POST", "/api/v1/coupons", body, owner, nil).want(t, 201).decode(t, &c)
		ids[name] = c.ID
	}
	hostGives := map[string]bool{"my-room": true, "shop": true, "shop-mine": true}
	draw := func(tok string, coupon int64) result {
		t.Helper()
		return send(t, nil, s.base, "POST", "/api/v1/rooms/prize-mine/draws", map[string]any{"title": "门店福袋", "entry": "like", "winners": 1, "prize_kind": "coupon", "prize_coupon_id": coupon, "minutes": 30}, tok, nil)
	}
	// What a coupon that does not exist answers, in both languages.
	absent := map[string]problem{}
	for _, lang := range []string{"zh", "en"} {
		absent[lang] = send(t, nil, s.base, "POST", "/api/v1/rooms/prize-mine/draws?lang="+lang, map[string]any{"title": "门店福袋", "entry": "like", "winners": 1, "prize_kind": "coupon", "prize_coupon_id": ids["my-room"] + 1000, "minutes": 30}, host, nil).wantProblem(t, 400, "draw_prize")
	}
	made := 0
	for name, id := range ids {
		if hostGives[name] {
			draw(host, id).want(t, 201)
			made++
			continue
		}
		for _, lang := range []string{"zh", "en"} {
			got := send(t, nil, s.base, "POST", "/api/v1/rooms/prize-mine/draws?lang="+lang, map[string]any{"title": "门店福袋", "entry": "like", "winners": 1, "prize_kind": "coupon", "prize_coupon_id": id, "minutes": 30}, host, nil).wantProblem(t, 400, "draw_prize")
			if got != absent[lang] {
				t.Errorf("store host gives %s (%s): %+v, want as an unknown coupon %+v", name, lang, got, absent[lang])
			}
		}
	}
	var list struct {
		Draws []struct {
			PrizeCouponID int64 `json:"prize_coupon_id"`
		}
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/prize-mine/draws", nil, "", nil).want(t, 200).decode(t, &list)
	if len(list.Draws) != made {
		t.Errorf("the room has %d draws, want %d (the host's refusals make none): %+v", len(list.Draws), made, list.Draws)
	}
	// Staff of every store give any of the merchant's coupons.
	draw(owner, ids["other-room"]).want(t, 201)
	draw(owner, ids["shop-other"]).want(t, 201)
}

// TestCouponListStoreCap: the list's cap (the newest 200) counts the
// coupons the caller reads: a store's host with two coupons older than
// 201 of another store's room still lists both.
func TestCouponListStoreCap(t *testing.T) {
	s, mine, _, host := newStoreHostShop(t, "cap", "-rate-limits=false")
	owner := testkit.OwnerToken
	create := func(title string, body map[string]any) int64 {
		t.Helper()
		body["kind"], body["title"], body["amount_fen"], body["budget_count"] = "fixed", title, 100, 10
		var c couponView
		send(t, nil, s.base, "POST", "/api/v1/coupons", body, owner, nil).want(t, 201).decode(t, &c)
		return c.ID
	}
	want := map[int64]bool{
		create("本店直播立减1元", map[string]any{"room": "cap-mine"}):                                  true,
		create("本店全店立减1元", map[string]any{"scope": map[string]any{"store_ids": []int64{mine}}}): true,
	}
	for i := range 201 {
		create(fmt.Sprintf("别店直播立减1元 %d", i), map[string]any{"room": "cap-other"})
	}
	var list struct{ Coupons []couponView }
	send(t, nil, s.base, "GET", "/api/v1/coupons", nil, host, nil).want(t, 200).decode(t, &list)
	got := map[int64]bool{}
	for _, c := range list.Coupons {
		got[c.ID] = true
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("store host lists %v, want their two coupons %v", got, want)
	}
	list.Coupons = nil
	send(t, nil, s.base, "GET", "/api/v1/coupons", nil, owner, nil).want(t, 200).decode(t, &list)
	if len(list.Coupons) != 200 {
		t.Errorf("owner lists %d coupons, want the newest 200", len(list.Coupons))
	}
}

// TestDrawPickupStoreScope: a host bound to one store names only their
// store as a free-item prize's pickup store (the prize spends that store's
// stock). Another store answers exactly as a store that does not exist
// (400 unknown_store, same text), after the SKU as an absent store is, and
// no draw is made. The owner names any store.
func TestDrawPickupStoreScope(t *testing.T) {
	s, mine, other, host := newStoreHostShop(t, "pickup")
	owner := testkit.OwnerToken
	absentStore := other + 1000

	draw := func(tok, lang string, sku, store int64) result {
		t.Helper()
		return send(t, nil, s.base, "POST", "/api/v1/rooms/pickup-mine/draws?lang="+lang, map[string]any{"title": "免单福袋", "entry": "like", "winners": 1, "prize_kind": "free_sku", "prize_sku_id": sku, "prize_store_id": store, "minutes": 30}, tok, nil)
	}
	for _, lang := range []string{"zh", "en"} {
		absent := draw(host, lang, s.sku1, absentStore).wantProblem(t, 400, "unknown_store")
		if got := draw(host, lang, s.sku1, other).wantProblem(t, 400, "unknown_store"); got != absent {
			t.Errorf("store host names another store (%s): %+v, want as an absent store %+v", lang, got, absent)
		}
		// An unknown SKU is told first either way.
		absentSKU := draw(host, lang, s.sku1+100000, absentStore).wantProblem(t, 400, "draw_prize")
		if got := draw(host, lang, s.sku1+100000, other).wantProblem(t, 400, "draw_prize"); got != absentSKU {
			t.Errorf("store host, unknown SKU, another store (%s): %+v, want %+v", lang, got, absentSKU)
		}
	}
	var list struct {
		Draws []struct {
			PrizeStoreID int64 `json:"prize_store_id"`
		}
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/pickup-mine/draws", nil, "", nil).want(t, 200).decode(t, &list)
	if len(list.Draws) != 0 {
		t.Fatalf("the host's refusals made draws: %+v", list.Draws)
	}
	draw(host, "zh", s.sku1, mine).want(t, 201)
	draw(owner, "zh", s.sku1, other).want(t, 201)
	send(t, nil, s.base, "GET", "/api/v1/rooms/pickup-mine/draws", nil, "", nil).want(t, 200).decode(t, &list)
	if len(list.Draws) != 2 || list.Draws[0].PrizeStoreID != other || list.Draws[1].PrizeStoreID != mine {
		t.Errorf("draws %+v, want the owner's (store %d) and the host's (store %d)", list.Draws, other, mine)
	}
}

// TestRoomCouponCardsCap: a room's snapshot shows its live coupon card
// however many coupons the room has: 200 newer drafts of the same room do
// not push it out (the database keeps the live ones before its cap).
func TestRoomCouponCardsCap(t *testing.T) {
	s := newShop(t, "-rate-limits=false")
	owner := testkit.OwnerToken
	send(t, nil, s.base, "POST", "/api/v1/rooms", map[string]any{"slug": "cards", "title": "券多的直播间"}, owner, nil).want(t, 201)
	create := func(title string) int64 {
		t.Helper()
		var c couponView
		send(t, nil, s.base, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": title, "room": "cards", "amount_fen": 100, "budget_count": 10}, owner, nil).want(t, 201).decode(t, &c)
		return c.ID
	}
	live := create("直播卡立减1元")
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/coupons/%d/push", live), nil, owner, nil).want(t, 200)
	for i := range coupons.ListMax {
		create(fmt.Sprintf("备用券 %d", i))
	}
	var room struct {
		Coupons []couponView `json:"coupons"`
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/cards", nil, "", nil).want(t, 200).decode(t, &room)
	if len(room.Coupons) != 1 || room.Coupons[0].ID != live || room.Coupons[0].Remaining != 10 {
		t.Fatalf("room coupon cards %+v, want the live card %d with 10 left", room.Coupons, live)
	}
}

// newStoreHostShop is a shop with a room at each of its first two stores
// ("<prefix>-mine" at mine, "<prefix>-other" at other), a brand room with
// no store ("<prefix>-brand"), and the token of a host bound to mine.
func newStoreHostShop(t *testing.T, prefix string, extra ...string) (s *demoShop, mine, other int64, host string) {
	t.Helper()
	s = newShop(t, extra...)
	owner := testkit.OwnerToken
	var stores struct{ Stores []struct{ ID int64 } }
	send(t, nil, s.base, "GET", "/api/v1/stores", nil, owner, nil).decode(t, &stores)
	if len(stores.Stores) < 2 {
		t.Fatalf("demo data: stores %+v", stores.Stores)
	}
	mine, other = stores.Stores[0].ID, stores.Stores[1].ID
	for slug, store := range map[string]int64{"mine": mine, "other": other, "brand": 0} {
		room := map[string]any{"slug": prefix + "-" + slug, "title": "直播 " + slug}
		if store != 0 {
			room["store_id"] = store
		}
		send(t, nil, s.base, "POST", "/api/v1/rooms", room, owner, nil).want(t, 201)
	}
	send(t, nil, s.base, "POST", "/api/v1/staff", map[string]any{"username": prefix + "-host", "name": "门店主播", "role": "host", "store_id": mine, "password": "Store-Host-2468"}, owner, nil).want(t, 201)
	return s, mine, other, staffLogin(t, s.base, prefix+"-host", "Store-Host-2468").Token
}
