package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/clips"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/objstore"
)

// clipRoutes: each product's explanation from a live as a clip of its own
// (page, video, share card, buy in the room), and staff's list to hide,
// retitle and cut again.
func (s *Server) clipRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/clips/{id}", Access: Public, Summary: "A product clip's phone page: the video, the product with its prices and a buy button, share card with the sharer's signed code", handler: s.pageClip},
		{Method: "GET", Path: "/clips/{id}/video.mp4", Access: Public, Summary: "A product clip's MP4 (ranges; cut from the recording without re-encoding)", handler: s.clipVideo},
		api("GET", "/api/v1/clips/{id}", Public, "", "A public product clip with its product and room", s.apiClip),
		api("GET", "/api/v1/clips", Staff, identity.PermRoomHost, "The shop's newest clips with their status (studio, admin)", s.apiListClips),
		api("PATCH", "/api/v1/clips/{id}", Staff, identity.PermRoomHost, "Retitle or hide a clip", s.apiUpdateClip),
		api("GET", "/api/v1/rooms/{slug}/clips", Staff, identity.PermRoomHost, "A room's clips with their status", s.apiRoomClips),
		api("POST", "/api/v1/rooms/{slug}/clips", Staff, identity.PermRoomHost, "Cut the room's clips now (each closed pin span; failed ones again)", s.apiCutRoomClips),
	}
}

func (s *Server) clipView(r *http.Request) (*app.ClipView, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, apperr.ErrNotFound
	}
	return s.App.ClipPage(r.Context(), PrincipalFrom(r.Context()), id)
}

// pageClip is a clip's own page, made to be shared: the video, the product
// card with its prices, a buy button into the room's buy sheet (the normal
// order path), and a share link with the caller's signed code.
func (s *Server) pageClip(w http.ResponseWriter, r *http.Request) error {
	v, err := s.clipView(r)
	if err != nil {
		return err
	}
	s.touchShare(w, r, v.Room.MerchantID) // a valid ?g= becomes the visitor's last touch; the buy in the room carries it
	code := s.posterCode(w, r, v.Room)
	q := ""
	if code != "" {
		q = "?g=" + url.QueryEscape(code)
	}
	lang := langOf(r)
	name := v.Product.Name
	if lang == "en" && v.Product.NameEN != "" {
		name = v.Product.NameEN
	}
	skus := append([]catalog.SKU(nil), v.Product.SKUs...)
	sort.SliceStable(skus, func(a, b int) bool { return skus[a].PriceFen < skus[b].PriceFen })
	desc := v.Room.Title + " · " + v.Merchant
	for _, k := range skus {
		if k.Active {
			desc = catalog.FormatFen(k.PriceFen) + " · " + desc
			break
		}
	}
	title := v.Link.Title
	if title == "" {
		title = name
	}
	share := app.ClipPath(v.Clip.ID) + q
	og := &ogMeta{Title: title + " · " + v.Merchant, Description: desc, Image: s.abs(v.Product.Image), URL: s.abs(share), Type: "video.other",
		Video: s.abs(app.ClipVideoPath(v.Clip.ID)), VideoWidth: v.Clip.Width, VideoHeight: v.Clip.Height}
	buy := "/live/" + v.Room.Slug + "?buy=" + strconv.FormatInt(v.Product.ID, 10)
	return s.render(w, r, 200, "clip.html", map[string]any{"V": v, "Name": name, "Title": title, "SKUs": skus, "Buy": buy,
		"ShareURL": s.abs(share), "RoomLink": "/live/" + v.Room.Slug, "OG": og})
}

// clipVideo streams a clip's MP4 from the object store (ranges, so phones
// can seek).
func (s *Server) clipVideo(w http.ResponseWriter, r *http.Request) error {
	v, err := s.clipView(r)
	if err != nil {
		return err
	}
	if v.Clip.Status != clips.Ready {
		return apperr.ErrNotFound
	}
	rc, info, err := s.files().Get(r.Context(), v.Clip.Key)
	if errors.Is(err, objstore.ErrNotFound) {
		return apperr.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("Cache-Control", "public, max-age=300") // hiding a clip takes effect within minutes
	if info.ETag != "" {
		h.Set("ETag", info.ETag)
	}
	objstore.OneRange(r)
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", info.ModTime, rs)
		return nil
	}
	h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	if r.Method != http.MethodHead {
		io.Copy(w, rc)
	}
	return nil
}

func (s *Server) apiClip(w http.ResponseWriter, r *http.Request) error {
	v, err := s.clipView(r)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

func (s *Server) apiListClips(w http.ResponseWriter, r *http.Request) error {
	list, err := s.App.ListClips(r.Context(), PrincipalFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"clips": list})
}

func (s *Server) apiUpdateClip(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var u clips.Update
	if err := decodeJSON(r, &u); err != nil {
		return err
	}
	c, err := s.App.UpdateClip(r.Context(), PrincipalFrom(r.Context()), id, u)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, c)
}

func (s *Server) apiRoomClips(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomOwned(r)
	if err != nil {
		return err
	}
	list, err := s.App.RoomClips(r.Context(), PrincipalFrom(r.Context()), room)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"clips": list})
}

func (s *Server) apiCutRoomClips(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomOwned(r)
	if err != nil {
		return err
	}
	list, err := s.App.CutRoomClips(r.Context(), PrincipalFrom(r.Context()), room)
	if err != nil {
		return err
	}
	return writeJSON(w, 202, map[string]any{"clips": list})
}
