package csvfile_test

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/csvfile"
)

var columns = map[string][]string{
	"name":  {"name", "商品"},
	"price": {"price", "售价"},
	"note":  {"note", "备注"},
}

func TestReadHeadersAndRows(t *testing.T) {
	in := "\xef\xbb\xbf商品, 售价 ,Extra\n草莓,39.80,x\n\n , \n牛奶 , 12\n"
	rows, err := csvfile.Read([]byte(in), columns, []string{"name", "price"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2 (blank lines skipped)", len(rows))
	}
	if rows[0].Get("name") != "草莓" || rows[0].Get("price") != "39.80" || rows[0].Get("note") != "" || rows[0].Num != 2 {
		t.Fatalf("row 1: %+v %q %q", rows[0], rows[0].Get("name"), rows[0].Get("price"))
	}
	if rows[1].Get("name") != "牛奶" || rows[1].Get("price") != "12" || rows[1].Num != 5 {
		t.Fatalf("row 2 keeps its line number: %d %q", rows[1].Num, rows[1].Get("name"))
	}
	if rows[1].At("price") != "row 5: price" || csvfile.At(7, "name") != "row 7: name" {
		t.Fatalf("At: %q", rows[1].At("price"))
	}
}

func TestReadGBK(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().String("商品,售价\n草莓,39.80\n")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csvfile.Read([]byte(gbk), columns, []string{"name"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].Get("name") != "草莓" {
		t.Fatalf("GBK decoded to %q", rows[0].Get("name"))
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, code string
		max            int
	}{
		{"ErrEmpty", "", "empty_csv", 10},
		{"ErrHeaderOnly", "name,price\n", "empty_csv", 10},
		{"ErrMissingColumn", "name\n草莓\n", "missing_column", 10},
		{"ErrDuplicateColumn", "name,商品,price\n a,b,1\n", "duplicate_column", 10},
		{"ErrTooManyRows", "name,price\na,1\nb,2\nc,3\n", "too_many_rows", 2},
		{"ErrUTF16", "\xff\xfen\x00a\x00m\x00e\x00", "invalid_csv_encoding", 10},
		{"ErrNotText", "name,price\n\x81\x30\xff\xfe,1\n", "invalid_csv_encoding", 10},
		{"ErrUnbalancedQuote", "name,price\n\"草莓,1\n", "invalid_csv", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := csvfile.Read([]byte(tc.in), columns, []string{"name", "price"}, tc.max)
			if !apperr.Is(err, tc.code) {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
			if e := apperr.As(err); e.Kind != apperr.Invalid || e.Field == "" {
				t.Fatalf("%+v: want a field-addressed 400", e)
			}
		})
	}
	// the row of a syntax error is named
	_, err := csvfile.Read([]byte("name,price\na,1\n\"b,2\n"), columns, []string{"name"}, 10)
	if e := apperr.As(err); !strings.HasPrefix(e.Field, "row ") {
		t.Fatalf("syntax error field %q", e.Field)
	}
}
