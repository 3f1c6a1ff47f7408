package catalog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/csvfile"
)

// A product list as a grocer keeps it in a spreadsheet: one row per SKU,
// rows of one product share its name. Headers may be English or Chinese;
// only product, sku_code, sku_name and price are required.
var csvColumns = map[string][]string{
	"product":     {"product", "商品", "商品名称"},
	"product_en":  {"product_en", "英文名"},
	"subtitle":    {"subtitle", "副标题", "卖点"},
	"description": {"description", "描述", "商品描述"},
	"origin":      {"origin", "产地"},
	"storage":     {"storage", "储存", "储存方式"},
	"shelf_days":  {"shelf_days", "保质期", "保质期天数"},
	"specs":       {"specs", "规格说明"},
	"ingredients": {"ingredients", "配料", "配料表"},
	"allergens":   {"allergens", "过敏原"},
	"aliases":     {"aliases", "别名", "昵称"},
	"category":    {"category", "类目", "分类"},
	// product_type: how the compliance review reads the product's texts.
	"product_type": {"product_type", "商品类型", "食品类型"},
	"sku_code":     {"sku_code", "规格编码", "货号"},
	"sku_name":     {"sku_name", "规格", "规格名称"},
	"price":        {"price", "售价", "价格"},
	"list_price":   {"list_price", "划线价", "原价"},
	"gtin":         {"gtin", "条码", "商品条码"},
}

// csvProductTypes are the product_type cells a spreadsheet may hold.
var csvProductTypes = map[string]string{
	OrdinaryFood: OrdinaryFood, "普通食品": OrdinaryFood,
	HealthFood: HealthFood, "保健食品": HealthFood,
	NotFood: NotFood, "非食品": NotFood,
}

var csvRequired = []string{"product", "sku_code", "sku_name", "price"}

// MaxImportRows bounds one import (a request body is 1 MiB anyway).
const MaxImportRows = 5000

var (
	// ErrValueTooLong refuses a spreadsheet cell over 2,000 characters.
	ErrValueTooLong = apperr.InvalidField("", "value_too_long", "内容过长（最多2000字）", "Too long (at most 2,000 characters).")
	// ErrInvalidShelfDays refuses a shelf life out of 1..3650 days.
	ErrInvalidShelfDays = apperr.InvalidField("shelf_days", "invalid_shelf_days", "保质期须为 1 到 3650 天", "Shelf life must be 1 to 3,650 days.")
	// ErrInvalidGTIN refuses a GTIN of the wrong length or check digit.
	ErrInvalidGTIN = apperr.InvalidField("gtin", "invalid_gtin", "条码须为 8、12、13 或 14 位且校验位正确", "A GTIN has 8, 12, 13 or 14 digits and a valid check digit.")
	// ErrCSVProductType refuses a product_type cell that names no type; it
	// is apperr.ErrInvalidProductType, with the words a spreadsheet uses.
	ErrCSVProductType = apperr.ErrInvalidProductType.With("商品类型须为 普通食品、保健食品 或 非食品（ordinary_food/health_food/none），或留空（普通食品）",
		"product_type must be ordinary_food, health_food or none (普通食品/保健食品/非食品), or empty (ordinary food).")
	// ErrDuplicateGTIN refuses a GTIN that an earlier row of the file has.
	ErrDuplicateGTIN = apperr.InvalidField("gtin", "duplicate_gtin", "条码重复", "Duplicate GTIN.")
)

