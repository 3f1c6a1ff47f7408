package web

import (
	"net/http"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/compliance"
	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/order"
)

// couponRoutes: coupons the host pushes into the room as a card, viewers
// grab, and the checkout applies (docs/PROTOCOL.md "Coupon cards").
func (s *Server) couponRoutes() []Route {
	return []Route{
		// Reading coupons is for whoever opens the admin console (its 优惠券
		// tab lists them beside the cost report); making and pushing them
		// is the host's, issuing them to a segment the room manager's.
		api("GET", "/api/v1/coupons", Staff, identity.PermAdminView, "The merchant's coupons, newest first (?room=slug)", s.apiListCoupons),
		api("POST", "/api/v1/coupons", Staff, identity.PermRoomHost, "Create a coupon (a draft until pushed)", s.apiCreateCoupon),
		api("POST", "/api/v1/coupons/{id}/push", Staff, identity.PermRoomHost, "Push the coupon's card into its room: viewers grab it from now", s.apiPushCoupon),
		api("POST", "/api/v1/coupons/{id}/end", Staff, identity.PermRoomHost, "Stop grabbing (grabbed coupons stay usable in their window)", s.apiEndCoupon),
		api("POST", "/api/v1/coupons/{id}/issue", Staff, identity.PermRoomsWrite, "Issue the coupon to every customer of a segment, each told in their inbox (once per Idempotency-Key)", s.apiIssueCouponToSegment),
		api("GET", "/api/v1/coupons/{id}/issues", Staff, identity.PermAdminView, "The coupon's issues to segments, newest first", s.apiCouponSegmentIssues),
		api("POST", "/api/v1/coupons/{id}/grab", Customer, "", "Grab one coupon of a live card (never more than the budget)", s.apiGrabCoupon),
		api("POST", "/api/v1/coupons/quote", Customer, "", "Price a cart with the wallet's best coupon (what the checkout shows)", s.apiQuoteCoupons),
		api("GET", "/api/v1/me/coupons", Customer, "", "The viewer's coupon wallet", s.apiMyCoupons),
		api("GET", "/api/v1/reports/coupons", Staff, identity.PermAdminView, "Coupon cost per room: issued, used, savings on paid orders, revenue (?room=slug)", s.apiCouponReport),
	}
}

// roomFilter reads ?room=slug for staff lists; 0 is every room.
func (s *Server) roomFilter(r *http.Request) (int64, error) {
	slug := r.URL.Query().Get("room")
	if slug == "" {
		return 0, nil
	}
	room, err := s.App.Live.RoomBySlug(r.Context(), slug)
	if err != nil || !runsRoom(PrincipalFrom(r.Context()), room) {
		return 0, apperr.ErrNotFound
	}
	return room.ID, nil
}

func (s *Server) apiListCoupons(w http.ResponseWriter, r *http.Request) error {
	roomID, err := s.roomFilter(r)
	if err != nil {
		return err
	}
	list, err := s.App.StaffCoupons(r.Context(), PrincipalFrom(r.Context()), roomID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"coupons": list})
}

func (s *Server) apiCreateCoupon(w http.ResponseWriter, r *http.Request) error {
	var in app.CouponInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := s.App.CreateCoupon(r.Context(), PrincipalFrom(r.Context()), in)
	if err != nil {
		return err
	}
	// The title's findings that do not block (warn, needs_evidence) come
	// with the coupon, as a product save's do.
	rev, err := s.App.ReviewCoupon(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, struct {
		*coupons.Coupon
		Compliance *compliance.Review `json:"compliance,omitempty"`
	}{c, rev})
}

func (s *Server) apiPushCoupon(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.App.PushCoupon(r.Context(), PrincipalFrom(r.Context()), id)
	if addr, ok := app.NotLeader(err); ok {
		return s.forward(w, r, addr, nil) // the leader allocates coupon cards
	}
	if err != nil {
		return err
	}
	return writeJSON(w, 200, c)
}

func (s *Server) apiEndCoupon(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.App.EndCoupon(r.Context(), PrincipalFrom(r.Context()), id)
	if addr, ok := app.NotLeader(err); ok {
		return s.forward(w, r, addr, nil)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, 200, c)
}

func (s *Server) apiIssueCouponToSegment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Segment members.Segment `json:"segment"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	is, err := s.App.IssueCouponToSegment(r.Context(), PrincipalFrom(r.Context()), id, in.Segment, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	status := 201
	if is.Repeated {
		status = 200
	}
	return writeJSON(w, status, is)
}

func (s *Server) apiCouponSegmentIssues(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	list, err := s.App.CouponSegmentIssues(r.Context(), PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"issues": list})
}

func (s *Server) apiGrabCoupon(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	if err := s.limit(w, "grab:"+identityKey(p), 5, 10); err != nil {
		return err
	}
	claim, err := s.App.GrabCoupon(r.Context(), p, id)
	if addr, ok := app.NotLeader(err); ok {
		return s.forward(w, r, addr, nil)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, 201, claim)
}

func (s *Server) apiQuoteCoupons(w http.ResponseWriter, r *http.Request) error {
	var req order.Request
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	q, err := s.App.QuoteCoupons(r.Context(), PrincipalFrom(r.Context()), &req)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, q)
}

func (s *Server) apiMyCoupons(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	list, err := s.App.Coupons.Wallet(r.Context(), p.MerchantID, p.SubjectID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"claims": list})
}

func (s *Server) apiCouponReport(w http.ResponseWriter, r *http.Request) error {
	roomID, err := s.roomFilter(r)
	if err != nil {
		return err
	}
	rows, err := s.App.CouponReport(r.Context(), PrincipalFrom(r.Context()), roomID)
	if err != nil {
		return err
	}
	var total struct {
		Issued     int64 `json:"issued"`
		Used       int64 `json:"used"`
		CostFen    int64 `json:"cost_fen"`
		RevenueFen int64 `json:"revenue_fen"`
	}
	for _, row := range rows {
		total.Issued += row.Issued
		total.Used += row.Used
		total.CostFen += row.CostFen
		total.RevenueFen += row.RevenueFen
	}
	return writeJSON(w, 200, map[string]any{"rows": rows, "total": total})
}
