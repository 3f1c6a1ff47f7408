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
	} `json:"products"`
	GMVFen int64 `json:"gmv_fen"`
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
	send(t, hc, s.base, "POST", "/api/v1/rooms/demo/shares?g=wang01", nil, "", nil)

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
	if !found || len(st.Shares) != 1 || st.Shares[0].Code != "wang01" || st.Shares[0].Shares != 1 {
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
