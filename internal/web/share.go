package web

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/skip2/go-qrcode"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/live"
)

// shareRoutes: what a link looks like where it is shared — the room
// poster, public QR codes of rooms, a product's own page. Open Graph and
// Twitter cards ride on the pages' <head> (layout.html, data "OG").
func (s *Server) shareRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/poster/{slug}", Access: Public, Summary: "A room's poster for Moments and group chats: cover, title, start time (China time), price highlights and a QR code with the sharer's signed code", handler: s.pagePoster},
		{Method: "GET", Path: "/qr/room/{slug}", Access: Public, Summary: "QR code (PNG) of a room's link; ?g= is kept only when it is a valid signed share code", handler: s.pageRoomQR},
		{Method: "GET", Path: "/live/{slug}/products/{id}", Access: Public, Summary: "A product of a room's lineup, as a page of its own (share card, buy in the room)", handler: s.pageRoomProduct},
	}
}

// ogMeta is a page's Open Graph / Twitter card: what WeChat, chat apps and
// social sites show for a shared link.
type ogMeta struct {
	Title, Description, Image, URL, Type string
	// Video is an MP4 the card may play in place (a clip's page).
	Video                   string
	VideoWidth, VideoHeight int
	// OEmbed is the page's oEmbed discovery link (rooms: the embeddable card).
	OEmbed string
}

// abs makes a path absolute on the public URL (cards need absolute URLs).
func (s *Server) abs(path string) string {
	if path == "" || strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return s.App.Pay.PublicURL() + path
}

// highlight is one price line of a poster or a card: the product and its
// lowest price, with the list price when it is higher.
type highlight struct {
	Name     string
	PriceFen int64
	ListFen  int64
	Image    string
}

// highlights picks up to n products of the room: the pinned one first,
// then the lineup, each at its lowest active SKU price.
func highlights(st *app.RoomState, n int) []highlight {
	var out []highlight
	seen := map[int64]bool{}
	add := func(p *catalog.Product) {
		if p == nil || seen[p.ID] || len(out) >= n {
			return
		}
		var best *catalog.SKU
		for i := range p.SKUs {
			k := &p.SKUs[i]
			if k.Active && (best == nil || k.PriceFen < best.PriceFen) {
				best = k
			}
		}
		if best == nil {
			return
		}
		seen[p.ID] = true
		h := highlight{Name: p.Name, PriceFen: best.PriceFen, Image: p.Image}
		if best.ListPriceFen > best.PriceFen {
			h.ListFen = best.ListPriceFen
		}
		out = append(out, h)
	}
	add(st.Pinned)
	for i := range st.Products {
		add(&st.Products[i])
	}
	return out
}

// roomWhen says when the room is on, in China time, as a card says it.
func roomWhen(room *live.Room, lang string) string {
	switch room.Status {
	case live.Live:
		return pickLang(lang, "正在直播 Live now")
	case live.Ended:
		return pickLang(lang, "直播回放 Replay")
	}
	if room.ScheduledAt == nil {
		return pickLang(lang, "即将开播 Starting soon")
	}
	at := room.ScheduledAt.In(cn.Shanghai)
	if lang == "en" {
		return at.Format("Mon 2 Jan 15:04") + " (China time)"
	}
	return at.Format("1月2日 15:04") + " 开播"
}

// roomOG is the card of a room's link (live, upcoming or replay).
func (s *Server) roomOG(st *app.RoomState, lang, code string) *ogMeta {
	room := st.Room
	title := room.Title
	if lang == "en" && room.TitleEN != "" {
		title = room.TitleEN
	}
	var parts []string
	parts = append(parts, roomWhen(room, lang))
	for _, h := range highlights(st, 3) {
		parts = append(parts, h.Name+" "+catalog.FormatFen(h.PriceFen))
	}
	image := room.Poster
	if image == "" {
		if hs := highlights(st, 1); len(hs) > 0 {
			image = hs[0].Image
		}
	}
	link := "/live/" + room.Slug
	if code != "" {
		link += "?g=" + url.QueryEscape(code)
	}
	return &ogMeta{Title: title + " · " + st.Merchant, Description: strings.Join(parts, " · "), Image: s.abs(image), URL: s.abs(link), Type: "video.other",
		OEmbed: s.abs("/api/v1/oembed?format=json&url=" + url.QueryEscape(s.abs("/live/"+room.Slug)))}
}

