package demo_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestReplayAB plays the scripted two-tea live through the public API of a
// running node and checks the story's verdict: the white-peach tea (B) is
// asked about more and converts better, both tests agreeing, with the
// sample sizes the script made. Every viewer sees both cards, so the
// verdict is McNemar's on each viewer's two outcomes: the script's
// viewer i asks about A when 9 | i, about B when 4 | i (both when 36 | i),
// buys A when i ≡ 1 (mod 16), B when i ≡ 1 (mod 6) (both when i ≡ 1 (mod 48)).
func TestReplayAB(t *testing.T) {
	m := testkit.StartNode(t, "", "-rate-limits=false")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := demo.ReplayAB(ctx, m.URL(), demo.ReplayOptions{Viewers: 120}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	type arm struct{ Successes, Trials int64 }
	type pairs struct {
		AOnly   int64  `json:"a_only"`
		BOnly   int64  `json:"b_only"`
		Both    int64  `json:"both"`
		Neither int64  `json:"neither"`
		Test    string `json:"test"`
	}
	type comparison struct {
		A, B    arm
		Winner  string `json:"winner"`
		Enough  bool   `json:"enough_data"`
		Verdict string `json:"verdict"`
		Paired  *pairs `json:"paired"`
	}
	var v struct{ Asked, Converted comparison }
	if err := json.Unmarshal(res.Verdict, &v); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]comparison{"asked": v.Asked, "converted": v.Converted} {
		if !c.Enough || c.Winner != "b" || c.A.Trials != 120 || c.B.Trials != 120 || c.B.Successes <= c.A.Successes || !strings.HasPrefix(c.Verdict, "白桃乌龙冷泡茶 ") {
			t.Fatalf("%s: %+v", name, c)
		}
	}
	if !strings.Contains(string(res.Verdict), "White peach oolong cold brew converts better") {
		t.Fatalf("verdict %s", res.Verdict)
	}
	// 120 viewers: asked A 14 (4 of them B too), B 30; bought A 8 (3 of them B too), B 20.
	if p := v.Asked.Paired; p == nil || *p != (pairs{AOnly: 10, BOnly: 26, Both: 4, Neither: 80, Test: "chi_square_cc"}) || !strings.Contains(v.Asked.Verdict, "McNemar 配对检验") {
		t.Fatalf("asked, paired: %+v %+v", v.Asked, p)
	}
	if p := v.Converted.Paired; p == nil || *p != (pairs{AOnly: 5, BOnly: 17, Both: 3, Neither: 95, Test: "exact_binomial"}) {
		t.Fatalf("converted, paired: %+v %+v", v.Converted, p)
	}
	if v.Asked.A.Successes != 14 || v.Asked.B.Successes != 30 || v.Converted.A.Successes != 8 || v.Converted.B.Successes != 20 {
		t.Fatalf("counts: asked %d/%d, bought %d/%d", v.Asked.A.Successes, v.Asked.B.Successes, v.Converted.A.Successes, v.Converted.B.Successes)
	}
}
