package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

type candidate struct {
	StoreID    int64     `json:"store_id"`
	SKUID      int64     `json:"sku_id"`
	LotCode    string    `json:"lot_code"`
	Storage    string    `json:"storage"`
	ExpiresAt  time.Time `json:"expires_at"`
	Available  int64     `json:"available"`
	RegularFen int64     `json:"regular_fen"`
	PriceFen   int64     `json:"price_fen"`
	FloorFen   int64     `json:"floor_fen"`
}

// TestClearanceSession: a lot 20 hours from expiry is a candidate at its
// ladder price; one click makes a clearance room whose flash sale sells
// that lot at that price; a viewer buys and pays; the waste-saved report
// counts the unit and the money; bad rules and requests change nothing.
func TestClearanceSession(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	var lot struct {
		ID int64 `json:"id"`
	}
	now := time.Now().UTC()
	send(t, nil, s.base, "POST", "/api/v1/lots", map[string]any{"sku_id": s.sku1, "code": "NEAR-1", "produced_at": now.Add(-48 * time.Hour), "expires_at": now.Add(20 * time.Hour)}, owner, nil).want(t, 201).decode(t, &lot)
	send(t, nil, s.base, "PUT", "/api/v1/stock", map[string]any{"store_id": s.storeID, "lot_id": lot.ID, "on_hand": 7}, owner, nil).want(t, 204)

	var cl struct {
		Candidates []candidate `json:"candidates"`
		Rules      []struct {
			Storage      string `json:"storage"`
			FloorPercent int    `json:"floor_percent"`
			Ladder       []struct {
				HoursLeft int `json:"hours_left"`
				Percent   int `json:"percent"`
			} `json:"ladder"`
		} `json:"rules"`
	}
	send(t, nil, s.base, "GET", "/api/v1/clearance/candidates?store_id="+itoa(s.storeID), nil, owner, nil).want(t, 200).decode(t, &cl)
	var c *candidate
	for i := range cl.Candidates {
		if cl.Candidates[i].LotCode == "NEAR-1" {
			c = &cl.Candidates[i]
		}
		if cl.Candidates[i].StoreID != s.storeID {
			t.Fatalf("candidate of another store: %+v", cl.Candidates[i])
		}
	}
	if c == nil {
		t.Fatalf("lot NEAR-1 (20 h left, 7 units) is not a candidate: %+v", cl.Candidates)
	}
	// The ladder price as the rules say, computed here from the rules returned.
	want := c.RegularFen
	for _, r := range cl.Rules {
		if r.Storage != c.Storage {
			continue
		}
		for _, st := range r.Ladder {
			if 20 <= st.HoursLeft {
				want = c.RegularFen * int64(st.Percent) / 100
			}
		}
		if floor := (c.RegularFen*int64(r.FloorPercent) + 99) / 100; want < floor {
			want = floor
		}
	}
	if c.Available != 7 || c.PriceFen != want || c.PriceFen >= c.RegularFen || c.PriceFen < c.FloorFen {
		t.Fatalf("candidate %+v, want 7 units at %d fen", c, want)
	}

	// Bad input changes nothing.
	send(t, nil, s.base, "PUT", "/api/v1/clearance/rules", map[string]any{"rules": []map[string]any{{"storage": "chilled", "lead_hours": 48, "floor_percent": 40, "ladder": []map[string]any{{"hours_left": 48, "percent": 50}, {"hours_left": 24, "percent": 70}}}}}, owner, nil).wantProblem(t, 400, "clearance_rules_invalid")
	send(t, nil, s.base, "POST", "/api/v1/clearance/sessions", map[string]any{"store_id": 0}, owner, nil).wantProblem(t, 400, "clearance_session_invalid")
	send(t, nil, s.base, "POST", "/api/v1/clearance/sessions", map[string]any{"store_id": s.storeID, "sku_ids": []int64{999999}}, owner, nil).wantProblem(t, 409, "clearance_nothing_to_sell")
	send(t, nil, s.base, "POST", "/api/v1/clearance/sessions", map[string]any{"store_id": s.storeID}, staffLogin(t, s.base, "quality", "shelflive-demo").Token, nil).wantProblem(t, 403, "forbidden")

	var sess struct {
		RoomSlug string `json:"room_slug"`
		Items    []struct {
			SaleID    int64     `json:"sale_id"`
			SKUID     int64     `json:"sku_id"`
			PriceFen  int64     `json:"price_fen"`
			Quantity  int64     `json:"quantity"`
			ExpiresAt time.Time `json:"expires_at"`
		} `json:"items"`
	}
	r := send(t, nil, s.base, "POST", "/api/v1/clearance/sessions", map[string]any{"store_id": s.storeID, "sku_ids": []int64{s.sku1}, "minutes": 30, "per_user_limit": 2}, owner, nil)
	if r.Status != 201 {
		t.Fatalf("session: %d %s", r.Status, r.Body)
	}
	r.decode(t, &sess)
	if len(sess.Items) != 1 || sess.Items[0].SKUID != s.sku1 || sess.Items[0].PriceFen != want || sess.Items[0].Quantity != 7 || !sess.Items[0].ExpiresAt.Equal(c.ExpiresAt) {
		t.Fatalf("session items %+v, want sku %d: 7 at %d expiring %v", sess.Items, s.sku1, want, c.ExpiresAt)
	}
	var room struct {
		Room struct {
			Title string `json:"title"`
		} `json:"room"`
		Flash []struct {
			ID        int64      `json:"id"`
			Status    string     `json:"status"`
			PriceFen  int64      `json:"price_fen"`
			Remaining int64      `json:"remaining"`
			Expiry    *time.Time `json:"lot_expires_at"`
		} `json:"flash_sales"`
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/"+sess.RoomSlug, nil, "", nil).want(t, 200).decode(t, &room)
	if len(room.Flash) != 1 || room.Flash[0].Status != "running" || room.Flash[0].PriceFen != want || room.Flash[0].Remaining != 7 ||
		room.Flash[0].Expiry == nil || !room.Flash[0].Expiry.Equal(c.ExpiresAt) {
		t.Fatalf("clearance room %q flash sales %+v", room.Room.Title, room.Flash)
	}

	buyer := viewerLogin(t, s.base, "demo", "13900000901")
	body := s.pickup([2]int64{s.sku1, 2})
	body["flash_sale_id"] = sess.Items[0].SaleID
	r = send(t, nil, s.base, "POST", "/api/v1/orders", body, buyer.Token, nil)
	if r.Status != 201 {
		t.Fatalf("clearance buy: %d %s", r.Status, r.Body)
	}
	var o orderView
	r.decode(t, &o)
	if o.TotalFen != 2*want {
		t.Fatalf("order total %d, want 2 × %d", o.TotalFen, want)
	}
	var in struct {
		Intent string `json:"intent"`
	}
	send(t, nil, s.base, "POST", "/api/v1/orders/"+itoa(o.ID)+"/pay", nil, buyer.Token, nil).decode(t, &in)
	if r := send(t, nil, s.base, "POST", "/api/v1/payments/dev/"+in.Intent+"/confirm", nil, "", nil); r.Status != 200 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}

	var rep struct {
		Rows []struct {
			StoreID    int64 `json:"store_id"`
			Sessions   int64 `json:"sessions"`
			Offered    int64 `json:"units_offered"`
			UnitsSold  int64 `json:"units_sold"`
			RevenueFen int64 `json:"revenue_fen"`
			RegularFen int64 `json:"regular_value_fen"`
		} `json:"rows"`
	}
	testkit.WaitFor(t, "paid clearance order in the report", 10*time.Second, func() bool {
		send(t, nil, s.base, "GET", "/api/v1/clearance/report", nil, owner, nil).decode(t, &rep)
		return len(rep.Rows) == 1 && rep.Rows[0].UnitsSold == 2
	})
	row := rep.Rows[0]
	if row.StoreID != s.storeID || row.Sessions != 1 || row.Offered != 7 || row.RevenueFen != 2*want || row.RegularFen != 2*c.RegularFen {
		t.Fatalf("waste-saved row %+v", row)
	}
	send(t, nil, s.base, "GET", "/api/v1/clearance/report?from=2026-13-01", nil, owner, nil).wantProblem(t, 400, "invalid_date")
}

