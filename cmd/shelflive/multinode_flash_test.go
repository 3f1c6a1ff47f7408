package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestMultiNodeFlashSaleLeaderKilled runs a flash sale on 3 nodes sharing
// PostgreSQL and NATS, with buyers spread over all nodes, and SIGKILLs the
// leader (the node that allocates the sale) in the middle. Another node
// takes the lease over and the sale goes on; afterwards every acknowledged
// order exists exactly once, nothing is oversold, per-buyer limits hold and
// the stock invariant holds.
func TestMultiNodeFlashSaleLeaderKilled(t *testing.T) {
	pg, natsURL := multiNodeEnv(t)
	dbURL := freshSchema(t, pg)
	bin := buildBinary(t)
	prefix := fmt.Sprintf("mnf-%d", time.Now().UnixNano()%1_000_000)
	t.Cleanup(func() { deleteNATSStream(natsURL, prefix) })
	env := []string{"SHELFLIVE_DATABASE_URL=" + dbURL, "SHELFLIVE_NATS_URL=" + natsURL, "SHELFLIVE_NATS_PREFIX=" + prefix,
		"SHELFLIVE_PAY_SECRET=multinode-shared-pay-secret-0123456789", "SHELFLIVE_MQTT_ADDR="}
	nodes := []*proc{startClusterNode(t, bin, env)} // the first node seeds and leads
	nodes = append(nodes, startClusterNode(t, bin, env), startClusterNode(t, bin, env))

	if st, _ := call(nodes[0].base, multiOwner, "PUT", "/api/v1/stock", map[string]any{"store_id": 1, "lot_id": 1, "on_hand": 1000}, nil, nil); st != 204 {
		t.Fatalf("stock: %d", st)
	}
	var sale struct{ ID int64 }
	if st, _ := call(nodes[0].base, multiOwner, "POST", "/api/v1/rooms/demo/flash-sales", map[string]any{"sku_id": 1, "price_fen": 990, "quantity": 600, "per_user_limit": 40, "duration_s": 3600}, nil, &sale); st != 201 {
		t.Fatalf("sale: %d", st)
	}
	const buyers = 30
	tokens := make([]string, buyers)
	for i := range tokens {
		var otp struct {
			DevCode string `json:"dev_code"`
		}
		phone := fmt.Sprintf("134%08d", i)
		call(nodes[1].base, "", "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": phone}, nil, &otp)
		var sess struct{ Token string }
		if st, _ := call(nodes[1].base, "", "POST", "/api/v1/auth/otp/verify", map[string]string{"merchant": "demo", "phone": phone, "code": otp.DevCode}, nil, &sess); st != 200 {
			t.Fatalf("login: %d", st)
		}
		tokens[i] = sess.Token
	}

	type ack struct {
		id    int64
		buyer int
		after bool // acknowledged after the leader died
	}
	var mu sync.Mutex
	var acks []ack
	var killed atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for b := 0; b < buyers; b++ {
		wg.Add(1)
		go func(b int) {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				node := nodes[(b+n)%3]
				var o struct{ ID int64 }
				st, err := call(node.base, tokens[b], "POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"sku_id": 1, "quantity": 1}}, "fulfilment": "pickup", "flash_sale_id": sale.ID},
					map[string]string{"Idempotency-Key": fmt.Sprintf("mn-%d-%d", b, n)}, &o)
				if err == nil && st == 201 {
					mu.Lock()
					acks = append(acks, ack{o.ID, b, killed.Load()})
					mu.Unlock()
				}
				time.Sleep(250 * time.Millisecond)
			}
		}(b)
	}
	time.Sleep(1500 * time.Millisecond)
	nodes[0].kill()
	killed.Store(true)
	time.Sleep(9 * time.Second) // the lease (5 s) expires; another node leads
	close(stop)
	wg.Wait()

	ctx := context.Background()
	db, err := sqldb.OpenPostgres(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.VerifyStock(ctx); err != nil {
		t.Fatal(err)
	}
	after, perBuyer := 0, map[int]int{}
	for _, a := range acks {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM orders WHERE id = ? AND sale_id = ?`, a.id, sale.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("acknowledged order %d: %d rows (%v)", a.id, n, err)
		}
		if a.after {
			after++
		}
		perBuyer[a.buyer]++
	}
	for b, n := range perBuyer {
		if n > 40 {
			t.Fatalf("buyer %d holds %d units over the limit of 40", b, n)
		}
	}
	var units int64
	db.QueryRow(ctx, `SELECT COALESCE(SUM(quantity), 0) FROM allocations WHERE sale_id = ? AND state <> 'released'`, sale.ID).Scan(&units)
	if units > 600 || int(units) != len(acks) {
		t.Fatalf("sale holds %d units; %d orders acknowledged; quota 600", units, len(acks))
	}
	if after == 0 {
		t.Fatalf("no flash order was acknowledged after the leader died: failover did not happen")
	}
	t.Logf("%d orders acknowledged, %d after the leader was killed", len(acks), after)
}
