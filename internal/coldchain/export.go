package coldchain

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/trace"
)

// ExportFilter selects what a regulator export covers: one lot, or lots
// received / sold in [From, To).
type ExportFilter struct {
	MerchantID int64
	LotID      int64
	From, To   time.Time
}

var (
	// ErrExportRange asks for a lot or a from/to range.
	ErrExportRange = apperr.InvalidField("from", "invalid_range", "请指定批次或起止时间", "Give a lot or a from/to range.")
	// ErrRangeTooLong refuses an export range over 400 days.
	ErrRangeTooLong = apperr.InvalidField("to", "range_too_long", "时间范围最长400天", "The range is at most 400 days.")
)

// Validate checks the filter: a lot, or a time range of at most 400 days.
func (f *ExportFilter) Validate() error {
	if f.LotID > 0 {
		return nil
	}
	if f.From.IsZero() || f.To.IsZero() || !f.To.After(f.From) {
		return ErrExportRange
	}
	if f.To.Sub(f.From) > 400*24*time.Hour {
		return ErrRangeTooLong
	}
	return nil
}

// PurchaseRecord is one line of the 进货查验记录 (purchase inspection
// record, 食品安全法 第五十三条): what came in, from where, which lot,
// production date and shelf life, and the inspection result.
type PurchaseRecord struct {
	ReceivedAt time.Time
	Product    string
	Spec       string
	GTIN       string
	LotCode    string
	ProducedAt time.Time
	ExpiresAt  time.Time
	Origin     string // 供货者/产地
	Store      string
	Quantity   int64
	Hold       bool
	HoldReason string
}

// SaleRecord is one line of the 销售记录 (sales record, 食品安全法 第五十三条).
type SaleRecord struct {
	SoldAt     time.Time
	Order      string
	Product    string
	Spec       string
	GTIN       string
	LotCode    string
	ProducedAt time.Time
	ExpiresAt  time.Time
	Quantity   int64
	Store      string
	Buyer      string // masked phone: the record must identify the sale, not expose the buyer
	Status     string
}

// ExportStore reads what the regulator exports need.
type ExportStore interface {
	PurchaseRecords(ctx context.Context, f ExportFilter) ([]PurchaseRecord, error)
	SaleRecords(ctx context.Context, f ExportFilter) ([]SaleRecord, error)
	// LotsInRange lists lots received in [From, To) (or the one lot).
	LotsInRange(ctx context.Context, f ExportFilter) ([]int64, error)
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(cn.Shanghai).Format("2006-01-02")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(cn.Shanghai).Format("2006-01-02 15:04:05")
}

// csvSafe keeps a cell from being read as a formula by spreadsheet programs
// (CSV injection): supplier-provided text lands in these files.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func writeCSV(w io.Writer, header []string, rows [][]string) error {
	if _, err := w.Write([]byte("\xEF\xBB\xBF")); err != nil { // BOM: Excel opens UTF-8 Chinese correctly
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write(header)
	for _, r := range rows {
		for i := range r {
			r[i] = csvSafe(r[i])
		}
		cw.Write(r)
	}
	cw.Flush()
	return cw.Error()
}

// PurchaseCSV writes the purchase inspection record.
func PurchaseCSV(w io.Writer, recs []PurchaseRecord) error {
	header := []string{"进货日期 Received", "食品名称 Product", "规格 Spec", "GTIN", "批号 Lot", "生产日期 Produced", "保质期至 Expires",
		"供货者/产地 Supplier/Origin", "收货门店 Store", "数量 Qty", "查验结果 Inspection"}
	rows := make([][]string, 0, len(recs))
	for _, r := range recs {
		result := "合格 accepted"
		if r.Hold {
			result = "暂停销售 on hold: " + r.HoldReason
		}
		rows = append(rows, []string{stamp(r.ReceivedAt), r.Product, r.Spec, r.GTIN, r.LotCode, day(r.ProducedAt), day(r.ExpiresAt), r.Origin, r.Store, fmt.Sprint(r.Quantity), result})
	}
	return writeCSV(w, header, rows)
}

// SalesCSV writes the sales record.
func SalesCSV(w io.Writer, recs []SaleRecord) error {
	header := []string{"销售日期 Sold", "订单号 Order", "食品名称 Product", "规格 Spec", "GTIN", "批号 Lot", "生产日期 Produced", "保质期至 Expires",
		"数量 Qty", "门店 Store", "购货者 Buyer", "状态 Status"}
	rows := make([][]string, 0, len(recs))
	for _, r := range recs {
		rows = append(rows, []string{stamp(r.SoldAt), r.Order, r.Product, r.Spec, r.GTIN, r.LotCode, day(r.ProducedAt), day(r.ExpiresAt), fmt.Sprint(r.Quantity), r.Store, r.Buyer, r.Status})
	}
	return writeCSV(w, header, rows)
}

