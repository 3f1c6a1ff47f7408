package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/shelflive/shelflive/internal/apiclient"
	"github.com/shelflive/shelflive/internal/bench/proc"
)

// CouponResult is one side of `shelflive bench coupons`.
type CouponResult struct {
	System     string  `json:"system"`
	Viewers    int     `json:"viewers"`
	Budget     int     `json:"budget"`
	Grabs      int64   `json:"grabs"`
	Won        int64   `json:"won"`
	Stored     int64   `json:"stored"`
	OverIssued int64   `json:"over_issued"`
	OverLimit  int64   `json:"over_limit"` // customers holding more than the per-person limit
	Errors     int64   `json:"errors"`
	Busy       int64   `json:"busy_retries"`
	DurationS  float64 `json:"duration_s"`
	GrabsPerS  float64 `json:"grabs_per_s"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	// CPUS is the CPU time this process (node and viewers together) used
	// during the race; GrabsPerCPUS = grabs / CPUS says what the design
	// costs whatever else the box runs; LoadAvg is the box's 1-minute load.
	CPUS         float64 `json:"cpu_s"`
	GrabsPerCPUS float64 `json:"grabs_per_cpu_s"`
	LoadAvg      float64 `json:"load_avg"`
}

// CouponSummary is the last line: the median run of each side.
type CouponSummary struct {
	GrabsPerS      float64      `json:"grabs_per_s"`
	OverIssued     int64        `json:"over_issued"`
	NaiveGrabsPerS float64      `json:"naive_grabs_per_s"`
	NaiveOverIssue int64        `json:"naive_over_issued"`
	Ratio          float64      `json:"ratio"`
	P50Ms          float64      `json:"p50_ms"`
	P99Ms          float64      `json:"p99_ms"`
	NaiveP50Ms     float64      `json:"naive_p50_ms"`
	NaiveP99Ms     float64      `json:"naive_p99_ms"`
	GrabsPerCPUS   float64      `json:"grabs_per_cpu_s"`
	NaivePerCPUS   float64      `json:"naive_grabs_per_cpu_s"`
	LoadAvg        float64      `json:"load_avg"`
	Viewers        int          `json:"viewers"`
	Budget         int          `json:"budget"`
	Runs           int          `json:"runs"`
	ShelfLive      CouponResult `json:"shelflive"`
	Naive          CouponResult `json:"naive"`
}

func medianCoupon(rs []CouponResult) CouponResult {
	if len(rs) == 0 {
		return CouponResult{}
	}
	s := append([]CouponResult(nil), rs...)
	sort.Slice(s, func(i, j int) bool { return s[i].GrabsPerS < s[j].GrabsPerS })
	return s[(len(s)-1)/2]
}

// RunCoupons has N logged-in viewers grab one coupon card at the same
// moment through the public API (POST /api/v1/coupons/{id}/grab, each with
// their own session, per-person limit 1), then does the same on a node
// started with -coupon-naive (one transaction per grab on the coupon's
// row: `UPDATE coupons SET issued = issued + 1 WHERE id = ? AND issued <
// units`). The database is counted afterwards: claims stored beyond the
// budget, or beyond a person's limit, are over-issued.
func RunCoupons(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench coupons", flag.ContinueOnError)
	viewers := fs.Int("viewers", 10000, "viewers grabbing at the same moment (one account each)")
	budget := fs.Int("budget", 5000, "coupons on the card")
	conns := fs.Int("conns", 256, "HTTP connections the viewers share")
	runs := fs.Int("runs", 1, "runs of each side, alternating; the summary is the median run of each")
	skipBaseline := fs.Bool("no-baseline", false, "skip the naive baseline")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the first ShelfLive race (server and viewers, one process) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "shelflive-coupons-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}, Timeout: 60 * time.Second}
	var mine, naive []CouponResult
	for r := 0; r < max(1, *runs); r++ {
		prof := ""
		if r == 0 {
			prof = *cpuprofile
		}
		res, err := couponRun(ctx, stdout, filepath.Join(dir, fmt.Sprint("node", r)), hc, *conns, *viewers, *budget, false, prof)
		if err != nil {
			return err
		}
		mine = append(mine, res)
		if *skipBaseline {
			continue
		}
		base, err := couponRun(ctx, stdout, filepath.Join(dir, fmt.Sprint("naive", r)), hc, *conns, *viewers, *budget, true, "")
		if err != nil {
			return err
		}
		naive = append(naive, base)
	}
	m, n := medianCoupon(mine), medianCoupon(naive)
	sum := CouponSummary{GrabsPerS: m.GrabsPerS, NaiveGrabsPerS: n.GrabsPerS, P50Ms: m.P50Ms, P99Ms: m.P99Ms, NaiveP50Ms: n.P50Ms, NaiveP99Ms: n.P99Ms,
		Viewers: *viewers, Budget: *budget, Runs: max(1, *runs), ShelfLive: m, Naive: n, GrabsPerCPUS: m.GrabsPerCPUS, NaivePerCPUS: n.GrabsPerCPUS, LoadAvg: proc.LoadAvg1()}
	for _, r := range mine {
		sum.OverIssued = max(sum.OverIssued, r.OverIssued+r.OverLimit) // the worst run counts
	}
	for _, r := range naive {
		sum.NaiveOverIssue = max(sum.NaiveOverIssue, r.OverIssued+r.OverLimit)
	}
	if n.GrabsPerS > 0 {
		sum.Ratio = round2(m.GrabsPerS / n.GrabsPerS)
	}
	line, _ := json.Marshal(sum)
	fmt.Fprintln(stdout, string(line))
	return nil
}

func couponRun(ctx context.Context, out io.Writer, dir string, hc *http.Client, conns, viewers, budget int, naive bool, profile string) (CouponResult, error) {
	token := "bench-owner-token"
	args := []string{"-admin-token", token, "-rate-limits=false", "-analytics=false"}
	if naive {
		args = append(args, "-coupon-naive")
	}
	m, err := startNode(ctx, dir, args...)
	if err != nil {
		return CouponResult{}, err
	}
	defer m.Close()
	system := "shelflive"
	if naive {
		system = "naive-hot-row"
	}
	fmt.Fprintf(out, "%s: logging in %d viewers…\n", system, viewers)
	tokens, err := loginMany([]string{m.URL()}, hc, viewers)
	for try := 0; err != nil && try < 2; try++ { // a reset connection on a saturated box
		fmt.Fprintf(out, "%s: login: %v; again\n", system, err)
		tokens, err = loginMany([]string{m.URL()}, hc, viewers)
	}
	if err != nil {
		return CouponResult{}, err
	}
	owner := &apiclient.Client{Base: m.URL(), Token: token, HTTP: hc}
	var cp struct {
		ID     int64  `json:"id"`
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	if st, err := owner.Call(ctx, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "直播间立减5元", "room": "demo", "amount_fen": 500,
		"budget_count": budget, "per_user_limit": 1}, &cp); err != nil || st != 201 {
		return CouponResult{}, fmt.Errorf("bench coupons: create: %d %s %s %v", st, cp.Code, cp.Detail, err)
	}
	if st, err := owner.Call(ctx, "POST", fmt.Sprintf("/api/v1/coupons/%d/push", cp.ID), nil, nil); err != nil || st != 200 {
		return CouponResult{}, fmt.Errorf("bench coupons: push: %d %v", st, err)
	}
	url := fmt.Sprintf("%s/api/v1/coupons/%d/grab", m.URL(), cp.ID)
	stop := proc.CPUProfile(profile)
	self := fmt.Sprint(os.Getpid())
	cpu0 := proc.CPUSeconds(self)
	res := race(conns, []string{url}, tokens, []byte(`{}`), func(status int, code string) outcome {
		switch {
		case status == 201:
			return won
		case code == "coupon_gone" || code == "coupon_claim_limit":
			return lost
		case code == "busy_retry":
			return retry
		}
		return failed
	})
	cpu := proc.CPUSeconds(self) - cpu0
	stop()
	r := CouponResult{System: system, Viewers: viewers, Budget: budget, Grabs: res.Attempts, Won: res.Acknowledged, Errors: res.Errors, Busy: res.Busy,
		DurationS: res.DurationS, GrabsPerS: res.AttemptsPerS, P50Ms: res.P50Ms, P99Ms: res.P99Ms, CPUS: round2(cpu), LoadAvg: proc.LoadAvg1()}
	if cpu > 0 {
		r.GrabsPerCPUS = round2(float64(r.Grabs) / cpu)
	}
	if err := m.DB.QueryRow(ctx, `SELECT COUNT(*) FROM coupon_claims WHERE coupon_id = ?`, cp.ID).Scan(&r.Stored); err != nil {
		return r, err
	}
	if err := m.DB.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT customer_id FROM coupon_claims WHERE coupon_id = ? GROUP BY customer_id HAVING COUNT(*) > 1) x`, cp.ID).Scan(&r.OverLimit); err != nil {
		return r, err
	}
	r.OverIssued = max(0, r.Stored-int64(budget), r.Won-int64(budget))
	fmt.Fprintf(out, "%s: %d viewers, budget %d: %d grabs in %.2fs = %.0f grabs/s; %d won, %d stored, over-issued %d, over the limit %d, errors %d, busy %d; p50 %.1f ms p99 %.1f ms; %.2f CPU s (%.0f grabs per CPU second), load %.1f\n",
		system, viewers, budget, r.Grabs, r.DurationS, r.GrabsPerS, r.Won, r.Stored, r.OverIssued, r.OverLimit, r.Errors, r.Busy, r.P50Ms, r.P99Ms, r.CPUS, r.GrabsPerCPUS, r.LoadAvg)
	return r, nil
}
