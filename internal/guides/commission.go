package guides

import (
	"context"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cn"
)

// MaxRateBP caps a commission rate: 50 % in basis points (1 % = 100).
const MaxRateBP = 5000

// Rate is one commission rate: for a product (ProductID), for a category
// (Category, the product's catalogue category: 水果, 乳品 …), or the shop's
// default (neither).
type Rate struct {
	ProductID int64  `json:"product_id,omitempty"`
	Category  string `json:"category,omitempty"`
	RateBP    int64  `json:"rate_bp"`
}

// Errors, one per code.
var (
	ErrInvalidRate  = apperr.InvalidField("rate_bp", "invalid_commission_rate", "佣金比例须在 0 到 50% 之间，并且只能针对一个商品或一个品类", "A commission rate is 0–50 % and for one product or one category.")
	ErrInvalidMonth = apperr.InvalidField("month", "invalid_month", "月份格式为 YYYY-MM", "Month is YYYY-MM.")
)

// Validate checks one rate.
func (r Rate) Validate() error {
	if r.RateBP < 0 || r.RateBP > MaxRateBP || r.ProductID < 0 || (r.ProductID > 0 && r.Category != "") {
		return ErrInvalidRate
	}
	if r.Category != strings.TrimSpace(r.Category) || utf8.RuneCountInString(r.Category) > 20 || strings.ContainsAny(r.Category, "\r\n") {
		return ErrInvalidRate.At("category")
	}
	return nil
}

// Rates is a shop's whole rate table.
type Rates []Rate

// Validate checks every rate and that no scope is listed twice.
func (rs Rates) Validate() error {
	seen := map[Rate]bool{}
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			return err
		}
		k := Rate{ProductID: r.ProductID, Category: r.Category}
		if seen[k] {
			return ErrInvalidRate.With("同一商品或品类只能设一个比例", "One rate per product or category.")
		}
		seen[k] = true
	}
	return nil
}

// For is the rate of a product: its own rate, else its category's, else
// the default, else 0.
func (rs Rates) For(productID int64, category string) int64 {
	var cat, def int64 = -1, -1
	for _, r := range rs {
		switch {
		case r.ProductID != 0:
			if r.ProductID == productID {
				return r.RateBP
			}
		case r.Category != "":
			if r.Category == category {
				cat = r.RateBP
			}
		default:
			def = r.RateBP
		}
	}
	if cat >= 0 {
		return cat
	}
	return max(def, 0)
}

// Commission is base × rate, rounded half up to the fen.
func Commission(baseFen, rateBP int64) int64 {
	if baseFen <= 0 {
		return 0
	}
	return (baseFen*rateBP + 5000) / 10000
}

// OrderRow is an attributed, paid order as the statement reads it.
type OrderRow struct {
	OrderID     int64
	Number      string
	GuideCode   string
	GuideName   string
	StoreID     int64
	StoreName   string
	PaidAt      time.Time
	TotalFen    int64
	RefundedFen int64
	Lines       []OrderLine
}

// OrderLine is one line of an OrderRow.
type OrderLine struct {
	ProductID     int64
	ProductName   string
	ProductNameEN string
	SKUName       string
	Category      string
	Quantity      int64
	TotalFen      int64
}

// StatementLine is one order line of a guide's statement.
type StatementLine struct {
	GuideCode   string    `json:"guide_code"`
	GuideName   string    `json:"guide_name"`
	StoreID     int64     `json:"store_id"`
	StoreName   string    `json:"store_name"`
	OrderID     int64     `json:"order_id"`
	OrderNumber string    `json:"order_number"`
	PaidAt      time.Time `json:"paid_at"`
	ProductID   int64     `json:"product_id"`
	ProductName string    `json:"product_name"`
	// ProductNameEN: the product's English name, when it has one.
	ProductNameEN string `json:"product_name_en,omitempty"`
	SKUName       string `json:"sku_name"`
	Category      string `json:"category"`
	Quantity      int64  `json:"quantity"`
	SalesFen      int64  `json:"sales_fen"`      // the line as sold
	RefundFen     int64  `json:"refund_fen"`     // its share of the order's refunds
	BaseFen       int64  `json:"base_fen"`       // what commission is paid on: its share of what the buyer paid and kept
	RateBP        int64  `json:"rate_bp"`        // basis points
	CommissionFen int64  `json:"commission_fen"` // base × rate, half up
}

// Summary adds up a guide's lines at one store (or everything).
type Summary struct {
	GuideCode     string `json:"guide_code,omitempty"`
	GuideName     string `json:"guide_name,omitempty"`
	StoreID       int64  `json:"store_id,omitempty"`
	StoreName     string `json:"store_name,omitempty"`
	Orders        int64  `json:"orders"`
	SalesFen      int64  `json:"sales_fen"`
	RefundFen     int64  `json:"refund_fen"`
	BaseFen       int64  `json:"base_fen"`
	CommissionFen int64  `json:"commission_fen"`
}

