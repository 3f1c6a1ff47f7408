package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shelflive/shelflive/internal/apiclient"
	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/payment/wechatpay"
	"github.com/shelflive/shelflive/internal/payment/wechatpay/wechatpaytest"
)

// CallbacksResult is the last line of `shelflive bench callbacks`.
type CallbacksResult struct {
	Callbacks    int     `json:"callbacks"`
	Clients      int     `json:"clients"`
	DurationS    float64 `json:"duration_s"`
	PerS         float64 `json:"callbacks_per_s"`
	Applied      int64   `json:"applied"`
	Errors       int64   `json:"errors"`
	Paid         int     `json:"orders_paid"`
	P50Ms        float64 `json:"p50_ms"`
	P99Ms        float64 `json:"p99_ms"`
	MaxMs        float64 `json:"max_ms"`
	APIReads     int     `json:"api_reads"`
	APIP50Ms     float64 `json:"api_p50_ms"`
	APIP99Ms     float64 `json:"api_p99_ms"`
	ReplaysAcked int64   `json:"replays_acknowledged"`
	// CPUMsPer is the process's CPU time (server and senders) per callback
	// during the storm; CapacityPerS = cores / CPUMsPer is what the box
	// does when nothing else runs on it.
	CPUMsPer     float64 `json:"cpu_ms_per_callback"`
	Cores        int     `json:"cores"`
	CapacityPerS float64 `json:"capacity_per_s"`
	Database     string  `json:"database"`
}

// RunCallbacks measures WeChat Pay callbacks verified and applied: a node
// runs in-process against a local WeChat Pay (wechatpaytest) with the demo
// shop's account set up through the API; N orders are placed and started
// (Native) through the API; the fake marks them paid and signs and
// encrypts their TRANSACTION.SUCCESS callbacks (before the clock starts);
// then C clients post them over HTTP. Each callback is signature-checked
// (RSA-2048), decrypted (AES-256-GCM), and applied in its own transaction
// (nonce, intent, amount, order paid). A reader meanwhile asks for an order
// every 10 ms to show what the storm does to API latency. Finally every
// callback is posted again: each must be acknowledged and change nothing.
// It is long because the storm, the replays and the result share one
// node, one clock and their counters; the set-up is prepareCallbacks.
func RunCallbacks(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench callbacks", flag.ContinueOnError)
	n := fs.Int("n", 4000, "callbacks (one order each)")
	clients := fs.Int("clients", 32, "concurrent senders")
	dbURL := fs.String("database-url", "", "database for the in-process server (empty = SQLite in a temp dir)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the storm to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fake, err := wechatpaytest.Start()
	if err != nil {
		return err
	}
	defer fake.Close()
	dir, err := os.MkdirTemp("", "shelflive-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	token := "bench-owner-token"
	key := make([]byte, 32)
	rand.Read(key)
	m, err := startNode(ctx, dir, "-admin-token", token, "-rate-limits=false", "-database-url", *dbURL, "-reserve-for", "2h",
		"-wechatpay-base-url", fake.URL, "-secret-key", hex.EncodeToString(key), "-analytics=false")
	if err != nil {
		return err
	}
	defer m.Close()
	base := m.URL()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients * 2}, Timeout: 30 * time.Second}
	owner := &apiclient.Client{Base: base, Token: token, HTTP: hc}

	cbs, notify, buyer, orderID, err := prepareCallbacks(ctx, m, fake, owner, hc, *n, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "posting %d signed callbacks with %d clients to %s\n", len(cbs), *clients, notify)
	var applied, errs atomic.Int64
	lat := make([][]time.Duration, *clients)
	stop := make(chan struct{})
	apiLat := probe(buyer, orderID, stop)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
	}
	cpu0 := cpuTime()
	start := time.Now()
	postAll(hc, notify, cbs, *clients, func(w int, took time.Duration, ok bool) {
		lat[w] = append(lat[w], took)
		if ok {
			applied.Add(1)
		} else {
			errs.Add(1)
		}
	})
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	close(stop)
	api := <-apiLat

	// Replays: each must be acknowledged, and nothing may change.
	var acked atomic.Int64
	postAll(hc, notify, cbs, *clients, func(_ int, _ time.Duration, ok bool) {
		if ok {
			acked.Add(1)
		}
	})
	var paid int
	if err := m.DB.QueryRow(ctx, `SELECT COUNT(*) FROM payments WHERE status = 'paid'`).Scan(&paid); err != nil {
		return err
	}
	pct, apct := percentilesMs(lat), percentilesMs([][]time.Duration{api})
	res := CallbacksResult{Callbacks: len(cbs), Clients: *clients, DurationS: round2(elapsed.Seconds()), PerS: round2(float64(applied.Load()) / elapsed.Seconds()),
		Applied: applied.Load(), Errors: errs.Load(), Paid: paid, P50Ms: pct(0.5), P99Ms: pct(0.99), MaxMs: pct(1),
		APIReads: len(api), APIP50Ms: apct(0.5), APIP99Ms: apct(0.99), ReplaysAcked: acked.Load(), Database: string(m.DB.Dialect),
		CPUMsPer: round2(float64(cpu.Microseconds()) / 1000 / float64(len(cbs))), Cores: runtime.NumCPU()}
	if res.CPUMsPer > 0 {
		res.CapacityPerS = round2(float64(res.Cores) * 1000 / res.CPUMsPer)
	}
	fmt.Fprintf(stdout, "callbacks applied: %d (%.0f/s), errors %d, orders paid %d; latency p50 %.2f ms, p99 %.2f ms; API read during the storm p50 %.2f ms, p99 %.2f ms (%d reads); replays acknowledged %d; CPU %.3f ms per callback = %.0f/s on %d cores\n",
		res.Applied, res.PerS, res.Errors, res.Paid, res.P50Ms, res.P99Ms, res.APIP50Ms, res.APIP99Ms, res.APIReads, res.ReplaysAcked, res.CPUMsPer, res.CapacityPerS, res.Cores)
	line, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(line))
	if res.Paid != len(cbs) || res.Errors != 0 {
		return fmt.Errorf("bench callbacks: %d of %d orders paid, %d errors", res.Paid, len(cbs), res.Errors)
	}
	return nil
}

