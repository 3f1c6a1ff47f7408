package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/trace"
	"github.com/skip2/go-qrcode"
)

// PublicTrace is what anyone with a lot's QR may see: product, lot dates,
// the journey, temperatures against the limits and a plain verdict. It is
// built field by field from the evidence so nothing internal leaks: no
// prices, no staff names, no hold notes typed by staff, no order data.
type PublicTrace struct {
	Product     string           `json:"product"`
	ProductEN   string           `json:"product_en,omitempty"`
	Variant     string           `json:"variant"`
	Merchant    string           `json:"merchant"`
	Origin      string           `json:"origin"`
	Lot         string           `json:"lot"`
	GTIN        string           `json:"gtin,omitempty"`
	ProducedAt  time.Time        `json:"produced_at"`
	ExpiresAt   time.Time        `json:"expires_at"`
	Class       string           `json:"storage_class"`
	OnHold      bool             `json:"on_hold"`
	Verdict     string           `json:"verdict"`
	VerdictText string           `json:"verdict_text"`
	VerdictEN   string           `json:"verdict_en"`
	Events      []string         `json:"events"` // what happened, plain words (zh)
	EventsEN    []string         `json:"events_en"`
	Steps       []PublicStep     `json:"steps"`
	Limits      coldchain.Limits `json:"limits"`
	Series      []PublicSeries   `json:"series"`
	HasStats    bool             `json:"has_stats"` // false: no readings, MKT/Min/Max are meaningless
	MKT         float64          `json:"mkt"`
	Min         float64          `json:"min"`
	Max         float64          `json:"max"`
	OutMinutes  int64            `json:"out_of_target_minutes"`
	Unknown     int64            `json:"unknown_minutes"`
	Path        string           `json:"path"`
	DigitalLink string           `json:"digital_link,omitempty"`
}

// PublicStep is one timeline entry.
type PublicStep struct {
	Stage   string    `json:"stage"`
	Label   string    `json:"label"`
	LabelEN string    `json:"label_en"`
	Place   string    `json:"place,omitempty"`
	At      time.Time `json:"at"`
}

// PublicSeries is one location's temperatures.
type PublicSeries struct {
	Name   string       `json:"name"`
	NameEN string       `json:"name_en,omitempty"`
	Kind   string       `json:"kind"`
	Points [][2]float64 `json:"points"`
}

var stageLabels = map[string][2]string{
	trace.StageOrigin: {"产地", "Origin"}, trace.StageProcessing: {"加工", "Processing"}, trace.StageStorage: {"仓储", "Storage"},
	trace.StageTransport: {"运输", "Transport"}, trace.StageStore: {"门店", "Store"}, trace.StageQuality: {"检验", "Inspection"},
	trace.StageEnd: {"处置", "Disposal"}, trace.StageOther: {"记录", "Record"},
}

func digitalLinkPath(gtin, lot string) string {
	g := strings.Repeat("0", max(0, 14-len(gtin))) + gtin
	return "/trace/01/" + g + "/10/" + url.PathEscape(lot)
}

