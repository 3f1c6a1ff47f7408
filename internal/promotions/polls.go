// Package promotions holds what a host runs in the room to move goods and
// hear the audience: polls today ("which flavour next?"); coupons and
// draws belong here too. Types and rules only; sqldb stores them, app
// runs them and tells the room.
package promotions

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
)

// PollStatus of a poll.
type PollStatus string

const (
	PollOpen   PollStatus = "open"
	PollClosed PollStatus = "closed"
)

// Poll is one question the host asks the room; each viewer votes once.
// Results are kept after it closes (insight and co-creation read them).
type Poll struct {
	ID         int64        `json:"id"`
	MerchantID int64        `json:"-"`
	RoomID     int64        `json:"room_id"`
	Question   string       `json:"question"`
	Options    []PollOption `json:"options"`
	Status     PollStatus   `json:"status"`
	Votes      int64        `json:"votes"` // total
	CreatedBy  string       `json:"created_by"`
	CreatedAt  time.Time    `json:"created_at"`
	ClosesAt   *time.Time   `json:"closes_at,omitempty"` // closes by itself then (nil: when the host closes it)
	ClosedAt   *time.Time   `json:"closed_at,omitempty"`
}

// PollOption is one answer, optionally a product of the lineup.
type PollOption struct {
	ID        int64  `json:"id"`
	Text      string `json:"text"`
	ProductID int64  `json:"product_id,omitempty"`
	Votes     int64  `json:"votes"`
}

// Errors, one per code.
var (
	ErrPollQuestion = apperr.InvalidField("question", "poll_question_invalid", "问题须为 1–80 个字", "The question must be 1–80 characters.")
	ErrPollOptions  = apperr.InvalidField("options", "poll_options_invalid", "请给出 2–6 个不重复的选项，每个 1–30 个字", "Give 2–6 different options of 1–30 characters each.")
	ErrPollDuration = apperr.InvalidField("minutes", "poll_duration_invalid", "投票时长须为 1–120 分钟", "A poll runs 1–120 minutes.")
	ErrPollClosed   = apperr.New(apperr.Conflict, "poll_closed", "投票已结束", "This poll has closed.")
	ErrPollOpenOne  = apperr.New(apperr.Conflict, "poll_already_open", "直播间已有进行中的投票，请先结束它", "The room already has an open poll; close it first.")
	ErrVoted        = apperr.New(apperr.Conflict, "poll_already_voted", "您已经投过票了", "You have already voted.")
	ErrPollOption   = apperr.InvalidField("option_id", "poll_option_unknown", "没有这个选项", "No such option.")
)

// Validate checks a new poll and tidies its text.
func (p *Poll) Validate() error {
	p.Question = strings.TrimSpace(p.Question)
	if n := utf8.RuneCountInString(p.Question); n == 0 || n > 80 {
		return ErrPollQuestion
	}
	if len(p.Options) < 2 || len(p.Options) > 6 {
		return ErrPollOptions
	}
	seen := map[string]bool{}
	for i := range p.Options {
		o := &p.Options[i]
		o.Text = strings.TrimSpace(o.Text)
		if n := utf8.RuneCountInString(o.Text); n == 0 || n > 30 || seen[o.Text] {
			return ErrPollOptions
		}
		seen[o.Text] = true
		o.Votes = 0
	}
	return nil
}

// IsOpen reports whether votes are taken at now.
func (p *Poll) IsOpen(now time.Time) bool {
	return p.Status == PollOpen && (p.ClosesAt == nil || now.Before(*p.ClosesAt))
}

// Leader is the option with the most votes (the first on a tie), nil
// before any vote.
func (p *Poll) Leader() *PollOption {
	var best *PollOption
	for i := range p.Options {
		if p.Options[i].Votes > 0 && (best == nil || p.Options[i].Votes > best.Votes) {
			best = &p.Options[i]
		}
	}
	return best
}

// PollStore keeps polls and votes.
type PollStore interface {
	// CreatePoll stores an open poll; a room has at most one open poll (ErrPollOpenOne).
	CreatePoll(ctx context.Context, p *Poll) error
	Poll(ctx context.Context, merchantID, id int64) (*Poll, error)
	// RoomPolls lists a room's polls, newest first.
	RoomPolls(ctx context.Context, merchantID, roomID int64, limit int) ([]Poll, error)
	// Vote records one vote per customer per poll and counts it, in one
	// transaction; a second vote is ErrVoted, a closed poll ErrPollClosed.
	Vote(ctx context.Context, merchantID, pollID, customerID, optionID int64, now time.Time) (*Poll, error)
	// ClosePoll closes an open poll (no-op when already closed).
	ClosePoll(ctx context.Context, merchantID, id int64, now time.Time) (*Poll, error)
	// DuePolls lists open polls whose closing time passed.
	DuePolls(ctx context.Context, now time.Time) ([]Poll, error)
	// VotedFor returns the option a customer chose, 0 if none.
	VotedFor(ctx context.Context, pollID, customerID int64) (int64, error)
}
