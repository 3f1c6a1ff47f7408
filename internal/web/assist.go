package web

import (
	"net/http"

	"github.com/shelflive/shelflive/internal/identity"
)

// Assist serves the studio's host assistant: suggested answers to the
// room's open questions, talking points, sentiment, and an answer to a
// question the host types. Its Routes() are appended to Server.Routes().
type Assist struct{ Server *Server }

// Routes lists the assistant's routes for the one route table.
func (as *Assist) Routes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/rooms/{slug}/assistant", Access: Staff, Perm: identity.PermRoomHost, API: true,
			Summary: "Host assistant: open questions with suggested answers citing facts, talking points, sentiment per minute", handler: as.apiAssistant},
		{Method: "POST", Path: "/api/v1/rooms/{slug}/assistant/suggest", Access: Staff, Perm: identity.PermRoomHost, API: true,
			Summary: "Suggest an answer to a question about a product of the room, citing facts", handler: as.apiSuggest},
	}
}

func (as *Assist) apiAssistant(w http.ResponseWriter, r *http.Request) error {
	room, err := as.Server.roomOwned(r)
	if err != nil {
		return err
	}
	v, err := as.Server.App.RoomAssistant(r.Context(), room)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

func (as *Assist) apiSuggest(w http.ResponseWriter, r *http.Request) error {
	room, err := as.Server.roomOwned(r)
	if err != nil {
		return err
	}
	var in struct {
		Question  string `json:"question"`
		ProductID int64  `json:"product_id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	s, err := as.Server.App.SuggestAnswer(r.Context(), room, in.Question, in.ProductID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, s)
}
