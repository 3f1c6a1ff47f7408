package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestMultiNodeCouponGrab: three nodes share PostgreSQL and NATS; the host
// pushes a coupon card through a node that does not lead (it forwards to
// the leader, which holds the card's allocator); 60 viewers spread over
// all three nodes grab 25 coupons at once, twice each: exactly 25 win,
// the database holds 25 claims, one per winner, and the rest hear
// coupon_gone or coupon_claim_limit.
func TestMultiNodeCouponGrab(t *testing.T) {
	pg, natsURL := multiNodeEnv(t)
	dbURL := freshSchema(t, pg)
	bin := buildBinary(t)
	prefix := fmt.Sprintf("mnc-%d", time.Now().UnixNano()%1_000_000)
	t.Cleanup(func() { deleteNATSStream(natsURL, prefix) })
	env := []string{"SHELFLIVE_DATABASE_URL=" + dbURL, "SHELFLIVE_NATS_URL=" + natsURL, "SHELFLIVE_NATS_PREFIX=" + prefix,
		"SHELFLIVE_PAY_SECRET=multinode-shared-pay-secret-0123456789", "SHELFLIVE_MQTT_ADDR=", "SHELFLIVE_RATE_LIMITS=false"}
	nodes := []*proc{startClusterNode(t, bin, env)} // the first node seeds and leads
	nodes = append(nodes, startClusterNode(t, bin, env), startClusterNode(t, bin, env))

	var cp struct{ ID int64 }
	if st, _ := call(nodes[2].base, multiOwner, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "集群立减", "room": "demo", "amount_fen": 300, "budget_count": 25}, nil, &cp); st != 201 {
		t.Fatalf("coupon: %d", st)
	}
	if st, _ := call(nodes[2].base, multiOwner, "POST", fmt.Sprintf("/api/v1/coupons/%d/push", cp.ID), nil, nil, nil); st != 200 {
		t.Fatalf("push through a follower: %d", st)
	}
	const viewers = 60
	tokens := make([]string, viewers)
	for i := range tokens {
		var otp struct {
			DevCode string `json:"dev_code"`
		}
		phone := fmt.Sprintf("135%08d", i)
		call(nodes[i%3].base, "", "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": phone}, nil, &otp)
		var sess struct{ Token string }
		if st, _ := call(nodes[i%3].base, "", "POST", "/api/v1/auth/otp/verify", map[string]string{"merchant": "demo", "phone": phone, "code": otp.DevCode}, nil, &sess); st != 200 {
			t.Fatalf("login: %d", st)
		}
		tokens[i] = sess.Token
	}
	var mu sync.Mutex
	won := map[int]int{}
	other := map[int]int{}
	var wg sync.WaitGroup
	for i := range tokens {
		for n := range 2 {
			wg.Go(func() {
				var p struct{ Code string }
				st, err := call(nodes[(i+n)%3].base, tokens[i], "POST", fmt.Sprintf("/api/v1/coupons/%d/grab", cp.ID), nil, nil, &p)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && st == 201:
					won[i]++
				case st == 409 && (p.Code == "coupon_gone" || p.Code == "coupon_claim_limit"):
					other[st]++
				default:
					t.Errorf("grab on node %d: %d %q %v", (i+n)%3, st, p.Code, err)
				}
			})
		}
	}
	wg.Wait()
	total := 0
	for i, n := range won {
		if n > 1 {
			t.Errorf("viewer %d won %d times", i, n)
		}
		total += n
	}
	var claims, people int
	db, err := sqldb.OpenPostgres(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.QueryRow(context.Background(), `SELECT COUNT(*), COUNT(DISTINCT customer_id) FROM coupon_claims WHERE coupon_id = ?`, cp.ID).Scan(&claims, &people)
	if total != 25 || claims != 25 || people != 25 {
		t.Fatalf("25 coupons over 3 nodes: %d acknowledged, %d claims stored for %d people", total, claims, people)
	}
}
