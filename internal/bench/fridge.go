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
	"github.com/shelflive/shelflive/internal/node"
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
	sim := &fridgeSim{m: m, hc: hc, anon: &apiclient.Client{Base: m.URL(), HTTP: hc}, conc: *conc}
	rng := rand.New(rand.NewPCG(*seed, 99))
	sim.homes = newHouseholds(rng, *homes)
	if err := sim.link(ctx); err != nil {
		return err
	}
	now := time.Now().UTC()
	up := sim.upload(ctx, sim.history(rng, now, *days))

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
	pushed, pushURLs := sim.inbox(ctx)
	sc, err := sim.score(ctx, now, pushed)
	if err != nil {
		return err
	}
	sort.Strings(pushURLs)
	opened, openLat := sim.open(ctx, pushURLs[:int(float64(len(pushURLs))**openShare)])

	pct := percentilesMs([][]time.Duration{up.lat})
	opct := percentilesMs([][]time.Duration{openLat})
	res := FridgeResult{Households: len(sim.homes), Readings: up.readings, Posts: up.posts, Errors: sim.errs.Load(),
		ReadingsPerSec: round2(float64(up.readings) / up.took.Seconds()), PostP50Ms: pct(0.5), PostP99Ms: pct(0.99),
		PushJobMs: round2(jobMs), Pushes: len(pushURLs), DueTruth: sc.due, RunoutErrP50H: sc.errQuantile(0.5), RunoutErrP90H: sc.errQuantile(0.9),
		Opened: opened, OpenP50Ms: opct(0.5), SecondRun: len(second)}
	if len(pushURLs) > 0 {
		res.Precision = round2(float64(sc.hit) / float64(len(pushURLs)))
	}
	if sc.due > 0 {
		res.Recall = round2(float64(sc.hit) / float64(sc.due))
	}
	fmt.Fprintf(stdout, "%d households, %d readings in %d batches (%.0f readings/s, POST p50 %.1f ms p99 %.1f ms, %d errors)\n",
		res.Households, res.Readings, res.Posts, res.ReadingsPerSec, res.PostP50Ms, res.PostP99Ms, res.Errors)
	fmt.Fprintf(stdout, "push job: %d pushes in %.0f ms (second run: %d); truly due %d → precision %.2f, recall %.2f; run-out error p50 %.1f h, p90 %.1f h; opened %d (p50 %.1f ms)\n",
		res.Pushes, res.PushJobMs, res.SecondRun, res.DueTruth, res.Precision, res.Recall, res.RunoutErrP50H, res.RunoutErrP90H, res.Opened, res.OpenP50Ms)
	line, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(line))
	return nil
}

// fridgeSim is one run of the simulator: the node, its households and the
// errors counted along the way.
type fridgeSim struct {
	m     *node.Main
	hc    *http.Client
	anon  *apiclient.Client
	conc  int
	homes []*simHousehold
	errs  atomic.Int64
}

// fridgeBatch is one simulated day of one household's readings.
type fridgeBatch struct {
	home     int
	readings []household.Reading
}

func newHouseholds(rng *rand.Rand, n int) []*simHousehold {
	hs := make([]*simHousehold, n)
	for i := range hs {
		h := &simHousehold{}
		for k := range h.rate {
			h.rate[k] = 0.08 + rng.Float64()*0.42
			h.level[k] = 0.3 + rng.Float64()*0.7
		}
		hs[i] = h
	}
	return hs
}

// link logs every household's viewer in and links a fridge, concurrently.
func (s *fridgeSim) link(ctx context.Context) error {
	return parallel(s.conc, len(s.homes), func(i int) error {
		h := s.homes[i]
		h.phone = fmt.Sprintf("137%08d", i)
		cl, err := apiclient.LoginViewer(ctx, s.anon, "demo", h.phone)
		if err != nil {
			return err
		}
		var out struct {
			Token string `json:"token"`
		}
		if st, err := cl.Call(ctx, "POST", "/api/v1/me/devices", map[string]any{"name": "冰箱", "kind": "fridge", "consent": true}, &out); err != nil || st != 201 {
			return fmt.Errorf("link: %d %v", st, err)
		}
		h.client, h.token = cl, out.Token
		return nil
	})
}

