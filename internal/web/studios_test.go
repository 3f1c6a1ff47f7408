package web_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestStoresAsStudios: rooms belong to stores; a host bound to one store
// sees and runs only that store's rooms (API, WebSocket, studio) and only
// its orders; the brand sees every store side by side — rooms, orders and
// GMV per store — through the API and the admin tab.
func TestStoresAsStudios(t *testing.T) {
	s := newShop(t)
	m, base, owner := s.m, s.base, testkit.OwnerToken
	var stores struct {
		Stores []struct {
			ID   int64
			Name string
		}
	}
	send(t, nil, base, "GET", "/api/v1/stores", nil, owner, nil).decode(t, &stores)
	storeA, storeB := stores.Stores[0].ID, stores.Stores[1].ID

	for slug, store := range map[string]int64{"studio-a": storeA, "studio-b": storeB} {
		if r := send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": slug, "title": "门店直播 " + slug, "store_id": store}, owner, nil); r.Status != 201 {
			t.Fatalf("room %s: %d %s", slug, r.Status, r.Body)
		}
	}
	send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": "studio-x", "title": "x", "store_id": 99999}, owner, nil).wantProblem(t, 400, "unknown_store")
	// a bad lineup leaves no half room: the slug is still free afterwards
	send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": "studio-y", "title": "y", "product_ids": []int64{99999}}, owner, nil).wantProblem(t, 400, "unknown_product")
	send(t, nil, base, "GET", "/api/v1/rooms/studio-y", nil, owner, nil).wantProblem(t, 404, "not_found")
	if r := send(t, nil, base, "POST", "/api/v1/staff", map[string]any{"username": "host-a", "name": "A店主播", "role": "host", "store_id": storeA, "password": "Studio-A-2468"}, owner, nil); r.Status != 201 {
		t.Fatalf("host: %d %s", r.Status, r.Body)
	}
	host := staffLogin(t, base, "host-a", "Studio-A-2468").Token

	var rooms struct{ Rooms []struct{ Slug string } }
	send(t, nil, base, "GET", "/api/v1/rooms", nil, host, nil).decode(t, &rooms)
	var slugs []string
	for _, r := range rooms.Rooms {
		slugs = append(slugs, r.Slug)
	}
	if !slices.Equal(slugs, []string{"studio-a"}) {
		t.Fatalf("store A's host sees rooms %v, want only studio-a", slugs)
	}
	// Runs its own room, not the other store's nor the brand's.
	send(t, nil, base, "POST", "/api/v1/rooms/studio-a/status", map[string]string{"status": "nonsense"}, host, nil).wantProblem(t, 400, "invalid_status")
	for _, slug := range []string{"studio-b", "demo"} {
		send(t, nil, base, "POST", "/api/v1/rooms/"+slug+"/status", map[string]string{"status": "live"}, host, nil).wantProblem(t, 404, "not_found")
		send(t, nil, base, "DELETE", "/api/v1/rooms/"+slug+"/pin", nil, host, nil).wantProblem(t, 404, "not_found")
		if r := send(t, nil, base, "GET", "/api/v1/rooms/"+slug, nil, host, nil); r.Status != 200 || strings.Contains(string(r.Body), "stream_key") {
			t.Fatalf("%s's public state for store A's host: %d, stream key shown: %v", slug, r.Status, strings.Contains(string(r.Body), "stream_key"))
		}
	}
	if r := send(t, nil, base, "GET", "/api/v1/rooms/studio-a", nil, host, nil); !strings.Contains(string(r.Body), "stream_key") {
		t.Fatal("store A's host gets no stream key for their own room")
	}
	for sub, want := range map[string]int{"staff:1": 404, "store:" + itoa(storeB): 404, "store:" + itoa(storeA): http.StatusUpgradeRequired} {
		if r := send(t, nil, base, "GET", "/api/v1/ws?sub="+sub, nil, host, nil); r.Status != want {
			t.Fatalf("store A's host subscribes %s: %d, want %d", sub, r.Status, want)
		}
	}

	// Trade at both stores: two paid orders at A, one at B, one unpaid at B.
	buyer := viewerLogin(t, base, "demo", "13900000123").Token
	paidA1 := placePaid(t, m, buyer, s.sku1, storeA, true)
	placePaid(t, m, buyer, s.sku1, storeA, true)
	placePaid(t, m, buyer, s.sku1, storeB, true)
	placePaid(t, m, buyer, s.sku1, storeB, false)
	var orders struct{ Orders []struct{ ID, StoreID int64 } }
	send(t, nil, base, "GET", "/api/v1/orders", nil, host, nil).decode(t, &orders)
	if len(orders.Orders) != 2 {
		t.Fatalf("store A's host sees %d orders, want store A's 2", len(orders.Orders))
	}
	send(t, nil, base, "GET", "/api/v1/orders/"+itoa(paidA1.id), nil, host, nil)

	type row struct {
		StoreID    int64 `json:"store_id"`
		Name       string
		Rooms      int
		Orders     int64
		PaidOrders int64 `json:"paid_orders"`
		GMVFen     int64 `json:"gmv_fen"`
	}
	var report struct {
		Stores []row
		Total  row
	}
	send(t, nil, base, "GET", "/api/v1/reports/stores", nil, owner, nil).decode(t, &report)
	by := map[int64]row{}
	for _, r := range report.Stores {
		by[r.StoreID] = r
	}
	a, b := by[storeA], by[storeB]
	if a.Rooms != 1 || a.Orders != 2 || a.PaidOrders != 2 || b.Rooms != 1 || b.Orders != 2 || b.PaidOrders != 1 || a.GMVFen != 2*b.GMVFen || a.GMVFen == 0 {
		t.Fatalf("brand report: A %+v, B %+v", a, b)
	}
	if brand, ok := by[0]; !ok || brand.Rooms < 1 || len(report.Stores) != len(stores.Stores)+1 {
		t.Fatalf("brand rooms row missing or stores missing: %+v", report.Stores)
	}
	if report.Total.GMVFen != a.GMVFen+b.GMVFen || report.Total.Orders != 4 {
		t.Fatalf("total %+v", report.Total)
	}
	send(t, nil, base, "GET", "/api/v1/reports/stores", nil, host, nil).decode(t, &report)
	if len(report.Stores) != 1 || report.Stores[0].StoreID != storeA || report.Stores[0].GMVFen != a.GMVFen {
		t.Fatalf("store A's host's report: %+v", report.Stores)
	}
	send(t, nil, base, "GET", "/api/v1/reports/stores?from=2026-13-01", nil, owner, nil).wantProblem(t, 400, "invalid_date")

	// The admin tab shows the stores side by side.
	browser := testkit.Browser(t)
	tab := testkit.NewTab(t, browser, 60*time.Second)
	tab.StaffOpen(base, "owner", demo.Password, "/admin%23studios", `tr[data-store="`+itoa(storeA)+`"]`)
	ctx := tab.Ctx
	rowText, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tr[data-store="`+itoa(storeA)+`"]`)))
	if !strings.Contains(rowText, stores.Stores[0].Name) || !strings.Contains(rowText, "¥") {
		t.Fatalf("admin row of store A: %q", rowText)
	}
	testkit.Screenshot(t, ctx, "admin-stores-side-by-side")
}
