package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/freshness"
	"github.com/shelflive/shelflive/internal/identity"
)

// clearanceRoutes: near-expiry candidates, markdown rules, one-click
// clearance sessions and the waste-saved report.
func (s *Server) clearanceRoutes() []Route {
	api := func(method, path string, perm identity.Permission, summary string, h func(w http.ResponseWriter, r *http.Request) error) Route {
		return Route{Method: method, Path: path, Access: Staff, Perm: perm, API: true, Summary: summary, handler: h}
	}
	return []Route{
		api("GET", "/api/v1/clearance/candidates", identity.PermAdminView, "Near-expiry stock per store with ladder prices (?store_id=)", s.apiClearanceCandidates),
		api("GET", "/api/v1/clearance/rules", identity.PermAdminView, "Near-expiry rules and markdown ladders per storage class", s.apiClearanceRules),
		api("PUT", "/api/v1/clearance/rules", identity.PermCatalogWrite, "Replace the near-expiry rules and markdown ladders", s.apiSaveClearanceRules),
		api("POST", "/api/v1/clearance/sessions", identity.PermRoomsWrite, "Make a clearance live: a room with one flash sale per near-expiry SKU at its ladder price", s.apiCreateClearanceSession),
		api("GET", "/api/v1/clearance/report", identity.PermAdminView, "Waste saved by clearance sessions per store and storage class (from, to: China dates)", s.apiWasteSaved),
	}
}

// errInvalidStoreID refuses a store_id that is not a number.
var errInvalidStoreID = apperr.InvalidField("store_id", "invalid_store_id", "门店编号无效", "Invalid store_id.")

func (s *Server) apiClearanceCandidates(w http.ResponseWriter, r *http.Request) error {
	var storeID int64
	if v := r.URL.Query().Get("store_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 0 {
			return errInvalidStoreID
		}
		storeID = id
	}
	cands, rules, err := s.App.ClearanceCandidates(r.Context(), PrincipalFrom(r.Context()), storeID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"candidates": cands, "rules": rules, "at": s.App.Now().UTC()})
}

func (s *Server) apiClearanceRules(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.App.Clearance.Rules(r.Context(), PrincipalFrom(r.Context()).MerchantID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"rules": rs})
}

func (s *Server) apiSaveClearanceRules(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Rules freshness.Rules `json:"rules"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	rs, err := s.App.SaveClearanceRules(r.Context(), PrincipalFrom(r.Context()), in.Rules)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"rules": rs})
}

func (s *Server) apiCreateClearanceSession(w http.ResponseWriter, r *http.Request) error {
	var in app.ClearanceRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sess, err := s.App.CreateClearanceSession(r.Context(), PrincipalFrom(r.Context()), in)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, sess)
}

func (s *Server) apiWasteSaved(w http.ResponseWriter, r *http.Request) error {
	from, to, err := reportDays(r, s.App.Now())
	if err != nil {
		return err
	}
	rows, err := s.App.WasteSaved(r.Context(), PrincipalFrom(r.Context()), from, to.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"from": from.Format("2006-01-02"), "to": to.Format("2006-01-02"), "rows": rows})
}

// reportDays reads a report's ?from= and ?to= (YYYY-MM-DD, China time;
// default the last 30 days up to today) and checks the range is at most a year.
func reportDays(r *http.Request, now time.Time) (from, to time.Time, err error) {
	today := now.In(cn.Shanghai)
	day := func(param string, def time.Time) (time.Time, error) {
		v := r.URL.Query().Get(param)
		if v == "" {
			return time.Date(def.Year(), def.Month(), def.Day(), 0, 0, 0, 0, cn.Shanghai), nil
		}
		d, err := time.ParseInLocation("2006-01-02", v, cn.Shanghai)
		if err != nil {
			return time.Time{}, errInvalidDate.At(param)
		}
		return d, nil
	}
	if from, err = day("from", today.AddDate(0, 0, -29)); err != nil {
		return
	}
	if to, err = day("to", today); err != nil {
		return
	}
	if to.Before(from) || to.Sub(from) > 366*24*time.Hour {
		err = errInvalidDate.At("to").With("结束日期须在开始日期之后，且不超过一年", "The end date must follow the start date, within a year.")
	}
	return
}