// CTERow is one critical tracking event with its key data elements, in
// the shape of the FSMA 204 electronic sortable spreadsheet.
type CTERow struct {
	TLC           string // traceability lot code (GTIN + lot)
	TLCSource     string // where the TLC was assigned (the commissioning location)
	Product       string
	CTE           string // Harvesting, Cooling, Initial Packing, Shipping, Receiving, Transformation, …
	EventTime     time.Time
	Quantity      string
	UOM           string
	Location      string // bizLocation (or readPoint)
	ShipFrom      string
	ShipTo        string
	ReferenceType string
	ReferenceDoc  string
	EventID       string
	Disposition   string
}

// FSMAHeader is the column list of the FSMA 204 sheet.
var FSMAHeader = []string{"Traceability Lot Code", "Traceability Lot Code Source", "Product Description", "Critical Tracking Event",
	"Event Date", "Event Time (UTC)", "Quantity", "Unit of Measure", "Location", "Ship From", "Ship To",
	"Reference Document Type", "Reference Document Number", "Disposition", "EPCIS Event ID"}

// Cells returns the row as strings in FSMAHeader order.
func (r CTERow) Cells() []string {
	return []string{r.TLC, r.TLCSource, r.Product, r.CTE, r.EventTime.UTC().Format("2006-01-02"), r.EventTime.UTC().Format("15:04:05"),
		r.Quantity, r.UOM, r.Location, r.ShipFrom, r.ShipTo, r.ReferenceType, r.ReferenceDoc, r.Disposition, r.EventID}
}

// FSMACSV writes the rows as CSV.
func FSMACSV(w io.Writer, rows []CTERow) error {
	cells := make([][]string, 0, len(rows))
	for _, r := range rows {
		cells = append(cells, r.Cells())
	}
	return writeCSV(w, FSMAHeader, cells)
}

var cteByStep = map[string]string{
	"commissioning": "Initial Packing", "creating_class_instance": "Initial Packing", "packing": "Initial Packing",
	"harvesting": "Harvesting", "shipping": "Shipping", "departing": "Shipping", "receiving": "Receiving", "arriving": "Receiving",
	"accepting": "Receiving", "storing": "Cooling", "destroying": "Destruction", "inspecting": "Inspection", "retail_selling": "Retail Sale",
}

// CTERows builds the FSMA 204 rows of the lots: every EPCIS event of each
// lot's trace, with its key data elements. Lots without EPCIS events get
// one "Receiving" row from ShelfLive's own lot data, so nothing sold here
// is missing from the sheet.
func (s *Service) CTERows(ctx context.Context, ex ExportStore, f ExportFilter) ([]CTERow, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	ids, err := ex.LotsInRange(ctx, f)
	if err != nil {
		return nil, err
	}
	var out []CTERow
	for _, id := range ids {
		info, err := s.Store.LotInfo(ctx, f.MerchantID, id)
		if err != nil {
			return nil, err
		}
		tlc := info.GTIN + "." + info.Code
		var h *trace.LotHistory
		if s.Events != nil && info.GTIN != "" {
			h, err = (&trace.Service{Events: s.Events}).LotTrace(ctx, f.MerchantID, info.GTIN, info.Code)
			if err != nil && !errors.Is(err, trace.ErrLotNotFound) {
				return nil, err
			}
		}
		if h == nil || len(h.Steps) == 0 {
			out = append(out, CTERow{TLC: tlc, TLCSource: info.Origin, Product: info.Product + " " + info.SKUName, CTE: "Receiving",
				EventTime: info.ProducedAt, Location: info.MerchantName, ReferenceType: "ShelfLive lot", ReferenceDoc: fmt.Sprint(info.ID)})
			continue
		}
		source := ""
		for _, st := range h.Steps {
			if st.Stage == trace.StageOrigin && st.Event.BizLocation != "" {
				source = st.Event.BizLocation
				break
			}
		}
		for _, st := range h.Steps {
			ev := st.Event
			step := lastPart(ev.BizStep)
			cte := cteByStep[step]
			if ev.Type == "TransformationEvent" {
				cte = "Transformation"
			}
			if cte == "" {
				cte = step
			}
			row := CTERow{TLC: tlc, TLCSource: source, Product: info.Product + " " + info.SKUName, CTE: cte, EventTime: ev.EventTime,
				Location: firstNonEmpty(ev.BizLocation, ev.ReadPoint), Disposition: lastPart(ev.Disposition), EventID: ev.EventID}
			for _, r := range ev.EPCs {
				if r.Quantity != nil && (r.ID == h.LGTIN || strings.HasPrefix(r.ID, h.LGTIN)) {
					row.Quantity, row.UOM = fmt.Sprint(*r.Quantity), r.UOM
				}
			}
			for _, x := range ev.Sources {
				row.ShipFrom = x.ID
			}
			for _, x := range ev.Destinations {
				row.ShipTo = x.ID
			}
			if len(ev.BizTransactions) > 0 {
				row.ReferenceType, row.ReferenceDoc = lastPart(ev.BizTransactions[0].Type), ev.BizTransactions[0].ID
			}
			out = append(out, row)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].TLC != out[j].TLC {
			return out[i].TLC < out[j].TLC
		}
		return out[i].EventTime.Before(out[j].EventTime)
	})
	return out, nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
