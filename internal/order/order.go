// Package order holds orders from the one-tap buy in a room: idempotent
// creation with a stock reservation, payment, pickup or delivery, and
// cancellation/refund. The status machine lives here; the SQL adapter applies
// each transition atomically with its stock effect.
package order

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/cn"
)

// Status of an order.
type Status string

const (
	PendingPayment Status = "pending_payment" // stock reserved until ReserveExpiresAt
	Paid           Status = "paid"
	Ready          Status = "ready"   // ready for pickup
	Shipped        Status = "shipped" // handed to the courier
	Completed      Status = "completed"
	Cancelled      Status = "cancelled" // by the buyer or staff, stock released (refunded when paid)
	Expired        Status = "expired"   // unpaid in time, stock released
)

// Label is the status as buyers see it.
func (s Status) Label() string {
	switch s {
	case PendingPayment:
		return "待支付 Awaiting payment"
	case Paid:
		return "已支付 Paid"
	case Ready:
		return "待取货 Ready for pickup"
	case Shipped:
		return "已发货 Shipped"
	case Completed:
		return "已完成 Completed"
	case Cancelled:
		return "已取消 Cancelled"
	case Expired:
		return "已超时 Expired"
	}
	return string(s)
}

// Fulfilment is how the buyer gets the food.
type Fulfilment string

const (
	Pickup   Fulfilment = "pickup"
	Delivery Fulfilment = "delivery"
)

// Order is a purchase.
type Order struct {
	ID               int64      `json:"id"`
	MerchantID       int64      `json:"-"`
	Number           string     `json:"number"`
	CustomerID       int64      `json:"-"`
	RoomID           int64      `json:"room_id,omitempty"`
	SaleID           int64      `json:"flash_sale_id,omitempty"`
	GuideCode        string     `json:"guide_code,omitempty"`
	Status           Status     `json:"status"`
	StatusLabel      string     `json:"status_label"`
	Fulfilment       Fulfilment `json:"fulfilment"`
	StoreID          int64      `json:"store_id"`
	ContactName      string     `json:"contact_name,omitempty"`
	ContactPhone     string     `json:"contact_phone,omitempty"`
	Address          string     `json:"address,omitempty"`
	TotalFen         int64      `json:"total_fen"`    // what the buyer pays, after DiscountFen
	DiscountFen      int64      `json:"discount_fen"` // what a coupon took off (subtotal = total + discount)
	CouponClaimID    int64      `json:"coupon_claim_id,omitempty"`
	DrawID           int64      `json:"draw_id,omitempty"`  // a zero-price prize order won in this 福袋 draw
	TrialID          int64      `json:"trial_id,omitempty"` // a zero-price sample order of this trial (内测)
	RefundedFen      int64      `json:"refunded_fen"`
	PickupCode       string     `json:"pickup_code,omitempty"`
	HeldLots         []string   `json:"held_lots,omitempty"` // lots on hold among its units (set where staff look it up to hand it over)
	Lines            []Line     `json:"lines"`
	ReserveExpiresAt time.Time  `json:"reserve_expires_at"`
	CreatedAt        time.Time  `json:"created_at"`
	PaidAt           *time.Time `json:"paid_at,omitempty"`
	ReadyAt          *time.Time `json:"ready_at,omitempty"`
	ShippedAt        *time.Time `json:"shipped_at,omitempty"`
	CompletedAt      *time.Time `json:"completed_at,omitempty"`
	CancelledAt      *time.Time `json:"cancelled_at,omitempty"`
	IdempotencyKey   string     `json:"-"`
	RequestHash      string     `json:"-"`
	// CouponPick is the request's coupon choice, read by the store when it
	// prices the order: "" or "auto" (the best in the wallet), "none", or a
	// claim id.
	CouponPick string `json:"-"`
	// The pickup slot booked (stores with slots): SlotMoved says the slot
	// the buyer asked for was full and the order took the next free one.
	PickupSlotStart *time.Time `json:"pickup_slot_start,omitempty"`
	PickupSlotEnd   *time.Time `json:"pickup_slot_end,omitempty"`
	PickupSlotLabel string     `json:"pickup_slot_label,omitempty"`
	SlotMoved       bool       `json:"slot_moved,omitempty"`
	// PickupSlotAsked is the slot start the buyer asked for (zero: the first free one).
	PickupSlotAsked time.Time `json:"-"`
	// Same-city delivery: the point the buyer chose on the address, its
	// distance from the store, and the fee (part of TotalFen). The slot
	// fields above hold the delivery slot of such an order.
	DeliveryLat    *float64 `json:"delivery_lat,omitempty"`
	DeliveryLng    *float64 `json:"delivery_lng,omitempty"`
	DistanceM      int64    `json:"distance_m,omitempty"`
	DeliveryFeeFen int64    `json:"delivery_fee_fen"`
}

