package sqldb_test

import (
	"context"
	"testing"

	"github.com/shelflive/shelflive/internal/fans"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractFanGroups: groups with unique links, idempotent joins,
// roles, posts whose recipe SKUs must be the shop's (filled with product,
// price and whether on sale when read), comments, hiding, and another
// tenant seeing none of it.
func TestContractFanGroups(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		fs := &sqldb.FanStore{DB: db}
		g := &fans.Group{MerchantID: s.m, Slug: "bakers", Name: "烘焙群", Topic: "烘焙"}
		must(t, g.Validate())
		must(t, fs.CreateGroup(ctx, g))
		wantCode(t, fs.CreateGroup(ctx, &fans.Group{MerchantID: s.other, Slug: "bakers", Name: "x"}), "group_slug_taken")
		must(t, fs.Join(ctx, s.m, g.ID, s.cust))
		must(t, fs.Join(ctx, s.m, g.ID, s.cust))
		wantCode(t, fs.Join(ctx, s.other, g.ID, s.otherCust), "not_found")
		if role, _ := fs.Role(ctx, g.ID, s.cust); role != fans.RoleMember {
			t.Fatalf("role %q", role)
		}
		must(t, fs.SetRole(ctx, s.m, g.ID, s.cust, fans.RoleModerator))
		wantCode(t, fs.SetRole(ctx, s.m, g.ID, s.otherCust, fans.RoleModerator), "not_found")
		got, err := fs.GroupBySlug(ctx, "bakers")
		must(t, err)
		if got.Members != 1 {
			t.Fatalf("members %d", got.Members)
		}

		bad := &fans.Post{MerchantID: s.m, GroupID: g.ID, AuthorKind: "customer", AuthorID: s.cust, AuthorName: "用户", Text: "配方",
			Recipe: &fans.Recipe{Title: "草莓蛋糕", Ingredients: []fans.Ingredient{{Name: "草莓", SKUID: s.otherSKU, Quantity: 1}}}}
		must(t, bad.Validate())
		wantCode(t, fs.CreatePost(ctx, bad), "unknown_sku")
		p := &fans.Post{MerchantID: s.m, GroupID: g.ID, AuthorKind: "customer", AuthorID: s.cust, AuthorName: "用户", Text: "周末做了草莓蛋糕", Images: []string{"/uploads/a.png"},
			Recipe: &fans.Recipe{Title: "草莓蛋糕", Ingredients: []fans.Ingredient{{Name: "草莓", Amount: "300g", SKUID: s.sku, Quantity: 2}, {Name: "水", Amount: "50ml"}}}}
		must(t, p.Validate())
		must(t, fs.CreatePost(ctx, p))
		posts, err := fs.Posts(ctx, s.m, g.ID, 0, 10)
		must(t, err)
		if len(posts) != 1 || posts[0].Recipe == nil || posts[0].Recipe.Ingredients[0].PriceFen != price || !posts[0].Recipe.Ingredients[0].Available || posts[0].Images[0] != "/uploads/a.png" {
			t.Fatalf("posts %+v", posts)
		}
		items := posts[0].Recipe.CartItems()
		if len(items) != 1 || items[0].SKUID != s.sku || items[0].Quantity != 2 {
			t.Fatalf("cart %+v", items)
		}
		if other, _ := fs.Posts(ctx, s.other, g.ID, 0, 10); len(other) != 0 {
			t.Fatalf("another tenant sees %d posts", len(other))
		}
		c := &fans.Comment{PostID: p.ID, AuthorKind: "customer", AuthorID: s.cust, AuthorName: "用户", Text: "看起来好好吃"}
		must(t, fs.AddComment(ctx, s.m, c))
		wantCode(t, fs.AddComment(ctx, s.other, &fans.Comment{PostID: p.ID, AuthorKind: "customer", Text: "x"}), "not_found")
		if gid, err := fs.CommentGroup(ctx, s.m, c.ID); err != nil || gid != g.ID {
			t.Fatalf("comment group %d %v", gid, err)
		}
		if _, err := fs.HideComment(ctx, s.m, c.ID); err != nil {
			t.Fatal(err)
		}
		if list, _ := fs.Comments(ctx, s.m, p.ID); len(list) != 0 {
			t.Fatalf("hidden comment listed: %+v", list)
		}
		wantCode(t, fs.HidePost(ctx, s.other, p.ID), "not_found")
		must(t, fs.HidePost(ctx, s.m, p.ID))
		if posts, _ := fs.Posts(ctx, s.m, g.ID, 0, 10); len(posts) != 0 {
			t.Fatalf("hidden post listed")
		}
		must(t, fs.Leave(ctx, s.m, g.ID, s.cust))
		if role, _ := fs.Role(ctx, g.ID, s.cust); role != "" {
			t.Fatalf("role after leaving %q", role)
		}
	})
}
