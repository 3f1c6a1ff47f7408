package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestCrashDuringCouponGrab kills the server with SIGKILL at random moments
// while viewers grab a coupon card, restarting it each time (the allocator
// is rebuilt from the claims written). Afterwards every acknowledged grab
// is a claim of that viewer in the database — a viewer hears "yours" only
// after the claim's batch committed —, nothing is issued past the budget or
// a viewer's limit, and the coupon's issued count is its claims.
func TestCrashDuringCouponGrab(t *testing.T) {
	runs := 8
	if testing.Short() {
		runs = 3
	}
	const budget, limit, viewers = 300, 10, 40
	bin := buildBinary(t)
	dataDir := t.TempDir()
	p := startProc(t, bin, dataDir)
	owner := "crash-owner-token"
	var cp struct{ ID int64 }
	if st, _ := call(p.base, owner, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "直播间立减1元", "room": "demo", "amount_fen": 100,
		"budget_count": budget, "per_user_limit": limit}, nil, &cp); st != 201 {
		t.Fatalf("coupon: %d", st)
	}
	if st, _ := call(p.base, owner, "POST", fmt.Sprintf("/api/v1/coupons/%d/push", cp.ID), nil, nil, nil); st != 200 {
		t.Fatalf("push: %d", st)
	}
	tokens := loginViewers(t, p.base, "134", viewers)
	type ack struct {
		claim  int64
		viewer int
	}
	var mu sync.Mutex
	var acked []ack
	rng := rand.New(rand.NewPCG(18, 1))
	url := fmt.Sprintf("/api/v1/coupons/%d/grab", cp.ID)
	ackedBefore, killedMidGrab := 0, 0
	for run := 0; run < runs; run++ {
		if run > 0 {
			p = startProc(t, bin, dataDir)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for v := range viewers {
			seed := rng.Uint64()
			wg.Go(func() {
				r := rand.New(rand.NewPCG(seed, uint64(v)))
				for {
					select {
					case <-stop:
						return
					default:
					}
					var c struct {
						ID   int64  `json:"id"`
						Code string `json:"code"`
					}
					st, err := call(p.base, tokens[v], "POST", url, map[string]any{}, nil, &c)
					if err != nil {
						return // the server died
					}
					if st == 201 {
						mu.Lock()
						acked = append(acked, ack{c.ID, v})
						mu.Unlock()
					}
					if c.Code == "coupon_gone" || c.Code == "coupon_claim_limit" {
						return
					}
					time.Sleep(time.Duration(80+r.IntN(160)) * time.Millisecond) // the budget lasts several kills
				}
			})
		}
		time.Sleep(time.Duration(150+rng.IntN(350)) * time.Millisecond)
		p.kill()
		mu.Lock()
		if len(acked) > ackedBefore {
			killedMidGrab++
		}
		ackedBefore = len(acked)
		mu.Unlock()
		close(stop)
		wg.Wait()
	}

	db, err := sqldb.OpenSQLite(context.Background(), filepath.Join(dataDir, "shelflive.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	holder := map[int]int64{} // viewer → the customer their claims belong to
	seen := map[int64]int{}
	for _, a := range acked {
		var cust int64
		if err := db.QueryRow(ctx, `SELECT customer_id FROM coupon_claims WHERE id = ? AND coupon_id = ?`, a.claim, cp.ID).Scan(&cust); err != nil {
			t.Fatalf("acknowledged claim %d of viewer %d is not in the database: %v", a.claim, a.viewer, err)
		}
		if c, ok := holder[a.viewer]; ok && c != cust {
			t.Fatalf("viewer %d's claims belong to customers %d and %d", a.viewer, c, cust)
		}
		if v, ok := seen[cust]; ok && v != a.viewer {
			t.Fatalf("customer %d holds claims acknowledged to viewers %d and %d", cust, v, a.viewer)
		}
		holder[a.viewer], seen[cust] = cust, a.viewer
	}
	var claims, issued, overLimit int64
	db.QueryRow(ctx, `SELECT count(*) FROM coupon_claims WHERE coupon_id = ?`, cp.ID).Scan(&claims)
	db.QueryRow(ctx, `SELECT issued FROM coupons WHERE id = ?`, cp.ID).Scan(&issued)
	db.QueryRow(ctx, `SELECT count(*) FROM (SELECT customer_id FROM coupon_claims WHERE coupon_id = ? GROUP BY customer_id HAVING count(*) > ?) x`, cp.ID, limit).Scan(&overLimit)
	if claims > budget || claims != issued || overLimit != 0 || int64(len(acked)) > claims {
		t.Fatalf("after %d SIGKILLs: %d claims, issued %d (budget %d), %d viewers over the limit, %d acknowledged", runs, claims, issued, budget, overLimit, len(acked))
	}
	if killedMidGrab < 2 {
		t.Fatalf("only %d of %d kills came while grabs were acknowledged", killedMidGrab, runs)
	}
	t.Logf("%d SIGKILLs (%d while grabs were acknowledged), %d acknowledged grabs, %d claims stored (budget %d)", runs, killedMidGrab, len(acked), claims, budget)
}
