package web_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/clips"
	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestAdminClipsAndCommission: in /admin the owner retitles a product clip
// and hides it (viewers then get 404), and sets the guides' commission
// rates with the form (a default, a category, a product); the API answers
// the same table.
func TestAdminClipsAndCommission(t *testing.T) {
	browser := testkit.Browser(t)
	m := testkit.StartNode(t, "")
	base, owner := m.URL(), testkit.OwnerToken
	ctx := context.Background()
	room, err := m.App.Live.RoomBySlug(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	list, err := m.App.Clips.EnsureClips(ctx, room.MerchantID, room.ID, []clips.Span{{ProductID: 1, PinnedAt: now, From: now.Add(-clips.Lead), To: now.Add(20 * time.Second)}}, false)
	if err != nil {
		t.Fatal(err)
	}
	id := list[0].ID
	if err := m.Files.Put(ctx, clips.Key(room.MerchantID, id), strings.NewReader("mp4"), 3, "video/mp4"); err != nil {
		t.Fatal(err)
	}
	if err := m.App.Clips.FinishClip(ctx, room.MerchantID, id, clips.Ready, clips.Media{DurationMS: 23000, Bytes: 3, VideoCodec: "h264"}, ""); err != nil {
		t.Fatal(err)
	}
	if r := send(t, nil, base, "GET", "/api/v1/clips/"+itoa(id), nil, "", nil); r.Status != 200 {
		t.Fatalf("public clip: %d", r.Status)
	}

	tab := testkit.NewTab(t, browser, 90*time.Second)
	tab.WaitFor = 15 * time.Second
	tab.StaffOpen(base, "owner", demo.Password, "/admin", `#admin-nav a[data-tab="clips"]`)
	b, do, wait := tab.Ctx, tab.Do, tab.Wait
	sel := `tr[data-clip="` + itoa(id) + `"]`
	do("clips tab", chromedp.Click(chromedp.CSS(`#admin-nav a[data-tab="clips"]`)), chromedp.WaitVisible(chromedp.CSS(sel)))
	mark := func() {
		do("mark the row", chromedp.Evaluate[chromedp.Void](`document.querySelector('`+sel+`').dataset.old = "1"`))
	}
	rerendered := `document.querySelector('` + sel + `') && !document.querySelector('` + sel + `').dataset.old`
	mark()
	do("retitle", chromedp.SendKeys(chromedp.CSS(`input[data-clip-title="`+itoa(id)+`"]`), "草莓怎么挑"), chromedp.Click(chromedp.CSS(`button[data-clip-save="`+itoa(id)+`"]`)))
	wait("title saved", rerendered+` && document.querySelector('input[data-clip-title="`+itoa(id)+`"]').value === "草莓怎么挑"`)
	mark()
	do("hide", chromedp.Click(chromedp.CSS(`button[data-clip-hide="`+itoa(id)+`"]`)))
	wait("hidden", rerendered+` && document.querySelector('`+sel+`').textContent.includes("已隐藏")`)
	testkit.Screenshot(t, b, "48-admin-clips")
	if r := send(t, nil, base, "GET", "/api/v1/clips", nil, owner, nil); r.Status != 200 || !strings.Contains(string(r.Body), `"title":"草莓怎么挑"`) {
		t.Fatalf("clips after retitle: %d %s", r.Status, r.Body)
	}
	if r := send(t, nil, base, "GET", "/api/v1/clips/"+itoa(id), nil, "", nil); r.Status != 404 {
		t.Fatalf("hidden clip answers %d to the public", r.Status)
	}

	do("commission tab", chromedp.Click(chromedp.CSS(`#admin-nav a[data-tab="commission"]`)), chromedp.WaitVisible(chromedp.CSS("#commission-default")))
	do("default rate", chromedp.SendKeys(chromedp.CSS("#commission-default"), "3"))
	do("add category rate", chromedp.Click(chromedp.CSS("#commission-add")))
	do("add product rate", chromedp.Click(chromedp.CSS("#commission-add")))
	wait("two rows", `document.querySelectorAll("#commission-rows .cr-row").length === 2`)
	do("fill rows", chromedp.Evaluate[chromedp.Void](`(() => {
		const rows = document.querySelectorAll("#commission-rows .cr-row");
		rows[0].querySelector(".cr-kind").value = "category"; rows[0].querySelector(".cr-kind").dispatchEvent(new Event("change"));
		rows[0].querySelector(".cr-category").value = "水果"; rows[0].querySelector(".cr-rate").value = "5";
		rows[1].querySelector(".cr-kind").value = "product"; rows[1].querySelector(".cr-kind").dispatchEvent(new Event("change"));
		rows[1].querySelector(".cr-product").value = "2"; rows[1].querySelector(".cr-rate").value = "8.5";
	})()`))
	testkit.Screenshot(t, b, "49-admin-commission-form")
	do("save", chromedp.Click(chromedp.CSS("#commission-save")))
	wait("saved and reloaded", `document.querySelectorAll("#commission-rows .cr-row").length === 2 && document.querySelector("#commission-default").value === "3" && document.querySelector("#commission-rows .cr-product:not(.hidden)") !== null`)
	// The form looks the same before and after the save answers, so the
	// rates are read until the save has landed.
	ratesNow := func() string {
		var rates struct {
			Rates []struct {
				ProductID int64  `json:"product_id"`
				Category  string `json:"category"`
				RateBP    int64  `json:"rate_bp"`
			} `json:"rates"`
		}
		r := send(t, nil, base, "GET", "/api/v1/commission/rates", nil, owner, nil)
		if err := json.Unmarshal(r.Body, &rates); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range rates.Rates {
			got = append(got, itoa(x.ProductID)+"/"+x.Category+"/"+itoa(x.RateBP))
		}
		sort.Strings(got)
		return strings.Join(got, " ")
	}
	const want = "0//300 0/水果/500 2//850"
	deadline := time.Now().Add(15 * time.Second)
	for ratesNow() != want && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := ratesNow(); got != want {
		t.Fatalf("rates %q, want %q", got, want)
	}
	testkit.Screenshot(t, b, "50-admin-commission-saved")

	// A rate over 50 % is refused on the form, with the reason.
	do("too high", chromedp.Evaluate[chromedp.Void](`document.querySelector("#commission-default").value = "60"`), chromedp.Click(chromedp.CSS("#commission-save")))
	wait("refused", `!document.querySelector("#commission-error").classList.contains("hidden")`)
}
