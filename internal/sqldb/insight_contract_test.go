package sqldb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/catalog"
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
			if asked, bought, err := ins.PairedOutcomes(ctx, c.merchant, room.ID, s.product, c.roomB, s.product); err != nil || asked.Viewers() != c.want || bought.Viewers() != c.want {
				t.Fatalf("shown both (merchant %d, room %d): %+v %+v, want %d viewers (%v)", c.merchant, c.roomB, asked, bought, c.want, err)
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

// TestContractInsightPairs: the A/B pairs of one live. Each viewer shown
// both cards falls in one cell per metric, by what the customers their
// events were sent as asked (question comments) and paid for (an unpaid
// order is no purchase) about each product in the room; a viewer never
// logged in is "neither"; a viewer shown one card, a customer tied to no
// viewer and another tenant's events are in no table.
func TestContractInsightPairs(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		ins := &sqldb.InsightStore{DB: db}
		pb := &catalog.Product{MerchantID: s.m, Name: "蓝莓 Blueberries", Storage: catalog.Chilled, Active: true,
			SKUs: []catalog.SKU{{Code: "farm-bb", Name: "125g", PriceFen: 1990, Active: true}}}
		must(t, s.cat.CreateProduct(ctx, pb))
		skuB := pb.SKUs[0].ID
		s.lot(t, s.m, s.sku, s.store, "LA", 48*time.Hour, 50)
		s.lot(t, s.m, skuB, s.store, "LB", 48*time.Hour, 50)
		room := &live.Room{MerchantID: s.m, Slug: "berries", Title: "莓果双拼"}
		must(t, s.live.CreateRoom(ctx, room))
		must(t, s.live.SetLineup(ctx, s.m, room.ID, []int64{s.product, pb.ID}))
		cust := map[string]int64{}
		for i, name := range []string{"c1", "c2", "c3", "c4", "c5"} {
			c, err := s.ids.UpsertCustomer(ctx, s.m, fmt.Sprintf("1390000000%d", i))
			must(t, err)
			cust[name] = c.ID
		}
		t0 := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return t0 }
		var evs []insight.Event
		ev := func(visitor string, kind insight.Kind, product int64, customer string) {
			evs = append(evs, insight.Event{MerchantID: s.m, RoomID: room.ID, Kind: kind, Visitor: visitor, ProductID: product, CustomerID: cust[customer], At: t0})
		}
		for _, v := range []string{"v1", "v2", "v3", "v4"} {
			ev(v, insight.CardShown, s.product, "")
			ev(v, insight.CardShown, pb.ID, "")
		}
		ev("v1", insight.CardOpen, s.product, "c1") // logged in later: the checkout sheet
		ev("v2", insight.Checkout, pb.ID, "c2")
		ev("v3", insight.CardOpen, pb.ID, "c3")
		ev("v5", insight.CardShown, s.product, "c5") // shown A only: no pair
		rival := insight.Event{MerchantID: s.other, RoomID: room.ID, Kind: insight.CardOpen, Visitor: "v4", ProductID: s.product, CustomerID: s.otherCust, At: t0}
		must(t, ins.AppendEvents(ctx, append(evs, rival)))

		ask := func(customer string, product int64, intent insight.Intent) {
			c := &live.Comment{RoomID: room.ID, MerchantID: s.m, AuthorKind: "customer", AuthorID: cust[customer], AuthorName: customer, Body: "多少钱"}
			must(t, s.live.AddComment(ctx, c))
			must(t, ins.SaveCommentInsights(ctx, []insight.CommentInsight{{CommentID: c.ID, MerchantID: s.m, RoomID: room.ID, ProductID: product,
				Intent: intent, Sentiment: insight.Neu, At: t0}}))
		}
		ask("c1", s.product, insight.AskPrice)
		ask("c1", pb.ID, insight.Praise) // praise is no question
		ask("c2", pb.ID, insight.AskTaste)
		ask("c3", s.product, insight.AskPrice)
		ask("c3", pb.ID, insight.AskStockSize)
		ask("c4", pb.ID, insight.AskPrice) // tied to no viewer
		ask("c5", s.product, insight.AskPrice)
		buy := func(customer string, sku int64, paid bool) {
			o := &order.Order{MerchantID: s.m, CustomerID: cust[customer], RoomID: room.ID, Fulfilment: order.Pickup, StoreID: s.store, ReserveExpiresAt: t0.Add(time.Hour)}
			_, err := s.orders.Create(ctx, o, []order.Item{{SKUID: sku, Quantity: 1}})
			must(t, err)
			if paid {
				_, err = s.orders.Transition(ctx, s.m, o.ID, order.Paid)
				must(t, err)
			}
		}
		buy("c1", s.sku, true)
		buy("c1", skuB, true)
		buy("c2", skuB, true)
		buy("c2", s.sku, false) // not paid
		buy("c5", s.sku, true)

		asked, bought, err := ins.PairedOutcomes(ctx, s.m, room.ID, s.product, room.ID, pb.ID)
		must(t, err)
		if asked != (insight.Pairs{AOnly: 1, BOnly: 1, Both: 1, Neither: 1}) || bought != (insight.Pairs{BOnly: 1, Both: 1, Neither: 2}) {
			t.Fatalf("pairs: asked %+v, bought %+v", asked, bought)
		}
		// B against A: the discordant cells swap.
		asked, bought, err = ins.PairedOutcomes(ctx, s.m, room.ID, pb.ID, room.ID, s.product)
		must(t, err)
		if asked != (insight.Pairs{AOnly: 1, BOnly: 1, Both: 1, Neither: 1}) || bought != (insight.Pairs{AOnly: 1, Both: 1, Neither: 2}) {
			t.Fatalf("swapped: asked %+v, bought %+v", asked, bought)
		}
		if asked, bought, err := ins.PairedOutcomes(ctx, s.other, room.ID, s.product, room.ID, pb.ID); err != nil || asked.Viewers()+bought.Viewers() != 0 {
			t.Fatalf("another tenant: %+v %+v (%v)", asked, bought, err)
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
