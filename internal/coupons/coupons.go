// Package coupons holds the shop's coupons: what each kind takes off an
// order, who may use it where and when, its budget, and the in-memory
// Allocator that hands a pushed coupon card out to a room without ever
// issuing more than the budget (the flash-sale allocator's design: decide in
// memory, write winners in batches, acknowledge after commit).
//
// Stacking rules (one place, Best applies them):
//   - one coupon per order; coupons never stack with each other;
//   - flash-sale orders take no coupon (the sale price is the promotion);
//   - a coupon takes off at most its eligible subtotal (the lines in its
//     scope), and an order always pays at least 0.01 元: a coupon never makes
//     goods free (free goods are draw prizes, which are orders of their own);
//   - 新人券 only on the customer's first order (no earlier order that was
//     paid, or is still awaiting payment);
//   - 直播间专享 only on an order placed in the coupon's room.
//
// Refund rule (sqldb applies it in the transaction that moves the order):
// when an order that used a coupon is cancelled or expires — unpaid, or
// paid and cancelled in full — the coupon goes back to the buyer's wallet
// if it is still inside its validity window, and is void otherwise. A
// partial refund keeps it used. A refund never pays a coupon's value out:
// the refundable amount is what was paid, net of the saving.
package coupons

import (
	"context"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/members"
)

// Kind is what a coupon takes off and on which condition.
type Kind string

const (
	Fixed     Kind = "fixed"     // 立减: AmountFen off
	Threshold Kind = "threshold" // 满减: AmountFen off an eligible subtotal of at least MinSpendFen
	Percent   Kind = "percent"   // 折扣: PercentOff % off the eligible subtotal, at most MaxOffFen
	Newcomer  Kind = "newcomer"  // 新人券: AmountFen off the customer's first order
	RoomOnly  Kind = "room"      // 直播间专享: AmountFen off an order placed in RoomID
)

// Label is the kind as the pages show it.
func (k Kind) Label() string {
	switch k {
	case Fixed:
		return "立减 Money off"
	case Threshold:
		return "满减 Spend & save"
	case Percent:
		return "折扣 Percent off"
	case Newcomer:
		return "新人券 First order"
	case RoomOnly:
		return "直播间专享 Live room only"
	}
	return string(k)
}

// Status of a coupon.
type Status string

const (
	Draft  Status = "draft"  // created, not yet pushed
	Live   Status = "live"   // pushed into its room: viewers grab it
	Closed Status = "closed" // grabbing stopped (budget gone, host ended it, or window over); claims stay usable in their window
)

// Scope narrows where a coupon applies; an empty list places no limit.
// Categories are products' categories (catalog.Product.Category: 水果,
// 乳品 …).
type Scope struct {
	ProductIDs []int64  `json:"product_ids"`
	Categories []string `json:"categories"`
	StoreIDs   []int64  `json:"store_ids"`
}

// Coupon is one coupon the merchant issues.
type Coupon struct {
	ID          int64  `json:"id"`
	MerchantID  int64  `json:"-"`
	RoomID      int64  `json:"room_id,omitempty"` // where its card is pushed (and, for RoomOnly, the only room it applies in)
	Kind        Kind   `json:"kind"`
	KindLabel   string `json:"kind_label"`
	Title       string `json:"title"`
	AmountFen   int64  `json:"amount_fen,omitempty"`
	MinSpendFen int64  `json:"min_spend_fen,omitempty"`
	PercentOff  int64  `json:"percent_off,omitempty"`
	MaxOffFen   int64  `json:"max_off_fen,omitempty"`
	// BudgetCount is how many may be issued; BudgetFen, when set, bounds
	// the most the issued coupons can cost (MaxCost each), so the count
	// issued is also at most BudgetFen / MaxCost.
	BudgetCount  int64      `json:"budget_count"`
	BudgetFen    int64      `json:"budget_fen,omitempty"`
	PerUserLimit int64      `json:"per_user_limit"`
	ValidFrom    time.Time  `json:"valid_from"`
	ValidUntil   time.Time  `json:"valid_until"`
	Scope        Scope      `json:"scope"`
	Status       Status     `json:"status"`
	Issued       int64      `json:"issued"`
	Remaining    int64      `json:"remaining"` // units left to grab (live figure while pushed)
	CreatedAt    time.Time  `json:"created_at"`
	PushedAt     *time.Time `json:"pushed_at,omitempty"`
}

// MaxCost is the most one issued coupon can take off an order.
func (c *Coupon) MaxCost() int64 {
	if c.Kind == Percent {
		return c.MaxOffFen
	}
	return c.AmountFen
}

// Units is the number of coupons the budget allows: the count, and the
// money budget divided by the most each can cost.
func (c *Coupon) Units() int64 {
	n := c.BudgetCount
	if c.BudgetFen > 0 && c.MaxCost() > 0 {
		n = min(n, c.BudgetFen/c.MaxCost())
	}
	return n
}

