package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/fans"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/stores"
)

// draftCoupon stores a coupon that is not a live card (segment issues
// refuse those).
func draftCoupon(t testing.TB, s *shop, cs *sqldb.CouponStore, budget int64) *coupons.Coupon {
	t.Helper()
	c := coupons.Coupon{MerchantID: s.m, Kind: coupons.Fixed, Title: "会员立减2元", AmountFen: 200, BudgetCount: budget, PerUserLimit: 1,
		ValidFrom: s.db.Now().Add(-time.Minute), ValidUntil: s.db.Now().Add(24 * time.Hour)}
	must(t, c.Validate())
	must(t, cs.Create(context.Background(), &c))
	return &c
}

// segmentShop: three members, two fan-group members, one store customer
// (a paid order at the pickup store) — six different customers.
type segmentShop struct {
	*shop
	cs      *sqldb.CouponStore
	prog    members.Program
	members []int64
	fans    []int64
	group   int64
}

func newSegmentShop(t *testing.T, db *sqldb.DB) *segmentShop {
	ctx := context.Background()
	s := &segmentShop{shop: newShop(t, db), cs: &sqldb.CouponStore{DB: db}}
	s.lot(t, s.m, s.sku, s.store, "S1", 72*time.Hour, 100)
	ms := &sqldb.MemberStore{DB: db}
	fs := &sqldb.FanStore{DB: db}
	g := &fans.Group{MerchantID: s.m, Slug: "fruit", Name: "水果群", Topic: "水果"}
	must(t, fs.CreateGroup(ctx, g))
	s.group = g.ID
	for i := range 5 {
		cu, err := s.ids.UpsertCustomer(ctx, s.m, fmt.Sprintf("1392222%04d", i))
		must(t, err)
		if i < 3 {
			_, _, err := ms.Join(ctx, s.m, cu.ID, "api")
			must(t, err)
			s.members = append(s.members, cu.ID)
		} else {
			must(t, fs.Join(ctx, s.m, g.ID, cu.ID))
			s.fans = append(s.fans, cu.ID)
		}
	}
	s.paidOrder(t, 1) // s.cust buys at s.store
	var err error
	s.prog, err = ms.Program(ctx, s.m)
	must(t, err)
	return s
}

func (s *segmentShop) issue(c *coupons.Coupon, seg members.Segment, key string) (*coupons.SegmentIssue, error) {
	in := &coupons.SegmentIssue{MerchantID: s.m, CouponID: c.ID, Segment: seg, Key: key, By: "test"}
	return in, s.cs.IssueToSegment(context.Background(), in, s.prog, "优惠券已到账", "送你一张券", "A coupon for you")
}

// TestContractCouponSegmentIssue: a segment issue gives each customer of
// the segment one coupon and one inbox message, all or nothing; the same
// request key never issues twice (also when sent concurrently); a live
// card, an expired coupon, another tenant's coupon or store are refused.
func TestContractCouponSegmentIssue(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newSegmentShop(t, db)
		c := draftCoupon(t, s.shop, s.cs, 5)

		in, err := s.issue(c, members.Segment{Kind: members.SegMembers}, "k-members")
		must(t, err)
		if in.Repeated || in.Issued != 3 {
			t.Fatalf("members issue: %+v", in)
		}
		for _, cu := range s.members {
			w, err := s.cs.Wallet(ctx, s.m, cu)
			must(t, err)
			if len(w) != 1 || w[0].CouponID != c.ID || w[0].Status != coupons.ClaimIssued {
				t.Fatalf("member %d wallet: %+v", cu, w)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM inbox WHERE customer_id = ? AND kind = ?`, cu, sqldb.KindCouponIssued); n != 1 {
				t.Fatalf("member %d has %d inbox messages, want 1", cu, n)
			}
		}
		// The same key again: the first issue, nothing new.
		again, err := s.issue(c, members.Segment{Kind: members.SegMembers}, "k-members")
		must(t, err)
		if !again.Repeated || again.ID != in.ID || again.Issued != 3 {
			t.Fatalf("repeat: %+v, want the first issue %+v", again, in)
		}
		// The same key for something else is refused.
		if _, err := s.issue(c, members.Segment{Kind: members.SegFanGroup, GroupID: s.group}, "k-members"); !errors.Is(err, order.ErrIdempotencyUsed) {
			t.Fatalf("key reused for another segment: %v", err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM coupon_claims WHERE coupon_id = ?`, c.ID); n != 3 {
			t.Fatalf("%d claims after a repeat, want 3", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM inbox WHERE kind = ?`, sqldb.KindCouponIssued); n != 3 {
			t.Fatalf("%d inbox messages after a repeat, want 3", n)
		}
		// Fan group: 2 more, budget now spent.
		fi, err := s.issue(c, members.Segment{Kind: members.SegFanGroup, GroupID: s.group}, "k-fans")
		must(t, err)
		if fi.Issued != 2 {
			t.Fatalf("fan group issue: %+v", fi)
		}
		// Store customers: one, but nothing left — nobody gets one.
		if _, err := s.issue(c, members.Segment{Kind: members.SegStoreCustomer, StoreID: s.store}, "k-store"); !errors.Is(err, coupons.ErrBudgetShort) {
			t.Fatalf("over budget: %v", err)
		}
		if n := count(t, db, `SELECT issued FROM coupons WHERE id = ?`, c.ID); n != 5 {
			t.Fatalf("issued %d, want 5", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM coupon_segment_issues WHERE coupon_id = ?`, c.ID); n != 2 {
			t.Fatalf("%d issues recorded, want 2 (the refused one leaves nothing)", n)
		}
		// A fresh coupon reaches the store's customer and the category's buyers.
		c2 := draftCoupon(t, s.shop, s.cs, 10)
		si, err := s.issue(c2, members.Segment{Kind: members.SegStoreCustomer, StoreID: s.store}, "k2-store")
		must(t, err)
		cat, err := s.issue(c2, members.Segment{Kind: members.SegCategoryBuyer, Category: "水果"}, "k2-cat")
		must(t, err)
		if si.Issued != 1 || cat.Issued != 0 {
			t.Fatalf("store issue %+v, category issue %+v (the shop's product has no category)", si, cat)
		}
		if w, err := s.cs.Wallet(ctx, s.m, s.cust); err != nil || len(w) != 1 || w[0].CouponID != c2.ID {
			t.Fatalf("store customer's wallet: %+v %v", w, err)
		}
		// Tier 0 is every member.
		ti, err := s.issue(c2, members.Segment{Kind: members.SegTier, Tier: 0}, "k2-tier")
		must(t, err)
		if ti.Issued != 3 {
			t.Fatalf("tier 0 issue: %+v", ti)
		}
		list, err := s.cs.SegmentIssues(ctx, s.m, c2.ID)
		must(t, err)
		if len(list) != 3 || list[0].ID != ti.ID || list[0].Segment.Kind != members.SegTier {
			t.Fatalf("issues of the coupon: %+v", list)
		}
		// Refusals.
		live := newCoupon(t, s.shop, s.cs, coupons.Coupon{Kind: coupons.Fixed, Title: "直播立减", AmountFen: 100, BudgetCount: 10})
		if _, err := s.issue(live, members.Segment{Kind: members.SegMembers}, "k-live"); !errors.Is(err, coupons.ErrCardLive) {
			t.Fatalf("live card: %v", err)
		}
		if _, err := s.issue(c2, members.Segment{Kind: members.SegStoreCustomer, StoreID: s.otherStore}, "k-other-store"); !errors.Is(err, stores.ErrUnknownStore) {
			t.Fatalf("another tenant's store: %v", err)
		}
		other := &coupons.SegmentIssue{MerchantID: s.other, CouponID: c2.ID, Segment: members.Segment{Kind: members.SegMembers}, Key: "k-other", By: "x"}
		if err := s.cs.IssueToSegment(ctx, other, s.prog, "t", "b", "b"); err == nil {
			t.Fatal("another tenant issued this merchant's coupon")
		}
		clock := db.Now().Add(48 * time.Hour)
		db.Now = func() time.Time { return clock }
		if _, err := s.issue(c2, members.Segment{Kind: members.SegMembers}, "k-late"); !errors.Is(err, coupons.ErrWindow) {
			t.Fatalf("expired coupon: %v", err)
		}
	})
}

