package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/sqldb"
)

// buildBinary builds this command once for tests that need a real process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shelflive")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	return bin
}

type proc struct {
	cmd  *exec.Cmd
	base string
}

func startProc(t *testing.T, bin, dataDir string) *proc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "-addr", addr, "-data-dir", dataDir, "-rtmp-addr", "", "-mqtt-addr", "", "-admin-token", "crash-owner-token", "-rate-limits=false", "-reserve-for", "1h")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, base: "http://" + addr}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(p.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	t.Fatal("server did not become ready")
	return nil
}

func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

// loginViewers logs n viewers of the demo shop in through the OTP API
// (the dev provider answers with the code), phones prefix + 8 digits, and
// returns their session tokens.
func loginViewers(t *testing.T, base, prefix string, n int) []string {
	t.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		var otp struct {
			DevCode string `json:"dev_code"`
		}
		phone := fmt.Sprintf("%s%08d", prefix, i)
		call(base, "", "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": phone}, nil, &otp)
		var sess struct{ Token string }
		if st, _ := call(base, "", "POST", "/api/v1/auth/otp/verify", map[string]string{"merchant": "demo", "phone": phone, "code": otp.DevCode}, nil, &sess); st != 200 {
			t.Fatalf("login: %d", st)
		}
		tokens[i] = sess.Token
	}
	return tokens
}

func call(base, token, method, path string, body any, headers map[string]string, out any) (int, error) {
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode, nil
}

// TestCrashDuringFlashSale kills the server with SIGKILL at random moments
// while buyers race a flash sale and regular orders, restarting it each
// time. Afterwards every acknowledged order exists exactly once with what
// was acknowledged, every paid order was paid once, nothing is oversold and
// the stock invariant holds (on_hand = initial − handed over; reserved =
// what orders and the sale hold).
func TestCrashDuringFlashSale(t *testing.T) {
	runs := 20
	if testing.Short() {
		runs = 5
	}
	bin := buildBinary(t)
	dataDir := t.TempDir()
	p := startProc(t, bin, dataDir)
	owner := "crash-owner-token"
	if st, _ := call(p.base, owner, "PUT", "/api/v1/stock", map[string]any{"store_id": 1, "lot_id": 1, "on_hand": 400}, nil, nil); st != 204 {
		t.Fatalf("stock: %d", st)
	}
	var sale struct{ ID int64 }
	if st, _ := call(p.base, owner, "POST", "/api/v1/rooms/demo/flash-sales", map[string]any{"sku_id": 1, "price_fen": 990, "quantity": 300, "per_user_limit": 50, "duration_s": 3600}, nil, &sale); st != 201 {
		t.Fatalf("sale: %d", st)
	}
	const buyers = 30
	tokens := loginViewers(t, p.base, "133", buyers)
	type ack struct {
		id, units, total int64
		buyer            int
		key              string
		paid             bool
	}
	var mu sync.Mutex
	acked := map[int64]*ack{}
	keys := 0
	rng := rand.New(rand.NewPCG(1, 2))
	for run := 0; run < runs; run++ {
		if run > 0 {
			p = startProc(t, bin, dataDir)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for b := 0; b < buyers; b++ {
			wg.Add(1)
			mu.Lock()
			keys++
			base := keys * 1000
			mu.Unlock()
			go func(b, base int) {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprintf("crash-%d-%d", b, base+n)
					body := map[string]any{"items": []map[string]any{{"sku_id": 1, "quantity": 1}}, "fulfilment": "pickup", "flash_sale_id": sale.ID}
					if n%3 == 2 {
						body = map[string]any{"items": []map[string]any{{"sku_id": 2, "quantity": 1}}, "fulfilment": "pickup", "store_id": 1}
					}
					var o struct {
						ID       int64 `json:"id"`
						TotalFen int64 `json:"total_fen"`
					}
					st, err := call(p.base, tokens[b], "POST", "/api/v1/orders", body, map[string]string{"Idempotency-Key": key}, &o)
					if err != nil {
						return // the server died
					}
					if st != 201 {
						continue
					}
					a := &ack{id: o.ID, units: 1, total: o.TotalFen, buyer: b, key: key}
					mu.Lock()
					acked[o.ID] = a
					mu.Unlock()
					if n%2 == 0 { // pay half of them
						var in struct{ Intent string }
						if st, err := call(p.base, tokens[b], "POST", fmt.Sprintf("/api/v1/orders/%d/pay", o.ID), nil, nil, &in); err == nil && st == 200 {
							var done struct{ Status string }
							if st, err := call(p.base, "", "POST", "/api/v1/payments/dev/"+in.Intent+"/confirm", nil, nil, &done); err == nil && st == 200 && done.Status == "paid" {
								mu.Lock()
								a.paid = true
								mu.Unlock()
							}
						}
					}
				}
			}(b, base)
		}
		time.Sleep(time.Duration(150+rng.IntN(450)) * time.Millisecond)
		p.kill()
		close(stop)
		wg.Wait()
	}

	// Check the data directly, the server stopped.
	db, err := sqldb.OpenSQLite(context.Background(), filepath.Join(dataDir, "shelflive.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.VerifyStock(ctx); err != nil {
		t.Fatal(err)
	}
	for id, a := range acked {
		var n, total int64
		var status string
		if err := db.QueryRow(ctx, `SELECT count(*), MAX(total_fen), MAX(status) FROM orders WHERE id = ?`, id).Scan(&n, &total, &status); err != nil || n != 1 {
			t.Fatalf("acknowledged order %d: found %d (%v)", id, n, err)
		}
		if total != a.total {
			t.Fatalf("order %d: total %d, acknowledged %d", id, total, a.total)
		}
		var dup int
		db.QueryRow(ctx, `SELECT count(*) FROM orders WHERE idempotency_key = ?`, a.key).Scan(&dup)
		if dup != 1 {
			t.Fatalf("key %s: %d orders", a.key, dup)
		}
		if a.paid && status == "pending_payment" {
			t.Fatalf("order %d was paid but is %s", id, status)
		}
	}
	var twicePaid int
	db.QueryRow(ctx, `SELECT count(*) FROM (SELECT order_id FROM payments WHERE status = 'paid' GROUP BY order_id HAVING count(*) > 1) x`).Scan(&twicePaid)
	if twicePaid != 0 {
		t.Fatalf("%d orders paid more than once", twicePaid)
	}
	var flashUnits int64
	db.QueryRow(ctx, `SELECT COALESCE(SUM(a.quantity), 0) FROM allocations a WHERE a.sale_id = ? AND a.state <> 'released'`, sale.ID).Scan(&flashUnits)
	if flashUnits > 300 {
		t.Fatalf("flash sale oversold: %d units for 300", flashUnits)
	}
	var onHand int64
	db.QueryRow(ctx, `SELECT on_hand FROM stock WHERE store_id = 1 AND lot_id = 1`).Scan(&onHand)
	if onHand != 400 { // nothing was handed over in this test
		t.Fatalf("on_hand changed to %d", onHand)
	}
	t.Logf("%d SIGKILLs, %d acknowledged orders, %d flash units held", runs, len(acked), flashUnits)
}
