package web_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/shelflive/shelflive/internal/draws"
	"github.com/shelflive/shelflive/internal/testkit"
)

type trialView struct {
	ID         int64  `json:"id"`
	Commitment string `json:"commitment"`
	Seed       string `json:"seed"`
	Status     string `json:"status"`
	Quota      int    `json:"quota"`
	Applicants int64  `json:"applicants"`
	Chosen     int64  `json:"chosen"`
}

type trialMine struct {
	Mine struct {
		Applied     bool `json:"applied"`
		Chosen      bool `json:"chosen"`
		CanFeedback bool `json:"can_feedback"`
		Eligible    bool `json:"eligible"`
		Order       *struct {
			ID         int64  `json:"id"`
			Status     string `json:"status"`
			TotalFen   int64  `json:"total_fen"`
			TrialID    int64  `json:"trial_id"`
			PickupCode string `json:"pickup_code"`
		} `json:"order"`
	} `json:"mine"`
}

// TestTrialAPI: a trial restricted to a topic group, by delivery, with
// "group members first" and 2 places. The form is checked (a required
// choice, an option not offered, the address a delivery needs); an
// outsider is refused (segment_required); each member applies once; three
// members apply, two accounts on one phone count once; the shop selects
// now: the seed hashes to the commitment and each published tier
// recomputes with draws.Verify (what `shelflive draw verify --url` runs);
// exactly 2 zero-price paid sample orders, none for the others, who are
// told kindly in their inbox; feedback waits for the handover and is
// taken once; the results count it; trial.selected and trial.feedback
// are queued for a subscribed endpoint.
func TestTrialAPI(t *testing.T) {
	s := newShop(t, "-rate-limits=false")
	owner := testkit.OwnerToken
	send(t, nil, s.base, "POST", "/api/v1/groups", map[string]any{"slug": "tasters", "name": "尝鲜团"}, owner, nil).want(t, 201)
	var grp struct {
		Group struct {
			ID int64 `json:"id"`
		} `json:"group"`
	}
	send(t, nil, s.base, "GET", "/api/v1/groups/tasters", nil, "", nil).want(t, 200).decode(t, &grp)
	send(t, nil, s.base, "POST", "/api/v1/webhooks", map[string]any{"url": "https://erp.example.com/hook", "events": []string{"trial.selected", "trial.feedback"}}, owner, nil).want(t, 201)

	members := []session{}
	for i := range 4 {
		v := viewerLogin(t, s.base, "demo", fmt.Sprintf("139000020%02d", i))
		send(t, nil, s.base, "PUT", "/api/v1/groups/tasters/membership", nil, v.Token, nil).want(t, 200)
		members = append(members, v)
	}
	outsider := viewerLogin(t, s.base, "demo", "13900002099")

	closes := s.m.DB.Now().Add(48 * 3600e9)
	body := map[string]any{"title": "低糖酸奶内测", "description": "新配方，少糖不减味", "sku_id": s.sku1, "quota": 2, "closes_at": closes,
		"questions": []map[string]any{{"kind": "choice", "label": "家庭人数", "options": []string{"1", "2-3", "4+"}, "required": true}, {"kind": "text", "label": "过敏情况"}},
		"segment":   map[string]any{"kind": "fan_group", "group_id": grp.Group.ID}, "selection": "group_first", "fulfilment": "delivery", "feedback_days": 2}
	bad := map[string]any{}
	for k, v := range body {
		bad[k] = v
	}
	bad["quota"] = 0
	send(t, nil, s.base, "POST", "/api/v1/trials", bad, owner, nil).wantProblem(t, 400, "trial_quota_invalid")
	bad["quota"], bad["title"] = 2, "治疗便秘的最好酸奶"
	send(t, nil, s.base, "POST", "/api/v1/trials", bad, owner, nil).wantProblem(t, 409, "trial_noncompliant")
	var tr trialView
	send(t, nil, s.base, "POST", "/api/v1/trials", body, owner, nil).want(t, 201).decode(t, &tr)
	if len(tr.Commitment) != 64 || tr.Seed != "" || tr.Status != "open" {
		t.Fatalf("open trial %+v", tr)
	}
	send(t, nil, s.base, "GET", fmt.Sprintf("/api/v1/trials/%d", tr.ID), nil, "", nil).want(t, 200)
	apply := fmt.Sprintf("/api/v1/trials/%d/apply", tr.ID)
	ok := map[string]any{"answers": map[string]string{"q1": "2-3", "q2": "不吃坚果"}, "contact_name": "王小明", "address": "上海市徐汇区漕溪北路 1 号"}
	send(t, nil, s.base, "POST", apply, ok, outsider.Token, nil).wantProblem(t, 403, "segment_required")
	send(t, nil, s.base, "POST", apply, map[string]any{"answers": map[string]string{"q2": "无"}, "contact_name": "王", "address": "上海"}, members[0].Token, nil).wantProblem(t, 400, "trial_answers_invalid")
	send(t, nil, s.base, "POST", apply, map[string]any{"answers": map[string]string{"q1": "5"}, "contact_name": "王", "address": "上海"}, members[0].Token, nil).wantProblem(t, 400, "trial_answers_invalid")
	send(t, nil, s.base, "POST", apply, map[string]any{"answers": map[string]string{"q1": "1"}}, members[0].Token, nil).wantProblem(t, 400, "trial_address_required")
	for i, m := range members {
		cookie := map[string]string{"Cookie": fmt.Sprintf("sl_vid=phone-%d", i)}
		if i == 3 {
			cookie["Cookie"] = "sl_vid=phone-2" // a second account on member 2's phone
		}
		send(t, nil, s.base, "POST", apply, ok, m.Token, cookie).want(t, 201)
	}
	send(t, nil, s.base, "POST", apply, ok, members[0].Token, nil).wantProblem(t, 409, "trial_applied")
	// nothing to rate yet
	fb := map[string]any{"ratings": map[string]int{"taste": 5, "texture": 4, "price": 3, "repurchase": 4}, "text": "酸甜刚好，早餐配燕麦"}
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/trials/%d/feedback", tr.ID), fb, members[0].Token, nil).wantProblem(t, 409, "trial_not_chosen")

	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/trials/%d/select", tr.ID), nil, owner, nil).want(t, 200).decode(t, &tr)
	send(t, nil, s.base, "POST", apply, ok, members[1].Token, nil).wantProblem(t, 409, "trial_closed")
	c, _ := draws.Commitment(tr.Seed)
	if tr.Status != "selected" || c != tr.Commitment || tr.Chosen != 2 || tr.Applicants != 4 {
		t.Fatalf("selected trial %+v", tr)
	}
	// Each published tier recomputes from the revealed seed.
	chosen := 0
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
		v, err := draws.Verify(doc.Draw.Seed, doc.Draw.Commitment, entries, doc.Draw.Winners, published)
		if err != nil || !v.CommitmentOK || !v.Match {
			t.Fatalf("tier %d does not verify: %+v (%v)", tier, v, err)
		}
		if tier == 1 && (len(doc.Excluded) != 1 || doc.Excluded[0].Excluded != "same_device" || len(entries) != 3) {
			t.Fatalf("tier 1: %d eligible, excluded %+v", len(entries), doc.Excluded)
		}
		chosen += len(published)
	}
	if chosen != 2 {
		t.Fatalf("%d chosen over the tiers", chosen)
	}
	// Sample orders: two, zero-price, paid, delivered (no pickup code).
	var winners []session
	for i, m := range members {
		var mine trialMine
		send(t, nil, s.base, "GET", fmt.Sprintf("/api/v1/trials/%d/mine", tr.ID), nil, m.Token, nil).want(t, 200).decode(t, &mine)
		if !mine.Mine.Chosen {
			if mine.Mine.Order != nil {
				t.Fatalf("member %d not chosen but has an order", i)
			}
			var inbox struct {
				Messages []struct{ Kind, Body string } `json:"messages"`
			}
			send(t, nil, s.base, "GET", "/api/v1/me/inbox", nil, m.Token, nil).want(t, 200).decode(t, &inbox)
			if !slices.ContainsFunc(inbox.Messages, func(x struct{ Kind, Body string }) bool { return x.Kind == "trial.not_chosen" }) {
				t.Fatalf("member %d was not told: %+v", i, inbox.Messages)
			}
			continue
		}
		o := mine.Mine.Order
		if o == nil || o.TotalFen != 0 || o.Status != "paid" || o.TrialID != tr.ID || mine.Mine.CanFeedback {
			t.Fatalf("member %d sample: %+v", i, mine.Mine)
		}
		winners = append(winners, m)
		send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/trials/%d/feedback", tr.ID), fb, m.Token, nil).wantProblem(t, 409, "trial_sample_not_received")
		send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/orders/%d/shipment", o.ID), map[string]string{"carrier": "shunfeng", "tracking_no": fmt.Sprintf("SF12345678901%02d", i)}, owner, nil).want(t, 200)
	}
	if len(winners) != 2 {
		t.Fatalf("%d winners", len(winners))
	}
	var n int64
	if err := s.m.DB.QueryRow(t.Context(), `SELECT COUNT(*) FROM orders WHERE trial_id = ? AND total_fen = 0 AND fulfilment = 'delivery' AND address <> ''`, tr.ID).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d sample orders (%v)", n, err)
	}
	// Ship them (staff), then the testers rate.
	if err := s.m.DB.QueryRow(t.Context(), `SELECT COUNT(*) FROM orders WHERE trial_id = ? AND status = 'shipped'`, tr.ID).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d shipped (%v)", n, err)
	}
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/trials/%d/feedback", tr.ID), map[string]any{"ratings": map[string]int{"taste": 6}}, winners[0].Token, nil).wantProblem(t, 400, "trial_ratings_invalid")
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/trials/%d/feedback", tr.ID), fb, winners[0].Token, nil).want(t, 201)
	send(t, nil, s.base, "POST", fmt.Sprintf("/api/v1/trials/%d/feedback", tr.ID), fb, winners[0].Token, nil).wantProblem(t, 409, "trial_feedback_given")

	var res struct {
		Applicants   int64   `json:"applicants"`
		Excluded     int64   `json:"excluded"`
		Chosen       int64   `json:"chosen"`
		Received     int64   `json:"received"`
		Responses    int64   `json:"responses"`
		ResponseRate float64 `json:"response_rate"`
		Ratings      map[string]struct {
			Counts []int64 `json:"counts"`
			Mean   float64 `json:"mean"`
		} `json:"ratings"`
		Texts   []struct{ Text string }   `json:"texts"`
		Choices map[string]map[string]int `json:"choices"`
	}
	send(t, nil, s.base, "GET", fmt.Sprintf("/api/v1/trials/%d/results", tr.ID), nil, owner, nil).want(t, 200).decode(t, &res)
	if res.Applicants != 4 || res.Excluded != 1 || res.Chosen != 2 || res.Received != 2 || res.Responses != 1 || res.ResponseRate != 0.5 ||
		res.Ratings["taste"].Counts[4] != 1 || len(res.Texts) != 1 || res.Choices["q1"]["2-3"] != 4 {
		t.Fatalf("results %+v", res)
	}
	send(t, nil, s.base, "GET", fmt.Sprintf("/api/v1/trials/%d/summary", tr.ID), nil, "", nil).wantProblem(t, 404, "not_found") // not made public
	send(t, nil, s.base, "GET", fmt.Sprintf("/api/v1/trials/%d/results", tr.ID), nil, outsider.Token, nil).want(t, 403)
	for typ, want := range map[string]int64{"trial.selected": 1, "trial.feedback": 1} {
		if err := s.m.DB.QueryRow(t.Context(), `SELECT COUNT(*) FROM webhook_deliveries WHERE type = ?`, typ).Scan(&n); err != nil || n != want {
			t.Fatalf("%s queued %d times (%v)", typ, n, err)
		}
	}
}
