package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/clips"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractClips: unpins are kept as pins of product 0, so a room's
// pins give each product's span; clips are made once per pin (a second
// EnsureClips keeps staff's changes), cut results are kept only for
// pending clips, another shop sees none of them.
func TestContractClips(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		cs := &sqldb.ClipStore{DB: db}
		r := &live.Room{MerchantID: s.m, Slug: "clip-live", Title: "剪辑直播", HostName: "小王", StreamKey: "sk_clip"}
		must(t, s.live.CreateRoom(ctx, r))
		t0 := db.Now().Truncate(time.Millisecond)
		must(t, s.live.Pin(ctx, s.m, r.ID, s.product, t0))
		must(t, s.live.Pin(ctx, s.m, r.ID, 0, t0.Add(20*time.Second)))
		pins, err := s.live.Pins(ctx, s.m, r.ID)
		must(t, err)
		if len(pins) != 2 || pins[1].ProductID != 0 || !pins[1].At.Equal(t0.Add(20*time.Second)) {
			t.Fatalf("pins with an unpin: %+v", pins)
		}
		spans := clips.Spans(pins, time.Time{})
		if len(spans) != 1 || !spans[0].From.Equal(t0.Add(-clips.Lead)) || !spans[0].To.Equal(t0.Add(20*time.Second)) {
			t.Fatalf("spans %+v", spans)
		}
		got, err := cs.EnsureClips(ctx, s.m, r.ID, spans, false)
		must(t, err)
		if len(got) != 1 || got[0].Status != clips.Pending || got[0].ProductID != s.product || got[0].RoomSlug != "clip-live" {
			t.Fatalf("ensured %+v", got)
		}
		id := got[0].ID
		_, err = cs.EnsureClips(ctx, s.other, r.ID, spans, false)
		wantCode(t, err, "not_found")
		pend, err := cs.PendingClips(ctx, 10)
		must(t, err)
		if len(pend) != 1 || pend[0].ID != id {
			t.Fatalf("pending %+v", pend)
		}
		m := clips.Media{Start: t0.Add(-3500 * time.Millisecond), DurationMS: 23500, Bytes: 12345, VideoCodec: "h264", Width: 640, Height: 360, AudioCodec: "aac"}
		wantCode(t, cs.FinishClip(ctx, s.other, id, clips.Ready, m, ""), "not_found")
		must(t, cs.FinishClip(ctx, s.m, id, clips.Ready, m, ""))
		wantCode(t, cs.FinishClip(ctx, s.m, id, clips.Failed, clips.Media{}, "late"), "not_found") // ready stays ready
		c, err := cs.ClipByID(ctx, id)
		must(t, err)
		if !c.Public() || c.Key != clips.Key(s.m, id) || c.DurationMS != 23500 || c.Width != 640 || !c.Start.Equal(m.Start) {
			t.Fatalf("ready clip %+v", c)
		}
		title := "  草莓怎么挑  "
		hide := true
		c, err = cs.UpdateClip(ctx, s.m, id, clips.Update{Title: &title, Hidden: &hide})
		must(t, err)
		if c.Title != "草莓怎么挑" || !c.Hidden || c.Public() {
			t.Fatalf("updated %+v", c)
		}
		_, err = cs.UpdateClip(ctx, s.other, id, clips.Update{Hidden: &hide})
		wantCode(t, err, "not_found")
		long := "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一"
		_, err = cs.UpdateClip(ctx, s.m, id, clips.Update{Title: &long})
		wantCode(t, err, "invalid_clip_title")
		// a second pass (after the live) keeps the clip as staff left it
		again, err := cs.EnsureClips(ctx, s.m, r.ID, spans, true)
		must(t, err)
		if len(again) != 1 || again[0].ID != id || again[0].Title != "草莓怎么挑" || again[0].Status != clips.Ready {
			t.Fatalf("ensured again %+v", again)
		}
		// a failed clip is queued again only on retry
		must(t, s.live.Pin(ctx, s.m, r.ID, s.product, t0.Add(30*time.Second)))
		pins, _ = s.live.Pins(ctx, s.m, r.ID)
		spans = clips.Spans(pins, t0.Add(40*time.Second))
		all, err := cs.EnsureClips(ctx, s.m, r.ID, spans, false)
		must(t, err)
		if len(all) != 2 || all[1].Status != clips.Pending {
			t.Fatalf("second pin %+v", all)
		}
		must(t, cs.FinishClip(ctx, s.m, all[1].ID, clips.Failed, clips.Media{}, "no recording"))
		all, _ = cs.EnsureClips(ctx, s.m, r.ID, spans, false)
		if all[1].Status != clips.Failed || all[1].Error != "no recording" {
			t.Fatalf("failed clip without retry %+v", all[1])
		}
		all, _ = cs.EnsureClips(ctx, s.m, r.ID, spans, true)
		if all[1].Status != clips.Pending {
			t.Fatalf("failed clip after retry %+v", all[1])
		}
		for name, list := range map[string]func() ([]clips.Clip, error){
			"product": func() ([]clips.Clip, error) { return cs.ProductClips(ctx, s.m, s.product) },
			"list":    func() ([]clips.Clip, error) { return cs.ListClips(ctx, s.m, 10) },
		} {
			l, err := list()
			must(t, err)
			if len(l) != 2 || l[0].ID != all[1].ID {
				t.Fatalf("%s: %+v", name, l)
			}
		}
		if l, _ := cs.ListClips(ctx, s.other, 10); len(l) != 0 {
			t.Fatalf("other shop sees clips %+v", l)
		}
		_, err = cs.Clip(ctx, s.other, id)
		wantCode(t, err, "not_found")
	})
}
