// Package freshness turns food that would be thrown away into sales: rules
// per storage class say when a lot counts as near expiry (临期), a markdown
// ladder per rule prices it by the time it has left (never below a floor
// the merchant sets), and a clearance session sells the day's candidates of
// one store in a live room as time-limited, quantity-limited offers.
//
// The package holds the rules and the arithmetic; sqldb keeps the rules and
// lists stock; app makes the session (a room with flash sales).
package freshness

import (
	"context"
	"encoding/json"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/members"
)

// Step is one rung of a markdown ladder: with at most HoursLeft hours to
// expiry, the price is Percent of the regular price.
type Step struct {
	HoursLeft int `json:"hours_left"`
	Percent   int `json:"percent"`
}

// Rule says when a lot of a storage class is near expiry and how it is
// marked down. FloorPercent is the lowest share of the regular price any
// rung may reach (the merchant's margin floor).
type Rule struct {
	Storage      catalog.StorageClass `json:"storage"`
	LeadHours    int                  `json:"lead_hours"` // a lot is a candidate this long before it expires
	Ladder       []Step               `json:"ladder"`
	FloorPercent int                  `json:"floor_percent"`
}

// Rules is a merchant's set, one per storage class.
type Rules []Rule

// DefaultRules are what a grocer starts with: chilled food two days before
// expiry, frozen two weeks, ambient (dry goods, drinks) thirty days; bakery
// and other same-day food is chilled with a short shelf life and so enters
// on its last day anyway.
func DefaultRules() Rules {
	return Rules{
		{Storage: catalog.Chilled, LeadHours: 48, FloorPercent: 40, Ladder: []Step{{48, 80}, {24, 60}, {8, 50}}},
		{Storage: catalog.Frozen, LeadHours: 14 * 24, FloorPercent: 50, Ladder: []Step{{14 * 24, 85}, {7 * 24, 70}, {2 * 24, 60}}},
		{Storage: catalog.Ambient, LeadHours: 30 * 24, FloorPercent: 50, Ladder: []Step{{30 * 24, 90}, {14 * 24, 75}, {3 * 24, 60}}},
	}
}

// Errors, one per code.
var (
	ErrRules        = apperr.InvalidField("rules", "clearance_rules_invalid", "临期规则无效：每个储存方式一条，提前量 1 小时到 180 天，折扣阶梯按剩余时间从长到短、价格从高到低，保底 1–100%", "Invalid clearance rules: one per storage class, lead time 1 h to 180 days, ladder rungs from most to least time left with falling prices, floor 1–100 %.")
	ErrNoCandidates = apperr.New(apperr.Conflict, "clearance_nothing_to_sell", "所选门店没有可清仓的临期商品", "The store has no near-expiry stock to clear.")
	ErrSession      = apperr.InvalidField("items", "clearance_session_invalid", "请选择门店和至少一个临期商品，时长 10 分钟到 12 小时", "Choose a store, at least one near-expiry item and a length of 10 minutes to 12 hours.")
)

// Validate checks and orders a rule set.
func (rs Rules) Validate() error {
	seen := map[catalog.StorageClass]bool{}
	for i := range rs {
		r := &rs[i]
		switch r.Storage {
		case catalog.Chilled, catalog.Frozen, catalog.Ambient:
		default:
			return ErrRules
		}
		if seen[r.Storage] || r.LeadHours < 1 || r.LeadHours > 180*24 || r.FloorPercent < 1 || r.FloorPercent > 100 || len(r.Ladder) == 0 || len(r.Ladder) > 10 {
			return ErrRules
		}
		seen[r.Storage] = true
		sort.Slice(r.Ladder, func(a, b int) bool { return r.Ladder[a].HoursLeft > r.Ladder[b].HoursLeft })
		for j, s := range r.Ladder {
			if s.HoursLeft < 1 || s.HoursLeft > r.LeadHours || s.Percent < 1 || s.Percent > 100 {
				return ErrRules
			}
			if j > 0 && (s.HoursLeft == r.Ladder[j-1].HoursLeft || s.Percent > r.Ladder[j-1].Percent) {
				return ErrRules
			}
		}
	}
	return nil
}

// For returns the rule of a storage class (false: none, never a candidate).
func (rs Rules) For(storage catalog.StorageClass) (Rule, bool) {
	for _, r := range rs {
		if r.Storage == storage {
			return r, true
		}
	}
	return Rule{}, false
}

