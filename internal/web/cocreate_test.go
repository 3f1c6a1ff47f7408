package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/testkit"
)

type draftView struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	Voters    int64  `json:"voters"`
	RoomID    int64  `json:"room_id"`
	GroupID   int64  `json:"group_id"`
	PresaleID int64  `json:"presale_id"`
	Groups    []struct {
		ID      int64  `json:"id"`
		Name    string `json:"name"`
		Votes   int64  `json:"votes"`
		Options []struct {
			ID    int64  `json:"id"`
			Text  string `json:"text"`
			Votes int64  `json:"votes"`
		} `json:"options"`
	} `json:"option_groups"`
}

type draftVote struct {
	Draft draftView `json:"draft"`
	Mine  []int64   `json:"mine"`
}

// openDraft opens the demo shop's co-creation draft 青稞冲饮粉 (口味 ×3,
// 规格 ×2) with the extra fields given.
func openDraft(t *testing.T, s *demoShop, extra map[string]any) draftView {
	t.Helper()
	in := map[string]any{"name": "青稞冲饮粉", "story": "高原青稞和工厂一起做成即冲即饮的粉", "origin": "青海海北",
		"option_groups": []map[string]any{{"name": "口味", "options": []string{"原味", "红枣", "黑芝麻"}}, {"name": "规格", "options": []string{"500g 袋装", "30g×10 条"}}}}
	for k, v := range extra {
		in[k] = v
	}
	var d draftView
	send(t, nil, s.base, "POST", "/api/v1/cocreate-drafts", in, testkit.OwnerToken, nil).want(t, 201).decode(t, &d)
	return d
}