// ParseProductsCSV reads a product list (encodings: see csvfile). Nothing
// is half-read: the first bad cell fails the whole file with its row and
// column in the error's field, e.g. "row 3: price".
func ParseProductsCSV(data []byte) ([]*Product, error) {
	rows, err := csvfile.Read(data, csvColumns, csvRequired, MaxImportRows)
	if err != nil {
		return nil, err
	}
	var out []*Product
	byName := map[string]*Product{}
	codes := map[string]int{} // SKU code → row
	gtins := map[string]int{} // GTIN → row
	for _, r := range rows {
		cell, at, row := r.Get, r.At, r.Num
		name := cell("product")
		if name == "" || utf8.RuneCountInString(name) > 80 {
			return nil, apperr.ErrInvalidName.At(at("product")).With("商品名称必填，最多80字", "Product name is required, at most 80 characters.")
		}
		p := byName[name]
		if p == nil {
			p = &Product{Name: name, Active: true}
			byName[name] = p
			out = append(out, p)
		}
		// Product fields: the first row of a product that fills one sets it.
		for key, dst := range map[string]*string{"product_en": &p.NameEN, "subtitle": &p.Subtitle, "description": &p.Description, "origin": &p.Origin,
			"specs": &p.Specs, "ingredients": &p.Ingredients, "allergens": &p.Allergens, "category": &p.Category} {
			if v := cell(key); v != "" && *dst == "" {
				if utf8.RuneCountInString(v) > 2000 {
					return nil, ErrValueTooLong.At(at(key))
				}
				*dst = v
			}
		}
		if v := cell("aliases"); v != "" && len(p.Aliases) == 0 {
			p.Aliases = SplitAliases(v)
			if err := p.cleanAliases(); err != nil {
				return nil, ErrBadAlias.At(at("aliases"))
			}
		}
		if v := cell("storage"); v != "" && p.Storage == "" {
			st, ok := map[string]StorageClass{"chilled": Chilled, "冷藏": Chilled, "frozen": Frozen, "冷冻": Frozen, "ambient": Ambient, "常温": Ambient}[strings.ToLower(v)]
			if !ok {
				return nil, ErrInvalidStorage.At(at("storage")).With("储存方式须为 冷藏/冷冻/常温（chilled/frozen/ambient）", "Storage must be chilled, frozen or ambient.")
			}
			p.Storage = st
		}
		if v := cell("product_type"); v != "" && p.ProductType == "" {
			pt, ok := csvProductTypes[strings.ToLower(v)]
			if !ok {
				return nil, ErrCSVProductType.At(at("product_type"))
			}
			p.ProductType = pt
		}
		if v := cell("shelf_days"); v != "" && p.ShelfDays == 0 {
			n, err := strconv.Atoi(strings.TrimSuffix(v, "天"))
			if err != nil || n < 1 || n > 3650 {
				return nil, ErrInvalidShelfDays.At(at("shelf_days"))
			}
			p.ShelfDays = n
		}

		k := SKU{Code: cell("sku_code"), Name: cell("sku_name"), Active: true}
		if k.Code == "" || k.Name == "" || utf8.RuneCountInString(k.Code) > 64 || utf8.RuneCountInString(k.Name) > 80 {
			field := "sku_code"
			if k.Code != "" && utf8.RuneCountInString(k.Code) <= 64 {
				field = "sku_name"
			}
			return nil, ErrInvalidSKU.At(at(field)).With("规格名称和编码必填（编码最多64字，名称最多80字）", "SKU code and name are required (code at most 64, name at most 80 characters).")
		}
		if first, dup := codes[k.Code]; dup {
			return nil, ErrDuplicateSKU.At(at("sku_code")).With(fmt.Sprintf("规格编码与第 %d 行重复", first), fmt.Sprintf("SKU code repeats row %d.", first))
		}
		codes[k.Code] = row
		if k.PriceFen, err = ParseYuan(cell("price")); err != nil {
			return nil, apperr.ErrInvalidPrice.At(at("price")).With("售价须为元，最多两位小数，如 39.80", "Price must be in yuan with at most two decimals, e.g. 39.80.")
		}
		if v := cell("list_price"); v != "" {
			if k.ListPriceFen, err = ParseYuan(v); err != nil {
				return nil, apperr.ErrInvalidPrice.At(at("list_price")).With("划线价须为元，最多两位小数", "List price must be in yuan with at most two decimals.")
			}
		}
		if v := cell("gtin"); v != "" {
			g, ok := NormalizeGTIN(v)
			if !ok {
				return nil, ErrInvalidGTIN.At(at("gtin"))
			}
			if first, dup := gtins[g]; dup {
				return nil, ErrDuplicateGTIN.At(at("gtin")).With(fmt.Sprintf("条码与第 %d 行重复", first), fmt.Sprintf("GTIN repeats row %d.", first))
			}
			gtins[g] = row
			k.GTIN = g
		}
		p.SKUs = append(p.SKUs, k)
	}
	for _, p := range out {
		if err := p.Validate(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ParseYuan reads a price in yuan ("39.8", "39.80", "¥1,299") as fen,
// exactly: no floating point, at most two decimals, 0 to ¥1,000,000.
func ParseYuan(s string) (int64, error) {
	s = strings.TrimSpace(strings.NewReplacer("¥", "", "￥", "", ",", "", "元", "").Replace(s))
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") || len(frac) > 2 || strings.Trim(whole+frac, "0123456789") != "" || len(whole) > 7 {
		return 0, errors.New("not a price")
	}
	for len(frac) < 2 {
		frac += "0"
	}
	fen, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || fen > 100_000_000 {
		return 0, errors.New("not a price")
	}
	return fen, nil
}

// NormalizeGTIN checks a GTIN-8/12/13/14 and returns it as 14 digits.
func NormalizeGTIN(s string) (string, bool) {
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return "", false
	}
	if strings.Trim(s, "0123456789") != "" {
		return "", false
	}
	g := strings.Repeat("0", 14-len(s)) + s
	sum := 0
	for i := 0; i < 13; i++ {
		d := int(g[i] - '0')
		if i%2 == 0 {
			d *= 3 // from the right, the digit next to the check digit weighs 3
		}
		sum += d
	}
	return g, (10-sum%10)%10 == int(g[13]-'0')
}
