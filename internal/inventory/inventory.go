// Package inventory holds lots (batches with production and expiry dates),
// stock per store and lot, and the allocation rule: first expiry, first out
// (FEFO), never from a lot on hold or past its expiry.
package inventory

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Lot is one production batch of a SKU.
type Lot struct {
	ID         int64     `json:"id"`
	MerchantID int64     `json:"-"`
	SKUID      int64     `json:"sku_id"`
	Code       string    `json:"code"`
	ProducedAt time.Time `json:"produced_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Origin     string    `json:"origin,omitempty"`
	Hold       bool      `json:"hold"` // the whole lot, in every store
	HoldReason string    `json:"hold_reason,omitempty"`
	// HeldStores lists the stores where only this lot's units there are
	// held (an excursion at a store's fridge).
	HeldStores []int64 `json:"held_stores,omitempty"`
}

// Validate checks a lot before it is stored.
func (l *Lot) Validate() error {
	l.Code = strings.TrimSpace(l.Code)
	if l.Code == "" || len(l.Code) > 20 {
		return ErrInvalidLotCode
	}
	if l.ExpiresAt.IsZero() || l.ProducedAt.IsZero() || !l.ExpiresAt.After(l.ProducedAt) {
		return ErrInvalidDates
	}
	return nil
}

// Level is the stock of one lot in one store.
type Level struct {
	StoreID   int64     `json:"store_id"`
	LotID     int64     `json:"lot_id"`
	SKUID     int64     `json:"sku_id"`
	LotCode   string    `json:"lot_code"`
	ExpiresAt time.Time `json:"expires_at"`
	Hold      bool      `json:"hold"`       // not sellable here: the lot is held, or its units in this store are
	StoreHold bool      `json:"store_hold"` // held in this store only (an excursion at its fridge)
	OnHand    int64     `json:"on_hand"`
	Reserved  int64     `json:"reserved"`
}

// Available is what can still be sold from this level at time now.
func (l Level) Available(now time.Time) int64 {
	if Sellable(l.Hold, l.ExpiresAt, now) != nil {
		return 0
	}
	return l.OnHand - l.Reserved
}

// Errors of the sale rule: each has one stable code.
var (
	// ErrLotOnHold refuses to sell (or hand over) units of a lot that quality
	// put on hold, a cold-chain excursion under review.
	ErrLotOnHold = apperr.New(apperr.Conflict, "lot_on_hold", "该批次冷链复核中，暂停销售", "This lot is on hold for a cold-chain review and cannot be sold.")
	// ErrLotExpired refuses to sell units of a lot past its expiry.
	ErrLotExpired = apperr.New(apperr.Conflict, "lot_expired", "该批次已过保质期，不能销售", "This lot is past its expiry and cannot be sold.")
)

// HandoverOnHold refuses to hand over (pickup or shipping) an order holding
// units of lots that went on hold after it was paid, and says the way out:
// quality releases the lot, or the order is cancelled and refunded.
func HandoverOnHold(codes []string) *apperr.Error {
	lots := strings.Join(codes, "、")
	return ErrLotOnHold.With("批次 "+lots+" 冷链复核中，暂不能交付：请等待品控放行后再交付，或取消订单为顾客退款",
		"Lot "+strings.Join(codes, ", ")+" is on hold for a cold-chain review; do not hand it over. Wait for the quality team's release, or cancel the order and refund the customer.")
}

// Sellable is the one rule every sale path applies (ordinary orders, flash
// sales, and any later coupon or pre-sale path): a unit may be sold only
// from a lot that is not on hold and not expired at now. Allocation (FEFO,
// a flash sale's quota) skips lots that fail it, and the stores re-check it
// inside the transaction that writes the sale (sqldb.checkSellable), so a
// hold that lands between the two still wins.
func Sellable(hold bool, expiresAt, now time.Time) error {
	switch {
	case hold:
		return ErrLotOnHold
	case !expiresAt.After(now):
		return ErrLotExpired
	}
	return nil
}

// Take is a part of an allocation: qty units from one lot in one store.
type Take struct {
	StoreID int64
	LotID   int64
	Qty     int64
}

// ErrOutOfStock says the store cannot cover the quantity.
var (
	ErrOutOfStock     = apperr.New(apperr.Conflict, "out_of_stock", "库存不足", "Not enough stock.")
	ErrBelowReserved  = apperr.New(apperr.Conflict, "below_reserved", "库存不能少于已被预订的数量", "Stock cannot go below the units already reserved.")
	ErrInvalidDates   = apperr.InvalidField("expires_at", "invalid_dates", "保质期须晚于生产日期", "Expiry must be after production.")
	ErrInvalidLotCode = apperr.InvalidField("code", "invalid_lot_code", "批次号必填，最多20个字符", "Lot code is required (max 20 characters, as in GS1 AI 10).")
)

// AllocateFEFO takes qty units from levels, earliest expiry first. It returns
// ErrOutOfStock without a partial allocation when levels cannot cover qty,
// or ErrLotOnHold when they could but for units of lots on hold (the buyer
// is told why, not "sold out").
func AllocateFEFO(levels []Level, qty int64, now time.Time) ([]Take, error) {
	ls := append([]Level(nil), levels...)
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].ExpiresAt.Before(ls[j].ExpiresAt) })
	var out []Take
	left, held := qty, int64(0)
	for _, l := range ls {
		if left == 0 {
			break
		}
		if l.Hold && l.ExpiresAt.After(now) {
			held += l.OnHand - l.Reserved
		}
		a := l.Available(now)
		if a <= 0 {
			continue
		}
		n := min(a, left)
		out = append(out, Take{StoreID: l.StoreID, LotID: l.LotID, Qty: n})
		left -= n
	}
	if left > 0 {
		if held >= left {
			return nil, ErrLotOnHold
		}
		return nil, ErrOutOfStock
	}
	return out, nil
}

// Store persists lots and stock, scoped by merchant.
type Store interface {
	CreateLot(ctx context.Context, l *Lot) error
	ListLots(ctx context.Context, merchantID int64, skuID int64) ([]Lot, error)
	Lot(ctx context.Context, merchantID, id int64) (*Lot, error)
	SetHold(ctx context.Context, merchantID, lotID int64, hold bool, reason string) error
	// HeldLots returns the lots among ids that are on hold, as a whole or
	// in the store (a flash sale of that store pauses).
	HeldLots(ctx context.Context, merchantID, storeID int64, ids []int64) ([]Lot, error)
	// SetStoreHold holds (or releases) the lot's units in one store only.
	SetStoreHold(ctx context.Context, merchantID, lotID, storeID int64, hold bool, reason string) error
	// HeldStores lists the stores where the lot's units are held on their own.
	HeldStores(ctx context.Context, merchantID, lotID int64) ([]int64, error)
	// SetStock sets on-hand units of a lot in a store; it refuses to go below reserved.
	SetStock(ctx context.Context, merchantID, storeID, lotID, onHand int64) error
	// ImportStock applies a stock count, creating missing lots, all or
	// nothing; it returns how many lots it created.
	ImportStock(ctx context.Context, merchantID int64, rows []StockRow) (int, error)
	Levels(ctx context.Context, merchantID, skuID int64) ([]Level, error)
	// Available returns sellable units per SKU over all stores.
	Available(ctx context.Context, merchantID int64, skuIDs []int64) (map[int64]int64, error)
}
