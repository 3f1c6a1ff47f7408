package web_test

import (
	"strings"

	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelflive/shelflive/internal/assist/assisttest"
	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/testkit"
)

type assistantView struct {
	Mode      string `json:"mode"`
	Questions []struct {
		CommentID  int64  `json:"comment_id"`
		Text       string `json:"text"`
		ProductID  int64  `json:"product_id"`
		Suggestion struct {
			Text   string `json:"text"`
			Source string `json:"source"`
			Cites  []struct {
				Key, Value, Source string
			} `json:"cites"`
			Compliance struct {
				Verdict string `json:"verdict"`
			} `json:"compliance"`
		} `json:"suggestion"`
	} `json:"questions"`
	TalkingPoints []struct {
		ProductID int64 `json:"product_id"`
		Points    []struct {
			Text string `json:"text"`
		} `json:"points"`
	} `json:"talking_points"`
	Sentiment []struct {
		Pos, Neg, Neu int
	} `json:"sentiment"`
}

// TestAssistant: a viewer's price question shows up in the studio's
// assistant with an answer citing the price, worded by the configured
// model (a fake OpenAI-compatible server over real HTTP) and reviewed;
// without a model the node answers from templates.
func TestAssistant(t *testing.T) {
	fake := assisttest.StartFakeLLM(t, "sk-assist")
	m := testkit.StartNode(t, "", "-llm-url", fake.BaseURL(), "-llm-model", "fake-chat", "-llm-key", "sk-assist")
	base, owner := m.URL(), testkit.OwnerToken
	var room struct {
		Room struct {
			ProductIDs []int64 `json:"product_ids"`
		} `json:"room"`
	}
	send(t, nil, base, "GET", "/api/v1/rooms/demo", nil, "", nil).decode(t, &room)
	pid := room.Room.ProductIDs[0]
	if r := send(t, nil, base, "POST", "/api/v1/rooms/demo/pin", map[string]any{"product_id": pid}, owner, nil); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	viewer := viewerLogin(t, base, "demo", "13900000941")
	if r := send(t, nil, base, "POST", "/api/v1/rooms/demo/comments", map[string]any{"text": "这个多少钱？"}, viewer.Token, nil); r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var v assistantView
	var last result
	testkit.WaitFor(t, "question in the assistant", 60*time.Second, func() bool {
		last = send(t, nil, base, "GET", "/api/v1/rooms/demo/assistant", nil, owner, nil)
		if last.Status != 200 {
			return false // the word dictionary may still be loading (429 insight_loading)
		}
		last.decode(t, &v)
		return len(v.Questions) > 0
	})
	q := v.Questions[0]
	if v.Mode != "llm" || q.Text != "这个多少钱？" || q.ProductID != pid || q.Suggestion.Source != "llm" || q.Suggestion.Compliance.Verdict == "violation" {
		t.Fatalf("%+v", v)
	}
	if len(q.Suggestion.Cites) != 1 || q.Suggestion.Cites[0].Key != "price" || !strings.Contains(q.Suggestion.Text, q.Suggestion.Cites[0].Value) {
		t.Fatalf("answer does not cite the price: %+v", q.Suggestion)
	}
	if len(v.TalkingPoints) == 0 || v.TalkingPoints[0].ProductID != pid || len(v.TalkingPoints[0].Points) < 3 {
		t.Fatalf("talking points %+v", v.TalkingPoints)
	}
	if len(v.Sentiment) == 0 {
		t.Fatalf("no sentiment: %+v", v.Sentiment)
	}
	calls := len(fake.Requests())
	send(t, nil, base, "GET", "/api/v1/rooms/demo/assistant", nil, owner, nil).decode(t, &v)
	if len(fake.Requests()) != calls {
		t.Fatal("a refresh asked the model again")
	}

	// A model answer that breaks the advertising law is never shown.
	fake.Reply = func(string) string { return "这款草莓能降血糖，全网最低价[1]" }
	var s struct {
		Text, Source, Fallback string
	}
	send(t, nil, base, "POST", "/api/v1/rooms/demo/assistant/suggest", map[string]any{"question": "多少钱一盒"}, owner, nil).decode(t, &s)
	if s.Source != "template" || !strings.Contains(s.Fallback, "broke") || strings.Contains(s.Text, "降血糖") {
		t.Fatalf("%+v", s)
	}
	send(t, nil, base, "POST", "/api/v1/rooms/demo/assistant/suggest", map[string]any{"question": " "}, owner, nil).wantProblem(t, 400, "invalid_question")
	send(t, nil, base, "POST", "/api/v1/rooms/demo/assistant/suggest", map[string]any{"question": "多少钱", "product_id": 999999}, owner, nil).wantProblem(t, 400, "unknown_product")

	// After the host marks it answered, it leaves the list.
	if r := send(t, nil, base, "POST", "/api/v1/rooms/demo/questions/"+itoa(q.CommentID)+"/answered", nil, owner, nil); r.Status >= 300 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	send(t, nil, base, "GET", "/api/v1/rooms/demo/assistant", nil, owner, nil).decode(t, &v)
	for _, x := range v.Questions {
		if x.CommentID == q.CommentID {
			t.Fatal("answered question still listed")
		}
	}
}

