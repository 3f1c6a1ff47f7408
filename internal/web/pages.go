package web

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/stores"
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
	st, err := s.App.RoomFor(r.Context(), PrincipalFrom(r.Context()), r.PathValue("slug"))
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
	// The buyer login on /orders pages needs the shop: remember the room's.
	http.SetCookie(w, &http.Cookie{Name: merchantCookie, Value: m.Slug, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	// Only a code this server signed counts (and becomes the last touch);
	// the page re-shares it and the order carries it.
	guide := s.touchShare(w, r, st.Room.MerchantID)
	// A room on air starts its video before its scripts (earlyStreamScript):
	// fragmented MP4 with the page's own player (live_mse.js), or HTTP-FLV
	// with mpegts.js where the media server has no fMP4 (external mode).
	data := map[string]any{"State": st, "MerchantSlug": m.Slug, "Viewer": viewer, "Guide": guide, "OG": s.roomOG(st, langOf(r), guide)}
	if pb := st.Playback; pb != nil && pb.OnAir && st.Room.Status != live.Ended {
		switch {
		case pb.MP4 != "":
			data["EarlyVideo"], data["EarlyURL"], data["EarlyPlayer"] = true, pb.MP4, "live_mse.js"
		case pb.FLV != "":
			data["EarlyVideo"], data["EarlyURL"], data["EarlyPlayer"] = true, pb.FLV, "flv.bundle.js"
		}
	}
	return s.render(w, r, 200, "live.html", data)
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
		data["NavLinks"] = stores.NavLinks(st)
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

// pageMyOrders lists the viewer's orders, newest first (我的订单).
func (s *Server) pageMyOrders(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	list, err := s.App.Orders.List(r.Context(), order.Filter{MerchantID: p.MerchantID, CustomerID: p.SubjectID})
	if err != nil {
		return err
	}
	from := r.URL.Query().Get("from")
	if !slugRE.MatchString(from) {
		from = ""
	}
	data := map[string]any{"Orders": list, "From": from}
	if s.App.Reminders != nil {
		// The inbox sits on top of 我的: reminders of lives the viewer
		// subscribed to; opening the page reads them.
		if msgs, unread, err := s.App.Reminders.Inbox(r.Context(), p.MerchantID, p.SubjectID, 10); err == nil {
			data["Inbox"], data["Unread"] = msgs, unread
			if unread > 0 {
				s.App.Reminders.MarkRead(r.Context(), p.MerchantID, p.SubjectID, s.App.Now())
			}
		}
	}
	return s.render(w, r, 200, "my_orders.html", data)
}

// merchantCookie remembers the shop of the last room a browser opened, so a
// logged-out buyer opening /orders logs in with the right shop.
const merchantCookie = "sl_m"

// slugRE is what a room or merchant slug may look like in a link we print.
var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// renderBuyerLogin answers a logged-out buyer's page (an order, my orders)
// with the phone login instead of a bare 401; after logging in, the page
// reloads the same address.
func (s *Server) renderBuyerLogin(w http.ResponseWriter, r *http.Request) {
	merchant := r.URL.Query().Get("m")
	if c, err := r.Cookie(merchantCookie); err == nil && merchant == "" {
		merchant = c.Value
	}
	if !slugRE.MatchString(merchant) {
		merchant = ""
	}
	if err := s.render(w, r, http.StatusUnauthorized, "buyer_login.html", map[string]any{"Merchant": merchant}); err != nil {
		s.renderError(w, r, apperr.ErrUnauthorized)
	}
}

// statusClass is the badge colour of an order status.
func statusClass(st order.Status) string {
	switch st {
	case order.PendingPayment:
		return "amber"
	case order.Paid, order.Ready, order.Shipped, order.Completed:
		return "green"
	}
	return ""
}

func statusText(st order.Status, lang string) string { return pickLang(lang, st.Label()) }

// pickLang takes one language out of a label written "中文 English" (order
// statuses, roles), so a page shows one language at a time.
func pickLang(lang, label string) string {
	zh, en, ok := strings.Cut(label, " ")
	if !ok {
		return label
	}
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

// pagePayQR draws a vendor's payment link (WeChat Native code_url, Alipay
// precreate qr_code) as a QR code for a desktop checkout. Only those two
// kinds of link are drawn, for logged-in viewers.
func (s *Server) pagePayQR(w http.ResponseWriter, r *http.Request) error {
	u := r.URL.Query().Get("u")
	if len(u) > 512 || !(strings.HasPrefix(u, "weixin://wxpay/") || strings.HasPrefix(u, "https://qr.alipay.com/")) {
		return apperr.ErrNotFound
	}
	png, err := qrcode.Encode(u, qrcode.Medium, 480)
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

// pageStudio is the host's console; a moderator (no room.host) gets the
// same page with the selling parts hidden and their APIs not called.
func (s *Server) pageStudio(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	return s.render(w, r, 200, "studio.html", map[string]any{"CanHost": identity.Can(p.Role, identity.PermRoomHost)})
}

// pageAdmin is the admin console; Perms lets a tab leave out the forms its
// viewer may not submit (a quality member reads coupons but makes none).
func (s *Server) pageAdmin(w http.ResponseWriter, r *http.Request) error {
	var perms []string
	for _, p := range identity.Permissions(PrincipalFrom(r.Context()).Role) {
		perms = append(perms, string(p))
	}
	return s.render(w, r, 200, "admin.html", map[string]any{"Perms": strings.Join(perms, " ")})
}

func (s *Server) pagePickup(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	return s.render(w, r, 200, "pickup.html", map[string]any{"CanAdmin": identity.Can(p.Role, identity.PermAdminView)})
}

// when is a time as a shopper reads it, in China's zone: 12月7日 20:00, or
// 7 Dec, 20:00 in English (never 07/12, which half the world reads as July).
func when(lang string, t *time.Time) string {
	if t == nil {
		return ""
	}
	l := t.In(cn.Shanghai)
	if lang == "en" {
		return l.Format("2 Jan, 15:04")
	}
	return fmt.Sprintf("%d月%d日 %s", l.Month(), l.Day(), l.Format("15:04"))
}

// initial is the first character of a name, for avatars.
func initial(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return "?"
	}
	return string(r)
}
