package web

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/insight"
)

// Insight serves the room's analytics: events viewers' pages report, the
// live dashboard, comment insights, A/B verdicts and the post-live report.
// Its Routes() are appended to Server.Routes().
type Insight struct {
	Server *Server
}

// Routes lists the insight routes for the one route table.
func (in *Insight) Routes() []Route {
	P, S := Public, Staff
	return []Route{
		{Method: "GET", Path: "/dashboard", Access: S, Perm: identity.PermRoomHost, Summary: "Live dashboard: a room's audience, funnel and sales every 2 s, and the brand across rooms and stores", handler: in.pageDashboard},
		{Method: "GET", Path: "/report/{slug}", Access: S, Perm: identity.PermRoomHost, Summary: "Post-live report of a room, compared with the earlier lives", handler: in.pageReport},
		api("GET", "/api/v1/rooms/{slug}/report", S, identity.PermRoomHost, "Post-live report (JSON): numbers, products, comment insights, earlier lives", in.apiReport),
		api("GET", "/api/v1/rooms/{slug}/report.csv", S, identity.PermRoomHost, "Post-live report as CSV", in.apiReportCSV),
		api("GET", "/api/v1/rooms/{slug}/report.xlsx", S, identity.PermRoomHost, "Post-live report as XLSX (one sheet per table)", in.apiReportXLSX),
		api("GET", "/api/v1/insight/rooms", S, identity.PermRoomHost, "Brand view: every room's viewers, orders and GMV", in.apiBrandRooms),
		api("POST", "/api/v1/rooms/{slug}/events", P, "", "Report what a viewer saw or did (card shown, card opened, checkout started)", in.apiEvent),
		api("GET", "/api/v1/rooms/{slug}/stats", S, identity.PermRoomHost, "Live dashboard numbers of a room (viewers, funnel, shares, GMV)", in.apiRoomStats),
		api("GET", "/api/v1/rooms/{slug}/insights", S, identity.PermRoomHost, "What a room's comments ask for: per product mentions, questions by intent, sentiment, orders; open questions", in.apiRoomSignals),
		api("POST", "/api/v1/rooms/{slug}/questions/{id}/answered", S, identity.PermRoomHost, "Mark a viewer's question answered", in.apiAnswered),
		api("GET", "/api/v1/rooms/{slug}/ab", S, identity.PermRoomHost, "A/B verdict between two variants (one room or two): asked about more, converts better", in.apiAB),
		api("POST", "/api/v1/insight/classify", S, identity.PermAdminView, "Read texts as comments against the caller's catalogue (intent, product, sentiment)", in.apiClassify),
	}
}

// visitorCookie holds a viewer's first-party analytics id: unique viewers
// and new-vs-returning are counted by it. It carries no personal data.
const visitorCookie = "sl_vid"

// visitorID is the caller's analytics id, "" when it has none (or a forged one).
func visitorID(r *http.Request) string {
	c, err := r.Cookie(visitorCookie)
	if err != nil || len(c.Value) != 32 {
		return ""
	}
	if _, err := hex.DecodeString(c.Value); err != nil {
		return ""
	}
	return c.Value
}

