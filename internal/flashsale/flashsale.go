// Package flashsale holds flash sales (秒杀): a quantity of one SKU at a
// special price for a short time, with a per-buyer limit. The sale's units
// are reserved out of stock when it starts, so buyers never race on a stock
// row: an in-memory Allocator hands out the sale's units, and the database is
// the source of truth it is rebuilt from after a restart.
package flashsale

import (
	"context"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/order"
)

// Status of a sale.
type Status string

const (
	Scheduled Status = "scheduled"
	Running   Status = "running"
	Ended     Status = "ended"
)

// Sale is one flash sale in a room.
type Sale struct {
	ID           int64      `json:"id"`
	MerchantID   int64      `json:"-"`
	RoomID       int64      `json:"room_id"`
	ProductID    int64      `json:"product_id"`
	SKUID        int64      `json:"sku_id"`
	StoreID      int64      `json:"store_id"`
	PriceFen     int64      `json:"price_fen"`
	Quantity     int64      `json:"quantity"`
	PerUserLimit int64      `json:"per_user_limit"`
	StartsAt     time.Time  `json:"starts_at"`
	EndsAt       time.Time  `json:"ends_at"`
	Status       Status     `json:"status"`
	CreatedAt    time.Time  `json:"created_at"`
	EndedAt      *time.Time `json:"ended_at,omitempty"`
	Remaining    int64      `json:"remaining"` // units not held by any order (live figure)
	Paused       bool       `json:"paused"`    // a lot of its quota is on hold: buys are refused (ErrPaused)
}

// ErrInvalidLimit refuses a per-buyer limit out of 1..99.
var ErrInvalidLimit = apperr.InvalidField("per_user_limit", "invalid_limit", "每人限购须为1到99", "Per-buyer limit must be between 1 and 99.")

// Validate checks a new sale.
func (s *Sale) Validate(now time.Time) error {
	switch {
	case s.SKUID <= 0:
		return catalog.ErrUnknownSKU.With("请选择秒杀商品规格", "Choose the SKU on sale.")
	case s.Quantity <= 0 || s.Quantity > 100_000:
		return apperr.ErrInvalidQuantity.With("秒杀数量须为1到10万", "Quantity must be between 1 and 100,000.")
	case s.PriceFen < 0 || s.PriceFen > 100_000_000:
		return apperr.ErrInvalidPrice
	case s.PerUserLimit <= 0 || s.PerUserLimit > 99:
		return ErrInvalidLimit
	case !s.EndsAt.After(s.StartsAt):
		return ErrInvalidWindow
	case s.EndsAt.Sub(s.StartsAt) > 7*24*time.Hour:
		return ErrInvalidWindow.With("秒杀最长7天", "A flash sale lasts at most 7 days.")
	case s.EndsAt.Before(now):
		return ErrInvalidWindow.With("结束时间已过", "The end time is in the past.")
	}
	return nil
}

// Errors buyers see; each has a stable code.
var (
	ErrSoldOut       = apperr.New(apperr.Conflict, "sold_out", "已抢光", "Sold out.")
	ErrLimit         = apperr.New(apperr.Conflict, "limit_reached", "已达每人限购数量", "You reached the per-buyer limit.")
	ErrNotRunning    = apperr.New(apperr.Conflict, "sale_not_running", "秒杀未开始或已结束", "The flash sale is not running.")
	ErrBusy          = apperr.ErrBusy.With("抢购人数太多，请稍后重试", "Too many buyers right now; try again in a moment.")
	ErrInvalidWindow = apperr.InvalidField("ends_at", "invalid_window", "结束时间须晚于开始时间", "The sale must end after it starts.")
	ErrQuotaOnStart  = apperr.New(apperr.Conflict, "insufficient_stock", "门店库存不足以开启本次秒杀", "The store has too little stock for this sale.")
	// ErrPaused: a lot of the sale's quota is on hold (cold-chain review);
	// the sale resumes when quality releases it, or ends.
	ErrPaused = apperr.New(apperr.Conflict, "sale_paused", "秒杀暂停：该批次冷链复核中", "The flash sale is paused: the lot is under cold-chain review.")
)

// Quota is the part of a sale's units held in one lot.
type Quota struct {
	StoreID  int64
	LotID    int64
	Quantity int64 // units of the lot reserved for the sale
	Used     int64 // units held by orders (reserved or consumed)
}

// Claim is an order's hold on sale units (rebuilt from the database).
type Claim struct {
	CustomerID int64
	LotID      int64
	Quantity   int64
}

// Store persists sales; each method is one transaction.
type Store interface {
	Create(ctx context.Context, s *Sale) error
	Get(ctx context.Context, merchantID, id int64) (*Sale, error)
	List(ctx context.Context, merchantID, roomID int64) ([]Sale, error)
	// Due returns scheduled sales whose start passed and running sales whose end passed.
	Due(ctx context.Context, now time.Time) (toStart, toEnd []Sale, err error)
	// Running returns every running sale with its quota and live claims, to rebuild allocators.
	Running(ctx context.Context) ([]Sale, map[int64][]Quota, map[int64][]Claim, error)
	// Start reserves the sale's units out of stock (FEFO in the sale's store) and marks it running.
	Start(ctx context.Context, merchantID, id int64, levels func([]inventory.Level) ([]inventory.Take, error)) ([]Quota, error)
	// End returns units no order holds to stock and marks the sale ended.
	End(ctx context.Context, merchantID, id int64) error
	// CreateBatch stores many winners' orders in one transaction; each
	// PendingOrder gets its own outcome.
	CreateBatch(ctx context.Context, batch []*PendingOrder) error
	// OrderTakes returns the sale units an order held.
	OrderTakes(ctx context.Context, orderID int64) ([]inventory.Take, error)
	// OrderByKey finds a buyer's earlier order with the same Idempotency-Key.
	OrderByKey(ctx context.Context, merchantID, customerID int64, key string) (*order.Order, error)
}

// PendingOrder is one winner's order waiting for the next batch commit.
type PendingOrder struct {
	Order *order.Order
	Takes []inventory.Take
	Err   error // set by CreateBatch: nil means committed
	Dup   bool  // the Idempotency-Key was used before: Order is the stored order
}
