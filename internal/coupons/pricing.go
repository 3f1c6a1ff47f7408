package coupons

import (
	"slices"
	"time"
)

// Line is one order line as the coupon rules see it.
type Line struct {
	ProductID int64
	Category  string // the product's category (水果, 乳品 …)
	TotalFen  int64
}

// Cart is the order a coupon is weighed against.
type Cart struct {
	Lines      []Line
	StoreID    int64
	RoomID     int64
	FirstOrder bool // the customer has no other order paid or awaiting payment
	FlashSale  bool // flash-sale orders take no coupon
	Now        time.Time
}

// SubtotalFen is the cart's price before any coupon.
func (c *Cart) SubtotalFen() int64 {
	var t int64
	for _, l := range c.Lines {
		t += l.TotalFen
	}
	return t
}

// inScope is the part of the cart the coupon's scope covers.
func (c *Coupon) eligibleFen(cart *Cart) int64 {
	if len(c.Scope.StoreIDs) > 0 && !slices.Contains(c.Scope.StoreIDs, cart.StoreID) {
		return 0
	}
	var t int64
	for _, l := range cart.Lines {
		if len(c.Scope.ProductIDs) > 0 && !slices.Contains(c.Scope.ProductIDs, l.ProductID) {
			continue
		}
		if len(c.Scope.Categories) > 0 && !slices.Contains(c.Scope.Categories, l.Category) {
			continue
		}
		t += l.TotalFen
	}
	return t
}

// Saving is what the coupon takes off the cart, 0 when it does not apply.
// It never exceeds the eligible subtotal, and leaves the order at least
// 1 fen to pay (see the package's stacking rules).
func (c *Coupon) Saving(cart *Cart) int64 {
	if cart.FlashSale || cart.Now.Before(c.ValidFrom) || !cart.Now.Before(c.ValidUntil) {
		return 0
	}
	if c.Kind == Newcomer && !cart.FirstOrder {
		return 0
	}
	if c.Kind == RoomOnly && (cart.RoomID == 0 || cart.RoomID != c.RoomID) {
		return 0
	}
	base := c.eligibleFen(cart)
	if base <= 0 || base < c.MinSpendFen {
		return 0
	}
	var off int64
	if c.Kind == Percent {
		off = min(base*c.PercentOff/100, c.MaxOffFen)
	} else {
		off = c.AmountFen
	}
	off = min(off, base, cart.SubtotalFen()-1)
	return max(off, 0)
}

// Option is one wallet coupon weighed against a cart.
type Option struct {
	ClaimID  int64   `json:"claim_id"`
	Coupon   *Coupon `json:"coupon"`
	SavedFen int64   `json:"saved_fen"`
}

// Best picks the claim that saves most on the cart (ties: the one that
// expires first, then the older claim), or nil when none applies. Only
// issued claims are weighed. It also returns every applicable option, best
// first, for the checkout to show.
func Best(cart *Cart, wallet []Claim) (*Option, []Option) {
	var opts []Option
	for _, cl := range wallet {
		if cl.Status != ClaimIssued || cl.Coupon == nil {
			continue
		}
		if s := cl.Coupon.Saving(cart); s > 0 {
			opts = append(opts, Option{ClaimID: cl.ID, Coupon: cl.Coupon, SavedFen: s})
		}
	}
	slices.SortStableFunc(opts, func(a, b Option) int {
		switch {
		case a.SavedFen != b.SavedFen:
			return int(b.SavedFen - a.SavedFen)
		case !a.Coupon.ValidUntil.Equal(b.Coupon.ValidUntil):
			return a.Coupon.ValidUntil.Compare(b.Coupon.ValidUntil)
		}
		return int(a.ClaimID - b.ClaimID)
	})
	if len(opts) == 0 {
		return nil, []Option{}
	}
	return &opts[0], opts
}
