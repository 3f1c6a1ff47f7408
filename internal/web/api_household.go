package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/household"
	"github.com/shelflive/shelflive/internal/identity"
)

// householdRoutes: a viewer links a smart fridge or pantry (consent
// recorded, revocable), sees what it says and switches pushes off; the
// push links open and opt out with one tap; staff see push → open → order.
// The device's own endpoint (POST /api/v1/household/readings) sits
// outside the table: it authenticates a device token, not a session.
func (s *Server) householdRoutes() []Route {
	return []Route{
		api("GET", "/api/v1/me/devices", Customer, "", "The viewer's linked fridges and pantries, what they say per category, and whether pushes are on", s.apiMyDevices),
		api("POST", "/api/v1/me/devices", Customer, "", "Link a fridge or pantry (consent required); its token is shown once", s.apiLinkDevice),
		api("DELETE", "/api/v1/me/devices/{id}", Customer, "", "Unlink a device: consent ends, its readings are deleted", s.apiUnlinkDevice),
		api("PUT", "/api/v1/me/household", Customer, "", "Switch household pushes on or off", s.apiHouseholdSettings),
		api("GET", "/api/v1/household/stats", Staff, identity.PermOrdersRead, "Household pushes: devices, pushes, opened, orders that followed (?days=30)", s.apiHouseholdStats),
		{Method: "GET", Path: "/h/{token}", Access: Public, Summary: "A household push's link: counts the open and goes to its room", handler: s.pageHouseholdOpen},
		{Method: "GET", Path: "/h/{token}/stop", Access: Public, Summary: "One-tap opt-out from household pushes", handler: s.pageHouseholdStop},
	}
}

func (s *Server) apiMyDevices(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	devices, err := s.App.Household.Devices(r.Context(), p.MerchantID, p.SubjectID)
	if err != nil {
		return err
	}
	est, err := s.App.Household.Estimates(r.Context(), p.MerchantID, p.SubjectID)
	if err != nil {
		return err
	}
	off, err := s.App.Household.OptedOut(r.Context(), p.MerchantID, p.SubjectID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"devices": devices, "estimates": est, "pushes": !off})
}

func (s *Server) apiLinkDevice(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name    string `json:"name"`
		Kind    string `json:"kind"`
		Consent bool   `json:"consent"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d, token, err := s.App.LinkDevice(r.Context(), PrincipalFrom(r.Context()), in.Name, in.Kind, in.Consent)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"device": d, "token": token, "readings_url": "/api/v1/household/readings"})
}

func (s *Server) apiUnlinkDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	if err := s.App.Household.RevokeDevice(r.Context(), p.MerchantID, p.SubjectID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiHouseholdSettings(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Pushes *bool `json:"pushes"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Pushes == nil {
		return errHouseholdSettings
	}
	p := PrincipalFrom(r.Context())
	if err := s.App.Household.SetOptOut(r.Context(), p.MerchantID, p.SubjectID, !*in.Pushes); err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"pushes": *in.Pushes})
}

var errHouseholdSettings = apperr.InvalidField("pushes", "invalid_household_settings", "请给出 pushes: true 或 false", "Give pushes: true or false.")

func (s *Server) apiHouseholdStats(w http.ResponseWriter, r *http.Request) error {
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 365 {
			return errStatsDays
		}
		days = n
	}
	p := PrincipalFrom(r.Context())
	st, err := s.App.Household.Stats(r.Context(), p.MerchantID, s.App.Now().Add(-time.Duration(days)*24*time.Hour))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"days": days, "stats": st})
}

var errStatsDays = apperr.InvalidField("days", "invalid_days", "days 须为 1 到 365", "days must be 1 to 365.")

// pageHouseholdOpen counts the open and sends the viewer to the push's
// room with the push as the source (the room page records it).
func (s *Server) pageHouseholdOpen(w http.ResponseWriter, r *http.Request) error {
	p, err := s.App.Household.Open(r.Context(), r.PathValue("token"), s.App.Now())
	if errors.Is(err, household.ErrNoPush) {
		http.Redirect(w, r, "/", http.StatusFound)
		return nil
	}
	if err != nil {
		return err
	}
	room, err := s.App.Live.RoomByID(r.Context(), p.RoomID)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/live/"+room.Slug+"?src=fridge", http.StatusFound)
	return nil
}

func (s *Server) pageHouseholdStop(w http.ResponseWriter, r *http.Request) error {
	err := s.App.Household.OptOutByToken(r.Context(), r.PathValue("token"))
	if errors.Is(err, household.ErrNoPush) {
		return s.render(w, r, 200, "household_stop.html", map[string]any{"Invalid": true})
	}
	if err != nil {
		return err
	}
	return s.render(w, r, 200, "household_stop.html", nil)
}

// HouseholdReadingsHandler is POST /api/v1/household/readings for linked
// devices: `Authorization: Bearer <device token>` and {"readings":
// [{"category", "level", "at"}, …]}; it answers 200 with the changed
// estimates once they are stored.
func (s *Server) HouseholdReadingsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.householdReadings(w, r); err != nil {
			e := apperr.As(err)
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				e = errBodyTooLarge
			}
			if e.Kind == apperr.Internal {
				s.Logger.Error("household readings", "err", err)
			}
			if e.Kind == apperr.Unauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="shelflive-household"`)
			}
			writeProblem(w, r, e)
		}
	})
}

func (s *Server) householdReadings(w http.ResponseWriter, r *http.Request) error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return household.ErrDeviceToken
	}
	if !s.NoRateLimits {
		if err := s.limit(w, "household:"+identity.HashToken(tok)[:16], 2, 20); err != nil {
			return err
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	var in struct {
		Readings []household.Reading `json:"readings"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	est, err := s.App.IngestHousehold(ctx, tok, in.Readings)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"accepted": len(in.Readings), "estimates": est})
}