// Near reports whether a lot expiring at exp is a candidate at now: not yet
// expired and within the rule's lead time.
func (r Rule) Near(exp, now time.Time) bool {
	left := exp.Sub(now)
	return left > 0 && left <= time.Duration(r.LeadHours)*time.Hour
}

// Price is the ladder price at now of a lot expiring at exp, for a regular
// price: the rung for the time left (the regular price before the first
// rung), never below the merchant's floor (FloorPercent of the regular
// price, rounded up to the fen), never above the regular price, and 0 once
// expired (not for sale).
func (r Rule) Price(regularFen int64, exp, now time.Time) int64 {
	left := exp.Sub(now)
	if left <= 0 || regularFen <= 0 {
		return 0
	}
	pct := 100
	for _, s := range r.Ladder {
		if left <= time.Duration(s.HoursLeft)*time.Hour {
			pct = s.Percent
		}
	}
	price := regularFen * int64(pct) / 100
	if floor := r.Floor(regularFen); price < floor {
		price = floor
	}
	if price > regularFen {
		price = regularFen
	}
	return price
}

// Floor is the lowest price the rule allows for a regular price:
// FloorPercent of it, rounded up to the fen.
func (r Rule) Floor(regularFen int64) int64 {
	return (regularFen*int64(r.FloorPercent) + 99) / 100
}

// Candidate is near-expiry stock of one SKU lot in one store, priced now.
type Candidate struct {
	StoreID     int64  `json:"store_id"`
	StoreName   string `json:"store_name"`
	ProductID   int64  `json:"product_id"`
	ProductName string `json:"product_name"`
	// ProductNameEN: the product's English name, when it has one.
	ProductNameEN string               `json:"product_name_en,omitempty"`
	SKUID         int64                `json:"sku_id"`
	SKUName       string               `json:"sku_name"`
	LotID         int64                `json:"lot_id"`
	LotCode       string               `json:"lot_code"`
	Storage       catalog.StorageClass `json:"storage"`
	ExpiresAt     time.Time            `json:"expires_at"`
	HoursLeft     float64              `json:"hours_left"`
	Available     int64                `json:"available"`
	RegularFen    int64                `json:"regular_fen"`
	PriceFen      int64                `json:"price_fen"`
	FloorFen      int64                `json:"floor_fen"`
	// GramsEach is the SKU's net weight when its name states one ("500g",
	// "1kg", "2斤"), for the waste-saved report; 0 when it does not.
	GramsEach int64 `json:"grams_each"`
}

// Lot is what the store lists for candidates: one SKU lot's sellable units in one store.
type Lot struct {
	StoreID       int64
	StoreName     string
	ProductID     int64
	ProductName   string
	ProductNameEN string
	SKUID         int64
	SKUName       string
	LotID         int64
	LotCode       string
	Storage       catalog.StorageClass
	ExpiresAt     time.Time
	Available     int64
	RegularFen    int64
}

// Candidates picks the near-expiry lots with units left and prices them,
// soonest expiry first.
func Candidates(rs Rules, lots []Lot, now time.Time) []Candidate {
	out := []Candidate{}
	for _, l := range lots {
		r, ok := rs.For(l.Storage)
		if !ok || l.Available <= 0 || !r.Near(l.ExpiresAt, now) {
			continue
		}
		out = append(out, Candidate{StoreID: l.StoreID, StoreName: l.StoreName, ProductID: l.ProductID, ProductName: l.ProductName, ProductNameEN: l.ProductNameEN,
			SKUID: l.SKUID, SKUName: l.SKUName, LotID: l.LotID, LotCode: l.LotCode, Storage: l.Storage, ExpiresAt: l.ExpiresAt,
			HoursLeft: math.Round(l.ExpiresAt.Sub(now).Hours()*10) / 10, Available: l.Available, RegularFen: l.RegularFen,
			PriceFen: r.Price(l.RegularFen, l.ExpiresAt, now), FloorFen: r.Floor(l.RegularFen),
			GramsEach: GramsIn(l.SKUName)})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].ExpiresAt.Equal(out[j].ExpiresAt) {
			return out[i].ExpiresAt.Before(out[j].ExpiresAt)
		}
		return out[i].SKUID < out[j].SKUID
	})
	return out
}

