package web

import (
	"net/http"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
)

// reminderRoutes: a viewer subscribes (预约) to a scheduled live and reads
// the reminders in their inbox.
func (s *Server) reminderRoutes() []Route {
	api := func(method, path, summary string, h func(w http.ResponseWriter, r *http.Request) error) Route {
		return Route{Method: method, Path: path, Access: Customer, API: true, Summary: summary, handler: h}
	}
	return []Route{
		api("GET", "/api/v1/rooms/{slug}/subscription", "Whether the viewer subscribed to the live, and how many did", s.apiSubscription),
		api("PUT", "/api/v1/rooms/{slug}/subscription", "Subscribe to a scheduled live (预约): reminders 15 minutes before and at the start", s.apiSubscribe),
		api("DELETE", "/api/v1/rooms/{slug}/subscription", "Cancel the subscription", s.apiUnsubscribe),
		api("GET", "/api/v1/me/inbox", "The viewer's inbox (reminders), newest first, with the unread count", s.apiInbox),
		api("POST", "/api/v1/me/inbox/read", "Mark every inbox message read", s.apiInboxRead),
	}
}

// viewerRoom is the caller and the room's id and merchant.
func (s *Server) viewerRoom(r *http.Request) (*identity.Principal, int64, int64, error) {
	room, err := s.roomPublic(r)
	if err != nil {
		return nil, 0, 0, err
	}
	return PrincipalFrom(r.Context()), room.ID, room.MerchantID, nil
}

func (s *Server) apiSubscription(w http.ResponseWriter, r *http.Request) error {
	p, roomID, merchantID, err := s.viewerRoom(r)
	if err != nil {
		return err
	}
	if merchantID != p.MerchantID {
		return apperr.ErrNotFound
	}
	on, err := s.App.Reminders.Subscribed(r.Context(), roomID, p.SubjectID)
	if err != nil {
		return err
	}
	n, err := s.App.Reminders.Subscribers(r.Context(), merchantID, roomID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"subscribed": on, "subscribers": n})
}

func (s *Server) apiSubscribe(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	n, err := s.App.Subscribe(r.Context(), PrincipalFrom(r.Context()), room)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"subscribed": true, "subscribers": n})
}

func (s *Server) apiUnsubscribe(w http.ResponseWriter, r *http.Request) error {
	p, roomID, merchantID, err := s.viewerRoom(r)
	if err != nil {
		return err
	}
	if merchantID != p.MerchantID {
		return apperr.ErrNotFound
	}
	if err := s.App.Reminders.Unsubscribe(r.Context(), merchantID, roomID, p.SubjectID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiInbox(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	msgs, unread, err := s.App.Reminders.Inbox(r.Context(), p.MerchantID, p.SubjectID, 50)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"messages": msgs, "unread": unread})
}

func (s *Server) apiInboxRead(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	if err := s.App.Reminders.MarkRead(r.Context(), p.MerchantID, p.SubjectID, s.App.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
