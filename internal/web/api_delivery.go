package web

import (
	"net/http"
	"strconv"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/delivery"
	"github.com/shelflive/shelflive/internal/identity"
)

// deliveryRoutes: staff ship a delivery order with its carrier and
// tracking number and add manual timeline entries; the buyer's order page
// reads the timeline.
func (s *Server) deliveryRoutes() []Route {
	return []Route{
		api("GET", "/api/v1/rooms/{slug}/delivery-quote", Public, "", "Same-city delivery to a point: the store, distance, fee by distance and delivery slots (?lat=&lng=&goods_fen=)", s.apiDeliveryQuote),
		api("GET", "/api/v1/carriers", Public, "", "Carriers a shop ships with (codes, names, tracking-number shapes)", s.apiCarriers),
		api("GET", "/api/v1/orders/{id}/shipment", AnyLogin, "", "A delivery order's shipment and tracking timeline (its buyer, or staff)", s.apiOrderShipment),
		api("POST", "/api/v1/orders/{id}/shipment", Staff, identity.PermOrdersFulfil, "Ship a paid delivery order with carrier and tracking number (again: correct them)", s.apiShipOrder),
		api("POST", "/api/v1/orders/{id}/shipment/events", Staff, identity.PermOrdersFulfil, "Add a manual tracking entry (delivered closes the shipment and completes the order)", s.apiTrackingUpdate),
	}
}

func (s *Server) apiCarriers(w http.ResponseWriter, r *http.Request) error {
	type carrier struct {
		delivery.Carrier
		Pattern string `json:"pattern"`
	}
	out := make([]carrier, 0, len(delivery.Carriers))
	for _, c := range delivery.Carriers {
		out = append(out, carrier{Carrier: c, Pattern: c.Pattern.String()})
	}
	return writeJSON(w, 200, map[string]any{"carriers": out})
}

func (s *Server) apiOrderShipment(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if p.IsStaff() && !identity.Can(p.Role, identity.PermOrdersRead) {
		return apperr.ErrForbidden
	}
	sh, err := s.App.OrderShipment(r.Context(), p, id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"shipment": sh})
}

func (s *Server) apiShipOrder(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Carrier    string `json:"carrier"`
		TrackingNo string `json:"tracking_no"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sh, err := s.App.ShipOrder(r.Context(), PrincipalFrom(r.Context()), id, in.Carrier, in.TrackingNo)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, sh)
}

func (s *Server) apiTrackingUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Stage    delivery.Stage `json:"stage"`
		Text     string         `json:"text"`
		Location string         `json:"location"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sh, err := s.App.RecordTracking(r.Context(), PrincipalFrom(r.Context()), id, delivery.Event{Stage: in.Stage, Text: in.Text, Location: in.Location})
	if err != nil {
		return err
	}
	return writeJSON(w, 200, sh)
}

func (s *Server) apiDeliveryQuote(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var lat, lng *float64
	if q.Get("lat") != "" || q.Get("lng") != "" {
		a, err1 := strconv.ParseFloat(q.Get("lat"), 64)
		b, err2 := strconv.ParseFloat(q.Get("lng"), 64)
		if err1 != nil || err2 != nil {
			return apperr.ErrInvalidLocation.At("lat")
		}
		lat, lng = &a, &b
	}
	goods, _ := strconv.ParseInt(q.Get("goods_fen"), 10, 64)
	quote, err := s.App.QuoteDelivery(r.Context(), room.MerchantID, lat, lng, max(goods, 0))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, quote)
}
