package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestCocreateBrowser: co-creation end to end.
//
//   - The merchant (desktop) opens a draft in /admin → 粉丝共创 for the
//     group 地方美食, and in the studio pushes it into the room with the
//     group's join card.
//   - A fan (390×844) joins the group, votes 红枣 on the group page and
//     sees another fan's vote arrive live; in the room joins from the
//     group card, votes a size, changes the flavour to 黑芝麻 (one vote
//     per group: the counts move, not add) and sees a third fan's vote live.
//   - The merchant sees the counts as a chart and makes the winning
//     combination a pre-sale with an MOQ of 4; the room's chip shows it
//     and moves to 75% when a buyer pays for 3; the group page shows it.
func TestCocreateBrowser(t *testing.T) {
	s := newShop(t, "-rate-limits=false")
	owner := staffLogin(t, s.base, "owner", "shelflive-demo")
	send(t, nil, s.base, "POST", "/api/v1/groups", map[string]any{"slug": "grains", "name": "地方美食", "topic": "杂粮"}, owner.Token, nil).want(t, 201)
	fan := viewerLogin(t, s.base, "demo", "13900002111")
	browser := testkit.Browser(t)

	desk := testkit.NewContext(t, browser, 180*time.Second)
	runB(t, desk, "admin new draft", chromedp.EmulateViewport(1440, 900), withCookie(s.base, "sl_staff", owner.Token),
		chromedp.Navigate(s.base+"/admin#cocreate"), chromedp.WaitVisible(chromedp.CSS("#draft-new")),
		chromedp.Click(chromedp.CSS("#draft-new")), chromedp.WaitVisible(chromedp.CSS(`#modal input[name="name"]`)),
		chromedp.SendKeys(chromedp.CSS(`#modal input[name="name"]`), "青稞冲饮粉"),
		chromedp.SendKeys(chromedp.CSS(`#modal input[name="origin"]`), "青海海北"),
		chromedp.SendKeys(chromedp.CSS(`#modal textarea[name="story"]`), "高原青稞和工厂一起做成即冲即饮的粉，口味和规格由粉丝投票决定。"),
		chromedp.Click(chromedp.CSS(`#modal button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".cc-admin .cc-to-presale")))
	var drafts struct {
		Drafts []draftView `json:"drafts"`
	}
	send(t, nil, s.base, "GET", "/api/v1/cocreate-drafts", nil, owner.Token, nil).want(t, 200).decode(t, &drafts)
	if len(drafts.Drafts) != 1 || drafts.Drafts[0].GroupID == 0 || len(drafts.Drafts[0].Groups) != 2 {
		t.Fatalf("the admin form made %+v", drafts.Drafts)
	}
	d := drafts.Drafts[0]
	opt := func(group int, text string) int64 {
		for _, o := range d.Groups[group].Options {
			if o.Text == text {
				return o.ID
			}
		}
		t.Fatalf("no option %s", text)
		return 0
	}
	runB(t, desk, "studio push", chromedp.Navigate(s.base+"/studio?room=demo"), chromedp.WaitVisible(chromedp.CSS("#cocreate-push")),
		chromedp.Click(chromedp.CSS("#cocreate-push")), chromedp.WaitVisible(chromedp.CSS("#cocreate-live")),
		chromedp.Click(chromedp.CSS("#group-card-push")))
	testkit.WaitFor(t, "the room holds the draft and the group card", 20*time.Second, func() bool {
		r := send(t, nil, s.base, "GET", "/api/v1/rooms/demo", nil, "", nil)
		return strings.Contains(string(r.Body), `"cocreate":{`) && strings.Contains(string(r.Body), `"slug":"grains"`)
	})

	// The fan on the group page: join, vote, see another vote arrive.
	phone := testkit.NewContext(t, browser, 180*time.Second)
	card := `.cc-card[data-draft="` + itoa(d.ID) + `"]`
	runB(t, phone, "group vote", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), withCookie(s.base, "sl_viewer", fan.Token),
		chromedp.Navigate(s.base+"/groups/grains"), chromedp.WaitVisible(chromedp.CSS("#group-join")),
		chromedp.Click(chromedp.CSS("#group-join")), chromedp.WaitVisible(chromedp.CSS("#group-joined")),
		chromedp.WaitVisible(chromedp.CSS(card+` button[data-option="`+itoa(opt(0, "红枣"))+`"]`)),
		chromedp.Click(chromedp.CSS(card+` button[data-option="`+itoa(opt(0, "红枣"))+`"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('`+card+` .poll-opt.mine') && document.querySelector('`+card+` .poll-opt.mine').textContent.includes("红枣") && document.querySelector('`+card+`').textContent.includes("1 人参与")`, chromedp.WithPollingTimeout(20*time.Second)))
	other := viewerLogin(t, s.base, "demo", "13900002112")
	send(t, nil, s.base, "POST", "/api/v1/cocreate-drafts/"+itoa(d.ID)+"/votes", map[string]any{"option_id": opt(0, "黑芝麻")}, other.Token, nil).want(t, 200)
	runB(t, phone, "group live count", chromedp.Poll[chromedp.Void](`document.querySelector('`+card+`').textContent.includes("2 人参与")`, chromedp.WithPollingTimeout(20*time.Second)))
	testkit.Settled(t, phone)
	testkit.Screenshot(t, phone, "cocreate-01-group")

	// In the room: the group card, the draft's card; a size, then a changed flavour.
	room := "#cocreate-card"
	runB(t, phone, "room card", chromedp.Navigate(s.base+"/live/demo"), chromedp.WaitVisible(chromedp.CSS(room+` button[data-option]`)),
		chromedp.WaitVisible(chromedp.CSS("#group-card-join")), chromedp.Click(chromedp.CSS("#group-card-join")), chromedp.WaitVisible(chromedp.CSS("#group-card-joined")),
		chromedp.Poll[chromedp.Void](`document.querySelector('`+room+` .poll-opt.mine') !== null`, chromedp.WithPollingTimeout(20*time.Second)), // the fan's earlier vote, read back
		chromedp.Click(chromedp.CSS(room+` button[data-option="`+itoa(opt(1, "30g×10 条"))+`"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('`+room+` .poll-opt.mine').length === 2`, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Click(chromedp.CSS(room+` button[data-option="`+itoa(opt(0, "黑芝麻"))+`"]`)),
		chromedp.Poll[chromedp.Void](`(() => { const m = [...document.querySelectorAll('`+room+` .poll-opt.mine')].map((b) => b.textContent); return m.length === 2 && m[0].includes("黑芝麻") && m[0].includes("100%"); })()`, chromedp.WithPollingTimeout(20*time.Second)))
	third := viewerLogin(t, s.base, "demo", "13900002113")
	send(t, nil, s.base, "POST", "/api/v1/cocreate-drafts/"+itoa(d.ID)+"/votes", map[string]any{"option_id": opt(1, "30g×10 条")}, third.Token, nil).want(t, 200)
	runB(t, phone, "room live count", chromedp.Poll[chromedp.Void](`document.querySelector('`+room+`').textContent.includes("3 人参与")`, chromedp.WithPollingTimeout(20*time.Second)))
	testkit.Settled(t, phone)
	testkit.Screenshot(t, phone, "cocreate-02-room")

	// The merchant: the chart, then the winning combination as a pre-sale.
	runB(t, desk, "admin chart", chromedp.Navigate(s.base+"/admin#cocreate"), chromedp.WaitVisible(chromedp.CSS(".cc-chart svg")))
	testkit.Screenshot(t, desk, "cocreate-03-admin-chart")
	runB(t, desk, "to presale", chromedp.Click(chromedp.CSS(".cc-to-presale")), chromedp.WaitVisible(chromedp.CSS(`#modal input[name="price"]`)),
		chromedp.SetValue(chromedp.CSS(`#modal input[name="price"]`), "39.90"), chromedp.SetValue(chromedp.CSS(`#modal input[name="moq"]`), "4"),
		chromedp.SetValue(chromedp.CSS(`#modal input[name="supplier"]`), "海北青稞加工厂"))
	testkit.Screenshot(t, desk, "cocreate-04-admin-presale-form")
	runB(t, desk, "presale made", chromedp.Click(chromedp.CSS(`#modal button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("tr[data-presale]")))
	testkit.Screenshot(t, desk, "cocreate-05-admin-presales")
	var list struct {
		Presales []presaleView `json:"presales"`
	}
	send(t, nil, s.base, "GET", "/api/v1/presales", nil, owner.Token, nil).want(t, 200).decode(t, &list)
	if len(list.Presales) != 1 || list.Presales[0].MOQ != 4 {
		t.Fatalf("pre-sales after the admin form: %+v", list.Presales)
	}
	ps := list.Presales[0]
	if r := send(t, nil, s.base, "GET", "/api/v1/presales/"+itoa(ps.ID), nil, "", nil).want(t, 200); !strings.Contains(string(r.Body), "青稞冲饮粉 · 黑芝麻 · 30g×10 条") {
		t.Fatalf("the pre-sale is not of the winning combination: %s", r.Body)
	}

	// The room shows the pre-sale's progress; a buyer pays for 3 of 4.
	runB(t, phone, "room chip", chromedp.WaitVisible(chromedp.CSS("#presale-chip")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#cocreate-card .cc-presale") !== null`, chromedp.WithPollingTimeout(20*time.Second)))
	buyPresale(t, s, ps.ID, "13900002120", 3, true)
	runB(t, phone, "room progress", chromedp.Poll[chromedp.Void](`document.querySelector("#presale-chip").dataset.percent === "75"`, chromedp.WithPollingTimeout(20*time.Second)))
	chip, _ := chromedp.Run(phone, chromedp.Evaluate[string](`document.querySelector("#presale-chip").textContent`))
	if !strings.Contains(chip, "粉丝共创款") || !strings.Contains(chip, "75%") {
		t.Fatalf("room chip: %q", chip)
	}
	testkit.Settled(t, phone)
	testkit.Screenshot(t, phone, "cocreate-06-room-presale")
	runB(t, phone, "group presale", chromedp.Navigate(s.base+"/groups/grains"),
		chromedp.Poll[chromedp.Void](`document.querySelector(".presale-card .presale-pct") && document.querySelector(".presale-card .presale-pct").textContent === "75%"`, chromedp.WithPollingTimeout(20*time.Second)))
	testkit.Settled(t, phone)
	testkit.Screenshot(t, phone, "cocreate-07-group-presale")
}