// prepareCallbacks gives the demo merchant a WeChat Pay account at the
// fake, places n orders and starts a payment on each, and signs the
// fake's callback for every payment. It returns the callbacks, where they
// go, and a buyer with one order to read during the storm.
func prepareCallbacks(ctx context.Context, m *node.Main, fake *wechatpaytest.Fake, owner *apiclient.Client, hc *http.Client, n int, stdout io.Writer) ([]callback, string, *apiclient.Client, int64, error) {
	base := m.URL()
	_, fields, err := fake.NewMerchant("1900000109")
	if err != nil {
		return nil, "", nil, 0, err
	}
	if st, err := owner.Call(context.Background(), "PUT", "/api/v1/payments/wechatpay", fields, nil); err != nil || st != 200 {
		return nil, "", nil, 0, fmt.Errorf("bench callbacks: set up WeChat Pay: %d %v", st, err)
	}
	storeID, skus, err := raiseStock(owner, "bench callbacks")
	if err != nil {
		return nil, "", nil, 0, err
	}
	fmt.Fprintf(stdout, "bench callbacks: placing %d orders and starting WeChat Pay (Native) on each…\n", n)
	intents, buyer, orderID, err := placeAndStart(base, hc, n, storeID, skus)
	if err != nil {
		return nil, "", nil, 0, err
	}
	mer, err := m.App.Users.MerchantBySlug(ctx, "demo")
	if err != nil {
		return nil, "", nil, 0, err
	}
	notify := base + "/api/v1/payments/wechatpay/notify/" + strconv.FormatInt(mer.ID, 10)
	cbs, err := signedCallbacks(fake, intents)
	if err != nil {
		return nil, "", nil, 0, err
	}
	return cbs, notify, buyer, orderID, nil
}

// raiseStock raises every lot's stock in the merchant's first store, so
// a run measures what it measures, not sold-out answers; it returns the
// store and the SKUs that have lots. tool names the load tool in errors.
func raiseStock(owner *apiclient.Client, tool string) (int64, []int64, error) {
	var lots struct {
		Lots []struct {
			ID    int64 `json:"id"`
			SKUID int64 `json:"sku_id"`
		} `json:"lots"`
	}
	if st, err := owner.Call(context.Background(), "GET", "/api/v1/lots", nil, &lots); err != nil || st != 200 {
		return 0, nil, fmt.Errorf("%s: list lots: status %d %v (is --token the owner token?)", tool, st, err)
	}
	var stores struct {
		Stores []struct {
			ID int64 `json:"id"`
		} `json:"stores"`
	}
	owner.Call(context.Background(), "GET", "/api/v1/stores", nil, &stores)
	if len(stores.Stores) == 0 || len(lots.Lots) == 0 {
		return 0, nil, fmt.Errorf("%s: the merchant has no stores or lots (run with demo data)", tool)
	}
	storeID := stores.Stores[0].ID
	var skus []int64
	seen := map[int64]bool{}
	for _, l := range lots.Lots {
		if st, err := owner.Call(context.Background(), "PUT", "/api/v1/stock", map[string]any{"store_id": storeID, "lot_id": l.ID, "on_hand": 5_000_000}, nil); err != nil || st != 204 {
			return 0, nil, fmt.Errorf("%s: raise stock: status %d %v", tool, st, err)
		}
		if !seen[l.SKUID] {
			seen[l.SKUID] = true
			skus = append(skus, l.SKUID)
		}
	}
	return storeID, skus, nil
}

