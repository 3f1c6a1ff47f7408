package inventory_test

import (
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/inventory"
)

func TestParseStockCSV(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai
	rows, err := inventory.ParseStockCSV([]byte("规格编码,门店,批次号,生产日期,到期日期,库存\n"+
		"SB-500,静安寺店,L1126,2026-11-25,2026/12/1,40\n"+
		"SB-500,2,L1126,,2026-12-01,12件\n"), now)
	if err != nil {
		t.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	r := rows[0]
	if len(rows) != 2 || r.Row != 2 || r.SKUCode != "SB-500" || r.Store != "静安寺店" || r.LotCode != "L1126" || r.OnHand != 40 {
		t.Fatalf("rows %+v", rows)
	}
	if !r.ProducedAt.Equal(time.Date(2026, 11, 25, 0, 0, 0, 0, cst)) || !r.ExpiresAt.Equal(time.Date(2026, 12, 1, 23, 59, 59, 0, cst)) {
		t.Fatalf("dates %v → %v", r.ProducedAt, r.ExpiresAt)
	}
	if p := rows[1].ProducedAt; !p.Equal(time.Date(2026, 11, 26, 0, 0, 0, 0, cst)) || rows[1].OnHand != 12 {
		t.Fatalf("no production date: %v, on hand %d", p, rows[1].OnHand)
	}

	head := "sku_code,store,lot,expires,on_hand\n"
	for name, c := range map[string]struct{ csv, field, code string }{
		"NoStoreColumn": {"sku_code,lot,expires,on_hand\na,b,2026-12-01,1\n", "header", "missing_column"},
		"BadDate":       {head + "a,1,L,12/01/2026,1\n", "row 2: expires", "invalid_dates"},
		"Negative":      {head + "a,1,L,2026-12-01,-1\n", "row 2: on_hand", "invalid_quantity"},
		"Fraction":      {head + "a,1,L,2026-12-01,1.5\n", "row 2: on_hand", "invalid_quantity"},
		"LongLot":       {head + "a,1,L123456789012345678901,2026-12-01,1\n", "row 2: lot", "invalid_lot_code"},
		"Twice":         {head + "a,1,L,2026-12-01,1\na,1,L,2026-12-01,2\n", "row 3: lot", "duplicate_row"},
		"ProducedAfter": {"sku_code,store,lot,produced,expires,on_hand\na,1,L,2026-12-02,2026-12-01,1\n", "row 2: expires", "invalid_dates"},
	} {
		t.Run(name, func(t *testing.T) {
			rows, err := inventory.ParseStockCSV([]byte(c.csv), now)
			if e := apperr.As(err); rows != nil || e.Code != c.code || e.Field != c.field {
				t.Fatalf("got %v (field %q), want %s at %q", err, apperr.As(err).Field, c.code, c.field)
			}
		})
	}
}

// FuzzStockCSV: any input is refused with a field-addressed input problem or
// gives rows with a lot code, a valid date range and a quantity in range.
func FuzzStockCSV(f *testing.F) {
	f.Add([]byte("规格编码,门店,批次号,到期日期,库存\nSB-500,静安寺店,L1,2026-12-01,40\n"))
	f.Add([]byte("sku_code,store,lot,produced,expires,on_hand\na,1,L,2026-1-2,2026/02/03,0\n"))
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := inventory.ParseStockCSV(data, now)
		if err != nil {
			if e := apperr.As(err); e.Kind != apperr.Invalid || e.Code == "" || e.Field == "" {
				t.Fatalf("not a field-addressed input problem: %#v", e)
			}
			return
		}
		for _, r := range rows {
			l := inventory.Lot{Code: r.LotCode, ProducedAt: r.ProducedAt, ExpiresAt: r.ExpiresAt}
			if err := l.Validate(); err != nil || r.OnHand < 0 || r.OnHand > 10_000_000 || r.SKUCode == "" || r.Store == "" {
				t.Fatalf("bad row accepted: %+v (%v)", r, err)
			}
		}
	})
}
