package app

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/clips"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
)

// Clips: when a live ends (or staff ask), every product's pin span becomes
// a pending clip; the leader's clip worker cuts pending clips from the
// recording (Clipper: the embedded video server, no re-encoding) and
// stores them in the object store the recordings use.

// ClipLink is a clip as a room or product page lists it.
type ClipLink struct {
	ID        int64   `json:"id"`
	ProductID int64   `json:"product_id"`
	Title     string  `json:"title"`
	DurationS float64 `json:"duration_s"`
	URL       string  `json:"url"`   // the clip's page
	Video     string  `json:"video"` // the MP4
}

// ClipPath is a clip's page; ClipVideoPath its MP4.
func ClipPath(id int64) string      { return "/clips/" + strconv.FormatInt(id, 10) }
func ClipVideoPath(id int64) string { return ClipPath(id) + "/video.mp4" }

// clipTitle is what a clip is called: staff's title, else the product's name.
func clipTitle(c *clips.Clip, p *catalog.Product) string {
	if c.Title != "" || p == nil {
		return c.Title
	}
	return p.Name
}

func clipLink(c *clips.Clip, p *catalog.Product) ClipLink {
	return ClipLink{ID: c.ID, ProductID: c.ProductID, Title: clipTitle(c, p), DurationS: float64(c.DurationMS) / 1000,
		URL: ClipPath(c.ID), Video: ClipVideoPath(c.ID)}
}

// clipWorker wakes the cutter when clips are queued.
type clipWorker struct {
	once sync.Once
	wake chan struct{}
}

func (w *clipWorker) init() { w.once.Do(func() { w.wake = make(chan struct{}, 1) }) }

func (a *App) kickClips() {
	a.clipJobs.init()
	select {
	case a.clipJobs.wake <- struct{}{}:
	default:
	}
}

// startClips runs the clip cutter on this node while it leads.
func (a *App) startClips(ctx context.Context) {
	if a.Clips == nil || a.Clipper == nil {
		return
	}
	a.clipJobs.init()
	go func() {
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			case <-a.clipJobs.wake:
			}
			if a.IsLeader() {
				a.CutPendingClips(ctx)
			}
		}
	}()
}

// queueClips turns the room's pins into pending clips: every closed span
// (a pin followed by another pin or an unpin), and the last pin's up to
// the end once the room has ended.
func (a *App) queueClips(ctx context.Context, room *live.Room, retry bool) ([]clips.Clip, error) {
	pins, err := a.Live.Pins(ctx, room.MerchantID, room.ID)
	if err != nil {
		return nil, err
	}
	var end time.Time
	if room.Status == live.Ended && room.EndedAt != nil {
		end = *room.EndedAt
	}
	list, err := a.Clips.EnsureClips(ctx, room.MerchantID, room.ID, clips.Spans(pins, end), retry)
	if err != nil {
		return nil, err
	}
	a.kickClips()
	return list, nil
}

// clipsAfterEnd queues a room's clips when its live ends; a failure is
// logged (staff can cut again from the studio).
func (a *App) clipsAfterEnd(ctx context.Context, room *live.Room) {
	if a.Clips == nil || a.Clipper == nil {
		return
	}
	if _, err := a.queueClips(ctx, room, false); err != nil {
		a.Logger.Error("clips: queue after the live", "room", room.Slug, "err", err)
	}
}

// CutRoomClips (staff, on demand) queues the room's clips again, failed
// ones too, and answers the room's clips.
func (a *App) CutRoomClips(ctx context.Context, p *identity.Principal, room *live.Room) ([]clips.Clip, error) {
	if a.Clips == nil || a.Clipper == nil {
		return nil, clips.ErrNoRecording
	}
	list, err := a.queueClips(ctx, room, true)
	if err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "clips.cut", "room:"+room.Slug, "")
	return list, nil
}

// RoomClips is every clip of a room with its status (studio, admin).
func (a *App) RoomClips(ctx context.Context, p *identity.Principal, room *live.Room) ([]clips.Clip, error) {
	if a.Clips == nil {
		return []clips.Clip{}, nil
	}
	return a.Clips.RoomClips(ctx, p.MerchantID, room.ID)
}

// ListClips is the shop's newest clips (admin); a store-bound host sees
// their store's rooms' clips only.
func (a *App) ListClips(ctx context.Context, p *identity.Principal) ([]clips.Clip, error) {
	if a.Clips == nil {
		return []clips.Clip{}, nil
	}
	list, err := a.Clips.ListClips(ctx, p.MerchantID, 200)
	if err != nil || p.AtStore() == 0 {
		return list, err
	}
	rooms, err := a.Live.ListRooms(ctx, p.MerchantID)
	if err != nil {
		return nil, err
	}
	mine := map[int64]bool{}
	for _, r := range rooms {
		mine[r.ID] = r.StoreID == p.AtStore()
	}
	out := []clips.Clip{}
	for _, c := range list {
		if mine[c.RoomID] {
			out = append(out, c)
		}
	}
	return out, nil
}

// UpdateClip retitles or hides a clip (audited); a store-bound host only
// their store's rooms' clips.
func (a *App) UpdateClip(ctx context.Context, p *identity.Principal, id int64, u clips.Update) (*clips.Clip, error) {
	if a.Clips == nil {
		return nil, apperr.ErrNotFound
	}
	old, err := a.Clips.Clip(ctx, p.MerchantID, id)
	if err != nil {
		return nil, err
	}
	if err := a.storeRoom(ctx, p, old.RoomID); err != nil {
		return nil, err
	}
	c, err := a.Clips.UpdateClip(ctx, p.MerchantID, id, u)
	if err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "clip.update", "clip:"+strconv.FormatInt(id, 10), "")
	return c, nil
}