// placeAndStart places n orders from 16 buyers and starts WeChat Pay on each.
func placeAndStart(base string, hc *http.Client, n int, storeID int64, skus []int64) ([]string, *apiclient.Client, int64, error) {
	const buyers = 16
	intents := make([]string, n)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	var probeBuyer *apiclient.Client
	var probeOrder int64
	for b := 0; b < buyers; b++ {
		cl, err := loginCustomer(base, hc, fmt.Sprintf("136%08d", b))
		if err != nil {
			return nil, nil, 0, err
		}
		wg.Add(1)
		go func(b int, cl *apiclient.Client) {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				var o struct {
					ID int64 `json:"id"`
				}
				body := map[string]any{"items": []map[string]any{{"sku_id": skus[i%len(skus)], "quantity": 1}}, "fulfilment": "pickup", "store_id": storeID}
				st, _, err := cl.CallWith(context.Background(), "POST", "/api/v1/orders", map[string]string{"Idempotency-Key": fmt.Sprintf("cb-%d", i)}, body, &o)
				var in struct {
					Intent string `json:"intent"`
				}
				if err == nil && st == 201 {
					st, err = cl.Call(context.Background(), "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/pay", map[string]string{"provider": "wechatpay", "method": "native"}, &in)
				}
				mu.Lock()
				if (err != nil || st != 200 || in.Intent == "") && firstErr == nil {
					firstErr = fmt.Errorf("bench callbacks: order %d: status %d %v", i, st, err)
				}
				intents[i] = in.Intent
				if probeBuyer == nil {
					probeBuyer, probeOrder = cl, o.ID
				}
				mu.Unlock()
			}
		}(b, cl)
	}
	wg.Wait()
	return intents, probeBuyer, probeOrder, firstErr
}

type callback struct {
	header http.Header
	body   []byte
}

// signedCallbacks has the fake mark each order paid and sign its callback.
func signedCallbacks(fake *wechatpaytest.Fake, intents []string) ([]callback, error) {
	out := make([]callback, len(intents))
	fake.DropCallbacks.Store(true)
	var wg sync.WaitGroup
	var next atomic.Int64
	var firstErr atomic.Value
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(intents) {
					return
				}
				fake.Pay("1900000109", intents[i]) // marks it paid; the callback is built below
				o, _ := fake.Order("1900000109", intents[i])
				tx := wechatpay.Transaction{MchID: o.MchID, AppID: o.AppID, OutTradeNo: o.OutTradeNo, TransactionID: o.TransactionID, TradeState: o.State,
					Amount: wechatpay.Amount{Total: o.Total, Currency: "CNY"}}
				body, h, err := fake.Callback("1900000109", "TRANSACTION.SUCCESS", "transaction", tx, time.Now())
				if err != nil {
					firstErr.Store(err)
				}
				out[i] = callback{header: h, body: body}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, err
	}
	return out, nil
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postAll posts every callback once from clients concurrent senders, each
// taking the next one not yet sent; seen gets every answer: the sender,
// how long it took, and whether it was 200.
func postAll(hc *http.Client, url string, cbs []callback, clients int, seen func(w int, took time.Duration, ok bool)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(cbs) {
					return
				}
				t0 := time.Now()
				st, err := post(hc, url, cbs[i])
				seen(w, time.Since(t0), err == nil && st == 200)
			}
		}()
	}
	wg.Wait()
}

func post(hc *http.Client, url string, cb callback) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(cb.body))
	if err != nil {
		return 0, err
	}
	req.Header = cb.header.Clone()
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// probe reads an order every 10 ms until stop and returns the latencies.
func probe(c *apiclient.Client, orderID int64, stop chan struct{}) chan []time.Duration {
	out := make(chan []time.Duration, 1)
	go func() {
		var lat []time.Duration
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				out <- lat
				return
			case <-tick.C:
				t0 := time.Now()
				if st, err := c.Call(context.Background(), "GET", "/api/v1/orders/"+strconv.FormatInt(orderID, 10), nil, nil); err == nil && st == 200 {
					lat = append(lat, time.Since(t0))
				}
			}
		}
	}()
	return out
}
