package app

import (
	"context"
	"time"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
)

// Media is the video side of rooms: the embedded RTMP server or an external
// media server reached through its hooks. Nil means no video (poster only).
type Media interface {
	// Playback returns the room's player URLs and whether a publisher is on air.
	Playback(slug string) Playback
	// ReplayURL is the recorded live as one VOD playlist, "" when nothing was recorded.
	ReplayURL(slug string) string
	// ReplayOffset maps a wall-clock moment (a pin) to a position in the replay.
	ReplayOffset(slug string, at time.Time) (time.Duration, bool)
	// IngestURL is what the host types into OBS as the server (the key goes apart).
	IngestURL(host string) string
}

// Playback tells the viewer page which players to try.
type Playback struct {
	// MP4 is the live as fragmented MP4, which the viewer page plays with
	// its own small MSE player (embedded media server only).
	MP4    string `json:"mp4,omitempty"`
	FLV    string `json:"flv,omitempty"`
	HLS    string `json:"hls,omitempty"`
	OnAir  bool   `json:"on_air"`
	Replay string `json:"replay,omitempty"`
}

// Clip is "watch the explanation of this product": where in the replay the
// host pinned its card.
type Clip struct {
	ProductID int64     `json:"product_id"`
	At        time.Time `json:"at"`
	OffsetS   float64   `json:"offset_s"`
}

func (a *App) fillMedia(ctx context.Context, st *RoomState) {
	if a.Media == nil {
		return
	}
	pb := a.Media.Playback(st.Room.Slug)
	st.Playback = &pb
	if st.Room.Status != live.Ended {
		return
	}
	pb.Replay = a.Media.ReplayURL(st.Room.Slug)
	if pb.Replay == "" {
		return
	}
	pins, err := a.Live.Pins(ctx, st.Room.MerchantID, st.Room.ID)
	if err != nil {
		return
	}
	st.Clips = []Clip{}
	for _, p := range pins {
		if p.ProductID == 0 {
			continue
		}
		if off, ok := a.Media.ReplayOffset(st.Room.Slug, p.At); ok {
			st.Clips = append(st.Clips, Clip{ProductID: p.ProductID, At: p.At, OffsetS: off.Seconds()})
		}
	}
}

// VideoRooms is what the video server asks of rooms: which room a stream key
// publishes to, and what happens when the stream starts and stops.
type VideoRooms struct{ App *App }

// RoomByStreamKey refuses unknown, rotated and ended rooms' keys.
func (v VideoRooms) RoomByStreamKey(ctx context.Context, key string) (string, error) {
	r, err := v.App.Live.RoomByStreamKey(ctx, key)
	if err != nil {
		return "", err
	}
	if m, err := v.App.Users.Merchant(ctx, r.MerchantID); err != nil {
		return "", err
	} else if m.Disabled {
		return "", identity.ErrShopClosed
	}
	if r.Status == live.Ended {
		return "", live.ErrRoomEnded
	}
	return r.Slug, nil
}

// StreamStarted puts a scheduled room live and tells viewers to start playing.
func (v VideoRooms) StreamStarted(ctx context.Context, slug string) error {
	r, err := v.App.Live.RoomBySlug(ctx, slug)
	if err != nil {
		return err
	}
	if r.Status == live.Scheduled {
		rev, err := v.App.ReviewRoom(ctx, r)
		if err != nil {
			return err
		}
		if rev.Blocking { // the stream runs, the room stays scheduled: the studio shows why
			v.App.publish(live.StaffTopic(r.MerchantID), "compliance.blocked", map[string]any{"room": r.Slug, "review": rev})
			return nil
		}
		if err := r.Transition(live.Live, v.App.Now()); err != nil {
			return err
		}
		if err := v.App.Live.UpdateRoom(ctx, r); err != nil {
			return err
		}
		v.App.publish(r.Topic(), "room.status", map[string]any{"status": r.Status})
		v.App.emitRoom(r)
	}
	v.App.publish(r.Topic(), "stream.status", map[string]any{"on_air": true, "playback": v.App.Media.Playback(slug)})
	return nil
}

// StreamStopped shows "host reconnecting"; the host ends the room explicitly.
func (v VideoRooms) StreamStopped(ctx context.Context, slug string) error {
	r, err := v.App.Live.RoomBySlug(ctx, slug)
	if err != nil {
		return err
	}
	v.App.publish(r.Topic(), "stream.status", map[string]any{"on_air": false})
	return nil
}
