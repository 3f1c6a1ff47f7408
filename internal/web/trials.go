package web

import (
	"net/http"
	"strconv"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/trials"
)

// trialRoutes: new-product trials (内测). Staff open them and read the
// results; fans apply once from the trial's page (linked from a group and
// the room) and rate their sample; anyone reads the trial, its commitment
// and, once selected, the draw documents `shelflive draw verify` checks.
func (s *Server) trialRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/trials/{id}", Access: Public, Summary: "A trial's page: the sample, the form, the selection, the feedback (mobile)", handler: s.pageTrial},
		api("GET", "/api/v1/trials", Staff, identity.PermAdminView, "The shop's trials, newest first", s.apiListTrials),
		api("POST", "/api/v1/trials", Staff, identity.PermCatalogWrite, "Open a trial: sample SKU, quota, window, application form, audience, pickup or delivery, selection rule", s.apiCreateTrial),
		api("GET", "/api/v1/trials/{id}", Public, "", "A trial's public state: the form, the commitment, once selected the seed", s.apiTrial),
		api("GET", "/api/v1/trials/{id}/draw", Public, "", "A selected trial's tier (?tier=1|2) as a draw document for `shelflive draw verify`", s.apiTrialDraw),
		api("GET", "/api/v1/trials/{id}/summary", Public, "", "The public results summary (ratings and response rate), when the shop made it public", s.apiTrialSummary),
		api("GET", "/api/v1/trials/{id}/mine", Customer, "", "The viewer's application, sample order and feedback", s.apiMyTrial),
		api("POST", "/api/v1/trials/{id}/apply", Customer, "", "Apply for a trial (once per person, within the window)", s.apiApplyTrial),
		api("POST", "/api/v1/trials/{id}/feedback", Customer, "", "Rate the sample once it was picked up or shipped (chosen testers, once)", s.apiTrialFeedback),
		api("POST", "/api/v1/trials/{id}/select", Staff, identity.PermCatalogWrite, "Close the applications now and select", s.apiSelectTrial),
		api("GET", "/api/v1/trials/{id}/results", Staff, identity.PermOrdersRead, "A trial's results: ratings, response rate, texts, applications (co-creation links here)", s.apiTrialResults),
	}
}

// publicTrial loads the trial named in the path; a closed shop's trials are gone.
func (s *Server) publicTrial(r *http.Request) (*trials.Trial, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	t, err := s.App.Trials.ByID(r.Context(), id)
	if err != nil {
		return nil, err
	}
	m, err := s.App.Users.Merchant(r.Context(), t.MerchantID)
	if err != nil {
		return nil, err
	}
	if m.Disabled {
		return nil, identity.ErrShopClosed
	}
	return t, nil
}

// ownTrial is the trial named in the path when it is of the caller's shop.
func (s *Server) ownTrial(r *http.Request) (*identity.Principal, *trials.Trial, error) {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return nil, nil, err
	}
	t, err := s.App.Trials.Get(r.Context(), p.MerchantID, id)
	return p, t, err
}

func (s *Server) apiListTrials(w http.ResponseWriter, r *http.Request) error {
	list, err := s.App.Trials.List(r.Context(), PrincipalFrom(r.Context()).MerchantID, trials.Filter{Status: trials.Status(r.URL.Query().Get("status"))})
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"trials": list})
}

func (s *Server) apiCreateTrial(w http.ResponseWriter, r *http.Request) error {
	var in app.TrialInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, err := s.App.CreateTrial(r.Context(), PrincipalFrom(r.Context()), in)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, t)
}

func (s *Server) apiTrial(w http.ResponseWriter, r *http.Request) error {
	t, err := s.publicTrial(r)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, t)
}

func (s *Server) apiTrialDraw(w http.ResponseWriter, r *http.Request) error {
	t, err := s.publicTrial(r)
	if err != nil {
		return err
	}
	tier := 1
	if v := r.URL.Query().Get("tier"); v != "" {
		if tier, err = strconv.Atoi(v); err != nil {
			return apperr.ErrNotFound
		}
	}
	res, err := s.App.TrialDraw(r.Context(), t, tier)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, res)
}

