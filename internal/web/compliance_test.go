package web_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/testkit"
)

type findingView struct {
	Rule        string  `json:"rule"`
	Law         string  `json:"law"`
	LawEN       string  `json:"law_en"`
	Span        [2]int  `json:"span"`
	Severity    string  `json:"severity"`
	Explanation string  `json:"explanation"`
	Suggestion  string  `json:"suggestion"`
	Replacement *string `json:"replacement"`
}

type checkResult struct {
	Verdict  string        `json:"verdict"`
	Findings []findingView `json:"findings"`
}

func TestComplianceCheck(t *testing.T) {
	m := testkit.StartNode(t, "")
	base, owner := m.URL(), testkit.OwnerToken
	r := send(t, nil, base, "POST", "/api/v1/compliance/check", map[string]any{
		"texts": []string{"全网最低价 国家级 治疗糖尿病", "有机蔬菜", "最佳食用期：3天"}, "context": "title"}, owner, nil)
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var out struct {
		Results      []checkResult `json:"results"`
		RulesVersion string        `json:"rules_version"`
	}
	r.decode(t, &out)
	if len(out.Results) != 3 || out.RulesVersion == "" {
		t.Fatalf("%s", r.Body)
	}
	if got := []string{out.Results[0].Verdict, out.Results[1].Verdict, out.Results[2].Verdict}; strings.Join(got, ",") != "violation,needs_evidence,ok" {
		t.Fatalf("verdicts %v: %s", got, r.Body)
	}
	rules := map[string][2]int{}
	for _, f := range out.Results[0].Findings {
		if f.Law == "" || f.LawEN == "" || f.Explanation == "" || f.Suggestion == "" || f.Severity == "" {
			t.Errorf("incomplete finding %+v", f)
		}
		rules[f.Rule] = f.Span
	}
	if rules["ad28-false"] != [2]int{0, 5} || rules["ad9-absolute"] != [2]int{6, 9} || rules["ad17-treatment"] != [2]int{10, 12} {
		t.Fatalf("rules/spans %v", rules)
	}

	// Product type changes the verdict of a health function claim.
	var ht struct {
		Results []checkResult `json:"results"`
	}
	send(t, nil, base, "POST", "/api/v1/compliance/check", map[string]any{"texts": []string{"增强免疫力"}, "context": "comment", "product_type": "health_food"}, owner, nil).decode(t, &ht)
	if ht.Results[0].Verdict != "needs_evidence" {
		t.Fatalf("%+v", ht)
	}
	// An English-only health-food text needs the disclaimer in English, and
	// the finding names its law in English for the English pages.
	var en struct {
		Results []checkResult `json:"results"`
	}
	send(t, nil, base, "POST", "/api/v1/compliance/check", map[string]any{"texts": []string{"Fish oil softgels", "Fish oil softgels. This product cannot replace medicine."},
		"context": "product", "product_type": "health_food"}, owner, nil).decode(t, &en)
	if f := en.Results[0].Findings; len(f) != 1 || f[0].Rule != "ad18-disclaimer-en" || f[0].LawEN != "Advertising Law art. 18(2)" || f[0].Replacement == nil {
		t.Fatalf("English text without the disclaimer: %+v", en.Results[0])
	}
	if en.Results[1].Verdict != "ok" {
		t.Fatalf("English disclaimer not accepted: %+v", en.Results[1])
	}

	t.Run("ErrBadInput", func(t *testing.T) {
		send(t, nil, base, "POST", "/api/v1/compliance/check", map[string]any{"texts": []string{}}, owner, nil).wantProblem(t, 400, "invalid_texts")
		send(t, nil, base, "POST", "/api/v1/compliance/check", map[string]any{"texts": []string{"x"}, "context": "tweet"}, owner, nil).wantProblem(t, 400, "invalid_context")
		send(t, nil, base, "POST", "/api/v1/compliance/check", map[string]any{"texts": []string{"x"}, "product_type": "drug"}, owner, nil).wantProblem(t, 400, "invalid_product_type")
		send(t, nil, base, "POST", "/api/v1/compliance/check", map[string]any{"texts": []string{strings.Repeat("好", 5001)}}, owner, nil).wantProblem(t, 400, "invalid_texts")
	})

	t.Run("MerchantTermsAndEvidence", func(t *testing.T) {
		check := func(text string) string {
			var o struct {
				Results []checkResult `json:"results"`
			}
			send(t, nil, base, "POST", "/api/v1/compliance/check", map[string]any{"texts": []string{text}}, owner, nil).decode(t, &o)
			return o.Results[0].Verdict
		}
		if v := check("今日爆款"); v != "ok" {
			t.Fatal(v)
		}
		r := send(t, nil, base, "POST", "/api/v1/compliance/terms", map[string]any{"term": "爆款", "severity": "warn"}, owner, nil)
		if r.Status != 201 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		send(t, nil, base, "POST", "/api/v1/compliance/terms", map[string]any{"term": "爆款"}, owner, nil).wantProblem(t, 409, "term_exists")
		if v := check("今日爆款"); v != "violation" {
			t.Fatal(v)
		}
		if v := check("第一坊酱鸭"); v != "violation" {
			t.Fatal(v)
		}
		send(t, nil, base, "POST", "/api/v1/compliance/evidence", map[string]any{"kind": "trademark", "reference": "x"}, owner, nil).wantProblem(t, 400, "trademark_term_required")
		var ev struct {
			ID int64 `json:"id"`
		}
		send(t, nil, base, "POST", "/api/v1/compliance/evidence", map[string]any{"kind": "trademark", "term": "第一坊", "reference": "第12345678号"}, owner, nil).decode(t, &ev)
		if v := check("第一坊酱鸭"); v != "ok" {
			t.Fatal(v)
		}
		if r := send(t, nil, base, "DELETE", "/api/v1/compliance/evidence/"+itoa(ev.ID), nil, owner, nil); r.Status != 204 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if v := check("第一坊酱鸭"); v != "violation" {
			t.Fatal(v)
		}
		var rules struct {
			Version string            `json:"version"`
			Rules   []json.RawMessage `json:"rules"`
			Terms   []struct {
				Term string `json:"term"`
			} `json:"terms"`
		}
		send(t, nil, base, "GET", "/api/v1/compliance/rules", nil, owner, nil).decode(t, &rules)
		if rules.Version == "" || len(rules.Rules) < 10 || len(rules.Terms) != 1 || rules.Terms[0].Term != "爆款" {
			t.Fatalf("%+v", rules)
		}
	})
}

