package web

import (
	"bytes"
	"net/http"
	"net/url"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/guides"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/order"
)

// attributionCookie holds the last share code a visitor opened and when
// (guides.Signer.Touch): last-touch attribution within guides.Window.
const attributionCookie = "sl_att"

// guideRoutes: a guide's phone page, their share links and QR codes,
// commission rates and the monthly statements.
func (s *Server) guideRoutes() []Route {
	S := Staff
	api := func(method, path string, perm identity.Permission, summary string, h func(w http.ResponseWriter, r *http.Request) error) Route {
		return Route{Method: method, Path: path, Access: S, Perm: perm, API: true, Summary: summary, handler: h}
	}
	return []Route{
		{Method: "GET", Path: "/guide", Access: S, Perm: identity.PermOrdersFulfil, Summary: "A guide's phone page: share links, QR codes and posters, their customers' orders, this month's commission", handler: s.pageGuide},
		{Method: "GET", Path: "/qr/share/{slug}", Access: S, Perm: identity.PermOrdersFulfil, Summary: "QR code (PNG) of the caller's signed share link to a room", handler: s.pageShareQR},
		api("GET", "/api/v1/guide/me", identity.PermOrdersFulfil, "The calling guide: signed share links per room, their customers' orders, this month's commission", s.apiGuideMe),
		api("GET", "/api/v1/guide/statement", identity.PermOrdersFulfil, "The calling guide's commission statement of a month (?month=YYYY-MM, China time)", s.apiGuideStatement),
		api("GET", "/api/v1/guide/statement.csv", identity.PermOrdersFulfil, "The calling guide's statement as CSV", s.apiGuideStatementCSV),
		api("GET", "/api/v1/commission/rates", identity.PermOrdersRead, "Commission rates: default, per category, per product", s.apiCommissionRates),
		api("PUT", "/api/v1/commission/rates", identity.PermStaffWrite, "Replace the commission rate table", s.apiSetCommissionRates),
		api("GET", "/api/v1/reports/commission", identity.PermOrdersRead, "Monthly commission statement per guide and store (?month=YYYY-MM); staff of one store: theirs", s.apiCommissionReport),
		api("GET", "/api/v1/reports/commission.csv", identity.PermOrdersRead, "The monthly commission statement as CSV (UTF-8 with BOM)", s.apiCommissionReportCSV),
		api("GET", "/api/v1/reports/commission.xlsx", identity.PermOrdersRead, "The monthly commission statement as XLSX (summary and lines sheets)", s.apiCommissionReportXLSX),
	}
}

// attribution picks the signed share code an order may carry: the last
// one the visitor opened (the sl_att cookie, within guides.Window), else
// one the request names if it verifies and was made within the window.
// The app checks it again and maps it to the sharer; anything else is "".
func (s *Server) attribution(r *http.Request, merchantID int64, named string) string {
	now := s.App.Now()
	if c, err := r.Cookie(attributionCookie); err == nil {
		if code, ok := s.App.Shares.Touched(merchantID, c.Value, now); ok {
			return code
		}
	}
	if _, at, ok := s.App.Shares.Verify(merchantID, named, now); ok && now.Sub(at) <= guides.Window {
		return named
	}
	return ""
}

// touchShare notes, on the room page, a share code the visitor arrived
// with: a valid one becomes the last touch; the answer is the code the
// page may re-share ("" when there is none).
func (s *Server) touchShare(w http.ResponseWriter, r *http.Request, merchantID int64) string {
	now := s.App.Now()
	if g := r.URL.Query().Get("g"); g != "" {
		if _, _, ok := s.App.Shares.Verify(merchantID, g, now); ok {
			http.SetCookie(w, &http.Cookie{Name: attributionCookie, Value: s.App.Shares.Touch(merchantID, g, now), Path: "/",
				MaxAge: int(guides.Window / time.Second), HttpOnly: true, Secure: s.CookieSecure, SameSite: http.SameSiteLaxMode})
			return g
		}
	}
	if c, err := r.Cookie(attributionCookie); err == nil {
		if code, ok := s.App.Shares.Touched(merchantID, c.Value, now); ok {
			return code
		}
	}
	return ""
}

// guideLink is one room a guide can share.
type guideLink struct {
	Slug     string     `json:"slug"`
	Title    string     `json:"title"`
	Status   string     `json:"status"`
	StartsAt *time.Time `json:"scheduled_at,omitempty"`
	URL      string     `json:"url"`    // absolute, with the signed code
	QR       string     `json:"qr"`     // PNG of URL
	Poster   string     `json:"poster"` // poster page with the code's QR
	Code     string     `json:"code"`   // the signed share code
}

// guideView is what /guide and GET /api/v1/guide/me show.
type guideView struct {
	Name       string         `json:"name"`
	GuideCode  string         `json:"guide_code"`
	StoreID    int64          `json:"store_id,omitempty"`
	WindowDays int            `json:"window_days"`
	CodeDays   int            `json:"code_days"`
	Links      []guideLink    `json:"links"`
	Orders     []order.Order  `json:"orders"`
	Month      string         `json:"month"`
	MonthSum   guides.Summary `json:"month_summary"`
	WeCom      bool           `json:"wecom"` // the shop has WeCom and the guide a userid: the page offers sending to WeCom customers
}