var weightRE = regexp.MustCompile(`(?i)(\d+(?:\.\d+)?)\s*(kg|千克|公斤|g|克|斤)`)

// GramsIn reads a net weight from a SKU name such as "500g", "1.5kg" or
// "2斤" (a jin is 500 g); several packs ("6×250g") are not multiplied, as
// the name does not say whether the count is part of the unit. 0 when none.
func GramsIn(name string) int64 {
	m := weightRE.FindStringSubmatch(strings.ReplaceAll(name, "　", " "))
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0
	}
	switch strings.ToLower(m[2]) {
	case "kg", "千克", "公斤":
		v *= 1000
	case "斤":
		v *= 500
	}
	return int64(math.Round(v))
}

// MarshalRules and UnmarshalRules store a rule set as JSON.
func MarshalRules(rs Rules) string { b, _ := json.Marshal(rs); return string(b) }

// UnmarshalRules reads stored rules; anything unreadable gives the defaults.
func UnmarshalRules(s string) Rules {
	var rs Rules
	if s == "" || json.Unmarshal([]byte(s), &rs) != nil || rs.Validate() != nil {
		return DefaultRules()
	}
	return rs
}

// Session is a clearance live: one room at one store, one flash sale per
// near-expiry SKU at its ladder price.
type Session struct {
	ID         int64     `json:"id"`
	MerchantID int64     `json:"-"`
	RoomID     int64     `json:"room_id"`
	RoomSlug   string    `json:"room_slug"`
	StoreID    int64     `json:"store_id"`
	StartsAt   time.Time `json:"starts_at"`
	EndsAt     time.Time `json:"ends_at"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	Items      []Item    `json:"items"`
}

// Item is one offer of a session.
type Item struct {
	SaleID     int64                `json:"sale_id"`
	SKUID      int64                `json:"sku_id"`
	ProductID  int64                `json:"product_id"`
	Storage    catalog.StorageClass `json:"storage"`
	RegularFen int64                `json:"regular_fen"`
	PriceFen   int64                `json:"price_fen"`
	Quantity   int64                `json:"quantity"`
	GramsEach  int64                `json:"grams_each"`
	ExpiresAt  time.Time            `json:"expires_at"` // the earliest lot's expiry: always on the card
}

// Opening is everything a clearance session writes: its scheduled room with
// the lineup, who may see it, one flash sale per offer and the session
// record. Sales[i] is the sale of Session.Items[i]; the store fills in the
// ids (room, sales, session) as it writes them.
type Opening struct {
	Room     *live.Room
	Lineup   []int64
	Audience *members.Segment // nil: the room is open to everyone
	Sales    []*flashsale.Sale
	Session  *Session
}

// SavedRow is the waste-saved report for one store and storage class:
// units (and kilograms, where SKU names state a weight) sold instead of
// written off, and the money recovered.
type SavedRow struct {
	StoreID    int64                `json:"store_id"`
	StoreName  string               `json:"store_name"`
	Storage    catalog.StorageClass `json:"storage"`
	Sessions   int64                `json:"sessions"`
	Offered    int64                `json:"units_offered"`
	UnitsSold  int64                `json:"units_sold"`
	GramsSold  int64                `json:"grams_sold"`
	RevenueFen int64                `json:"revenue_fen"`
	RegularFen int64                `json:"regular_value_fen"` // the same units at regular prices
}

// Store keeps rules and sessions and lists sellable lots.
type Store interface {
	Rules(ctx context.Context, merchantID int64) (Rules, error)
	SaveRules(ctx context.Context, merchantID int64, rs Rules) error
	SellableLots(ctx context.Context, merchantID, storeID int64, now, before time.Time) ([]Lot, error)
	// CreateSession writes a whole clearance session in one transaction:
	// its room with the lineup, the audience, the flash sales and the
	// session with its items. A failure anywhere leaves none of it.
	CreateSession(ctx context.Context, o *Opening) error
	// SaleExpiry is the batch expiry of a clearance session's flash sale
	// (nil: the sale is not a clearance offer).
	SaleExpiry(ctx context.Context, merchantID, saleID int64) (*time.Time, error)
	WasteSaved(ctx context.Context, merchantID int64, from, to time.Time) ([]SavedRow, error)
}
