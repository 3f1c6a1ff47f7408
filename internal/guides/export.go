package guides

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/shelflive/shelflive/internal/cn"
)

// yuan prints fen as yuan with two decimals, exactly (no float).
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// pct prints basis points as a percentage: 550 → "5.50%".
func pct(bp int64) string { return fmt.Sprintf("%d.%02d%%", bp/100, bp%100) }

// safe keeps a spreadsheet from reading text as a formula.
func safe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// sheet is one table of the statement.
type sheet struct {
	name string
	rows [][]string
}

func (st *Statement) sheets() []sheet {
	sum := sheet{name: "汇总 Summary", rows: [][]string{{"导购码 Guide code", "导购 Guide", "门店 Store", "订单 Orders",
		"销售额（元） Sales", "退款（元） Refunds", "计佣金额（元） Base", "佣金（元） Commission"}}}
	for _, s := range st.Summaries {
		sum.rows = append(sum.rows, []string{safe(s.GuideCode), safe(s.GuideName), safe(s.StoreName), fmt.Sprint(s.Orders),
			yuan(s.SalesFen), yuan(s.RefundFen), yuan(s.BaseFen), yuan(s.CommissionFen)})
	}
	t := st.Total
	sum.rows = append(sum.rows, []string{"合计 Total", "", "", fmt.Sprint(t.Orders), yuan(t.SalesFen), yuan(t.RefundFen), yuan(t.BaseFen), yuan(t.CommissionFen)})
	lines := sheet{name: "明细 Lines", rows: [][]string{{"导购码 Guide code", "导购 Guide", "门店 Store", "订单号 Order", "支付时间 Paid at",
		"商品 Product", "规格 SKU", "品类 Category", "数量 Qty", "销售额（元） Sales", "退款（元） Refund", "计佣金额（元） Base", "比例 Rate", "佣金（元） Commission"}}}
	for _, l := range st.Lines {
		lines.rows = append(lines.rows, []string{safe(l.GuideCode), safe(l.GuideName), safe(l.StoreName), l.OrderNumber,
			l.PaidAt.In(cn.Shanghai).Format("2006-01-02 15:04:05"), safe(l.ProductName), safe(l.SKUName), l.Category, fmt.Sprint(l.Quantity),
			yuan(l.SalesFen), yuan(l.RefundFen), yuan(l.BaseFen), pct(l.RateBP), yuan(l.CommissionFen)})
	}
	return []sheet{sum, lines}
}

// WriteCSV writes the summary, a blank line and the lines (UTF-8 with BOM
// so Excel shows the Chinese); the summary's last row is the total.
func (st *Statement) WriteCSV(w io.Writer) error {
	if _, err := w.Write([]byte("\xEF\xBB\xBF")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	for i, sh := range st.sheets() {
		if i > 0 {
			cw.Write([]string{})
		}
		cw.Write([]string{sh.name + " " + st.Month})
		for _, row := range sh.rows {
			cw.Write(row)
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes the summary and the lines as two sheets; money cells are
// numbers in yuan so the sheet can sum them.
func (st *Statement) WriteXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	for i, sh := range st.sheets() {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sh.name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(sh.name); err != nil {
			return err
		}
		for j, row := range sh.rows {
			cells := make([]any, len(row))
			for k, v := range row {
				cells[k] = v
				if j > 0 && strings.Contains(sh.rows[0][k], "（元）") {
					var x float64
					if _, err := fmt.Sscanf(v, "%f", &x); err == nil {
						cells[k] = x
					}
				}
			}
			cell, _ := excelize.CoordinatesToCellName(1, j+1)
			if err := f.SetSheetRow(sh.name, cell, &cells); err != nil {
				return err
			}
		}
		f.SetColWidth(sh.name, "A", "N", 16)
	}
	_, err := f.WriteTo(w)
	return err
}
