package insight

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Report is the post-live report of one room, with the merchant's earlier
// lives to compare against.
type Report struct {
	RoomID  int64         `json:"room_id"`
	Slug    string        `json:"slug"`
	Title   string        `json:"title"`
	Started *time.Time    `json:"started_at,omitempty"`
	Ended   *time.Time    `json:"ended_at,omitempty"`
	Stats   RoomStats     `json:"stats"`
	Signals RoomSignals   `json:"signals"`
	Earlier []RoomSummary `json:"earlier"` // the merchant's lives before this one, newest first (at most 5)
	This    RoomSummary   `json:"this"`
}

// Sheet is one table of the report: a title and rows, the first a header.
type Sheet struct {
	Name string
	Rows [][]string
}

func fen(v int64) string { return fmt.Sprintf("%.2f", float64(v)/100) }

// Sheets lays the report out as tables (bilingual headers): overview,
// products, comparison with earlier lives.
func (r *Report) Sheets() []Sheet {
	s := r.Stats
	overview := Sheet{Name: "概览 Overview", Rows: [][]string{{"指标 Metric", "数值 Value"},
		{"直播间 Room", r.Title}, {"累计观众 Unique viewers", fmt.Sprint(s.UniqueViewers)}, {"峰值在线 Peak viewers", fmt.Sprint(s.PeakViewers)},
		{"观看场次 Sessions", fmt.Sprint(s.Sessions)}, {"人均观看秒数 Avg watch (s)", fmt.Sprintf("%.0f", s.AvgWatchSeconds)},
		{"新观众 New viewers", fmt.Sprint(s.NewViewers)}, {"老观众 Returning viewers", fmt.Sprint(s.ReturningViewers)},
		{"评论 Comments", fmt.Sprint(sumMinutes(s.Comments))}, {"点赞 Likes", fmt.Sprint(sumMinutes(s.Likes))},
		{"订单 Orders", fmt.Sprint(s.Orders)}, {"已支付订单 Paid orders", fmt.Sprint(s.PaidOrders)}, {"下单观众 Buyers", fmt.Sprint(s.Buyers)},
		{"成交额（元） GMV (yuan)", fen(s.GMVFen)}, {"转化率 Conversion", fmt.Sprintf("%.2f%%", 100*s.Conversion)},
		{"未回答的问题 Open questions", fmt.Sprint(len(r.Signals.Unanswered))}}}
	products := Sheet{Name: "商品 Products", Rows: [][]string{{"商品 Product", "曝光 Shown", "点开 Opened", "结算 Checkout", "订单 Orders", "支付 Paid",
		"件数 Units", "成交额（元） GMV (yuan)", "提及 Mentions", "提问 Questions", "好评 Pos", "差评 Neg", "首单用时（秒） First order (s)"}}}
	sig := map[int64]ProductSignals{}
	for _, p := range r.Signals.Products {
		sig[p.ProductID] = p
	}
	for _, p := range s.Products {
		ps := sig[p.ProductID]
		first := ""
		if ps.FirstOrderSeconds != nil {
			first = fmt.Sprintf("%.0f", *ps.FirstOrderSeconds)
		}
		products.Rows = append(products.Rows, []string{p.Name, fmt.Sprint(p.Shown), fmt.Sprint(p.Opened), fmt.Sprint(p.Checkout), fmt.Sprint(p.Orders),
			fmt.Sprint(p.Paid), fmt.Sprint(p.Units), fen(p.GMVFen), fmt.Sprint(ps.Mentions), fmt.Sprint(ps.Questions), fmt.Sprint(ps.Sentiment.Pos),
			fmt.Sprint(ps.Sentiment.Neg), first})
	}
	compare := Sheet{Name: "对比 Earlier lives", Rows: [][]string{{"直播间 Room", "累计观众 Unique viewers", "订单 Orders", "已支付 Paid", "成交额（元） GMV (yuan)", "转化 Paid per 100 viewers"}}}
	for _, x := range append([]RoomSummary{r.This}, r.Earlier...) {
		per := ""
		if x.UniqueViewers > 0 {
			per = fmt.Sprintf("%.1f", 100*float64(x.Paid)/float64(x.UniqueViewers))
		}
		compare.Rows = append(compare.Rows, []string{x.Title, fmt.Sprint(x.UniqueViewers), fmt.Sprint(x.Orders), fmt.Sprint(x.Paid), fen(x.GMVFen), per})
	}
	return []Sheet{overview, products, compare}
}

func sumMinutes(ms []Minute) int64 {
	n := int64(0)
	for _, m := range ms {
		n += m.N
	}
	return n
}

// cellSafe keeps a spreadsheet from running a product name as a formula.
func cellSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		if _, err := fmt.Sscanf(v, "%f", new(float64)); err != nil {
			return "'" + v
		}
	}
	return v
}

// WriteCSV writes the report's tables one after another (UTF-8 with BOM so
// Excel shows the Chinese), a blank line between them.
func (r *Report) WriteCSV(w io.Writer) error { return WriteSheetsCSV(w, r.Sheets()) }

// WriteSheetsCSV writes tables one after another as CSV (UTF-8 with BOM so
// Excel shows the Chinese), a blank line between them, each under its name;
// cells that would run as formulas are quoted.
func WriteSheetsCSV(w io.Writer, sheets []Sheet) error {
	if _, err := w.Write([]byte("\xEF\xBB\xBF")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	for i, sh := range sheets {
		if i > 0 {
			cw.Write([]string{})
		}
		cw.Write([]string{sh.Name})
		for _, row := range sh.Rows {
			out := make([]string, len(row))
			for j, v := range row {
				out[j] = cellSafe(v)
			}
			cw.Write(out)
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes one sheet per table.
func (r *Report) WriteXLSX(w io.Writer) error { return WriteSheetsXLSX(w, r.Sheets()) }

// WriteSheetsXLSX writes one worksheet per table (names at most 31 runes,
// as Excel wants).
func WriteSheetsXLSX(w io.Writer, sheets []Sheet) error {
	f := excelize.NewFile()
	defer f.Close()
	for i, sh := range sheets {
		name := sh.Name
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		for j, row := range sh.Rows {
			cells := make([]any, len(row))
			for k, v := range row {
				cells[k] = cellSafe(v)
			}
			cell, _ := excelize.CoordinatesToCellName(1, j+1)
			if err := f.SetSheetRow(name, cell, &cells); err != nil {
				return err
			}
		}
		f.SetColWidth(name, "A", "A", 28)
	}
	_, err := f.WriteTo(w)
	return err
}
