package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/draws"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestTrialOnAPhone is issue #20's browser test for trials, at 390×844: the
// owner opens a trial in /admin (desktop) for a baking group's members
// first; on a phone a fan logs in on the group's page, joins the group,
// taps the trial's card, answers the form and applies; a non-member
// applies too (through the API). The room shows the trial's chip. The
// owner selects now: the fan (the only member) is chosen, the other is
// told kindly; the fan's page shows the zero-price sample order with its
// pickup code; the store verifies the code; the fan rates the sample and
// writes a note; the owner's results page charts it. The seed revealed
// hashes to the commitment the page showed while applications were open,
// and the published tiers recompute.
func TestTrialOnAPhone(t *testing.T) {
	start := time.Now()
	s := newShop(t, "-rate-limits=false")
	owner := testkit.OwnerToken
	send(t, nil, s.base, "POST", "/api/v1/groups", map[string]any{"slug": "bakers", "name": "烘焙同好会", "name_en": "Home bakers", "topic": "烘焙"}, owner, nil).want(t, 201)
	outsider := viewerLogin(t, s.base, "demo", "13900003099")
	browser := testkit.Browser(t)

	// The owner opens the trial in /admin.
	desk := testkit.NewContext(t, browser, 240*time.Second)
	testkit.StaffLogin(t, desk, s.base, "owner", "shelflive-demo", "/admin")
	t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), "admin trials")
	runB(t, desk, "admin trials", chromedp.EmulateViewport(1440, 900), chromedp.Navigate(s.base+"/admin#trials"))
	if err := chromedp.Do(desk, chromedp.Poll[chromedp.Void](`document.querySelector("#trial-new") !== null`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		txt, _ := chromedp.Run(desk, chromedp.Evaluate[string](`location.href + " " + document.body.innerText.slice(0, 500)`))
		t.Fatalf("admin trials tab: %v: %s", err, txt)
	}
	t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), "admin new trial")
	runB(t, desk, "admin new trial",
		chromedp.Click(chromedp.CSS("#trial-new")), chromedp.WaitVisible(chromedp.CSS("#trial-form")),
		chromedp.SendKeys(chromedp.CSS("#trial-form [name=title]"), "草莓酸奶杯 新品内测"),
		chromedp.SetValue(chromedp.CSS("#trial-form [name=quota]"), "1"),
		chromedp.SetValue(chromedp.CSS("#trial-form [name=sku_id]"), fmt.Sprint(s.sku1)),
		chromedp.SetValue(chromedp.CSS("#trial-form [name=selection]"), "group_first"),
		chromedp.Evaluate[chromedp.Void](`(() => { const g = document.querySelector("#trial-form [name=group_id]"); g.value = g.options[1].value;
			document.querySelector("#trial-form [name=room_id]").value = "1"; })()`),
		chromedp.SendKeys(chromedp.CSS("#trial-form [name=description]"), "少糖配方，欢迎烘焙群的朋友先尝"),
	)
	testkit.Screenshot(t, desk, "trial-01-admin-new")
	t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), "admin create trial")
	runB(t, desk, "admin create trial", chromedp.Click(chromedp.CSS("#trial-create")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#trial-stats") || document.querySelector("#trial-form .form-error:not(.hidden)")`, chromedp.WithPollingTimeout(20*time.Second)))
	if msg, _ := chromedp.Run(desk, chromedp.Evaluate[string](`(document.querySelector("#admin-main .form-error:not(.hidden)") || {}).textContent || ""`)); msg != "" {
		t.Fatalf("admin: %s", msg)
	}
	var tr trialView
	var list struct{ Trials []trialView }
	send(t, nil, s.base, "GET", "/api/v1/trials", nil, owner, nil).want(t, 200).decode(t, &list)
	if len(list.Trials) != 1 {
		t.Fatalf("trials %+v", list.Trials)
	}
	tr = list.Trials[0]
	if tr.Quota != 1 || tr.Status != "open" || len(tr.Commitment) != 64 {
		t.Fatalf("trial made in /admin: %+v", tr)
	}

	// A fan on a phone: the group's page, log in, join, the trial's card.
	phone := testkit.NewContext(t, browser, 240*time.Second)
	t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), "group login")
	runB(t, phone, "group login", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(s.base+"/groups/bakers"), chromedp.WaitVisible(chromedp.CSS(".trial-card")),
		chromedp.SendKeys(chromedp.CSS("#login-phone"), "13900003001"),
		chromedp.Click(chromedp.CSS("#otp-send")), chromedp.WaitVisible(chromedp.CSS("#otp-dev")))
	dev, _ := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#otp-dev").textContent`))
	t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), "join")
	runB(t, phone, "join", chromedp.SendKeys(chromedp.CSS("#login-code"), dev[len(dev)-6:]), chromedp.Click(chromedp.CSS("#login-go")),
		chromedp.WaitVisible(chromedp.CSS("#group-join")), chromedp.Click(chromedp.CSS("#group-join")), chromedp.WaitVisible(chromedp.CSS("#group-joined")))
	testkit.Screenshot(t, phone, "trial-02-group-card")
	t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), "trial page")
	runB(t, phone, "trial page", chromedp.Click(chromedp.CSS(".trial-card")), chromedp.WaitVisible(chromedp.CSS("#apply-form")))
	shown, _ := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#trial-commitment").textContent`))
	if shown != tr.Commitment {
		t.Fatalf("the page shows commitment %q, the API %q", shown, tr.Commitment)
	}
	testkit.Screenshot(t, phone, "trial-03-apply-form")
	t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), "apply")
	runB(t, phone, "apply",
		chromedp.Click(chromedp.CSS(`.choice-btn[data-v="2-3"]`)),
		chromedp.SendKeys(chromedp.CSS(`.q-text[data-q="q2"]`), "孩子爱吃酸奶，想试试少糖的"),
		chromedp.SendKeys(chromedp.CSS(`.q-text[data-q="q3"]`), "无"),
		chromedp.Click(chromedp.CSS("#apply-send")), chromedp.WaitVisible(chromedp.CSS("#trial-applied")))
	testkit.Screenshot(t, phone, "trial-04-applied")
	apply := fmt.Sprintf("/api/v1/trials/%d/apply", tr.ID)
	send(t, nil, s.base, "POST", apply, map[string]any{"answers": map[string]string{"q1": "1"}}, outsider.Token, nil).want(t, 201)

	// The room shows the trial's chip.
	t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), "room chip")
	runB(t, phone, "room chip", chromedp.Navigate(s.base+"/live/demo"), chromedp.WaitVisible(chromedp.CSS("#trial-chip")))
	testkit.Screenshot(t, phone, "trial-05-room-chip")

	// Select now: the member is chosen (group first), the other told kindly.
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/trials/%d/select", tr.ID), nil, owner, nil).want(t, 200).decode(t, &tr)
	if c, _ := draws.Commitment(tr.Seed); c != shown || tr.Chosen != 1 {
		t.Fatalf("selected: %+v (the seed hashes to %s)", tr, c)
	}
	for tier := 1; tier <= 2; tier++ {
		var doc draws.Result
		send(t, nil, s.base, "GET", fmt.Sprintf("/api/v1/trials/%d/draw?tier=%d", tr.ID, tier), nil, "", nil).want(t, 200).decode(t, &doc)
		var entries, published []int64
		for _, e := range doc.Entries {
			entries = append(entries, e.CustomerID)
		}
		for _, w := range doc.Winners {
			published = append(published, w.CustomerID)
		}
		if v, err := draws.Verify(doc.Draw.Seed, shown, entries, doc.Draw.Winners, published); err != nil || !v.Match || !v.CommitmentOK || len(published) != 2-tier {
			t.Fatalf("tier %d: %+v (%v)", tier, v, err)
		}
	}
	var inbox struct {
		Messages []struct{ Kind, Body string } `json:"messages"`
	}
	send(t, nil, s.base, "GET", "/api/v1/me/inbox", nil, outsider.Token, nil).want(t, 200).decode(t, &inbox)
	if len(inbox.Messages) == 0 || inbox.Messages[0].Kind != "trial.not_chosen" || !strings.Contains(inbox.Messages[0].Body, "下次内测再见") {
		t.Fatalf("the applicant not chosen was told %+v", inbox.Messages)
	}

	// The fan's page: chosen, the zero-price sample order and its pickup code.
	t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), "chosen")
	runB(t, phone, "chosen", chromedp.Navigate(fmt.Sprintf("%s/trials/%d", s.base, tr.ID)), chromedp.WaitVisible(chromedp.CSS("#trial-pickup-code")),
		chromedp.WaitVisible(chromedp.CSS("#trial-wait-feedback")))
	code, _ := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#trial-pickup-code").textContent`))
	testkit.Screenshot(t, phone, "trial-06-chosen")
	t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), "sample order")
	runB(t, phone, "sample order", chromedp.Click(chromedp.CSS("#trial-order")), chromedp.WaitVisible(chromedp.CSS("#order-page")))
	total, _ := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#order-page").textContent`))
	if !strings.Contains(total, "¥0.00") {
		t.Fatalf("the sample order page does not show ¥0.00: %q", total)
	}
	testkit.Screenshot(t, phone, "trial-07-sample-order")

	// The store hands it over; the fan rates it.
	send(t, nil, s.base, "POST", "/api/v1/pickups/verify", map[string]any{"code": code, "confirm": true}, owner, nil).want(t, 200)
	t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), "feedback form")
	runB(t, phone, "feedback form", chromedp.Navigate(fmt.Sprintf("%s/trials/%d", s.base, tr.ID)), chromedp.WaitVisible(chromedp.CSS("#feedback")))
	for dim, v := range map[string]int{"taste": 5, "texture": 4, "price": 3, "repurchase": 5} {
		runB(t, phone, "rate "+dim, chromedp.Click(chromedp.CSS(fmt.Sprintf(`.rate-row[data-dim="%s"] .rate-btn[data-v="%d"]`, dim, v))))
	}
	t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), "feedback text")
	runB(t, phone, "feedback text", chromedp.SendKeys(chromedp.CSS("#feedback-text"), "酸甜刚好，孩子一口气吃完；希望有家庭装"))
	testkit.Screenshot(t, phone, "trial-08-feedback")
	t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), "feedback send")
	runB(t, phone, "feedback send", chromedp.Click(chromedp.CSS("#feedback-send")), chromedp.WaitVisible(chromedp.CSS("#trial-thanks")))
	testkit.Screenshot(t, phone, "trial-09-thanks")
	runB(t, phone, "english", chromedp.Navigate(fmt.Sprintf("%s/trials/%d?lang=en", s.base, tr.ID)), chromedp.WaitVisible(chromedp.CSS("#trial-thanks")))
	if en, _ := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#trial-thanks h2").textContent`)); en != "Thank you for your feedback!" {
		t.Fatalf("English page: %q", en)
	}
	testkit.Screenshot(t, phone, "trial-09-thanks-en")

	// The owner's results: 1 of 1 answered, taste 5, the note.
	t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), "results")
	runB(t, desk, "results", chromedp.Navigate(fmt.Sprintf("%s/admin?lang=zh#trials?id=%d", s.base, tr.ID)), chromedp.WaitVisible(chromedp.CSS("#trial-texts")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#trial-chart-ratings svg") !== null`, chromedp.WithPollingTimeout(20*time.Second)))
	stats, _ := chromedp.Run(desk, chromedp.Evaluate[string](`document.querySelector("#trial-stats").textContent`))
	texts, _ := chromedp.Run(desk, chromedp.Evaluate[string](`document.querySelector("#trial-texts").textContent`))
	if !strings.Contains(stats, "100%") || !strings.Contains(stats, "5.0") || !strings.Contains(texts, "家庭装") {
		t.Fatalf("results page: %q / %q", stats, texts)
	}
	testkit.Screenshot(t, desk, "trial-10-admin-results")
}