// Line is one SKU in an order with the price and the product's names
// and SKU's names (Chinese, and English when they have one) at order time.
type Line struct {
	SKUID         int64  `json:"sku_id"`
	ProductID     int64  `json:"product_id"`
	ProductName   string `json:"product_name"`
	ProductNameEN string `json:"product_name_en,omitempty"`
	SKUName       string `json:"sku_name"`
	SKUNameEN     string `json:"sku_name_en,omitempty"`
	Quantity      int64  `json:"quantity"`
	UnitFen       int64  `json:"unit_fen"`
	TotalFen      int64  `json:"total_fen"`
}

// Request is what a buyer submits (POST /api/v1/orders).
type Request struct {
	Items      []Item     `json:"items"`
	Fulfilment Fulfilment `json:"fulfilment"`
	StoreID    int64      `json:"store_id,omitempty"`
	Name       string     `json:"contact_name,omitempty"`
	Phone      string     `json:"contact_phone,omitempty"`
	Address    string     `json:"address,omitempty"`
	RoomID     int64      `json:"room_id,omitempty"`
	GuideCode  string     `json:"guide_code,omitempty"`
	SaleID     int64      `json:"flash_sale_id,omitempty"` // buy through a running flash sale
	// Coupon: "" or "auto" applies the wallet's best coupon, "none" none,
	// a claim id that one (coupons' stacking rules: one per order, none on
	// flash-sale orders).
	Coupon string `json:"coupon,omitempty"`
	// PickupSlot is the start of the pickup slot the buyer chose (stores
	// with slots); empty takes the first free one, a full one the next.
	PickupSlot *time.Time `json:"pickup_slot,omitempty"`
	// Lat and Lng are the delivery address's point, chosen by the buyer
	// (their current location; GCJ-02 like stores): same-city delivery
	// picks the nearest store whose radius covers it and charges its fee.
	// DeliverySlot is the delivery slot chosen (stores with delivery slots).
	Lat          *float64   `json:"lat,omitempty"`
	Lng          *float64   `json:"lng,omitempty"`
	DeliverySlot *time.Time `json:"delivery_slot,omitempty"`
}

// Item is one requested SKU and quantity.
type Item struct {
	SKUID    int64 `json:"sku_id"`
	Quantity int64 `json:"quantity"`
}

// Length limits of what a buyer types (a 100 KB guide code was accepted once).
const (
	MaxNameRunes    = 30
	MaxAddressRunes = 200
	MaxGuideCode    = 32
)

// ErrContactTooLong refuses contact details over the limits.
var ErrContactTooLong = apperr.InvalidField("contact_name", "contact_too_long", "联系人最多30字，电话最多20位，地址最多200字", "Contact name at most 30 characters, phone 20, address 200.")

// MaxQuantity caps one line so a typo cannot reserve a whole warehouse.
const MaxQuantity = 99

