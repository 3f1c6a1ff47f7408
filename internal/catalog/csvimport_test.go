package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
)

const sampleCSV = "\xef\xbb\xbf商品,规格编码,规格,售价,划线价,条码,产地,储存,保质期,别名\n" +
	"丹东99草莓,SB-500,500g 盒装,39.8,49.80,06901234500011,辽宁丹东,冷藏,5,1号|红颜、 1号\n" +
	"丹东99草莓,SB-1000,1kg 礼盒,￥69.80,,6901234500028,,,,\n" +
	"\n" +
	"\"低温鲜牛奶, 950ml\",MK-950,950ml,15.9,,,内蒙古,chilled,7天,\n"

func TestParseProductsCSV(t *testing.T) {
	ps, err := catalog.ParseProductsCSV([]byte(sampleCSV))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || len(ps[0].SKUs) != 2 || len(ps[1].SKUs) != 1 {
		t.Fatalf("grouping: %+v", ps)
	}
	sb := ps[0]
	if sb.Name != "丹东99草莓" || sb.Origin != "辽宁丹东" || sb.Storage != catalog.Chilled || sb.ShelfDays != 5 || strings.Join(sb.Aliases, "/") != "1号/红颜" {
		t.Fatalf("product fields: %+v", sb)
	}
	if k := sb.SKUs[0]; k.Code != "SB-500" || k.PriceFen != 3980 || k.ListPriceFen != 4980 || k.GTIN != "06901234500011" {
		t.Fatalf("first SKU: %+v", k)
	}
	if k := sb.SKUs[1]; k.PriceFen != 6980 || k.GTIN != "06901234500028" {
		t.Fatalf("13-digit GTIN and ¥ price: %+v", k)
	}
	if m := ps[1]; m.Name != "低温鲜牛奶, 950ml" || m.ShelfDays != 7 || m.SKUs[0].PriceFen != 1590 {
		t.Fatalf("quoted name, 天 suffix: %+v", m)
	}

	// What Excel on a Chinese Windows saves: GBK.
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(strings.TrimPrefix(sampleCSV, "\xef\xbb\xbf"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := catalog.ParseProductsCSV([]byte(gbk))
	if err != nil || len(again) != 2 || again[0].Name != "丹东99草莓" || again[1].Origin != "内蒙古" {
		t.Fatalf("GBK file: %+v %v", again, err)
	}
}

func TestParseProductsCSVErrors(t *testing.T) {
	head := "product,sku_code,sku_name,price,gtin,storage\n"
	for name, c := range map[string]struct{ csv, field, code string }{
		"Empty":          {"", "file", "empty_csv"},
		"HeaderOnly":     {head, "file", "empty_csv"},
		"MissingPrice":   {"product,sku_code,sku_name\nA,a,1\n", "header", "missing_column"},
		"DupColumn":      {"product,商品,sku_code,sku_name,price\nA,A,a,1,1\n", "header", "duplicate_column"},
		"BadPrice":       {head + "A,a,x,1.234,,\n", "row 2: price", "invalid_price"},
		"NegativePrice":  {head + "A,a,x,-1,,\n", "row 2: price", "invalid_price"},
		"HugePrice":      {head + "A,a,x,1000000.01,,\n", "row 2: price", "invalid_price"},
		"NoName":         {head + ",a,x,1,,\n", "row 2: product", "invalid_name"},
		"NoSKUCode":      {head + "A,,x,1,,\n", "row 2: sku_code", "invalid_sku"},
		"DupSKU":         {head + "A,a,x,1,,\nB,a,y,2,,\n", "row 3: sku_code", "duplicate_sku"},
		"BadGTIN":        {head + "A,a,x,1,06901234500012,\n", "row 2: gtin", "invalid_gtin"},
		"DupGTIN":        {head + "A,a,x,1,06901234500011,\nA,b,y,1,6901234500011,\n", "row 3: gtin", "duplicate_gtin"},
		"BadStorage":     {head + "A,a,x,1,,warm\n", "row 2: storage", "invalid_storage"},
		"LongAlias":      {"product,sku_code,sku_name,price,别名\nA,a,x,1,一二三四五六七八九十一二三四五六七八九十一\n", "row 2: aliases", "invalid_alias"},
		"UnclosedQuote":  {head + "\"A,a,x,1,,\n", "row 2", "invalid_csv"},
		"BadProductType": {"product,sku_code,sku_name,price,product_type\nA,a,x,1,health_food\nB,b,y,1,medicine\n", "row 3: product_type", "invalid_product_type"},
		"NotTextAtAll":   {"\xff\xfe\x00\x00\x81", "file", "invalid_csv_encoding"},
	} {
		t.Run(name, func(t *testing.T) {
			ps, err := catalog.ParseProductsCSV([]byte(c.csv))
			e := apperr.As(err)
			if ps != nil || err == nil || e.Code != c.code || e.Field != c.field {
				t.Fatalf("got %v (field %q), want %s at %q", err, e.Field, c.code, c.field)
			}
		})
	}
}

// TestParseProductsCSVProductType: product_type is optional; English or
// Chinese values, empty is ordinary food, the first row of a product that
// fills it sets it.
func TestParseProductsCSVProductType(t *testing.T) {
	csv := "商品,规格编码,规格,售价,商品类型\n" +
		"蓝帽子鱼油,FO-1,60粒,99,保健食品\n" +
		"蓝帽子鱼油,FO-2,120粒,189,\n" +
		"保鲜袋,BG-1,100只,9.9,none\n" +
		"草莓,SB-1,500g,39.8,\n" +
		"牛奶,MK-1,950ml,15.9,Ordinary_Food\n"
	ps, err := catalog.ParseProductsCSV([]byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{catalog.HealthFood, catalog.NotFood, catalog.OrdinaryFood, catalog.OrdinaryFood}
	for i, p := range ps {
		if p.ProductType != want[i] {
			t.Errorf("%s: product_type %q, want %q", p.Name, p.ProductType, want[i])
		}
	}
	_, err = catalog.ParseProductsCSV([]byte("product,sku_code,sku_name,price,product_type\nA,a,x,1,药品\n"))
	if !errors.Is(err, apperr.ErrInvalidProductType) || !strings.Contains(apperr.As(err).Message, "保健食品") || apperr.As(err).Field != "row 2: product_type" {
		t.Fatalf("a bad product type: %v", err)
	}
}

func TestParseYuanAndGTIN(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "0.5": 50, "39.8": 3980, "39.80": 3980, "¥1,299": 129900, "1000000": 100_000_000, "12元": 1200} {
		if got, err := catalog.ParseYuan(in); err != nil || got != want {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", ".5", "1.", "1.234", "1e3", "-1", "0x10", "1 000", "1000000.01"} {
		if _, err := catalog.ParseYuan(bad); err == nil {
			t.Errorf("ParseYuan(%q) accepted", bad)
		}
	}
	for in, want := range map[string]string{"96385074": "00000096385074", "036000291452": "00036000291452", "6901234500011": "06901234500011", "06901234500028": "06901234500028"} {
		if got, ok := catalog.NormalizeGTIN(in); !ok || got != want {
			t.Errorf("NormalizeGTIN(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"96385075", "123", "0690123450001X", "069012345000111"} {
		if _, ok := catalog.NormalizeGTIN(bad); ok {
			t.Errorf("NormalizeGTIN(%q) accepted", bad)
		}
	}
}

// FuzzProductsCSV: any input either fails with a field-addressed problem or
// yields products that pass Validate, with exact prices in range.
func FuzzProductsCSV(f *testing.F) {
	f.Add([]byte(sampleCSV))
	f.Add([]byte("product,sku_code,sku_name,price\nA,a,x,1.5\n"))
	f.Add([]byte("商品,货号,规格,价格\n\"A\"\"B\",a,x,0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := catalog.ParseProductsCSV(data)
		if err != nil {
			if e := apperr.As(err); e.Kind != apperr.Invalid || e.Code == "" || e.Field == "" {
				t.Fatalf("error is not a field-addressed input problem: %#v", e)
			}
			return
		}
		codes := map[string]bool{}
		for _, p := range ps {
			if err := p.Validate(); err != nil {
				t.Fatalf("accepted product fails Validate: %v", err)
			}
			for _, k := range p.SKUs {
				if k.PriceFen < 0 || k.PriceFen > 100_000_000 || codes[k.Code] {
					t.Fatalf("bad SKU accepted: %+v", k)
				}
				codes[k.Code] = true
			}
		}
	})
}
