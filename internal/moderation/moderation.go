// Package moderation keeps a merchant's comments clean: word lists of its
// own (imported and exported as text or CSV), spam signals (contact
// details: phone numbers and WeChat IDs), viewers' reports of comments,
// and restrictions — a mute in one room or a ban across the merchant's
// rooms, each with an optional expiry. The comment filter that every room
// shares (length, invisible characters, links, repeats, floods, the default
// words) is live.Moderator; app.PostComment runs both.
package moderation

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Scope of a restriction.
const (
	ScopeRoom     = "room"     // a mute: the viewer cannot comment in one room
	ScopeMerchant = "merchant" // a ban: in none of the merchant's rooms
)

// Restriction keeps a viewer from commenting, in one room (RoomID) or in
// every room of the merchant (RoomID 0), until Until (nil: until lifted).
type Restriction struct {
	ID           int64      `json:"id"`
	MerchantID   int64      `json:"-"`
	CustomerID   int64      `json:"customer_id"`
	CustomerName string     `json:"customer_name"`
	RoomID       int64      `json:"room_id,omitempty"`
	RoomSlug     string     `json:"room_slug,omitempty"`
	Scope        string     `json:"scope"`
	Until        *time.Time `json:"until,omitempty"`
	Reason       string     `json:"reason"`
	By           string     `json:"by"`
	CreatedAt    time.Time  `json:"created_at"`
	LiftedAt     *time.Time `json:"lifted_at,omitempty"`
	LiftedBy     string     `json:"lifted_by,omitempty"`
}

// Active says whether r still keeps the viewer quiet at now.
func (r *Restriction) Active(now time.Time) bool {
	return r.LiftedAt == nil && (r.Until == nil || now.Before(*r.Until))
}

// MaxMinutes bounds a timed restriction (30 days); longer is "until lifted".
const MaxMinutes = 30 * 24 * 60

// Validate checks a restriction before it is stored.
func (r *Restriction) Validate() error {
	switch {
	case r.Scope == ScopeRoom && r.RoomID <= 0:
		return apperr.ErrInvalidScope.With("禁言须指定直播间", "A mute names a room.")
	case r.Scope == ScopeMerchant:
		r.RoomID = 0
	case r.Scope != ScopeRoom:
		return apperr.ErrInvalidScope.With("范围须为 room 或 merchant", "scope must be room or merchant.")
	}
	if r.CustomerID <= 0 {
		return apperr.ErrNotFound
	}
	if utf8.RuneCountInString(r.Reason) > 200 {
		return ErrReasonTooLong
	}
	return nil
}

// Report reasons a viewer may give.
var ReportReasons = []string{"spam", "abuse", "contact", "fraud", "other"}

// Report statuses.
const (
	ReportOpen      = "open"
	ReportUpheld    = "upheld"    // the comment was removed
	ReportDismissed = "dismissed" // nothing wrong with it
)

// Report is a viewer's report of a comment, one per viewer and comment.
type Report struct {
	ID           int64      `json:"id"`
	MerchantID   int64      `json:"-"`
	RoomID       int64      `json:"room_id"`
	RoomSlug     string     `json:"room_slug,omitempty"`
	CommentID    int64      `json:"comment_id"`
	CommentBody  string     `json:"comment_body"`
	AuthorID     int64      `json:"author_id"`
	AuthorName   string     `json:"author_name"`
	ReporterID   int64      `json:"-"`
	Reason       string     `json:"reason"`
	Note         string     `json:"note,omitempty"`
	Status       string     `json:"status"`
	CreatedAt    time.Time  `json:"created_at"`
	DecidedBy    string     `json:"decided_by,omitempty"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	ReportsCount int        `json:"reports"` // open reports of the same comment (lists only)
}

// Validate checks a viewer's report.
func (r *Report) Validate() error {
	ok := false
	for _, x := range ReportReasons {
		ok = ok || x == r.Reason
	}
	if !ok {
		return ErrInvalidReason
	}
	r.Note = strings.TrimSpace(r.Note)
	if utf8.RuneCountInString(r.Note) > 200 {
		return ErrReasonTooLong.At("note")
	}
	return nil
}

// Errors of the moderation domain.
var (
	ErrInvalidReason       = apperr.InvalidField("reason", "invalid_report_reason", "举报理由须为 spam、abuse、contact、fraud 或 other", "reason must be spam, abuse, contact, fraud or other.")
	ErrReasonTooLong       = apperr.ErrReasonTooLong.With("说明最多200字", "At most 200 characters.")
	ErrAlreadyReported     = apperr.New(apperr.Conflict, "already_reported", "你已举报过这条评论", "You have already reported this comment.")
	ErrInvalidMinutes      = apperr.InvalidField("minutes", "invalid_minutes", "时长须为 0（直到解除）到 43200 分钟", "minutes must be 0 (until lifted) to 43200.")
	ErrInvalidDecision     = apperr.ErrInvalidDecision.With("处理结果须为 uphold 或 dismiss", "decision must be uphold or dismiss.")
	ErrCannotRestrictStaff = apperr.New(apperr.Conflict, "cannot_ban_staff", "不能禁言员工", "Staff cannot be muted.")
	ErrContact             = apperr.InvalidField("text", "comment_contact", "评论中不能留手机号或微信号，请在直播间内下单", "Phone numbers and WeChat IDs are not allowed in comments; order in the room.")
	ErrCannotReportOwn     = apperr.New(apperr.Conflict, "cannot_report_own", "不能举报自己的评论", "You cannot report your own comment.")
)

// Store keeps word lists, restrictions and reports, each scoped by merchant.
type Store interface {
	// Words returns the merchant's word list, sorted by term.
	Words(ctx context.Context, merchantID int64) ([]Word, error)
	// SetWords replaces the merchant's word list in one transaction.
	SetWords(ctx context.Context, merchantID int64, words []Word) error

	// Restrict stores a restriction (its customer must be the merchant's;
	// its room, for a mute, too: otherwise not_found).
	Restrict(ctx context.Context, r *Restriction) error
	// Lift ends a restriction now; lifting a lifted one changes nothing.
	Lift(ctx context.Context, merchantID, id int64, by string, now time.Time) (*Restriction, error)
	// Restricted returns the restriction that keeps the customer from
	// commenting in the room at now (a merchant-wide ban first), or nil.
	Restricted(ctx context.Context, merchantID, roomID, customerID int64, now time.Time) (*Restriction, error)
	// Restrictions lists the merchant's restrictions, newest first; with
	// activeOnly just those in force at now.
	Restrictions(ctx context.Context, merchantID int64, activeOnly bool, now time.Time) ([]Restriction, error)

	// AddReport stores a report; a second one by the same viewer of the
	// same comment is ErrAlreadyReported.
	AddReport(ctx context.Context, r *Report) error
	// Reports lists the merchant's reports with a status ("" for all),
	// newest first.
	Reports(ctx context.Context, merchantID int64, status string, limit int) ([]Report, error)
	// DecideReports sets the status (ReportUpheld or ReportDismissed, else
	// ErrInvalidDecision) of every open report of the comment the report
	// names, and returns that report.
	DecideReports(ctx context.Context, merchantID, reportID int64, status, by string, now time.Time) (*Report, error)
}
