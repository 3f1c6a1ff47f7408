package coldchain_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/xuri/excelize/v2"
)

func TestFSMAExports(t *testing.T) {
	at := time.Date(2026, 11, 20, 6, 30, 0, 0, time.UTC)
	rows := []coldchain.CTERow{
		{TLC: "06901234500011.L1", TLCSource: "https://id.gs1.org/414/6901234000017", Product: "草莓 500g", CTE: "Shipping", EventTime: at,
			Quantity: "120", UOM: "EA", Location: "https://id.gs1.org/414/6901234000024", ReferenceType: "po", ReferenceDoc: "PO-1", EventID: "ni:///sha-256;x"},
		{TLC: "06901234500011.L1", Product: "=HYPERLINK(\"http://evil\")", CTE: "Receiving", EventTime: at.Add(3 * time.Hour)},
	}
	var csv bytes.Buffer
	if err := coldchain.FSMACSV(&csv, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(csv.String(), "\xEF\xBB\xBF")), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "Traceability Lot Code,") || !strings.Contains(lines[1], "2026-11-20,06:30:00,120,EA") {
		t.Fatalf("csv:\n%s", csv.String())
	}
	if !strings.Contains(lines[2], `"'=HYPERLINK`) {
		t.Fatalf("formula not neutralised: %s", lines[2])
	}

	var x bytes.Buffer
	if err := coldchain.FSMAXLSX(&x, rows); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&x)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetName(0)
	got, err := f.GetRows(sheet)
	if err != nil || len(got) != 3 {
		t.Fatalf("rows %v %v", got, err)
	}
	if got[0][0] != "Traceability Lot Code" || got[1][3] != "Shipping" || got[1][4] != "2026-11-20 06:30:00" || got[2][2] != `'=HYPERLINK("http://evil")` {
		t.Fatalf("cells %q", got)
	}
	raw, _ := f.GetCellValue(sheet, "E2", excelize.Options{RawCellValue: true})
	if !strings.HasPrefix(raw, "46") { // an Excel serial date (days since 1900), so it sorts as time
		t.Fatalf("E2 raw %q is not a date serial", raw)
	}
	panes, err := f.GetPanes(sheet)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Fatalf("header not frozen: %+v %v", panes, err)
	}
}
