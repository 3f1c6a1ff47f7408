package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestGroupOnAPhone: the shop opens a baking group with a recipe whose
// ingredients are two of its products. A fan opens the group's link at
// 390×844, logs in, joins, posts a photo with a note, comments on the
// recipe and buys all its ingredients in one order (the order page shows
// both lines). Another tenant's staff cannot post; a non-member cannot
// comment; a fan the shop made moderator hides a comment.
//
// Group-only live: the room restricted to the group (the members domain's
// fan_group segment, answered by the fan groups) sells to its members only.
func TestGroupOnAPhone(t *testing.T) {
	s := newShop(t, "-rate-limits=false")
	owner := testkit.OwnerToken
	send(t, nil, s.base, "POST", "/api/v1/groups", map[string]any{"slug": "x", "name": "烘焙"}, owner, nil).wantProblem(t, 400, "group_slug_invalid")
	send(t, nil, s.base, "POST", "/api/v1/groups", map[string]any{"slug": "bakers", "name": "烘焙同好会", "name_en": "Home bakers", "topic": "烘焙", "description": "每周分享一道甜点"}, owner, nil).want(t, 201)
	send(t, nil, s.base, "POST", "/api/v1/groups", map[string]any{"slug": "bakers", "name": "重复"}, owner, nil).wantProblem(t, 409, "group_slug_taken")
	var post struct {
		ID int64 `json:"id"`
	}
	send(t, nil, s.base, "POST", "/api/v1/groups/bakers/posts", map[string]any{"text": "本周甜点：草莓奶油杯",
		"recipe": map[string]any{"title": "草莓奶油杯", "steps": "1. 草莓切块\n2. 奶油打发后装杯",
			"ingredients": []map[string]any{{"name": "草莓", "amount": "200g", "sku_id": s.sku1, "quantity": 1}, {"name": "牛奶", "amount": "1盒", "sku_id": s.sku2, "quantity": 2}, {"name": "糖", "amount": "15g"}}}}, owner, nil).want(t, 201).decode(t, &post)

	var grp struct {
		Group struct {
			ID int64 `json:"id"`
		} `json:"group"`
	}
	send(t, nil, s.base, "GET", "/api/v1/groups/bakers", nil, "", nil).want(t, 200).decode(t, &grp)
	ps := openPresale(t, s, map[string]any{"group_id": grp.Group.ID, "title": "粉丝共创款 草莓奶油杯"})

	outsider := viewerLogin(t, s.base, "demo", "13900001499")
	send(t, nil, s.base, "POST", "/api/v1/group-posts/"+itoa(post.ID)+"/comments", map[string]any{"text": "我也想做"}, outsider.Token, nil).wantProblem(t, 409, "group_members_only")

	photo := photoFile(t)

	ctx := testkit.NewContext(t, testkit.Browser(t), 120*time.Second)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(s.base+"/groups/bakers"),
		chromedp.WaitVisible(chromedp.CSS("#login-phone")),
		chromedp.SendKeys(chromedp.CSS("#login-phone"), "13900001401"),
		chromedp.Click(chromedp.CSS("#otp-send")),
		chromedp.WaitVisible(chromedp.CSS("#otp-dev")),
	); err != nil {
		t.Fatal(err)
	}
	testkit.Screenshot(t, ctx, "group-logged-out")
	dev, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#otp-dev").textContent`))
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#login-code"), dev[len(dev)-6:]),
		chromedp.Click(chromedp.CSS("#login-go")),
		chromedp.WaitVisible(chromedp.CSS("#group-join")),
		chromedp.Click(chromedp.CSS("#group-join")),
		chromedp.WaitVisible(chromedp.CSS("#group-joined")),
		chromedp.WaitVisible(chromedp.CSS("#post-text")),
		chromedp.SetUploadFiles(chromedp.CSS("#post-photo"), []string{photo}),
		chromedp.WaitVisible(chromedp.CSS("#post-thumbs img")),
		chromedp.SendKeys(chromedp.CSS("#post-text"), "第一次做戚风，没有塌！"),
		chromedp.Click(chromedp.CSS("#post-send")),
		chromedp.WaitVisible(chromedp.CSS(".post-photos img")),
	); err != nil {
		t.Fatal(err)
	}
	// the group's pre-sale moves as a buyer pays
	buyPresale(t, s, ps.ID, "13900001450", 1, true)
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.querySelector(".presale-card .presale-pct").textContent === "33%"`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".presale-card").textContent`))
		t.Fatalf("group page pre-sale card: %q (%v)", got, err)
	}
	members, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#group-members").textContent`))
	if members != "1" {
		t.Fatalf("members shown: %q", members)
	}
	// comment on the recipe
	sel := `.post[data-post="` + itoa(post.ID) + `"]`
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(sel+" .show-comments")),
		chromedp.WaitVisible(chromedp.CSS(sel+" .comment-add input")),
		chromedp.SendKeys(chromedp.CSS(sel+" .comment-add input"), "收藏了，周末试试"),
		chromedp.Click(chromedp.CSS(sel+" .comment-add button")),
		chromedp.Poll[chromedp.Void](`document.querySelector('`+sel+` .comment-list').textContent.includes("周末试试")`, chromedp.WithPollingTimeout(15*time.Second)),
	); err != nil {
		t.Fatal(err)
	}
	testkit.Screenshot(t, ctx, "group-member")

	// buy all ingredients: one order with the two products on sale
	if err := chromedp.Do(ctx,
		chromedp.ScrollIntoView(chromedp.CSS(sel+" .buy-all")),
		chromedp.Click(chromedp.CSS(sel+" .buy-all")),
		chromedp.WaitVisible(chromedp.CSS("#buy-sheet #buy-go")),
	); err != nil {
		t.Fatal(err)
	}
	// the sheet slides up; look at it once it is in place
	chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.getAnimations().every((a) => a.playState === "finished")`, chromedp.WithPollingTimeout(10*time.Second)))
	lines, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#buy-lines li").length`))
	if lines != 2 {
		t.Fatalf("buy sheet lists %d ingredients, want 2", lines)
	}
	testkit.Screenshot(t, ctx, "group-buy-all")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#buy-go")),
		chromedp.WaitVisible(chromedp.CSS("#order-page")),
	); err != nil {
		t.Fatal(err)
	}
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".lines").textContent`))
	if strings.Count(text, "×") != 2 {
		t.Fatalf("order lines: %q", text)
	}

	// Moderation: a trusted fan hides a comment; an ordinary member cannot.
	var cid struct {
		ID int64 `json:"id"`
	}
	member := viewerLogin(t, s.base, "demo", "13900001402")
	send(t, nil, s.base, "PUT", "/api/v1/groups/bakers/membership", nil, member.Token, nil).want(t, 200)
	send(t, nil, s.base, "POST", "/api/v1/group-posts/"+itoa(post.ID)+"/comments", map[string]any{"text": "加我微信买便宜货"}, member.Token, nil).want(t, 201).decode(t, &cid)
	send(t, nil, s.base, "POST", "/api/v1/group-comments/"+itoa(cid.ID)+"/hide", nil, member.Token, nil).wantProblem(t, 409, "group_moderators_only")
	var ids []int64
	if err := s.m.DB.QueryRow(t.Context(), `SELECT customer_id FROM fan_members m JOIN customers c ON c.id = m.customer_id WHERE c.phone LIKE '%1401'`).Scan(new(int64)); err != nil {
		t.Fatal(err)
	}
	rows, _ := s.m.DB.Query(t.Context(), `SELECT m.customer_id FROM fan_members m JOIN customers c ON c.id = m.customer_id WHERE c.phone LIKE '%1401'`)
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	send(t, nil, s.base, "PUT", "/api/v1/groups/bakers/moderators/"+itoa(ids[0]), map[string]any{"moderator": true}, owner, nil).want(t, 204)
	fan := viewerLogin(t, s.base, "demo", "13900001401")
	send(t, nil, s.base, "POST", "/api/v1/group-comments/"+itoa(cid.ID)+"/hide", nil, fan.Token, nil).want(t, 204)
	var comments struct{ Comments []struct{ Text string } }
	send(t, nil, s.base, "GET", "/api/v1/group-posts/"+itoa(post.ID)+"/comments", nil, "", nil).want(t, 200).decode(t, &comments)
	for _, c := range comments.Comments {
		if strings.Contains(c.Text, "微信") {
			t.Fatalf("hidden comment still listed: %+v", comments.Comments)
		}
	}

	// A group-only live: the room sells to the group's members only.
	send(t, nil, s.base, "PUT", "/api/v1/rooms/demo/audience", map[string]any{"segment": map[string]any{"kind": "fan_group", "group_id": grp.Group.ID}}, owner, nil).want(t, 200)
	body := s.pickup([2]int64{s.sku1, 1})
	body["room_id"] = 1
	send(t, nil, s.base, "POST", "/api/v1/orders", body, outsider.Token, map[string]string{"Idempotency-Key": "gl-1"}).wantProblem(t, 403, "segment_required")
	send(t, nil, s.base, "POST", "/api/v1/orders", body, fan.Token, map[string]string{"Idempotency-Key": "gl-2"}).want(t, 201)
}
