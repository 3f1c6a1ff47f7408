package coupons

import (
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/members"
)

// SegmentIssue gives one coupon to every customer of a segment (members, a
// tier, a fan group, past buyers of a category, a store's customers) at
// once, without a card to grab: all of them or none (the remaining budget
// must cover the segment), each told in their inbox. The request key makes
// it idempotent: issuing again with the same key returns the first issue
// and gives nobody a second coupon.
type SegmentIssue struct {
	ID         int64           `json:"id"`
	MerchantID int64           `json:"-"`
	CouponID   int64           `json:"coupon_id"`
	Segment    members.Segment `json:"segment"`
	Key        string          `json:"-"`
	Issued     int64           `json:"issued"` // customers in the segment, one coupon each
	By         string          `json:"by"`
	CreatedAt  time.Time       `json:"created_at"`
	// Repeated: the key was used before; this is that issue, nothing new.
	Repeated bool `json:"repeated"`
}

// SegmentSeq is the claim number of a segment issue's coupons: negative
// (grabs count 1, 2, …; draws use −draw id) and below every draw id, so a
// customer's coupon from an issue never collides with a grabbed one.
func SegmentSeq(issueID int64) int64 { return -(1 << 40) - issueID }

// Errors of segment issuing.
var (
	// ErrCardLive refuses to issue a coupon whose card viewers are grabbing:
	// its allocator hands out the budget.
	ErrCardLive = apperr.New(apperr.Conflict, "coupon_card_live", "这张券正在直播间抢领中，请结束后再定向发放或另建一张券", "Viewers are grabbing this coupon's card; end it first or create another coupon.")
	// ErrBudgetShort refuses an issue the remaining budget cannot cover for
	// everyone in the segment (nobody gets one then).
	ErrBudgetShort = apperr.New(apperr.Conflict, "coupon_budget_short", "剩余数量不够发给这个人群的每一位顾客", "The remaining budget does not cover everyone in the segment.")
)