// TestGoLiveCompliance: a room whose title, script or lineup texts break a
// blocking rule answers 409 with the findings; only an owner's explicit
// override puts it live, and the override is audited.
func TestGoLiveCompliance(t *testing.T) {
	m := testkit.StartNode(t, "")
	base, owner := m.URL(), testkit.OwnerToken
	var prod struct {
		ID         int64 `json:"id"`
		Compliance struct {
			Blocking bool `json:"blocking"`
			Texts    []struct {
				Source   string        `json:"source"`
				Findings []findingView `json:"findings"`
			} `json:"texts"`
		} `json:"compliance"`
	}
	r := send(t, nil, base, "POST", "/api/v1/products", map[string]any{"name": "降压茶", "description": "能治高血压，100%有效",
		"skus": []map[string]any{{"code": "TEA-1", "name": "100g", "price_fen": 3900}}}, owner, nil)
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	r.decode(t, &prod)
	if !prod.Compliance.Blocking || len(prod.Compliance.Texts) != 2 || prod.Compliance.Texts[1].Source != "product:"+itoa(prod.ID)+".description" {
		t.Fatalf("product save did not warn: %s", r.Body)
	}
	send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": "tea-room", "title": "好茶直播", "product_ids": []int64{prod.ID}}, owner, nil)

	var blocked struct {
		Code   string `json:"code"`
		Review struct {
			Blocking bool `json:"blocking"`
			Texts    []struct {
				Source string `json:"source"`
			} `json:"texts"`
		} `json:"review"`
	}
	r = send(t, nil, base, "POST", "/api/v1/rooms/tea-room/status", map[string]any{"status": "live"}, owner, nil)
	r.wantProblem(t, 409, "compliance_blocked")
	r.decode(t, &blocked)
	if !blocked.Review.Blocking || len(blocked.Review.Texts) != 2 {
		t.Fatalf("no findings in the 409: %s", r.Body)
	}

	// A host cannot override; an admin cannot either: only an owner, explicitly.
	host := staffLogin(t, base, "host", "shelflive-demo")
	send(t, nil, base, "POST", "/api/v1/rooms/tea-room/status", map[string]any{"status": "live", "override": map[string]any{"reason": "赶时间"}}, host.Token, nil).wantProblem(t, 403, "compliance_override_forbidden")
	var admin struct {
		Token string `json:"token"`
	}
	send(t, nil, base, "POST", "/api/v1/auth/tokens", map[string]any{"role": "admin", "label": "compliance-admin"}, owner, nil).decode(t, &admin)
	send(t, nil, base, "POST", "/api/v1/rooms/tea-room/status", map[string]any{"status": "live", "override": map[string]any{"reason": "赶时间"}}, admin.Token, nil).wantProblem(t, 403, "compliance_override_forbidden")
	send(t, nil, base, "POST", "/api/v1/rooms/tea-room/status", map[string]any{"status": "live", "override": map[string]any{"reason": " "}}, owner, nil).wantProblem(t, 400, "override_reason_required")
	if st := roomStatus(t, base, "tea-room"); st != "scheduled" {
		t.Fatalf("refused go-live changed the room: %s", st)
	}

	// Fixing the texts lets it go live without an override.
	fix := map[string]any{"name": "菊花茶", "description": "杭白菊，开水冲泡", "skus": []map[string]any{{"code": "TEA-1", "name": "100g", "price_fen": 3900}}}
	var full struct {
		SKUs []map[string]any `json:"skus"`
	}
	send(t, nil, base, "GET", "/api/v1/products/"+itoa(prod.ID), nil, owner, nil).decode(t, &full)
	fix["skus"] = full.SKUs
	if r := send(t, nil, base, "PUT", "/api/v1/products/"+itoa(prod.ID), fix, owner, nil); r.Status != 200 || !strings.Contains(string(r.Body), `"blocking":false`) {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	// …but a script with a blocking claim stops it again.
	r = send(t, nil, base, "PUT", "/api/v1/rooms/tea-room/script", map[string]any{"script": "开场：这款茶喝了能降血压"}, host.Token, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"verdict":"violation"`) {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	send(t, nil, base, "POST", "/api/v1/rooms/tea-room/status", map[string]any{"status": "live"}, host.Token, nil).wantProblem(t, 409, "compliance_blocked")

	// The owner's override goes through and is audited with its reason.
	r = send(t, nil, base, "POST", "/api/v1/rooms/tea-room/status", map[string]any{"status": "live", "override": map[string]any{"reason": "脚本已口头更正"}}, owner, nil)
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	wantAudit(t, base, "room.live.override", "脚本已口头更正", "降血压")

	// During the live a host's blocking comment is refused with its findings;
	// a viewer's is published (and flagged to the studio).
	r = send(t, nil, base, "POST", "/api/v1/rooms/tea-room/comments", map[string]any{"text": "这茶治失眠，全网最低价"}, host.Token, nil)
	r.wantProblem(t, 400, "comment_noncompliant")
	if !strings.Contains(string(r.Body), `"findings"`) {
		t.Fatalf("%s", r.Body)
	}
	viewer := viewerLogin(t, base, "demo", "13900000921")
	if r := send(t, nil, base, "POST", "/api/v1/rooms/tea-room/comments", map[string]any{"text": "听说这茶治失眠"}, viewer.Token, nil); r.Status != 201 {
		t.Fatalf("viewer comment: %d %s", r.Status, r.Body)
	}
}

func roomStatus(t *testing.T, base, slug string) string {
	t.Helper()
	var st struct {
		Room struct {
			Status string `json:"status"`
		} `json:"room"`
	}
	send(t, nil, base, "GET", "/api/v1/rooms/"+slug, nil, "", nil).decode(t, &st)
	return st.Room.Status
}
