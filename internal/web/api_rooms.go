package web

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/realtime/ws"
	"github.com/shelflive/shelflive/internal/stores"
)

// roomPublic loads a room by its public slug.
func (s *Server) roomPublic(r *http.Request) (*live.Room, error) {
	return s.App.Live.RoomBySlug(r.Context(), r.PathValue("slug"))
}

// roomOwned loads a room for staff, as not found when it belongs to another
// tenant or, for a store's host, to another store's studio.
func (s *Server) roomOwned(r *http.Request) (*live.Room, error) {
	room, err := s.roomPublic(r)
	if err != nil {
		return nil, err
	}
	if p := PrincipalFrom(r.Context()); !runsRoom(p, room) {
		return nil, apperr.ErrNotFound
	}
	return room, nil
}

// runsRoom reports whether staff p may run room: it is their merchant's,
// and their store's when they are bound to one (stores as studios).
func runsRoom(p *identity.Principal, room *live.Room) bool {
	if p == nil || !p.IsStaff() || p.MerchantID != room.MerchantID {
		return false
	}
	at := p.AtStore()
	return at == 0 || room.StoreID == at
}

// roomView adds staff-only fields (the stream key) to the public state.
func (s *Server) roomView(r *http.Request, st *app.RoomState) any {
	p := PrincipalFrom(r.Context())
	if runsRoom(p, st.Room) && identity.Can(p.Role, identity.PermRoomHost) {
		ingest := ""
		if s.App.Media != nil {
			host := r.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			ingest = s.App.Media.IngestURL(host)
		}
		return struct {
			*app.RoomState
			StreamKey string `json:"stream_key"`
			IngestURL string `json:"ingest_url,omitempty"`
		}{st, st.Room.StreamKey, ingest}
	}
	return st
}

func (s *Server) apiRoom(w http.ResponseWriter, r *http.Request) error {
	st, err := s.App.RoomFor(r.Context(), PrincipalFrom(r.Context()), r.PathValue("slug"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, s.roomView(r, st))
}

func (s *Server) apiListRooms(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	all, err := s.App.Live.ListRooms(r.Context(), p.MerchantID)
	if err != nil {
		return err
	}
	list := []live.Room{}
	for _, room := range all {
		if runsRoom(p, &room) { // a store's host sees that studio's rooms only
			list = append(list, room)
		}
	}
	return writeJSON(w, 200, map[string]any{"rooms": list})
}

type roomInput struct {
	Slug        string     `json:"slug"`
	Title       *string    `json:"title"`
	TitleEN     *string    `json:"title_en"`
	HostName    *string    `json:"host_name"`
	HostStaffID *int64     `json:"host_staff_id"`
	ScheduledAt *time.Time `json:"scheduled_at"`
	Poster      *string    `json:"poster"`
	ProductIDs  []int64    `json:"product_ids"`
	StoreID     *int64     `json:"store_id"` // the store whose studio runs the room; 0 = the brand's
}

func (in *roomInput) apply(room *live.Room) {
	if in.Title != nil {
		room.Title = *in.Title
	}
	if in.TitleEN != nil {
		room.TitleEN = *in.TitleEN
	}
	if in.HostName != nil {
		room.HostName = *in.HostName
	}
	if in.HostStaffID != nil {
		room.HostStaffID = *in.HostStaffID
	}
	if in.ScheduledAt != nil {
		t := in.ScheduledAt.UTC()
		room.ScheduledAt = &t
	}
	if in.Poster != nil {
		room.Poster = *in.Poster
	}
	if in.StoreID != nil {
		room.StoreID = *in.StoreID
	}
}

func (s *Server) apiCreateRoom(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	var in roomInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	room := &live.Room{MerchantID: p.MerchantID, Slug: in.Slug, Status: live.Scheduled, StreamKey: live.NewStreamKey()}
	in.apply(room)
	st, err := s.App.CreateRoom(r.Context(), p, room, in.ProductIDs)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, s.roomView(r, st))
}

// errSlugImmutable refuses a change of a room's slug.
var errSlugImmutable = apperr.InvalidField("slug", "slug_immutable", "房间地址创建后不能修改", "A room's slug cannot change (links were shared).")

func (s *Server) apiUpdateRoom(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	room, err := s.roomOwned(r)
	if err != nil {
		return err
	}
	var in struct {
		roomInput
		RotateKey bool          `json:"rotate_stream_key"`
		Override  *app.Override `json:"override"` // an owner's, for a blocked edit of a live room
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Slug != "" && in.Slug != room.Slug {
		return errSlugImmutable
	}
	old := *room
	in.apply(room)
	if in.RotateKey {
		room.StreamKey = live.NewStreamKey()
	}
	st, err := s.App.UpdateRoom(r.Context(), p, &old, room, in.ProductIDs, in.Override)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, s.roomView(r, st))
}

func (s *Server) apiRoomStatus(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomOwned(r)
	if err != nil {
		return err
	}
	var in struct {
		Status   live.Status   `json:"status"`
		Override *app.Override `json:"override"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Status != live.Live && in.Status != live.Ended {
		return apperr.ErrInvalidStatus.With("状态须为 live 或 ended", "Status must be live or ended.")
	}
	room, err = s.App.SetRoomStatus(r.Context(), PrincipalFrom(r.Context()), room, in.Status, in.Override)
	if err != nil { // a *app.BlockedError is answered with its review (Server.fail)
		return err
	}
	return writeJSON(w, 200, room)
}

// roomProduct reads a host action on one of the caller's rooms that names a
// product: {"product_id": …}.
func (s *Server) roomProduct(r *http.Request) (*live.Room, int64, error) {
	room, err := s.roomOwned(r)
	if err != nil {
		return nil, 0, err
	}
	var in struct {
		ProductID int64 `json:"product_id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, 0, err
	}
	return room, in.ProductID, nil
}

