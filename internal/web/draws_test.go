package web_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/draws"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestDrawCommitThenReveal: the host opens a comment-keyword 福袋 with 2
// coupon prizes; the commitment is public and the seed is not; viewers
// enter by commenting the keyword (a comment without it does not enter,
// a like does not either, a second comment does not count twice); two
// accounts on one browser count once; the host draws; the seed revealed
// hashes to the commitment, the winners are draws.Winners of the seed and
// the published eligible entries, and each winner's wallet holds the
// prize coupon.
func TestDrawCommitThenReveal(t *testing.T) {
	s := newShop(t, "-rate-limits=false")
	owner := testkit.OwnerToken
	var cp couponView
	send(t, nil, s.base, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "福袋券10元", "amount_fen": 1000, "budget_count": 5}, owner, nil).want(t, 201).decode(t, &cp)
	send(t, nil, s.base, "POST", "/api/v1/rooms/demo/draws", map[string]any{"title": "草莓福袋", "entry": "comment", "winners": 2, "prize_kind": "coupon", "prize_coupon_id": cp.ID, "minutes": 10}, owner, nil).
		wantProblem(t, 400, "draw_keyword")
	// The viewers have accounts from before the draw (accounts made in a
	// burst after it opened would be excluded as bulk sign-ups).
	var viewers []session
	for i := range 7 {
		viewers = append(viewers, viewerLogin(t, s.base, "demo", fmt.Sprintf("139000018%02d", i)))
	}
	var d struct {
		ID         int64  `json:"id"`
		Commitment string `json:"commitment"`
		Seed       string `json:"seed"`
	}
	send(t, nil, s.base, "POST", "/api/v1/rooms/demo/draws", map[string]any{"title": "草莓福袋", "entry": "comment", "keyword": "想要福袋", "winners": 2, "prize_kind": "coupon", "prize_coupon_id": cp.ID, "minutes": 10}, owner, nil).
		want(t, 201).decode(t, &d)
	if len(d.Commitment) != 64 || d.Seed != "" {
		t.Fatalf("open draw %+v", d)
	}
	for i, v := range viewers {
		text := "我想要福袋！"
		if i == 6 {
			text = "好吃吗"
		}
		hdr := map[string]string{"Cookie": fmt.Sprintf("sl_vid=browser-%d", i)}
		if i == 5 {
			hdr["Cookie"] = "sl_vid=browser-4" // a second account on viewer 4's phone
		}
		send(t, nil, s.base, "POST", "/api/v1/rooms/demo/comments", map[string]any{"text": text}, v.Token, hdr).want(t, 201)
	}
	// The same viewer comments the keyword again (once the anti-flood gap passed).
	testkit.WaitFor(t, "a second comment", 10*time.Second, func() bool {
		return send(t, nil, s.base, "POST", "/api/v1/rooms/demo/comments", map[string]any{"text": "想要福袋 again"}, viewers[0].Token, map[string]string{"Cookie": "sl_vid=browser-0"}).Status == 201
	})
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/draws/%d/enter", d.ID), nil, viewers[6].Token, nil).wantProblem(t, 409, "draw_needs_comment")

	var open draws.Result
	send(t, nil, s.base, "GET", fmt.Sprintf("/api/v1/draws/%d", d.ID), nil, "", nil).want(t, 200).decode(t, &open)
	if open.Draw.Seed != "" || open.Draw.Entrants != 6 || len(open.Winners) != 0 {
		t.Fatalf("before the draw: %+v", open.Draw)
	}
	var res draws.Result
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/draws/%d/draw", d.ID), nil, owner, nil).want(t, 200).decode(t, &res)
	if c, _ := draws.Commitment(res.Draw.Seed); c != d.Commitment {
		t.Fatalf("revealed seed %q does not hash to the commitment %s", res.Draw.Seed, d.Commitment)
	}
	if len(res.Entries) != 5 || len(res.Excluded) != 1 || res.Excluded[0].Excluded != "same_device" {
		t.Fatalf("entries %+v excluded %+v", res.Entries, res.Excluded)
	}
	var ids, won []int64
	for _, e := range res.Entries {
		ids = append(ids, e.CustomerID)
	}
	for _, w := range res.Winners {
		won = append(won, w.CustomerID)
	}
	want, _ := draws.Winners(res.Draw.Seed, ids, 2)
	if !slices.Equal(want, won) {
		t.Fatalf("published winners %v, recomputed %v", won, want)
	}
	// Prizes: each winner's wallet has the coupon (given by the draw).
	got := 0
	for _, v := range viewers {
		var w struct {
			Claims []struct {
				CouponID int64 `json:"coupon_id"`
			} `json:"claims"`
		}
		send(t, nil, s.base, "GET", "/api/v1/me/coupons", nil, v.Token, nil).want(t, 200).decode(t, &w)
		for _, c := range w.Claims {
			if c.CouponID == cp.ID {
				got++
			}
		}
	}
	if got != 2 {
		t.Fatalf("%d prize coupons in wallets, want 2", got)
	}
	testkit.WaitFor(t, "a comment after the draw", 10*time.Second, func() bool { // past the anti-flood gap
		return send(t, nil, s.base, "POST", "/api/v1/rooms/demo/comments", map[string]any{"text": "想要福袋"}, viewers[6].Token, nil).Status == 201
	})
	var after draws.Result
	send(t, nil, s.base, "GET", fmt.Sprintf("/api/v1/draws/%d", d.ID), nil, "", nil).want(t, 200).decode(t, &after)
	if after.Draw.Entrants != 6 {
		t.Fatalf("an entry after the draw counted: %d", after.Draw.Entrants)
	}
}
