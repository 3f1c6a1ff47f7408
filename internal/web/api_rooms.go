package web

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
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
