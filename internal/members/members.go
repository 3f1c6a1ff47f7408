// Package members holds a merchant's membership programme: who joined
// (with a membership number), tiers by spend or points, the points ledger
// (earned on paid orders exactly once, taken back on refunds), member
// prices, and segments — the one rule for "is this buyer in that group of
// customers", which rooms restricted to a segment ask. Types and rules
// only; sqldb stores them and app runs them.
package members

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Basis says what a tier's threshold counts.
type Basis string

const (
	BySpend  Basis = "spend"  // lifetime paid money since joining, net of refunds (fen)
	ByPoints Basis = "points" // lifetime points earned, net of reversals
)

// Tier is one level of the programme; a member is in the highest tier whose
// threshold they reached. The first tier's threshold is 0.
type Tier struct {
	Name      string `json:"name"`
	NameEN    string `json:"name_en,omitempty"`
	Threshold int64  `json:"threshold"` // fen (BySpend) or points (ByPoints)
}

// Program is a merchant's membership rules.
type Program struct {
	MerchantID int64  `json:"-"`
	Basis      Basis  `json:"basis"`
	Tiers      []Tier `json:"tiers"`
	// PointsPerYuan: points earned per whole yuan paid for an order.
	PointsPerYuan int64 `json:"points_per_yuan"`
	// Exchange lists the coupons members may take for points (积分兑券).
	Exchange  []Offer   `json:"exchange"`
	UpdatedAt time.Time `json:"updated_at,omitempty"`
}

// Offer is one coupon a member may take for Points points; the coupon's
// own budget limits how many are given.
type Offer struct {
	CouponID int64 `json:"coupon_id"`
	Points   int64 `json:"points"`
}

// DefaultProgram is what a merchant has before configuring one: three
// tiers by spend, one point per yuan.
func DefaultProgram() Program {
	return Program{Basis: BySpend, PointsPerYuan: 1, Tiers: []Tier{
		{Name: "普通会员", NameEN: "Member", Threshold: 0},
		{Name: "银卡会员", NameEN: "Silver", Threshold: 50000},
		{Name: "金卡会员", NameEN: "Gold", Threshold: 200000},
	}}
}

// Errors, one per code.
var (
	ErrProgram       = apperr.InvalidField("tiers", "member_program_invalid", "会员等级须为 1–8 个，名称 1–12 个字，门槛从 0 开始递增；积分比例 0–100", "1–8 tiers with names of 1–12 characters and thresholds rising from 0; 0–100 points per yuan.")
	ErrNotMember     = apperr.New(apperr.NotFound, "not_member", "您还不是会员", "You are not a member yet.")
	ErrPoints        = apperr.New(apperr.Conflict, "points_insufficient", "积分不足", "Not enough points.")
	ErrPointsAmount  = apperr.InvalidField("points", "points_invalid", "积分须为正整数", "Points must be a positive whole number.")
	ErrMemberPrice   = apperr.InvalidField("member_price_fen", "member_price_invalid", "会员价须大于 0 且不高于原价", "The member price must be above 0 and not above the regular price.")
	ErrSegment       = apperr.InvalidField("segment", "segment_invalid", "人群条件无效", "Invalid segment.")
	ErrNotInSegment  = apperr.New(apperr.Forbidden, "segment_required", "本场仅限指定人群抢购", "This session is for a chosen group of customers only.")
	ErrOffer         = apperr.InvalidField("exchange", "points_offer_invalid", "兑换项须为不重复的优惠券，每张 1–1000000 积分，最多 20 项", "Exchange offers: different coupons, 1–1,000,000 points each, at most 20.")
	ErrNoOffer       = apperr.InvalidField("coupon_id", "points_offer_unknown", "这张券不能用积分兑换", "This coupon cannot be taken for points.")
	ErrGroupsMissing = apperr.InvalidField("segment", "segment_groups_unavailable", "粉丝群功能尚未开通", "Fan groups are not available yet.")
)