// publicTrace turns the evidence into the public view.
func publicTrace(rep *coldchain.LotReport, code string) *PublicTrace {
	l := rep.Lot
	pt := &PublicTrace{Product: l.Product, ProductEN: l.ProductEN, Variant: l.SKUName, Merchant: l.MerchantName, Origin: l.Origin, Lot: l.Code, GTIN: l.GTIN,
		ProducedAt: l.ProducedAt, ExpiresAt: l.ExpiresAt, Class: l.Class, OnHold: l.Hold || len(l.HeldStores) > 0, Verdict: rep.Verdict, Limits: rep.Limits,
		Steps: []PublicStep{}, Series: []PublicSeries{}, Events: []string{}, EventsEN: []string{}, Path: "/trace/" + code}
	if l.GTIN != "" {
		pt.DigitalLink = digitalLinkPath(l.GTIN, l.Code)
	}
	for _, st := range rep.Steps {
		lb := stageLabels[st.Stage]
		if lb[0] == "" {
			lb = stageLabels[trace.StageOther]
		}
		pt.Steps = append(pt.Steps, PublicStep{Stage: st.Stage, Label: lb[0], LabelEN: lb[1], Place: st.Place, At: st.At})
	}
	for _, s := range rep.Stays {
		pt.Series = append(pt.Series, PublicSeries{Name: s.Location, NameEN: s.LocationEN, Kind: s.Kind, Points: s.Points})
	}
	e := rep.Exposure
	if e.Samples > 0 {
		pt.HasStats, pt.MKT, pt.Min, pt.Max = true, e.MKT, e.Min, e.Max
	}
	pt.OutMinutes, pt.Unknown = e.OutTargetMS/60000, e.UnknownMS/60000
	for _, a := range rep.Alarms {
		if a.Kind != coldchain.AlarmExcursion {
			continue
		}
		when := a.StartedAt.In(cn.Shanghai).Format("01-02 15:04")
		lim := rep.Limits
		zh, en := "", ""
		switch {
		case a.Rule == coldchain.RuleCritical:
			zh = fmt.Sprintf("%s 在「%s」温度达到 %.1f℃，超过临界值", when, a.LocationName, a.Peak)
			en = fmt.Sprintf("%s at %s the temperature reached %.1f °C, beyond the critical limit", when, a.LocationName, a.Peak)
		default:
			hard := 0.0
			if lim.HardMax != nil {
				hard = *lim.HardMax
			}
			zh = fmt.Sprintf("%s 起在「%s」温度超过 %.0f℃ 累计超过 %d 分钟（峰值 %.1f℃）", when, a.LocationName, hard, lim.HardForMin, a.Peak)
			en = fmt.Sprintf("From %s at %s the temperature was above %.0f °C for more than %d minutes (peak %.1f °C)", when, a.LocationName, hard, lim.HardForMin, a.Peak)
		}
		switch a.Decision {
		case coldchain.DecisionRelease:
			zh, en = zh+"；经品控复核后放行", en+"; released after quality review"
		case coldchain.DecisionDestroy:
			zh, en = zh+"；该批次已销毁，不再销售", en+"; the lot was destroyed and is no longer sold"
		default:
			zh, en = zh+"；暂停销售，冷链复核中", en+"; on hold while quality reviews it"
		}
		pt.Events = append(pt.Events, zh)
		pt.EventsEN = append(pt.EventsEN, en)
	}
	switch rep.Verdict {
	case coldchain.VerdictHeld:
		pt.VerdictText, pt.VerdictEN = "全程冷链达标", "Cold chain held"
	case coldchain.VerdictGaps:
		pt.VerdictText, pt.VerdictEN = fmt.Sprintf("测得温度均在范围内，但有 %d 分钟无数据", pt.Unknown), fmt.Sprintf("In range where measured; no data for %d minutes", pt.Unknown)
	case coldchain.VerdictNoData:
		pt.VerdictText, pt.VerdictEN = "暂无温度记录", "No temperature records yet"
	case coldchain.VerdictHeldNow:
		pt.VerdictText, pt.VerdictEN = "暂停销售 — 冷链复核中", "On hold — cold chain under review"
	case coldchain.VerdictReleased:
		pt.VerdictText, pt.VerdictEN = "曾超温，经品控复核放行", "Excursion — released after quality review"
	default:
		pt.VerdictText, pt.VerdictEN = "冷链异常", "Cold chain broken"
		if l.Hold {
			pt.VerdictText, pt.VerdictEN = "冷链异常 — 暂停销售", "Cold chain broken — on hold"
		}
		if len(pt.Events) == 0 {
			pt.Events = append(pt.Events, fmt.Sprintf("超过上限累计 %d 分钟", e.BeyondMS/60000))
			pt.EventsEN = append(pt.EventsEN, fmt.Sprintf("%d minutes beyond the limit in total", e.BeyondMS/60000))
		}
	}
	return pt
}

var reCode = regexp.MustCompile(`^[a-z2-9]{8,20}$`)

func (c *ColdChain) publicByCode(ctx context.Context, code string) (*PublicTrace, string, error) {
	code = strings.ToLower(code)
	if !reCode.MatchString(code) {
		return nil, "", coldchain.ErrLotNotFound
	}
	mid, lot, err := c.Service.Store.LotByPublicCode(ctx, code)
	if err != nil {
		return nil, "", err
	}
	return c.public(ctx, mid, lot)
}

func (c *ColdChain) public(ctx context.Context, merchantID, lotID int64) (*PublicTrace, string, error) {
	code, err := c.Service.Store.PublicCode(ctx, merchantID, lotID)
	if err != nil {
		return nil, "", err
	}
	rep, err := c.Service.LotReport(ctx, merchantID, lotID)
	if err != nil {
		return nil, "", err
	}
	return publicTrace(rep, code), code, nil
}

