package web

// The room WebSocket (GET /api/v1/ws): who a connection speaks for, each
// requested topic's rule, and the analytics of its viewers; the frames
// themselves are realtime/ws's (docs/PROTOCOL.md).

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/realtime/ws"
)

// apiWS authorizes each requested topic (authorizeTopic), then hands the
// connection to the realtime adapter.
func (s *Server) apiWS(w http.ResponseWriter, r *http.Request) error {
	if !s.sameOrigin(r) { // the WebSocket library compares hosts only
		return errCrossOrigin
	}
	subs, err := ws.ParseResume(r.URL.Query()["sub"])
	if err != nil || len(subs) == 0 {
		return errInvalidSubscription
	}
	viewer, staff := s.wsPrincipals(r)
	user := ""
	hidden := false
	var rooms []*live.Room
	for _, sub := range subs {
		g, err := s.authorizeTopic(r, viewer, staff, sub.Topic)
		if err != nil {
			return err
		}
		if g.room != nil {
			rooms = append(rooms, g.room)
		}
		if g.viewer {
			user = app.UserKey(viewer)
		}
		if g.studio {
			hidden = true // the studio is not a viewer
			if user == "" {
				user = app.UserKey(staff)
			}
		}
	}
	opts := ws.Options{User: user, Topics: subs, Hidden: hidden, Context: s.Lifetime, Logger: s.Logger}
	if !hidden && len(rooms) > 0 && s.App.Analytics != nil {
		s.countViewers(r, rooms, &opts)
	}
	release, err := s.limitSockets(r, &opts)
	if err != nil {
		return err
	}
	ws.Serve(w, r, s.App.Hub, opts)
	release()
	return nil
}

// wsPrincipals are who a WebSocket speaks for: the viewer and the staff
// cookie sessions, or the bearer token's principal in the place of its kind.
func (s *Server) wsPrincipals(r *http.Request) (viewer, staff *identity.Principal) {
	viewer = s.principalFromCookie(r, viewerCookie)
	staff = s.principalFromCookie(r, staffCookie)
	if p := PrincipalFrom(r.Context()); p != nil && p.Bearer {
		if p.IsStaff() {
			staff = p
		} else {
			viewer = p
		}
	}
	return viewer, staff
}

// topicGrant is what one authorized topic adds to the connection: a room
// (its viewers are counted), the viewer speaking in it, or the studio
// (hidden from the viewer count, speaking as staff).
type topicGrant struct {
	room   *live.Room
	viewer bool
	studio bool
}

// authorizeTopic checks one topic. Rooms are public; a staff topic needs
// order access in that merchant and no store binding; a mod topic needs
// moderation rights in that merchant; a store topic needs order access at
// that store; an order topic needs its buyer (or staff of its store).
func (s *Server) authorizeTopic(r *http.Request, viewer, staff *identity.Principal, topic string) (topicGrant, error) {
	var g topicGrant
	kind, idStr, _ := strings.Cut(topic, ":")
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return g, errInvalidSubscription.With("订阅参数无效", "Invalid topic "+topic+".")
	}
	switch kind {
	case "room":
		room, err := s.App.Live.RoomByID(r.Context(), id)
		if err != nil {
			return g, err
		}
		g.room, g.viewer = room, viewer != nil && viewer.MerchantID == room.MerchantID
	case "lineup":
		// A restricted room's goods: staff of its merchant and viewers
		// in its segment only (app.Admitted, the one check).
		room, err := s.App.Live.RoomByID(r.Context(), id)
		if err != nil {
			return g, err
		}
		who := viewer
		if staff != nil && staff.MerchantID == room.MerchantID {
			who = staff
		}
		ok, _, err := s.App.Admitted(r.Context(), who, room)
		if err != nil {
			return g, err
		}
		if !ok {
			return g, members.ErrNotInSegment
		}
	case "staff":
		// The merchant's stream carries every store's orders: staff
		// bound to one store follow store:<id> instead.
		if staff == nil || staff.MerchantID != id || !identity.Can(staff.Role, identity.PermOrdersRead) || staff.AtStore() != 0 {
			return g, apperr.ErrNotFound
		}
		g.studio = true
	case "mod":
		// The merchant's moderation events (reports, mutes): hosts and
		// moderators, with no order data on this stream.
		if staff == nil || staff.MerchantID != id || !identity.Can(staff.Role, identity.PermModerate) {
			return g, apperr.ErrNotFound
		}
		g.studio = true
	case "store":
		if _, err := s.App.StaffStore(r.Context(), staff, id); err != nil {
			return g, err
		}
		g.studio = true
	case "order":
		ok := false
		if viewer != nil {
			_, err := s.App.CustomerOrder(r.Context(), viewer, id)
			ok = err == nil
		}
		if !ok && staff != nil && staff.IsStaff() {
			_, err := s.App.ViewOrder(r.Context(), staff, id)
			ok = err == nil
		}
		if !ok {
			return g, apperr.ErrNotFound
		}
	case "cocreate":
		// A co-creation draft's counts are public, like its card.
		if _, err := s.App.Cocreate.PublicDraft(r.Context(), id); err != nil {
			return g, err
		}
	case "presale":
		// A pre-sale's progress is public, like its page.
		if _, err := s.App.Presales.PublicPresale(r.Context(), id); err != nil {
			return g, err
		}
	default:
		return g, errInvalidSubscription.With("订阅参数无效", "Unknown topic "+topic+".")
	}
	return g, nil
}

// countViewers counts the connection as a viewer of its rooms (analytics)
// from when it opens until it closes.
func (s *Server) countViewers(r *http.Request, rooms []*live.Room, opts *ws.Options) {
	visitor := visitorID(r)
	var left []func()
	opts.OnOpen = func() {
		for _, room := range rooms {
			left = append(left, s.App.ViewerJoined(room, visitor))
		}
	}
	opts.OnClose = func(string) { // after OnOpen: the writer goroutine starts after it
		for _, f := range left {
			f()
		}
	}
}
