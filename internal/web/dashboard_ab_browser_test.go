package web_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestDashboardABPairedBrowser: after the scripted two-tea live (120
// viewers, each shown both cards) the dashboard's A/B panel draws, beside
// each metric's arms, the paired table McNemar's test read: A only / B
// only / both / neither as the API counts them, labelled in Chinese and,
// with ?lang=en, in English (desktop, 1366×900). When the pairs cannot be
// linked (the room's events stripped of their customer, as before
// migration 2902) the table goes and the verdict says why.
func TestDashboardABPairedBrowser(t *testing.T) {
	m := testkit.StartNode(t, "", "-rate-limits=false")
	base := m.URL()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := demo.ReplayAB(ctx, base, demo.ReplayOptions{Viewers: 120, Slug: "tea-pairs"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	type comparison struct {
		Verdict   string `json:"verdict"`
		VerdictEN string `json:"verdict_en"`
		Unlinked  bool   `json:"pairs_unlinked"`
		Paired    *struct {
			AOnly   int64 `json:"a_only"`
			BOnly   int64 `json:"b_only"`
			Both    int64 `json:"both"`
			Neither int64 `json:"neither"`
		} `json:"paired"`
	}
	tab := testkit.NewTab(t, testkit.Browser(t), 3*time.Minute)
	tab.Width, tab.Height = 1366, 900
	tab.WaitFor = time.Minute
	tab.StaffOpen(base, "owner", demo.Password, "/dashboard?room="+res.Room, "#dash-ab-panel")
	tab.Wait("the panel has the paired tables", `document.querySelectorAll("#dash-ab .dash-ab-pairs td[data-cell]").length === 8`)
	picked, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[[]string](`[document.getElementById("dash-ab-a").value, document.getElementById("dash-ab-b").value]`))
	if err != nil || len(picked) != 2 || picked[0] == picked[1] {
		t.Fatalf("picked %v (%v)", picked, err)
	}
	read := func() (ab struct{ Asked, Converted comparison }) {
		send(t, nil, base, "GET", "/api/v1/rooms/"+res.Room+"/ab?a="+picked[0]+"&b="+picked[1], nil, testkit.OwnerToken, nil).want(t, 200).decode(t, &ab)
		return ab
	}
	ab := read()
	labels := map[string][2]string{ // zh, en
		"asked":     {"只问了 A|只问了 B|两款都问了|都没问", "Asked A only|Asked B only|Asked both|Asked neither"},
		"converted": {"只买了 A|只买了 B|两款都买了|都没买", "Bought A only|Bought B only|Bought both|Bought neither"},
	}
	check := func(lang int) {
		t.Helper()
		for metric, c := range map[string]comparison{"asked": ab.Asked, "converted": ab.Converted} {
			if c.Paired == nil {
				t.Fatalf("%s: no pairs in the API: %+v", metric, c)
			}
			sel := `#dash-ab [data-metric=` + metric + `] .dash-ab-pairs`
			shown, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[[]string](`[[...document.querySelectorAll("`+sel+` th")].map((e) => e.textContent).join("|"),
				[...document.querySelectorAll("`+sel+` td")].map((e) => e.dataset.cell + "=" + e.textContent).join(" "),
				document.querySelector("`+sel+` p").textContent,
				document.querySelector("#dash-ab [data-metric=`+metric+`] .verdict").textContent]`))
			p := c.Paired
			verdict := []string{c.Verdict, c.VerdictEN}[lang]
			n := p.AOnly + p.BOnly + p.Both + p.Neither
			want := []string{labels[metric][lang], fmt.Sprintf("a_only=%d b_only=%d both=%d neither=%d", p.AOnly, p.BOnly, p.Both, p.Neither),
				[]string{fmt.Sprintf("两款都看到的 %d 位观众，按每人的两个结果配对（McNemar 检验）", n), fmt.Sprintf("The %d viewers shown both cards, paired by each one's two outcomes (McNemar's test)", n)}[lang], verdict}
			if err != nil || strings.Join(shown, "\n") != strings.Join(want, "\n") {
				testkit.Screenshot(t, tab.Ctx, "failed-dashboard-ab-paired")
				t.Fatalf("%s: page %q, want %q (%v)", metric, shown, want, err)
			}
		}
	}
	shot := func(name string) {
		t.Helper()
		testkit.Settled(t, tab.Ctx)
		testkit.Screenshot(t, tab.Ctx, name)
		panel, err := chromedp.Run(tab.Ctx, chromedp.Screenshot(chromedp.CSS("#dash-ab-panel")))
		if err == nil {
			err = os.WriteFile(filepath.Join(testkit.ArtifactDir(t), name+"-panel.png"), panel, 0o644)
		}
		if err != nil {
			t.Logf("panel screenshot: %v", err)
		}
	}
	check(0)
	shot("dashboard-ab-paired")

	tab.Do("the dashboard in English", chromedp.Navigate(base+"/dashboard?room="+res.Room+"&lang=en"))
	tab.Wait("the panel in English", `document.querySelectorAll("#dash-ab .dash-ab-pairs td[data-cell]").length === 8`)
	check(1)
	shot("dashboard-ab-paired-en")

	// Events without their customer: the pairs cannot be linked.
	if err := m.DB.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
		_, err := tx.Exec(context.Background(), `UPDATE insight_events SET customer_id = 0 WHERE room_id = (SELECT id FROM rooms WHERE slug = ?)`, res.Room)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ab = read()
	if ab.Asked.Paired != nil || !ab.Asked.Unlinked {
		t.Fatalf("unlinked: %+v", ab.Asked)
	}
	tab.Do("refresh the panel", chromedp.Evaluate[chromedp.Void](`document.getElementById("dash-ab-a").dispatchEvent(new Event("change"))`))
	tab.Wait("the panel without pairs", `!document.querySelector("#dash-ab .dash-ab-pairs") && document.querySelector("#dash-ab [data-metric=asked] .verdict").textContent === `+jsString(ab.Asked.VerdictEN))
}
