package web_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/testkit"
)

// The matrix's second half (review finding 2): not only who may call a
// route, but what each role gets to see of an order, on every route and
// stream that carries one. The rule (app.OrderView): the buyer sees
// everything; staff with customer.pii the contact details; other staff a
// masked phone; nobody but the buyer the pickup code. Shared streams carry
// the most restricted staff view, and staff bound to a store hear only
// their store's orders.

// paidOrder is a pickup order the matrix buyer placed and paid.
type paidOrder struct {
	id   int64
	code string
}

func placePaid(t *testing.T, m *node.Main, buyer string, skuID, storeID int64, pay bool) paidOrder {
	t.Helper()
	var o struct {
		ID         int64  `json:"id"`
		PickupCode string `json:"pickup_code"`
	}
	r := send(t, nil, m.URL(), "POST", "/api/v1/orders", map[string]any{"items": []any{map[string]any{"sku_id": skuID, "quantity": 1}}, "fulfilment": "pickup", "store_id": storeID}, buyer, nil)
	if r.Status != 201 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	r.decode(t, &o)
	if len(o.PickupCode) != 8 {
		t.Fatalf("the buyer's order has no pickup code: %s", r.Body)
	}
	if pay {
		var in struct {
			Intent string `json:"intent"`
		}
		r := send(t, nil, m.URL(), "POST", "/api/v1/orders/"+itoa(o.ID)+"/pay", nil, buyer, nil)
		if r.Status != 200 && r.Status != 201 {
			now := send(t, nil, m.URL(), "GET", "/api/v1/orders/"+itoa(o.ID), nil, testkit.OwnerToken, nil)
			t.Fatalf("pay intent: %d %s\nthe order then: %s", r.Status, r.Body, now.Body)
		}
		r.decode(t, &in)
		if r := send(t, nil, m.URL(), "POST", "/api/v1/payments/dev/"+in.Intent+"/confirm", nil, "", nil); r.Status != 200 {
			t.Fatalf("pay: %d %s", r.Status, r.Body)
		}
	}
	return paidOrder{o.ID, o.PickupCode}
}

// freshStock gives the matrix SKU a new lot with stock at both demo
// stores: the matrix's cold-chain alarm put the first lot on hold.
func freshStock(t *testing.T, m *node.Main, o *objects, code string) {
	t.Helper()
	now := time.Now().UTC()
	var lot struct {
		ID int64 `json:"id"`
	}
	r := send(t, nil, m.URL(), "POST", "/api/v1/lots", map[string]any{"sku_id": o.skuID, "code": code, "produced_at": now.Add(-time.Hour), "expires_at": now.Add(96 * time.Hour)}, testkit.OwnerToken, nil)
	if r.Status != 201 {
		t.Fatalf("lot: %d %s", r.Status, r.Body)
	}
	r.decode(t, &lot)
	for _, st := range []int64{o.demoStoreID, o.otherStoreID} {
		if r := send(t, nil, m.URL(), "PUT", "/api/v1/stock", map[string]any{"store_id": st, "lot_id": lot.ID, "on_hand": 50}, testkit.OwnerToken, nil); r.Status != 204 {
			t.Fatalf("stock: %d %s", r.Status, r.Body)
		}
	}
}

// checkOrderBody says what c may see in one answer that carries an order.
func checkOrderBody(t *testing.T, c caller, what, phone string, codes []string, body []byte) {
	t.Helper()
	s := string(body)
	full := c.buyer || (c.kind == "staff" && identity.Can(c.role, identity.PermCustomerPII))
	if strings.Contains(s, phone) != full {
		t.Errorf("%-8s %s: full phone shown = %v, want %v: %.300s", c.name, what, !full, full, s)
	}
	if !full && !strings.Contains(s, identity.MaskPhone(phone)) {
		t.Errorf("%-8s %s: no masked phone: %.300s", c.name, what, s)
	}
	for _, code := range codes {
		if strings.Contains(s, code) != c.buyer {
			t.Errorf("%-8s %s: pickup code shown = %v, want %v", c.name, what, !c.buyer, c.buyer)
		}
	}
}

