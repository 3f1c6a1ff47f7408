package sqldb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/insight"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractInsightActivity: events written in batches (more than one
// multi-row statement) come back as sessions, funnel counts of distinct
// visitors, returning visitors, shares with the orders they brought,
// comments and likes per minute; another tenant's events never show.
func TestContractInsightActivity(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		ins := &sqldb.InsightStore{DB: db}
		s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 50)
		earlier := &live.Room{MerchantID: s.m, Slug: "earlier", Title: "上一场"}
		room := &live.Room{MerchantID: s.m, Slug: "tea-live", Title: "新茶"}
		must(t, s.live.CreateRoom(ctx, earlier))
		must(t, s.live.CreateRoom(ctx, room))
		must(t, s.live.SetLineup(ctx, s.m, room.ID, []int64{s.product}))
		t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		ev := func(room int64, kind insight.Kind, visitor, session string, at time.Duration) insight.Event {
			return insight.Event{MerchantID: s.m, RoomID: room, Kind: kind, Visitor: visitor, Session: session, At: t0.Add(at)}
		}
		var evs []insight.Event
		evs = append(evs, ev(earlier.ID, insight.ViewStart, "v0", "old", -48*time.Hour)) // v0 watched before: returning
		// 100 viewers: v0..v99, each one session of (i+1) seconds, all overlapping at t0+1s
		for i := 0; i < 100; i++ {
			v := fmt.Sprintf("v%d", i)
			evs = append(evs, ev(room.ID, insight.ViewStart, v, "s"+v, 0))
			end := ev(room.ID, insight.ViewEnd, v, "s"+v, time.Duration(i+1)*time.Second)
			end.Value = int64(i+1) * 1000
			evs = append(evs, end)
		}
		evs = append(evs, ev(room.ID, insight.ViewStart, "v1", "again", 200*time.Second)) // still watching: a second session of v1
		for i := 0; i < 10; i++ {
			v := fmt.Sprintf("v%d", i)
			for _, k := range []insight.Kind{insight.CardShown, insight.CardShown} { // shown twice, counted once
				e := ev(room.ID, k, v, "s"+v, time.Second)
				e.ProductID = s.product
				evs = append(evs, e)
			}
			if i < 4 {
				e := ev(room.ID, insight.CardOpen, v, "s"+v, 2*time.Second)
				e.ProductID = s.product
				evs = append(evs, e)
			}
			if i < 3 { // shown the card in the earlier live too
				e := ev(earlier.ID, insight.CardShown, v, "old"+v, -47*time.Hour)
				e.ProductID = s.product
				evs = append(evs, e)
			}
		}
		share := ev(room.ID, insight.Share, "v3", "sv3", 3*time.Second)
		share.Code = "wang01"
		likes := ev(room.ID, insight.Likes, "", "", 61*time.Second)
		likes.Value = 7
		evs = append(evs, share, share, likes)
		other := ev(room.ID, insight.CardOpen, "x", "x", time.Second) // another tenant writing to the same room id
		other.MerchantID, other.ProductID = s.other, s.product
		evs = append(evs, other)
		must(t, ins.AppendEvents(ctx, evs))

		db.Now = func() time.Time { return t0.Add(30 * time.Second) }
		o := &order.Order{MerchantID: s.m, CustomerID: s.cust, RoomID: room.ID, Fulfilment: order.Pickup, StoreID: s.store, GuideCode: "wang01", ReserveExpiresAt: t0.Add(time.Hour)}
		_, err := s.orders.Create(ctx, o, []order.Item{{SKUID: s.sku, Quantity: 2}})
		must(t, err)
		_, err = s.orders.Transition(ctx, s.m, o.ID, order.Paid)
		must(t, err)
		c := &live.Comment{RoomID: room.ID, MerchantID: s.m, AuthorKind: "customer", AuthorID: s.cust, AuthorName: "a", Body: "多少钱"}
		must(t, s.live.AddComment(ctx, c))

		a, err := ins.RoomActivity(ctx, s.m, room.ID)
		must(t, err)
		st := insight.Summarize(room.ID, a, t0.Add(300*time.Second))
		if st.Sessions != 101 || st.UniqueViewers != 100 || st.PeakViewers != 100 || st.ReturningViewers != 1 || st.NewViewers != 99 {
			t.Fatalf("viewers: %+v", st)
		}
		// watch: 1+2+…+100 s = 5050 s, plus the open session 100 s, over 100 viewers
		if st.AvgWatchSeconds != 51.5 {
			t.Fatalf("avg watch %v", st.AvgWatchSeconds)
		}
		if len(st.Products) != 1 {
			t.Fatalf("products %+v", st.Products)
		}
		p := st.Products[0]
		if p.ProductID != s.product || p.Shown != 10 || p.Opened != 4 || p.Orders != 1 || p.Paid != 1 || p.Units != 2 || p.GMVFen != o.TotalFen || p.FirstOrderAt == nil {
			t.Fatalf("funnel %+v", p)
		}
		if st.Orders != 1 || st.PaidOrders != 1 || st.Buyers != 1 || st.GMVFen != o.TotalFen || st.Conversion != 0.01 {
			t.Fatalf("orders %+v", st)
		}
		// Viewers in both arms of an A/B: the 10 of one room against itself,
		// the 3 who saw the card in both lives, nobody of another tenant's.
		for _, c := range []struct {
			merchant, roomB int64
			want            int64
		}{{s.m, room.ID, 10}, {s.m, earlier.ID, 3}, {s.other, room.ID, 0}} {
			if n, err := ins.ShownBoth(ctx, c.merchant, room.ID, s.product, c.roomB, s.product); err != nil || n != c.want {
				t.Fatalf("shown both (merchant %d, room %d): %d, want %d (%v)", c.merchant, c.roomB, n, c.want, err)
			}
		}
		if len(st.Shares) != 1 || st.Shares[0] != (insight.ShareCount{Code: "wang01", Shares: 2, Orders: 1, Paid: 1, RevenueFen: o.TotalFen}) {
			t.Fatalf("shares %+v", st.Shares)
		}
		if len(st.Comments) != 1 || st.Comments[0].N != 1 || len(st.Likes) != 1 || st.Likes[0] != (insight.Minute{At: t0.Add(time.Minute), N: 7}) {
			t.Fatalf("minutes: comments %+v likes %+v", st.Comments, st.Likes)
		}
	})
}

