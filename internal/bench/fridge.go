package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shelflive/shelflive/internal/apiclient"
	"github.com/shelflive/shelflive/internal/household"
)

// FridgeResult is the last line of `shelflive bench fridge`.
type FridgeResult struct {
	Households     int     `json:"households"`
	Readings       int64   `json:"readings"`
	Posts          int64   `json:"posts"`
	Errors         int64   `json:"errors"`
	ReadingsPerSec float64 `json:"readings_per_s"`
	PostP50Ms      float64 `json:"post_p50_ms"`
	PostP99Ms      float64 `json:"post_p99_ms"`
	PushJobMs      float64 `json:"push_job_ms"`
	Pushes         int     `json:"pushes"`
	DueTruth       int     `json:"due_truth"`
	Precision      float64 `json:"precision"`
	Recall         float64 `json:"recall"`
	RunoutErrP50H  float64 `json:"runout_err_p50_h"`
	RunoutErrP90H  float64 `json:"runout_err_p90_h"`
	Opened         int64   `json:"opened"`
	OpenP50Ms      float64 `json:"open_p50_ms"`
	SecondRun      int     `json:"second_run_pushes"`
}

// fridgeCategories are demo categories with products in the demo's live room.
var fridgeCategories = []string{"乳品", "水果", "蛋品"}

// simHousehold is one simulated home: a true consumption rate per category.
type simHousehold struct {
	client *apiclient.Client
	phone  string
	token  string
	rate   [3]float64 // fraction of full per day
	level  [3]float64 // now
}

