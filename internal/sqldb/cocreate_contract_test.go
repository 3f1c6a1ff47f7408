package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/cocreate"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/presale"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractCocreateVotes: one vote per person per option group under
// concurrency, on both databases.
//
//  1. 30 fans each vote twice at once for the same flavour and once for a
//     size: 30 votes in each group, split as sent.
//  2. The first 12 change their flavour, all at once: the counts move
//     (the last choice counts), the group still has 30.
//  3. 10 fans send both sizes at once: each ends with exactly one size,
//     the size group still has 30 and its options add up.
//
// Then: an option of another draft or an unknown one is refused; another
// shop's customer cannot vote; a closed draft takes no vote; the winner
// is the leading option of each group.
func TestContractCocreateVotes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		cs := &sqldb.CocreateStore{DB: db}
		d := &cocreate.Draft{MerchantID: s.m, Name: "青稞冲饮粉", Story: "高原青稞，和工厂一起做成冲饮粉", Origin: "青海海北", CreatedBy: "owner",
			Groups: []cocreate.OptionGroup{
				{Name: "口味", Options: []cocreate.Option{{Text: "原味"}, {Text: "红枣"}, {Text: "黑芝麻"}}},
				{Name: "规格", Options: []cocreate.Option{{Text: "500g"}, {Text: "30g×10 条"}}}}}
		must(t, d.Validate(db.Now()))
		must(t, cs.CreateDraft(ctx, d))
		other := &cocreate.Draft{MerchantID: s.m, Name: "另一个", CreatedBy: "owner", Groups: []cocreate.OptionGroup{{Name: "包装", Options: []cocreate.Option{{Text: "袋装"}, {Text: "罐装"}}}}}
		must(t, other.Validate(db.Now()))
		must(t, cs.CreateDraft(ctx, other))
		flavour, size := d.Groups[0].Options, d.Groups[1].Options

		const n = 30
		fans := make([]int64, n)
		for i := range fans {
			c, err := s.ids.UpsertCustomer(ctx, s.m, fmt.Sprintf("1390001%04d", i))
			must(t, err)
			fans[i] = c.ID
		}
		vote := func(wg *sync.WaitGroup, cust, opt int64) {
			wg.Go(func() {
				if _, err := cs.Vote(ctx, s.m, d.ID, cust, opt, db.Now()); err != nil {
					t.Errorf("vote %d by %d: %v", opt, cust, err)
				}
			})
		}
		var wg sync.WaitGroup
		for i, c := range fans {
			vote(&wg, c, flavour[i%3].ID)
			vote(&wg, c, flavour[i%3].ID)
			vote(&wg, c, size[i%2].ID)
		}
		wg.Wait()
		got, err := cs.Draft(ctx, s.m, d.ID)
		must(t, err)
		counts := func(g cocreate.OptionGroup) []int64 {
			var out []int64
			for _, o := range g.Options {
				out = append(out, o.Votes)
			}
			return out
		}
		if got.Voters != n || got.Groups[0].Votes != n || got.Groups[1].Votes != n || fmt.Sprint(counts(got.Groups[0])) != "[10 10 10]" || fmt.Sprint(counts(got.Groups[1])) != "[15 15]" {
			t.Fatalf("round 1: voters %d, flavour %d %v, size %d %v", got.Voters, got.Groups[0].Votes, counts(got.Groups[0]), got.Groups[1].Votes, counts(got.Groups[1]))
		}

		// 2. the first 12 change their flavour to 黑芝麻 (those on it already stay)
		for _, c := range fans[:12] {
			vote(&wg, c, flavour[2].ID)
		}
		wg.Wait()
		got, err = cs.Draft(ctx, s.m, d.ID)
		must(t, err)
		if got.Groups[0].Votes != n || fmt.Sprint(counts(got.Groups[0])) != "[6 6 18]" {
			t.Fatalf("round 2: flavour %d %v, want 30 [6 6 18]", got.Groups[0].Votes, counts(got.Groups[0]))
		}

		// 3. ten fans send both sizes at once: one size each, whichever came last
		for _, c := range fans[:10] {
			vote(&wg, c, size[0].ID)
			vote(&wg, c, size[1].ID)
		}
		wg.Wait()
		got, err = cs.Draft(ctx, s.m, d.ID)
		must(t, err)
		if g := got.Groups[1]; g.Votes != n || g.Options[0].Votes+g.Options[1].Votes != n || got.Voters != n {
			t.Fatalf("round 3: size %d = %v, voters %d", g.Votes, counts(g), got.Voters)
		}
		for _, c := range fans[:10] {
			mine, err := cs.MyVotes(ctx, d.ID, c)
			must(t, err)
			if len(mine) != 2 || mine[0] != flavour[2].ID || (mine[1] != size[0].ID && mine[1] != size[1].ID) {
				t.Fatalf("fan %d's votes %v: want one flavour (黑芝麻) and one size", c, mine)
			}
		}
		if mine, _ := cs.MyVotes(ctx, d.ID, s.cust); len(mine) != 0 {
			t.Fatalf("a fan who never voted has %v", mine)
		}

		if _, err := cs.Vote(ctx, s.m, d.ID, s.cust, other.Groups[0].Options[0].ID, db.Now()); !errors.Is(err, cocreate.ErrOption) {
			t.Fatalf("option of another draft: %v", err)
		}
		if _, err := cs.Vote(ctx, s.m, d.ID, s.cust, 999999, db.Now()); !errors.Is(err, cocreate.ErrOption) {
			t.Fatalf("unknown option: %v", err)
		}
		if _, err := cs.Vote(ctx, s.other, d.ID, s.otherCust, flavour[0].ID, db.Now()); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("another shop's customer voted: %v", err)
		}
		if _, err := cs.Draft(ctx, s.other, d.ID); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("another shop read the draft: %v", err)
		}
		w, err := got.WinnerName()
		must(t, err)
		if w != "青稞冲饮粉 · 黑芝麻 · "+map[bool]string{true: "500g", false: "30g×10 条"}[got.Groups[1].Options[0].Votes >= got.Groups[1].Options[1].Votes] {
			t.Fatalf("winner %q for %v / %v", w, counts(got.Groups[0]), counts(got.Groups[1]))
		}
		if _, err := other.Winner(); !errors.Is(err, cocreate.ErrNoWinner) {
			t.Fatalf("a draft without votes has a winner: %v", err)
		}

		closed, err := cs.CloseDraft(ctx, s.m, d.ID, db.Now())
		must(t, err)
		if closed.Status != cocreate.Closed || closed.ClosedAt == nil || closed.Voters != n {
			t.Fatalf("closed draft %+v", closed)
		}
		if _, err := cs.Vote(ctx, s.m, d.ID, fans[0], flavour[0].ID, db.Now()); !errors.Is(err, cocreate.ErrClosed) {
			t.Fatalf("vote after close: %v", err)
		}
		later := db.Now().Add(time.Minute)
		timed := &cocreate.Draft{MerchantID: s.m, Name: "限时", CreatedBy: "owner", ClosesAt: &later, Groups: other.Groups}
		must(t, timed.Validate(db.Now()))
		must(t, cs.CreateDraft(ctx, timed))
		if due, _ := cs.DueDrafts(ctx, later.Add(time.Second)); len(due) != 1 || due[0].ID != timed.ID {
			t.Fatalf("due drafts: %+v", due)
		}
		if _, err := cs.Vote(ctx, s.m, timed.ID, fans[0], timed.Groups[0].Options[0].ID, later.Add(time.Second)); !errors.Is(err, cocreate.ErrClosed) {
			t.Fatalf("vote after closes_at: %v", err)
		}
	})
}