// TestCouponSegmentIssueProperties: random issues of random segments with
// keys from a small set, some sent by several callers at once. After each
// step: every key issued at most once (its claims are exactly one per
// customer of its segment at the time), issued = the claims, never above
// the budget, and an inbox message per claim.
func TestCouponSegmentIssueProperties(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		s := newSegmentShop(t, db)
		r := rand.New(rand.NewPCG(18, 2300))
		segs := []members.Segment{{Kind: members.SegMembers}, {Kind: members.SegFanGroup, GroupID: s.group}, {Kind: members.SegStoreCustomer, StoreID: s.store}, {Kind: members.SegTier, Tier: 0}}
		c := draftCoupon(t, s.shop, s.cs, 12)
		segOfKey := map[string]members.Segment{}
		for step := range 40 {
			key := fmt.Sprintf("k%d", r.IntN(8))
			seg, known := segOfKey[key]
			if !known || r.IntN(4) == 0 {
				seg = segs[r.IntN(len(segs))]
			}
			callers := 1 + r.IntN(3)
			errs := make([]error, callers)
			got := make([]*coupons.SegmentIssue, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() { got[i], errs[i] = s.issue(c, seg, key) })
			}
			wg.Wait()
			fresh := 0
			for i := range callers {
				switch {
				case errs[i] == nil && !got[i].Repeated:
					fresh++
					segOfKey[key] = seg
				case errs[i] == nil, errors.Is(errs[i], coupons.ErrBudgetShort), errors.Is(errs[i], order.ErrIdempotencyUsed):
				default:
					t.Fatalf("step %d: %v", step, errs[i])
				}
			}
			if fresh > 1 || (fresh == 1 && known) {
				t.Fatalf("step %d: key %s issued %d times (known before: %v)", step, key, fresh, known)
			}
			claims := count(t, db, `SELECT COUNT(*) FROM coupon_claims WHERE coupon_id = ?`, c.ID)
			issued := count(t, db, `SELECT issued FROM coupons WHERE id = ?`, c.ID)
			sum := count(t, db, `SELECT COALESCE(SUM(issued), 0) FROM coupon_segment_issues WHERE coupon_id = ?`, c.ID)
			inbox := count(t, db, `SELECT COUNT(*) FROM inbox WHERE kind = ?`, sqldb.KindCouponIssued)
			dup := count(t, db, `SELECT COUNT(*) FROM (SELECT customer_id, seq FROM coupon_claims WHERE coupon_id = ? GROUP BY customer_id, seq HAVING COUNT(*) > 1) x`, c.ID)
			if claims != issued || claims != sum || claims > 12 || inbox != claims || dup != 0 {
				t.Fatalf("step %d: claims %d, issued %d, sum of issues %d, inbox %d, duplicate claims %d (budget 12)", step, claims, issued, sum, inbox, dup)
			}
		}
		if len(segOfKey) == 0 {
			t.Fatal("no issue went through")
		}
	})
}
