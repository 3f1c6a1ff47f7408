package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
	"github.com/shelflive/shelflive/internal/webhooks"
)

// hookReceiver is an integrator's endpoint: it verifies each message as a
// Standard Webhooks library would and keeps the verified ones.
type hookReceiver struct {
	mu     sync.Mutex
	secret string
	got    []map[string]any
	ids    []string
	bad    int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !webhooks.Verify(h.secret, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body, time.Now(), 5*time.Minute) {
		h.bad++
		w.WriteHeader(401)
		return
	}
	var msg map[string]any
	json.Unmarshal(body, &msg)
	h.got = append(h.got, msg)
	h.ids = append(h.ids, r.Header.Get("webhook-id"))
	w.WriteHeader(204)
}

func (h *hookReceiver) types() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, m := range h.got {
		out = append(out, m["type"].(string))
	}
	return out
}

// TestWebhooksEndToEnd: the owner subscribes an endpoint; a viewer buys and
// pays; the endpoint receives order.created and order.paid once each,
// signed, without the buyer's contact data; a replay resends the same
// webhook-id; a refused address and an unknown event are 400s that store
// nothing; another role cannot touch the settings.
func TestWebhooksEndToEnd(t *testing.T) {
	s := newShop(t, "-webhooks-allow-private")
	owner := testkit.OwnerToken
	rcv := &hookReceiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()

	send(t, nil, s.base, "POST", "/api/v1/webhooks", map[string]any{"url": srv.URL, "events": []string{"order.eaten"}}, owner, nil).wantProblem(t, 400, "webhook_events_invalid")
	send(t, nil, s.base, "POST", "/api/v1/webhooks", map[string]any{"url": "ftp://x", "events": []string{"order.paid"}}, owner, nil).wantProblem(t, 400, "webhook_url_invalid")
	var ep struct {
		ID         int64    `json:"id"`
		Secret     string   `json:"secret"`
		SecretHint string   `json:"secret_hint"`
		Events     []string `json:"events"`
	}
	r := send(t, nil, s.base, "POST", "/api/v1/webhooks", map[string]any{"url": srv.URL + "/erp", "events": []string{"order.paid", "order.created"}, "description": "ERP"}, owner, nil)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	r.decode(t, &ep)
	if len(ep.Secret) < 20 || ep.SecretHint == "" {
		t.Fatalf("created endpoint: %+v", ep)
	}
	rcv.mu.Lock()
	rcv.secret = ep.Secret
	rcv.mu.Unlock()
	var list struct {
		Endpoints []map[string]any `json:"endpoints"`
	}
	send(t, nil, s.base, "GET", "/api/v1/webhooks", nil, owner, nil).decode(t, &list)
	if len(list.Endpoints) != 1 || list.Endpoints[0]["secret"] != nil {
		t.Fatalf("list shows the secret or the wrong endpoints: %+v", list.Endpoints)
	}
	send(t, nil, s.base, "GET", "/api/v1/webhooks", nil, staffLogin(t, s.base, "host", "shelflive-demo").Token, nil).wantProblem(t, 403, "forbidden")

	buyer := viewerLogin(t, s.base, "demo", "13900000811")
	body := s.pickup([2]int64{s.sku1, 1})
	body["contact_name"] = "张三"
	r = send(t, nil, s.base, "POST", "/api/v1/orders", body, buyer.Token, nil)
	if r.Status != 201 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	var o orderView
	r.decode(t, &o)
	var in struct {
		Intent string `json:"intent"`
	}
	send(t, nil, s.base, "POST", "/api/v1/orders/"+itoa(o.ID)+"/pay", nil, buyer.Token, nil).decode(t, &in)
	if r := send(t, nil, s.base, "POST", "/api/v1/payments/dev/"+in.Intent+"/confirm", nil, "", nil); r.Status != 200 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	testkit.WaitFor(t, "order.created and order.paid delivered", 20*time.Second, func() bool { return len(rcv.types()) >= 2 })
	time.Sleep(1500 * time.Millisecond) // a duplicate would arrive by now
	got := rcv.types()
	if len(got) != 2 || !(got[0] == "order.created" && got[1] == "order.paid" || got[0] == "order.paid" && got[1] == "order.created") {
		t.Fatalf("received %v, want order.created and order.paid once each", got)
	}
	rcv.mu.Lock()
	for _, m := range rcv.got {
		raw, _ := json.Marshal(m)
		ord := m["data"].(map[string]any)["order"].(map[string]any)
		if int64(ord["id"].(float64)) != o.ID {
			t.Errorf("message about order %v, want %d", ord["id"], o.ID)
		}
		for _, leak := range []string{"张三", "13900000811", "contact_phone", "pickup_code"} {
			if strings.Contains(string(raw), leak) {
				t.Errorf("webhook carries %q: %s", leak, raw)
			}
		}
	}
	firstID := rcv.ids[0]
	bad := rcv.bad
	rcv.mu.Unlock()
	if bad != 0 {
		t.Fatalf("%d messages failed signature verification", bad)
	}

	var dl struct {
		Deliveries []struct {
			ID        int64  `json:"id"`
			MessageID string `json:"message_id"`
			Status    string `json:"status"`
			Attempts  int    `json:"attempts"`
		} `json:"deliveries"`
	}
	send(t, nil, s.base, "GET", "/api/v1/webhooks/"+itoa(ep.ID)+"/deliveries", nil, owner, nil).decode(t, &dl)
	if len(dl.Deliveries) != 2 || dl.Deliveries[0].Status != "delivered" || dl.Deliveries[0].Attempts != 1 {
		t.Fatalf("delivery log: %+v", dl.Deliveries)
	}
	var replayed *struct{ ID int64 }
	for _, d := range dl.Deliveries {
		if d.MessageID == firstID {
			replayed = &struct{ ID int64 }{d.ID}
		}
	}
	if replayed == nil {
		t.Fatalf("first received message %s is not in the log", firstID)
	}
	if r := send(t, nil, s.base, "POST", "/api/v1/webhook-deliveries/"+itoa(replayed.ID)+"/replay", nil, owner, nil); r.Status != 202 {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	testkit.WaitFor(t, "replayed message", 20*time.Second, func() bool { return len(rcv.types()) == 3 })
	rcv.mu.Lock()
	if rcv.ids[2] != firstID {
		t.Errorf("replay came with webhook-id %s, want the original %s", rcv.ids[2], firstID)
	}
	rcv.mu.Unlock()

	// Switched off: nothing more is sent.
	send(t, nil, s.base, "PATCH", "/api/v1/webhooks/"+itoa(ep.ID), map[string]any{"enabled": false}, owner, nil)
	r = send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), buyer.Token, nil)
	if r.Status != 201 {
		t.Fatalf("second order: %d %s", r.Status, r.Body)
	}
	time.Sleep(1500 * time.Millisecond)
	if n := len(rcv.types()); n != 3 {
		t.Fatalf("a disabled endpoint received %d messages, want 3", n)
	}
}

