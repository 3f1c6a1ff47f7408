package trials_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/draws"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/trials"
)

// TestChooseProperties: for random trials and applicant lists, Choose
// never chooses more than the quota nor an excluded applicant, chooses
// min(quota, eligible), puts every group member before anyone else under
// "group first", and gives the same answer for the same seed and
// applications in any order.
func TestChooseProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 2))
	opened := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	for n := range 300 {
		tr := &trials.Trial{Quota: 1 + rng.IntN(12), OpensAt: opened, Selection: trials.SelectRandom}
		if n%2 == 1 {
			tr.Selection, tr.GroupID = trials.SelectGroupFirst, 1
		}
		var apps []trials.Application
		for i := range rng.IntN(30) {
			apps = append(apps, trials.Application{CustomerID: int64(100 + i), Device: fmt.Sprint("d", rng.IntN(25)), AppliedAt: opened.Add(time.Duration(i) * time.Minute),
				AccountCreatedAt: opened.Add(-time.Hour), InGroup: rng.IntN(3) == 0})
		}
		seed, _ := draws.NewSeed()
		c, err := trials.Choose(tr, seed, apps)
		if err != nil {
			t.Fatal(err)
		}
		eligible, members := 0, 0
		for _, a := range apps {
			if c.Excluded[a.CustomerID] == "" {
				eligible++
				if a.InGroup {
					members++
				}
			}
		}
		if len(c.Chosen) > tr.Quota || len(c.Chosen) != min(tr.Quota, eligible) {
			t.Fatalf("case %d: %d chosen, quota %d, eligible %d", n, len(c.Chosen), tr.Quota, eligible)
		}
		inGroup := map[int64]bool{}
		for _, a := range apps {
			inGroup[a.CustomerID] = a.InGroup
		}
		for i, id := range c.Chosen {
			if c.Excluded[id] != "" {
				t.Fatalf("case %d: excluded %d chosen", n, id)
			}
			if tr.Selection == trials.SelectGroupFirst && i < min(members, tr.Quota) && !inGroup[id] {
				t.Fatalf("case %d: a non-member chosen before the members (%d members)", n, members)
			}
		}
		shuffled := slices.Clone(apps)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again, _ := trials.Choose(tr, seed, shuffled)
		if !slices.Equal(again.Chosen, c.Chosen) {
			t.Fatalf("case %d: %v, then %v for the same seed", n, c.Chosen, again.Chosen)
		}
	}
}

// TestValidate: the form, the window and the rules a merchant states.
func TestValidate(t *testing.T) {
	now := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	ok := func() *trials.Trial {
		return &trials.Trial{Title: "新品内测", SKUID: 1, Quota: 10, OpensAt: now, ClosesAt: now.Add(48 * time.Hour), Fulfilment: order.Pickup, StoreID: 1,
			Questions: []trials.Question{{Kind: trials.QText, Label: "为什么想试"}, {Kind: trials.QChoice, Label: "家庭人数", Options: []string{"1", "2-3"}, Required: true}}}
	}
	tr := ok()
	if err := tr.Validate(now); err != nil || tr.Questions[1].ID != "q2" || tr.Selection != trials.SelectRandom || tr.FeedbackDays != 3 {
		t.Fatalf("%v %+v", err, tr)
	}
	for name, bad := range map[string]func(*trials.Trial){
		"quota":       func(t *trials.Trial) { t.Quota = 0 },
		"window":      func(t *trials.Trial) { t.ClosesAt = now.Add(time.Minute) },
		"choice":      func(t *trials.Trial) { t.Questions[1].Options = []string{"1"} },
		"kind":        func(t *trials.Trial) { t.Questions[0].Kind = "file" },
		"store":       func(t *trials.Trial) { t.StoreID = 0 },
		"group_first": func(t *trials.Trial) { t.Selection = trials.SelectGroupFirst },
	} {
		tr := ok()
		bad(tr)
		if tr.Validate(now) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	tr = ok()
	tr.Validate(now)
	a := &trials.Application{Answers: map[string]string{"q2": "3"}}
	if tr.CheckAnswers(a) == nil {
		t.Fatal("an option not offered was accepted")
	}
	a = &trials.Application{Answers: map[string]string{"q2": "2-3", "q9": "x"}}
	if err := tr.CheckAnswers(a); err != nil || len(a.Answers) != 1 {
		t.Fatalf("%v %v", err, a.Answers)
	}
	fb := &trials.Feedback{Ratings: map[string]int{"taste": 5, "texture": 4, "price": 6, "repurchase": 1}}
	if fb.Validate() == nil {
		t.Fatal("a rating of 6 was accepted")
	}
}