// CutPendingClips cuts what is pending, a batch at a time; it returns how
// many clips became ready.
func (a *App) CutPendingClips(ctx context.Context) int {
	list, err := a.Clips.PendingClips(ctx, 20)
	if err != nil {
		if ctx.Err() == nil {
			a.Logger.Error("clips: pending", "err", err)
		}
		return 0
	}
	ready := 0
	for i := range list {
		if ctx.Err() != nil {
			return ready
		}
		if a.cutClip(ctx, &list[i]) {
			ready++
		}
	}
	return ready
}

// maxClipAttempts: a cut that fails for another reason than "not yet" is
// tried this many times.
const maxClipAttempts = 3

func (a *App) cutClip(ctx context.Context, c *clips.Clip) bool {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	m, err := a.Clipper.CutClip(cctx, c.RoomSlug, c.From, c.To, clips.Key(c.MerchantID, c.ID))
	status, reason := clips.Ready, ""
	late := a.Now().Sub(c.To) > clips.GiveUpAfter
	switch {
	case err == nil:
	case errors.Is(err, clips.ErrNotYet), errors.Is(err, clips.ErrNoRecording):
		// the publisher is still writing it, or its copy has not reached
		// the store yet: wait, up to GiveUpAfter past the span's end
		status = clips.Pending
		if late {
			status, reason = clips.Failed, err.Error()
		}
	default:
		a.Logger.Warn("clips: cut", "clip", c.ID, "room", c.RoomSlug, "err", err)
		status, reason = clips.Pending, err.Error()
		if c.Attempts+1 >= maxClipAttempts {
			status = clips.Failed
		}
	}
	if err := a.Clips.FinishClip(ctx, c.MerchantID, c.ID, status, m, reason); err != nil && !errors.Is(err, apperr.ErrNotFound) {
		a.Logger.Error("clips: finish", "clip", c.ID, "err", err)
	}
	return status == clips.Ready
}

// ClipView is a clip's public page: the video, the product with its
// prices, the room it came from.
type ClipView struct {
	Clip     *clips.Clip      `json:"clip"`
	Link     ClipLink         `json:"link"`
	Product  *catalog.Product `json:"product"`
	Room     *live.Room       `json:"room"`
	Merchant string           `json:"merchant"`
	// More are the product's other public clips.
	More []ClipLink `json:"more"`
}

// ClipPage loads a public clip: ready, not hidden, of an open shop, and
// (a room for a segment) only for its members and the shop's staff.
func (a *App) ClipPage(ctx context.Context, p *identity.Principal, id int64) (*ClipView, error) {
	if a.Clips == nil {
		return nil, apperr.ErrNotFound
	}
	c, err := a.Clips.ClipByID(ctx, id)
	if err != nil {
		return nil, err
	}
	staff := p.IsStaff() && p.MerchantID == c.MerchantID
	if !c.Public() && !staff {
		return nil, apperr.ErrNotFound
	}
	room, err := a.Live.Room(ctx, c.MerchantID, c.RoomID)
	if err != nil {
		return nil, err
	}
	st, err := a.roomState(ctx, room)
	if err != nil {
		return nil, err
	}
	if ok, _, err := a.Admitted(ctx, p, st.Room); err != nil {
		return nil, err
	} else if !ok {
		return nil, apperr.ErrNotFound
	}
	prod, err := a.Catalog.Product(ctx, c.MerchantID, c.ProductID)
	if err != nil {
		return nil, apperr.ErrNotFound
	}
	v := &ClipView{Clip: c, Link: clipLink(c, prod), Product: prod, Room: st.Room, Merchant: st.Merchant, More: []ClipLink{}}
	others, err := a.Clips.ProductClips(ctx, c.MerchantID, c.ProductID)
	if err != nil {
		return nil, err
	}
	for i := range others {
		if o := &others[i]; o.ID != c.ID && o.Public() {
			v.More = append(v.More, clipLink(o, prod))
		}
	}
	return v, nil
}

// ProductClipLinks lists a product's public clips (its page).
func (a *App) ProductClipLinks(ctx context.Context, merchantID int64, p *catalog.Product) []ClipLink {
	out := []ClipLink{}
	if a.Clips == nil {
		return out
	}
	list, err := a.Clips.ProductClips(ctx, merchantID, p.ID)
	if err != nil {
		a.Logger.Warn("clips: of product", "product", p.ID, "err", err)
		return out
	}
	for i := range list {
		if list[i].Public() {
			out = append(out, clipLink(&list[i], p))
		}
	}
	return out
}

// fillClipLinks lists an ended room's public clips in its state.
func (a *App) fillClipLinks(ctx context.Context, st *RoomState) {
	if a.Clips == nil || st.Room.Status != live.Ended {
		return
	}
	list, err := a.Clips.RoomClips(ctx, st.Room.MerchantID, st.Room.ID)
	if err != nil {
		a.Logger.Warn("clips: of room", "room", st.Room.Slug, "err", err)
		return
	}
	byID := map[int64]*catalog.Product{}
	for i := range st.Products {
		byID[st.Products[i].ID] = &st.Products[i]
	}
	for i := range list {
		if c := &list[i]; c.Public() {
			st.ClipPages = append(st.ClipPages, clipLink(c, byID[c.ProductID]))
		}
	}
}