// Validate checks a programme and tidies its names.
func (p *Program) Validate() error {
	if p.Basis != BySpend && p.Basis != ByPoints {
		return ErrProgram.At("basis")
	}
	if p.PointsPerYuan < 0 || p.PointsPerYuan > 100 {
		return ErrProgram.At("points_per_yuan")
	}
	if len(p.Exchange) > 20 {
		return ErrOffer
	}
	seen := map[int64]bool{}
	for _, o := range p.Exchange {
		if o.CouponID <= 0 || seen[o.CouponID] || o.Points < 1 || o.Points > 1000000 {
			return ErrOffer
		}
		seen[o.CouponID] = true
	}
	if len(p.Tiers) == 0 || len(p.Tiers) > 8 {
		return ErrProgram
	}
	for i := range p.Tiers {
		t := &p.Tiers[i]
		t.Name, t.NameEN = strings.TrimSpace(t.Name), strings.TrimSpace(t.NameEN)
		if n := utf8.RuneCountInString(t.Name); n == 0 || n > 12 || utf8.RuneCountInString(t.NameEN) > 24 {
			return ErrProgram
		}
		if (i == 0 && t.Threshold != 0) || (i > 0 && t.Threshold <= p.Tiers[i-1].Threshold) {
			return ErrProgram
		}
	}
	return nil
}

// Rank is the index of the tier a member with value (fen or points, by
// the basis) is in.
func (p Program) Rank(m *Membership) int {
	v := m.SpendFen
	if p.Basis == ByPoints {
		v = m.EarnedTotal
	}
	rank := 0
	for i, t := range p.Tiers {
		if v >= t.Threshold {
			rank = i
		}
	}
	return rank
}

// PointsFor is what a paid order of paidFen earns: PointsPerYuan for every
// whole yuan.
func (p Program) PointsFor(paidFen int64) int64 {
	if paidFen <= 0 {
		return 0
	}
	return paidFen / 100 * p.PointsPerYuan
}

// ReversalTarget is how many of an order's earned points a refund takes
// back: the refunded share of the money, rounded down, so the total taken
// back never exceeds what was earned and a full refund takes it all.
func ReversalTarget(earned, paidFen, refundedFen int64) int64 {
	switch {
	case earned <= 0 || refundedFen <= 0 || paidFen <= 0:
		return 0
	case refundedFen >= paidFen:
		return earned
	}
	return earned * refundedFen / paidFen
}

// Membership is one customer's card at one merchant.
type Membership struct {
	MerchantID  int64     `json:"-"`
	CustomerID  int64     `json:"customer_id"`
	Number      string    `json:"number"`
	Points      int64     `json:"points"`       // balance, never negative
	EarnedTotal int64     `json:"earned_total"` // lifetime points earned, net of reversals
	SpendFen    int64     `json:"spend_fen"`    // paid since joining, net of refunds
	Source      string    `json:"source"`       // where they joined: room:<slug>, api, my
	JoinedAt    time.Time `json:"joined_at"`
}

// NumberOf formats the merchant-local sequence as the printed card number.
func NumberOf(seq int64) string { return fmt.Sprintf("%08d", seq) }

// Card is what the buyer sees of their membership (我的 → 会员卡).
type Card struct {
	Membership
	Tier     Tier  `json:"tier"`
	TierRank int   `json:"tier_rank"`
	Next     *Tier `json:"next_tier,omitempty"` // the next tier, nil at the top
	// ToNext is what is missing to reach Next (fen or points, by Basis).
	ToNext int64 `json:"to_next,omitempty"`
	Basis  Basis `json:"basis"`
}

// OfferFor is the exchange offer of a coupon, nil when there is none.
func (p Program) OfferFor(couponID int64) *Offer {
	for i := range p.Exchange {
		if p.Exchange[i].CouponID == couponID {
			return &p.Exchange[i]
		}
	}
	return nil
}

// CardOf puts a membership and the programme together.
func (p Program) CardOf(m *Membership) Card {
	c := Card{Membership: *m, Basis: p.Basis}
	c.TierRank = p.Rank(m)
	c.Tier = p.Tiers[c.TierRank]
	if c.TierRank+1 < len(p.Tiers) {
		next := p.Tiers[c.TierRank+1]
		c.Next = &next
		v := m.SpendFen
		if p.Basis == ByPoints {
			v = m.EarnedTotal
		}
		c.ToNext = next.Threshold - v
	}
	return c
}