func (s *Server) apiTrialSummary(w http.ResponseWriter, r *http.Request) error {
	t, err := s.publicTrial(r)
	if err != nil {
		return err
	}
	res, err := s.App.PublicTrialSummary(r.Context(), t)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, res)
}

func (s *Server) apiMyTrial(w http.ResponseWriter, r *http.Request) error {
	p, t, err := s.ownTrial(r)
	if err != nil {
		return err
	}
	mine, err := s.App.MyTrialState(r.Context(), p, t)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"trial": t, "mine": mine})
}

func (s *Server) apiApplyTrial(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in app.ApplyInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.limit(w, "trial:"+identityKey(p), 2, 10); err != nil {
		return err
	}
	a, err := s.App.ApplyTrial(app.WithDevice(r.Context(), s.deviceOf(r)), p, id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, a)
}

func (s *Server) apiTrialFeedback(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var fb trials.Feedback
	if err := decodeJSON(r, &fb); err != nil {
		return err
	}
	if err := s.App.TrialFeedback(r.Context(), p, id, &fb); err != nil {
		return err
	}
	return writeJSON(w, 201, fb)
}

func (s *Server) apiSelectTrial(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.App.SelectTrialNow(r.Context(), PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, t)
}

func (s *Server) apiTrialResults(w http.ResponseWriter, r *http.Request) error {
	p, t, err := s.ownTrial(r)
	if err != nil {
		return err
	}
	res, err := s.App.TrialResults(r.Context(), p.MerchantID, t.ID)
	if err != nil {
		return err
	}
	if !identity.Can(p.Role, identity.PermCustomerPII) {
		// the delivery address is contact data (app.OrderView's rule)
		for i := range res.Answers {
			res.Answers[i].ContactName, res.Answers[i].Address = "", ""
		}
	}
	return writeJSON(w, 200, res)
}

// pageTrial is the trial's own page (group cards, the room's card, shared
// links): the sample, how many places, the form, then the viewer's result,
// sample order and feedback form.
func (s *Server) pageTrial(w http.ResponseWriter, r *http.Request) error {
	t, err := s.publicTrial(r)
	if err != nil {
		return err
	}
	m, err := s.App.Users.Merchant(r.Context(), t.MerchantID)
	if err != nil {
		return err
	}
	data := map[string]any{"Trial": t, "Merchant": m.Slug, "ShopName": m.Name, "Dimensions": trials.Dimensions, "DimensionLabels": trials.DimensionLabels}
	if t.RoomID != 0 {
		if room, err := s.App.Live.Room(r.Context(), t.MerchantID, t.RoomID); err == nil {
			data["RoomSlug"] = room.Slug
		}
	}
	if t.GroupID != 0 {
		if list, err := s.App.Fans.Groups(r.Context(), t.MerchantID); err == nil {
			for _, g := range list {
				if g.ID == t.GroupID {
					data["Group"] = g
				}
			}
		}
	}
	if t.StoreID != 0 {
		if st, err := s.App.Stores.Store(r.Context(), t.MerchantID, t.StoreID); err == nil {
			data["Store"] = st
		}
	}
	p := PrincipalFrom(r.Context())
	if p != nil && p.Kind == identity.KindCustomer && p.MerchantID == t.MerchantID {
		data["Viewer"] = p
		mine, err := s.App.MyTrialState(r.Context(), p, t)
		if err != nil {
			return err
		}
		data["Mine"] = mine
	}
	if sum, err := s.App.PublicTrialSummary(r.Context(), t); err == nil {
		data["Summary"] = sum
	}
	http.SetCookie(w, &http.Cookie{Name: merchantCookie, Value: m.Slug, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return s.render(w, r, 200, "trial.html", data)
}
