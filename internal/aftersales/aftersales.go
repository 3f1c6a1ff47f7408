// Package aftersales holds what a customer asks for after paying: 仅退款
// (refund only), 退货退款 (return and refund) and quality complaints with
// photos, the window in which each may be asked per storage class, the
// reasons a customer picks from, the merchant's review with its time limit
// and the rule applied when the merchant lets it lapse, and what happens to
// returned food (written off or put back, by rule).
//
// The money itself moves through payment (one refund row per approved
// request, idempotency key "aftersale:<id>", so retries and racing vendor
// callbacks refund it exactly once); the SQL adapter applies each decision,
// its refund row, stock effect, audit entry and the customer's inbox message
// in one transaction.
package aftersales

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
)

// Kind of a request.
type Kind string

const (
	RefundOnly   Kind = "refund_only"   // 仅退款: money back, the goods stay with the customer (or were never handed over)
	ReturnRefund Kind = "return_refund" // 退货退款: the goods come back to the store, then the money
	Quality      Kind = "quality"       // 质量投诉: a complaint with photos, refunded like refund_only
)

// Status of a request.
type Status string

const (
	Requested  Status = "requested"     // waiting for the merchant (until ReviewBy)
	Refunding  Status = "refunding"     // approved: the refund is at the payment vendor
	Refunded   Status = "refunded"      // the vendor confirmed the refund
	RefundFail Status = "refund_failed" // the vendor refused the refund: staff refund by hand
	Rejected   Status = "rejected"      // the merchant said no (with a note)
	Withdrawn  Status = "withdrawn"     // the customer took it back
)

// LapseActor is who decided when the merchant let the review time lapse.
// The rule: the request is approved as asked (a return counts as not
// received, so nothing goes back on sale). A customer is never left
// waiting on a silent shop; a shop that disagrees decides in time.
const LapseActor = "system:review-lapsed"

// Label is the status as customers and staff see it.
func (s Status) Label() string {
	return map[Status]string{
		Requested: "待商家处理 Waiting for the store", Refunding: "退款中 Refunding", Refunded: "已退款 Refunded",
		RefundFail: "退款失败 Refund failed", Rejected: "已拒绝 Rejected", Withdrawn: "已撤销 Withdrawn",
	}[s]
}

// Reason is one entry of the reasons list a customer picks from.
type Reason struct {
	Code string `json:"code"`
	ZH   string `json:"zh"`
	EN   string `json:"en"`
	// BeforeHandover: offered only while the order is not handed over yet
	// (a change of mind about food still in the store).
	BeforeHandover bool `json:"before_handover,omitempty"`
}

// Reasons is the reasons list, in the order the page shows it.
var Reasons = []Reason{
	{"spoiled", "变质/异味", "Spoiled or smells off", false},
	{"not_cold", "到手不冷/已解冻", "Not cold or thawed on arrival", false},
	{"damaged", "包装破损/压坏", "Damaged or crushed", false},
	{"wrong_item", "商品发错", "Wrong item", false},
	{"missing_item", "少件/漏发", "Item missing", false},
	{"not_as_described", "与描述不符", "Not as described", false},
	{"near_expiry", "临期/过期", "Near or past expiry", false},
	{"changed_mind", "不想要了", "Changed my mind", true},
	{"cannot_pick_up", "无法按时取货", "Cannot pick up in time", true},
	{"other", "其他", "Other", false},
}

// ReasonByCode finds a reason.
func ReasonByCode(code string) (Reason, bool) {
	for _, r := range Reasons {
		if r.Code == code {
			return r, true
		}
	}
	return Reason{}, false
}

// Windows: how long after handover (pickup at the counter, or delivery
// confirmed) a customer may still ask, per storage class. Fresh food is
// judged quickly: a chilled item's complaint after two days says more
// about the customer's fridge than about ours.
var Windows = map[catalog.StorageClass]time.Duration{
	catalog.Chilled: 48 * time.Hour,
	catalog.Frozen:  72 * time.Hour,
	catalog.Ambient: 7 * 24 * time.Hour,
}

// ReviewTime is how long the merchant has to decide. When it lapses the
// request is decided by LapseRule (the customer is not left waiting).
const ReviewTime = 24 * time.Hour

// Limits of what a customer types and attaches.
const (
	MaxNoteRunes = 300
	MaxPhotos    = 6
)

// Line is a quantity of one SKU of the order the request is about.
type Line struct {
	SKUID    int64 `json:"sku_id"`
	Quantity int64 `json:"quantity"`
}

