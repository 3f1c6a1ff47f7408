package web

import (
	"net/http"

	"github.com/shelflive/shelflive/internal/app"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/members"
)

// memberRoutes: joining and the card (viewers), the programme, member
// prices and members list (admin), and restricting a room to a segment.
func (s *Server) memberRoutes() []Route {
	return []Route{
		api("GET", "/api/v1/me/membership", Customer, "", "The viewer's membership card (number, tier, points) and latest points entries", s.apiMyMembership),
		api("POST", "/api/v1/me/membership", Customer, "", "Join the shop's membership (idempotent)", s.apiJoinMembership),
		api("POST", "/api/v1/me/points/exchange", Customer, "", "Take a coupon for points (an offer of the programme; once per Idempotency-Key)", s.apiExchangePoints),
		api("GET", "/api/v1/members", Staff, identity.PermAdminView, "Members, newest first, with their tiers", s.apiMembers),
		api("GET", "/api/v1/members/program", Staff, identity.PermAdminView, "The membership programme: tiers, their basis, points per yuan", s.apiMemberProgram),
		api("PUT", "/api/v1/members/program", Staff, identity.PermCatalogWrite, "Replace the membership programme", s.apiSaveMemberProgram),
		api("GET", "/api/v1/members/prices", Staff, identity.PermAdminView, "Member prices per SKU", s.apiMemberPrices),
		api("PUT", "/api/v1/members/prices", Staff, identity.PermCatalogWrite, "Set (or clear with 0) a SKU's member price", s.apiSetMemberPrice),
		api("POST", "/api/v1/members/redeem", Staff, identity.PermOrdersFulfil, "Redeem a member's points at the counter (once per Idempotency-Key)", s.apiRedeemPoints),
		api("GET", "/api/v1/rooms/{slug}/audience", Staff, identity.PermRoomHost, "The segment a room is restricted to (null: open to everyone)", s.apiRoomAudience),
		api("PUT", "/api/v1/rooms/{slug}/audience", Staff, identity.PermRoomsWrite, "Restrict a room to a segment, or open it (segment null)", s.apiSetRoomAudience),
	}
}

func (s *Server) apiMyMembership(w http.ResponseWriter, r *http.Request) error {
	v, err := s.App.MyMembership(r.Context(), PrincipalFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

func (s *Server) apiJoinMembership(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Source string `json:"source"` // where the button was: room:<slug>, my
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
	}
	if in.Source == "" {
		in.Source = "api"
	}
	card, joined, err := s.App.JoinMembership(r.Context(), PrincipalFrom(r.Context()), in.Source)
	if err != nil {
		return err
	}
	status := 200
	if joined {
		status = 201
	}
	return writeJSON(w, status, map[string]any{"joined": joined, "card": card})
}

func (s *Server) apiMembers(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	list, err := s.App.Members.Members(r.Context(), p.MerchantID, 200)
	if err != nil {
		return err
	}
	prog, err := s.App.Members.Program(r.Context(), p.MerchantID)
	if err != nil {
		return err
	}
	cards := make([]members.Card, len(list))
	for i := range list {
		cards[i] = prog.CardOf(&list[i])
	}
	return writeJSON(w, 200, map[string]any{"members": cards})
}

func (s *Server) apiMemberProgram(w http.ResponseWriter, r *http.Request) error {
	prog, err := s.App.Members.Program(r.Context(), PrincipalFrom(r.Context()).MerchantID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, prog)
}

func (s *Server) apiSaveMemberProgram(w http.ResponseWriter, r *http.Request) error {
	var in members.Program
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	prog, err := s.App.SaveMemberProgram(r.Context(), PrincipalFrom(r.Context()), in)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, prog)
}

func (s *Server) apiMemberPrices(w http.ResponseWriter, r *http.Request) error {
	prices, err := s.App.Members.MemberPrices(r.Context(), PrincipalFrom(r.Context()).MerchantID)
	if err != nil {
		return err
	}
	type row struct {
		SKUID    int64 `json:"sku_id"`
		PriceFen int64 `json:"member_price_fen"`
	}
	out := []row{}
	for sku, fen := range prices {
		out = append(out, row{sku, fen})
	}
	return writeJSON(w, 200, map[string]any{"prices": out})
}

func (s *Server) apiSetMemberPrice(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		SKUID    int64 `json:"sku_id"`
		PriceFen int64 `json:"member_price_fen"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.App.SetMemberPrice(r.Context(), PrincipalFrom(r.Context()), in.SKUID, in.PriceFen); err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"sku_id": in.SKUID, "member_price_fen": in.PriceFen})
}

func (s *Server) apiRoomAudience(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomOwned(r)
	if err != nil {
		return err
	}
	seg, err := s.App.Members.Audience(r.Context(), room.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"segment": seg})
}

func (s *Server) apiSetRoomAudience(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomOwned(r)
	if err != nil {
		return err
	}
	var in struct {
		Segment *members.Segment `json:"segment"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	seg, err := s.App.SetRoomAudience(r.Context(), PrincipalFrom(r.Context()), room, in.Segment)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"segment": seg})
}

func (s *Server) apiRedeemPoints(w http.ResponseWriter, r *http.Request) error {
	var in app.RedeemRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	e, card, err := s.App.RedeemPoints(r.Context(), PrincipalFrom(r.Context()), in, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"entry": e, "card": card})
}

func (s *Server) apiExchangePoints(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		CouponID int64 `json:"coupon_id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	e, claim, card, err := s.App.ExchangePoints(r.Context(), PrincipalFrom(r.Context()), in.CouponID, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"entry": e, "claim_id": claim, "card": card})
}