var (
	// ErrInvalidItems refuses an order of 0 or more than 20 lines.
	ErrInvalidItems = apperr.InvalidField("items", "invalid_items", "请选择1到20件商品", "Choose between 1 and 20 items.")
	// ErrDuplicateItem refuses a SKU listed twice in one order.
	ErrDuplicateItem = apperr.InvalidField("items.sku_id", "duplicate_item", "同一规格请合并数量", "List each SKU once.")
	// ErrInvalidCoupon refuses a coupon choice that is neither auto, none nor an id.
	ErrInvalidCoupon = apperr.InvalidField("coupon", "invalid_coupon", "优惠券参数无效", "Invalid coupon choice.")
	// ErrStoreRequired asks a pickup order for its store.
	ErrStoreRequired = apperr.InvalidField("store_id", "store_required", "请选择自提门店", "Choose a pickup store.")
	// ErrAddressRequired asks a delivery order for recipient and address.
	ErrAddressRequired = apperr.InvalidField("address", "address_required", "请填写收货人和地址", "Enter the recipient and address.")
	// ErrInvalidFulfilment refuses a fulfilment other than pickup or delivery.
	ErrInvalidFulfilment = apperr.InvalidField("fulfilment", "invalid_fulfilment", "请选择自提或配送", "Choose pickup or delivery.")
)

// Validate checks a request's shape (stock and prices are checked in the store).
func (r *Request) Validate() error {
	if len(r.Items) == 0 || len(r.Items) > 20 {
		return ErrInvalidItems
	}
	seen := map[int64]bool{}
	for i, it := range r.Items {
		f := fmt.Sprintf("items[%d]", i)
		if it.SKUID <= 0 {
			return catalog.ErrUnknownSKU.At(f + ".sku_id")
		}
		if it.Quantity <= 0 || it.Quantity > MaxQuantity {
			return apperr.ErrInvalidQuantity.At(f+".quantity").With("数量须为1到99", "Quantity must be between 1 and 99.")
		}
		if seen[it.SKUID] {
			return ErrDuplicateItem.At(f + ".sku_id")
		}
		seen[it.SKUID] = true
	}
	r.Name, r.Address = strings.TrimSpace(r.Name), strings.TrimSpace(r.Address)
	if len([]rune(r.Name)) > MaxNameRunes || len(r.Phone) > 20 || len([]rune(r.Address)) > MaxAddressRunes {
		return ErrContactTooLong
	}
	if len(r.Coupon) > 20 {
		return ErrInvalidCoupon
	}
	if len(r.GuideCode) > MaxGuideCode {
		r.GuideCode = "" // a mangled share link still buys, unattributed
	}
	switch r.Fulfilment {
	case Pickup:
		if r.StoreID <= 0 {
			return ErrStoreRequired
		}
	case Delivery:
		if r.Name == "" || r.Address == "" || len([]rune(r.Address)) > 200 || len([]rune(r.Name)) > 30 {
			return ErrAddressRequired
		}
		if (r.Lat == nil) != (r.Lng == nil) || (r.Lat != nil && (*r.Lat < -90 || *r.Lat > 90 || *r.Lng < -180 || *r.Lng > 180 || (*r.Lat == 0 && *r.Lng == 0))) {
			return apperr.ErrInvalidLocation.At("lat")
		}
	default:
		return ErrInvalidFulfilment
	}
	return nil
}

// Order errors, each with a stable code.
var (
	ErrUnknownSKU      = catalog.ErrUnknownSKU.At("items").With("商品规格不存在或已下架", "Unknown or inactive SKU.")
	ErrExpired         = apperr.New(apperr.Gone, "reservation_expired", "订单已超时，库存已释放，请重新下单", "The reservation expired; please order again.")
	ErrNotPayable      = apperr.New(apperr.Conflict, "not_payable", "订单当前不可支付", "This order cannot be paid now.")
	ErrBadTransition   = apperr.ErrInvalidTransition.With("订单状态不允许此操作", "The order cannot do that in its current status.")
	ErrBadPickupCode   = apperr.New(apperr.NotFound, "invalid_pickup_code", "取货码无效", "Unknown pickup code.")
	ErrIdempotencyKey  = apperr.InvalidField("Idempotency-Key", "invalid_idempotency_key", "幂等键缺失或过长", "Idempotency-Key is missing or too long.")
	ErrIdempotencyUsed = apperr.New(apperr.Conflict, "idempotency_key_reused", "该幂等键已用于不同的请求", "This Idempotency-Key was used for a different request.")
	ErrDeliveryStore   = apperr.New(apperr.Conflict, "no_delivery_store", "暂无可配送的门店", "No store ships delivery orders.")
)

