package coldchain

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// FSMAXLSX writes the FSMA 204 rows as a sortable spreadsheet: one sheet,
// a frozen bold header with filters on every column, one row per critical
// tracking event. The event time is a real date-time cell (UTC) so it sorts
// and filters as time, not text.
func FSMAXLSX(w io.Writer, rows []CTERow) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Critical Tracking Events"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	header := append([]string{}, FSMAHeader...)
	header[4], header[5] = "Event Date/Time (UTC)", "Event Time (UTC)"
	header = append(header[:5], header[6:]...)
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	when, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm:ss")})
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	for i := range header {
		width := 16.0
		switch header[i] {
		case "Traceability Lot Code", "Traceability Lot Code Source", "Product Description", "Location", "Ship From", "Ship To", "EPCIS Event ID":
			width = 36
		}
		sw.SetColWidth(i+1, i+1, width)
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", cells, excelize.RowOpts{}); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	for n, r := range rows {
		c := r.Cells()
		row := []any{csvSafe(c[0]), csvSafe(c[1]), csvSafe(c[2]), c[3], excelize.Cell{StyleID: when, Value: r.EventTime.UTC()}}
		for _, v := range c[6:] {
			row = append(row, csvSafe(v))
		}
		cell, _ := excelize.CoordinatesToCellName(1, n+2)
		if err := sw.SetRow(cell, row); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	last, _ := excelize.CoordinatesToCellName(len(header), len(rows)+1)
	if err := f.AutoFilter(sheet, "A1:"+last, nil); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	_, err = f.WriteTo(w)
	return err
}

func ptr[T any](v T) *T { return &v }
