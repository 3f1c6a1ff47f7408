package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shelflive/shelflive/internal/testkit"
)

type roomStats struct {
	ViewersNow       int     `json:"viewers_now"`
	PeakViewers      int     `json:"peak_viewers"`
	UniqueViewers    int     `json:"unique_viewers"`
	Sessions         int     `json:"sessions"`
	AvgWatchSeconds  float64 `json:"avg_watch_seconds"`
	NewViewers       int     `json:"new_viewers"`
	ReturningViewers int     `json:"returning_viewers"`
	Shares           []struct {
		Code   string `json:"code"`
		Shares int64  `json:"shares"`
	} `json:"shares"`
	Products []struct {
		ProductID int64 `json:"product_id"`
		Shown     int64 `json:"shown"`
		Opened    int64 `json:"opened"`
		Checkout  int64 `json:"checkout"`
		Paid      int64 `json:"paid"`
	} `json:"products"`
	Comments []struct {
		N int64 `json:"n"`
	} `json:"comments_per_minute"`
	Orders     int64 `json:"orders"`
	PaidOrders int64 `json:"paid_orders"`
	Buyers     int64 `json:"buyers"`
	GMVFen     int64 `json:"gmv_fen"`
}

func sumMinutes(ms []struct {
	N int64 `json:"n"`
}) int64 {
	n := int64(0)
	for _, m := range ms {
		n += m.N
	}
	return n
}

type demoRoom struct {
	ID         int64   `json:"id"`
	Slug       string  `json:"slug"`
	ProductIDs []int64 `json:"product_ids"`
}

func getDemoRoom(t *testing.T, base string) demoRoom {
	t.Helper()
	var st struct {
		Room demoRoom `json:"room"`
	}
	send(t, nil, base, "GET", "/api/v1/rooms/demo", nil, "", nil).decode(t, &st)
	if st.Room.ID == 0 || len(st.Room.ProductIDs) < 2 {
		t.Fatalf("demo room: %+v", st.Room)
	}
	return st.Room
}

