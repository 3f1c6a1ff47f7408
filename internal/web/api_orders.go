package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/order"
)

func (s *Server) apiCreateOrder(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	var req order.Request
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.limit(w, "order:"+identityKey(p), 5, 20); err != nil {
		return err
	}
	if p != nil {
		req.GuideCode = s.attribution(r, p.MerchantID, req.GuideCode)
	}
	o, created, err := s.App.CreateOrder(r.Context(), p, &req, r.Header.Get("Idempotency-Key"))
	if addr, ok := app.NotLeader(err); ok {
		body, _ := json.Marshal(req)
		status, answer, err := s.forwardAnswer(w, r, addr, body)
		if status == http.StatusConflict && req.SaleID != 0 {
			var pr Problem
			if json.Unmarshal(answer, &pr) == nil && pr.Code == flashsale.ErrSoldOut.Code {
				s.App.NoteSoldOut(req.SaleID) // answer the rest of the stampede here for a moment
			}
		}
		return err
	}
	if err != nil {
		return err
	}
	if created {
		kind := "regular"
		if o.SaleID != 0 {
			kind = "flash"
		}
		s.metrics.orders.WithLabelValues(kind).Inc()
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK // a retry: the same order, not a second one
	}
	return writeJSON(w, status, app.OrderView(p, o))
}

func identityKey(p *identity.Principal) string {
	if p == nil {
		return ""
	}
	return string(p.Kind) + ":" + itoa(p.SubjectID)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func (s *Server) apiListOrders(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	f := order.Filter{MerchantID: p.MerchantID, Status: order.Status(r.URL.Query().Get("status"))}
	var err error
	if f.RoomID, err = queryID(r, "room_id"); err != nil {
		return err
	}
	if f.StoreID, err = queryID(r, "store_id"); err != nil {
		return err
	}
	if f.BeforeID, err = queryID(r, "before_id"); err != nil {
		return err
	}
	list, err := s.App.StaffOrders(r.Context(), p, f) // store staff: their store's only
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"orders": app.OrderViews(p, list)})
}

func (s *Server) apiMyOrders(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	list, err := s.App.MyOrders(r.Context(), p)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"orders": app.OrderViews(p, list)})
}

func (s *Server) apiOrder(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := s.App.ViewOrder(r.Context(), p, id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, app.OrderView(p, o))
}

func (s *Server) apiPay(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	req, err := s.payRequest(r, id)
	if err != nil {
		return err
	}
	if req.Provider == "dev" || req.Provider == "" {
		if err := s.devOnly(); err != nil {
			return err
		}
	}
	in, err := s.App.StartPayment(r.Context(), PrincipalFrom(r.Context()), id, req)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, in)
}

func (s *Server) apiCancelOwn(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := s.App.CancelUnpaid(r.Context(), p, id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, app.OrderView(p, o))
}

func (s *Server) apiOrderStatus(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Status order.Status `json:"status"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	switch in.Status {
	case order.Ready, order.Shipped, order.Completed:
	case order.Cancelled:
		if !identity.Can(p.Role, identity.PermOrdersRefund) {
			return apperr.ErrForbidden
		}
	default:
		return apperr.ErrInvalidStatus.With("状态须为 ready/shipped/completed/cancelled", "Status must be ready, shipped, completed or cancelled.")
	}
	o, err := s.App.Fulfil(r.Context(), p, id, in.Status)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, app.OrderView(p, o))
}

func (s *Server) apiVerifyPickup(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Code    string `json:"code"`
		Confirm bool   `json:"confirm"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	if err := s.limit(w, "pickup:"+identityKey(p), 2, 20); err != nil {
		return err
	}
	o, err := s.App.VerifyPickup(r.Context(), p, in.Code, in.Confirm)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, app.OrderView(p, o))
}

// devOnly hides the built-in dev payment provider outside dev mode: it
// marks orders paid without money.
func (s *Server) devOnly() error {
	if !s.DevMode {
		return apperr.ErrNotFound
	}
	return nil
}

func (s *Server) apiDevIntent(w http.ResponseWriter, r *http.Request) error {
	if err := s.devOnly(); err != nil {
		return err
	}
	in, o, merchant, err := s.App.DevIntent(r.Context(), r.PathValue("intent"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"intent": in.Intent, "amount_fen": in.AmountFen, "status": in.Status, "order_id": o.ID, "order_number": o.Number, "merchant": merchant})
}

func (s *Server) apiDevConfirm(w http.ResponseWriter, r *http.Request) error {
	if err := s.devOnly(); err != nil {
		return err
	}
	in, err := s.App.DevPay(r.Context(), r.PathValue("intent"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"intent": in.Intent, "status": in.Status, "order_id": in.OrderID})
}

// apiPaymentCallback is the provider → ShelfLive notification. Anything
// forged, stale, replayed or mismatched changes nothing and is logged.
func (s *Server) apiPaymentCallback(w http.ResponseWriter, r *http.Request) error {
	if err := s.devOnly(); err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	n, err := s.App.Provider.Verify(r, body, s.App.Now())
	if err == nil {
		err = s.App.PaymentCallback(r.Context(), n)
	}
	if err != nil {
		s.metrics.payments.WithLabelValues("refused").Inc()
		s.Logger.Warn("payment callback refused", "ip", s.clientIP(r), "code", apperr.As(err).Code)
		return err
	}
	s.metrics.payments.WithLabelValues("paid").Inc()
	return writeJSON(w, 200, map[string]string{"result": "ok"})
}

func (s *Server) apiExportMe(w http.ResponseWriter, r *http.Request) error {
	data, err := s.App.ExportMyData(r.Context(), PrincipalFrom(r.Context()))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="shelflive-my-data.json"`)
	return writeJSON(w, 200, data)
}

func (s *Server) apiEraseMe(w http.ResponseWriter, r *http.Request) error {
	if err := s.App.EraseMyData(r.Context(), PrincipalFrom(r.Context())); err != nil {
		return err
	}
	s.setSessionCookie(w, r, viewerCookie, "", -time.Second)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiGuideSales reports what each store guide's share links brought in,
// for the days from..to (YYYY-MM-DD in China time, both included; the last
// 30 days by default).
func (s *Server) apiGuideSales(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	from, to, err := reportDays(r, s.App.Now())
	if err != nil {
		return err
	}
	guides, err := s.App.Orders.GuideSales(r.Context(), p.MerchantID, from, to.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"from": from.Format("2006-01-02"), "to": to.Format("2006-01-02"), "guides": guides})
}