// posterCode is the signed code a poster carries: a valid ?g=, else the
// caller's own (a guide, a viewer), else the code that brought the visitor.
func (s *Server) posterCode(w http.ResponseWriter, r *http.Request, room *live.Room) string {
	if g := r.URL.Query().Get("g"); g != "" {
		if _, _, ok := s.App.Shares.Verify(room.MerchantID, g, s.App.Now()); ok {
			return g
		}
	}
	brought := s.attribution(r, room.MerchantID, "")
	code, _ := s.App.ShareCode(r.Context(), PrincipalFrom(r.Context()), room, brought)
	return code
}

// pagePoster renders the room's poster at phone width: a guide or viewer
// saves it (long press or screenshot) for Moments and group chats.
func (s *Server) pagePoster(w http.ResponseWriter, r *http.Request) error {
	st, err := s.App.RoomBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	code := s.posterCode(w, r, st.Room)
	qr := "/qr/room/" + st.Room.Slug
	link := "/live/" + st.Room.Slug
	if code != "" {
		qr += "?g=" + url.QueryEscape(code)
		link += "?g=" + url.QueryEscape(code)
	}
	lang := langOf(r)
	return s.render(w, r, 200, "poster.html", map[string]any{"State": st, "When": roomWhen(st.Room, lang), "Highlights": highlights(st, 3),
		"QR": qr, "Link": s.abs(link), "OG": s.roomOG(st, lang, code)})
}

// pageRoomQR draws a room's link as a QR code; a ?g= that is not a valid
// signed code is dropped, so a QR code never carries a forged guide.
func (s *Server) pageRoomQR(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	link := s.App.Pay.PublicURL() + "/live/" + room.Slug
	if g := r.URL.Query().Get("g"); g != "" {
		if _, _, ok := s.App.Shares.Verify(room.MerchantID, g, s.App.Now()); ok {
			link += "?g=" + url.QueryEscape(g)
		}
	}
	png, err := qrcode.Encode(link, qrcode.Medium, 480)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err = w.Write(png)
	return err
}

// pageRoomProduct is one product of a room as a page of its own: picture,
// prices, facts, and the way into the room to buy it.
func (s *Server) pageRoomProduct(w http.ResponseWriter, r *http.Request) error {
	st, err := s.App.RoomBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var p *catalog.Product
	for i := range st.Products {
		if st.Products[i].ID == id {
			p = &st.Products[i]
		}
	}
	if p == nil {
		return apperr.ErrNotFound
	}
	skus := append([]catalog.SKU(nil), p.SKUs...)
	sort.SliceStable(skus, func(a, b int) bool { return skus[a].PriceFen < skus[b].PriceFen })
	code := s.touchShare(w, r, st.Room.MerchantID)
	link := "/live/" + st.Room.Slug
	q := ""
	if code != "" {
		q = "?g=" + url.QueryEscape(code)
	}
	lang := langOf(r)
	name := p.Name
	if lang == "en" && p.NameEN != "" {
		name = p.NameEN
	}
	desc := p.Subtitle
	if len(skus) > 0 {
		desc = strings.TrimSpace(catalog.FormatFen(skus[0].PriceFen) + " · " + desc)
	}
	if p.Origin != "" {
		desc += " · " + pickLang(lang, "产地 Origin") + " " + p.Origin
	}
	og := &ogMeta{Title: name + " · " + st.Room.Title, Description: desc, Image: s.abs(p.Image), URL: s.abs(link + "/products/" + r.PathValue("id") + q), Type: "product"}
	return s.render(w, r, 200, "product.html", map[string]any{"State": st, "P": p, "SKUs": skus, "RoomLink": link + q, "When": roomWhen(st.Room, lang), "OG": og,
		"Clips": s.App.ProductClipLinks(r.Context(), st.Room.MerchantID, p)})
}