// ensureVisitor gives a viewer their analytics id on the live page.
func (s *Server) ensureVisitor(w http.ResponseWriter, r *http.Request) {
	if visitorID(r) != "" || s.App.Analytics == nil {
		return
	}
	var b [16]byte
	rand.Read(b[:])
	http.SetCookie(w, &http.Cookie{Name: visitorCookie, Value: hex.EncodeToString(b[:]), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.CookieSecure || r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https", MaxAge: int((365 * 24 * time.Hour).Seconds())})
}

// apiEvent takes one card or checkout event from a viewer's page; it is
// queued, never waited for (202).
func (in *Insight) apiEvent(w http.ResponseWriter, r *http.Request) error {
	s := in.Server
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	var e insight.Event
	if err := decodeJSON(r, &e); err != nil {
		return err
	}
	if err := s.limit(w, "event:"+s.clientIP(r), 10, 40); err != nil {
		return err
	}
	if s.App.Analytics != nil {
		if err := s.App.RecordClientEvent(room, visitorID(r), PrincipalFrom(r.Context()), e); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// apiRoomStats answers the dashboard numbers of one of the merchant's rooms.
func (in *Insight) apiRoomStats(w http.ResponseWriter, r *http.Request) error {
	room, err := in.Server.roomOwned(r)
	if err != nil {
		return err
	}
	st, err := in.Server.App.RoomStats(r.Context(), room)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, st)
}

// apiRoomSignals answers a room's comment insights.
func (in *Insight) apiRoomSignals(w http.ResponseWriter, r *http.Request) error {
	room, err := in.Server.roomOwned(r)
	if err != nil {
		return err
	}
	sig, err := in.Server.App.RoomSignals(r.Context(), room)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, sig)
}

// apiAnswered closes one open question of the room.
func (in *Insight) apiAnswered(w http.ResponseWriter, r *http.Request) error {
	room, err := in.Server.roomOwned(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := in.Server.App.MarkAnswered(r.Context(), room, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiClassify reads texts against the caller's catalogue, in order.
func (in *Insight) apiClassify(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Texts      []string `json:"texts"`
		ProductIDs []int64  `json:"product_ids"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	res, err := in.Server.App.Classify(r.Context(), PrincipalFrom(r.Context()), req.Texts, req.ProductIDs)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"results": res})
}

// errBadAB refuses an A/B question without two products and a room.
var errBadAB = apperr.InvalidField("a", "invalid_ab", "需要 a、b 两个参数（商品编号）", "Give a and b (product ids); room_b for a second room.")

// apiAB compares two variants: /rooms/{slug}/ab?a=id&b=id[&room_b=slug].
// A runs in the path's room; B in room_b when given (two lives of the same
// merchant), else in the same room. Both rooms are read only if the caller
// runs them (their merchant's; their store's when bound to one).
func (in *Insight) apiAB(w http.ResponseWriter, r *http.Request) error {
	s := in.Server
	q := r.URL.Query()
	a, errA := strconv.ParseInt(q.Get("a"), 10, 64)
	b, errB := strconv.ParseInt(q.Get("b"), 10, 64)
	if errA != nil || errB != nil {
		return errBadAB
	}
	roomA, err := s.roomOwned(r)
	if err != nil {
		return err
	}
	roomB := roomA
	if slug := q.Get("room_b"); slug != "" && slug != roomA.Slug {
		room, err := s.App.Live.RoomBySlug(r.Context(), slug)
		if err != nil {
			return apperr.NotFoundAs(err, insight.ErrUnknownRoom)
		}
		if !runsRoom(PrincipalFrom(r.Context()), room) {
			return insight.ErrUnknownRoom
		}
		roomB = room
	}
	res, err := s.App.ABVerdict(r.Context(), roomA, roomB, a, b)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, res)
}

// pageDashboard is the live dashboard (studio and admin link to it).
func (in *Insight) pageDashboard(w http.ResponseWriter, r *http.Request) error {
	return in.Server.render(w, r, 200, "dashboard.html", nil)
}

// apiBrandRooms answers the brand view's rooms.
func (in *Insight) apiBrandRooms(w http.ResponseWriter, r *http.Request) error {
	rooms, err := in.Server.App.BrandRooms(r.Context(), PrincipalFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"rooms": rooms})
}

func (in *Insight) report(r *http.Request) (*insight.Report, error) {
	room, err := in.Server.roomOwned(r)
	if err != nil {
		return nil, err
	}
	return in.Server.App.RoomReport(r.Context(), PrincipalFrom(r.Context()), room)
}

// pageReport renders the post-live report (server-side, printable).
func (in *Insight) pageReport(w http.ResponseWriter, r *http.Request) error {
	rep, err := in.report(r)
	if err != nil {
		return err
	}
	return in.Server.render(w, r, 200, "report.html", map[string]any{"R": rep, "Sheets": rep.Sheets()})
}

func (in *Insight) apiReport(w http.ResponseWriter, r *http.Request) error {
	rep, err := in.report(r)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, rep)
}

func (in *Insight) apiReportCSV(w http.ResponseWriter, r *http.Request) error {
	rep, err := in.report(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="report-`+rep.Slug+`.csv"`)
	return rep.WriteCSV(w)
}

func (in *Insight) apiReportXLSX(w http.ResponseWriter, r *http.Request) error {
	rep, err := in.report(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := rep.WriteXLSX(&buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="report-`+rep.Slug+`.xlsx"`)
	_, err = w.Write(buf.Bytes())
	return err
}
