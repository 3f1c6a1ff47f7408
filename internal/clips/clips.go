// Package clips holds product clips: each product's explanation in a live
// as a short video of its own, cut from the room's recording without
// re-encoding. The room's pins say when each card was shown (live.Pin;
// an unpin is a pin of product 0); Spans turns them into the stretches to
// cut, the media adapter cuts them (video: whole keyframe-started
// segments, ffmpeg -c copy into MP4) and the store keeps what came out.
package clips

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/live"
)

// Status is where a clip is: waiting to be cut, cut and stored, or given up.
type Status string

const (
	Pending Status = "pending"
	Ready   Status = "ready"
	Failed  Status = "failed"
)

// Lead is how much of the live before the pin a clip keeps: the host
// usually starts talking about a product as they reach for the card.
const Lead = 3 * time.Second

// MaxLen caps a clip: a card pinned for an hour still makes a short clip.
const MaxLen = 3 * time.Minute

// MinLen drops spans too short to watch (a card pinned by mistake).
const MinLen = 2 * time.Second

// GiveUpAfter is how long after its span ended a clip whose recording
// never covered it is left pending before it fails.
const GiveUpAfter = 2 * time.Minute

// Clip is one product's explanation as a video of its own.
type Clip struct {
	ID         int64     `json:"id"`
	MerchantID int64     `json:"-"`
	RoomID     int64     `json:"room_id"`
	RoomSlug   string    `json:"room_slug"`
	ProductID  int64     `json:"product_id"`
	PinnedAt   time.Time `json:"pinned_at"`
	// From and To are the wall-clock span asked for: the cut starts at the
	// keyframe at or before From, so the video may begin up to one GOP early.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Title is staff's title; "" shows the product's name.
	Title  string `json:"title,omitempty"`
	Hidden bool   `json:"hidden"`
	Status Status `json:"status"`
	// Key is the MP4's key in the object store the recordings use.
	Key string `json:"-"`
	Media
	Error     string    `json:"error,omitempty"`
	Attempts  int       `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Media is what the cut produced, as ffprobe reads the stored file.
type Media struct {
	// Start is the wall clock of the clip's first frame (a keyframe).
	Start      time.Time `json:"start,omitzero"`
	DurationMS int64     `json:"duration_ms"`
	Bytes      int64     `json:"bytes"`
	VideoCodec string    `json:"video_codec,omitempty"`
	Width      int       `json:"width,omitempty"`
	Height     int       `json:"height,omitempty"`
	AudioCodec string    `json:"audio_codec,omitempty"`
}

// Public reports whether viewers may see the clip.
func (c *Clip) Public() bool { return c.Status == Ready && !c.Hidden }

// Span is one stretch of a live to cut: a product's pin to the next pin,
// the unpin or the end of the live.
type Span struct {
	ProductID int64
	PinnedAt  time.Time
	From, To  time.Time
}

// Spans turns a room's pins (oldest first; product 0 is an unpin) into
// the spans to cut. A pin's span ends at the next pin or unpin; the last
// pin's at end (the live's end), or is left out while end is zero (the
// card is still up). Spans are at most MaxLen; shorter than MinLen are
// dropped.
func Spans(pins []live.Pin, end time.Time) []Span {
	var out []Span
	for i, p := range pins {
		if p.ProductID == 0 {
			continue
		}
		to := end
		if i+1 < len(pins) {
			to = pins[i+1].At
		}
		if to.IsZero() || to.Sub(p.At) < MinLen {
			continue
		}
		if to.Sub(p.At) > MaxLen {
			to = p.At.Add(MaxLen)
		}
		out = append(out, Span{ProductID: p.ProductID, PinnedAt: p.At, From: p.At.Add(-Lead), To: to})
	}
	return out
}

// Update is what staff change on a clip: its title, whether viewers see it.
type Update struct {
	Title  *string `json:"title,omitempty"`
	Hidden *bool   `json:"hidden,omitempty"`
}

// MaxTitleRunes limits a clip's title.
const MaxTitleRunes = 40

// Validate cleans the title.
func (u *Update) Validate() error {
	if u.Title != nil {
		t := strings.TrimSpace(*u.Title)
		if utf8.RuneCountInString(t) > MaxTitleRunes || strings.ContainsAny(t, "\r\n") {
			return ErrInvalidTitle
		}
		u.Title = &t
	}
	return nil
}

// Errors, one per code.
var (
	ErrInvalidTitle = apperr.InvalidField("title", "invalid_clip_title", "短视频标题最多40字，不能换行", "A clip title is at most 40 characters on one line.")
	// ErrNoRecording: the room has no recording to cut from (video off,
	// an external media server, or nothing was published).
	ErrNoRecording = apperr.New(apperr.Conflict, "no_recording", "这场直播没有录像，无法剪辑短视频", "This live has no recording to cut clips from.")
)

// ErrNotYet tells the cutter the recording does not reach the span's end
// yet (the publisher is still writing it): try again later.
var ErrNotYet = errors.New("clips: recording does not cover the span yet")

// Cutter cuts a span of a room's recording into a stored MP4 under key,
// without re-encoding. ErrNotYet: try later; ErrNoRecording: nothing to
// cut from.
type Cutter interface {
	CutClip(ctx context.Context, slug string, from, to time.Time, key string) (Media, error)
}

// Store persists clips. Every method is scoped by the merchant except
// ClipByID (a clip's public page: the link decides the tenant) and
// PendingClips (the cutter's queue, across merchants).
type Store interface {
	// EnsureClips adds a pending clip for every span not yet known (by
	// room and pin time) and sets failed ones of these spans back to
	// pending when retry is set; it returns the room's clips.
	EnsureClips(ctx context.Context, merchantID, roomID int64, spans []Span, retry bool) ([]Clip, error)
	RoomClips(ctx context.Context, merchantID, roomID int64) ([]Clip, error)
	ProductClips(ctx context.Context, merchantID, productID int64) ([]Clip, error)
	ListClips(ctx context.Context, merchantID int64, limit int) ([]Clip, error)
	Clip(ctx context.Context, merchantID, id int64) (*Clip, error)
	ClipByID(ctx context.Context, id int64) (*Clip, error)
	PendingClips(ctx context.Context, limit int) ([]Clip, error)
	// FinishClip stores a cut's result (Ready with media, or Failed with
	// the reason) or, with Pending, counts an attempt.
	FinishClip(ctx context.Context, merchantID, id int64, status Status, m Media, reason string) error
	UpdateClip(ctx context.Context, merchantID, id int64, u Update) (*Clip, error)
}

// Key is where a clip's MP4 lives in the object store.
func Key(merchantID, id int64) string {
	return "clips/" + strconv.FormatInt(merchantID, 10) + "/" + strconv.FormatInt(id, 10) + ".mp4"
}
