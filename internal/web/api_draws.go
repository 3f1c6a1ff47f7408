package web

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/identity"
)

// drawRoutes: 福袋 draws with a public commitment and a verifiable result
// (internal/draws; `shelflive draw verify`).
func (s *Server) drawRoutes() []Route {
	return []Route{
		api("GET", "/api/v1/rooms/{slug}/draws", Public, "", "A room's 福袋 draws, newest first (commitment always, seed once drawn)", s.apiRoomDraws),
		api("POST", "/api/v1/rooms/{slug}/draws", Staff, identity.PermRoomHost, "Open a 福袋 draw; its commitment (SHA-256 of the seed) is public at once", s.apiCreateDraw),
		api("GET", "/api/v1/draws/{id}", Public, "", "A draw: once drawn, the revealed seed, the eligible and excluded entries and the winners", s.apiDraw),
		api("POST", "/api/v1/draws/{id}/enter", Customer, "", "Enter a like or follow draw (a comment draw is entered by commenting its keyword)", s.apiEnterDraw),
		api("POST", "/api/v1/draws/{id}/draw", Staff, identity.PermRoomHost, "Close the draw now and draw the winners", s.apiDrawNow),
	}
}

// deviceOf is the fingerprint the bot rule compares: a hash of the
// browser's first-party visitor cookie, or of the client address and user
// agent when there is none. Only the hash is kept.
func (s *Server) deviceOf(r *http.Request) string {
	src := ""
	if c, err := r.Cookie(visitorCookie); err == nil && c.Value != "" {
		src = "vid:" + c.Value
	} else {
		src = "ip:" + s.clientIP(r) + "|" + r.UserAgent()
	}
	h := sha256.Sum256([]byte(src))
	return hex.EncodeToString(h[:8])
}

func (s *Server) apiRoomDraws(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	list, err := s.App.Draws.RoomDraws(r.Context(), room.MerchantID, room.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"draws": list})
}

func (s *Server) apiCreateDraw(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomOwned(r)
	if err != nil {
		return err
	}
	var in app.DrawInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d, err := s.App.CreateDraw(r.Context(), PrincipalFrom(r.Context()), room, in)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, d)
}

func (s *Server) apiDraw(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	res, err := s.App.Draws.Result(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, res)
}

func (s *Server) apiEnterDraw(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.App.EnterDraw(app.WithDevice(r.Context(), s.deviceOf(r)), PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"draw": d, "entered": true})
}

func (s *Server) apiDrawNow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	res, err := s.App.DrawNow(r.Context(), PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, res)
}
