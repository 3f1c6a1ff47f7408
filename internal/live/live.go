// Package live holds live rooms (scheduled → live → ended), their product
// lineup and pinned card, comments with moderation, likes and shares.
package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Status is where a room is in its life.
type Status string

const (
	Scheduled Status = "scheduled"
	Live      Status = "live"
	Ended     Status = "ended"
)

// Room is one live session with its page at /live/{slug}.
type Room struct {
	ID              int64      `json:"id"`
	MerchantID      int64      `json:"merchant_id"`
	Slug            string     `json:"slug"`
	Title           string     `json:"title"`
	TitleEN         string     `json:"title_en,omitempty"`
	HostStaffID     int64      `json:"host_staff_id,omitempty"`
	HostName        string     `json:"host_name"`
	StoreID         int64      `json:"store_id,omitempty"` // the store whose studio runs it; 0 = the brand's
	Status          Status     `json:"status"`
	ScheduledAt     *time.Time `json:"scheduled_at,omitempty"`
	StartedAt       *time.Time `json:"started_at,omitempty"`
	EndedAt         *time.Time `json:"ended_at,omitempty"`
	Poster          string     `json:"poster,omitempty"`
	StreamKey       string     `json:"-"`
	PinnedProductID int64      `json:"pinned_product_id,omitempty"`
	Likes           int64      `json:"likes"`
	ProductIDs      []int64    `json:"product_ids"`
	CreatedAt       time.Time  `json:"created_at"`
}

// NewStreamKey returns a fresh RTMP publish key for a room.
func NewStreamKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "sk_" + hex.EncodeToString(b)
}

// Topic is the realtime topic of the room's public stream.
func (r *Room) Topic() string { return RoomTopic(r.ID) }

// RoomTopic names the public realtime topic of a room.
func RoomTopic(id int64) string { return "room:" + strconv.FormatInt(id, 10) }

// LineupTopic names the realtime topic of a room's goods when the room is
// restricted to a segment (members only): its cards, prices, stock and
// flash sales go here instead of RoomTopic, and only viewers in the
// segment may subscribe (app.CommerceTopic decides, web.apiWS checks).
func LineupTopic(id int64) string { return "lineup:" + strconv.FormatInt(id, 10) }

// StaffTopic names the realtime topic the studio and admin of a merchant follow (new orders).
func StaffTopic(merchantID int64) string { return "staff:" + strconv.FormatInt(merchantID, 10) }

// StoreTopic names the realtime topic of one store's orders: what staff
// bound to that store follow instead of the merchant's StaffTopic.
func StoreTopic(storeID int64) string { return "store:" + strconv.FormatInt(storeID, 10) }

// OrderTopic names the realtime topic of one order's page.
func OrderTopic(orderID int64) string { return "order:" + strconv.FormatInt(orderID, 10) }

// ErrRoomEnded refuses what only a scheduled or live room allows.
var ErrRoomEnded = apperr.New(apperr.Conflict, "room_ended", "直播已结束", "This live has ended.")

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,47}$`)

// ErrInvalidTitle refuses an empty room title or one over 60 characters.
var ErrInvalidTitle = apperr.InvalidField("title", "invalid_title", "标题必填，最多60字", "Title is required, at most 60 characters.")

// Validate checks a room before it is stored.
func (r *Room) Validate() error {
	r.Slug = strings.ToLower(strings.TrimSpace(r.Slug))
	r.Title = strings.TrimSpace(r.Title)
	if !slugRE.MatchString(r.Slug) {
		return apperr.ErrInvalidSlug.With("房间地址只能用小写字母、数字和连字符（2-48位）", "Slug: 2–48 lowercase letters, digits, hyphens.")
	}
	if r.Title == "" || utf8.RuneCountInString(r.Title) > 60 {
		return ErrInvalidTitle
	}
	switch r.Status {
	case "":
		r.Status = Scheduled
	case Scheduled, Live, Ended:
	default:
		return apperr.ErrInvalidStatus
	}
	return nil
}

// Transition moves a room to next, refusing moves that make no sense.
func (r *Room) Transition(next Status, now time.Time) error {
	switch {
	case r.Status == next:
		return nil
	case next == Live && r.Status == Scheduled,
		next == Live && r.Status == Ended: // a host may reopen a room that ended by mistake
		r.Status, r.StartedAt, r.EndedAt = Live, &now, nil
	case next == Ended && r.Status == Live:
		r.Status, r.EndedAt = Ended, &now
	case next == Ended && r.Status == Scheduled:
		r.Status, r.EndedAt = Ended, &now
	default:
		return apperr.ErrInvalidTransition.With("房间状态不允许此操作", "The room cannot move to that state.")
	}
	return nil
}

// Comment is a stored chat message.
type Comment struct {
	ID         int64     `json:"id"`
	RoomID     int64     `json:"room_id"`
	MerchantID int64     `json:"-"`
	AuthorKind string    `json:"author_kind"` // customer | staff
	AuthorID   int64     `json:"-"`
	AuthorName string    `json:"author_name"`
	Body       string    `json:"body"`
	Deleted    bool      `json:"deleted,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Pin is a moment the host pinned a product card, kept for replay jumps
// and clips; ProductID 0 is an unpin (the card was taken down).
type Pin struct {
	ProductID int64     `json:"product_id"`
	At        time.Time `json:"at"`
}

// Store persists rooms and their activity.
type Store interface {
	CreateRoom(ctx context.Context, r *Room) error
	// CreateRoomWithLineup stores the room and its lineup (when productIDs
	// is not nil) in one transaction: all or nothing.
	CreateRoomWithLineup(ctx context.Context, r *Room, productIDs []int64) error
	UpdateRoom(ctx context.Context, r *Room) error
	// UpdateRoomWithLineup saves the room and replaces its lineup (when
	// productIDs is not nil) in one transaction.
	UpdateRoomWithLineup(ctx context.Context, r *Room, productIDs []int64) error
	RoomBySlug(ctx context.Context, slug string) (*Room, error) // slugs are global: the link decides the tenant
	RoomByID(ctx context.Context, id int64) (*Room, error)      // for realtime paths that know only the public room id
	Room(ctx context.Context, merchantID, id int64) (*Room, error)
	RoomByStreamKey(ctx context.Context, key string) (*Room, error)
	ListRooms(ctx context.Context, merchantID int64) ([]Room, error)
	ListPublicRooms(ctx context.Context, limit int) ([]Room, error) // live and upcoming rooms of every merchant, for the home page
	SetLineup(ctx context.Context, merchantID, roomID int64, productIDs []int64) error
	Pin(ctx context.Context, merchantID, roomID, productID int64, at time.Time) error
	// Pins lists the room's pins and unpins (ProductID 0), oldest first.
	Pins(ctx context.Context, merchantID, roomID int64) ([]Pin, error)
	AddLikes(ctx context.Context, roomID, n int64) error

	AddComment(ctx context.Context, c *Comment) error
	DeleteComment(ctx context.Context, merchantID, roomID, id int64) error
	Comment(ctx context.Context, merchantID, roomID, id int64) (*Comment, error)
	RecentComments(ctx context.Context, roomID int64, limit int) ([]Comment, error)
}