func (c *ColdChain) renderTrace(w http.ResponseWriter, r *http.Request, pt *PublicTrace) error {
	if err := c.Server.limit(w, "trace:"+c.Server.clientIP(r), 20, 200); err != nil {
		return err
	}
	lang := langOf(r)
	verdict, events := pt.VerdictText, pt.Events
	if lang == "en" {
		verdict, events = pt.VerdictEN, pt.EventsEN
	}
	cls := map[string]string{coldchain.VerdictHeld: "status-completed", coldchain.VerdictBroken: "status-cancelled",
		coldchain.VerdictHeldNow: "status-pending_payment", coldchain.VerdictGaps: "status-pending_payment", coldchain.VerdictNoData: "status-pending_payment", coldchain.VerdictReleased: "status-pending_payment"}[pt.Verdict]
	w.Header().Set("Cache-Control", "no-cache")
	og := &ogMeta{Title: pickLang(langOf(r), "溯源 Trace") + " · " + pt.Product + " " + pt.Variant, Type: "article", URL: c.Server.abs(pt.Path),
		Description: strings.TrimSpace(pickLang(langOf(r), "批次 Lot") + " " + pt.Lot + " · " + pt.Origin + " · " + verdict)}
	return c.Server.render(w, r, 200, "trace.html", map[string]any{"T": pt, "Verdict": verdict, "Events": events, "VerdictClass": cls, "Chart": pt, "OG": og})
}

func (c *ColdChain) pageTrace(w http.ResponseWriter, r *http.Request) error {
	pt, _, err := c.publicByCode(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	return c.renderTrace(w, r, pt)
}

var reGTINPath = regexp.MustCompile(`^\d{8}$|^\d{12,14}$`)

func (c *ColdChain) pageTraceDL(w http.ResponseWriter, r *http.Request) error {
	gtin, lot := r.PathValue("gtin"), r.PathValue("lot")
	if !reGTINPath.MatchString(gtin) || lot == "" || len(lot) > 20 {
		return coldchain.ErrLotNotFound
	}
	mid, id, err := c.Service.Store.LotByGTIN(r.Context(), gtin, lot)
	if err != nil {
		return err
	}
	return c.renderLot(w, r, mid, id)
}

// pageTraceGTIN serves the product-level GS1 Digital Link (/01/{gtin}, the
// link a product card or a shelf label carries): the trace of the lot a
// buyer would get now (first expiry among sellable lots), else the newest.
func (c *ColdChain) pageTraceGTIN(w http.ResponseWriter, r *http.Request) error {
	gtin := r.PathValue("gtin")
	if !reGTINPath.MatchString(gtin) {
		return coldchain.ErrLotNotFound
	}
	mid, id, err := c.Service.Store.CurrentLotByGTIN(r.Context(), gtin)
	if err != nil {
		return err
	}
	return c.renderLot(w, r, mid, id)
}

// renderLot renders the public trace page of one lot.
func (c *ColdChain) renderLot(w http.ResponseWriter, r *http.Request, merchantID, lotID int64) error {
	pt, _, err := c.public(r.Context(), merchantID, lotID)
	if err != nil {
		return err
	}
	return c.renderTrace(w, r, pt)
}

func (c *ColdChain) apiPublicTrace(w http.ResponseWriter, r *http.Request) error {
	if err := c.Server.limit(w, "trace:"+c.Server.clientIP(r), 20, 200); err != nil {
		return err
	}
	pt, _, err := c.publicByCode(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-cache")
	return writeJSON(w, 200, pt)
}

// pageTraceQR draws the trace page's absolute URL as a QR code for
// packaging labels (?size= 128..1024 px, default 512).
func (c *ColdChain) pageTraceQR(w http.ResponseWriter, r *http.Request) error {
	code := strings.ToLower(r.PathValue("code"))
	if !reCode.MatchString(code) {
		return coldchain.ErrLotNotFound
	}
	if _, _, err := c.Service.Store.LotByPublicCode(r.Context(), code); err != nil {
		return err
	}
	size := 512
	if v, err := strconv.Atoi(r.URL.Query().Get("size")); err == nil {
		size = min(max(v, 128), 1024) // a label printer asks for what it needs; out of range is clamped
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" || c.Server.CookieSecure {
		scheme = "https"
	}
	png, err := qrcode.Encode(scheme+"://"+r.Host+"/trace/"+code, qrcode.Medium, size)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, err = w.Write(png)
	return err
}
