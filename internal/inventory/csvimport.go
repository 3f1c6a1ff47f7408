package inventory

import (
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/csvfile"
	"github.com/shelflive/shelflive/internal/stores"
)

// StockRow is one line of a stock count: how many units of one lot of a
// SKU a store holds. The lot is created when the shop does not have it yet.
type StockRow struct {
	Row        int // line in the file, for errors
	SKUCode    string
	Store      string // store name, or its id
	LotCode    string
	ProducedAt time.Time
	ExpiresAt  time.Time
	Origin     string
	OnHand     int64
}

// At names a cell of the row in errors: "row 3: store".
func (r StockRow) At(col string) string { return csvfile.At(r.Row, col) }

var stockColumns = map[string][]string{
	"sku_code": {"sku_code", "规格编码", "货号"},
	"store":    {"store", "门店"},
	"lot":      {"lot", "lot_code", "批次", "批次号"},
	"produced": {"produced", "生产日期"},
	"expires":  {"expires", "到期日期", "有效期至"},
	"on_hand":  {"on_hand", "库存", "数量", "在库数量"},
	"origin":   {"origin", "来源", "产地"},
}

// MaxStockRows bounds one stock import.
const MaxStockRows = 10000

// ErrDuplicateRow refuses a row with the same lot and store as an earlier one.
var ErrDuplicateRow = apperr.InvalidField("lot", "duplicate_row", "批次与门店重复", "Same lot and store as another row.")

// ParseStockCSV reads a stock count. Dates are YYYY-MM-DD (or YYYY/MM/DD)
// in China time; a lot expires at the end of its day. Without a production
// date the lot counts as produced on the day of the import.
func ParseStockCSV(data []byte, now time.Time) ([]StockRow, error) {
	rows, err := csvfile.Read(data, stockColumns, []string{"sku_code", "store", "lot", "expires", "on_hand"}, MaxStockRows)
	if err != nil {
		return nil, err
	}
	today := dayStart(now.In(cn.Shanghai))
	seen := map[[3]string]int{}
	out := make([]StockRow, 0, len(rows))
	for _, r := range rows {
		s := StockRow{Row: r.Num, SKUCode: r.Get("sku_code"), Store: r.Get("store"), LotCode: r.Get("lot"), Origin: r.Get("origin")}
		if s.SKUCode == "" {
			return nil, catalog.ErrUnknownSKU.At(r.At("sku_code")).With("规格编码必填", "SKU code is required.")
		}
		if s.Store == "" {
			return nil, stores.ErrUnknownStore.At(r.At("store")).With("门店必填", "Store is required.")
		}
		if s.LotCode == "" || len(s.LotCode) > 20 {
			return nil, ErrInvalidLotCode.At(r.At("lot"))
		}
		exp, ok := parseDay(r.Get("expires"))
		if !ok {
			return nil, ErrInvalidDates.At(r.At("expires")).With("到期日期须为 YYYY-MM-DD", "Expiry must be a date, YYYY-MM-DD.")
		}
		s.ExpiresAt = exp.Add(24*time.Hour - time.Second)
		s.ProducedAt = today
		if v := r.Get("produced"); v != "" {
			if s.ProducedAt, ok = parseDay(v); !ok {
				return nil, ErrInvalidDates.At(r.At("produced")).With("生产日期须为 YYYY-MM-DD", "Production date must be YYYY-MM-DD.")
			}
		} else if !s.ExpiresAt.After(s.ProducedAt) {
			s.ProducedAt = exp // an already expired lot being counted
		}
		if !s.ExpiresAt.After(s.ProducedAt) {
			return nil, ErrInvalidDates.At(r.At("expires")).With("到期日期须晚于生产日期", "Expiry must be after production.")
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(r.Get("on_hand"), "件"), 10, 64)
		if err != nil || n < 0 || n > 10_000_000 {
			return nil, apperr.ErrInvalidQuantity.At(r.At("on_hand")).With("库存须为 0 到 1000 万的整数", "Stock must be a whole number from 0 to 10,000,000.")
		}
		s.OnHand = n
		key := [3]string{s.SKUCode, s.LotCode, s.Store}
		if first, dup := seen[key]; dup {
			return nil, ErrDuplicateRow.At(r.At("lot")).With("与第 "+strconv.Itoa(first)+" 行是同一门店的同一批次", "Same lot and store as row "+strconv.Itoa(first)+".")
		}
		seen[key] = r.Num
		out = append(out, s)
	}
	return out, nil
}

func parseDay(v string) (time.Time, bool) {
	v = strings.ReplaceAll(strings.TrimSpace(v), "/", "-")
	t, err := time.ParseInLocation("2006-1-2", v, cn.Shanghai)
	return t, err == nil
}

func dayStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}
