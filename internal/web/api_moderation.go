package web

import (
	"bytes"
	"mime"
	"net/http"
	"strings"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/moderation"
)

// moderationRoutes: moderators (and hosts, admins, owners) mute and ban
// viewers, settle viewers' reports and keep the merchant's word list;
// viewers report comments.
func (s *Server) moderationRoutes() []Route {
	M := identity.PermModerate
	return []Route{
		api("POST", "/api/v1/rooms/{slug}/comments/{id}/ban", Staff, M, "Mute the author of a comment in this room until lifted (the comment is removed)", s.apiBan),
		api("POST", "/api/v1/rooms/{slug}/comments/{id}/mute", Staff, M, "Mute the author of a comment in this room, or ban them from every room of the shop (scope merchant), for some minutes or until lifted; the comment is removed", s.apiMute),
		api("POST", "/api/v1/rooms/{slug}/comments/{id}/report", Customer, "", "Report a comment (once per viewer and comment)", s.apiReportComment),
		api("GET", "/api/v1/moderation/restrictions", Staff, M, "Mutes and bans (active ones; ?all=true for lifted and expired too)", s.apiRestrictions),
		api("DELETE", "/api/v1/moderation/restrictions/{id}", Staff, M, "Unmute: lift a mute or ban now", s.apiUnmute),
		api("GET", "/api/v1/moderation/reports", Staff, M, "Viewers' reports of comments (?status=open|upheld|dismissed)", s.apiReports),
		api("POST", "/api/v1/moderation/reports/{id}", Staff, M, "Settle a report and every other open report of its comment: uphold (remove the comment) or dismiss", s.apiDecideReport),
		api("GET", "/api/v1/moderation/words", Staff, M, "The shop's word list (JSON; ?format=csv or txt to export)", s.apiWords),
		api("PUT", "/api/v1/moderation/words", Staff, M, "Replace the shop's word list: JSON {\"words\": […]}, or an import as text/csv or text/plain", s.apiSetWords),
	}
}

// ownedComment reads /rooms/{slug}/comments/{id} for staff: the room (one
// of the caller's) and the comment id.
func (s *Server) ownedComment(r *http.Request) (*live.Room, int64, error) {
	room, err := s.roomOwned(r)
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "id")
	return room, id, err
}

func (s *Server) apiBan(w http.ResponseWriter, r *http.Request) error {
	room, id, err := s.ownedComment(r)
	if err != nil {
		return err
	}
	if _, err := s.App.MuteAuthor(r.Context(), PrincipalFrom(r.Context()), room, id, app.MuteRequest{}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiMute(w http.ResponseWriter, r *http.Request) error {
	room, id, err := s.ownedComment(r)
	if err != nil {
		return err
	}
	var in app.MuteRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.App.MuteAuthor(r.Context(), PrincipalFrom(r.Context()), room, id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, res)
}

func (s *Server) apiReportComment(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id") // the comment
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
		Note   string `json:"note"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	if err := s.limit(w, "report:"+app.UserKey(p), 0.2, 10); err != nil {
		return err
	}
	rep, err := s.App.ReportComment(r.Context(), p, room, id, in.Reason, in.Note)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, map[string]any{"id": rep.ID, "status": rep.Status})
}

func (s *Server) apiRestrictions(w http.ResponseWriter, r *http.Request) error {
	all := r.URL.Query().Get("all") == "true"
	list, err := s.App.Restrictions(r.Context(), PrincipalFrom(r.Context()), !all)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"restrictions": list})
}

func (s *Server) apiUnmute(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	res, err := s.App.Unmute(r.Context(), PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, res)
}

func (s *Server) apiReports(w http.ResponseWriter, r *http.Request) error {
	list, err := s.App.Reports(r.Context(), PrincipalFrom(r.Context()), r.URL.Query().Get("status"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"reports": list})
}

func (s *Server) apiDecideReport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Decision string `json:"decision"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	rep, err := s.App.DecideReport(r.Context(), PrincipalFrom(r.Context()), id, in.Decision)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, rep)
}

func (s *Server) apiWords(w http.ResponseWriter, r *http.Request) error {
	words, err := s.App.ModerationWords(r.Context(), PrincipalFrom(r.Context()))
	if err != nil {
		return err
	}
	switch r.URL.Query().Get("format") {
	case "csv":
		csvHeaders(w, "moderation-words.csv")
		return moderation.WriteCSV(w, words)
	case "txt":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="moderation-words.txt"`)
		w.Header().Set("Cache-Control", "no-store")
		return moderation.WriteText(w, words)
	case "", "json":
		return writeJSON(w, 200, map[string]any{"words": words, "defaults": s.defaultWords()})
	}
	return errInvalidFormat
}

// defaultWords are the words every room refuses whatever the shop's list.
func (s *Server) defaultWords() []string {
	if s.App.Moderator == nil {
		return []string{}
	}
	return s.App.Moderator.Blocked
}

func (s *Server) apiSetWords(w http.ResponseWriter, r *http.Request) error {
	var words []moderation.Word
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" || mt == "" {
		var in struct {
			Words []moderation.Word `json:"words"`
		}
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		words = in.Words
	} else {
		data, err := readCSV(r)
		if err != nil {
			return err
		}
		if words, err = moderation.ParseWords(bytes.TrimSpace(data)); err != nil {
			return err
		}
	}
	if words == nil {
		words = []moderation.Word{}
	}
	saved, err := s.App.SetModerationWords(r.Context(), PrincipalFrom(r.Context()), words)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"words": saved, "count": len(saved), "imported": strings.HasPrefix(mt, "text/")})
}