// history simulates the days before now: the level goes down at the true
// rate, refilled when below 0.1; readings every 3 hours with ±1 point of
// noise; one batch per household and day. Each household's level ends at
// now's.
func (s *fridgeSim) history(rng *rand.Rand, now time.Time, days int) []fridgeBatch {
	var batches []fridgeBatch
	for i, h := range s.homes {
		lv := h.level
		for k := range lv {
			// walk back to the level days ago (refill points kept simple: start full enough)
			lv[k] = math.Min(1, h.level[k]+h.rate[k]*float64(days))
		}
		for d := 0; d < days; d++ {
			b := fridgeBatch{home: i}
			for slot := 0; slot < 8; slot++ {
				at := now.Add(-time.Duration(days-d) * 24 * time.Hour).Add(time.Duration(slot*3+3) * time.Hour)
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
	return batches
}

type fridgeUpload struct {
	posts, readings int64
	lat             []time.Duration
	took            time.Duration
}

// upload posts every batch with its fridge's token, concurrently.
func (s *fridgeSim) upload(ctx context.Context, batches []fridgeBatch) fridgeUpload {
	var posts, readings atomic.Int64
	lat := make([]time.Duration, len(batches))
	start := time.Now()
	_ = parallel(s.conc, len(batches), func(i int) error {
		b := batches[i]
		dev := &apiclient.Client{Base: s.m.URL(), HTTP: s.hc, Token: s.homes[b.home].token}
		t0 := time.Now()
		st, err := dev.Call(ctx, "POST", "/api/v1/household/readings", map[string]any{"readings": b.readings}, nil)
		lat[i] = time.Since(t0)
		posts.Add(1)
		if err != nil || st != 200 {
			s.errs.Add(1)
			return nil
		}
		readings.Add(int64(len(b.readings)))
		return nil
	})
	return fridgeUpload{posts: posts.Load(), readings: readings.Load(), lat: lat, took: time.Since(start)}
}

type pushKey struct {
	home int
	cat  string
}

// inbox reads what arrived in each household's inbox through the API: the
// household.low messages by (household, category), and their links.
func (s *fridgeSim) inbox(ctx context.Context) (map[pushKey]string, []string) {
	var mu sync.Mutex
	pushed := map[pushKey]string{}
	var urls []string
	_ = parallel(s.conc, len(s.homes), func(i int) error {
		var in struct {
			Messages []struct {
				Kind  string `json:"kind"`
				Title string `json:"title"`
				URL   string `json:"url"`
			} `json:"messages"`
		}
		if st, err := s.homes[i].client.Call(ctx, "GET", "/api/v1/me/inbox", nil, &in); err != nil || st != 200 {
			s.errs.Add(1)
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
					pushed[pushKey{i, cat}] = msg.URL
					urls = append(urls, msg.URL)
				}
			}
		}
		return nil
	})
	return pushed, urls
}

// fridgeScore compares the pushes with the simulated truth.
type fridgeScore struct {
	due, hit int
	errH     []float64 // |estimated − true run-out| in hours, sorted
}

func (sc fridgeScore) errQuantile(p float64) float64 {
	if len(sc.errH) == 0 {
		return 0
	}
	return round2(sc.errH[min(len(sc.errH)-1, int(p*float64(len(sc.errH))))])
}

// score: a category is truly due when at most half full and out within the
// push lead time; the server's run-out estimates are read for the error.
func (s *fridgeSim) score(ctx context.Context, now time.Time, pushed map[pushKey]string) (fridgeScore, error) {
	var sc fridgeScore
	shop, err := s.m.App.Users.MerchantBySlug(ctx, "demo")
	if err != nil {
		return sc, err
	}
	for i, h := range s.homes {
		me, err := s.m.App.Users.UpsertCustomer(ctx, shop.ID, h.phone) // exists: logged in above
		if err != nil {
			return sc, err
		}
		est, err := s.m.App.Household.Estimates(ctx, me.MerchantID, me.ID)
		if err != nil {
			return sc, err
		}
		byCat := map[string]household.Estimate{}
		for _, e := range est {
			byCat[e.Category] = e
		}
		for k, cat := range fridgeCategories {
			truthOut := now.Add(time.Duration(h.level[k] / h.rate[k] * 24 * float64(time.Hour)))
			if h.level[k] <= 0.5 && truthOut.Sub(now) <= household.Lead {
				sc.due++
				if pushed[pushKey{i, cat}] != "" {
					sc.hit++
				}
			}
			if e, ok := byCat[cat]; ok && e.RunoutAt != nil {
				sc.errH = append(sc.errH, math.Abs(e.RunoutAt.Sub(truthOut).Hours()))
			}
		}
	}
	sort.Float64s(sc.errH)
	return sc, nil
}

// open follows push links as a phone does (front door): a 302 into the room
// counts as opened.
func (s *fridgeSim) open(ctx context.Context, urls []string) (int64, []time.Duration) {
	var opened atomic.Int64
	lat := make([]time.Duration, len(urls))
	_ = parallel(s.conc, len(urls), func(i int) error {
		t := time.Now()
		st, err := s.anon.Call(ctx, "GET", urls[i], nil, nil)
		lat[i] = time.Since(t)
		if err == nil && st == http.StatusFound {
			opened.Add(1)
		}
		return nil
	})
	return opened.Load(), lat
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
