package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/aftersales"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/identity"
)

// aftersaleRoutes: a customer asks (仅退款, 退货退款, quality complaint with
// photos) from the order page; the store reviews in /admin → 售后.
func (s *Server) aftersaleRoutes() []Route {
	return []Route{
		api("GET", "/api/v1/aftersales/rules", Public, "", "After-sales rules: reasons list, window per storage class, the store's review time and the lapse rule", s.apiAftersaleRules),
		api("POST", "/api/v1/me/uploads", Customer, "", "Upload a photo for a complaint (JPEG, PNG, WebP, GIF; 8 MB)", s.apiCustomerUpload),
		api("GET", "/api/v1/orders/{id}/aftersales", Customer, "", "The buyer's after-sales requests about their order", s.apiOrderAftersales),
		api("POST", "/api/v1/orders/{id}/aftersales", Customer, "", "Ask for a refund, a return or file a quality complaint with photos", s.apiAskAftersale),
		api("POST", "/api/v1/aftersales/{id}/withdraw", Customer, "", "Withdraw an open after-sales request", s.apiWithdrawAftersale),
		api("GET", "/api/v1/aftersales", Staff, identity.PermOrdersRead, "After-sales requests, newest first (?status=requested; staff of one store: theirs)", s.apiListAftersales),
		api("POST", "/api/v1/aftersales/{id}/decision", Staff, identity.PermOrdersRefund, "Approve (refund through the provider, once) or reject an after-sales request", s.apiDecideAftersale),
		api("GET", "/api/v1/aftersales/stats", Staff, identity.PermAdminView, "Complaints and refunds per product and lot (quality console), last 30 days by default (?days=)", s.apiAftersaleStats),
	}
}

func (s *Server) apiAftersaleRules(w http.ResponseWriter, r *http.Request) error {
	windows := map[catalog.StorageClass]int{}
	for k, v := range aftersales.Windows {
		windows[k] = int(v.Hours())
	}
	return writeJSON(w, 200, map[string]any{
		"reasons": aftersales.Reasons, "window_hours": windows, "review_hours": int(aftersales.ReviewTime.Hours()),
		"lapse_rule":    "approved as asked; a return counts as not received (nothing goes back on sale)",
		"max_photos":    aftersales.MaxPhotos,
		"stock_rule":    "returned chilled and frozen food is written off; ambient goods go back on sale when staff confirm they have them back",
		"before_pickup": "before handover only a full refund (cancelling the order) can be asked",
	})
}

func (s *Server) apiCustomerUpload(w http.ResponseWriter, r *http.Request) error {
	url, err := s.storeImage(w, r)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, map[string]string{"url": url})
}

func (s *Server) apiOrderAftersales(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	if _, err := s.App.CustomerOrder(r.Context(), p, id); err != nil {
		return err
	}
	list, err := s.App.Aftersales.List(r.Context(), aftersales.Filter{MerchantID: p.MerchantID, CustomerID: p.SubjectID, OrderID: id})
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"requests": list})
}

func (s *Server) apiAskAftersale(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var ask aftersales.Ask
	if err := decodeJSON(r, &ask); err != nil {
		return err
	}
	req, err := s.App.AskAftersale(r.Context(), PrincipalFrom(r.Context()), id, ask)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, req)
}

func (s *Server) apiWithdrawAftersale(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	req, err := s.App.WithdrawAftersale(r.Context(), PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, req)
}

func (s *Server) apiListAftersales(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	f := aftersales.Filter{Status: aftersales.Status(r.URL.Query().Get("status"))}
	if v := r.URL.Query().Get("order_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return apperr.ErrNotFound
		}
		f.OrderID = id
	}
	list, err := s.App.StaffAftersales(r.Context(), p, f) // store staff: their store's only
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"requests": list, "now": s.App.Now()})
}

func (s *Server) apiDecideAftersale(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Approve  bool   `json:"approve"`
		Note     string `json:"note"`
		Received bool   `json:"received"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	req, err := s.App.DecideAftersale(r.Context(), PrincipalFrom(r.Context()), id, in.Approve, in.Note, in.Received)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, req)
}

func (s *Server) apiAftersaleStats(w http.ResponseWriter, r *http.Request) error {
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 365 {
			return aftersales.ErrStatsDays
		}
		days = n
	}
	p := PrincipalFrom(r.Context())
	stats, err := s.App.Aftersales.Stats(r.Context(), p.MerchantID, s.App.Now().Add(-time.Duration(days)*24*time.Hour))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"stats": stats, "days": days})
}
