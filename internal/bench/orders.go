package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shelflive/shelflive/internal/apiclient"
)

// OrdersResult is the last line of `shelflive bench orders`.
type OrdersResult struct {
	Clients    int     `json:"clients"`
	OfferedPS  float64 `json:"offered_per_s,omitempty"`
	DurationS  float64 `json:"duration_s"`
	Orders     int64   `json:"orders"`
	Retries    int64   `json:"idempotent_retries"`
	Errors     int64   `json:"errors"`
	OrdersPerS float64 `json:"orders_per_s"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	Database   string  `json:"database"`
}

// RunOrders measures order creation (reserve stock + create order, with an
// Idempotency-Key) through the real HTTP API: N concurrent customers over
// loopback, each creating one-unit pickup orders back to back. Without --url
// it starts a node in-process on a temp data dir with rate limits off and
// stock raised so no order fails for stock.
func RunOrders(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench orders", flag.ContinueOnError)
	clients := fs.Int("clients", 200, "concurrent customers")
	duration := fs.Duration("duration", 10*time.Second, "how long to create orders")
	url := fs.String("url", "", "a running server (started with -rate-limits=false); empty starts one in-process")
	token := fs.String("token", os.Getenv("SHELFLIVE_ADMIN_TOKEN"), "owner API token of the server (to raise stock)")
	dbURL := fs.String("database-url", "", "database for the in-process server (empty = SQLite in a temp dir)")
	retryEvery := fs.Int("retry-every", 10, "resend every Nth order with the same Idempotency-Key, to measure the retry path too (0 = never)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole process (server and clients) to this file")
	rate := fs.Float64("rate", 0, "offered load in orders/s over all clients (open loop); 0 = each client sends back to back")
	if err := fs.Parse(args); err != nil {
		return err
	}
	base := *url
	dbName := "remote"
	if base == "" {
		dir, err := os.MkdirTemp("", "shelflive-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*token = "bench-owner-token"
		m, err := startNode(ctx, dir, "-admin-token", *token, "-rate-limits=false", "-database-url", *dbURL)
		if err != nil {
			return err
		}
		defer m.Close()
		base = m.URL()
		dbName = string(m.DB.Dialect)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients * 2, MaxConnsPerHost: 0}, Timeout: 30 * time.Second}
	owner := &apiclient.Client{Base: base, Token: *token, HTTP: hc}

	storeID, skus, err := raiseStock(owner, "bench orders")
	if err != nil {
		return err
	}
	customers, err := loginCustomers(base, hc, *clients)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "bench orders: %d customers, %s, %d SKUs, store %d, %s\n", *clients, *duration, len(skus), storeID, base)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	runID := strconv.FormatInt(time.Now().UnixNano(), 36) // keys never repeat across runs against one server
	var counts ordersCounts
	var wg sync.WaitGroup
	lat := make([][]time.Duration, *clients)
	runCtx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	start := time.Now()
	for i, c := range customers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat[i] = ordersClient(runCtx, c, ordersPlan{i: i, clients: *clients, rate: *rate, retryEvery: *retryEvery, runID: runID, skus: skus, storeID: storeID}, &counts)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	pct := percentilesMs(lat)
	res := OrdersResult{Clients: *clients, OfferedPS: *rate, DurationS: round2(elapsed.Seconds()), Orders: counts.orders.Load(), Retries: counts.retries.Load(), Errors: counts.errs.Load(),
		OrdersPerS: round2(float64(counts.orders.Load()) / elapsed.Seconds()), P50Ms: pct(0.50), P99Ms: pct(0.99), MaxMs: pct(1), Database: dbName}
	fmt.Fprintf(stdout, "orders created: %d (%.0f/s), idempotent retries answered: %d, errors: %d\nlatency: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		res.Orders, res.OrdersPerS, res.Retries, res.Errors, res.P50Ms, res.P99Ms, res.MaxMs)
	line, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(line))
	return nil
}

// loginCustomers logs in one customer per client, 16 at a time (phone
// OTP; the dev server returns the code).
func loginCustomers(base string, hc *http.Client, n int) ([]*apiclient.Client, error) {
	customers := make([]*apiclient.Client, n)
	var loginErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range customers {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := loginCustomer(base, hc, fmt.Sprintf("137%08d", i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil && loginErr == nil {
				loginErr = err
			}
			customers[i] = c
		}(i)
	}
	wg.Wait()
	if loginErr != nil {
		return nil, fmt.Errorf("bench orders: customer login: %w", loginErr)
	}
	return customers, nil
}

// ordersPlan is what one client of RunOrders sends.
type ordersPlan struct {
	i, clients, retryEvery int
	rate                   float64
	runID                  string
	skus                   []int64
	storeID                int64
}

// ordersCounts are RunOrders' totals over all clients.
type ordersCounts struct{ orders, retries, errs atomic.Int64 }

// ordersClient creates one-unit pickup orders until ctx ends, back to back
// or paced (open loop), resending every retryEvery-th with its key; it
// returns the latencies of the orders created.
func ordersClient(runCtx context.Context, c *apiclient.Client, p ordersPlan, counts *ordersCounts) []time.Duration {
	var lat []time.Duration
	var pace *time.Ticker
	if p.rate > 0 {
		// Open loop: each client sends at rate/clients per second, its
		// phase spread so the clients do not fire in lockstep.
		every := time.Duration(float64(p.clients) / p.rate * float64(time.Second))
		time.Sleep(time.Duration(p.i) * every / time.Duration(p.clients))
		pace = time.NewTicker(every)
		defer pace.Stop()
	}
	for n := 0; runCtx.Err() == nil; n++ {
		if pace != nil {
			select {
			case <-pace.C:
			case <-runCtx.Done():
				return lat
			}
		}
		key := fmt.Sprintf("bench-%s-%d-%d", p.runID, p.i, n)
		body := map[string]any{"items": []map[string]any{{"sku_id": p.skus[(p.i+n)%len(p.skus)], "quantity": 1}}, "fulfilment": "pickup", "store_id": p.storeID}
		t0 := time.Now()
		st, _, err := c.CallWith(context.Background(), "POST", "/api/v1/orders", map[string]string{"Idempotency-Key": key}, body, nil)
		d := time.Since(t0)
		if err != nil || st != 201 {
			if runCtx.Err() == nil {
				counts.errs.Add(1)
			}
			continue
		}
		lat = append(lat, d)
		counts.orders.Add(1)
		if p.retryEvery > 0 && n%p.retryEvery == 0 {
			if st, _, err := c.CallWith(context.Background(), "POST", "/api/v1/orders", map[string]string{"Idempotency-Key": key}, body, nil); err == nil && st == 200 {
				counts.retries.Add(1)
			} else if runCtx.Err() == nil {
				counts.errs.Add(1)
			}
		}
	}
	return lat
}

// percentilesMs merges per-client latencies and returns a lookup of the
// p-th percentile in milliseconds (p in 0..1; 1 is the maximum).
func percentilesMs(lat [][]time.Duration) func(p float64) float64 {
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// loginCustomer logs a demo customer in through the OTP API (dev mode).
func loginCustomer(base string, hc *http.Client, phone string) (*apiclient.Client, error) {
	return apiclient.LoginViewer(context.Background(), &apiclient.Client{Base: base, HTTP: hc}, "demo", phone)
}
