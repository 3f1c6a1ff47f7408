package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/shelflive/shelflive/internal/apiclient"
	"github.com/shelflive/shelflive/internal/bench/proc"
	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// FlashResult is one side of `shelflive bench flashsale`.
type FlashResult struct {
	System       string  `json:"system"`
	Nodes        int     `json:"nodes"`
	Buyers       int     `json:"buyers"`
	Units        int     `json:"units"`
	Attempts     int64   `json:"attempts"`
	Acknowledged int64   `json:"orders_acknowledged"`
	Stored       int64   `json:"orders_stored"`
	Oversold     int64   `json:"oversold"`
	Errors       int64   `json:"errors"`
	Busy         int64   `json:"busy_retries"`
	DurationS    float64 `json:"duration_s"`
	AttemptsPerS float64 `json:"attempts_per_s"`
	OrdersPerS   float64 `json:"orders_per_s"`
	P50Ms        float64 `json:"p50_ms"`
	P99Ms        float64 `json:"p99_ms"`
}

// FlashSummary is the last line: ShelfLive, the naive baseline and the ratio.
type FlashSummary struct {
	FlashResult
	Baseline  FlashResult `json:"baseline"`
	Ratio     float64     `json:"attempts_ratio_vs_baseline"`
	Runs      int         `json:"runs"`
	RunRatios []float64   `json:"run_ratios,omitempty"` // each run's own ratio, in run order
}

// medianRun is the run with the median attempts/s (the lower middle one of
// an even count).
func medianRun(rs []FlashResult) FlashResult {
	sorted := append([]FlashResult(nil), rs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].AttemptsPerS < sorted[j].AttemptsPerS })
	return sorted[(len(sorted)-1)/2]
}

// RunFlashSale races N buyers for U units through the real HTTP API of a
// ShelfLive node, then runs the same workload against a node in the naive
// baseline mode (`UPDATE … SET sold = sold + 1 WHERE sold < quantity` on one
// row per attempt) in the same process, and prints both.
// It is long because both sides run in the same alternating loop and
// share the flags and the summary.
func RunFlashSale(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench flashsale", flag.ContinueOnError)
	buyers := fs.Int("buyers", 10000, "concurrent buyers, each trying until they win or the sale is sold out")
	units := fs.Int("units", 500, "units on sale")
	dbURL := fs.String("database-url", "", "database of the in-process node (empty = SQLite in a temp dir)")
	conns := fs.Int("conns", 256, "HTTP connections the buyers share")
	skipBaseline := fs.Bool("no-baseline", false, "skip the naive baseline")
	runs := fs.Int("runs", 1, "runs of each side, alternating; the summary reports the median run of each and the ratio of the medians")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of ShelfLive's race (server and buyers, one process) to this file")
	nodes := fs.Int("nodes", 1, "in-process nodes sharing the database (more than 1 needs --database-url postgres://…); buyers are spread over them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "shelflive-flash-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}, Timeout: 60 * time.Second}

	if *nodes > 1 && !sqldb.IsPostgresURL(*dbURL) {
		return fmt.Errorf("bench flashsale: --nodes %d needs --database-url postgres://…", *nodes)
	}
	if *runs < 1 {
		return fmt.Errorf("bench flashsale: --runs must be at least 1")
	}
	// Every run of either side gets a fresh database (a temp dir for SQLite,
	// a schema of its own on PostgreSQL, dropped afterwards).
	urls := make([]string, 2**runs)
	for i := range urls {
		urls[i] = *dbURL
	}
	if sqldb.IsPostgresURL(*dbURL) {
		cleanup, us, err := pgSchemas(ctx, *dbURL, len(urls))
		if err != nil {
			return err
		}
		defer cleanup()
		urls = us
	}
	// The sides alternate, so that a noisy neighbour hurts both alike; the
	// summary is the median run of each side and the ratio of the medians.
	var mine, naive []FlashResult
	var ratios []float64
	for r := 0; r < *runs; r++ {
		if r == 0 {
			flashProfile = *cpuprofile
		}
		res, err := flashRun(ctx, stdout, filepath.Join(dir, fmt.Sprint("node", r)), urls[2*r], hc, *conns, *buyers, *units, false, *nodes)
		flashProfile = ""
		if err != nil {
			return err
		}
		mine = append(mine, res)
		if *skipBaseline {
			continue
		}
		base, err := flashRun(ctx, stdout, filepath.Join(dir, fmt.Sprint("baseline", r)), urls[2*r+1], hc, *conns, *buyers, *units, true, *nodes)
		if err != nil {
			return err
		}
		naive = append(naive, base)
		if base.AttemptsPerS > 0 {
			ratios = append(ratios, round2(res.AttemptsPerS/base.AttemptsPerS))
		}
	}
	sum := FlashSummary{FlashResult: medianRun(mine), Runs: *runs}
	if len(naive) > 0 {
		sum.Baseline = medianRun(naive)
		if sum.Baseline.AttemptsPerS > 0 {
			sum.Ratio = round2(sum.AttemptsPerS / sum.Baseline.AttemptsPerS)
		}
		sum.RunRatios = ratios
	}
	for _, r := range mine {
		sum.Oversold = max(sum.Oversold, r.Oversold) // the worst run counts, not the median
	}
	line, _ := json.Marshal(sum)
	fmt.Fprintln(stdout, string(line))
	return nil
}