// TestContractCocreateToPresale: the winning combination becomes a
// product, its SKU and an open pre-sale in one transaction; a pre-sale
// that cannot be opened (a room of another shop) leaves no product and
// the draft free; a draft becomes a pre-sale once, also when two
// requests race.
func TestContractCocreateToPresale(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		cs := &sqldb.CocreateStore{DB: db}
		d := &cocreate.Draft{MerchantID: s.m, Name: "青稞冲饮粉", CreatedBy: "owner", Groups: []cocreate.OptionGroup{{Name: "口味", Options: []cocreate.Option{{Text: "原味"}, {Text: "红枣"}}}}}
		must(t, d.Validate(db.Now()))
		must(t, cs.CreateDraft(ctx, d))
		before, err := s.cat.ListProducts(ctx, s.m)
		must(t, err)
		now := db.Now()
		mk := func(room int64) (*catalog.Product, *presale.Presale) {
			prod := &catalog.Product{Name: "青稞冲饮粉 · 红枣", Storage: catalog.Ambient, Active: true,
				SKUs: []catalog.SKU{{Code: fmt.Sprintf("cocreate-%d", d.ID), Name: "红枣", PriceFen: 3990, Active: true}}}
			ps := &presale.Presale{Title: "粉丝共创款 青稞冲饮粉", PriceFen: 3990, MOQ: 100, PerBuyerLimit: 5, Deadline: now.Add(72 * time.Hour),
				ShipBy: now.Add(30 * 24 * time.Hour), Supplier: "海北青稞加工厂", RoomID: room, CreatedBy: "owner"}
			must(t, ps.ValidateTerms(now))
			return prod, ps
		}
		rival := &live.Room{MerchantID: s.other, Slug: "rival-room", Title: "别家"}
		must(t, s.live.CreateRoom(ctx, rival))
		prod, ps := mk(rival.ID)
		if err := cs.ToPresale(ctx, s.m, d.ID, prod, ps); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("pre-sale in another shop's room: %v", err)
		}
		after, _ := s.cat.ListProducts(ctx, s.m)
		if got, _ := cs.Draft(ctx, s.m, d.ID); len(after) != len(before) || got.PresaleID != 0 || got.Status != cocreate.Open {
			t.Fatalf("a failed conversion left %d products (had %d), draft %+v", len(after), len(before), got)
		}

		var wg sync.WaitGroup
		var mu sync.Mutex
		var made, refused int
		for range 3 {
			wg.Go(func() {
				prod, ps := mk(0)
				err := cs.ToPresale(ctx, s.m, d.ID, prod, ps)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					made++
				case errors.Is(err, cocreate.ErrPresale):
					refused++
				default:
					t.Errorf("to pre-sale: %v", err)
				}
			})
		}
		wg.Wait()
		got, err := cs.Draft(ctx, s.m, d.ID)
		must(t, err)
		after, _ = s.cat.ListProducts(ctx, s.m)
		if made != 1 || refused != 2 || got.PresaleID == 0 || got.Status != cocreate.Closed || len(after) != len(before)+1 {
			t.Fatalf("3 racing conversions: %d made, %d refused, draft %+v, products %d (had %d)", made, refused, got, len(after), len(before))
		}
		p, err := (&sqldb.PresaleStore{DB: db}).Presale(ctx, s.m, got.PresaleID)
		must(t, err)
		if p.ProductName != "青稞冲饮粉 · 红枣" || p.Status != presale.Open || p.MOQ != 100 {
			t.Fatalf("pre-sale %+v", p)
		}
		if err := cs.ToPresale(ctx, s.other, d.ID, prod, ps); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("another shop converted the draft: %v", err)
		}
	})
}
