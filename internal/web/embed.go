package web

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/live"
)

// Embeddable room cards: a small card (cover, title, live now or the start
// time in China time, one tap into the room) that an official-account
// article or another site puts in an iframe, an oEmbed answer for sites
// that discover it, and the snippet the studio copies. Only
// /embed/rooms/{slug} may be framed: every other page keeps
// frame-ancestors 'none' and X-Frame-Options DENY.

// embedWidth and embedHeight size the card's iframe (CSS pixels); the card
// also posts its real height to the parent page.
const (
	embedWidth  = 360
	embedHeight = 136
)

func (s *Server) embedRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/embed/rooms/{slug}", Access: Public, Summary: "A room's embeddable card (cover, title, live status or start time in China time, one tap into the room); the only page other sites may frame", handler: s.pageEmbedRoom},
		{Method: "GET", Path: "/api/v1/oembed", Access: Public, API: true, Summary: "oEmbed (rich) for a room's link: the iframe of its embeddable card", handler: s.apiOEmbed},
	}
}

// embedCSP is the page CSP with framing allowed from anywhere: the card
// holds no form, no session action and nothing a click-jacker could abuse
// (its one link opens the room in a new tab).
var embedCSP = strings.Replace(pageCSP, "frame-ancestors 'none'", "frame-ancestors *", 1)

// embedSnippet is the HTML a site pastes to show a room's card.
func (s *Server) embedSnippet(slug, title string) string {
	return fmt.Sprintf(`<iframe src="%s" width="%d" height="%d" title="%s" style="border:0;max-width:100%%" loading="lazy"></iframe>`,
		html.EscapeString(s.abs("/embed/rooms/"+slug)), embedWidth, embedHeight, html.EscapeString(title))
}

func (s *Server) pageEmbedRoom(w http.ResponseWriter, r *http.Request) error {
	st, err := s.App.RoomBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Security-Policy", withMediaOrigins(embedCSP, s.MediaOrigins))
	h.Del("X-Frame-Options")
	lang := langOf(r)
	link := "/live/" + st.Room.Slug
	if g := r.URL.Query().Get("g"); g != "" {
		if _, _, ok := s.App.Shares.Verify(st.Room.MerchantID, g, s.App.Now()); ok {
			link += "?g=" + url.QueryEscape(g) // a guide's embed keeps their signed code
		}
	}
	cover := st.Room.Poster
	if cover == "" {
		if hs := highlights(st, 1); len(hs) > 0 {
			cover = hs[0].Image
		}
	}
	onAir := st.Room.Status == live.Live
	return s.render(w, r, 200, "embed_room.html", map[string]any{"State": st, "When": roomWhen(st.Room, lang), "OnAir": onAir,
		"Cover": cover, "Link": s.abs(link)})
}

// oEmbed answers (https://oembed.com, type rich).
type oEmbed struct {
	Version      string `json:"version"`
	Type         string `json:"type"`
	Title        string `json:"title"`
	AuthorName   string `json:"author_name"`
	ProviderName string `json:"provider_name"`
	ProviderURL  string `json:"provider_url"`
	HTML         string `json:"html"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	ThumbnailURL string `json:"thumbnail_url,omitempty"`
}

// oEmbed errors: a url that is not a room of this site (404, as the
// spec asks), a format other than json.
var (
	errNotEmbeddable = apperr.New(apperr.NotFound, "not_embeddable", "只有本站直播间的链接可以嵌入", "Only a live room's link on this site can be embedded.")
	errOEmbedFormat  = apperr.InvalidField("format", "oembed_format", "只提供 JSON 格式", "Only the json format is offered.")
)

func (s *Server) apiOEmbed(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if f := q.Get("format"); f != "" && f != "json" {
		return errOEmbedFormat
	}
	u, err := url.Parse(q.Get("url"))
	if err != nil {
		return errNotEmbeddable
	}
	if u.IsAbs() {
		base, _ := url.Parse(s.App.Pay.PublicURL())
		if base == nil || !strings.EqualFold(u.Host, base.Host) {
			return errNotEmbeddable
		}
	}
	slug, ok := strings.CutPrefix(u.Path, "/live/")
	if !ok || slug == "" || strings.Contains(slug, "/") {
		return errNotEmbeddable
	}
	st, err := s.App.RoomBySlug(r.Context(), slug)
	if err != nil {
		return errNotEmbeddable
	}
	var thumb string
	if st.Room.Poster != "" {
		thumb = s.abs(st.Room.Poster)
	}
	return writeJSON(w, 200, oEmbed{Version: "1.0", Type: "rich", Title: st.Room.Title, AuthorName: st.Merchant, ProviderName: "ShelfLive",
		ProviderURL: s.abs("/"), HTML: s.embedSnippet(st.Room.Slug, st.Room.Title), Width: embedWidth, Height: embedHeight, ThumbnailURL: thumb})
}