// TestContractCommentInsights: readings are stored once per comment; a
// host's comment about a product answers the open questions about it asked
// before (not other products', not later ones); deleted comments and staff
// comments are not counted; MarkAnswered closes one question of the room.
func TestContractCommentInsights(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		ins := &sqldb.InsightStore{DB: db}
		room := &live.Room{MerchantID: s.m, Slug: "tea-live", Title: "新茶"}
		must(t, s.live.CreateRoom(ctx, room))
		t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		comment := func(body string, staff bool) int64 {
			kind := "customer"
			if staff {
				kind = "staff"
			}
			c := &live.Comment{RoomID: room.ID, MerchantID: s.m, AuthorKind: kind, AuthorID: s.cust, AuthorName: "顾客", Body: body}
			must(t, s.live.AddComment(ctx, c))
			return c.ID
		}
		q1, q2, q3, praise, del := comment("多少钱", false), comment("甜吗", false), comment("牛奶有吗", false), comment("好吃", false), comment("贵吗", false)
		ci := func(id, product int64, in insight.Intent, sent insight.Sentiment, staff bool, at time.Duration) insight.CommentInsight {
			return insight.CommentInsight{CommentID: id, MerchantID: s.m, RoomID: room.ID, ProductID: product, Intent: in, Sentiment: sent, Staff: staff, At: t0.Add(at)}
		}
		must(t, ins.SaveCommentInsights(ctx, []insight.CommentInsight{
			ci(q1, 1, insight.AskPrice, insight.Neu, false, 0),
			ci(q2, 1, insight.AskTaste, insight.Neu, false, time.Second),
			ci(q3, 2, insight.AskStockSize, insight.Neu, false, 2*time.Second),
			ci(praise, 1, insight.Praise, insight.Pos, false, 3*time.Second),
			ci(del, 1, insight.AskPrice, insight.Neu, false, 4*time.Second),
		}))
		must(t, s.live.DeleteComment(ctx, s.m, room.ID, del))
		must(t, ins.SaveCommentInsights(ctx, []insight.CommentInsight{ci(q1, 9, insight.Spam, insight.Neg, false, 0)})) // read again: kept as first read
		open, err := ins.OpenQuestions(ctx, s.m, room.ID, 10)
		must(t, err)
		if len(open) != 3 || open[0].CommentID != q3 || open[2].CommentID != q1 || open[2].Text != "多少钱" || open[2].Author != "顾客" {
			t.Fatalf("open %+v", open)
		}
		host := comment("39块8一盒，很甜", true)
		must(t, ins.SaveCommentInsights(ctx, []insight.CommentInsight{ci(host, 1, insight.Chitchat, insight.Pos, true, 1500*time.Millisecond)}))
		open, err = ins.OpenQuestions(ctx, s.m, room.ID, 10)
		must(t, err)
		if len(open) != 1 || open[0].CommentID != q3 {
			t.Fatalf("after the host's answer about product 1: %+v", open)
		}
		must(t, ins.MarkAnswered(ctx, s.m, room.ID, q3, t0.Add(time.Minute)))
		wantCode(t, ins.MarkAnswered(ctx, s.other, room.ID, q3, t0), "not_found")
		wantCode(t, ins.MarkAnswered(ctx, s.m, room.ID, praise, t0), "not_found") // praise is no question
		open, err = ins.OpenQuestions(ctx, s.m, room.ID, 10)
		must(t, err)
		if len(open) != 0 {
			t.Fatalf("after MarkAnswered: %+v", open)
		}
		counts, err := ins.SignalCounts(ctx, s.m, room.ID)
		must(t, err)
		sc := func(p int64, in insight.Intent, se insight.Sentiment) insight.SignalCount {
			return insight.SignalCount{ProductID: p, Intent: in, Sentiment: se, N: 1}
		}
		want := []insight.SignalCount{sc(1, insight.AskPrice, insight.Neu), sc(1, insight.AskTaste, insight.Neu), sc(1, insight.Praise, insight.Pos), sc(2, insight.AskStockSize, insight.Neu)}
		if fmt.Sprint(counts) != fmt.Sprint(want) {
			t.Fatalf("counts %v, want %v", counts, want)
		}
	})
}

// TestContractProductAliases: aliases are cleaned, stored, read back and
// replaced on update; a bad list changes nothing.
func TestContractProductAliases(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		p, err := s.cat.Product(ctx, s.m, s.product)
		must(t, err)
		if p.Aliases == nil || len(p.Aliases) != 0 {
			t.Fatalf("no aliases yet: %#v", p.Aliases)
		}
		p.Aliases = []string{" 1号 ", "黄色那杯", "1号", ""}
		must(t, s.cat.UpdateProduct(ctx, p))
		got, err := s.cat.Product(ctx, s.m, s.product)
		must(t, err)
		if fmt.Sprint(got.Aliases) != "[1号 黄色那杯]" {
			t.Fatalf("aliases %q", got.Aliases)
		}
		got.Aliases = []string{"一二三四五六七八九十一二三四五六七八九十一"}
		wantCode(t, s.cat.UpdateProduct(ctx, got), "invalid_alias")
		again, err := s.cat.Product(ctx, s.m, s.product)
		must(t, err)
		if fmt.Sprint(again.Aliases) != "[1号 黄色那杯]" {
			t.Fatalf("after a refused update: %q", again.Aliases)
		}
	})
}
