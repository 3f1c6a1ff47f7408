// Package fans holds topic groups (粉丝群: 烘焙, 减脂, 地方美食 …): members
// who join from a room or a link, posts with photos and recipes whose
// ingredients are the shop's products, comments, and moderators (staff,
// and fans the shop trusts). sqldb stores it; app checks who may do what.
package fans

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/order"
)

// Roles of a member.
const (
	RoleMember    = "member"
	RoleModerator = "moderator" // a trusted fan: may hide posts and comments
)

// Group is a topic group of one shop; Slug is its link (/groups/{slug}).
type Group struct {
	ID          int64     `json:"id"`
	MerchantID  int64     `json:"-"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	NameEN      string    `json:"name_en"`
	Topic       string    `json:"topic"`
	Description string    `json:"description"`
	Members     int64     `json:"members"`
	Posts       int64     `json:"posts"`
	CreatedAt   time.Time `json:"created_at"`
}

// Ingredient is one line of a recipe; SKUID links it to a product the
// shop sells (0: not sold here, e.g. water).
type Ingredient struct {
	Name        string `json:"name"`
	Amount      string `json:"amount"`
	SKUID       int64  `json:"sku_id,omitempty"`
	Quantity    int64  `json:"quantity,omitempty"` // units to buy
	ProductID   int64  `json:"product_id,omitempty"`
	ProductName string `json:"product_name,omitempty"`
	// ProductNameEN: the product's English name, when it has one.
	ProductNameEN string `json:"product_name_en,omitempty"`
	PriceFen      int64  `json:"price_fen,omitempty"`
	Available     bool   `json:"available"` // on sale now (SKU and product active)
}

// Recipe is a post's recipe.
type Recipe struct {
	Title       string       `json:"title"`
	Steps       string       `json:"steps"`
	Ingredients []Ingredient `json:"ingredients"`
}

// Post is a member's (or staff's) post in a group.
type Post struct {
	ID         int64     `json:"id"`
	GroupID    int64     `json:"group_id"`
	MerchantID int64     `json:"-"`
	AuthorKind string    `json:"author_kind"` // customer | staff
	AuthorID   int64     `json:"-"`
	AuthorName string    `json:"author_name"`
	Text       string    `json:"text"`
	Images     []string  `json:"images"`
	Recipe     *Recipe   `json:"recipe,omitempty"`
	Comments   int64     `json:"comments"`
	Hidden     bool      `json:"hidden,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Comment is a reply under a post.
type Comment struct {
	ID         int64     `json:"id"`
	PostID     int64     `json:"post_id"`
	AuthorKind string    `json:"author_kind"`
	AuthorID   int64     `json:"-"`
	AuthorName string    `json:"author_name"`
	Text       string    `json:"text"`
	CreatedAt  time.Time `json:"created_at"`
}

// Errors, one variable per code.
var (
	ErrGroupSlug     = apperr.InvalidField("slug", "group_slug_invalid", "群链接名须为 2–48 位小写字母、数字或连字符", "The group's link name is 2–48 lowercase letters, digits or hyphens.")
	ErrGroupName     = apperr.InvalidField("name", "group_name_invalid", "群名称 1–30 字，简介最多 500 字", "The group name is 1–30 characters, the description at most 500.")
	ErrGroupTaken    = apperr.New(apperr.Conflict, "group_slug_taken", "该群链接名已被使用", "That link name is taken.")
	ErrNotMember     = apperr.New(apperr.Conflict, "group_members_only", "加入粉丝群后才能发帖和评论", "Join the group to post and comment.")
	ErrNotModerate   = apperr.New(apperr.Conflict, "group_moderators_only", "只有群管理员可以隐藏内容", "Only the group's moderators can hide posts and comments.")
	ErrPostText      = apperr.InvalidField("text", "post_text_invalid", "内容 1–2000 字", "Write 1–2000 characters.")
	ErrPostImages    = apperr.InvalidField("images", "post_images_invalid", "最多 9 张图片，须为本站上传的图片", "At most 9 images, uploaded here.")
	ErrRecipe        = apperr.InvalidField("recipe", "recipe_invalid", "菜谱须有名称和 1–20 种食材（每种最多 99 件）", "A recipe needs a title and 1–20 ingredients (at most 99 units each).")
	ErrComment       = apperr.InvalidField("text", "comment_text_invalid", "评论 1–500 字", "Comments are 1–500 characters.")
	ErrNoIngredients = apperr.New(apperr.Conflict, "recipe_nothing_to_buy", "这份菜谱没有在售的食材", "None of this recipe's ingredients is on sale.")
)

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,47}$`)

// Validate checks a new group.
func (g *Group) Validate() error {
	g.Name, g.NameEN, g.Topic, g.Description = strings.TrimSpace(g.Name), strings.TrimSpace(g.NameEN), strings.TrimSpace(g.Topic), strings.TrimSpace(g.Description)
	if !slugRE.MatchString(g.Slug) {
		return ErrGroupSlug
	}
	if g.Name == "" || utf8.RuneCountInString(g.Name) > 30 || utf8.RuneCountInString(g.NameEN) > 60 || utf8.RuneCountInString(g.Topic) > 20 || utf8.RuneCountInString(g.Description) > 500 {
		return ErrGroupName
	}
	return nil
}

// Validate checks a new post's shape (the store checks the SKUs).
func (p *Post) Validate() error {
	p.Text = strings.TrimSpace(p.Text)
	if p.Text == "" || utf8.RuneCountInString(p.Text) > 2000 {
		return ErrPostText
	}
	if p.Images == nil {
		p.Images = []string{}
	}
	if len(p.Images) > 9 {
		return ErrPostImages
	}
	for _, im := range p.Images {
		if !strings.HasPrefix(im, "/uploads/") || len(im) > 100 || strings.Contains(im[len("/uploads/"):], "/") {
			return ErrPostImages
		}
	}
	if r := p.Recipe; r != nil {
		r.Title, r.Steps = strings.TrimSpace(r.Title), strings.TrimSpace(r.Steps)
		if r.Title == "" || utf8.RuneCountInString(r.Title) > 60 || utf8.RuneCountInString(r.Steps) > 4000 || len(r.Ingredients) == 0 || len(r.Ingredients) > 20 {
			return ErrRecipe
		}
		for i := range r.Ingredients {
			in := &r.Ingredients[i]
			in.Name, in.Amount = strings.TrimSpace(in.Name), strings.TrimSpace(in.Amount)
			if in.Name == "" || utf8.RuneCountInString(in.Name) > 40 || utf8.RuneCountInString(in.Amount) > 20 || in.SKUID < 0 {
				return ErrRecipe
			}
			if in.SKUID > 0 && in.Quantity == 0 {
				in.Quantity = 1
			}
			if in.Quantity < 0 || in.Quantity > order.MaxQuantity {
				return ErrRecipe
			}
		}
	}
	return nil
}

// CartItems is what "buy all ingredients" puts in the order: each linked
// SKU on sale once, quantities added up.
func (r *Recipe) CartItems() []order.Item {
	var out []order.Item
	at := map[int64]int{}
	for _, in := range r.Ingredients {
		if in.SKUID == 0 || !in.Available {
			continue
		}
		if i, ok := at[in.SKUID]; ok {
			out[i].Quantity = min(out[i].Quantity+in.Quantity, order.MaxQuantity)
			continue
		}
		at[in.SKUID] = len(out)
		out = append(out, order.Item{SKUID: in.SKUID, Quantity: in.Quantity})
	}
	return out
}

// Store keeps groups, members, posts and comments; every method scopes by merchant.
type Store interface {
	// CreateGroup stores a group. Errors: group_slug_taken.
	CreateGroup(ctx context.Context, g *Group) error
	// GroupBySlug finds a group by its link (slugs are global, like rooms').
	GroupBySlug(ctx context.Context, slug string) (*Group, error)
	Groups(ctx context.Context, merchantID int64) ([]Group, error)
	// Join makes the customer a member (again: nothing changes); Leave ends it.
	Join(ctx context.Context, merchantID, groupID, customerID int64) error
	Leave(ctx context.Context, merchantID, groupID, customerID int64) error
	// Role is the customer's role in the group ("" when not a member).
	Role(ctx context.Context, groupID, customerID int64) (string, error)
	// SetRole makes a member a moderator or a member again. Errors: not_found.
	SetRole(ctx context.Context, merchantID, groupID, customerID int64, role string) error
	// CreatePost checks the recipe's SKUs are the shop's and stores the post.
	// Errors: unknown_sku.
	CreatePost(ctx context.Context, p *Post) error
	Post(ctx context.Context, merchantID, id int64) (*Post, error)
	// Posts lists a group's visible posts, newest first, before id (0: from the newest).
	Posts(ctx context.Context, merchantID, groupID, before int64, limit int) ([]Post, error)
	HidePost(ctx context.Context, merchantID, id int64) error
	AddComment(ctx context.Context, merchantID int64, c *Comment) error
	Comments(ctx context.Context, merchantID, postID int64) ([]Comment, error)
	HideComment(ctx context.Context, merchantID, id int64) (*Comment, error)
	// PostShop names the merchant of a post, for public reads. Errors: not_found.
	PostShop(ctx context.Context, id int64) (int64, error)
	// CommentGroup names the group a comment was written in. Errors: not_found.
	CommentGroup(ctx context.Context, merchantID, id int64) (int64, error)
	// SetRoomGroup makes g the group a room invites its viewers to join
	// (the card the host pushed; one per room). Errors: not_found.
	SetRoomGroup(ctx context.Context, merchantID, roomID, groupID int64) error
	// RoomGroup is the group a room invites to join, nil when none.
	RoomGroup(ctx context.Context, merchantID, roomID int64) (*Group, error)
}