// TestCocreateAPI: the co-creation routes answer problem+json with their
// stable codes: bad drafts, votes without login or on an unknown option,
// a changed vote, another shop, the pre-sale before any vote, after it
// (201 with the new product) and a second time.
func TestCocreateAPI(t *testing.T) {
	s := newShop(t, "-rate-limits=false")
	owner := testkit.OwnerToken
	post := func(path string, body any, token string) result {
		return send(t, nil, s.base, "POST", path, body, token, nil)
	}
	post("/api/v1/cocreate-drafts", map[string]any{"name": "", "option_groups": []any{}}, owner).wantProblem(t, 400, "cocreate_name_invalid")
	post("/api/v1/cocreate-drafts", map[string]any{"name": "一个", "option_groups": []map[string]any{{"name": "口味", "options": []string{"只有一个"}}}}, owner).wantProblem(t, 400, "cocreate_options_invalid")
	post("/api/v1/cocreate-drafts", map[string]any{"name": "一个", "images": []string{"https://evil.example/x.jpg"}, "option_groups": []map[string]any{{"name": "口味", "options": []string{"甲", "乙"}}}}, owner).wantProblem(t, 400, "cocreate_images_invalid")
	post("/api/v1/cocreate-drafts", map[string]any{"name": "一个", "closes_at": time.Now().Add(-time.Hour), "option_groups": []map[string]any{{"name": "口味", "options": []string{"甲", "乙"}}}}, owner).wantProblem(t, 400, "cocreate_closes_invalid")
	post("/api/v1/cocreate-drafts", map[string]any{"name": "一个", "group_id": 999999, "option_groups": []map[string]any{{"name": "口味", "options": []string{"甲", "乙"}}}}, owner).wantProblem(t, 404, "not_found")
	d := openDraft(t, s, map[string]any{"trial_id": 7})
	path := "/api/v1/cocreate-drafts/" + itoa(d.ID)
	flavour, size := d.Groups[0].Options, d.Groups[1].Options

	post(path+"/votes", map[string]any{"option_id": flavour[0].ID}, "").wantProblem(t, 401, "login_required")
	post(path+"/votes", map[string]any{"option_id": flavour[0].ID}, owner).wantProblem(t, 403, "customers_only")
	fan := viewerLogin(t, s.base, "demo", "13900002101")
	post(path+"/votes", map[string]any{"option_id": 999999}, fan.Token).wantProblem(t, 400, "cocreate_option_unknown")
	post(path+"/presale", map[string]any{"price_fen": 3990, "moq": 3, "deadline": time.Now().Add(time.Hour), "ship_by": time.Now().Add(240 * time.Hour)}, owner).wantProblem(t, 409, "cocreate_no_winner")

	var v draftVote
	post(path+"/votes", map[string]any{"option_id": flavour[0].ID}, fan.Token).want(t, 200).decode(t, &v)
	post(path+"/votes", map[string]any{"option_id": size[1].ID}, fan.Token).want(t, 200).decode(t, &v)
	post(path+"/votes", map[string]any{"option_id": flavour[1].ID}, fan.Token).want(t, 200).decode(t, &v) // changes the flavour
	if v.Draft.Voters != 1 || v.Draft.Groups[0].Votes != 1 || v.Draft.Groups[0].Options[1].Votes != 1 || v.Draft.Groups[0].Options[0].Votes != 0 || len(v.Mine) != 2 || v.Mine[0] != flavour[1].ID || v.Mine[1] != size[1].ID {
		t.Fatalf("after a changed vote: %+v", v)
	}
	second := viewerLogin(t, s.base, "demo", "13900002102")
	post(path+"/votes", map[string]any{"option_id": flavour[1].ID}, second.Token).want(t, 200)
	var got draftVote
	send(t, nil, s.base, "GET", path, nil, fan.Token, nil).want(t, 200).decode(t, &got)
	if got.Draft.Voters != 2 || got.Draft.Groups[0].Options[1].Votes != 2 || len(got.Mine) != 2 {
		t.Fatalf("GET as the fan: %+v", got)
	}
	send(t, nil, s.base, "GET", path, nil, "", nil).want(t, 200).decode(t, &got)
	if len(got.Mine) != 0 || got.Draft.Voters != 2 {
		t.Fatalf("GET anonymous: %+v", got)
	}

	// another shop sees nothing of it
	otherOwner := otherShopOwner(t, s)
	if r := send(t, nil, s.base, "GET", "/api/v1/cocreate-drafts", nil, otherOwner, nil).want(t, 200); strings.Contains(string(r.Body), "青稞冲饮粉") {
		t.Fatalf("another shop lists the draft: %s", r.Body)
	}
	send(t, nil, s.base, "GET", "/api/v1/cocreate-drafts", nil, owner, nil).want(t, 200)
	post(path+"/close", nil, otherOwner).wantProblem(t, 404, "not_found")
	post(path+"/push", map[string]any{"room": "demo"}, otherOwner).wantProblem(t, 404, "not_found")
	post(path+"/push", map[string]any{"room": "no-such-room"}, owner).wantProblem(t, 404, "not_found")
	post("/api/v1/rooms/demo/group-card", map[string]any{"group": "no-such-group"}, owner).wantProblem(t, 404, "not_found")

	// the winner: 红枣 (2 votes) and 30g×10 条 (1 vote, 500g none)
	post(path+"/presale", map[string]any{"price_fen": 0, "moq": 3, "deadline": time.Now().Add(time.Hour), "ship_by": time.Now().Add(240 * time.Hour)}, owner).wantProblem(t, 400, "presale_price_invalid")
	post(path+"/presale", map[string]any{"price_fen": 3990, "moq": 3, "deadline": time.Now().Add(time.Hour), "ship_by": time.Now().Add(240 * time.Hour), "storage": "warm"}, owner).wantProblem(t, 400, "invalid_storage")
	var made struct {
		Draft   draftView   `json:"draft"`
		Presale presaleView `json:"presale"`
	}
	post(path+"/presale", map[string]any{"price_fen": 3990, "moq": 3, "deadline": time.Now().Add(time.Hour), "ship_by": time.Now().Add(240 * time.Hour), "supplier": "海北青稞加工厂"}, owner).want(t, 201).decode(t, &made)
	if made.Draft.Status != "closed" || made.Draft.PresaleID != made.Presale.ID || made.Presale.MOQ != 3 {
		t.Fatalf("pre-sale from the draft: %+v", made)
	}
	if r := send(t, nil, s.base, "GET", "/api/v1/presales/"+itoa(made.Presale.ID), nil, "", nil).want(t, 200); !strings.Contains(string(r.Body), "青稞冲饮粉 · 红枣 · 30g×10 条") || !strings.Contains(string(r.Body), "粉丝共创款 青稞冲饮粉") {
		t.Fatalf("the pre-sale's product is not the winning combination: %s", r.Body)
	}
	post(path+"/presale", map[string]any{"price_fen": 3990, "moq": 3, "deadline": time.Now().Add(time.Hour), "ship_by": time.Now().Add(240 * time.Hour)}, owner).wantProblem(t, 409, "cocreate_presale_exists")
	post(path+"/votes", map[string]any{"option_id": flavour[0].ID}, fan.Token).wantProblem(t, 409, "cocreate_closed")
}

// otherShopOwner creates a second shop and logs its owner in.
func otherShopOwner(t *testing.T, s *demoShop) string {
	t.Helper()
	other := &identity.Merchant{Slug: "rival", Name: "对手超市 Rival"}
	if err := s.m.App.Users.CreateMerchant(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	hash, err := identity.HashPassword("rival-password")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.m.App.Users.CreateStaff(t.Context(), &identity.Staff{MerchantID: other.ID, Username: "rival-owner", Name: "对手店主", Role: identity.RoleOwner, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	return staffLogin(t, s.base, "rival-owner", "rival-password").Token
}
