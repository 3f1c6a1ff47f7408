package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/promotions"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractPolls: one open poll per room; 40 customers voting at once
// (each twice) are counted once each; counts per option add up; a closed
// poll takes no votes; another merchant cannot see or vote.
func TestContractPolls(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		r := &live.Room{MerchantID: s.m, Slug: "poll-room", Title: "投票"}
		must(t, s.live.CreateRoom(ctx, r))
		ps := &sqldb.PollStore{DB: db}
		later := db.Now().Add(time.Hour)
		p := &promotions.Poll{MerchantID: s.m, RoomID: r.ID, Question: "下一款出什么口味？", CreatedBy: "主播", ClosesAt: &later,
			Options: []promotions.PollOption{{Text: "桂花乌龙"}, {Text: "白桃乌龙"}}}
		must(t, p.Validate())
		must(t, ps.CreatePoll(ctx, p))
		second := &promotions.Poll{MerchantID: s.m, RoomID: r.ID, Question: "再来一个？", CreatedBy: "主播", Options: []promotions.PollOption{{Text: "好"}, {Text: "不"}}}
		if err := ps.CreatePoll(ctx, second); !errors.Is(err, promotions.ErrPollOpenOne) {
			t.Fatalf("second open poll in the room: %v", err)
		}

		var wg sync.WaitGroup
		var mu sync.Mutex
		dups := 0
		for i := range 40 {
			c, err := s.ids.UpsertCustomer(ctx, s.m, fmt.Sprintf("1390000%04d", i))
			must(t, err)
			for range 2 {
				wg.Go(func() {
					_, err := ps.Vote(ctx, s.m, p.ID, c.ID, p.Options[i%2].ID, db.Now())
					if errors.Is(err, promotions.ErrVoted) {
						mu.Lock()
						dups++
						mu.Unlock()
					} else if err != nil {
						t.Errorf("vote: %v", err)
					}
				})
			}
		}
		wg.Wait()
		got, err := ps.Poll(ctx, s.m, p.ID)
		must(t, err)
		if dups != 40 || got.Votes != 40 || got.Options[0].Votes != 20 || got.Options[1].Votes != 20 {
			t.Fatalf("after 80 votes by 40 people: %d refused, counts %d = %d + %d", dups, got.Votes, got.Options[0].Votes, got.Options[1].Votes)
		}
		if opt, _ := ps.VotedFor(ctx, p.ID, s.cust); opt != 0 {
			t.Fatalf("a customer who did not vote has option %d", opt)
		}
		if _, err := ps.Vote(ctx, s.m, p.ID, s.cust, 999999, db.Now()); !errors.Is(err, promotions.ErrPollOption) {
			t.Fatalf("unknown option: %v", err)
		}
		if _, err := ps.Vote(ctx, s.other, p.ID, s.otherCust, p.Options[0].ID, db.Now()); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("other merchant's customer voted: %v", err)
		}
		if due, _ := ps.DuePolls(ctx, later.Add(time.Second)); len(due) != 1 || due[0].ID != p.ID {
			t.Fatalf("due polls after closes_at: %+v", due)
		}
		closed, err := ps.ClosePoll(ctx, s.m, p.ID, db.Now())
		must(t, err)
		if closed.Status != promotions.PollClosed || closed.ClosedAt == nil || closed.Votes != 40 {
			t.Fatalf("closed poll %+v", closed)
		}
		if _, err := ps.Vote(ctx, s.m, p.ID, s.cust, p.Options[0].ID, db.Now()); !errors.Is(err, promotions.ErrPollClosed) {
			t.Fatalf("vote on a closed poll: %v", err)
		}
		must(t, ps.CreatePoll(ctx, second)) // the room is free again
		list, err := ps.RoomPolls(ctx, s.m, r.ID, 10)
		must(t, err)
		if len(list) != 2 || list[0].ID != second.ID || len(list[1].Options) != 2 {
			t.Fatalf("room polls %+v", list)
		}
		if other, _ := ps.RoomPolls(ctx, s.other, r.ID, 10); len(other) != 0 {
			t.Fatalf("another merchant lists our polls: %+v", other)
		}
	})
}