// TestWebhooksAdmin: the owner adds an endpoint in the admin console, sees
// the secret once, and its row; the page is looked at in a screenshot.
func TestWebhooksAdmin(t *testing.T) {
	s := newShop(t)
	tab := testkit.NewTab(t, testkit.Browser(t), 60*time.Second)
	tab.StaffOpen(s.base, "owner", demo.Password, "/admin%23webhooks", "#webhook-form")
	ctx := tab.Ctx
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#webhook-form input[name=url]"), "https://erp.example.com/shelflive"),
		chromedp.SendKeys(chromedp.CSS("#webhook-form input[name=description]"), "ERP 订单同步"),
		chromedp.Click(chromedp.CSS(`#webhook-form input[value="order.paid"]`)),
		chromedp.Click(chromedp.CSS(`#webhook-form input[value="lot.held"]`)),
		chromedp.Click(chromedp.CSS(`#webhook-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#webhook-secret")),
	)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#admin-main").textContent`))
	for _, want := range []string{"whsec_", "erp.example.com/shelflive", "支付成功", "批次暂停销售", "ERP 订单同步"} {
		if !strings.Contains(text, want) {
			t.Errorf("admin webhooks page lacks %q", want)
		}
	}
	testkit.Screenshot(t, ctx, "admin-webhooks")
}
