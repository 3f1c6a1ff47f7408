package web_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/testkit"
)

// Tests for the hostile review's findings (issue 13); docs/SECURITY.md lists
// each finding with its test.

// payPickup places a pickup order as buyer and pays it through the dev
// provider's signed callback.
func payPickup(t *testing.T, s *demoShop, buyer string, qty int64) orderView {
	t.Helper()
	o, intent, _ := placeAndStartPaying(t, s, buyer, qty)
	if r := send(t, nil, s.base, "POST", "/api/v1/payments/dev/"+intent+"/confirm", nil, "", nil); r.Status != 200 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	return o
}

// restock sets every lot of sku in the shop's store to n on hand.
func (s *demoShop) restock(t *testing.T, sku, n int64) {
	t.Helper()
	var out struct {
		Levels []struct {
			StoreID  int64 `json:"store_id"`
			LotID    int64 `json:"lot_id"`
			Reserved int64 `json:"reserved"`
		} `json:"levels"`
	}
	send(t, nil, s.base, "GET", "/api/v1/stock?sku_id="+strconv.FormatInt(sku, 10), nil, testkit.OwnerToken, nil).decode(t, &out)
	for _, l := range out.Levels {
		if l.StoreID != s.storeID {
			continue
		}
		r := send(t, nil, s.base, "PUT", "/api/v1/stock", map[string]any{"store_id": l.StoreID, "lot_id": l.LotID, "on_hand": n + l.Reserved}, testkit.OwnerToken, nil)
		if r.Status != 204 {
			t.Fatalf("restock: %d %s", r.Status, r.Body)
		}
	}
}

func auditCount(t *testing.T, s *demoShop, action string) int {
	t.Helper()
	var out struct {
		Entries []struct {
			Action string `json:"action"`
		} `json:"entries"`
	}
	send(t, nil, s.base, "GET", "/api/v1/audit", nil, testkit.OwnerToken, nil).decode(t, &out)
	n := 0
	for _, e := range out.Entries {
		if e.Action == action {
			n++
		}
	}
	return n
}

// TestBuyerCannotCancelPaidOrder (finding 4): the buyer's cancel checks
// "unpaid" inside the cancelling transaction. Called on a paid order — what
// the losing side of a pay/cancel race sees — it is refused and nothing is
// refunded; racing a signed callback against the cancel 30 times always
// ends in exactly one of "paid" or "cancelled" with any money the callback
// reports refunded in full by itself.
func TestBuyerCannotCancelPaidOrder(t *testing.T) {
	s := newShop(t, "-rate-limits=false")
	s.restock(t, s.sku1, 200)
	buyer := viewerLogin(t, s.base, "demo", "13900001301")
	o := payPickup(t, s, buyer.Token, 1)
	id := strconv.FormatInt(o.ID, 10)

	// The use case itself, as the race's loser reaches it after the web
	// handler saw "pending_payment".
	p := &identity.Principal{Kind: identity.KindCustomer, MerchantID: demoMerchant(t, s), SubjectID: customerID(t, s, o.ID)}
	if _, err := s.m.App.CancelUnpaid(t.Context(), p, o.ID); err == nil || !strings.Contains(err.Error(), "contact_store") {
		t.Fatalf("CancelUnpaid on a paid order: %v, want contact_store", err)
	}
	send(t, nil, s.base, "POST", "/api/v1/orders/"+id+"/cancel", nil, buyer.Token, nil).wantProblem(t, 409, "contact_store")
	var got struct {
		Status      string `json:"status"`
		RefundedFen int64  `json:"refunded_fen"`
	}
	send(t, nil, s.base, "GET", "/api/v1/orders/"+id, nil, buyer.Token, nil).decode(t, &got)
	if got.Status != "paid" || got.RefundedFen != 0 {
		t.Fatalf("after refused cancels: %+v", got)
	}

	for i := range 30 {
		o, intent, amount := placeAndStartPaying(t, s, buyer.Token, 1)
		id := strconv.FormatInt(o.ID, 10)
		body := `{"intent":"` + intent + `","status":"paid","amount_fen":` + strconv.FormatInt(amount, 10) + `,"provider_ref":"race"}`
		var wg sync.WaitGroup
		var paid, cancel result
		wg.Go(func() { paid = signedCallback(t, s.m, "", body, time.Now()) })
		wg.Go(func() { cancel = send(t, nil, s.base, "POST", "/api/v1/orders/"+id+"/cancel", nil, buyer.Token, nil) })
		wg.Wait()
		var after struct {
			Status      string     `json:"status"`
			RefundedFen int64      `json:"refunded_fen"`
			PaidAt      *time.Time `json:"paid_at"`
		}
		send(t, nil, s.base, "GET", "/api/v1/orders/"+id, nil, buyer.Token, nil).decode(t, &after)
		switch after.Status {
		case "paid":
			if paid.Status != 200 || cancel.Status != 409 {
				t.Fatalf("round %d: paid, callback %d, cancel %d %s", i, paid.Status, cancel.Status, cancel.Body)
			}
		case "cancelled":
			// The cancel won. The money the callback reports was taken for
			// an order that can no longer take it: it is either refused
			// (409, nothing taken on our side) or acknowledged and refunded
			// in full by itself (the late-payment refund), never kept.
			lateRefund := paid.Status == 200 && after.RefundedFen == amount
			refused := paid.Status == 409 && after.RefundedFen == 0
			if after.PaidAt != nil || cancel.Status != 200 || !(lateRefund || refused) {
				t.Fatalf("round %d: cancelled %+v, callback %d %s, cancel %d", i, after, paid.Status, paid.Body, cancel.Status)
			}
		default:
			t.Fatalf("round %d: status %s", i, after.Status)
		}
	}
	if n := auditCount(t, s, "order.cancel"); n != 0 {
		t.Fatalf("%d refunds audited; no buyer may refund", n)
	}
	// A refund by staff is audited (in the cancelling transaction).
	if r := send(t, nil, s.base, "POST", "/api/v1/orders/"+id+"/status", map[string]string{"status": "cancelled"}, testkit.OwnerToken, nil); r.Status != 200 {
		t.Fatalf("staff refund: %d %s", r.Status, r.Body)
	}
	if n := auditCount(t, s, "order.cancel"); n != 1 {
		t.Fatalf("%d order.cancel entries after one staff refund", n)
	}
}