// testOrderViews checks every order response per role: the order, the
// staff list, the buyer's list, a status change and a pickup-code lookup.
func testOrderViews(t *testing.T, m *node.Main, callers []caller, o *objects) {
	const phone = "13900000001" // the matrix buyer's
	buyer := findCaller(callers, "buyer")
	base := m.URL()
	freshStock(t, m, o, "MX-VIEWS")
	for _, c := range callers {
		if c.tenant != 1 {
			continue
		}
		po := placePaid(t, m, buyer.token, o.skuID, o.demoStoreID, true)
		id := itoa(po.id)
		codes := []string{po.code}
		canRead := c.buyer || (c.kind == "staff" && identity.Can(c.role, identity.PermOrdersRead))
		if canRead {
			r := send(t, nil, base, "GET", "/api/v1/orders/"+id, nil, c.token, nil)
			if r.Status != 200 {
				t.Fatalf("%s GET order: %d", c.name, r.Status)
			}
			checkOrderBody(t, c, "GET /api/v1/orders/{id}", phone, codes, r.Body)
			list := "/api/v1/orders"
			if c.buyer {
				list = "/api/v1/me/orders"
			}
			r = send(t, nil, base, "GET", list, nil, c.token, nil)
			if r.Status != 200 {
				t.Fatalf("%s GET %s: %d", c.name, list, r.Status)
			}
			checkOrderBody(t, c, "GET "+list, phone, codes, r.Body)
		}
		if c.kind == "staff" && identity.Can(c.role, identity.PermOrdersFulfil) {
			r := send(t, nil, base, "POST", "/api/v1/pickups/verify", map[string]any{"code": po.code, "confirm": false}, c.token, nil)
			if r.Status != 200 {
				t.Fatalf("%s verify lookup: %d %s", c.name, r.Status, r.Body)
			}
			checkOrderBody(t, c, "POST /api/v1/pickups/verify (lookup)", phone, codes, r.Body)
			r = send(t, nil, base, "POST", "/api/v1/orders/"+id+"/status", map[string]any{"status": "ready"}, c.token, nil)
			if r.Status != 200 {
				// Once in a full CI run this answered invalid_transition (not
				// reproduced alone): say what state the order was in.
				now := send(t, nil, base, "GET", "/api/v1/orders/"+id, nil, testkit.OwnerToken, nil)
				t.Fatalf("%s status ready: %d %s\nthe order then: %s", c.name, r.Status, r.Body, now.Body)
			}
			checkOrderBody(t, c, "POST /api/v1/orders/{id}/status", phone, codes, r.Body)
			r = send(t, nil, base, "POST", "/api/v1/pickups/verify", map[string]any{"code": po.code, "confirm": true}, c.token, nil)
			if r.Status != 200 {
				t.Fatalf("%s verify confirm: %d %s", c.name, r.Status, r.Body)
			}
			checkOrderBody(t, c, "POST /api/v1/pickups/verify (confirm)", phone, codes, r.Body)
		}
	}
}

// testShippedRoute covers `POST /api/v1/orders/{id}/status {"status":
// "shipped"}` per caller: only orders.fulfil reaches the handler, and on a
// pickup order even they are refused (it leaves only through the code).
func testShippedRoute(t *testing.T, m *node.Main, callers []caller, o *objects) {
	path := "/api/v1/orders/" + itoa(o.orderID) + "/status"
	for _, c := range callers {
		r := send(t, nil, m.URL(), "POST", path, map[string]any{"status": "shipped"}, c.token, nil)
		var want int
		switch {
		case c.kind == "anon":
			want = 401
		case c.kind == "customer" || !identity.Can(c.role, identity.PermOrdersFulfil):
			want = 403
		case c.tenant != 1:
			want = 404
		default:
			want = 409
		}
		if r.Status != want {
			t.Errorf("%-8s shipped on a pickup order: %d, want %d: %s", c.name, r.Status, want, r.Body)
		}
		if want == 409 {
			r.wantProblem(t, 409, "pickup_not_shipped")
		}
	}
}