// Request is one after-sales request.
type Request struct {
	ID             int64      `json:"id"`
	MerchantID     int64      `json:"-"`
	OrderID        int64      `json:"order_id"`
	OrderNumber    string     `json:"order_number,omitempty"`
	CustomerID     int64      `json:"-"`
	StoreID        int64      `json:"store_id"`
	Kind           Kind       `json:"kind"`
	Reason         string     `json:"reason"`
	Note           string     `json:"note,omitempty"`
	Photos         []string   `json:"photos"`
	Lines          []Line     `json:"lines"`
	AmountFen      int64      `json:"amount_fen"`
	Status         Status     `json:"status"`
	StatusLabel    string     `json:"status_label"`
	BeforeHandover bool       `json:"before_handover"` // asked before the goods left the store: approval cancels the order
	ReviewBy       time.Time  `json:"review_by"`
	DecidedBy      string     `json:"decided_by,omitempty"`
	DecisionNote   string     `json:"decision_note,omitempty"`
	DecidedAt      *time.Time `json:"decided_at,omitempty"`
	RefundNo       string     `json:"refund_no,omitempty"`
	RefundedAt     *time.Time `json:"refunded_at,omitempty"`
	Stock          string     `json:"stock,omitempty"` // what happened to returned goods: written_off | restocked | released | none
	CreatedAt      time.Time  `json:"created_at"`
}

// Ask is what the customer submits (POST /api/v1/orders/{id}/aftersales).
type Ask struct {
	Kind      Kind     `json:"kind"`
	Reason    string   `json:"reason"`
	Note      string   `json:"note,omitempty"`
	Photos    []string `json:"photos,omitempty"`
	Lines     []Line   `json:"lines,omitempty"`
	AmountFen int64    `json:"amount_fen"`
}

// Errors, one per code.
var (
	ErrKind           = apperr.InvalidField("kind", "invalid_aftersale_kind", "请选择仅退款、退货退款或质量投诉", "Choose refund only, return and refund, or a quality complaint.")
	ErrReason         = apperr.InvalidField("reason", "invalid_aftersale_reason", "请从列表中选择原因", "Choose a reason from the list.")
	ErrPhotos         = apperr.InvalidField("photos", "photos_required", "质量投诉请上传 1 到 6 张照片", "A quality complaint needs 1 to 6 photos.")
	ErrNote           = apperr.InvalidField("note", "note_too_long", "说明最多 300 字", "The note is at most 300 characters.")
	ErrLines          = apperr.InvalidField("lines", "invalid_aftersale_lines", "请选择订单中的商品和数量", "Choose items and quantities from the order.")
	ErrAmount         = apperr.InvalidField("amount_fen", "invalid_refund_amount", "退款金额须大于 0 且不超过可退金额", "The amount must be more than 0 and at most what can still be refunded.")
	ErrWindow         = apperr.New(apperr.Conflict, "aftersale_window_closed", "已超过售后申请时限", "The time to ask for this after-sales service is over.")
	ErrNotEligible    = apperr.New(apperr.Conflict, "aftersale_not_eligible", "该订单当前不能申请售后", "This order cannot have an after-sales request now.")
	ErrOpen           = apperr.New(apperr.Conflict, "aftersale_open", "该订单已有处理中的售后申请", "This order already has an open after-sales request.")
	ErrNotOpen        = apperr.New(apperr.Conflict, "aftersale_decided", "该申请已处理", "This request was already decided.")
	ErrStatsDays      = apperr.InvalidField("days", "invalid_stats_days", "天数须为 1 到 365", "days must be 1 to 365.")
	ErrRejectNote     = apperr.InvalidField("note", "reject_note_required", "拒绝时请写明原因", "Say why when rejecting.")
	ErrBeforeHandover = apperr.New(apperr.Conflict, "aftersale_before_handover", "订单尚未交付：只能申请全额仅退款（取消订单）", "The order was not handed over yet: only a full refund (cancelling the order) can be asked.")
)