func TestAssistantOffline(t *testing.T) {
	m := testkit.StartNode(t, "")
	base, owner := m.URL(), testkit.OwnerToken
	var s struct {
		Text, Source string
		Cites        []struct{ Key string }
	}
	var room struct {
		Room struct {
			ProductIDs []int64 `json:"product_ids"`
		} `json:"room"`
	}
	send(t, nil, base, "GET", "/api/v1/rooms/demo", nil, "", nil).decode(t, &room)
	send(t, nil, base, "POST", "/api/v1/rooms/demo/assistant/suggest", map[string]any{"question": "保质期多久？能到店自提吗", "product_id": room.Room.ProductIDs[0]}, owner, nil).decode(t, &s)
	keys := []string{}
	for _, c := range s.Cites {
		keys = append(keys, c.Key)
	}
	if s.Source != "template" || !strings.Contains(strings.Join(keys, ","), "expires") || !strings.Contains(strings.Join(keys, ","), "pickup") {
		t.Fatalf("%+v", s)
	}
}

// TestAssistantStudioBrowser: the studio (1440×900) shows the open question
// with its cited answer; "发送回复" posts it as the host and closes it.
func TestAssistantStudioBrowser(t *testing.T) {
	browser := testkit.Browser(t)
	fake := assisttest.StartFakeLLM(t, "sk-ui")
	m := testkit.StartNode(t, "", "-llm-url", fake.BaseURL(), "-llm-model", "fake-chat", "-llm-key", "sk-ui")
	base, owner := m.URL(), testkit.OwnerToken
	var room struct {
		Room struct {
			ProductIDs []int64 `json:"product_ids"`
		} `json:"room"`
	}
	send(t, nil, base, "GET", "/api/v1/rooms/demo", nil, "", nil).decode(t, &room)
	send(t, nil, base, "POST", "/api/v1/rooms/demo/pin", map[string]any{"product_id": room.Room.ProductIDs[0]}, owner, nil)
	for i, phone := range []string{"13900000951", "13900000952"} {
		v := viewerLogin(t, base, "demo", phone)
		text := []string{"这个多少钱？", "太好吃了，已经回购三次"}[i]
		if r := send(t, nil, base, "POST", "/api/v1/rooms/demo/comments", map[string]any{"text": text}, v.Token, nil); r.Status != 201 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	}
	tab := testkit.NewTab(t, browser, 120*time.Second)
	tab.PollEvery, tab.WaitFor = 100*time.Millisecond, 90*time.Second
	tab.StaffOpen(base, "host", demo.Password, "/studio?room=demo", "#lineup li")
	ctx, do, wait := tab.Ctx, tab.Do, tab.Wait
	wait("assistant question", `document.querySelectorAll("#assist-questions li .fact-chip").length >= 1 && document.querySelectorAll("#assist-points li").length >= 3`)
	testkit.Screenshot(t, ctx, "studio-assistant")
	do("send reply", chromedp.Click(chromedp.CSS("#assist-questions li .btn-primary")))
	wait("answered", `!document.querySelector("#assist-questions") && [...document.querySelectorAll("#st-comments li.host")].some((li) => li.textContent.includes("¥"))`)
}
