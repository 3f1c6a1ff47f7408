package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/testkit"
)

type pollView struct {
	ID      int64  `json:"id"`
	Status  string `json:"status"`
	Votes   int64  `json:"votes"`
	Options []struct {
		ID    int64  `json:"id"`
		Text  string `json:"text"`
		Votes int64  `json:"votes"`
	} `json:"options"`
}

// TestPollInTheRoom: the host asks; a viewer on a phone sees the card,
// taps an answer, logs in with a code and is counted; two more viewers
// vote through the API and the phone's bars move without a reload; a
// second vote and a vote after closing are refused; the results stay.
func TestPollInTheRoom(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	send(t, nil, s.base, "POST", "/api/v1/rooms/demo/polls", map[string]any{"question": "下一款上什么？", "options": []string{"桂花乌龙"}}, owner, nil).wantProblem(t, 400, "poll_options_invalid")
	var poll pollView
	send(t, nil, s.base, "POST", "/api/v1/rooms/demo/polls", map[string]any{"question": "下一款上什么口味？", "options": []string{"桂花乌龙", "白桃乌龙", "都想要"}, "minutes": 10}, owner, nil).want(t, 201).decode(t, &poll)
	send(t, nil, s.base, "POST", "/api/v1/rooms/demo/polls", map[string]any{"question": "再问一个", "options": []string{"好", "不好"}}, owner, nil).wantProblem(t, 409, "poll_already_open")

	ctx := testkit.NewContext(t, testkit.Browser(t), 90*time.Second)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(s.base+"/live/demo"),
		chromedp.WaitVisible(chromedp.CSS(`#poll button[data-option="`+itoa(poll.Options[1].ID)+`"]`)),
		chromedp.Click(chromedp.CSS(`#poll button[data-option="`+itoa(poll.Options[1].ID)+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#login-phone")),
		chromedp.SendKeys(chromedp.CSS("#login-phone"), "13900000951"),
		chromedp.Click(chromedp.CSS("#otp-send")),
		chromedp.WaitVisible(chromedp.CSS("#otp-dev")),
	)
	if err != nil {
		t.Fatal(err)
	}
	dev, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#otp-dev").textContent`))
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#login-code"), dev[len(dev)-6:]),
		chromedp.Click(chromedp.CSS("#login-go")),
		chromedp.WaitVisible(chromedp.CSS("#poll .poll-opt.mine")),
	); err != nil {
		t.Fatal(err)
	}
	for i, phone := range []string{"13900000952", "13900000953"} {
		v := viewerLogin(t, s.base, "demo", phone)
		send(t, nil, s.base, "POST", "/api/v1/polls/"+itoa(poll.ID)+"/vote", map[string]any{"option_id": poll.Options[i].ID}, v.Token, nil).want(t, 200)
		if i == 0 {
			send(t, nil, s.base, "POST", "/api/v1/polls/"+itoa(poll.ID)+"/vote", map[string]any{"option_id": poll.Options[2].ID}, v.Token, nil).wantProblem(t, 409, "poll_already_voted")
		}
	}
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.querySelector("#poll-count").textContent.startsWith("3")`, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#poll").textContent`))
		t.Fatalf("the phone's poll did not reach 3 votes: %q (%v)", text, err)
	}
	card, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#poll").textContent`))
	if !strings.Contains(card, "33%") || !strings.Contains(card, "白桃乌龙") {
		t.Fatalf("poll card after 3 votes: %q", card)
	}
	testkit.Screenshot(t, ctx, "room-poll")

	var closed pollView
	send(t, nil, s.base, "POST", "/api/v1/polls/"+itoa(poll.ID)+"/close", nil, owner, nil).want(t, 200).decode(t, &closed)
	if closed.Status != "closed" || closed.Votes != 3 || closed.Options[1].Votes != 2 || closed.Options[0].Votes != 1 {
		t.Fatalf("closed poll %+v", closed)
	}
	late := viewerLogin(t, s.base, "demo", "13900000954")
	send(t, nil, s.base, "POST", "/api/v1/polls/"+itoa(poll.ID)+"/vote", map[string]any{"option_id": poll.Options[0].ID}, late.Token, nil).wantProblem(t, 409, "poll_closed")
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.querySelector("#poll").textContent.includes("投票结果")`, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("the phone does not show the result after closing: %v", err)
	}
	var list struct {
		Polls []pollView `json:"polls"`
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo/polls", nil, "", nil).want(t, 200).decode(t, &list)
	if len(list.Polls) != 1 || list.Polls[0].Votes != 3 {
		t.Fatalf("kept results %+v", list.Polls)
	}
}
