package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/identity"
)

// ColdChain serves the cold-chain API (locations, devices, alarms,
// evidence, decisions), the gateway telemetry endpoint, the public trace
// page with its QR code, and the regulator exports. It hangs off the
// Server for rendering and for the route table's auth/CSRF/limits wrapper:
// its Routes() are appended to Server.Routes().
type ColdChain struct {
	Server  *Server
	Service *coldchain.Service
	Exports coldchain.ExportStore
}

// Routes lists the cold-chain routes for the one route table.
func (c *ColdChain) Routes() []Route {
	P, S := Public, Staff
	page := func(path string, summary string, h func(w http.ResponseWriter, r *http.Request) error) Route {
		return Route{Method: "GET", Path: path, Access: P, Summary: summary, handler: h}
	}
	return []Route{
		page("/trace/{code}", "Public trace page of a lot (opaque code from the QR)", c.pageTrace),
		page("/trace/01/{gtin}/10/{lot}", "Public trace page of a lot (GS1 Digital Link path)", c.pageTraceDL),
		page("/trace/01/{gtin}", "GS1 Digital Link of a product: redirects to the trace page of the lot on sale now", c.pageTraceGTIN),
		page("/qr/trace/{code}", "QR code (PNG) of a lot's trace page, for packaging", c.pageTraceQR),
		{Method: "GET", Path: "/admin/coldchain", Access: S, Perm: identity.PermAdminView, Summary: "Cold-chain console: alarms, evidence, release or destroy", handler: c.pageConsole},
		api("GET", "/api/v1/trace/{code}", P, "", "A lot's public trace: timeline, temperatures with limits, verdict", c.apiPublicTrace),

		api("GET", "/api/v1/coldchain/locations", S, identity.PermAdminView, "List watched locations (cold rooms, trucks, fridges)", c.apiListLocations),
		api("POST", "/api/v1/coldchain/locations", S, identity.PermTraceWrite, "Create a watched location", c.apiCreateLocation),
		api("GET", "/api/v1/coldchain/devices", S, identity.PermAdminView, "List sensors", c.apiListDevices),
		api("POST", "/api/v1/coldchain/devices", S, identity.PermTraceWrite, "Register a sensor (its token is shown once)", c.apiCreateDevice),
		api("GET", "/api/v1/coldchain/alarms", S, identity.PermAdminView, "Cold-chain alarms (status=active|open|cleared|resolved)", c.apiAlarms),
		api("POST", "/api/v1/coldchain/alarms/{id}/resolve", S, identity.PermTraceWrite, "Decide on an excursion: release or destroy the held lots", c.apiResolve),
		api("GET", "/api/v1/coldchain/lots/{id}/evidence", S, identity.PermAdminView, "A lot's cold-chain evidence (chart data, MKT, time out of range, alarms)", c.apiEvidence),
		api("GET", "/api/v1/coldchain/lots/{id}/trace-link", S, identity.PermAdminView, "A lot's public trace URL, GS1 Digital Link and QR", c.apiTraceLink),
		api("GET", "/api/v1/coldchain/exports/purchases.csv", S, identity.PermTraceWrite, "食品安全法 purchase inspection record (CSV) for a lot or range", c.apiExportPurchases),
		api("GET", "/api/v1/coldchain/exports/sales.csv", S, identity.PermTraceWrite, "食品安全法 sales record (CSV) for a lot or range", c.apiExportSales),
		api("GET", "/api/v1/coldchain/exports/fsma204.csv", S, identity.PermTraceWrite, "FSMA 204 sortable spreadsheet of critical tracking events (CSV)", c.apiExportFSMA),
		api("GET", "/api/v1/coldchain/exports/fsma204.xlsx", S, identity.PermTraceWrite, "FSMA 204 sortable spreadsheet of critical tracking events (XLSX)", c.apiExportFSMAXLSX),
	}
}

// Mount serves the cold-chain routes and the telemetry endpoint in front of
// next (the Server's handler). The wiring normally puts Routes() in the
// route table instead; tests use Mount to run the routes before that.
func (c *ColdChain) Mount(next http.Handler) http.Handler {
	c.Server.Handler() // builds templates, assets, metrics and limiters the wrapper uses
	mux := http.NewServeMux()
	for _, rt := range c.Routes() {
		mux.Handle(rt.Method+" "+rt.Path, c.Server.wrap(rt))
	}
	mux.Handle("POST /api/v1/telemetry", c.TelemetryHandler())
	mux.Handle("/", next)
	return c.Server.recoverer(c.Server.securityHeaders(mux))
}