// TestInsightViewerEvents: a viewer who opens the live page gets a visitor
// id; their WebSocket is one session with its watch time; card events of
// lineup products and share links are counted per visitor; bad events are
// refused with their codes; the studio's stats show it, other tenants and
// guides cannot read them.
func TestInsightViewerEvents(t *testing.T) {
	s := newShop(t)
	room := getDemoRoom(t, s.base)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if r := send(t, hc, s.base, "GET", "/live/demo", nil, "", nil); r.Status != 200 || !strings.Contains(r.Header.Get("Set-Cookie"), "sl_vid=") {
		t.Fatalf("live page: %d, Set-Cookie %q", r.Status, r.Header.Get("Set-Cookie"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hdr := http.Header{}
	for _, c := range jar.Cookies(mustURL(t, s.base)) {
		hdr.Add("Cookie", c.Name+"="+c.Value)
	}
	conn, _, err := websocket.Dial(ctx, strings.Replace(s.base, "http", "ws", 1)+"/api/v1/ws?sub=room:"+itoa(room.ID), &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatal(err)
	}
	p := room.ProductIDs[0]
	for _, k := range []string{"card_shown", "card_shown", "card_open", "checkout"} {
		if r := send(t, hc, s.base, "POST", "/api/v1/rooms/demo/events", map[string]any{"kind": k, "product_id": p}, "", nil); r.Status != 202 {
			t.Fatalf("%s: %d %s", k, r.Status, r.Body)
		}
	}
	send(t, hc, s.base, "POST", "/api/v1/rooms/demo/events", map[string]any{"kind": "view_start", "product_id": p}, "", nil).wantProblem(t, 400, "invalid_event")
	send(t, hc, s.base, "POST", "/api/v1/rooms/demo/events", map[string]any{"kind": "card_open", "product_id": 999999}, "", nil).wantProblem(t, 400, "unknown_product")
	send(t, hc, s.base, "POST", "/api/v1/rooms/demo/shares?g="+url.QueryEscape(guideShare(t, s)), nil, "", nil)

	stats := func() roomStats {
		var st roomStats
		r := send(t, nil, s.base, "GET", "/api/v1/rooms/demo/stats", nil, testkit.OwnerToken, nil)
		if r.Status != 200 {
			t.Fatalf("stats: %d %s", r.Status, r.Body)
		}
		r.decode(t, &st)
		return st
	}
	testkit.WaitFor(t, "viewer counted", 30*time.Second, func() bool { st := stats(); return st.ViewersNow == 1 && st.Sessions == 1 })
	conn.Close(websocket.StatusNormalClosure, "")
	testkit.WaitFor(t, "session ended", 30*time.Second, func() bool { return stats().ViewersNow == 0 })
	st := stats()
	if st.UniqueViewers != 1 || st.PeakViewers != 1 || st.NewViewers != 1 || st.AvgWatchSeconds <= 0 {
		t.Fatalf("viewers %+v", st)
	}
	var found bool
	for _, pr := range st.Products {
		if pr.ProductID == p {
			found = true
			if pr.Shown != 1 || pr.Opened != 1 || pr.Checkout != 1 {
				t.Fatalf("funnel %+v", pr)
			}
		}
	}
	if !found || len(st.Shares) != 1 || st.Shares[0].Code != "wang01" || st.Shares[0].Shares != 2 { // the guide's own share and the visitor's re-share of the guide's signed code
		t.Fatalf("products %+v shares %+v", st.Products, st.Shares)
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo/stats", nil, staffLogin(t, s.base, "guide", "shelflive-demo").Token, nil).wantProblem(t, 403, "forbidden")
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestInsightComments: viewers' comments are read off the hot path (the
// pinned card when nothing is named, the product named otherwise); the
// host's comment about a product answers the questions about it; the
// studio closes the rest; the classify API reads texts with the merchant's
// aliases, in order, null when no product.
func TestInsightComments(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	room := getDemoRoom(t, s.base)
	var prods struct {
		Products []map[string]any `json:"products"`
	}
	send(t, nil, s.base, "GET", "/api/v1/products", nil, owner, nil).decode(t, &prods)
	byName := map[string]map[string]any{}
	for _, p := range prods.Products {
		byName[p["name"].(string)] = p
	}
	strawberry, milk, matcha := byName["丹东99草莓"], byName["低温鲜牛奶"], byName["抹茶生巧"]
	id := func(p map[string]any) int64 { return int64(p["id"].(float64)) }
	matcha["aliases"] = []string{"绿色那盒"}
	for _, k := range matcha["skus"].([]any) {
		delete(k.(map[string]any), "available")
		delete(k.(map[string]any), "held")
	}
	if r := send(t, nil, s.base, "PUT", "/api/v1/products/"+itoa(id(matcha)), matcha, owner, nil); r.Status != 200 {
		t.Fatalf("aliases: %d %s", r.Status, r.Body)
	}

	post := func(phone, text string) int64 {
		v := viewerLogin(t, s.base, "demo", phone)
		r := send(t, nil, s.base, "POST", "/api/v1/rooms/demo/comments", map[string]string{"text": text}, v.Token, nil)
		if r.Status != 201 {
			t.Fatalf("comment %q: %d %s", text, r.Status, r.Body)
		}
		var c struct {
			ID int64 `json:"id"`
		}
		r.decode(t, &c)
		return c.ID
	}
	post("13900000801", "多少钱一盒") // pinned: strawberries
	milkQ := post("13900000802", "牛奶有添加剂吗")
	post("13900000803", "绿色那盒给我来一个")   // alias: matcha, buying
	time.Sleep(600 * time.Millisecond) // the host's own comment gap
	if r := send(t, nil, s.base, "POST", "/api/v1/rooms/demo/comments", map[string]string{"text": "草莓今天39块8"}, owner, map[string]string{"X-ShelfLive-As": "staff"}); r.Status != 201 {
		t.Fatalf("host comment: %d %s", r.Status, r.Body)
	}
	type signals struct {
		Products []struct {
			ProductID int64            `json:"product_id"`
			Mentions  int64            `json:"mentions"`
			Questions int64            `json:"questions"`
			ByIntent  map[string]int64 `json:"by_intent"`
			Sentiment struct{ Pos, Neg, Neu int64 }
			Open      int64 `json:"unanswered_questions"`
		} `json:"products"`
		Unanswered []struct {
			CommentID int64  `json:"comment_id"`
			ProductID int64  `json:"product_id"`
			Intent    string `json:"intent"`
			Text      string `json:"text"`
		} `json:"unanswered"`
	}
	var sig signals
	// All four read: the reader saves in batches, so the viewers' three
	// can be read before the host's answer to the price question. The
	// dictionary loads first: 90 s and more at load 25+ on this box.
	testkit.WaitFor(t, "comments read, the host's answer too", 4*time.Minute, func() bool {
		send(t, nil, s.base, "GET", "/api/v1/rooms/demo/insights", nil, owner, nil).decode(t, &sig)
		n, strawberryOpen := int64(0), int64(-1)
		for _, p := range sig.Products {
			n += p.Mentions
			if p.ProductID == id(strawberry) {
				strawberryOpen = p.Open
			}
		}
		return n == 3 && strawberryOpen == 0
	})
	for _, p := range sig.Products {
		switch p.ProductID {
		case id(strawberry):
			if p.Mentions != 1 || p.ByIntent["ask_price"] != 1 || p.Open != 0 {
				t.Fatalf("strawberries: %+v", p)
			}
		case id(milk):
			if p.ByIntent["ask_ingredients_allergen"] != 1 || p.Open != 1 {
				t.Fatalf("milk: %+v", p)
			}
		case id(matcha):
			if p.ByIntent["purchase_intent"] != 1 || p.Sentiment.Pos != 1 {
				t.Fatalf("matcha: %+v", p)
			}
		}
	}
	if len(sig.Unanswered) != 1 || sig.Unanswered[0].CommentID != milkQ || sig.Unanswered[0].Text != "牛奶有添加剂吗" {
		t.Fatalf("unanswered %+v", sig.Unanswered)
	}
	if r := send(t, nil, s.base, "POST", "/api/v1/rooms/demo/questions/"+itoa(milkQ)+"/answered", nil, owner, nil); r.Status != 204 {
		t.Fatalf("answered: %d %s", r.Status, r.Body)
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo/insights", nil, owner, nil).decode(t, &sig)
	if len(sig.Unanswered) != 0 {
		t.Fatalf("still open: %+v", sig.Unanswered)
	}
	send(t, nil, s.base, "POST", "/api/v1/rooms/demo/questions/999999/answered", nil, owner, nil).wantProblem(t, 404, "not_found")

	var cl struct {
		Results []struct {
			Intent    string `json:"intent"`
			ProductID *int64 `json:"product_id"`
			Sentiment string `json:"sentiment"`
		} `json:"results"`
	}
	r := send(t, nil, s.base, "POST", "/api/v1/insight/classify", map[string]any{"texts": []string{"绿色那盒多少钱", "主播好", "草莓太贵了"}, "product_ids": room.ProductIDs}, owner, nil)
	if r.Status != 200 {
		t.Fatalf("classify: %d %s", r.Status, r.Body)
	}
	r.decode(t, &cl)
	if len(cl.Results) != 3 || cl.Results[0].Intent != "ask_price" || cl.Results[0].ProductID == nil || *cl.Results[0].ProductID != id(matcha) ||
		cl.Results[1].Intent != "chitchat" || cl.Results[1].ProductID != nil ||
		cl.Results[2].Intent != "complaint" || cl.Results[2].Sentiment != "neg" || cl.Results[2].ProductID == nil || *cl.Results[2].ProductID != id(strawberry) {
		t.Fatalf("classify: %s", r.Body)
	}
	if !strings.Contains(string(r.Body), `"product_id":null`) {
		t.Fatalf("no product must be null: %s", r.Body)
	}
	send(t, nil, s.base, "POST", "/api/v1/insight/classify", map[string]any{"texts": []string{}}, owner, nil).wantProblem(t, 400, "invalid_texts")
}