// Validate checks a new coupon.
func (c *Coupon) Validate() error {
	c.KindLabel = c.Kind.Label()
	if n := len([]rune(c.Title)); n == 0 || n > 30 {
		return ErrTitle
	}
	switch c.Kind {
	case Fixed, Newcomer, RoomOnly, Threshold:
		if c.AmountFen <= 0 || c.AmountFen > 1_000_000 {
			return ErrAmount
		}
		if c.Kind == Threshold && c.MinSpendFen <= c.AmountFen {
			return ErrMinSpend
		}
		if c.PercentOff != 0 || c.MaxOffFen != 0 {
			return ErrAmount.With("该券种不用折扣率", "This kind takes an amount, not a percentage.")
		}
	case Percent:
		if c.PercentOff < 1 || c.PercentOff > 90 {
			return ErrPercent
		}
		if c.MaxOffFen <= 0 || c.MaxOffFen > 1_000_000 {
			return ErrMaxOff
		}
		if c.AmountFen != 0 {
			return ErrAmount.With("折扣券不用立减金额", "A percent coupon takes no amount.")
		}
	default:
		return ErrKind
	}
	if c.MinSpendFen < 0 || c.MinSpendFen > 100_000_000 {
		return ErrMinSpend
	}
	if c.Kind == RoomOnly && c.RoomID <= 0 {
		return ErrRoomRequired
	}
	if c.BudgetCount <= 0 || c.BudgetCount > 1_000_000 {
		return ErrBudget
	}
	if c.BudgetFen < 0 || (c.BudgetFen > 0 && c.BudgetFen < c.MaxCost()) {
		return ErrBudget.With("预算金额须至少够发一张", "The money budget must cover at least one coupon.")
	}
	if c.PerUserLimit <= 0 || c.PerUserLimit > 10 {
		return ErrPerUser
	}
	if !c.ValidUntil.After(c.ValidFrom) || c.ValidUntil.Sub(c.ValidFrom) > 366*24*time.Hour {
		return ErrWindow
	}
	if len(c.Scope.ProductIDs) > 200 || len(c.Scope.Categories) > 20 || len(c.Scope.StoreIDs) > 200 {
		return ErrScope
	}
	return nil
}

// Errors, each with a stable code.
var (
	ErrKind         = apperr.InvalidField("kind", "coupon_kind", "券种须为立减、满减、折扣、新人券或直播间专享", "Kind must be fixed, threshold, percent, newcomer or room.")
	ErrTitle        = apperr.InvalidField("title", "coupon_title", "券名须为1到30字", "The title needs 1 to 30 characters.")
	ErrAmount       = apperr.InvalidField("amount_fen", "coupon_amount", "立减金额须为0.01到10000元", "The amount must be 0.01 to 10,000 yuan.")
	ErrMinSpend     = apperr.InvalidField("min_spend_fen", "coupon_min_spend", "满减门槛须高于立减金额", "The spend threshold must exceed the amount off.")
	ErrPercent      = apperr.InvalidField("percent_off", "coupon_percent", "折扣须为1%到90%", "Percent off must be 1 to 90.")
	ErrMaxOff       = apperr.InvalidField("max_off_fen", "coupon_max_off", "折扣券须设最高优惠金额", "A percent coupon needs a maximum saving.")
	ErrRoomRequired = apperr.InvalidField("room_id", "coupon_room_required", "直播间专享券须指定直播间", "A room-only coupon needs its room.")
	ErrUnknownRoom  = ErrRoomRequired.With("直播间不存在", "Unknown room.") // not the caller's, or no such room
	ErrBudget       = apperr.InvalidField("budget_count", "coupon_budget", "发放数量须为1到100万", "Budget must be 1 to 1,000,000 coupons.")
	ErrPerUser      = apperr.InvalidField("per_user_limit", "coupon_per_user", "每人限领须为1到10张", "Per-person limit must be 1 to 10.")
	ErrWindow       = apperr.InvalidField("valid_until", "coupon_window", "有效期须晚于开始时间且不超过一年", "The validity must end after it starts, within a year.")
	ErrScope        = apperr.InvalidField("scope", "coupon_scope", "适用范围过大", "The scope lists too many items.")

	ErrGone       = apperr.New(apperr.Conflict, "coupon_gone", "券已抢光", "All coupons are gone.")
	ErrClaimLimit = apperr.New(apperr.Conflict, "coupon_claim_limit", "你已领过这张券", "You already have this coupon.")
	ErrNotLive    = apperr.New(apperr.Conflict, "coupon_not_live", "这张券现在不能领取", "This coupon cannot be grabbed now.")
	ErrNotDraft   = apperr.New(apperr.Conflict, "coupon_pushed", "券已推送过", "The coupon was pushed already.")
	ErrNoRoom     = apperr.New(apperr.Conflict, "coupon_no_room", "券未指定直播间，无法推送", "The coupon has no room to push into.")
	ErrBusy       = apperr.ErrBusy.With("领券人数太多，请稍后重试", "Too many people grabbing right now; try again in a moment.")
	// ErrNotApplicable: the coupon the buyer chose does not apply to this order.
	ErrNotApplicable = apperr.InvalidField("coupon", "coupon_not_applicable", "所选优惠券不适用于本单", "The chosen coupon does not apply to this order.")
)

