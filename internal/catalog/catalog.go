// Package catalog holds products and their SKUs: what a room can sell, with
// the facts (origin, ingredients, allergens) shoppers ask about.
package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
)

// StorageClass decides the cold-chain profile of a product.
type StorageClass string

const (
	Chilled StorageClass = "chilled"
	Frozen  StorageClass = "frozen"
	Ambient StorageClass = "ambient"
)

// Product is one sellable item with rich content.
type Product struct {
	ID          int64  `json:"id"`
	MerchantID  int64  `json:"-"`
	Name        string `json:"name"`
	NameEN      string `json:"name_en,omitempty"`
	Subtitle    string `json:"subtitle,omitempty"`
	Description string `json:"description,omitempty"`
	Image       string `json:"image,omitempty"`
	Specs       string `json:"specs,omitempty"`
	Ingredients string `json:"ingredients,omitempty"`
	Allergens   string `json:"allergens,omitempty"`
	Origin      string `json:"origin,omitempty"`
	// Aliases are what viewers call the product in comments ("1号",
	// "黄色那杯"); comment insights attribute comments by them.
	Aliases []string `json:"aliases"`
	// Category (水果, 乳品 …) scopes coupons and commissions and matches
	// past buyers and household pushes; free text, one level.
	Category string `json:"category,omitempty"`
	// ProductType decides which food-claim rules its texts are reviewed
	// under: ordinary_food (default), health_food (保健食品, 蓝帽子) or none.
	ProductType string       `json:"product_type"`
	Storage     StorageClass `json:"storage"`
	ShelfDays   int          `json:"shelf_days,omitempty"`
	Active      bool         `json:"active"`
	SKUs        []SKU        `json:"skus"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// Product types (the compliance review's; see compliance.ProductType).
const (
	OrdinaryFood = "ordinary_food"
	HealthFood   = "health_food"
	NotFood      = "none"
)

// PricePoint is a price a SKU took from At on (its price history).
type PricePoint struct {
	PriceFen int64     `json:"price_fen"`
	At       time.Time `json:"at"`
}

// SKU is a variant with its own price, e.g. 500g vs 1kg.
type SKU struct {
	ID           int64  `json:"id"`
	ProductID    int64  `json:"product_id"`
	Code         string `json:"code"`
	Name         string `json:"name"`
	NameEN       string `json:"name_en,omitempty"` // optional; English pages fall back to Name
	GTIN         string `json:"gtin,omitempty"`
	PriceFen     int64  `json:"price_fen"`
	ListPriceFen int64  `json:"list_price_fen,omitempty"`
	Active       bool   `json:"active"`
	Available    int64  `json:"available"` // sellable units over all stores (not on hold, not reserved)
	Held         int64  `json:"held"`      // unexpired units of lots on hold (cold-chain review): the card says 暂停销售, not sold out
}

// Errors of the catalog; other domains refer to products and SKUs with them.
var (
	ErrUnknownProduct = apperr.InvalidField("product_id", "unknown_product", "商品不存在", "Unknown product.")
	ErrUnknownSKU     = apperr.InvalidField("sku_id", "unknown_sku", "商品规格不存在", "Unknown SKU.")
	ErrInvalidSKU     = apperr.InvalidField("skus", "invalid_sku", "规格名称和编码必填", "SKU name and code are required.")
	ErrDuplicateSKU   = apperr.InvalidField("skus", "duplicate_sku", "规格编码重复", "Duplicate SKU code.")
	ErrInvalidStorage = apperr.InvalidField("storage", "invalid_storage", "储存方式须为 chilled/frozen/ambient", "Storage must be chilled, frozen or ambient.")
)

// ErrSKURequired refuses a product without SKUs.
var ErrSKURequired = apperr.InvalidField("skus", "sku_required", "至少需要一个规格", "At least one SKU is required.")

// Validate checks a product before it is stored.
func (p *Product) Validate() error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" || utf8.RuneCountInString(p.Name) > 80 {
		return apperr.ErrInvalidName.With("商品名称必填，最多80字", "Name is required, at most 80 characters.")
	}
	switch p.Storage {
	case Chilled, Frozen, Ambient:
	case "":
		p.Storage = Ambient
	default:
		return ErrInvalidStorage
	}
	if err := p.cleanAliases(); err != nil {
		return err
	}
	switch p.ProductType {
	case "":
		p.ProductType = OrdinaryFood
	case OrdinaryFood, HealthFood, NotFood:
	default:
		return apperr.ErrInvalidProductType
	}
	p.Category = strings.TrimSpace(p.Category)
	if utf8.RuneCountInString(p.Category) > 20 || strings.ContainsAny(p.Category, "\r\n") {
		return ErrBadCategory
	}
	if len(p.SKUs) == 0 {
		return ErrSKURequired
	}
	codes := map[string]bool{}
	for i := range p.SKUs {
		s := &p.SKUs[i]
		s.Name = strings.TrimSpace(s.Name)
		s.NameEN = strings.TrimSpace(s.NameEN)
		s.Code = strings.TrimSpace(s.Code)
		field := fmt.Sprintf("skus[%d]", i)
		if s.Name == "" || s.Code == "" {
			return ErrInvalidSKU.At(field)
		}
		if codes[s.Code] {
			return ErrDuplicateSKU.At(field + ".code")
		}
		codes[s.Code] = true
		if s.PriceFen < 0 || s.PriceFen > 100_000_000 {
			return apperr.ErrInvalidPrice.At(field+".price_fen").With("价格须在 0 到 100 万元之间", "Price must be between 0 and ¥1,000,000.")
		}
	}
	return nil
}

// ErrBadCategory refuses a category over 20 characters or with a line break.
var ErrBadCategory = apperr.InvalidField("category", "invalid_category", "类目最多20字，不能含换行", "A category is at most 20 characters, no line breaks.")

// ErrBadAlias refuses an alias list the classifier cannot use.
var ErrBadAlias = apperr.InvalidField("aliases", "invalid_alias", "别名最多20个，每个1到20字，不能含换行", "Up to 20 aliases of 1–20 characters each, no line breaks.")

// cleanAliases trims, drops empty and repeated aliases and checks the rest.
func (p *Product) cleanAliases() error {
	out := []string{}
	seen := map[string]bool{}
	for _, a := range p.Aliases {
		a = strings.TrimSpace(a)
		if a == "" || seen[a] {
			continue
		}
		if utf8.RuneCountInString(a) > 20 || strings.ContainsAny(a, "\r\n") {
			return ErrBadAlias
		}
		seen[a] = true
		out = append(out, a)
	}
	if len(out) > 20 {
		return ErrBadAlias
	}
	p.Aliases = out
	return nil
}

// SplitAliases reads aliases as stored (one per line) or as typed in a
// spreadsheet cell or form field (separated by | ， 、 ; or new lines).
func SplitAliases(s string) []string {
	out := []string{}
	for _, a := range strings.FieldsFunc(s, func(r rune) bool {
		return r == '\n' || r == '|' || r == '，' || r == ',' || r == '、' || r == ';' || r == '；'
	}) {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// FormatFen renders fen as ¥12.80.
func FormatFen(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, fen/100, fen%100)
}

// Store persists products; every method is scoped to a merchant.
type Store interface {
	CreateProduct(ctx context.Context, p *Product) error
	// CreateProducts creates all of them in one transaction, or none.
	CreateProducts(ctx context.Context, ps []*Product) error
	UpdateProduct(ctx context.Context, p *Product) error
	Product(ctx context.Context, merchantID, id int64) (*Product, error)
	ListProducts(ctx context.Context, merchantID int64) ([]Product, error)
	SKU(ctx context.Context, merchantID, id int64) (*SKU, *Product, error)
	// SetPrice changes one SKU's price (live price changes from the studio).
	SetPrice(ctx context.Context, merchantID, skuID, priceFen int64) error
	// PriceHistory is a SKU's prices from since on, the price in force at
	// since first (when it had one), oldest first.
	PriceHistory(ctx context.Context, merchantID, skuID int64, since time.Time) ([]PricePoint, error)
}

// Live price changes (POST /api/v1/skus/{id}/price): the price must be
// sent, and a price of 0 — giving the food away to everyone watching — must
// be confirmed in the same request.
var (
	ErrPriceRequired    = apperr.InvalidField("price_fen", "price_required", "请填写价格", "price_fen is required.")
	ErrFreeNeedsConfirm = apperr.InvalidField("confirm_free", "confirm_free_required", "价格为 0 元需确认（confirm_free: true）", "A price of 0 needs confirm_free: true.")
)
