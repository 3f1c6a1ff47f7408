// Package notify brings viewers back: a viewer subscribes (预约) to a
// scheduled live, and gets a reminder in their in-app inbox shortly before
// it starts and when it starts — exactly once per viewer, live and kind,
// however many nodes run the job (the inbox's unique key is the rule).
//
// Channels beyond the inbox (Web Push, SMS, WeChat subscribe and template
// messages: channels.go) are deliveries queued with the inbox message.
package notify

import (
	"context"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Lead is how long before a scheduled start the first reminder goes out.
const Lead = 15 * time.Minute

// Message is one entry of a viewer's inbox.
type Message struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"` // live.soon | live.started
	RoomID    int64      `json:"room_id,omitempty"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	BodyEN    string     `json:"body_en,omitempty"`
	URL       string     `json:"url"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

// Kinds of reminders.
const (
	KindSoon    = "live.soon"
	KindStarted = "live.started"
)

// Subscription is a live the viewer subscribed to, as 我的 lists it.
type Subscription struct {
	RoomID      int64      `json:"room_id"`
	Slug        string     `json:"slug"`
	Title       string     `json:"title"`
	Status      string     `json:"status"`
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

// Errors, one per code.
var (
	ErrNotScheduled = apperr.New(apperr.Conflict, "room_not_scheduled", "只能预约尚未开始的直播", "You can only subscribe to a live that has not started.")
)

// Store keeps subscriptions and inboxes.
type Store interface {
	// Subscribe records that the customer wants reminders of the room (idempotent).
	Subscribe(ctx context.Context, merchantID, roomID, customerID int64) error
	Unsubscribe(ctx context.Context, merchantID, roomID, customerID int64) error
	Subscribed(ctx context.Context, roomID, customerID int64) (bool, error)
	Subscribers(ctx context.Context, merchantID, roomID int64) (int64, error)
	// Subscriptions lists the customer's subscriptions, latest start first.
	Subscriptions(ctx context.Context, merchantID, customerID int64) ([]Subscription, error)
	// RemindSoon writes a live.soon message for every subscriber of every
	// scheduled room starting within lead of now (and not more than an hour
	// late); RemindStarted a live.started message for every subscriber of
	// the rooms that went live since `since`. Both are idempotent per
	// (customer, room, kind) and return how many messages they wrote.
	RemindSoon(ctx context.Context, now time.Time, lead time.Duration) (int64, error)
	RemindStarted(ctx context.Context, now, since time.Time) (int64, error)
	Inbox(ctx context.Context, merchantID, customerID int64, limit int) ([]Message, int64, error)
	MarkRead(ctx context.Context, merchantID, customerID int64, now time.Time) error
}