// flashProfile is where the ShelfLive run's race writes its CPU profile ("" = none).
var flashProfile string

// flashRun starts a node and races the buyers through its flash sale. With
// naive set, the node takes units the naive way (one hot-row UPDATE per
// attempt): same HTTP, auth, validation, database and orders, only the
// allocation design differs — the baseline the issue asks for.
func flashRun(ctx context.Context, out io.Writer, dir, dbURL string, hc *http.Client, conns, buyers, units int, naive bool, nodes int) (FlashResult, error) {
	token := "bench-owner-token"
	// Node 1 seeds the demo data and leads; more nodes share its database
	// and forward flash buys to it, as a cluster behind a balancer does.
	var ms []*node.Main
	for i := 0; i < max(1, nodes); i++ {
		args := []string{"-admin-token", token, "-rate-limits=false", "-database-url", dbURL}
		if naive {
			args = append(args, "-flash-naive")
		}
		m, err := startNode(ctx, filepath.Join(dir, fmt.Sprint("n", i)), args...)
		if err != nil {
			return FlashResult{}, err
		}
		defer m.Close()
		ms = append(ms, m)
	}
	m := ms[0]
	base := m.URL()
	owner := &apiclient.Client{Base: base, Token: token, HTTP: hc}
	if st, err := owner.Call(context.Background(), "PUT", "/api/v1/stock", map[string]any{"store_id": 1, "lot_id": 1, "on_hand": units + 1000}, nil); err != nil || st != 204 {
		return FlashResult{}, fmt.Errorf("bench flashsale: raise stock: %d %v", st, err)
	}
	system := "shelflive"
	if naive {
		system = "naive-hot-row"
	}
	fmt.Fprintf(out, "%s: logging in %d buyers…\n", system, buyers)
	var bases []string
	for _, n := range ms {
		bases = append(bases, n.URL())
	}
	tokens, err := loginMany(bases, hc, buyers)
	if err != nil {
		return FlashResult{}, err
	}
	var sale struct {
		ID     int64  `json:"id"`
		Code   string `json:"code"`   // on failure
		Detail string `json:"detail"` // on failure
	}
	if st, err := owner.Call(context.Background(), "POST", "/api/v1/rooms/demo/flash-sales", map[string]any{"sku_id": 1, "price_fen": 990, "quantity": units, "per_user_limit": 1, "duration_s": 3600}, &sale); err != nil || st != 201 {
		return FlashResult{}, fmt.Errorf("bench flashsale: create sale: %d %s %s %v", st, sale.Code, sale.Detail, err)
	}
	body, _ := json.Marshal(map[string]any{"items": []map[string]any{{"sku_id": 1, "quantity": 1}}, "fulfilment": "pickup", "flash_sale_id": sale.ID})
	var urls []string
	for _, n := range ms {
		urls = append(urls, n.URL()+"/api/v1/orders")
	}
	stopProfile := proc.CPUProfile(flashProfile)
	res := race(conns, urls, tokens, body, func(status int, code string) outcome {
		switch {
		case status == 201:
			return won
		case code == "sold_out" || code == "limit_reached":
			return lost
		case code == "busy_retry":
			return retry
		}
		return failed
	})
	stopProfile()
	res.System, res.Units, res.Nodes = system, units, len(ms)
	// What the database holds is what counts.
	var stored sql.NullInt64
	if err := m.DB.QueryRow(ctx, `SELECT SUM(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.sale_id = ?`, sale.ID).Scan(&stored); err != nil {
		return res, err
	}
	res.Stored = stored.Int64
	res.Oversold = max(0, res.Stored-int64(units), res.Acknowledged-int64(units))
	if err := m.DB.VerifyStock(ctx); err != nil {
		return res, fmt.Errorf("bench flashsale: %w", err)
	}
	printFlash(out, res)
	return res, nil
}

type outcome int

const (
	won outcome = iota
	lost
	retry
	failed
)

