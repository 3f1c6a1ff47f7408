package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/webhooks"
)

// presaleHooks keeps the verified webhook messages of a receiver, by id.
type presaleHooks struct {
	mu     sync.Mutex
	secret string
	byType map[string]map[string]bool // type -> webhook-ids
}

func (h *presaleHooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !webhooks.Verify(h.secret, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body, time.Now(), 5*time.Minute) {
		w.WriteHeader(401)
		return
	}
	var msg struct{ Type string }
	json.Unmarshal(body, &msg)
	typ := msg.Type
	if h.byType[typ] == nil {
		h.byType[typ] = map[string]bool{}
	}
	h.byType[typ][r.Header.Get("webhook-id")] = true
	w.WriteHeader(204)
}

// TestMultiNodePresaleLeaderKilledAtDeadline: two pre-sales on 3 nodes
// sharing PostgreSQL and NATS, bought and paid through every node. At the
// deadline the leader (the node that settles) is SIGKILLed. Another node
// takes the lease over and decides both once: the one at its minimum is
// reached, the other failed with every paid order cancelled and refunded
// exactly once, its unpaid order expired; presale.reached and
// presale.failed each reach the ERP once (one webhook-id each).
func TestMultiNodePresaleLeaderKilledAtDeadline(t *testing.T) {
	pg, natsURL := multiNodeEnv(t)
	dbURL := freshSchema(t, pg)
	bin := buildBinary(t)
	prefix := fmt.Sprintf("mnp-%d", time.Now().UnixNano()%1_000_000)
	t.Cleanup(func() { deleteNATSStream(natsURL, prefix) })
	env := []string{"SHELFLIVE_DATABASE_URL=" + dbURL, "SHELFLIVE_NATS_URL=" + natsURL, "SHELFLIVE_NATS_PREFIX=" + prefix,
		"SHELFLIVE_PAY_SECRET=multinode-shared-pay-secret-0123456789", "SHELFLIVE_MQTT_ADDR=", "SHELFLIVE_WEBHOOKS_ALLOW_PRIVATE=true",
		// every node must open the endpoint secrets whoever sealed them
		"SHELFLIVE_SECRET_KEY=multinode-shared-secret-key-0123456789abcdef"}
	nodes := []*proc{startClusterNode(t, bin, env)} // the first node seeds and leads
	nodes = append(nodes, startClusterNode(t, bin, env), startClusterNode(t, bin, env))

	hooks := &presaleHooks{byType: map[string]map[string]bool{}}
	srv := httptest.NewServer(hooks)
	defer srv.Close()
	var ep struct{ Secret string }
	if st, _ := call(nodes[1].base, multiOwner, "POST", "/api/v1/webhooks", map[string]any{"url": srv.URL, "events": []string{"presale.reached", "presale.failed"}}, nil, &ep); st != 201 {
		t.Fatalf("webhook: %d", st)
	}
	hooks.mu.Lock()
	hooks.secret = ep.Secret
	hooks.mu.Unlock()

	deadline := time.Now().Add(time.Hour)
	open := func(title string, moq int) int64 {
		var p struct{ ID int64 }
		if st, err := call(nodes[2].base, multiOwner, "POST", "/api/v1/presales", map[string]any{"title": title, "sku_id": 1, "price_fen": 2990, "moq": moq,
			"deadline": deadline, "ship_by": deadline.Add(240 * time.Hour), "room_id": 1}, nil, &p); st != 201 {
			t.Fatalf("open %s: %d %v", title, st, err)
		}
		return p.ID
	}
	reach, miss := open("粉丝共创款 速食杂粮粉", 4), open("粉丝共创款 燕麦片", 50)

	type placed struct {
		id, total int64
		paid      bool
	}
	var missOrders []placed
	buy := func(i int, presale int64, pay bool) placed {
		node := nodes[i%3]
		var otp struct {
			DevCode string `json:"dev_code"`
		}
		phone := fmt.Sprintf("135%08d", i)
		call(node.base, "", "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": phone}, nil, &otp)
		var sess struct{ Token string }
		if st, _ := call(node.base, "", "POST", "/api/v1/auth/otp/verify", map[string]string{"merchant": "demo", "phone": phone, "code": otp.DevCode}, nil, &sess); st != 200 {
			t.Fatalf("login: %d", st)
		}
		var o struct {
			ID       int64 `json:"id"`
			TotalFen int64 `json:"total_fen"`
		}
		if st, err := call(node.base, sess.Token, "POST", "/api/v1/presales/"+fmt.Sprint(presale)+"/commit", map[string]any{"quantity": 1, "fulfilment": "pickup", "store_id": 1},
			map[string]string{"Idempotency-Key": "mnp-" + phone}, &o); st != 201 {
			t.Fatalf("commit on %s: %d %v", node.base, st, err)
		}
		if pay {
			var in struct{ Intent string }
			if st, _ := call(nodes[(i+1)%3].base, sess.Token, "POST", "/api/v1/orders/"+fmt.Sprint(o.ID)+"/pay", nil, nil, &in); st != 200 {
				t.Fatalf("pay: %d", st)
			}
			if st, _ := call(nodes[(i+2)%3].base, "", "POST", "/api/v1/payments/dev/"+in.Intent+"/confirm", nil, nil, nil); st != 200 {
				t.Fatalf("confirm: %d", st)
			}
		}
		return placed{o.ID, o.TotalFen, pay}
	}
	for i := 0; i < 4; i++ {
		buy(i, reach, true)
	}
	for i := 4; i < 7; i++ {
		missOrders = append(missOrders, buy(i, miss, true))
	}
	missOrders = append(missOrders, buy(7, miss, false))

	ctx := context.Background()
	db, err := sqldb.OpenPostgres(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	paidStatus := func(id int64) string {
		var st string
		db.QueryRow(ctx, `SELECT status FROM orders WHERE id = ?`, id).Scan(&st)
		return st
	}
	waitFor := func(what string, d time.Duration, cond func() bool) {
		t.Helper()
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			if cond() {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		rows, err := db.Query(ctx, `SELECT type, status, attempts, last_status, last_error FROM webhook_deliveries ORDER BY id`)
		if err == nil {
			for rows.Next() {
				var typ, st, le string
				var n, ls int
				rows.Scan(&typ, &st, &n, &ls, &le)
				t.Logf("delivery %s: %s after %d attempts, last %d %s", typ, st, n, ls, le)
			}
			rows.Close()
		}
		t.Fatalf("timed out waiting for %s", what)
	}
	waitFor("every payment applied", 30*time.Second, func() bool {
		for _, o := range missOrders {
			if o.paid && paidStatus(o.id) != "paid" {
				return false
			}
		}
		return true
	})

	// The clock reaches the deadline in 2 s; the leader dies right then.
	at := time.Now().Add(2 * time.Second)
	if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE presales SET deadline = ? WHERE id IN (?, ?)`, at.UnixMilli(), reach, miss)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(at))
	nodes[0].kill()
	killedAt := time.Now()

	status := func(id int64) string {
		var st string
		db.QueryRow(ctx, `SELECT status FROM presales WHERE id = ?`, id).Scan(&st)
		return st
	}
	waitFor("both pre-sales decided by the new leader", 60*time.Second, func() bool { return status(reach) == "reached" && status(miss) == "failed" })
	waitFor("the paid orders of the missed pre-sale refunded", 60*time.Second, func() bool {
		for _, o := range missOrders {
			if o.paid && paidStatus(o.id) != "cancelled" {
				return false
			}
		}
		return true
	})
	waitFor("presale.reached and presale.failed delivered", 60*time.Second, func() bool {
		hooks.mu.Lock()
		defer hooks.mu.Unlock()
		return len(hooks.byType["presale.reached"]) > 0 && len(hooks.byType["presale.failed"]) > 0
	})
	time.Sleep(3 * time.Second) // a second message would arrive by now
	t.Logf("decided %.1fs after the leader was killed", time.Since(killedAt).Seconds())

	var committed int64
	db.QueryRow(ctx, `SELECT committed_units FROM presales WHERE id = ?`, reach).Scan(&committed)
	if committed != 4 {
		t.Fatalf("reached pre-sale counted %d units, want 4", committed)
	}
	for _, o := range missOrders {
		var n, sum, refunded int64
		db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM refunds WHERE order_id = ?`, o.id).Scan(&n, &sum)
		db.QueryRow(ctx, `SELECT refunded_fen FROM orders WHERE id = ?`, o.id).Scan(&refunded)
		switch {
		case o.paid && (n != 1 || sum != o.total || refunded != o.total):
			t.Fatalf("paid order %d: %d refunds of %d fen, refunded_fen %d, total %d", o.id, n, sum, refunded, o.total)
		case !o.paid && (n != 0 || paidStatus(o.id) != "expired"):
			t.Fatalf("unpaid order %d: %s with %d refunds", o.id, paidStatus(o.id), n)
		}
	}
	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	if len(hooks.byType["presale.reached"]) != 1 || len(hooks.byType["presale.failed"]) != 1 {
		t.Fatalf("webhook ids by type: %v", hooks.byType)
	}
}