// Validate checks an ask's shape; the store checks it against the order.
func (a *Ask) Validate() error {
	switch a.Kind {
	case RefundOnly, ReturnRefund, Quality:
	default:
		return ErrKind
	}
	if _, ok := ReasonByCode(a.Reason); !ok {
		return ErrReason
	}
	a.Note = strings.TrimSpace(a.Note)
	if utf8.RuneCountInString(a.Note) > MaxNoteRunes {
		return ErrNote
	}
	if len(a.Photos) > MaxPhotos || (a.Kind == Quality && len(a.Photos) == 0) {
		return ErrPhotos
	}
	for _, p := range a.Photos {
		if !ValidPhoto(p) {
			return ErrPhotos.With("照片须为本站上传的图片", "Photos must be images uploaded here.")
		}
	}
	if len(a.Lines) > 20 {
		return ErrLines
	}
	seen := map[int64]bool{}
	for _, l := range a.Lines {
		if l.SKUID <= 0 || l.Quantity <= 0 || l.Quantity > 99 || seen[l.SKUID] {
			return ErrLines
		}
		seen[l.SKUID] = true
	}
	if a.Kind == ReturnRefund && len(a.Lines) == 0 {
		return ErrLines.With("退货请选择要退回的商品", "Choose the items you return.")
	}
	if a.AmountFen <= 0 {
		return ErrAmount
	}
	return nil
}

// ValidPhoto accepts only the names our upload endpoint makes
// (/uploads/<24 hex>.<ext>): a request cannot point staff at another site.
func ValidPhoto(p string) bool {
	name, ok := strings.CutPrefix(p, "/uploads/")
	if !ok {
		return false
	}
	base, ext, ok := strings.Cut(name, ".")
	if !ok || len(base) != 24 {
		return false
	}
	for _, c := range base {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	switch ext {
	case "jpg", "png", "webp", "gif":
		return true
	}
	return false
}

// Window is how long after handover an item of the class may be asked
// about (unknown classes get the chilled window, the strictest fresh one).
func Window(s catalog.StorageClass) time.Duration {
	if w, ok := Windows[s]; ok {
		return w
	}
	return Windows[catalog.Chilled]
}

// Fresh says whether returned goods of the class are written off rather
// than put back on sale: chilled and frozen food that left our cold chain
// cannot be vouched for any more.
func Fresh(s catalog.StorageClass) bool { return s != catalog.Ambient }

// Decision is the merchant's (or the lapse rule's) answer.
type Decision struct {
	MerchantID int64
	ID         int64
	Approve    bool
	Note       string
	Actor      string
	// Received: for a return, staff have the goods back in hand (an ambient
	// item then goes back on sale; without it, nothing is restocked).
	Received bool
	// StoreID, when set, limits the decision to requests of that store.
	StoreID int64
}

// Filter selects requests.
type Filter struct {
	MerchantID int64
	CustomerID int64
	OrderID    int64
	StoreID    int64
	Status     Status
	Limit      int
}

// Stats is complaint and refund counts of one product or lot (the quality
// console puts them beside cold-chain evidence).
type Stats struct {
	ProductID   int64  `json:"product_id"`
	ProductName string `json:"product_name"`
	// ProductNameEN: the product's English name, when it has one.
	ProductNameEN string `json:"product_name_en,omitempty"`
	LotCode       string `json:"lot_code,omitempty"`
	Sold          int64  `json:"sold"`       // units handed over or paid
	Complaints    int64  `json:"complaints"` // requests of any kind about it
	Refunded      int64  `json:"refunded"`   // requests refunded
	RefundedFen   int64  `json:"refunded_fen"`
}

// Store persists requests; every write is one transaction with its audit
// entry and the customer's inbox message.
type Store interface {
	// Create checks the ask against the locked order (status, window per
	// line's storage class, quantities, amount left to refund, no other
	// open request) and stores it. Errors: not_found, aftersale_*,
	// invalid_refund_amount.
	Create(ctx context.Context, r *Request, ask Ask, now time.Time) error
	Get(ctx context.Context, merchantID, id int64) (*Request, error)
	List(ctx context.Context, f Filter) ([]Request, error)
	// Decide applies a decision once: approval records the refund (pending
	// at the vendor), cancels an order not handed over yet (its reserved
	// units go back on sale) or writes off / restocks returned units.
	// Errors: not_found, aftersale_decided.
	Decide(ctx context.Context, d Decision) (*Request, error)
	// Withdraw lets the customer take an open request back.
	Withdraw(ctx context.Context, merchantID, customerID, id int64) (*Request, error)
	// Lapsed lists open requests whose review time is over.
	Lapsed(ctx context.Context, now time.Time, limit int) ([]Request, error)
	// Stats sums complaints and refunds per product and lot.
	Stats(ctx context.Context, merchantID int64, from time.Time) ([]Stats, error)
}