// NewPickupCode returns an 8-digit code; uniqueness per merchant is enforced by the store.
func NewPickupCode() string {
	v, _ := rand.Int(rand.Reader, big.NewInt(100_000_000))
	return fmt.Sprintf("%08d", v.Int64())
}

// NormalizePickupCode strips spaces so "1234 5678" works.
func NormalizePickupCode(s string) (string, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if len(s) != 8 {
		return "", ErrBadPickupCode
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return "", ErrBadPickupCode
		}
	}
	return s, nil
}

// NewNumber makes a human order number: date + random, e.g. 20261126-4F7K2Q.
func NewNumber(now time.Time) string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, 6)
	for i := range b {
		v, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[v.Int64()]
	}
	return now.In(cn.Shanghai).Format("20060102") + "-" + string(b)
}

// Filter selects orders in lists.
type Filter struct {
	MerchantID int64
	CustomerID int64
	StoreID    int64
	RoomID     int64
	GuideCode  string // orders a guide's share code brought
	Status     Status
	Limit      int
	BeforeID   int64
}

// Store persists orders; each method is one atomic transaction.
type Store interface {
	// Create reserves stock (FEFO, in the chosen store) and stores the order,
	// or returns the existing order when (customer, idempotency key) was used
	// before with the same request.
	Create(ctx context.Context, o *Order, items []Item) (created bool, err error)
	Get(ctx context.Context, merchantID, id int64) (*Order, error)
	List(ctx context.Context, f Filter) ([]Order, error)
	ByPickupCode(ctx context.Context, merchantID int64, code string) (*Order, error)
	// HeldLots returns the codes of the lots on hold that the order's
	// not-yet-handed-over units come from (handover is refused while any is).
	HeldLots(ctx context.Context, merchantID, orderID int64) ([]string, error)
	// Transition moves an order to next if allowed from its current status and
	// applies the stock effect exactly once (consume on handover, release on
	// cancel/expiry): Apply with no conditions, on behalf of the system.
	Transition(ctx context.Context, merchantID, id int64, next Status) (*Order, error)
	// Apply checks m (Move.Check) on the locked order and applies it in the
	// same transaction, with the stock effect, the refund and its audit
	// entry. Errors: not_found, invalid_transition, m.Refuse,
	// pickup_needs_code, pickup_not_shipped.
	Apply(ctx context.Context, m Move) (*Order, error)
	// ExpireDue expires unpaid orders past their reservation; returns them.
	ExpireDue(ctx context.Context, now time.Time, limit int) ([]Order, error)
	// GuideSales sums the orders each store guide's shared links brought in
	// [from, to), best first.
	GuideSales(ctx context.Context, merchantID int64, from, to time.Time) ([]GuideSales, error)
	// StoreSales sums orders and paid revenue per store over [from, to).
	StoreSales(ctx context.Context, merchantID int64, from, to time.Time) ([]StoreSales, error)
}

// StoreSales is one store's trade over a period: every order placed for
// it, and the money of those that were paid (net of refunds) — its GMV.
type StoreSales struct {
	StoreID    int64 `json:"store_id"`
	Orders     int64 `json:"orders"`
	PaidOrders int64 `json:"paid_orders"`
	GMVFen     int64 `json:"gmv_fen"`
}

// GuideSales is what one guide's attribution code brought in: every order
// placed through their share link, and the money of those that were paid
// (net of refunds).
type GuideSales struct {
	GuideCode  string `json:"guide_code"`
	GuideName  string `json:"guide_name"` // "" when no staff member has the code any more
	StoreID    int64  `json:"store_id,omitempty"`
	Orders     int64  `json:"orders"`
	PaidOrders int64  `json:"paid_orders"`
	RevenueFen int64  `json:"revenue_fen"`
}

// Allowed lists the moves of the status machine.
var Allowed = map[Status][]Status{
	PendingPayment: {Paid, Cancelled, Expired},
	Paid:           {Ready, Shipped, Cancelled, Completed},
	Ready:          {Completed, Cancelled},
	Shipped:        {Completed},
}

// CanMove reports whether from → to is a legal move.
func CanMove(from, to Status) bool {
	for _, s := range Allowed[from] {
		if s == to {
			return true
		}
	}
	return false
}