// TestClearanceAdmin: the owner opens 临期清仓, sees the near-expiry batch at
// its clearance price, starts a clearance live with one click and gets the
// room link; looked at in a screenshot.
func TestClearanceAdmin(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	var lot struct {
		ID int64 `json:"id"`
	}
	now := time.Now().UTC()
	send(t, nil, s.base, "POST", "/api/v1/lots", map[string]any{"sku_id": s.sku1, "code": "NEAR-UI", "produced_at": now.Add(-48 * time.Hour), "expires_at": now.Add(9 * time.Hour)}, owner, nil).want(t, 201).decode(t, &lot)
	send(t, nil, s.base, "PUT", "/api/v1/stock", map[string]any{"store_id": s.storeID, "lot_id": lot.ID, "on_hand": 4}, owner, nil).want(t, 204)
	tab := testkit.NewTab(t, testkit.Browser(t), 60*time.Second)
	tab.StaffOpen(s.base, "owner", demo.Password, "/admin%23clearance%3Fstore%3D"+itoa(s.storeID), "#clearance-start")
	ctx := tab.Ctx
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#admin-main").textContent`))
	if !strings.Contains(text, "NEAR-UI") || !strings.Contains(text, "清仓价") {
		t.Fatalf("clearance tab lacks the batch: %q", text)
	}
	testkit.Screenshot(t, ctx, "admin-clearance")
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#clearance-start")),
		chromedp.WaitVisible(chromedp.CSS("#clearance-made a")),
	)
	if err != nil {
		t.Fatal(err)
	}
	link, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#clearance-made a").getAttribute("href")`))
	if !strings.HasPrefix(link, "/live/clear-") {
		t.Fatalf("room link %q", link)
	}
	// A viewer's phone: the offer card shows the clearance price and the expiry.
	phone := testkit.NewContext(t, testkit.Browser(t), 60*time.Second)
	if err := chromedp.Do(phone,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(s.base+link),
		chromedp.WaitVisible(chromedp.CSS("#flash-expiry")),
	); err != nil {
		t.Fatal(err)
	}
	card, _ := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#flash").textContent`))
	if !strings.Contains(card, "到期") || !strings.Contains(card, "马上抢") {
		t.Fatalf("clearance card: %q", card)
	}
	// Every offer is reachable: the card steps through them.
	pos, _ := chromedp.Run(phone, chromedp.Evaluate[string](`(document.querySelector("#flash-pos")||{}).textContent||""`))
	if !strings.HasPrefix(pos, "1/") || pos == "1/1" {
		t.Fatalf("offer position %q: want 1/N with several offers", pos)
	}
	first, _ := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#flash .name").textContent`))
	if err := chromedp.Do(phone, chromedp.Click(chromedp.CSS(`.flash-nav button[aria-label="下一个"]`))); err != nil {
		t.Fatal(err)
	}
	second, _ := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#flash .name").textContent`))
	if second == first {
		t.Fatalf("next offer shows the same item %q", first)
	}
	testkit.Screenshot(t, phone, "clearance-room")
}
