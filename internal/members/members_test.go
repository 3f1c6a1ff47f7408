package members_test

import (
	"math/rand/v2"
	"testing"

	"github.com/shelflive/shelflive/internal/members"
)

func TestProgramValidate(t *testing.T) {
	p := members.DefaultProgram()
	if err := p.Validate(); err != nil {
		t.Fatalf("default: %v", err)
	}
	for name, bad := range map[string]members.Program{
		"NoTiers":       {Basis: members.BySpend, PointsPerYuan: 1},
		"FirstNotZero":  {Basis: members.BySpend, PointsPerYuan: 1, Tiers: []members.Tier{{Name: "a", Threshold: 5}}},
		"NotRising":     {Basis: members.BySpend, PointsPerYuan: 1, Tiers: []members.Tier{{Name: "a"}, {Name: "b", Threshold: 0}}},
		"BadBasis":      {Basis: "age", PointsPerYuan: 1, Tiers: []members.Tier{{Name: "a"}}},
		"TooManyPoints": {Basis: members.BySpend, PointsPerYuan: 101, Tiers: []members.Tier{{Name: "a"}}},
		"EmptyTierName": {Basis: members.BySpend, PointsPerYuan: 1, Tiers: []members.Tier{{Name: " "}}},
	} {
		t.Run("Err"+name, func(t *testing.T) {
			if err := bad.Validate(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestRankAndCard(t *testing.T) {
	p := members.DefaultProgram()
	m := &members.Membership{SpendFen: 60000}
	c := p.CardOf(m)
	if c.TierRank != 1 || c.Next == nil || c.ToNext != 140000 {
		t.Fatalf("card at ¥600: %+v", c)
	}
	p.Basis = members.ByPoints
	if p.Rank(m) != 0 {
		t.Fatal("by points, no points is the first tier")
	}
	m.EarnedTotal = 200000
	if c := p.CardOf(m); c.TierRank != 2 || c.Next != nil {
		t.Fatalf("top tier: %+v", c)
	}
}

// TestReversalTargetProperty: the points a sequence of partial refunds
// takes back never exceed what was earned, never shrink, and a full refund
// takes back everything.
func TestReversalTargetProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		paid := r.Int64N(100000) + 1
		earned := members.Program{PointsPerYuan: r.Int64N(10) + 1}.PointsFor(paid)
		refunded, last := int64(0), int64(0)
		for refunded < paid {
			refunded = min(paid, refunded+r.Int64N(paid)+1)
			got := members.ReversalTarget(earned, paid, refunded)
			if got < last || got > earned || got < 0 {
				t.Fatalf("paid %d earned %d refunded %d: target %d after %d", paid, earned, refunded, got, last)
			}
			last = got
		}
		if last != earned {
			t.Fatalf("full refund of %d took back %d of %d", paid, last, earned)
		}
	}
}

func TestSegmentValidate(t *testing.T) {
	ok := []members.Segment{{Kind: members.SegMembers, StoreID: 9}, {Kind: members.SegTier, Tier: 2}, {Kind: members.SegCategoryBuyer, Category: " 水果 "},
		{Kind: members.SegStoreCustomer, StoreID: 3}, {Kind: members.SegFanGroup, GroupID: 4}}
	for i := range ok {
		if err := ok[i].Validate(); err != nil {
			t.Fatalf("%+v: %v", ok[i], err)
		}
	}
	if ok[0].StoreID != 0 {
		t.Fatal("fields of other kinds are dropped")
	}
	bad := []members.Segment{{Kind: "everyone"}, {Kind: members.SegTier, Tier: -1}, {Kind: members.SegCategoryBuyer, Category: "  "},
		{Kind: members.SegStoreCustomer}, {Kind: members.SegFanGroup}}
	for _, s := range bad {
		if err := s.Validate(); err == nil {
			t.Fatalf("%+v accepted", s)
		}
	}
	g := members.GateOf(members.Segment{Kind: members.SegMembers}, members.DefaultProgram(), "", "")
	if g.Text != "加入会员即可抢购临期好货" || !g.Joinable {
		t.Fatalf("gate: %+v", g)
	}
}