// Statement is a month's commission statement.
type Statement struct {
	Month     string          `json:"month"`
	From      time.Time       `json:"from"`
	To        time.Time       `json:"to"`
	Rates     Rates           `json:"rates"`
	Summaries []Summary       `json:"summaries"`
	Lines     []StatementLine `json:"lines"`
	Total     Summary         `json:"total"`
}

// Month parses "YYYY-MM" as the month in China time: [from, to).
func Month(s string) (time.Time, time.Time, error) {
	t, err := time.ParseInLocation("2006-01", s, cn.Shanghai)
	if err != nil {
		return time.Time{}, time.Time{}, ErrInvalidMonth
	}
	return t.UTC(), t.AddDate(0, 1, 0).UTC(), nil
}

// spread divides amount over weights in proportion, in whole fen, largest
// remainders first, so the parts add up to amount exactly.
func spread(amount int64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	var sum int64
	for _, w := range weights {
		sum += w
	}
	if sum <= 0 || amount == 0 {
		if len(out) > 0 {
			out[0] = amount
		}
		return out
	}
	type rem struct {
		i int
		r int64
	}
	rems := make([]rem, len(weights))
	var given int64
	for i, w := range weights {
		out[i] = amount * w / sum
		given += out[i]
		rems[i] = rem{i, amount * w % sum}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; given < amount; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	return out
}

// BuildStatement turns the month's attributed paid orders into the
// statement: each line's base is its share of what the buyer paid and kept
// (order total − refunds, spread over the lines by their amounts), its rate
// the product's, the category's or the default; summaries per guide and
// store and the total add the lines up, so the statement's base equals
// Σ (total − refunded) of its orders to the fen.
func BuildStatement(month string, from, to time.Time, orders []OrderRow, rates Rates) Statement {
	st := Statement{Month: month, From: from, To: to, Rates: rates, Lines: []StatementLine{}, Summaries: []Summary{}}
	if st.Rates == nil {
		st.Rates = Rates{}
	}
	type key struct {
		code  string
		store int64
	}
	sums := map[key]*Summary{}
	var order []key
	for _, o := range orders {
		weights := make([]int64, len(o.Lines))
		for i, l := range o.Lines {
			weights[i] = l.TotalFen
		}
		// What the buyer paid, per line (equal to the lines unless the
		// order total differs from them), then the refunds over that.
		paid := spread(o.TotalFen, weights)
		refunds := spread(o.RefundedFen, paid)
		bases := make([]int64, len(paid))
		for i := range paid {
			bases[i] = paid[i] - refunds[i]
		}
		k := key{o.GuideCode, o.StoreID}
		s := sums[k]
		if s == nil {
			s = &Summary{GuideCode: o.GuideCode, GuideName: o.GuideName, StoreID: o.StoreID, StoreName: o.StoreName}
			sums[k] = s
			order = append(order, k)
		}
		s.Orders++
		st.Total.Orders++
		for i, l := range o.Lines {
			rate := rates.For(l.ProductID, l.Category)
			line := StatementLine{GuideCode: o.GuideCode, GuideName: o.GuideName, StoreID: o.StoreID, StoreName: o.StoreName,
				OrderID: o.OrderID, OrderNumber: o.Number, PaidAt: o.PaidAt, ProductID: l.ProductID, ProductName: l.ProductName, ProductNameEN: l.ProductNameEN,
				SKUName: l.SKUName, Category: l.Category, Quantity: l.Quantity, SalesFen: l.TotalFen, RefundFen: refunds[i],
				BaseFen: bases[i], RateBP: rate, CommissionFen: Commission(bases[i], rate)}
			st.Lines = append(st.Lines, line)
			for _, sum := range []*Summary{s, &st.Total} {
				sum.SalesFen += line.SalesFen
				sum.RefundFen += line.RefundFen
				sum.BaseFen += line.BaseFen
				sum.CommissionFen += line.CommissionFen
			}
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		if order[a].code != order[b].code {
			return order[a].code < order[b].code
		}
		return order[a].store < order[b].store
	})
	for _, k := range order {
		st.Summaries = append(st.Summaries, *sums[k])
	}
	return st
}

// Store keeps rates and reads the orders statements and guide pages need.
type Store interface {
	Rates(ctx context.Context, merchantID int64) (Rates, error)
	// SetRates replaces the shop's rate table in one transaction.
	SetRates(ctx context.Context, merchantID int64, rates Rates) error
	// StatementOrders lists the orders paid in [from, to) whose guide code
	// is a staff guide's (guideCode: only that guide's), with their lines.
	StatementOrders(ctx context.Context, merchantID int64, from, to time.Time, guideCode string) ([]OrderRow, error)
}
