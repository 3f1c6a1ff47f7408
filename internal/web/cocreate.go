package web

import (
	"net/http"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cocreate"
	"github.com/shelflive/shelflive/internal/identity"
)

// cocreateRoutes: co-creation drafts (共创). Staff open a draft with option
// groups, push its card into a room, close it and turn the winning
// combination into a pre-sale; fans vote on the group page and in rooms
// (one vote per person per option group, changeable until it closes);
// anyone with the link sees the counts. Also the room's group card: the
// host invites viewers to join a topic group.
func (s *Server) cocreateRoutes() []Route {
	return []Route{
		api("GET", "/api/v1/cocreate-drafts", Staff, identity.PermAdminView, "The shop's co-creation drafts with their counts, newest first (?status, ?group_id)", s.apiListDrafts),
		api("POST", "/api/v1/cocreate-drafts", Staff, identity.PermCatalogWrite, "Open a co-creation draft: a product not made yet with option groups fans vote on", s.apiCreateDraft),
		api("GET", "/api/v1/cocreate-drafts/{id}", Public, "", "A draft with its counts and, for a logged-in fan of the shop, their votes", s.apiDraft),
		api("POST", "/api/v1/cocreate-drafts/{id}/votes", Customer, "", "Vote for an option: one vote per person per option group, changeable until the draft closes", s.apiVoteDraft),
		api("POST", "/api/v1/cocreate-drafts/{id}/close", Staff, identity.PermCatalogWrite, "Close voting now", s.apiCloseDraft),
		api("POST", "/api/v1/cocreate-drafts/{id}/push", Staff, identity.PermRoomHost, "Show the draft's card in a room (viewers vote there)", s.apiPushDraft),
		api("POST", "/api/v1/cocreate-drafts/{id}/presale", Staff, identity.PermCatalogWrite, "Turn the winning combination into a pre-sale (粉丝共创款) with its MOQ and deadline", s.apiDraftPresale),
		api("POST", "/api/v1/rooms/{slug}/group-card", Staff, identity.PermRoomHost, "Invite the room's viewers to join a topic group (a card in the room)", s.apiPushGroupCard),
	}
}

func (s *Server) apiListDrafts(w http.ResponseWriter, r *http.Request) error {
	group, err := queryID(r, "group_id")
	if err != nil {
		return err
	}
	list, err := s.App.Cocreate.Drafts(r.Context(), PrincipalFrom(r.Context()).MerchantID, cocreate.Filter{Status: cocreate.Status(r.URL.Query().Get("status")), GroupID: group})
	if err != nil {
		return err
	}
	if list == nil {
		list = []cocreate.Draft{}
	}
	return writeJSON(w, 200, map[string]any{"drafts": list})
}

func (s *Server) apiCreateDraft(w http.ResponseWriter, r *http.Request) error {
	var in app.DraftInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d, err := s.App.CreateDraft(r.Context(), PrincipalFrom(r.Context()), in)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, d)
}

// publicDraft loads the draft named in the path; a closed shop's drafts
// are gone like its rooms.
func (s *Server) publicDraft(r *http.Request) (*cocreate.Draft, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	d, err := s.App.Cocreate.PublicDraft(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if m, err := s.App.Users.Merchant(r.Context(), d.MerchantID); err != nil || m.Disabled {
		return nil, apperr.ErrNotFound
	}
	return d, nil
}

// myVotes are the options the caller chose, when a fan of the draft's shop.
func (s *Server) myVotes(r *http.Request, d *cocreate.Draft) ([]int64, error) {
	p := PrincipalFrom(r.Context())
	if p == nil || p.Kind != identity.KindCustomer || p.MerchantID != d.MerchantID {
		return []int64{}, nil
	}
	return s.App.Cocreate.MyVotes(r.Context(), d.ID, p.SubjectID)
}

func (s *Server) apiDraft(w http.ResponseWriter, r *http.Request) error {
	d, err := s.publicDraft(r)
	if err != nil {
		return err
	}
	mine, err := s.myVotes(r, d)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"draft": d, "mine": mine})
}

func (s *Server) apiVoteDraft(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		OptionID int64 `json:"option_id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	if err := s.limit(w, "cocreate-vote:"+identityKey(p), 5, 20); err != nil {
		return err
	}
	d, err := s.App.VoteDraft(r.Context(), p, id, in.OptionID)
	if err != nil {
		return err
	}
	mine, err := s.myVotes(r, d)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"draft": d, "mine": mine})
}

func (s *Server) apiCloseDraft(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.App.CloseDraft(r.Context(), PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, d)
}

func (s *Server) apiPushDraft(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Room string `json:"room"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	room, err := s.App.Live.RoomBySlug(r.Context(), in.Room)
	if err != nil || room.MerchantID != p.MerchantID {
		return apperr.ErrNotFound.At("room")
	}
	d, err := s.App.PushDraft(r.Context(), p, id, room)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, d)
}

func (s *Server) apiDraftPresale(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in app.DraftPresaleInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d, ps, err := s.App.DraftToPresale(r.Context(), PrincipalFrom(r.Context()), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, map[string]any{"draft": d, "presale": ps})
}

func (s *Server) apiPushGroupCard(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomOwned(r)
	if err != nil {
		return err
	}
	var in struct {
		Group string `json:"group"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	g, err := s.App.Fans.GroupBySlug(r.Context(), in.Group)
	if err != nil || g.MerchantID != p.MerchantID {
		return apperr.ErrNotFound.At("group")
	}
	if err := s.App.PushGroupCard(r.Context(), p, room, g); err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"group": g})
}
