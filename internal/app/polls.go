package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/promotions"
)

// Polls: the host asks, viewers vote once, everyone sees the counts move.
// Opening and closing are guaranteed room events (poll.opened,
// poll.closed); counts go out as poll.results at most every 250 ms per
// poll however many people vote, like stock changes.

// pollDirty holds polls whose counts changed since the last flush.
type pollDirty struct {
	mu    sync.Mutex
	polls map[int64]*promotions.Poll // poll id -> latest counts
}

// PollInput is what the host sends.
type PollInput struct {
	Question string   `json:"question"`
	Options  []string `json:"options"`
	// ProductIDs optionally ties options to lineup products, by position.
	ProductIDs []int64 `json:"product_ids"`
	Minutes    int     `json:"minutes"` // 0: until the host closes it
}

// CreatePoll opens a poll in the room.
func (a *App) CreatePoll(ctx context.Context, p *identity.Principal, room *live.Room, in PollInput) (*promotions.Poll, error) {
	poll := &promotions.Poll{MerchantID: p.MerchantID, RoomID: room.ID, Question: in.Question, CreatedBy: p.Name}
	for i, text := range in.Options {
		o := promotions.PollOption{Text: text}
		if i < len(in.ProductIDs) {
			o.ProductID = in.ProductIDs[i]
		}
		poll.Options = append(poll.Options, o)
	}
	if err := poll.Validate(); err != nil {
		return nil, err
	}
	texts := []string{poll.Question}
	for _, o := range poll.Options {
		texts = append(texts, o.Text)
	}
	if err := a.checkRoomTexts(ctx, room, "poll", texts...); err != nil {
		return nil, err
	}
	if in.Minutes < 0 || in.Minutes > 120 {
		return nil, promotions.ErrPollDuration
	}
	if in.Minutes > 0 {
		t := a.Now().Add(time.Duration(in.Minutes) * time.Minute)
		poll.ClosesAt = &t
	}
	if err := a.Polls.CreatePoll(ctx, poll); err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "poll.open", "room:"+room.Slug, poll.Question)
	a.publish(room.Topic(), "poll.opened", map[string]any{"poll": poll})
	return poll, nil
}

// Vote counts one vote of a viewer; the room sees the new counts within 250 ms.
func (a *App) Vote(ctx context.Context, p *identity.Principal, pollID, optionID int64) (*promotions.Poll, error) {
	poll, err := a.Polls.Vote(ctx, p.MerchantID, pollID, p.SubjectID, optionID, a.Now())
	if err != nil {
		return nil, err
	}
	a.pollsDirty.mu.Lock()
	if a.pollsDirty.polls == nil {
		a.pollsDirty.polls = map[int64]*promotions.Poll{}
	}
	if old := a.pollsDirty.polls[poll.ID]; old == nil || old.Votes < poll.Votes {
		a.pollsDirty.polls[poll.ID] = poll
	}
	a.pollsDirty.mu.Unlock()
	return poll, nil
}

// ClosePoll closes a poll now (host) and shows the final counts.
func (a *App) ClosePoll(ctx context.Context, p *identity.Principal, pollID int64) (*promotions.Poll, error) {
	poll, err := a.Polls.ClosePoll(ctx, p.MerchantID, pollID, a.Now())
	if err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "poll.close", fmt.Sprintf("poll:%d", poll.ID), "")
	a.pollClosed(poll)
	return poll, nil
}

func (a *App) pollClosed(poll *promotions.Poll) {
	a.pollsDirty.mu.Lock()
	delete(a.pollsDirty.polls, poll.ID)
	a.pollsDirty.mu.Unlock()
	a.publish(live.RoomTopic(poll.RoomID), "poll.closed", map[string]any{"poll": poll})
}

// flushPolls publishes the counts of polls that got votes since the last tick.
func (a *App) flushPolls() {
	a.pollsDirty.mu.Lock()
	dirty := a.pollsDirty.polls
	a.pollsDirty.polls = nil
	a.pollsDirty.mu.Unlock()
	for _, poll := range dirty {
		a.publish(live.RoomTopic(poll.RoomID), "poll.results", map[string]any{"poll": poll})
	}
}

// closeDuePolls closes polls whose time ran out (leader only).
func (a *App) closeDuePolls(ctx context.Context) {
	if a.Polls == nil {
		return
	}
	due, err := a.Polls.DuePolls(ctx, a.Now())
	if err != nil {
		a.Logger.Error("polls: due", "err", err)
		return
	}
	for _, d := range due {
		poll, err := a.Polls.ClosePoll(ctx, d.MerchantID, d.ID, a.Now())
		if err != nil {
			a.Logger.Error("polls: close", "poll", d.ID, "err", err)
			continue
		}
		a.pollClosed(poll)
	}
}

// roomPoll is the room's open poll, or the one that closed in the last ten
// minutes (so late joiners see the result), for the room's snapshot.
func (a *App) roomPoll(ctx context.Context, r *live.Room) *promotions.Poll {
	if a.Polls == nil {
		return nil
	}
	list, err := a.Polls.RoomPolls(ctx, r.MerchantID, r.ID, 1)
	if err != nil || len(list) == 0 {
		return nil
	}
	p := list[0]
	if p.Status == promotions.PollOpen || (p.ClosedAt != nil && a.Now().Sub(*p.ClosedAt) < 10*time.Minute) {
		return &p
	}
	return nil
}