// EntryKind of a ledger entry.
type EntryKind string

const (
	Earn    EntryKind = "earn"    // a paid order
	Reverse EntryKind = "reverse" // a refund of that order
	Spend   EntryKind = "spend"   // exchanged (for a coupon)
)

// Entry is one line of a member's points ledger. Key is unique per
// merchant (order:<id>:earn, order:<id>:reverse:<target>, spend:<key>), so
// the same thing is never counted twice, whoever retries it.
type Entry struct {
	ID      int64     `json:"id"`
	Kind    EntryKind `json:"kind"`
	Delta   int64     `json:"delta"`   // the change to the balance
	Balance int64     `json:"balance"` // after it
	OrderID int64     `json:"order_id,omitempty"`
	Note    string    `json:"note,omitempty"`
	At      time.Time `json:"at"`
}

// Settlement is what settling an order's points did.
type Settlement struct {
	OrderID  int64 `json:"order_id"`
	Earned   int64 `json:"earned"`   // points the order earned (0: not a member when paid, or nothing paid)
	Reversed int64 `json:"reversed"` // of those, taken back for refunds so far
	Changed  bool  `json:"changed"`  // this call wrote something
}

// OrderRef names an order whose points may need settling.
type OrderRef struct{ MerchantID, OrderID int64 }

// Store keeps memberships, the programme, the ledger, member prices and
// room audiences.
type Store interface {
	Program(ctx context.Context, merchantID int64) (Program, error)
	SaveProgram(ctx context.Context, p Program) error
	// Join makes the customer a member (idempotent: a second join returns
	// the card with joined=false).
	Join(ctx context.Context, merchantID, customerID int64, source string) (m *Membership, joined bool, err error)
	// Membership returns the card, ErrNotMember when there is none.
	Membership(ctx context.Context, merchantID, customerID int64) (*Membership, error)
	Members(ctx context.Context, merchantID int64, limit int) ([]Membership, error)
	// MembershipByNumber finds a card by its printed number (ErrNotMember).
	MembershipByNumber(ctx context.Context, merchantID int64, number string) (*Membership, error)
	Ledger(ctx context.Context, merchantID, customerID int64, limit int) ([]Entry, error)
	// SettleOrder brings an order's points in line with the order, in one
	// transaction: earned once when it is paid (by a member who joined
	// before paying), taken back in proportion to refunds, the balance
	// never below zero. Idempotent.
	SettleOrder(ctx context.Context, merchantID, orderID int64) (*Settlement, error)
	// UnsettledOrders lists members' orders paid since `since` whose points
	// are not settled, or whose refunds are not reflected yet.
	UnsettledOrders(ctx context.Context, since time.Time, limit int) ([]OrderRef, error)
	// SpendPoints takes points from the balance (ErrPoints when too few);
	// the key makes a retry the same spend.
	SpendPoints(ctx context.Context, merchantID, customerID, points int64, key, note string) (*Entry, error)
	// ExchangePoints takes an offer's points and gives one of its coupons in
	// one transaction (both or neither); the key makes a retry the same
	// exchange. It returns the entry and the coupon claim's id.
	ExchangePoints(ctx context.Context, merchantID, customerID int64, offer Offer, key string) (*Entry, int64, error)
	SetMemberPrice(ctx context.Context, merchantID, skuID, priceFen int64) error
	MemberPrices(ctx context.Context, merchantID int64) (map[int64]int64, error)
	// InSegment answers the segment rules that live in the database
	// (members, tier, category buyers, store customers); fan groups are
	// answered by a GroupChecker.
	InSegment(ctx context.Context, merchantID, customerID int64, seg Segment, prog Program) (bool, error)
	// SetAudience restricts a room to a segment (nil: open to everyone).
	SetAudience(ctx context.Context, merchantID, roomID int64, seg *Segment) error
	// Audience is a room's segment, nil when the room is open.
	Audience(ctx context.Context, roomID int64) (*Segment, error)
}
