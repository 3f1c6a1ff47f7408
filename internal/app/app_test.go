package app_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apiclient"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/testkit"
)

type saleView struct {
	ID        int64  `json:"id"`
	Remaining int64  `json:"remaining"`
	Status    string `json:"status"`
}

// TestFlashSaleStampede: 300 buyers race for 50 units with a limit of 2
// each, through the real HTTP API. Every acknowledged order holds real units,
// nobody exceeds the limit, nothing is oversold, and the stock invariant
// holds while the sale runs and after it ends.
func TestFlashSaleStampede(t *testing.T) {
	m := testkit.StartNode(t, "", "-rate-limits=false")
	owner := testkit.Owner(m)
	if st := owner.Do(t, "PUT", "/api/v1/stock", map[string]any{"store_id": 1, "lot_id": 1, "on_hand": 500}, nil); st != 204 {
		t.Fatalf("stock: %d", st)
	}
	var sale saleView
	if st := owner.Do(t, "POST", "/api/v1/rooms/demo/flash-sales", map[string]any{"sku_id": 1, "price_fen": 990, "quantity": 50, "per_user_limit": 2, "duration_s": 600}, &sale); st != 201 {
		t.Fatalf("create sale: %d", st)
	}
	if sale.Status != "running" || sale.Remaining != 50 {
		t.Fatalf("sale = %+v", sale)
	}
	const buyers = 300
	clients := make([]*testkit.Client, buyers)
	loginErrs := make([]error, buyers)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) { // t.Fatal only from the test's own goroutine: errors are checked below
			defer wg.Done()
			defer func() { <-sem }()
			v, err := apiclient.LoginViewer(context.Background(), &apiclient.Client{Base: m.URL()}, "demo", fmt.Sprintf("150%08d", i))
			if err != nil {
				loginErrs[i] = err
				return
			}
			clients[i] = &testkit.Client{Base: m.URL(), Token: v.Token}
		}(i)
	}
	wg.Wait()
	if err := errors.Join(loginErrs...); err != nil {
		t.Fatalf("buyers' logins: %v", err)
	}

	var acked, soldOut, limited, other atomic.Int64
	perUser := make([]int64, buyers)
	start := make(chan struct{})
	for i, c := range clients {
		wg.Add(1)
		go func(i int, c *testkit.Client) {
			defer wg.Done()
			<-start
			for n := 0; n < 3; n++ {
				var out struct {
					Code  string `json:"code"`
					Lines []struct {
						Quantity int64 `json:"quantity"`
					} `json:"lines"`
				}
				st := c.Do(t, "POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"sku_id": 1, "quantity": 1}}, "fulfilment": "pickup", "flash_sale_id": sale.ID}, &out)
				switch {
				case st == 201:
					acked.Add(1)
					perUser[i] += out.Lines[0].Quantity
				case out.Code == "sold_out":
					soldOut.Add(1)
				case out.Code == "limit_reached":
					limited.Add(1)
				default:
					other.Add(1)
					t.Errorf("buyer %d: status %d code %q", i, st, out.Code)
				}
			}
		}(i, c)
	}
	close(start)
	wg.Wait()
	t.Logf("acked %d, sold out %d, limit %d, other %d", acked.Load(), soldOut.Load(), limited.Load(), other.Load())
	if acked.Load() != 50 {
		t.Fatalf("acknowledged %d orders for 50 units", acked.Load())
	}
	for i, n := range perUser {
		if n > 2 {
			t.Fatalf("buyer %d got %d units over the limit of 2", i, n)
		}
	}
	if err := m.DB.VerifyStock(context.Background()); err != nil {
		t.Fatal(err)
	}
	var orders struct{ Orders []struct{ Status string } }
	owner.Do(t, "GET", "/api/v1/orders?room_id=1", nil, &orders)
	if len(orders.Orders) != 50 {
		t.Fatalf("stored orders = %d, want 50", len(orders.Orders))
	}
	if st := owner.Do(t, "POST", "/api/v1/flash-sales/"+strconv.FormatInt(sale.ID, 10)+"/end", nil, nil); st != 204 {
		t.Fatalf("end: %d", st)
	}
	if err := m.DB.VerifyStock(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A second end is harmless; buying after the end is refused clearly.
	var out struct{ Code string }
	if st := clients[0].Do(t, "POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"sku_id": 1, "quantity": 1}}, "fulfilment": "pickup", "flash_sale_id": sale.ID}, &out); st != 409 || out.Code != "sale_not_running" {
		t.Fatalf("buy after end: %d %q", st, out.Code)
	}
}

// TestFlashSaleRetryAfterSoldOut: a winner who retries with the same
// Idempotency-Key after the last unit went gets their order back, not "sold
// out"; a buyer who never won gets "sold out" whatever key they send.
func TestFlashSaleRetryAfterSoldOut(t *testing.T) {
	m := testkit.StartNode(t, "", "-rate-limits=false")
	owner := testkit.Owner(m)
	var sale saleView
	if st := owner.Do(t, "POST", "/api/v1/rooms/demo/flash-sales", map[string]any{"sku_id": 1, "price_fen": 990, "quantity": 1, "per_user_limit": 1, "duration_s": 600}, &sale); st != 201 {
		t.Fatalf("create sale: %d", st)
	}
	buy := map[string]any{"items": []map[string]any{{"sku_id": 1, "quantity": 1}}, "fulfilment": "pickup", "flash_sale_id": sale.ID}
	winner := testkit.Viewer(t, m, "15900000011")
	winner.Header = map[string]string{"Idempotency-Key": "win-1"}
	var first, again struct {
		ID   int64  `json:"id"`
		Code string `json:"code"`
	}
	if st := winner.Do(t, "POST", "/api/v1/orders", buy, &first); st != 201 || first.ID == 0 {
		t.Fatalf("winner: %d %+v", st, first)
	}
	if st := winner.Do(t, "POST", "/api/v1/orders", buy, &again); st/100 != 2 || again.ID != first.ID {
		t.Fatalf("winner's retry after sold out: %d %+v, want order %d", st, again, first.ID)
	}
	loser := testkit.Viewer(t, m, "15900000012")
	loser.Header = map[string]string{"Idempotency-Key": "win-1"} // same key string, other buyer
	var lost struct {
		Code string `json:"code"`
	}
	if st := loser.Do(t, "POST", "/api/v1/orders", buy, &lost); st != 409 || lost.Code != "sold_out" {
		t.Fatalf("loser: %d %+v, want 409 sold_out", st, lost)
	}
}

// TestFlashSaleExpiryReturnsUnits: an unpaid flash order expires and its
// units go back to the running sale, not to general stock.
func TestFlashSaleExpiryReturnsUnits(t *testing.T) {
	m := testkit.StartNode(t, "", "-rate-limits=false", "-reserve-for", "1s")
	owner := testkit.Owner(m)
	var sale saleView
	owner.Do(t, "POST", "/api/v1/rooms/demo/flash-sales", map[string]any{"sku_id": 1, "price_fen": 990, "quantity": 3, "per_user_limit": 3, "duration_s": 600}, &sale)
	buyer := testkit.Viewer(t, m, "15900000001")
	if st := buyer.Do(t, "POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"sku_id": 1, "quantity": 3}}, "fulfilment": "pickup", "flash_sale_id": sale.ID}, nil); st != 201 {
		t.Fatalf("buy: %d", st)
	}
	remaining := func() int64 {
		var room struct {
			Flash []saleView `json:"flash_sales"`
		}
		owner.Do(t, "GET", "/api/v1/rooms/demo", nil, &room)
		if len(room.Flash) == 0 {
			return -1
		}
		return room.Flash[0].Remaining
	}
	if r := remaining(); r != 0 {
		t.Fatalf("remaining after buying all = %d", r)
	}
	testkit.WaitFor(t, "units back in the sale", 10*time.Second, func() bool { return remaining() == 3 })
	if err := m.DB.VerifyStock(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The units are sellable again to another buyer.
	if st := testkit.Viewer(t, m, "15900000002").Do(t, "POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"sku_id": 1, "quantity": 2}}, "fulfilment": "pickup", "flash_sale_id": sale.ID}, nil); st != 201 {
		t.Fatalf("second buyer: %d", st)
	}
	if err := m.DB.VerifyStock(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestPrivacyExportAndErase: a viewer exports their data, then erases it;
// their phone disappears from the order and the comment, the session ends,
// and the order (an accounting record) stays.
func TestPrivacyExportAndErase(t *testing.T) {
	m := testkit.StartNode(t, "", "-rate-limits=false")
	v := testkit.Viewer(t, m, "13912340000")
	var o struct{ ID int64 }
	if st := v.Do(t, "POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"sku_id": 2, "quantity": 1}}, "fulfilment": "pickup", "store_id": 1}, &o); st != 201 {
		t.Fatalf("order: %d", st)
	}
	v.Do(t, "POST", "/api/v1/rooms/demo/comments", map[string]string{"text": "请问几点能取货"}, nil)
	var data struct {
		Customer struct{ Phone string }
		Orders   []struct{ ID int64 }
		Comments []struct{ Text string }
	}
	if st := v.Do(t, "GET", "/api/v1/me/data", nil, &data); st != 200 || data.Customer.Phone != "13912340000" || len(data.Orders) != 1 || len(data.Comments) != 1 {
		t.Fatalf("export: %d %+v", st, data)
	}
	if st := v.Do(t, "DELETE", "/api/v1/me", nil, nil); st != 204 {
		t.Fatalf("erase: %d", st)
	}
	if st := v.Do(t, "GET", "/api/v1/me/orders", nil, nil); st != 401 {
		t.Fatalf("session after erase: %d", st)
	}
	var kept struct {
		ContactPhone string `json:"contact_phone"`
	}
	if st := testkit.Owner(m).Do(t, "GET", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10), nil, &kept); st != 200 || kept.ContactPhone != "" {
		t.Fatalf("order after erase: %d %+v", st, kept)
	}
	var comments struct {
		Comments []struct {
			AuthorName string `json:"author_name"`
		}
	}
	testkit.Owner(m).Do(t, "GET", "/api/v1/rooms/demo/comments", nil, &comments)
	for _, c := range comments.Comments {
		if c.AuthorName == "用户0000" {
			t.Fatalf("comment still names the erased viewer")
		}
	}
	var n int
	m.DB.QueryRow(context.Background(), `SELECT count(*) FROM customers WHERE phone = '13912340000'`).Scan(&n)
	if n != 0 {
		t.Fatal("phone number still stored")
	}
}

// TestStartDueLeavesARunningSaleAlone: the scheduler's tick read a sale as
// due, but the host's "start now" started it first; the tick's start then
// fails and must leave the running sale alone (it used to end it, handing
// its quota back to stock while its allocator went on selling).
func TestStartDueLeavesARunningSaleAlone(t *testing.T) {
	m := testkit.StartNode(t, "", "-rate-limits=false")
	owner := testkit.Owner(m)
	var sale saleView
	if st := owner.Do(t, "POST", "/api/v1/rooms/demo/flash-sales", map[string]any{"sku_id": 1, "price_fen": 990, "quantity": 5, "per_user_limit": 1, "duration_s": 600,
		"starts_at": time.Now().Add(time.Hour)}, &sale); st != 201 {
		t.Fatalf("create sale: %d", st)
	}
	ctx := context.Background()
	merchant := int64(1)
	due, err := m.App.Flash.Get(ctx, merchant, sale.ID) // as the tick read it: scheduled
	if err != nil || due.Status != flashsale.Scheduled {
		t.Fatalf("sale %+v %v", due, err)
	}
	m.App.StartDue(ctx, *due) // one start wins
	m.App.StartDue(ctx, *due) // the other finds it running
	got, err := m.App.Flash.Get(ctx, merchant, sale.ID)
	if err != nil || got.Status != flashsale.Running {
		t.Fatalf("after a second start the sale is %+v (%v), want running", got, err)
	}
	if st := testkit.Viewer(t, m, "15900000031").Do(t, "POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"sku_id": 1, "quantity": 1}}, "fulfilment": "pickup", "flash_sale_id": sale.ID}, nil); st != 201 {
		t.Fatalf("buy: %d", st)
	}
	if err := m.DB.VerifyStock(ctx); err != nil {
		t.Fatal(err)
	}
}
