package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/testkit"
)

// abArm and abComparison are the A/B answer as a client reads it.
type abArm struct {
	ProductID int64  `json:"product_id"`
	Room      string `json:"room"`
	RoomTitle string `json:"room_title"`
	Successes int64  `json:"successes"`
	Trials    int64  `json:"trials"`
}

type abComparison struct {
	AcrossRooms bool    `json:"across_rooms"`
	A           abArm   `json:"a"`
	B           abArm   `json:"b"`
	P           float64 `json:"p_value"`
	PBBeatsA    float64 `json:"p_b_beats_a"`
	Enough      bool    `json:"enough_data"`
	Winner      string  `json:"winner"`
	Verdict     string  `json:"verdict"`
	VerdictEN   string  `json:"verdict_en"`
	ShownBoth   int64   `json:"shown_both"`
	Tests       string  `json:"tests"`
	Unlinked    bool    `json:"pairs_unlinked"`
	Paired      *struct {
		AOnly   int64   `json:"a_only"`
		BOnly   int64   `json:"b_only"`
		Both    int64   `json:"both"`
		Neither int64   `json:"neither"`
		Test    string  `json:"test"`
		P       float64 `json:"p_value"`
	} `json:"paired"`
}

type abAnswer struct {
	Asked     abComparison `json:"asked"`
	Converted abComparison `json:"converted"`
}