// TelemetryHandler is POST /api/v1/telemetry for gateways: a device's bearer
// token and a batch {"readings": [{"ts": ms, "values": {...}}, …]}. It
// answers 202 only once the readings are stored. It sits outside the route
// table's wrapper because device tokens are not identity sessions.
func (c *ColdChain) TelemetryHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := c.telemetry(w, r)
		if err != nil {
			e := apperr.As(err)
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				e = errBodyTooLarge
			}
			if e.Kind == apperr.Internal {
				c.Server.Logger.Error("telemetry", "err", err)
			}
			if e.Kind == apperr.Unauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="shelflive-devices"`)
			}
			writeProblem(w, r, e)
		}
	})
}

func (c *ColdChain) telemetry(w http.ResponseWriter, r *http.Request) error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return coldchain.ErrUnknownDevice
	}
	dev, ok := c.Service.DeviceByToken(tok)
	if !ok {
		return coldchain.ErrUnknownDevice
	}
	if !c.Server.NoRateLimits {
		if err := c.Server.limit(w, "telemetry:"+dev.Key, 20, 40); err != nil {
			return err
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
	var in struct {
		Readings []coldchain.BatchItem `json:"readings"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	n, err := c.Service.IngestBatch(ctx, dev, in.Readings)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]any{"accepted": n, "device_id": dev.Key})
}

// pageConsole is the quality staff's alarm console: alarms, the evidence
// chart of a held lot, and the release/destroy decision.
func (c *ColdChain) pageConsole(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	return c.Server.render(w, r, 200, "trace.html", map[string]any{"Console": true, "CanDecide": identity.Can(p.Role, identity.PermTraceWrite), "Kinds": coldchain.LocationKinds})
}

func (c *ColdChain) apiListLocations(w http.ResponseWriter, r *http.Request) error {
	list, err := c.Service.Store.ListLocations(r.Context(), PrincipalFrom(r.Context()).MerchantID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"locations": list})
}

func (c *ColdChain) apiCreateLocation(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	var in struct {
		Name    string `json:"name"`
		NameEN  string `json:"name_en"`
		Kind    string `json:"kind"`
		Class   string `json:"storage_class"`
		StoreID int64  `json:"store_id"`
		GLN     string `json:"gln"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	l := &coldchain.Location{MerchantID: p.MerchantID, Name: in.Name, NameEN: in.NameEN, Kind: in.Kind, Class: in.Class, StoreID: in.StoreID, GLN: in.GLN}
	if err := c.Service.CreateLocation(r.Context(), l); err != nil {
		return err
	}
	c.Server.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "coldchain.location.create", fmt.Sprintf("location:%d", l.ID), l.Name)
	return writeJSON(w, 201, l)
}

func (c *ColdChain) apiListDevices(w http.ResponseWriter, r *http.Request) error {
	list, err := c.Service.Store.ListDevices(r.Context(), PrincipalFrom(r.Context()).MerchantID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"devices": list})
}

func (c *ColdChain) apiCreateDevice(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	var in struct {
		DeviceID   string `json:"device_id"`
		Name       string `json:"name"`
		LocationID int64  `json:"location_id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d := &coldchain.Device{MerchantID: p.MerchantID, Key: in.DeviceID, Name: in.Name, LocationID: in.LocationID}
	tok, err := c.Service.CreateDevice(r.Context(), d)
	if err != nil {
		return err
	}
	m, err := c.Server.App.Users.Merchant(r.Context(), p.MerchantID)
	if err != nil {
		return err
	}
	c.Server.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "coldchain.device.create", "device:"+d.Key, fmt.Sprintf("location:%d", d.LocationID))
	return writeJSON(w, 201, map[string]any{"device": d, "token": tok, "mqtt_topic": coldchain.Topic(m.Slug, d.Key), "mqtt_username": d.Key})
}

func (c *ColdChain) apiAlarms(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := coldchain.AlarmFilter{MerchantID: PrincipalFrom(r.Context()).MerchantID, Status: q.Get("status")}
	switch f.Status {
	case "", "active", coldchain.StatusOpen, coldchain.StatusCleared, coldchain.StatusResolved:
	default:
		return apperr.ErrInvalidStatus.With("状态须为 active/open/cleared/resolved", "status must be active, open, cleared or resolved.")
	}
	if v := q.Get("lot_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return errInvalidLot
		}
		f.LotID = id
	}
	list, err := c.Service.Store.Alarms(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"alarms": list})
}

