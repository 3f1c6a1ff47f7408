package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/delivery/kuaidi100"
	"github.com/shelflive/shelflive/internal/delivery/kuaidi100/kuaidi100test"
	"github.com/shelflive/shelflive/internal/testkit"
)

type shipmentView struct {
	Carrier    string `json:"carrier"`
	TrackingNo string `json:"tracking_no"`
	Stage      string `json:"stage"`
	Delivered  bool   `json:"delivered"`
	Events     []struct {
		Stage  string `json:"stage"`
		Text   string `json:"text"`
		Source string `json:"source"`
	} `json:"events"`
}

// payDelivery places and pays (dev provider) a delivery order.
func payDelivery(t *testing.T, base, token string, body map[string]any) int64 {
	t.Helper()
	r := send(t, nil, base, "POST", "/api/v1/orders", body, token, nil)
	if r.Status != 201 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	var o orderView
	r.decode(t, &o)
	var in struct {
		Intent string `json:"intent"`
	}
	send(t, nil, base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/pay", nil, token, nil).decode(t, &in)
	if r := send(t, nil, base, "POST", "/api/v1/payments/dev/"+in.Intent+"/confirm", nil, "", nil); r.Status != 200 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	return o.ID
}

// TestShipWithTracking: a delivery order is shipped only with a known
// carrier and a number of its shape; the leader polls the local 快递100
// (over real HTTP, signed, with the phone's last digits for SF) and the
// buyer's timeline grows; "delivered" completes the order once, tells the
// buyer and closes the shipment; the API's answers are problem+json codes.
func TestShipWithTracking(t *testing.T) {
	fake := kuaidi100test.Start("SHELF100CUST", "kuaidi100-test-key")
	defer fake.Close()
	s := newShop(t, "-kuaidi100-customer", fake.Customer, "-kuaidi100-key", fake.Key, "-kuaidi100-url", fake.URL, "-track-every", "1s")
	buyer := viewerLogin(t, s.base, "demo", "13900005678")
	other := viewerLogin(t, s.base, "demo", "13900005679")
	id := payDelivery(t, s.base, buyer.Token, map[string]any{"items": []any{map[string]any{"sku_id": s.sku1, "quantity": 1}}, "fulfilment": "delivery",
		"contact_name": "王女士", "contact_phone": "13900005678", "address": "上海市静安区南京西路 1 号"})
	path := "/api/v1/orders/" + strconv.FormatInt(id, 10)

	// The old way ("shipped" with no parcel) and bad parcels are refused.
	send(t, nil, s.base, "POST", path+"/status", map[string]string{"status": "shipped"}, testkit.OwnerToken, nil).wantProblem(t, 409, "shipment_required")
	send(t, nil, s.base, "POST", path+"/shipment", map[string]string{"carrier": "dhl", "tracking_no": "SF1234567890123"}, testkit.OwnerToken, nil).wantProblem(t, 400, "unknown_carrier")
	send(t, nil, s.base, "POST", path+"/shipment", map[string]string{"carrier": "shunfeng", "tracking_no": "75123456789012"}, testkit.OwnerToken, nil).wantProblem(t, 400, "invalid_tracking_no")
	send(t, nil, s.base, "POST", path+"/shipment/events", map[string]string{"stage": "in_transit", "text": "x"}, testkit.OwnerToken, nil).wantProblem(t, 404, "shipment_not_found")
	var none struct {
		Shipment *shipmentView `json:"shipment"`
	}
	send(t, nil, s.base, "GET", path+"/shipment", nil, buyer.Token, nil).decode(t, &none)
	if none.Shipment != nil {
		t.Fatalf("a shipment before shipping: %+v", none.Shipment)
	}

	var sh shipmentView
	r := send(t, nil, s.base, "POST", path+"/shipment", map[string]string{"carrier": "shunfeng", "tracking_no": "sf 1234 5678 90123"}, testkit.OwnerToken, nil)
	if r.Status != 200 {
		t.Fatalf("ship: %d %s", r.Status, r.Body)
	}
	r.decode(t, &sh)
	if sh.TrackingNo != "SF1234567890123" || len(sh.Events) != 1 {
		t.Fatalf("shipment %+v", sh)
	}
	var o orderView
	send(t, nil, s.base, "GET", path, nil, buyer.Token, nil).decode(t, &o)
	if o.Status != "shipped" {
		t.Fatalf("order after shipping: %+v", o)
	}
	send(t, nil, s.base, "GET", path+"/shipment", nil, other.Token, nil).wantProblem(t, 404, "not_found")

	timeline := func() shipmentView {
		var v struct {
			Shipment shipmentView `json:"shipment"`
		}
		send(t, nil, s.base, "GET", path+"/shipment", nil, buyer.Token, nil).decode(t, &v)
		return v.Shipment
	}
	waitUntil := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting: %s", what)
			}
		}
	}
	shipped := time.Now()
	ts := func(d time.Duration) string { return shipped.Add(d).In(cn.Shanghai).Format("2006-01-02 15:04:05") }
	// The carrier scans it; SF answers only with the phone's last four digits.
	fake.Put("shunfeng", "SF1234567890123", kuaidi100test.Parcel{State: "5", Phone: "5678", Data: []kuaidi100.Datum{
		{Time: ts(2 * time.Minute), Context: "【上海市】快件派送中，冷链保温箱", Location: "上海市"},
		{Time: ts(time.Minute), Context: "【上海市】快件已到达 静安营业点", Location: "上海市"},
	}})
	waitUntil("the leader's poll", func() bool { v := timeline(); return v.Stage == "delivering" && len(v.Events) == 3 })
	v := timeline()
	if v.Events[0].Source != "kuaidi100" || !strings.Contains(v.Events[0].Text, "派送中") {
		t.Fatalf("timeline %+v", v.Events)
	}
	// Staff add what the rider phoned in.
	r = send(t, nil, s.base, "POST", path+"/shipment/events", map[string]string{"stage": "delivering", "text": "骑手电话：10 分钟后到", "location": "静安"}, testkit.OwnerToken, nil)
	if r.Status != 200 {
		t.Fatalf("manual entry: %d %s", r.Status, r.Body)
	}
	// Delivered: the order completes (the after-sales window starts), once.
	fake.Put("shunfeng", "SF1234567890123", kuaidi100test.Parcel{State: "3", Phone: "5678", Data: []kuaidi100.Datum{
		{Time: ts(3 * time.Minute), Context: "已签收，签收人：本人", Location: "上海市"},
		{Time: ts(2 * time.Minute), Context: "【上海市】快件派送中，冷链保温箱", Location: "上海市"},
		{Time: ts(time.Minute), Context: "【上海市】快件已到达 静安营业点", Location: "上海市"},
	}})
	waitUntil("delivery", func() bool {
		send(t, nil, s.base, "GET", path, nil, buyer.Token, nil).decode(t, &o)
		return o.Status == "completed"
	})
	v = timeline()
	if !v.Delivered || v.Stage != "delivered" || len(v.Events) != 5 {
		t.Fatalf("delivered timeline %+v", v)
	}
	send(t, nil, s.base, "POST", path+"/shipment/events", map[string]string{"stage": "problem", "text": "x"}, testkit.OwnerToken, nil).wantProblem(t, 409, "shipment_delivered")
	var inbox struct {
		Messages []struct {
			Kind string `json:"kind"`
			Body string `json:"body"`
		} `json:"messages"`
	}
	send(t, nil, s.base, "GET", "/api/v1/me/inbox", nil, buyer.Token, nil).decode(t, &inbox)
	kinds := map[string]int{}
	for _, m := range inbox.Messages {
		kinds[m.Kind]++
	}
	if kinds["order.shipped"] != 1 || kinds["order.delivered"] != 1 {
		t.Fatalf("inbox %+v", inbox.Messages)
	}
	audit := send(t, nil, s.base, "GET", "/api/v1/audit", nil, testkit.OwnerToken, nil)
	for _, a := range []string{"order.ship", "order.tracking_update", "order.delivered"} {
		if !strings.Contains(string(audit.Body), `"`+a+`"`) {
			t.Errorf("audit log lacks %s", a)
		}
	}
	if ok, bad := fake.Calls(); ok < 2 || bad != 0 {
		t.Fatalf("the fake answered %d queries and refused %d signatures", ok, bad)
	}
	// The after-sales window is open from the delivery.
	r = send(t, nil, s.base, "POST", path+"/aftersales", map[string]any{"kind": "refund_only", "reason": "damaged", "amount_fen": 100}, buyer.Token, nil)
	if r.Status != 201 {
		t.Fatalf("after-sales after delivery: %d %s", r.Status, r.Body)
	}
}