func (s *Server) guideView(r *http.Request) (*guideView, error) {
	p := PrincipalFrom(r.Context())
	st, err := s.App.Users.Staff(r.Context(), p.MerchantID, p.SubjectID)
	if err != nil {
		return nil, err
	}
	v := &guideView{Name: st.Name, GuideCode: st.GuideCode, StoreID: st.StoreID, WindowDays: int(guides.Window / (24 * time.Hour)),
		CodeDays: int(guides.CodeTTL / (24 * time.Hour)), Links: []guideLink{}, Orders: []order.Order{},
		Month: s.App.Now().In(cn.Shanghai).Format("2006-01"), WeCom: s.App.WeComReady(r.Context(), p)}
	if st.GuideCode == "" {
		return v, nil // the page says to ask an admin for a guide code
	}
	rooms, err := s.App.GuideRooms(r.Context(), p) // a store-bound guide: their store's and the brand's
	if err != nil {
		return nil, err
	}
	base := s.App.Pay.PublicURL()
	for _, room := range rooms {
		code, _ := s.App.ShareCode(r.Context(), p, &room, "")
		q := "?g=" + url.QueryEscape(code)
		v.Links = append(v.Links, guideLink{Slug: room.Slug, Title: room.Title, Status: string(room.Status), StartsAt: room.ScheduledAt,
			URL: base + "/live/" + room.Slug + q, QR: "/qr/share/" + room.Slug, Poster: "/poster/" + room.Slug + q, Code: code})
	}
	list, err := s.App.GuideOrders(r.Context(), p, st.GuideCode)
	if err != nil {
		return nil, err
	}
	v.Orders = app.OrderViews(p, list)
	if v.Orders == nil {
		v.Orders = []order.Order{}
	}
	stmt, err := s.App.GuideStatement(r.Context(), p.MerchantID, v.Month, st.GuideCode, 0)
	if err != nil {
		return nil, err
	}
	v.MonthSum = stmt.Total
	return v, nil
}

func (s *Server) pageGuide(w http.ResponseWriter, r *http.Request) error {
	v, err := s.guideView(r)
	if err != nil {
		return err
	}
	return s.render(w, r, 200, "guide.html", map[string]any{"G": v})
}

func (s *Server) apiGuideMe(w http.ResponseWriter, r *http.Request) error {
	v, err := s.guideView(r)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

// pageShareQR draws the caller's signed link to a room as a QR code.
func (s *Server) pageShareQR(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	if room.MerchantID != p.MerchantID {
		return apperr.ErrNotFound
	}
	code, _ := s.App.ShareCode(r.Context(), p, room, "")
	link := s.App.Pay.PublicURL() + "/live/" + room.Slug
	if code != "" {
		link += "?g=" + url.QueryEscape(code)
	}
	png, err := qrcode.Encode(link, qrcode.Medium, 480)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, no-store")
	_, err = w.Write(png)
	return err
}

// statement answers the month's statement for the caller: one guide's own,
// or the shop's (a store-bound caller: their store's orders only).
func (s *Server) statement(r *http.Request, own bool) (*guides.Statement, error) {
	p := PrincipalFrom(r.Context())
	month := r.URL.Query().Get("month")
	if month == "" {
		month = s.App.Now().In(cn.Shanghai).Format("2006-01")
	}
	if own {
		st, err := s.App.Users.Staff(r.Context(), p.MerchantID, p.SubjectID)
		if err != nil {
			return nil, err
		}
		if st.GuideCode == "" {
			// no guide code, no attributed orders: an empty statement
			from, to, err := guides.Month(month)
			if err != nil {
				return nil, err
			}
			empty := guides.BuildStatement(month, from, to, nil, nil)
			return &empty, nil
		}
		return s.App.GuideStatement(r.Context(), p.MerchantID, month, st.GuideCode, 0)
	}
	return s.App.GuideStatement(r.Context(), p.MerchantID, month, "", p.AtStore())
}

func (s *Server) apiGuideStatement(w http.ResponseWriter, r *http.Request) error {
	st, err := s.statement(r, true)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, st)
}

func (s *Server) apiGuideStatementCSV(w http.ResponseWriter, r *http.Request) error {
	st, err := s.statement(r, true)
	if err != nil {
		return err
	}
	return writeStatementCSV(w, st)
}

func (s *Server) apiCommissionReport(w http.ResponseWriter, r *http.Request) error {
	st, err := s.statement(r, false)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, st)
}

func (s *Server) apiCommissionReportCSV(w http.ResponseWriter, r *http.Request) error {
	st, err := s.statement(r, false)
	if err != nil {
		return err
	}
	return writeStatementCSV(w, st)
}

func writeStatementCSV(w http.ResponseWriter, st *guides.Statement) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="commission-`+st.Month+`.csv"`)
	return st.WriteCSV(w)
}

func (s *Server) apiCommissionReportXLSX(w http.ResponseWriter, r *http.Request) error {
	st, err := s.statement(r, false)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := st.WriteXLSX(&buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="commission-`+st.Month+`.xlsx"`)
	_, err = w.Write(buf.Bytes())
	return err
}

func (s *Server) apiCommissionRates(w http.ResponseWriter, r *http.Request) error {
	rates, err := s.App.Guides.Rates(r.Context(), PrincipalFrom(r.Context()).MerchantID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"rates": rates})
}

func (s *Server) apiSetCommissionRates(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Rates guides.Rates `json:"rates"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if len(in.Rates) > 1000 {
		return guides.ErrInvalidRate.With("最多 1000 条", "At most 1,000 rates.")
	}
	p := PrincipalFrom(r.Context())
	if err := s.App.SetCommissionRates(r.Context(), p, in.Rates); err != nil {
		return err
	}
	return s.apiCommissionRates(w, r)
}