func (c *ColdChain) apiResolve(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Decision string `json:"decision"`
		Note     string `json:"note"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a, err := c.Service.Resolve(r.Context(), p.MerchantID, id, in.Decision, p.Name, in.Note)
	if err != nil {
		return err
	}
	c.Server.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "coldchain.alarm."+in.Decision, fmt.Sprintf("alarm:%d", id), in.Note)
	return writeJSON(w, 200, a)
}

func (c *ColdChain) apiEvidence(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rep, err := c.Service.LotReport(r.Context(), PrincipalFrom(r.Context()).MerchantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, rep)
}

func (c *ColdChain) apiTraceLink(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	info, err := c.Service.Store.LotInfo(r.Context(), p.MerchantID, id)
	if err != nil {
		return err
	}
	code, err := c.Service.Store.PublicCode(r.Context(), p.MerchantID, id)
	if err != nil {
		return err
	}
	out := map[string]any{"code": code, "path": "/trace/" + code, "qr": "/qr/trace/" + code}
	if info.GTIN != "" {
		out["digital_link_path"] = digitalLinkPath(info.GTIN, info.Code)
	}
	return writeJSON(w, 200, out)
}

// errInvalidTime refuses a time that is neither RFC 3339 nor YYYY-MM-DD.
var errInvalidTime = apperr.InvalidField("", "invalid_time", "时间格式须为 RFC 3339 或 YYYY-MM-DD", "Use RFC 3339 or YYYY-MM-DD.")

// exportFilter reads ?lot_id= or ?from=&to= (RFC 3339 or YYYY-MM-DD,
// dates in China time).
func exportFilter(r *http.Request) (coldchain.ExportFilter, error) {
	q := r.URL.Query()
	f := coldchain.ExportFilter{MerchantID: PrincipalFrom(r.Context()).MerchantID}
	if v := q.Get("lot_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, errInvalidLot
		}
		f.LotID = id
	}
	parse := func(name string) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, nil
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, nil
		}
		if t, err := time.ParseInLocation("2006-01-02", v, cn.Shanghai); err == nil {
			return t, nil
		}
		return time.Time{}, errInvalidTime.At(name)
	}
	var err error
	if f.From, err = parse("from"); err != nil {
		return f, err
	}
	if f.To, err = parse("to"); err != nil {
		return f, err
	}
	return f, f.Validate()
}

func csvHeaders(w http.ResponseWriter, name string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
}

func (c *ColdChain) apiExportPurchases(w http.ResponseWriter, r *http.Request) error {
	f, err := exportFilter(r)
	if err != nil {
		return err
	}
	recs, err := c.Exports.PurchaseRecords(r.Context(), f)
	if err != nil {
		return err
	}
	c.auditExport(r, "purchases", f)
	csvHeaders(w, "purchase-inspection-records.csv")
	return coldchain.PurchaseCSV(w, recs)
}

func (c *ColdChain) apiExportSales(w http.ResponseWriter, r *http.Request) error {
	f, err := exportFilter(r)
	if err != nil {
		return err
	}
	recs, err := c.Exports.SaleRecords(r.Context(), f)
	if err != nil {
		return err
	}
	c.auditExport(r, "sales", f)
	csvHeaders(w, "sales-records.csv")
	return coldchain.SalesCSV(w, recs)
}

func (c *ColdChain) apiExportFSMA(w http.ResponseWriter, r *http.Request) error {
	f, err := exportFilter(r)
	if err != nil {
		return err
	}
	rows, err := c.Service.CTERows(r.Context(), c.Exports, f)
	if err != nil {
		return err
	}
	c.auditExport(r, "fsma204", f)
	csvHeaders(w, "fsma204-ctes.csv")
	return coldchain.FSMACSV(w, rows)
}

func (c *ColdChain) apiExportFSMAXLSX(w http.ResponseWriter, r *http.Request) error {
	f, err := exportFilter(r)
	if err != nil {
		return err
	}
	rows, err := c.Service.CTERows(r.Context(), c.Exports, f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := coldchain.FSMAXLSX(&buf, rows); err != nil {
		return err
	}
	c.auditExport(r, "fsma204", f)
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="fsma204-ctes.xlsx"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}

func (c *ColdChain) auditExport(r *http.Request, what string, f coldchain.ExportFilter) {
	p := PrincipalFrom(r.Context())
	detail := fmt.Sprintf("lot:%d", f.LotID)
	if f.LotID == 0 {
		detail = f.From.UTC().Format(time.RFC3339) + "/" + f.To.UTC().Format(time.RFC3339)
	}
	c.Server.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "coldchain.export."+what, "export", detail)
}
