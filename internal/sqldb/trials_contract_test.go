package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/draws"
	"github.com/shelflive/shelflive/internal/fans"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/trials"
)

// TestContractTrials: a trial of 3 samples with a two-question form and
// "group members first". 12 fans apply twice each at once: one application
// each. No application after the window. The selection is saved once
// (a second SaveSelection changes nothing), its chosen are exactly what
// trials.Choose recomputes from the revealed seed and the published tiers,
// never more than the quota, group members first. Every applicant gets
// one inbox note (chosen or not). Sample orders are zero-price, paid, hold
// stock from the lot, and one per chosen tester however often they are
// asked for. Feedback waits for the handover, is taken once, and only from
// the chosen; the reminder after FeedbackDays is written once however
// often the job runs; erasing a customer clears their answers.
func TestContractTrials(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		lot := s.lot(t, s.m, s.sku, s.store, "T1", 10*24*time.Hour, 10)
		fs := &sqldb.FanStore{DB: db}
		g := &fans.Group{MerchantID: s.m, Slug: "trial-bakers", Name: "烘焙"}
		must(t, fs.CreateGroup(ctx, g))
		ts := &sqldb.TrialStore{DB: db}
		var custs []int64
		for i := range 12 { // accounts made before the trial opened (a burst after it is the bot rule's)
			cu, err := s.ids.UpsertCustomer(ctx, s.m, fmt.Sprintf("1394444%04d", i))
			must(t, err)
			custs = append(custs, cu.ID)
		}
		now := db.Now()
		tr := &trials.Trial{MerchantID: s.m, Title: "新品酸奶内测", SKUID: s.sku, Quota: 3, Fulfilment: order.Pickup, StoreID: s.store,
			Selection: trials.SelectGroupFirst, GroupID: g.ID, OpensAt: now, ClosesAt: now.Add(time.Hour), FeedbackDays: 2,
			Questions: []trials.Question{{Kind: trials.QChoice, Label: "家庭人数", Options: []string{"1", "2-3", "4+"}, Required: true}, {Kind: trials.QText, Label: "过敏情况"}}}
		must(t, tr.Validate(now))
		seed, commitment := draws.NewSeed()
		tr.SetSecretSeed(seed)
		tr.Commitment = commitment
		must(t, ts.Create(ctx, tr))
		if got, err := ts.ByID(ctx, tr.ID); err != nil || got.Seed != "" || got.Commitment != commitment || got.Questions[0].ID != "q1" || got.ProductName == "" {
			t.Fatalf("open trial %+v (%v)", got, err)
		}
		if _, err := ts.Get(ctx, s.other, tr.ID); err == nil {
			t.Fatal("another shop reads the trial")
		}

		var mu sync.Mutex
		dups := 0
		var wg sync.WaitGroup
		for i, id := range custs {
			cu := struct{ ID int64 }{id}
			if i < 2 { // two group members
				must(t, fs.Join(ctx, s.m, g.ID, cu.ID))
			}
			apply := func() {
				a := &trials.Application{TrialID: tr.ID, CustomerID: cu.ID, Answers: map[string]string{"q1": "2-3"}, Device: fmt.Sprint("dev", i%11+i/11*5)}
				err := ts.Apply(ctx, s.m, a)
				if errors.Is(err, trials.ErrApplied) {
					mu.Lock()
					dups++
					mu.Unlock()
				} else if err != nil {
					t.Errorf("apply: %v", err)
				}
			}
			if i == 11 { // the same device as customer 5, after everyone else
				wg.Wait()
				apply()
				apply()
				continue
			}
			for range 2 {
				wg.Go(apply)
			}
		}
		wg.Wait()
		apps, err := ts.Applications(ctx, tr.ID)
		must(t, err)
		if dups != 12 || len(apps) != 12 {
			t.Fatalf("12 fans applying twice: %d refused, %d applications", dups, len(apps))
		}
		if err := ts.Apply(ctx, s.other, &trials.Application{TrialID: tr.ID, CustomerID: s.otherCust}); err == nil {
			t.Fatal("another shop's customer applied")
		}
		later := now.Add(61 * time.Minute)
		db.Now = func() time.Time { return later }
		if err := ts.Apply(ctx, s.m, &trials.Application{TrialID: tr.ID, CustomerID: s.cust}); !errors.Is(err, trials.ErrClosed) {
			t.Fatalf("application after the window: %v", err)
		}
		due, err := ts.Due(ctx, later)
		must(t, err)
		if len(due) != 1 || due[0].ID != tr.ID {
			t.Fatalf("due: %+v", due)
		}

		// Select: the same device (dev5: customers 5 and 11) excludes the later one.
		c, err := trials.Choose(&due[0], due[0].SecretSeed(), apps)
		must(t, err)
		if c.Excluded[custs[11]] != "same_device" || len(c.Chosen) != 3 || len(c.Tiers) != 2 || len(c.Tiers[0]) != 2 {
			t.Fatalf("choice %+v", c)
		}
		if !slices.Contains(custs[:2], c.Chosen[0]) || !slices.Contains(custs[:2], c.Chosen[1]) {
			t.Fatalf("group members are not chosen first: %v (members %v)", c.Chosen, custs[:2])
		}
		ok, err := ts.SaveSelection(ctx, tr.ID, c)
		must(t, err)
		other, _ := trials.Choose(&due[0], due[0].SecretSeed(), apps[:5])
		if again, err := ts.SaveSelection(ctx, tr.ID, other); !ok || again || err != nil {
			t.Fatalf("saved %v, saved again %v (%v)", ok, again, err)
		}
		got, err := ts.ByID(ctx, tr.ID)
		must(t, err)
		if got.Seed != seed || got.Status != trials.Selected || got.Chosen != 3 {
			t.Fatalf("selected trial %+v", got)
		}
		// Anyone recomputes it from the revealed seed and the published tiers.
		apps, err = ts.Applications(ctx, tr.ID)
		must(t, err)
		var tier1, tier2, chosen []int64
		pos := map[int64]int{}
		for _, a := range apps {
			switch a.Tier {
			case 1:
				tier1 = append(tier1, a.CustomerID)
			case 2:
				tier2 = append(tier2, a.CustomerID)
			}
			if a.Position > 0 {
				pos[a.CustomerID] = a.Position
			}
		}
		w1, _ := draws.Winners(got.Seed, tier1, 3)
		w2, _ := draws.Winners(got.Seed, tier2, 3-len(w1))
		chosen = append(w1, w2...)
		for i, id := range chosen {
			if pos[id] != i+1 {
				t.Fatalf("stored positions %v, recomputed %v", pos, chosen)
			}
		}
		if len(pos) != 3 || len(tier1)+len(tier2) != 11 {
			t.Fatalf("positions %v, tiers %v %v", pos, tier1, tier2)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM inbox WHERE dedupe_key = ?`, fmt.Sprintf("trial:%d:result", tr.ID)); n != 12 {
			t.Fatalf("%d result notes, want one per applicant", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM inbox WHERE dedupe_key = ? AND kind = 'trial.chosen'`, fmt.Sprintf("trial:%d:result", tr.ID)); n != 3 {
			t.Fatalf("%d chosen notes", n)
		}

		// Sample orders: zero-price, paid, reserved from the lot, once each.
		pend, err := ts.PendingSamples(ctx)
		must(t, err)
		if len(pend) != 3 {
			t.Fatalf("pending samples %d", len(pend))
		}
		for round := range 2 {
			for _, p := range pend {
				o := &order.Order{MerchantID: s.m, CustomerID: p.Application.CustomerID, TrialID: tr.ID, Fulfilment: order.Pickup, StoreID: s.store, ContactPhone: "13944440000",
					IdempotencyKey: fmt.Sprint("trial-", tr.ID), RequestHash: "trial", ReserveExpiresAt: later.Add(time.Hour), CouponPick: "none"}
				created, err := s.orders.Create(ctx, o, []order.Item{{SKUID: s.sku, Quantity: 1}})
				must(t, err)
				if created != (round == 0) || o.TotalFen != 0 || o.Status != order.Paid || o.DiscountFen != price || o.TrialID != tr.ID {
					t.Fatalf("round %d: sample order %+v (created %v)", round, o, created)
				}
				must(t, ts.SetSampleOrder(ctx, tr.ID, p.Application.CustomerID, o.ID))
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM orders WHERE trial_id = ?`, tr.ID); n != 3 {
			t.Fatalf("%d sample orders for a quota of 3", n)
		}
		if lv := s.level(t, s.store, lot); lv.Reserved != 3 {
			t.Fatalf("reserved %d, want 3", lv.Reserved)
		}
		if pend, _ := ts.PendingSamples(ctx); len(pend) != 0 {
			t.Fatalf("still pending: %d", len(pend))
		}
		checkStock(t, db)

		// Feedback: not before the handover, once, only from the chosen.
		fb := &trials.Feedback{TrialID: tr.ID, CustomerID: chosen[0], Ratings: map[string]int{"taste": 5, "texture": 4, "price": 3, "repurchase": 5}, Text: "酸度刚好"}
		must(t, fb.Validate())
		if err := ts.SaveFeedback(ctx, s.m, fb); !errors.Is(err, trials.ErrNotReceived) {
			t.Fatalf("feedback before pickup: %v", err)
		}
		for _, id := range chosen {
			a := pend0(t, ts, ctx, s.m, tr.ID, id)
			if _, err := s.orders.Apply(ctx, order.Move{MerchantID: s.m, ID: a.OrderID, To: order.Completed, ByCode: true, Actor: "test"}); err != nil {
				t.Fatal(err)
			}
		}
		must(t, ts.SaveFeedback(ctx, s.m, fb))
		if err := ts.SaveFeedback(ctx, s.m, fb); !errors.Is(err, trials.ErrFeedbackDone) {
			t.Fatalf("second feedback: %v", err)
		}
		notChosen := custs[2]
		for _, id := range custs {
			if !slices.Contains(chosen, id) {
				notChosen = id
				break
			}
		}
		if err := ts.SaveFeedback(ctx, s.m, &trials.Feedback{TrialID: tr.ID, CustomerID: notChosen, Ratings: fb.Ratings}); !errors.Is(err, trials.ErrNotChosen) {
			t.Fatalf("feedback from an applicant not chosen: %v", err)
		}

		// Reminders: none before FeedbackDays; then one each to the two
		// without feedback, however often the job runs.
		if n, err := ts.RemindFeedback(ctx, later.Add(24*time.Hour)); err != nil || n != 0 {
			t.Fatalf("early reminders: %d (%v)", n, err)
		}
		remindAt := later.Add(49 * time.Hour)
		db.Now = func() time.Time { return remindAt }
		n1, err := ts.RemindFeedback(ctx, remindAt)
		must(t, err)
		n2, err := ts.RemindFeedback(ctx, remindAt)
		must(t, err)
		if n1 != 2 || n2 != 0 {
			t.Fatalf("reminders: %d then %d, want 2 then 0", n1, n2)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM inbox WHERE customer_id = ? AND kind = 'trial.feedback'`, chosen[0]); n != 0 {
			t.Fatal("the tester who answered was reminded")
		}

		res, err := ts.Results(ctx, s.m, tr.ID)
		must(t, err)
		if res.Applicants != 12 || res.Excluded != 1 || res.Chosen != 3 || res.Received != 3 || res.Responses != 1 || res.ResponseRate != 0.333 ||
			res.Ratings["taste"].Counts[4] != 1 || res.Ratings["taste"].Mean != 5 || len(res.Texts) != 1 || res.Choices["q1"]["2-3"] != 12 {
			t.Fatalf("results %+v", res)
		}
		if pub := res.Public(); pub.Texts != nil || pub.Answers != nil {
			t.Fatal("the public summary carries texts or answers")
		}

		// Erasure clears the form's answers.
		must(t, db.EraseCustomer(ctx, s.m, custs[3]))
		a, err := ts.Application(ctx, s.m, tr.ID, custs[3])
		must(t, err)
		if len(a.Answers) != 0 {
			t.Fatalf("answers kept after erasure: %v", a.Answers)
		}
	})
}

func pend0(t *testing.T, ts *sqldb.TrialStore, ctx context.Context, m, trial, cust int64) *trials.Application {
	t.Helper()
	a, err := ts.Application(ctx, m, trial, cust)
	must(t, err)
	return a
}
