package web

import (
	"net/http"
	"strconv"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/stores"
)

// pickupRoutes: the pickup slots a buyer chooses from in the buy sheet.
func (s *Server) pickupRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/rooms/{slug}/stores/{id}/slots", Access: Public, API: true,
			Summary: "A pickup store's bookable slots (today and tomorrow, within opening hours) with the places left", handler: s.apiStoreSlots},
		{Method: "GET", Path: "/api/v1/packing-list", Access: Staff, Perm: identity.PermOrdersFulfil, API: true,
			Summary: "Paid delivery orders to pack, chilled and frozen lines flagged for insulated packing (?store_id=; staff of one store: theirs)", handler: s.apiPackingList},
	}
}

func (s *Server) apiPackingList(w http.ResponseWriter, r *http.Request) error {
	var store int64
	if v := r.URL.Query().Get("store_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return stores.ErrUnknownStore
		}
		store = id
	}
	list, err := s.App.PackingList(r.Context(), PrincipalFrom(r.Context()), store)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"orders": list})
}

func (s *Server) apiStoreSlots(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return stores.ErrUnknownStore
	}
	st, slots, err := s.App.StoreSlots(r.Context(), room.MerchantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"store_id": st.ID, "slots_on": st.SlotsOn(), "open_now": st.Open(s.App.Now()),
		"open_minute": st.OpenMinute, "close_minute": st.CloseMinute, "slots": slots})
}