// race releases every buyer at once; each tries until it wins or loses.
// Buyer i talks to urls[i % len(urls)] (one node each, as a balancer spreads
// them), over a pool of conns keep-alive connections per node.
// It is long because the worker pools and the counters they share are one
// race.
func race(conns int, urls []string, tokens []string, body []byte, judge func(status int, code string) outcome) FlashResult {
	var attempts, acked, errs, busy atomic.Int64
	var firstErr atomic.Value
	pools := make([]*connPool, len(urls))
	for i, u := range urls {
		p, err := newConnPool(u, conns)
		if err != nil {
			panic(err) // the URLs are the nodes' own
		}
		defer p.close()
		pools[i] = p
	}
	lat := make([][]time.Duration, len(tokens))
	// Every viewer taps at the race's start; conns workers per node send
	// the taps over their own connection, one after another. A viewer's
	// first latency counts from the start (waiting for a connection is part
	// of it), a retry's from the retry. Workers rather than a goroutine per
	// viewer: the load generator shares the node's cores, and 10,000
	// goroutines queueing for 256 connections cost it more than the node.
	jobs := make([]chan int, len(pools))
	for p := range pools {
		jobs[p] = make(chan int, len(tokens)/len(pools)+1)
	}
	for i := range tokens {
		jobs[i%len(pools)] <- i
	}
	for p := range jobs {
		close(jobs[p])
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	var t0 time.Time
	for p, pool := range pools {
		for range conns {
			wg.Go(func() {
				<-start
				for i := range jobs[p] {
					tok := tokens[i]
					for try := 0; try < 50; try++ {
						headers := [][2]string{{"Authorization", "Bearer " + tok}, {"Idempotency-Key", "flash-" + strconv.Itoa(i) + "-" + strconv.Itoa(try)}}
						sent := t0
						if try > 0 {
							sent = time.Now()
						}
						status, raw, err := pool.post(headers, body)
						attempts.Add(1)
						if err != nil {
							if errs.Add(1) == 1 {
								firstErr.Store(err.Error())
							}
							break
						}
						lat[i] = append(lat[i], time.Since(sent))
						code := ""
						if status >= 300 {
							code = problemCode(raw)
						}
						verdict := judge(status, code)
						if verdict == retry {
							busy.Add(1)
							time.Sleep(20 * time.Millisecond)
							continue
						}
						if verdict == won {
							acked.Add(1)
						} else if verdict != lost && errs.Add(1) == 1 {
							firstErr.Store(fmt.Sprintf("status %d: %s", status, strings.TrimSpace(string(raw))))
						}
						break
					}
				}
			})
		}
	}
	t0 = time.Now()
	close(start)
	wg.Wait()
	el := time.Since(t0)
	pct := percentilesMs(lat)
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, "bench flashsale: first error:", e)
	}
	return FlashResult{Buyers: len(tokens), Attempts: attempts.Load(), Acknowledged: acked.Load(), Errors: errs.Load(), Busy: busy.Load(),
		DurationS: round2(el.Seconds()), AttemptsPerS: round2(float64(attempts.Load()) / el.Seconds()), OrdersPerS: round2(float64(acked.Load()) / el.Seconds()),
		P50Ms: pct(0.5), P99Ms: pct(0.99)}
}

// problemCode is the "code" of a problem+json answer, read without
// decoding the document: the load generator shares the node's cores.
func problemCode(raw []byte) string {
	const key = `"code":"`
	i := bytes.Index(raw, []byte(key))
	if i < 0 {
		return ""
	}
	rest := raw[i+len(key):]
	if j := bytes.IndexByte(rest, '"'); j >= 0 {
		return string(rest[:j])
	}
	return ""
}

// loginMany logs n buyers in; buyer i logs in on bases[i % len(bases)], the
// node it will buy on, as behind a balancer with sticky sessions.
func loginMany(bases []string, hc *http.Client, n int) ([]string, error) {
	tokens := make([]string, n)
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := loginCustomer(bases[i%len(bases)], hc, fmt.Sprintf("18%09d", i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			tokens[i] = c.Token
		}(i)
	}
	wg.Wait()
	return tokens, firstErr
}

func printFlash(out io.Writer, r FlashResult) {
	fmt.Fprintf(out, "%s: %d buyers, %d units: %d attempts in %.2fs = %.0f attempts/s; %d orders acknowledged (%.0f/s), %d stored, oversold %d, errors %d, busy %d; p50 %.1f ms p99 %.1f ms\n",
		r.System, r.Buyers, r.Units, r.Attempts, r.DurationS, r.AttemptsPerS, r.Acknowledged, r.OrdersPerS, r.Stored, r.Oversold, r.Errors, r.Busy, r.P50Ms, r.P99Ms)
}

// pgSchemas creates n empty schemas for benchmark nodes and returns URLs
// that select them (search_path), plus a cleanup that drops them.
func pgSchemas(ctx context.Context, dbURL string, n int) (func(), []string, error) {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil, nil, err
	}
	var names, urls []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("shelflive_bench_%d_%d", time.Now().UnixNano()%1_000_000_000, i)
		if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
			db.Close()
			return nil, nil, err
		}
		names = append(names, name)
		sep := "?"
		if strings.Contains(dbURL, "?") {
			sep = "&"
		}
		urls = append(urls, dbURL+sep+"search_path="+name)
	}
	return func() {
		for _, name := range names {
			db.ExecContext(context.Background(), "DROP SCHEMA "+name+" CASCADE")
		}
		db.Close()
	}, urls, nil
}
