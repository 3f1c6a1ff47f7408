package sqldb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/moderation"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractModeration: word lists replace as a whole and stay per
// merchant; a mute holds in its room only, a ban in every room of the
// merchant, each until it expires or is lifted; reports are one per viewer
// and comment and are settled together; nothing crosses tenants.
func TestContractModeration(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		ms := &sqldb.ModerationStore{DB: db}
		now := db.Now()

		// Word lists.
		must(t, ms.SetWords(ctx, s.m, []moderation.Word{{Term: "私聊"}, {Term: "傻", Action: "mask"}, {Term: "私 聊"}}))
		words, err := ms.Words(ctx, s.m)
		must(t, err)
		if len(words) != 2 || words[0].Term != "傻" || words[0].Action != "mask" || words[1] != (moderation.Word{Term: "私聊", Action: "block"}) {
			t.Fatalf("words %+v", words)
		}
		if other, _ := ms.Words(ctx, s.other); len(other) != 0 {
			t.Fatalf("the other merchant sees words %+v", other)
		}
		if err := ms.SetWords(ctx, s.m, []moderation.Word{{Term: "ok"}, {Term: "x", Action: "delete"}}); !errors.Is(err, moderation.ErrInvalidWord) {
			t.Fatalf("bad action: %v", err)
		}
		if words, _ := ms.Words(ctx, s.m); len(words) != 2 {
			t.Fatalf("a refused save changed the list: %+v", words)
		}

		// Restrictions.
		roomA := &live.Room{MerchantID: s.m, Slug: "room-a", Title: "A", Status: live.Scheduled, StreamKey: "ka"}
		roomB := &live.Room{MerchantID: s.m, Slug: "room-b", Title: "B", Status: live.Scheduled, StreamKey: "kb"}
		rival := &live.Room{MerchantID: s.other, Slug: "room-r", Title: "R", Status: live.Scheduled, StreamKey: "kr"}
		for _, r := range []*live.Room{roomA, roomB, rival} {
			must(t, s.live.CreateRoom(ctx, r))
		}
		until := now.Add(10 * time.Minute)
		mute := &moderation.Restriction{MerchantID: s.m, CustomerID: s.cust, CustomerName: "顾客", RoomID: roomA.ID, Scope: moderation.ScopeRoom, Until: &until, By: "场控"}
		must(t, ms.Restrict(ctx, mute))
		got, err := ms.Restricted(ctx, s.m, roomA.ID, s.cust, now)
		must(t, err)
		if got == nil || got.ID != mute.ID || got.RoomSlug != "room-a" || got.Until == nil || !got.Until.Equal(until.Truncate(time.Millisecond)) {
			t.Fatalf("restricted in room A: %+v", got)
		}
		if got, _ := ms.Restricted(ctx, s.m, roomB.ID, s.cust, now); got != nil {
			t.Fatalf("a room mute holds in room B: %+v", got)
		}
		if got, _ := ms.Restricted(ctx, s.m, roomA.ID, s.cust, until.Add(time.Second)); got != nil {
			t.Fatalf("an expired mute holds: %+v", got)
		}
		// another tenant's customer or room: not found, nothing stored
		wantCode(t, ms.Restrict(ctx, &moderation.Restriction{MerchantID: s.m, CustomerID: s.otherCust, RoomID: roomA.ID, Scope: moderation.ScopeRoom}), "not_found")
		wantCode(t, ms.Restrict(ctx, &moderation.Restriction{MerchantID: s.m, CustomerID: s.cust, RoomID: rival.ID, Scope: moderation.ScopeRoom}), "not_found")

		ban := &moderation.Restriction{MerchantID: s.m, CustomerID: s.cust, RoomID: roomA.ID, Scope: moderation.ScopeMerchant, Reason: "刷屏", By: "店主"}
		must(t, ms.Restrict(ctx, ban))
		if ban.RoomID != 0 {
			t.Fatal("a ban kept its room")
		}
		for _, room := range []int64{roomA.ID, roomB.ID} {
			got, err := ms.Restricted(ctx, s.m, room, s.cust, until.Add(time.Hour))
			must(t, err)
			if got == nil || got.ID != ban.ID || got.Scope != moderation.ScopeMerchant || got.Until != nil {
				t.Fatalf("ban in room %d: %+v", room, got)
			}
		}
		if got, _ := ms.Restricted(ctx, s.other, rival.ID, s.cust, now); got != nil {
			t.Fatal("a ban crossed to another merchant")
		}
		active, err := ms.Restrictions(ctx, s.m, true, now)
		must(t, err)
		if len(active) != 2 || active[0].ID != ban.ID {
			t.Fatalf("active %+v", active)
		}
		if _, err := ms.Lift(ctx, s.other, ban.ID, "别家", now); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("another merchant lifted the ban: %v", err)
		}
		lifted, err := ms.Lift(ctx, s.m, ban.ID, "店主", now)
		must(t, err)
		if lifted.LiftedAt == nil || lifted.LiftedBy != "店主" {
			t.Fatalf("lifted %+v", lifted)
		}
		again, err := ms.Lift(ctx, s.m, ban.ID, "别人", now.Add(time.Minute))
		must(t, err)
		if again.LiftedBy != "店主" || !again.LiftedAt.Equal(*lifted.LiftedAt) {
			t.Fatalf("a second lift changed the first: %+v", again)
		}
		if got, _ := ms.Restricted(ctx, s.m, roomB.ID, s.cust, now); got != nil {
			t.Fatalf("lifted ban holds: %+v", got)
		}
		all, err := ms.Restrictions(ctx, s.m, false, now)
		must(t, err)
		if active, _ := ms.Restrictions(ctx, s.m, true, now); len(all) != 2 || len(active) != 1 {
			t.Fatalf("all %d, active %d", len(all), len(active))
		}

		// Reports.
		c := &live.Comment{RoomID: roomA.ID, MerchantID: s.m, AuthorKind: "customer", AuthorID: s.cust, AuthorName: "顾客", Body: "加我私聊"}
		must(t, s.live.AddComment(ctx, c))
		r2, err := s.ids.UpsertCustomer(ctx, s.m, "13800000002")
		must(t, err)
		rep1 := &moderation.Report{MerchantID: s.m, RoomID: roomA.ID, CommentID: c.ID, ReporterID: s.cust, Reason: "spam"}
		rep2 := &moderation.Report{MerchantID: s.m, RoomID: roomA.ID, CommentID: c.ID, ReporterID: r2.ID, Reason: "contact", Note: "留联系方式"}
		must(t, ms.AddReport(ctx, rep1))
		must(t, ms.AddReport(ctx, rep2))
		dup := &moderation.Report{MerchantID: s.m, RoomID: roomA.ID, CommentID: c.ID, ReporterID: s.cust, Reason: "abuse"}
		if err := ms.AddReport(ctx, dup); !errors.Is(err, moderation.ErrAlreadyReported) {
			t.Fatalf("second report by the same viewer: %v", err)
		}
		wantCode(t, ms.AddReport(ctx, &moderation.Report{MerchantID: s.other, RoomID: roomA.ID, CommentID: c.ID, ReporterID: s.otherCust, Reason: "spam"}), "not_found")
		open, err := ms.Reports(ctx, s.m, moderation.ReportOpen, 10)
		must(t, err)
		if len(open) != 2 || open[0].ID != rep2.ID || open[0].ReportsCount != 2 || open[0].CommentBody != "加我私聊" || open[0].RoomSlug != "room-a" {
			t.Fatalf("open reports %+v", open)
		}
		if _, err := ms.DecideReports(ctx, s.m, rep1.ID, "maybe", "场控", now); !errors.Is(err, moderation.ErrInvalidDecision) {
			t.Fatalf("bad decision: %v", err)
		}
		if _, err := ms.DecideReports(ctx, s.other, rep1.ID, moderation.ReportUpheld, "别家", now); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("another merchant settled a report: %v", err)
		}
		dec, err := ms.DecideReports(ctx, s.m, rep1.ID, moderation.ReportUpheld, "场控", now)
		must(t, err)
		if dec.Status != moderation.ReportUpheld || dec.DecidedBy != "场控" || dec.DecidedAt == nil {
			t.Fatalf("decided %+v", dec)
		}
		if open, _ := ms.Reports(ctx, s.m, moderation.ReportOpen, 10); len(open) != 0 {
			t.Fatalf("the comment's other report stayed open: %+v", open)
		}
		if up, _ := ms.Reports(ctx, s.m, moderation.ReportUpheld, 10); len(up) != 2 {
			t.Fatalf("upheld %+v", up)
		}
	})
}