// TestABAcrossRooms: the same product shown in two lives of one shop, each
// at its own store. Viewers see the card (events), ask about it (comments)
// and buy it (orders paid on the dev provider), all through the API. The
// A/B answer counts each room's own viewers, askers and buyers; with ten
// viewers a room it declines to call it, with forty and a clear difference
// it names the room that did better (either way round), and says both
// times that the comparison is across rooms. A host bound to one store
// cannot bring in the other store's room; another shop's room, an unknown
// room and a product not in B's room are refused with their codes.
func TestABAcrossRooms(t *testing.T) {
	s := newShop(t, "-rate-limits=false")
	base, owner := s.base, testkit.OwnerToken
	var prods struct {
		Products []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
			SKUs []struct {
				ID int64 `json:"id"`
			} `json:"skus"`
		} `json:"products"`
	}
	send(t, nil, base, "GET", "/api/v1/products", nil, owner, nil).decode(t, &prods)
	var peach, osmanthus, sku int64
	for _, p := range prods.Products {
		switch p.Name {
		case "白桃乌龙冷泡茶":
			peach, sku = p.ID, p.SKUs[0].ID
		case "桂花乌龙冷泡茶":
			osmanthus = p.ID
		}
	}
	var stores struct{ Stores []struct{ ID int64 } }
	send(t, nil, base, "GET", "/api/v1/stores", nil, owner, nil).decode(t, &stores)
	if peach == 0 || osmanthus == 0 || len(stores.Stores) < 2 {
		t.Fatalf("demo data: peach %d, osmanthus %d, stores %+v", peach, osmanthus, stores.Stores)
	}
	storeA, storeB := stores.Stores[0].ID, stores.Stores[1].ID
	type room struct {
		slug, title string
		id, pickup  int64
	}
	rooms := []*room{{slug: "peach-fri", title: "周五上新 · 白桃乌龙"}, {slug: "peach-sat", title: "周六复播 · 白桃乌龙"}}
	for i, r := range rooms {
		var made struct {
			Room struct {
				ID int64 `json:"id"`
			} `json:"room"`
		}
		send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": r.slug, "title": r.title, "store_id": []int64{storeA, storeB}[i], "product_ids": []int64{peach}}, owner, nil).want(t, 201).decode(t, &made)
		r.id = made.Room.ID
		send(t, nil, base, "POST", "/api/v1/rooms/"+r.slug+"/status", map[string]string{"status": "live"}, owner, nil).want(t, 200)
		send(t, nil, base, "POST", "/api/v1/rooms/"+r.slug+"/pin", map[string]int64{"product_id": peach}, owner, nil).want(t, 200)
		var st struct {
			Stores []struct {
				ID        int64 `json:"id"`
				Available int64 `json:"available"`
			} `json:"stores"`
		}
		send(t, nil, base, "GET", "/api/v1/rooms/"+r.slug+"/stores?sku="+itoa(sku), nil, "", nil).want(t, 200).decode(t, &st)
		for _, x := range st.Stores {
			if x.Available >= 25 {
				r.pickup = x.ID
				break
			}
		}
		if r.pickup == 0 {
			t.Fatalf("%s: no store with 25 of SKU %d: %+v", r.slug, sku, st.Stores)
		}
	}
	fri, sat := rooms[0], rooms[1]

	// Each viewer has a visitor id (the live page's first-party cookie) and
	// reports the card shown; an asker logs in first (so the page reports it
	// as that customer, as the live page does), asks, and buys.
	phone := 13900002000
	questions := []string{"白桃多少钱一瓶", "白桃甜不甜", "白桃还有货吗", "白桃能自提吗", "白桃有咖啡因吗"}
	watch := func(r *room, viewers, askAndBuy int) {
		t.Helper()
		for i := 0; i < viewers; i++ {
			var id [16]byte
			rand.Read(id[:])
			cookie := map[string]string{"Cookie": "sl_vid=" + hex.EncodeToString(id[:])}
			if i >= askAndBuy {
				send(t, nil, base, "POST", "/api/v1/rooms/"+r.slug+"/events", map[string]any{"kind": "card_shown", "product_id": peach}, "", cookie).want(t, 202)
				continue
			}
			phone++
			v := viewerLogin(t, base, "demo", itoa(int64(phone))).Token
			send(t, nil, base, "POST", "/api/v1/rooms/"+r.slug+"/events", map[string]any{"kind": "card_shown", "product_id": peach}, v, cookie).want(t, 202)
			send(t, nil, base, "POST", "/api/v1/rooms/"+r.slug+"/comments", map[string]string{"text": questions[i%len(questions)]}, v, nil).want(t, 201)
			var o struct {
				ID int64 `json:"id"`
			}
			var key [12]byte
			rand.Read(key[:])
			send(t, nil, base, "POST", "/api/v1/orders", map[string]any{"items": []map[string]int64{{"sku_id": sku, "quantity": 1}}, "fulfilment": "pickup", "store_id": r.pickup, "room_id": r.id},
				v, map[string]string{"Idempotency-Key": hex.EncodeToString(key[:])}).want(t, 201).decode(t, &o)
			var pay struct {
				Intent string `json:"intent"`
			}
			send(t, nil, base, "POST", "/api/v1/orders/"+itoa(o.ID)+"/pay", nil, v, nil).decode(t, &pay)
			send(t, nil, base, "POST", "/api/v1/payments/dev/"+pay.Intent+"/confirm", nil, "", nil).want(t, 200)
		}
	}
	db := s.m.DB.ReadDB()
	// read waits until the comment reader has read every comment (it loads
	// its dictionary first: a minute and more on a loaded box), then asks.
	read := func(path, token string) abAnswer {
		t.Helper()
		testkit.WaitFor(t, "every comment read", 4*time.Minute, func() bool {
			var comments, read int64
			db.QueryRow(`SELECT COUNT(*) FROM comments WHERE room_id IN (?, ?)`, fri.id, sat.id).Scan(&comments)
			db.QueryRow(`SELECT COUNT(*) FROM comment_insights WHERE room_id IN (?, ?)`, fri.id, sat.id).Scan(&read)
			return comments == read
		})
		var ab abAnswer
		send(t, nil, base, "GET", path, nil, token, nil).want(t, 200).decode(t, &ab)
		return ab
	}
	friVsSat := "/api/v1/rooms/" + fri.slug + "/ab?a=" + itoa(peach) + "&b=" + itoa(peach) + "&room_b=" + sat.slug
	arms := func(c abComparison, a, b [2]int64) bool {
		return c.A.Successes == a[0] && c.A.Trials == a[1] && c.B.Successes == b[0] && c.B.Trials == b[1] &&
			c.A.Room == fri.slug && c.B.Room == sat.slug && c.A.RoomTitle == fri.title && c.B.RoomTitle == sat.title && c.AcrossRooms
	}

	// Ten viewers a room: 2 ask and buy in Friday's, 5 in Saturday's. Not
	// enough to call it; the numbers are each room's own.
	watch(fri, 10, 2)
	watch(sat, 10, 5)
	ab := read(friVsSat, owner)
	for _, c := range []abComparison{ab.Asked, ab.Converted} {
		if !arms(c, [2]int64{2, 10}, [2]int64{5, 10}) || c.Enough || c.Winner != "" ||
			!strings.HasPrefix(c.Verdict, "跨直播间对比") || !strings.Contains(c.Verdict, "数据还不够") ||
			!strings.Contains(c.Verdict, "白桃乌龙冷泡茶（"+fri.title+"）") || !strings.Contains(c.Verdict, "白桃乌龙冷泡茶（"+sat.title+"）") ||
			!strings.HasPrefix(c.VerdictEN, "Across two rooms") || !strings.Contains(c.VerdictEN, "Not enough data") {
			t.Fatalf("ten viewers a room: %+v", c)
		}
	}

	// Forty a room: 5 of Friday's, 20 of Saturday's ask and buy. Saturday's
	// room is asked about more and converts better, either way round.
	watch(fri, 30, 3)
	watch(sat, 30, 15)
	ab = read(friVsSat, owner)
	for _, c := range []abComparison{ab.Asked, ab.Converted} {
		if !arms(c, [2]int64{5, 40}, [2]int64{20, 40}) || !c.Enough || c.Winner != "b" || c.P >= 0.001 || c.PBBeatsA < 0.999 ||
			!strings.HasPrefix(c.Verdict, "跨直播间对比（两场的观众和时间都不同，比例按各自直播间里看到卡片的观众计算）：白桃乌龙冷泡茶（"+sat.title+"）") {
			t.Fatalf("forty viewers a room: %+v", c)
		}
	}
	if !strings.Contains(ab.Converted.Verdict, "转化更好") || !strings.Contains(ab.Asked.Verdict, "被问得更多") {
		t.Fatalf("verdicts: %q / %q", ab.Asked.Verdict, ab.Converted.Verdict)
	}
	// Every viewer watched one room only: the arms share nobody.
	if ab.Asked.ShownBoth != 0 || strings.Contains(ab.Asked.Verdict, "两款卡片都看到了") || strings.Contains(ab.Asked.VerdictEN, "saw both cards") {
		t.Fatalf("distinct audiences read as shared: %+v", ab.Asked)
	}
	// The tables agree: distinct buyers of the product per room.
	for _, r := range []struct {
		room *room
		want int64
	}{{fri, 5}, {sat, 20}} {
		var buyers int64
		db.QueryRow(`SELECT COUNT(DISTINCT o.customer_id) FROM orders o JOIN order_lines l ON l.order_id = o.id
			WHERE o.room_id = ? AND l.product_id = ? AND o.status IN ('paid', 'ready', 'shipped', 'completed')`, r.room.id, peach).Scan(&buyers)
		if buyers != r.want {
			t.Fatalf("%s: %d buyers in the tables, want %d", r.room.slug, buyers, r.want)
		}
	}
	swapped := read("/api/v1/rooms/"+sat.slug+"/ab?a="+itoa(peach)+"&b="+itoa(peach)+"&room_b="+fri.slug, owner)
	if c := swapped.Converted; c.Winner != "a" || c.A.Room != sat.slug || c.A.Successes != 20 || c.B.Successes != 5 || !c.AcrossRooms || c.PBBeatsA > 0.001 {
		t.Fatalf("swapped: %+v", c)
	}
	// room_b naming the path's room is the one-room comparison. In one
	// room both arms are the same 40 viewers, so the verdict pairs each
	// viewer's two outcomes (McNemar's test): the 5 who asked and bought
	// did so for both "variants" (the same card), the 35 others for
	// neither; no discordant pair, nothing to call.
	one := read("/api/v1/rooms/"+fri.slug+"/ab?a="+itoa(peach)+"&b="+itoa(peach)+"&room_b="+fri.slug, owner)
	for _, c := range []abComparison{one.Asked, one.Converted} {
		if c.AcrossRooms || strings.Contains(c.Verdict, "跨直播间") || c.ShownBoth != 40 || c.Paired == nil ||
			c.Paired.Both != 5 || c.Paired.Neither != 35 || c.Paired.AOnly+c.Paired.BOnly != 0 || c.Paired.Test != "exact_binomial" || c.P != 1 ||
			c.Enough || c.Winner != "" || !strings.HasPrefix(c.Verdict, "数据还不够，暂不下结论：配对检验") || !strings.Contains(c.Verdict, "McNemar 配对检验") ||
			strings.Contains(c.Verdict, "两组并不独立") || !strings.Contains(c.VerdictEN, "McNemar's paired test (exact binomial) on each viewer's two outcomes: of 40 viewers shown both") {
			t.Fatalf("one room: %+v %+v", c, c.Paired)
		}
	}
	// A live recorded before viewers' events carried the customer
	// (migration 2902 left them 0): Saturday's 40 viewers, 20 of whom asked
	// and bought, are tied to nobody, so their pairs cannot be formed. The
	// one-room verdict is the independent tests' (enough data, no
	// difference: the same card) with the note, and says why not paired.
	if err := s.m.DB.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
		_, err := tx.Exec(context.Background(), `UPDATE insight_events SET customer_id = 0 WHERE room_id = ?`, sat.id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	old := read("/api/v1/rooms/"+sat.slug+"/ab?a="+itoa(peach)+"&b="+itoa(peach)+"&room_b="+sat.slug, owner)
	for _, c := range []abComparison{old.Asked, old.Converted} {
		if c.AcrossRooms || c.Paired != nil || !c.Unlinked || c.ShownBoth != 40 || c.A.Successes != 20 || c.B.Successes != 20 ||
			!c.Enough || c.Winner != "" || c.P != 1 || !strings.HasPrefix(c.Tests, "two-proportion z-test") ||
			!strings.HasPrefix(c.Verdict, "两款差别不显著") || !strings.Contains(c.Verdict, "双比例z检验") ||
			!strings.Contains(c.Verdict, "其中 40 位观众两款卡片都看到了，两组并不独立") || !strings.Contains(c.Verdict, "做不了配对检验") ||
			!strings.Contains(c.VerdictEN, "40 viewers saw both cards, so the two groups are not independent") ||
			!strings.Contains(c.VerdictEN, "the paired test could not be formed") {
			t.Fatalf("a live recorded before 2902: %+v %+v", c, c.Paired)
		}
	}

	// The dashboard's A/B panel: B's room picked beside B shows what the
	// API says, with each variant's room (desktop, 1440×900).
	t.Run("Dashboard", func(t *testing.T) {
		ctx := testkit.NewContext(t, testkit.Browser(t), 2*time.Minute)
		if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(1440, 900)); err != nil {
			t.Fatal(err)
		}
		testkit.StaffLogin(t, ctx, base, "owner", demo.Password, "/dashboard?room="+fri.slug)
		testkit.Run(t, ctx, "pick Saturday's room for B",
			chromedp.WaitVisible(chromedp.CSS("#dash-ab-panel")),
			chromedp.Poll[chromedp.Void](`document.getElementById("dash-ab-a").value === "`+itoa(peach)+`" && [...document.getElementById("dash-ab-room-b").options].some((o) => o.value === "`+sat.slug+`")`, chromedp.WithPollingTimeout(time.Minute)),
			chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("dash-ab-room-b"); s.value = "`+sat.slug+`"; s.dispatchEvent(new Event("change")); })()`),
			chromedp.Poll[chromedp.Void](`document.querySelector('#dash-ab [data-metric=converted][data-across="1"]') !== null`, chromedp.WithPollingTimeout(time.Minute)),
		)
		for metric, c := range map[string]abComparison{"asked": ab.Asked, "converted": ab.Converted} {
			shown, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#dash-ab [data-metric=`+metric+`] .dash-ab-arms tbody tr td:first-child .dash-ab-room, #dash-ab [data-metric=`+metric+`] .dash-ab-arms tbody tr td:nth-child(2), #dash-ab [data-metric=`+metric+`] .verdict")].map((e) => e.textContent)`))
			want := []string{fri.title, fmt.Sprintf("%d / %d", c.A.Successes, c.A.Trials), sat.title, fmt.Sprintf("%d / %d", c.B.Successes, c.B.Trials), c.Verdict}
			if err != nil || strings.Join(shown, "|") != strings.Join(want, "|") {
				testkit.Screenshot(t, ctx, "failed-dashboard-ab-rooms")
				t.Fatalf("%s: page %q, API %q (%v)", metric, shown, want, err)
			}
		}
		testkit.Settled(t, ctx)
		testkit.Screenshot(t, ctx, "dashboard-ab-rooms")
		// In English: the English verdict, the room titles as written.
		testkit.Run(t, ctx, "the panel in English",
			chromedp.Navigate(base+"/dashboard?room="+fri.slug+"&lang=en"),
			chromedp.Poll[chromedp.Void](`[...document.getElementById("dash-ab-room-b").options].some((o) => o.value === "`+sat.slug+`")`, chromedp.WithPollingTimeout(time.Minute)),
			chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("dash-ab-room-b"); s.value = "`+sat.slug+`"; s.dispatchEvent(new Event("change")); })()`),
			chromedp.Poll[chromedp.Void](`document.querySelector('#dash-ab [data-metric=converted][data-across="1"] .verdict') !== null`, chromedp.WithPollingTimeout(time.Minute)),
		)
		if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#dash-ab [data-metric=converted] .verdict").textContent`)); err != nil || got != ab.Converted.VerdictEN {
			t.Fatalf("English verdict: page %q, API %q (%v)", got, ab.Converted.VerdictEN, err)
		}
		testkit.Settled(t, ctx)
		testkit.Screenshot(t, ctx, "dashboard-ab-rooms-en")
	})

	// Refusals: problem+json with stable codes, and the field at fault.
	ab0 := "/api/v1/rooms/" + fri.slug + "/ab?a=" + itoa(peach) + "&b="
	if p := send(t, nil, base, "GET", ab0+itoa(osmanthus)+"&room_b="+sat.slug, nil, owner, nil).wantProblem(t, 400, "product_not_in_room"); p.Field != "b" {
		t.Fatalf("B's product not in B's room: field %q", p.Field)
	}
	if p := send(t, nil, base, "GET", "/api/v1/rooms/"+fri.slug+"/ab?a=999999&b="+itoa(peach)+"&room_b="+sat.slug, nil, owner, nil).wantProblem(t, 400, "product_not_in_room"); p.Field != "a" {
		t.Fatalf("unknown product A: field %q", p.Field)
	}
	if p := send(t, nil, base, "GET", ab0+itoa(peach)+"&room_b=no-such-room", nil, owner, nil).wantProblem(t, 400, "unknown_room"); p.Field != "room_b" {
		t.Fatalf("unknown room: field %q", p.Field)
	}
	send(t, nil, base, "GET", ab0+"x&room_b="+sat.slug, nil, owner, nil).wantProblem(t, 400, "invalid_ab")

	rival := otherShopOwner(t, s)
	send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": "rival-live", "title": "对手直播"}, rival, nil).want(t, 201)
	send(t, nil, base, "GET", ab0+itoa(peach)+"&room_b=rival-live", nil, owner, nil).wantProblem(t, 400, "unknown_room")
	send(t, nil, base, "GET", "/api/v1/rooms/rival-live/ab?a=1&b="+itoa(peach)+"&room_b="+sat.slug, nil, rival, nil).wantProblem(t, 400, "unknown_room")
	send(t, nil, base, "GET", friVsSat, nil, rival, nil).wantProblem(t, 404, "not_found")

	// A host of store A's studio reads Friday's room alone, not Saturday's
	// (store B's) in either place.
	send(t, nil, base, "POST", "/api/v1/staff", map[string]any{"username": "host-fri", "name": "A店主播", "role": "host", "store_id": storeA, "password": "Studio-Fri-2468"}, owner, nil).want(t, 201)
	host := staffLogin(t, base, "host-fri", "Studio-Fri-2468").Token
	send(t, nil, base, "GET", ab0+itoa(peach), nil, host, nil).want(t, 200)
	send(t, nil, base, "GET", friVsSat, nil, host, nil).wantProblem(t, 400, "unknown_room")
	send(t, nil, base, "GET", "/api/v1/rooms/"+sat.slug+"/ab?a="+itoa(peach)+"&b="+itoa(peach)+"&room_b="+fri.slug, nil, host, nil).wantProblem(t, 404, "not_found")
	// Staff without the room permission (a guide) are forbidden.
	send(t, nil, base, "GET", friVsSat, nil, staffLogin(t, base, "guide", "shelflive-demo").Token, nil).wantProblem(t, 403, "forbidden")

	// A viewer who watched both lives is counted in both arms: the verdict
	// across rooms names them.
	both := map[string]string{"Cookie": "sl_vid=" + strings.Repeat("ab", 16)}
	for _, r := range rooms {
		send(t, nil, base, "POST", "/api/v1/rooms/"+r.slug+"/events", map[string]any{"kind": "card_shown", "product_id": peach}, "", both).want(t, 202)
	}
	testkit.WaitFor(t, "the shared viewer counted", time.Minute, func() bool {
		ab := read(friVsSat, owner)
		return ab.Converted.ShownBoth == 1 && ab.Converted.A.Trials == 41 && strings.Contains(ab.Converted.Verdict, "其中 1 位观众两款卡片都看到了")
	})
}
