package web

import (
	"net/http"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/promotions"
)

// pollRoutes: the host asks the room a question, viewers vote once, the
// results stay (kept for insight and co-creation).
func (s *Server) pollRoutes() []Route {
	return []Route{
		api("GET", "/api/v1/rooms/{slug}/polls", Public, "", "A room's polls with their counts, newest first", s.apiRoomPolls),
		api("POST", "/api/v1/rooms/{slug}/polls", Staff, identity.PermRoomHost, "Open a poll in the room (one open poll per room)", s.apiCreatePoll),
		api("POST", "/api/v1/polls/{id}/vote", Customer, "", "Vote in a poll (once per viewer)", s.apiVote),
		api("POST", "/api/v1/polls/{id}/close", Staff, identity.PermRoomHost, "Close a poll now", s.apiClosePoll),
	}
}

func (s *Server) apiRoomPolls(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	list, err := s.App.Polls.RoomPolls(r.Context(), room.MerchantID, room.ID, 20)
	if err != nil {
		return err
	}
	if list == nil {
		list = []promotions.Poll{}
	}
	return writeJSON(w, 200, map[string]any{"polls": list})
}

func (s *Server) apiCreatePoll(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomOwned(r)
	if err != nil {
		return err
	}
	var in app.PollInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	poll, err := s.App.CreatePoll(r.Context(), PrincipalFrom(r.Context()), room, in)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, poll)
}

func (s *Server) apiVote(w http.ResponseWriter, r *http.Request) error {
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
	poll, err := s.App.Vote(r.Context(), PrincipalFrom(r.Context()), id, in.OptionID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"poll": poll, "voted": in.OptionID})
}

func (s *Server) apiClosePoll(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	poll, err := s.App.ClosePoll(r.Context(), PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, poll)
}
