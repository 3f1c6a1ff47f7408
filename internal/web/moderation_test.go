package web_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/testkit"
)

// comment posts as a viewer, waiting out the per-viewer limits (429: the
// minimum gap between comments, 2 comments/s) but nothing else.
func comment(t *testing.T, base, slug, token, text string) result {
	t.Helper()
	var r result
	testkit.WaitFor(t, "comment "+text, 10*time.Second, func() bool {
		r = send(t, nil, base, "POST", "/api/v1/rooms/"+slug+"/comments", map[string]any{"text": text}, token, nil)
		return r.Status != http.StatusTooManyRequests
	})
	return r
}

func commentID(t *testing.T, r result) int64 {
	t.Helper()
	if r.Status != 201 {
		t.Fatalf("comment: %d %s", r.Status, r.Body)
	}
	var c struct {
		ID   int64  `json:"id"`
		Body string `json:"body"`
	}
	r.decode(t, &c)
	return c.ID
}

// TestModeration: a moderator keeps the comments clean through the API —
// the shop's word list (import, export, block, mask), contact details
// refused, mutes with expiry and unmute, a ban across the shop's rooms,
// viewers' reports settled once per comment, the automatic mute after
// repeated spam — and cannot sell: no cards, prices, flash sales or orders.
func TestModeration(t *testing.T) {
	s := newShop(t)
	base, owner := s.base, testkit.OwnerToken
	if r := send(t, nil, base, "POST", "/api/v1/staff", map[string]any{"username": "mod1", "name": "场控小王", "role": "moderator", "password": "Moderate-2468"}, owner, nil); r.Status != 201 {
		t.Fatalf("moderator: %d %s", r.Status, r.Body)
	}
	mod := staffLogin(t, base, "mod1", "Moderate-2468").Token
	a := viewerLogin(t, base, "demo", "13900000021")
	b := viewerLogin(t, base, "demo", "13900000022")

	t.Run("ModeratorCannotSell", func(t *testing.T) {
		send(t, nil, base, "POST", "/api/v1/rooms/demo/pin", map[string]any{"product_id": 1}, mod, nil).wantProblem(t, 403, "forbidden")
		send(t, nil, base, "GET", "/api/v1/orders", nil, mod, nil).wantProblem(t, 403, "forbidden")
		send(t, nil, base, "POST", "/api/v1/skus/1/price", map[string]any{"price_fen": 1}, mod, nil).wantProblem(t, 403, "forbidden")
		send(t, nil, base, "POST", "/api/v1/rooms/demo/flash-sales", map[string]any{}, mod, nil).wantProblem(t, 403, "forbidden")
		if r := send(t, nil, base, "GET", "/admin", nil, mod, nil); r.Status != 403 {
			t.Fatalf("admin console for the moderator: %d", r.Status)
		}
		if r := send(t, nil, base, "GET", "/studio", nil, mod, nil); r.Status != 200 || !strings.Contains(string(r.Body), "moderator-view") {
			t.Fatalf("studio for the moderator: %d, moderator view %v", r.Status, strings.Contains(string(r.Body), "moderator-view"))
		}
		if r := send(t, nil, base, "GET", "/api/v1/rooms/demo", nil, mod, nil); strings.Contains(string(r.Body), "stream_key") {
			t.Fatal("the moderator sees the stream key")
		}
	})

	t.Run("WordList", func(t *testing.T) {
		r := send(t, nil, base, "PUT", "/api/v1/moderation/words", "# 本店词库\n私聊\n傻,mask\n", mod, map[string]string{"Content-Type": "text/plain; charset=utf-8"})
		if r.Status != 200 || !strings.Contains(string(r.Body), `"count":2`) {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		csv := send(t, nil, base, "GET", "/api/v1/moderation/words?format=csv", nil, mod, nil)
		if csv.Status != 200 || string(csv.Body) != "term,action\n傻,mask\n私聊,block\n" || !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("export: %d %q", csv.Status, csv.Body)
		}
		// what was exported imports back as the same list
		if r := send(t, nil, base, "PUT", "/api/v1/moderation/words", string(csv.Body), mod, map[string]string{"Content-Type": "text/csv"}); r.Status != 200 || !strings.Contains(string(r.Body), `"count":2`) {
			t.Fatalf("re-import: %d %s", r.Status, r.Body)
		}
		send(t, nil, base, "PUT", "/api/v1/moderation/words", map[string]any{"words": []map[string]string{{"term": "x", "action": "delete"}}}, mod, nil).wantProblem(t, 400, "invalid_word")
		send(t, nil, base, "GET", "/api/v1/moderation/words?format=xml", nil, mod, nil).wantProblem(t, 400, "invalid_format")
		comment(t, base, "demo", a.Token, "可以私 聊吗").wantProblem(t, 400, "comment_blocked")
		var c struct{ Body string }
		comment(t, base, "demo", a.Token, "你傻吗哈哈").decode(t, &c)
		if c.Body != "你＊吗哈哈" {
			t.Fatalf("masked comment %q", c.Body)
		}
		// another shop's list is its own: the words are not the demo's elsewhere
		var w struct{ Words []struct{ Term string } }
		send(t, nil, base, "GET", "/api/v1/moderation/words", nil, owner, nil).decode(t, &w)
		if len(w.Words) != 2 {
			t.Fatalf("owner sees %d words", len(w.Words))
		}
	})

	t.Run("ContactDetails", func(t *testing.T) {
		comment(t, base, "demo", a.Token, "有事加我 138 1234 5678").wantProblem(t, 400, "comment_contact")
		comment(t, base, "demo", a.Token, "vx：shop888 更便宜").wantProblem(t, 400, "comment_contact")
		if r := comment(t, base, "demo", a.Token, "买2盒送1盒吗 29.9元"); r.Status != 201 {
			t.Fatalf("prices and quantities are not contact details: %d %s", r.Status, r.Body)
		}
	})

	var muteID int64
	t.Run("MuteWithExpiryAndUnmute", func(t *testing.T) {
		id := commentID(t, comment(t, base, "demo", a.Token, "草莓甜吗"))
		send(t, nil, base, "POST", "/api/v1/rooms/demo/comments/"+itoa(id)+"/mute", map[string]any{"minutes": 99999}, mod, nil).wantProblem(t, 400, "invalid_minutes")
		r := send(t, nil, base, "POST", "/api/v1/rooms/demo/comments/"+itoa(id)+"/mute", map[string]any{"minutes": 10, "reason": "刷屏"}, mod, nil)
		var res struct {
			ID       int64
			Scope    string
			Until    *time.Time
			RoomSlug string `json:"room_slug"`
			By       string
		}
		if r.Status != 201 {
			t.Fatalf("mute: %d %s", r.Status, r.Body)
		}
		r.decode(t, &res)
		muteID = res.ID
		if res.Scope != "room" || res.Until == nil || res.Until.Sub(time.Now()) < 9*time.Minute || res.Until.Sub(time.Now()) > 11*time.Minute || res.RoomSlug != "demo" || res.By != "场控小王" {
			t.Fatalf("mute %+v", res)
		}
		var recent struct{ Comments []struct{ ID int64 } }
		send(t, nil, base, "GET", "/api/v1/rooms/demo/comments", nil, "", nil).decode(t, &recent)
		for _, c := range recent.Comments {
			if c.ID == id {
				t.Fatal("the muted viewer's comment is still shown")
			}
		}
		p := comment(t, base, "demo", a.Token, "为什么不让我说话")
		p.wantProblem(t, 403, "banned")
		if !strings.Contains(string(p.Body), "至") {
			t.Fatalf("the refusal does not say until when: %s", p.Body)
		}
		if r := comment(t, base, "clearance", a.Token, "这场几点开始"); r.Status != 201 {
			t.Fatalf("a room mute holds in another room: %d %s", r.Status, r.Body)
		}
		var list struct{ Restrictions []struct{ ID int64 } }
		send(t, nil, base, "GET", "/api/v1/moderation/restrictions", nil, mod, nil).decode(t, &list)
		if len(list.Restrictions) != 1 || list.Restrictions[0].ID == 0 {
			t.Fatalf("active restrictions %+v", list)
		}
		if r := send(t, nil, base, "DELETE", "/api/v1/moderation/restrictions/"+itoa(muteID), nil, mod, nil); r.Status != 200 || !strings.Contains(string(r.Body), "lifted_at") {
			t.Fatalf("unmute: %d %s", r.Status, r.Body)
		}
		if r := comment(t, base, "demo", a.Token, "谢谢主播"); r.Status != 201 {
			t.Fatalf("after unmute: %d %s", r.Status, r.Body)
		}
	})

	t.Run("BanAcrossRooms", func(t *testing.T) {
		id := commentID(t, comment(t, base, "demo", a.Token, "再来一条"))
		if r := send(t, nil, base, "POST", "/api/v1/rooms/demo/comments/"+itoa(id)+"/mute", map[string]any{"scope": "merchant"}, mod, nil); r.Status != 201 || !strings.Contains(string(r.Body), `"scope":"merchant"`) {
			t.Fatalf("ban: %d %s", r.Status, r.Body)
		}
		for _, slug := range []string{"demo", "clearance"} {
			comment(t, base, slug, a.Token, "还能说吗 "+slug).wantProblem(t, 403, "banned")
		}
		var list struct {
			Restrictions []struct {
				ID    int64
				Scope string
			}
		}
		send(t, nil, base, "GET", "/api/v1/moderation/restrictions", nil, mod, nil).decode(t, &list)
		if len(list.Restrictions) != 1 || list.Restrictions[0].Scope != "merchant" {
			t.Fatalf("restrictions %+v", list)
		}
		send(t, nil, base, "DELETE", "/api/v1/moderation/restrictions/"+itoa(list.Restrictions[0].ID), nil, owner, nil)
		if r := comment(t, base, "clearance", a.Token, "解封了"); r.Status != 201 {
			t.Fatalf("after lifting the ban: %d %s", r.Status, r.Body)
		}
	})

	t.Run("Reports", func(t *testing.T) {
		id := commentID(t, comment(t, base, "demo", a.Token, "去别家买更便宜"))
		path := "/api/v1/rooms/demo/comments/" + itoa(id) + "/report"
		send(t, nil, base, "POST", path, map[string]any{"reason": "nonsense"}, b.Token, nil).wantProblem(t, 400, "invalid_report_reason")
		if r := send(t, nil, base, "POST", path, map[string]any{"reason": "spam", "note": "引流"}, b.Token, nil); r.Status != 201 {
			t.Fatalf("report: %d %s", r.Status, r.Body)
		}
		send(t, nil, base, "POST", path, map[string]any{"reason": "abuse"}, b.Token, nil).wantProblem(t, 409, "already_reported")
		send(t, nil, base, "POST", path, map[string]any{"reason": "spam"}, a.Token, nil).wantProblem(t, 409, "cannot_report_own")
		send(t, nil, base, "POST", path, map[string]any{"reason": "spam"}, mod, nil).wantProblem(t, 403, "customers_only")
		var reps struct {
			Reports []struct {
				ID          int64
				CommentID   int64  `json:"comment_id"`
				CommentBody string `json:"comment_body"`
				Note        string
			}
		}
		send(t, nil, base, "GET", "/api/v1/moderation/reports?status=open", nil, mod, nil).decode(t, &reps)
		if len(reps.Reports) != 1 || reps.Reports[0].CommentID != id || reps.Reports[0].CommentBody != "去别家买更便宜" || reps.Reports[0].Note != "引流" {
			t.Fatalf("open reports %+v", reps)
		}
		rid := itoa(reps.Reports[0].ID)
		send(t, nil, base, "POST", "/api/v1/moderation/reports/"+rid, map[string]any{"decision": "maybe"}, mod, nil).wantProblem(t, 400, "invalid_decision")
		if r := send(t, nil, base, "POST", "/api/v1/moderation/reports/"+rid, map[string]any{"decision": "uphold"}, mod, nil); r.Status != 200 || !strings.Contains(string(r.Body), `"status":"upheld"`) {
			t.Fatalf("uphold: %d %s", r.Status, r.Body)
		}
		var recent struct{ Comments []struct{ ID int64 } }
		send(t, nil, base, "GET", "/api/v1/rooms/demo/comments", nil, "", nil).decode(t, &recent)
		for _, c := range recent.Comments {
			if c.ID == id {
				t.Fatal("the upheld report's comment is still shown")
			}
		}
		send(t, nil, base, "GET", "/api/v1/moderation/reports?status=open", nil, mod, nil).decode(t, &reps)
		if len(reps.Reports) != 0 {
			t.Fatalf("still open: %+v", reps)
		}
	})

	t.Run("StaffCannotBeMuted", func(t *testing.T) {
		r := send(t, nil, base, "POST", "/api/v1/rooms/demo/comments", map[string]any{"text": "欢迎大家"}, owner, map[string]string{"X-ShelfLive-As": "staff"})
		id := commentID(t, r)
		send(t, nil, base, "POST", "/api/v1/rooms/demo/comments/"+itoa(id)+"/mute", map[string]any{"minutes": 10}, mod, nil).wantProblem(t, 409, "cannot_ban_staff")
	})

	t.Run("AutoMuteAfterRepeatedSpam", func(t *testing.T) {
		for i := range 5 {
			comment(t, base, "demo", b.Token, "便宜货看这里 www.spam"+strconv.Itoa(i)+".com").wantProblem(t, 400, "comment_link")
		}
		comment(t, base, "demo", b.Token, "我只是想问问价格").wantProblem(t, 403, "banned")
		var list struct {
			Restrictions []struct {
				Until  *time.Time
				Reason string
			}
		}
		send(t, nil, base, "GET", "/api/v1/moderation/restrictions", nil, mod, nil).decode(t, &list)
		if len(list.Restrictions) != 1 || list.Restrictions[0].Until == nil || !strings.Contains(list.Restrictions[0].Reason, "auto") {
			t.Fatalf("auto mute %+v", list)
		}
	})

	t.Run("Audited", func(t *testing.T) {
		r := send(t, nil, base, "GET", "/api/v1/audit", nil, owner, nil)
		for _, action := range []string{"moderation.words", "moderation.mute", "moderation.unmute", "moderation.ban", "moderation.report.uphold", "moderation.auto_mute"} {
			if !strings.Contains(string(r.Body), `"`+action+`"`) {
				t.Errorf("audit log lacks %s", action)
			}
		}
	})
}