func demoMerchant(t *testing.T, s *demoShop) int64 {
	t.Helper()
	m, err := s.m.App.Users.MerchantBySlug(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// customerID finds the buyer's customer id the way staff see it: the
// order's buyer is not in the JSON, so ask the database through the app.
func customerID(t *testing.T, s *demoShop, orderID int64) int64 {
	t.Helper()
	o, err := s.m.App.Orders.Get(t.Context(), demoMerchant(t, s), orderID)
	if err != nil {
		t.Fatal(err)
	}
	return o.CustomerID
}

// TestPriceNeedsValue (finding 6): an empty body no longer sets a live
// price to 0; 0 itself needs confirm_free.
func TestPriceNeedsValue(t *testing.T) {
	s := newShop(t)
	path := "/api/v1/skus/" + strconv.FormatInt(s.sku1, 10) + "/price"
	before := s.stock(t)
	send(t, nil, s.base, "POST", path, map[string]any{}, testkit.OwnerToken, nil).wantProblem(t, 400, "price_required")
	send(t, nil, s.base, "POST", path, map[string]any{"price_fen": nil}, testkit.OwnerToken, nil).wantProblem(t, 400, "price_required")
	send(t, nil, s.base, "POST", path, map[string]any{"price_fen": 0}, testkit.OwnerToken, nil).wantProblem(t, 400, "confirm_free_required")
	if after := s.stock(t); after != before {
		t.Fatalf("refused price changes changed the SKU:\n%s\n%s", before, after)
	}
	// ¥0 under the SKU's ¥49.80 list price (never charged on this fresh
	// shop) is a price comparison the list-price rule refuses while the
	// room is live: the owner overrides it, as the studio would ask.
	r := send(t, nil, s.base, "POST", path, map[string]any{"price_fen": 0, "confirm_free": true}, testkit.OwnerToken, nil)
	r.wantProblem(t, 409, "compliance_blocked")
	r = send(t, nil, s.base, "POST", path, map[string]any{"price_fen": 0, "confirm_free": true, "override": map[string]any{"reason": "福利免费送"}}, testkit.OwnerToken, nil)
	if r.Status != 200 {
		t.Fatalf("confirmed free: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(string(r.Body), `"price_fen":0`) {
		t.Fatalf("price not 0: %s", r.Body)
	}
	if r := send(t, nil, s.base, "POST", path, map[string]any{"price_fen": 4980}, testkit.OwnerToken, nil); r.Status != 200 { // back at the list price
		t.Fatalf("a price: %d %s", r.Status, r.Body)
	}
}

// TestPickupLeavesOnlyByCode (finding 3): staff cannot ship a pickup order
// (the goods would leave and the buyer's real code be refused), and no
// staff view carries the pickup code: the order list, the order, the status
// answer and the code lookup. The buyer still sees it and the code still
// hands the order over.
func TestPickupLeavesOnlyByCode(t *testing.T) {
	s := newShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900001302")
	o := payPickup(t, s, buyer.Token, 1)
	id := strconv.FormatInt(o.ID, 10)
	store := staffLogin(t, s.base, "store", "shelflive-demo")
	guide := staffLogin(t, s.base, "guide", "shelflive-demo")
	if len(o.PickupCode) != 8 {
		t.Fatalf("buyer's order has no pickup code: %+v", o)
	}
	before := s.stock(t)
	for _, who := range []string{testkit.OwnerToken, store.Token} {
		send(t, nil, s.base, "POST", "/api/v1/orders/"+id+"/status", map[string]string{"status": "shipped"}, who, nil).wantProblem(t, 409, "pickup_not_shipped")
	}
	if s.stock(t) != before {
		t.Fatal("a refused shipment moved stock")
	}
	noCode := func(who, what string, r result) {
		t.Helper()
		if r.Status != 200 {
			t.Fatalf("%s %s: %d %s", who, what, r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), o.PickupCode) || strings.Contains(string(r.Body), "pickup_code") {
			t.Errorf("%s %s shows the pickup code: %s", who, what, r.Body)
		}
	}
	for who, token := range map[string]string{"owner": testkit.OwnerToken, "store": store.Token} {
		noCode(who, "GET /api/v1/orders", send(t, nil, s.base, "GET", "/api/v1/orders", nil, token, nil))
		noCode(who, "GET /api/v1/orders/"+id, send(t, nil, s.base, "GET", "/api/v1/orders/"+id, nil, token, nil))
	}
	noCode("owner", "status ready", send(t, nil, s.base, "POST", "/api/v1/orders/"+id+"/status", map[string]string{"status": "ready"}, testkit.OwnerToken, nil))
	noCode("guide", "verify lookup", send(t, nil, s.base, "POST", "/api/v1/pickups/verify", map[string]any{"code": o.PickupCode, "confirm": false}, guide.Token, nil))
	noCode("store", "verify lookup", send(t, nil, s.base, "POST", "/api/v1/pickups/verify", map[string]any{"code": o.PickupCode, "confirm": false}, store.Token, nil))

	var mine struct {
		PickupCode string `json:"pickup_code"`
	}
	send(t, nil, s.base, "GET", "/api/v1/orders/"+id, nil, buyer.Token, nil).decode(t, &mine)
	if mine.PickupCode != o.PickupCode {
		t.Fatalf("the buyer lost their code: %q", mine.PickupCode)
	}
	r := send(t, nil, s.base, "POST", "/api/v1/pickups/verify", map[string]any{"code": o.PickupCode, "confirm": true}, store.Token, nil)
	noCode("store", "verify confirm", r)
	var done struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(r.Body, &done); done.Status != "completed" {
		t.Fatalf("handover by code: %s", r.Body)
	}
}

// TestLengthLimits (finding 8): contact details, staff texts (a 100 KB guide
// code) and store names (1 MB) have limits, and nothing is written past them.
func TestLengthLimits(t *testing.T) {
	s := newShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900001303")
	before := s.orderCount(t)
	long := strings.Repeat("长", 31)
	body := map[string]any{"items": []any{map[string]any{"sku_id": s.sku1, "quantity": 1}}, "fulfilment": "pickup", "store_id": s.storeID, "contact_name": long}
	send(t, nil, s.base, "POST", "/api/v1/orders", body, buyer.Token, nil).wantProblem(t, 400, "contact_too_long")
	if s.orderCount(t) != before {
		t.Fatal("an order with a 31-character contact name was stored")
	}
	huge := strings.Repeat("g", 100_000)
	send(t, nil, s.base, "POST", "/api/v1/staff", map[string]any{"username": "g1", "name": "导购", "role": "guide", "password": "long-enough-1", "guide_code": huge}, testkit.OwnerToken, nil).wantProblem(t, 400, "staff_text_too_long")
	send(t, nil, s.base, "POST", "/api/v1/stores", map[string]any{"name": strings.Repeat("店", 61), "address": "上海市1号", "lat": 31.2, "lng": 121.4}, testkit.OwnerToken, nil).wantProblem(t, 400, "store_text_too_long")
	send(t, nil, s.base, "POST", "/api/v1/stores", map[string]any{"name": strings.Repeat("店", 500_000), "address": "上海市1号", "lat": 31.2, "lng": 121.4}, testkit.OwnerToken, nil).wantProblem(t, 400, "body_too_large")
	if r := send(t, nil, s.base, "POST", "/api/v1/stores", map[string]any{"name": strings.Repeat("店", 60), "address": "上海市1号", "lat": 31.2, "lng": 121.4}, testkit.OwnerToken, nil); r.Status != 201 {
		t.Fatalf("a 60-character store name: %d %s", r.Status, r.Body)
	}
}

// TestUploadOddNames (finding 8): /uploads/%00 answered 500.
func TestUploadOddNames(t *testing.T) {
	s := newShop(t)
	for _, p := range []string{"/uploads/%00", "/uploads/a%00.png", "/uploads/%5C..%5Cx", "/uploads/.hidden", "/uploads/a/b/c.png", "/uploads/demo/"} {
		if r := send(t, nil, s.base, "GET", p, nil, "", nil); r.Status != 404 {
			t.Errorf("GET %s: %d, want 404", p, r.Status)
		}
	}
	var products struct {
		Products []struct {
			Image string `json:"image"`
		} `json:"products"`
	}
	send(t, nil, s.base, "GET", "/api/v1/products", nil, testkit.OwnerToken, nil).decode(t, &products)
	if img := products.Products[0].Image; img == "" || send(t, nil, s.base, "GET", img, nil, "", nil).Status != 200 {
		t.Fatalf("a real upload %q is not served", img)
	}
}

// TestLockoutRetryAfter (finding 8): a login lockout's Retry-After is the
// lockout's real length (it said 1 s).
func TestLockoutRetryAfter(t *testing.T) {
	s := newShop(t)
	for range 5 {
		send(t, nil, s.base, "POST", "/api/v1/auth/login", map[string]string{"login": "host", "password": "wrong-password"}, "", nil)
	}
	r := send(t, nil, s.base, "POST", "/api/v1/auth/login", map[string]string{"login": "host", "password": "shelflive-demo"}, "", nil)
	r.wantProblem(t, 429, "login_throttled")
	ra, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	if ra < 50 || ra > 60 {
		t.Fatalf("Retry-After %q during a 1-minute lockout", r.Header.Get("Retry-After"))
	}
}

// TestOriginScheme (finding 8): on a site served over HTTPS, a page on
// http:// of the same host may not post.
func TestOriginScheme(t *testing.T) {
	s := newShop(t)
	host := strings.TrimPrefix(s.base, "http://")
	store := map[string]any{"name": "来源测试店", "address": "上海市1号", "lat": 31.2, "lng": 121.4}
	https := map[string]string{"X-Forwarded-Proto": "https", "Origin": "http://" + host}
	send(t, nil, s.base, "POST", "/api/v1/stores", store, testkit.OwnerToken, https).wantProblem(t, 403, "cross_origin")
	https["Origin"] = "ftp://" + host
	send(t, nil, s.base, "POST", "/api/v1/stores", store, testkit.OwnerToken, https).wantProblem(t, 403, "cross_origin")
	https["Origin"] = "https://" + host
	if r := send(t, nil, s.base, "POST", "/api/v1/stores", store, testkit.OwnerToken, https); r.Status != 201 {
		t.Fatalf("same scheme and host: %d %s", r.Status, r.Body)
	}
	if r := send(t, nil, s.base, "GET", "/api/v1/ws?sub=room:1", nil, "", map[string]string{"X-Forwarded-Proto": "https", "Origin": "http://" + host}); r.Status != 403 {
		t.Fatalf("WebSocket from the http origin of an https site: %d", r.Status)
	}
}

// TestWebSocketPerIP (finding 8): one address holds at most WSPerIP sockets.
func TestWebSocketPerIP(t *testing.T) {
	s := newShop(t)
	s.m.Server.WSPerIP = 3 // before any socket: no request reads it yet
	room := getDemoRoom(t, s.base)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := strings.Replace(s.base, "http", "ws", 1) + "/api/v1/ws?sub=room:" + itoa(room.ID)
	var conns []*websocket.Conn
	for range 3 {
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		conns = append(conns, c)
	}
	_, resp, err := websocket.Dial(ctx, url, nil)
	if err == nil || resp == nil || resp.StatusCode != 429 {
		t.Fatalf("a 4th socket from one address: %v %v", err, resp)
	}
	conns[0].Close(websocket.StatusNormalClosure, "")
	testkit.WaitFor(t, "a slot freed", 20*time.Second, func() bool {
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			return false
		}
		c.CloseNow()
		return true
	})
}