// wsListener collects the messages of one WebSocket connection.
type wsListener struct {
	mu   sync.Mutex
	msgs []string
}

func (l *wsListener) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.Contains(m, sub) {
			return true
		}
	}
	return false
}

func (l *wsListener) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.msgs, "\n")
}

func listen(t *testing.T, ctx context.Context, base, token, subs string) *wsListener {
	t.Helper()
	hdr := http.Header{"Authorization": {"Bearer " + token}}
	conn, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/api/v1/ws?"+subs, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatalf("dial %s: %v", subs, err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	conn.SetReadLimit(1 << 20)
	l := &wsListener{}
	go func() {
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, string(b))
			l.mu.Unlock()
		}
	}()
	return l
}

// testOrderStreams subscribes every role that may to the order's topic and
// to its staff stream (store staff: their store's), moves orders at two
// stores, and checks what arrived: no pickup code, no full phone, and
// nothing of the other store for the store-bound.
func testOrderStreams(t *testing.T, m *node.Main, callers []caller, o *objects, otherStore int64) {
	const phone = "13900000001"
	buyer := findCaller(callers, "buyer")
	base := m.URL()
	freshStock(t, m, o, "MX-STREAMS")
	here := placePaid(t, m, buyer.token, o.skuID, o.demoStoreID, true)
	there := placePaid(t, m, buyer.token, o.skuID, otherStore, false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	listeners := map[string]*wsListener{}
	for _, c := range callers {
		if c.tenant != 1 || !(c.buyer || (c.kind == "staff" && identity.Can(c.role, identity.PermOrdersRead))) {
			continue
		}
		subs := "sub=order:" + itoa(here.id)
		switch {
		case c.role == identity.RoleStore:
			subs += "&sub=store:" + itoa(o.demoStoreID)
		case c.kind == "staff":
			subs += "&sub=staff:" + itoa(o.merchantID)
		}
		listeners[c.name] = listen(t, ctx, base, c.token, subs)
	}
	time.Sleep(300 * time.Millisecond) // the subscriptions settle (snapshots first)
	owner := findCaller(callers, "owner").token
	// the other store's order changes first, then ours (ready, then handed over)
	if r := send(t, nil, base, "POST", "/api/v1/orders/"+itoa(there.id)+"/cancel", nil, buyer.token, nil); r.Status != 200 {
		t.Fatalf("cancel other store's order: %d %s", r.Status, r.Body)
	}
	if r := send(t, nil, base, "POST", "/api/v1/orders/"+itoa(here.id)+"/status", map[string]any{"status": "ready"}, owner, nil); r.Status != 200 {
		t.Fatalf("ready: %d %s", r.Status, r.Body)
	}
	if r := send(t, nil, base, "POST", "/api/v1/pickups/verify", map[string]any{"code": here.code, "confirm": true}, owner, nil); r.Status != 200 {
		t.Fatalf("handover: %d %s", r.Status, r.Body)
	}
	for name, l := range listeners {
		testkit.WaitFor(t, name+" hears the handover", 30*time.Second, func() bool { return l.has(`"completed"`) })
		all := l.all()
		if strings.Contains(all, phone) {
			t.Errorf("%s: a stream carried the full phone: %.400s", name, all)
		}
		for _, code := range []string{here.code, there.code} {
			if strings.Contains(all, code) {
				t.Errorf("%s: a stream carried a pickup code", name)
			}
		}
		if !strings.Contains(all, identity.MaskPhone(phone)) {
			t.Errorf("%s: no masked phone in the stream: %.400s", name, all)
		}
		otherEvent := strings.Contains(all, `"id":`+itoa(there.id)+`,`)
		if wantOther := name != "store" && name != "buyer"; otherEvent != wantOther {
			t.Errorf("%s: heard the other store's order = %v, want %v", name, otherEvent, wantOther)
		}
	}
}