func (s *Server) apiPin(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomOwned(r)
	if err != nil {
		return err
	}
	var in struct {
		ProductID int64         `json:"product_id"`
		Override  *app.Override `json:"override"` // an owner's, for a product outside a live room's lineup with blocking texts
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	prod, pinID, err := s.App.Pin(r.Context(), PrincipalFrom(r.Context()), room, in.ProductID, in.Override)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"pinned": prod, "pin_id": pinID})
}

func (s *Server) apiUnpin(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomOwned(r)
	if err != nil {
		return err
	}
	if err := s.App.Unpin(r.Context(), PrincipalFrom(r.Context()), room); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiTraceCard(w http.ResponseWriter, r *http.Request) error {
	room, productID, err := s.roomProduct(r)
	if err != nil {
		return err
	}
	card, err := s.App.PushTraceCard(r.Context(), PrincipalFrom(r.Context()), room, productID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, card)
}

func (s *Server) apiPins(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	pins, err := s.App.Live.Pins(r.Context(), room.MerchantID, room.ID)
	if err != nil {
		return err
	}
	if ok, _, err := s.App.Admitted(r.Context(), PrincipalFrom(r.Context()), room); err != nil {
		return err
	} else if !ok {
		pins = nil // a restricted room's pins name its goods: its segment only
	}
	if pins == nil {
		pins = []live.Pin{}
	}
	return writeJSON(w, 200, map[string]any{"pins": pins})
}

func (s *Server) apiComments(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	list, err := s.App.Live.RecentComments(r.Context(), room.ID, 50)
	if err != nil {
		return err
	}
	if list == nil {
		list = []live.Comment{}
	}
	return writeJSON(w, 200, map[string]any{"comments": list})
}

func (s *Server) apiPostComment(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	var in struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	if err := s.limit(w, "comment:"+app.UserKey(p), 2, 5); err != nil {
		return err
	}
	c, err := s.App.PostComment(app.WithDevice(r.Context(), s.deviceOf(r)), p, room, in.Text) // a *app.CommentError carries its findings (Server.fail)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, c)
}

func (s *Server) apiDeleteComment(w http.ResponseWriter, r *http.Request) error {
	room, id, err := s.ownedComment(r)
	if err != nil {
		return err
	}
	if err := s.App.DeleteComment(r.Context(), PrincipalFrom(r.Context()), room, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiLike(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	var in struct {
		Count int `json:"count"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.limit(w, "like:"+s.clientIP(r), 20, 40); err != nil {
		return err
	}
	if err := s.App.Like(r.Context(), room, in.Count); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiShare returns the room link with the sharer's attribution code: a
// guide's own code, or a viewer's referral code.
func (s *Server) apiShare(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	// The server signs the code: a guide's, a viewer's own, or for an
	// anonymous re-share the verified code that brought the visitor.
	brought := s.attribution(r, room.MerchantID, r.URL.Query().Get("g"))
	code, sharer := s.App.ShareCode(r.Context(), PrincipalFrom(r.Context()), room, brought)
	link := "/live/" + room.Slug
	s.App.RecordShare(room, visitorID(r), sharer)
	if code != "" {
		link += "?g=" + urlQueryEscape(code)
	}
	return writeJSON(w, 200, map[string]any{"path": link, "code": code, "title": room.Title})
}

func (s *Server) apiRoomStores(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomPublic(r)
	if err != nil {
		return err
	}
	list, err := s.App.Stores.ListStores(r.Context(), room.MerchantID)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	lat, e1 := strconv.ParseFloat(q.Get("lat"), 64)
	lng, e2 := strconv.ParseFloat(q.Get("lng"), 64)
	if e1 == nil && e2 == nil && lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180 {
		list = stores.Nearest(list, lat, lng)
	}
	type storeView struct {
		stores.Store
		Available *int64 `json:"available,omitempty"`
		// Held: units of the SKU on hold in this store (暂停销售 here,
		// whatever the other stores have).
		Held *int64 `json:"held,omitempty"`
	}
	out := []storeView{}
	var levels, held map[int64]int64
	if sku, err := strconv.ParseInt(q.Get("sku"), 10, 64); err == nil && sku > 0 {
		lv, err := s.App.Inventory.Levels(r.Context(), room.MerchantID, sku)
		if err != nil {
			return err
		}
		levels, held = map[int64]int64{}, map[int64]int64{}
		now := s.App.Now()
		for _, l := range lv {
			levels[l.StoreID] += l.Available(now)
			if l.Hold && l.ExpiresAt.After(now) {
				held[l.StoreID] += l.OnHand - l.Reserved
			}
		}
	}
	for _, st := range list {
		v := storeView{Store: st}
		if levels != nil {
			n, h := levels[st.ID], held[st.ID]
			v.Available, v.Held = &n, &h
		}
		out = append(out, v)
	}
	return writeJSON(w, 200, map[string]any{"stores": out})
}

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

func (s *Server) principalFromCookie(r *http.Request, name string) *identity.Principal {
	c, err := r.Cookie(name)
	if err != nil {
		return nil
	}
	p, err := s.App.Identity.Authenticate(r.Context(), c.Value)
	if err != nil {
		return nil
	}
	return p
}
