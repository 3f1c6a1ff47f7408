package web

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/skip2/go-qrcode"
)

func (s *Server) pageHome(w http.ResponseWriter, r *http.Request) error {
	rooms, err := s.App.Live.ListPublicRooms(r.Context(), 30)
	if err != nil {
		return err
	}
	return s.render(w, r, 200, "home.html", map[string]any{"Rooms": rooms})
}

func (s *Server) pageLive(w http.ResponseWriter, r *http.Request) error {
	st, err := s.App.RoomBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	m, err := s.App.Users.Merchant(r.Context(), st.Room.MerchantID)
	if err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	var viewer *identity.Principal
	if p != nil && p.Kind == identity.KindCustomer && p.MerchantID == st.Room.MerchantID {
		viewer = p
	}
	s.ensureVisitor(w, r)
	guide := r.URL.Query().Get("g")
	if len(guide) > 32 {
		guide = ""
	}
	return s.render(w, r, 200, "live.html", map[string]any{"State": st, "MerchantSlug": m.Slug, "Viewer": viewer, "Guide": guide})
}

func (s *Server) pageOrder(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	o, err := s.App.CustomerOrder(r.Context(), p, id)
	if err != nil {
		return err
	}
	data := map[string]any{"Order": o, "StatusText": statusText(o.Status, langOf(r)), "MaskedPhone": identity.MaskPhone(o.ContactPhone)}
	if st, err := s.App.Stores.Store(r.Context(), o.MerchantID, o.StoreID); err == nil {
		data["Store"] = st
	}
	if o.RoomID > 0 {
		if room, err := s.App.Live.Room(r.Context(), o.MerchantID, o.RoomID); err == nil {
			data["RoomSlug"] = room.Slug
		}
	}
	showCode := o.Fulfilment == order.Pickup && (o.Status == order.Paid || o.Status == order.Ready)
	data["ShowCode"] = showCode
	if showCode {
		data["CodeSpaced"] = o.PickupCode[:4] + " " + o.PickupCode[4:]
	}
	return s.render(w, r, 200, "order.html", data)
}

func statusText(st order.Status, lang string) string {
	zh, en, _ := strings.Cut(st.Label(), " ")
	if lang == "en" {
		return en
	}
	return zh
}

// pageOrderQR draws the pickup code as a QR image for the store's scanner.
func (s *Server) pageOrderQR(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := s.App.CustomerOrder(r.Context(), PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	if o.PickupCode == "" || (o.Status != order.Paid && o.Status != order.Ready) {
		return apperr.ErrNotFound
	}
	png, err := qrcode.Encode(o.PickupCode, qrcode.Medium, 360)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, no-store")
	_, err = w.Write(png)
	return err
}

func (s *Server) pagePayDev(w http.ResponseWriter, r *http.Request) error {
	if err := s.devOnly(); err != nil {
		return err
	}
	in, o, merchant, err := s.App.DevIntent(r.Context(), r.PathValue("intent"))
	if err != nil {
		return err
	}
	return s.render(w, r, 200, "pay.html", map[string]any{"Intent": in, "Order": o, "Merchant": merchant})
}

func (s *Server) pageLogin(w http.ResponseWriter, r *http.Request) error {
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		next = "/studio"
	}
	return s.render(w, r, 200, "login.html", map[string]any{"Next": next})
}

func (s *Server) pageStudio(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, 200, "studio.html", nil)
}

func (s *Server) pageAdmin(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, 200, "admin.html", nil)
}

func (s *Server) pagePickup(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, 200, "pickup.html", nil)
}

// initial is the first character of a name, for avatars.
func initial(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return "?"
	}
	return string(r)
}