// ClaimStatus of a coupon in a buyer's wallet.
type ClaimStatus string

const (
	ClaimIssued ClaimStatus = "issued" // in the wallet
	ClaimUsed   ClaimStatus = "used"   // applied to an order
	ClaimVoid   ClaimStatus = "void"   // returned after its window ended
)

// Claim is one coupon in a buyer's wallet.
type Claim struct {
	ID         int64       `json:"id"`
	CouponID   int64       `json:"coupon_id"`
	CustomerID int64       `json:"-"`
	Status     ClaimStatus `json:"status"`
	OrderID    int64       `json:"order_id,omitempty"`
	SavedFen   int64       `json:"saved_fen,omitempty"`
	ClaimedAt  time.Time   `json:"claimed_at"`
	Coupon     *Coupon     `json:"coupon,omitempty"`
}

// ListMax is the most coupons Store.List answers.
const ListMax = 200

// ListFilter narrows Store.List. StoreID keeps what a store's staff read
// (app.couponScope): its rooms' coupons and the whole-shop coupons with no
// store in their scope or this one. The database filters before the cap,
// so a store's newest coupons are not crowded out by other stores'.
//
// LiveAt keeps the cards a room shows: coupons live (pushed, not ended)
// whose window has not ended at that time, also filtered before the cap,
// so a room's many older or ended coupons never hide a live card.
type ListFilter struct {
	RoomID  int64     // 0: every room
	StoreID int64     // 0: every store
	LiveAt  time.Time // zero: any status and window
}

// Store persists coupons and claims; each method is one transaction.
type Store interface {
	Create(ctx context.Context, c *Coupon) error
	Get(ctx context.Context, merchantID, id int64) (*Coupon, error)
	// List lists the merchant's coupons the filter keeps, newest first, at
	// most ListMax.
	List(ctx context.Context, merchantID int64, f ListFilter) ([]Coupon, error)
	// SetStatus moves a coupon from one status to another (pushing: draft →
	// live); it answers false when the coupon was not in from.
	SetStatus(ctx context.Context, merchantID, id int64, from, to Status) (bool, error)
	// Live returns every live coupon with how many claims each customer
	// holds, to rebuild allocators.
	Live(ctx context.Context) ([]Coupon, map[int64]map[int64]int64, error)
	// IssueBatch writes grabbed claims in one transaction, guarded in the
	// database by issued + n <= Units(); each Grab gets its outcome.
	IssueBatch(ctx context.Context, batch []*Grab) error
	// IssueNaive is the benchmark baseline: one transaction per grab on
	// the coupon's row.
	IssueNaive(ctx context.Context, g *Grab) error
	// Wallet lists a customer's claims with their coupons.
	Wallet(ctx context.Context, merchantID, customerID int64) ([]Claim, error)
	// FirstOrder reports whether the customer has no order paid or
	// awaiting payment (新人券).
	FirstOrder(ctx context.Context, merchantID, customerID int64) (bool, error)
	// Report sums issued, used and cost per coupon of a room (0: all rooms).
	Report(ctx context.Context, merchantID, roomID int64) ([]ReportRow, error)
	// IssueToSegment gives every customer of in.Segment one coupon in one
	// transaction, with an inbox message each (title, body, bodyEN), once
	// per request key: a repeat fills in the first issue (Repeated). Errors:
	// coupon_card_live, coupon_window, coupon_budget_short (nobody gets
	// one), idempotency_key_reused, segment_invalid, unknown_store.
	IssueToSegment(ctx context.Context, in *SegmentIssue, prog members.Program, title, body, bodyEN string) error
	// SegmentIssues lists a coupon's issues to segments, newest first.
	SegmentIssues(ctx context.Context, merchantID, couponID int64) ([]SegmentIssue, error)
}

// Grab is one viewer's grab waiting for the next batch commit.
type Grab struct {
	MerchantID int64
	CouponID   int64
	CustomerID int64
	Seq        int64 // the customer's n-th claim of this coupon (1-based)
	Claim      *Claim
	Err        error
}

// ReportRow is one coupon's cost in a room: what was issued, what orders
// used, what that cost the merchant (savings on orders that were paid, net
// of returned coupons) and the paid revenue those orders brought.
type ReportRow struct {
	CouponID   int64  `json:"coupon_id"`
	RoomID     int64  `json:"room_id"`
	RoomSlug   string `json:"room_slug,omitempty"`
	RoomTitle  string `json:"room_title,omitempty"`
	Title      string `json:"title"`
	Kind       Kind   `json:"kind"`
	Units      int64  `json:"units"`
	Issued     int64  `json:"issued"`
	Used       int64  `json:"used"`        // claims on orders now awaiting payment or paid
	PaidOrders int64  `json:"paid_orders"` // paid orders that used it
	CostFen    int64  `json:"cost_fen"`    // savings on those paid orders
	RevenueFen int64  `json:"revenue_fen"` // what those paid orders paid, net of refunds
	Returned   int64  `json:"returned"`    // claims given back after a cancel
	Void       int64  `json:"void"`
}