// RunFridge simulates households with smart fridges against a node through
// its public API: each viewer logs in, links a fridge, and the fridge
// uploads `days` of readings (every 3 hours, sensor noise, refills when
// nearly empty) in one batch per simulated day. Then the push job runs as
// the leader runs it, and the pushes are compared with the truth: a
// household whose category truly runs out within the push lead time and is
// at most half full should be pushed (recall), and nobody else (precision).
// A share of the pushes is opened through their links.
func RunFridge(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench fridge", flag.ContinueOnError)
	homes := fs.Int("households", 300, "simulated households (one viewer account and fridge each)")
	days := fs.Int("days", 6, "days of history each fridge uploads")
	conc := fs.Int("concurrency", 32, "requests in flight")
	openShare := fs.Float64("open", 0.4, "share of pushes opened")
	seed := fs.Uint64("seed", 1, "random seed")
	dbURL := fs.String("database-url", "", "database URL; empty = SQLite in a temp dir")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "shelflive-fridge-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// Rate limits off only so that thousands of OTP logins can come from one
	// address; each fridge still posts one batch per simulated day.
	m, err := startNode(ctx, dir, "-rate-limits=false", "-database-url", *dbURL)
	if err != nil {
		return err
	}
	defer m.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	anon := &apiclient.Client{Base: m.URL(), HTTP: hc}
	rng := rand.New(rand.NewPCG(*seed, 99))
	hs := make([]*simHousehold, *homes)
	for i := range hs {
		h := &simHousehold{}
		for k := range h.rate {
			h.rate[k] = 0.08 + rng.Float64()*0.42
			h.level[k] = 0.3 + rng.Float64()*0.7
		}
		hs[i] = h
	}
	// Log in and link, concurrently.
	if err := parallel(*conc, len(hs), func(i int) error {
		hs[i].phone = fmt.Sprintf("137%08d", i)
		cl, err := apiclient.LoginViewer(ctx, anon, "demo", hs[i].phone)
		if err != nil {
			return err
		}
		var out struct {
			Token string `json:"token"`
		}
		if st, err := cl.Call(ctx, "POST", "/api/v1/me/devices", map[string]any{"name": "冰箱", "kind": "fridge", "consent": true}, &out); err != nil || st != 201 {
			return fmt.Errorf("link: %d %v", st, err)
		}
		hs[i].client, hs[i].token = cl, out.Token
		return nil
	}); err != nil {
		return err
	}

	// Simulate the history: level goes down at the true rate, refilled when
	// below 0.1; readings every 3 hours with ±1 point of noise.
	now := time.Now().UTC()
	type batch struct {
		home     int
		readings []household.Reading
	}
	var batches []batch
	for i, h := range hs {
		lv := h.level
		for k := range lv {
			// walk back to the level days ago (refill points kept simple: start full enough)
			lv[k] = math.Min(1, h.level[k]+h.rate[k]*float64(*days))
		}
		for d := 0; d < *days; d++ {
			b := batch{home: i}
			for s := 0; s < 8; s++ {
				at := now.Add(-time.Duration(*days-d) * 24 * time.Hour).Add(time.Duration(s*3+3) * time.Hour)
				if at.After(now) {
					at = now
				}
				for k, cat := range fridgeCategories {
					lv[k] -= h.rate[k] * 3 / 24
					if lv[k] < 0.1 {
						lv[k] = 1
					}
					noisy := math.Min(1, math.Max(0, lv[k]+(rng.Float64()-0.5)*0.02))
					b.readings = append(b.readings, household.Reading{Category: cat, Level: noisy, At: at.Add(-time.Duration(k) * time.Second)})
				}
			}
			batches = append(batches, b)
		}
		h.level = lv
	}
	var posts, errs, readings atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, len(batches))
	start := time.Now()
	_ = parallel(*conc, len(batches), func(i int) error {
		b := batches[i]
		dev := &apiclient.Client{Base: m.URL(), HTTP: hc, Token: hs[b.home].token}
		t0 := time.Now()
		st, err := dev.Call(ctx, "POST", "/api/v1/household/readings", map[string]any{"readings": b.readings}, nil)
		lat[i] = time.Since(t0)
		posts.Add(1)
		if err != nil || st != 200 {
			errs.Add(1)
			return nil
		}
		readings.Add(int64(len(b.readings)))
		return nil
	})
	ingest := time.Since(start)

	// The leader's push job, as it runs every 30 s (here once more, timed;
	// the node's own job may already have sent some during the upload).
	t0 := time.Now()
	if _, err := m.App.Household.SendDue(ctx, time.Now(), 1_000_000); err != nil {
		return err
	}
	jobMs := float64(time.Since(t0).Microseconds()) / 1000
	second, err := m.App.Household.SendDue(ctx, time.Now(), 1_000_000)
	if err != nil {
		return err
	}

	// What arrived: each household's inbox, read through the API (the
	// leader's own job may have sent some of them during the upload).
	type key struct {
		home int
		cat  string
	}
	pushed := map[key]string{} // → the push link
	var pushURLs []string
	_ = parallel(*conc, len(hs), func(i int) error {
		var in struct {
			Messages []struct {
				Kind  string `json:"kind"`
				Title string `json:"title"`
				URL   string `json:"url"`
			} `json:"messages"`
		}
		if st, err := hs[i].client.Call(ctx, "GET", "/api/v1/me/inbox", nil, &in); err != nil || st != 200 {
			errs.Add(1)
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		for _, msg := range in.Messages {
			if msg.Kind != "household.low" {
				continue
			}
			for _, cat := range fridgeCategories {
				if strings.Contains(msg.Title, cat) {
					pushed[key{i, cat}] = msg.URL
					pushURLs = append(pushURLs, msg.URL)
				}
			}
		}
		return nil
	})

	// Truth: due when at most half full and out within the lead time.
	var due, hit int
	var errH []float64
	shop, err := m.App.Users.MerchantBySlug(ctx, "demo")
	if err != nil {
		return err
	}
	for i, h := range hs {
		me, err := m.App.Users.UpsertCustomer(ctx, shop.ID, h.phone) // exists: logged in above
		if err != nil {
			return err
		}
		est, err := m.App.Household.Estimates(ctx, me.MerchantID, me.ID)
		if err != nil {
			return err
		}
		byCat := map[string]household.Estimate{}
		for _, e := range est {
			byCat[e.Category] = e
		}
		for k, cat := range fridgeCategories {
			truthOut := now.Add(time.Duration(h.level[k] / h.rate[k] * 24 * float64(time.Hour)))
			if h.level[k] <= 0.5 && truthOut.Sub(now) <= household.Lead {
				due++
				if pushed[key{i, cat}] != "" {
					hit++
				}
			}
			if e, ok := byCat[cat]; ok && e.RunoutAt != nil {
				errH = append(errH, math.Abs(e.RunoutAt.Sub(truthOut).Hours()))
			}
		}
	}
	sort.Float64s(errH)
	q := func(p float64) float64 {
		if len(errH) == 0 {
			return 0
		}
		return round2(errH[min(len(errH)-1, int(p*float64(len(errH))))])
	}

	// Open a share of the pushes through their links (front door).
	var opened atomic.Int64
	sort.Strings(pushURLs)
	open := pushURLs[:int(float64(len(pushURLs))**openShare)]
	openLat := make([]time.Duration, len(open))
	_ = parallel(*conc, len(open), func(i int) error {
		t := time.Now()
		st, err := anon.Call(ctx, "GET", open[i], nil, nil)
		openLat[i] = time.Since(t)
		if err == nil && st == http.StatusFound {
			opened.Add(1)
		}
		return nil
	})
	pct := percentilesMs([][]time.Duration{lat})
	opct := percentilesMs([][]time.Duration{openLat})
	res := FridgeResult{Households: len(hs), Readings: readings.Load(), Posts: posts.Load(), Errors: errs.Load(),
		ReadingsPerSec: round2(float64(readings.Load()) / ingest.Seconds()), PostP50Ms: pct(0.5), PostP99Ms: pct(0.99),
		PushJobMs: round2(jobMs), Pushes: len(pushURLs), DueTruth: due, RunoutErrP50H: q(0.5), RunoutErrP90H: q(0.9),
		Opened: opened.Load(), OpenP50Ms: opct(0.5), SecondRun: len(second)}
	if len(pushURLs) > 0 {
		res.Precision = round2(float64(hit) / float64(len(pushURLs)))
	}
	if due > 0 {
		res.Recall = round2(float64(hit) / float64(due))
	}
	fmt.Fprintf(stdout, "%d households, %d readings in %d batches (%.0f readings/s, POST p50 %.1f ms p99 %.1f ms, %d errors)\n",
		res.Households, res.Readings, res.Posts, res.ReadingsPerSec, res.PostP50Ms, res.PostP99Ms, res.Errors)
	fmt.Fprintf(stdout, "push job: %d pushes in %.0f ms (second run: %d); truly due %d → precision %.2f, recall %.2f; run-out error p50 %.1f h, p90 %.1f h; opened %d (p50 %.1f ms)\n",
		res.Pushes, res.PushJobMs, res.SecondRun, res.DueTruth, res.Precision, res.Recall, res.RunoutErrP50H, res.RunoutErrP90H, res.Opened, res.OpenP50Ms)
	line, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(line))
	return nil
}

// parallel runs fn(0..n-1) with at most k at a time; the first error wins.
func parallel(k, n int, fn func(i int) error) error {
	var wg sync.WaitGroup
	var next atomic.Int64
	var first error
	var once sync.Once
	for w := 0; w < k; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
