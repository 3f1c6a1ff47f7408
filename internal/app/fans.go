package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/fans"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/order"
)

// Topic groups (粉丝群). Anyone with the link reads a group; a viewer of
// the shop joins with one tap (from the room's card or the link) and may
// then post (text, photos, a recipe whose ingredients are the shop's
// products) and comment; staff who host rooms and fans the shop made
// moderators hide what should not be there.

// GroupAccess is what the caller may do in a group.
type GroupAccess struct {
	Member    bool `json:"member"`
	Moderator bool `json:"moderator"`
}

// GroupAccess says whether p is a member and may moderate g.
func (a *App) GroupAccess(ctx context.Context, p *identity.Principal, g *fans.Group) (GroupAccess, error) {
	var out GroupAccess
	if p == nil || p.MerchantID != g.MerchantID {
		return out, nil
	}
	if p.IsStaff() {
		out.Member = true
		out.Moderator = identity.Can(p.Role, identity.PermRoomHost)
		return out, nil
	}
	role, err := a.Fans.Role(ctx, g.ID, p.SubjectID)
	if err != nil {
		return out, err
	}
	out.Member, out.Moderator = role != "", role == fans.RoleModerator
	return out, nil
}

// CreateGroup opens a topic group.
func (a *App) CreateGroup(ctx context.Context, p *identity.Principal, g *fans.Group) error {
	g.MerchantID = p.MerchantID
	if err := g.Validate(); err != nil {
		return err
	}
	if err := a.Fans.CreateGroup(ctx, g); err != nil {
		return err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "group.create", "group:"+g.Slug, g.Name)
	return nil
}

// JoinGroup makes the viewer a member (joining twice changes nothing).
func (a *App) JoinGroup(ctx context.Context, p *identity.Principal, g *fans.Group) error {
	if p == nil || p.Kind != identity.KindCustomer {
		return apperr.ErrLoginRequired
	}
	if p.MerchantID != g.MerchantID {
		return apperr.ErrNotFound // a viewer account belongs to one shop
	}
	return a.Fans.Join(ctx, g.MerchantID, g.ID, p.SubjectID)
}

// LeaveGroup ends the viewer's membership.
func (a *App) LeaveGroup(ctx context.Context, p *identity.Principal, g *fans.Group) error {
	if p.MerchantID != g.MerchantID {
		return apperr.ErrNotFound
	}
	return a.Fans.Leave(ctx, g.MerchantID, g.ID, p.SubjectID)
}

// SetGroupModerator makes a member a trusted fan moderator (or not).
func (a *App) SetGroupModerator(ctx context.Context, p *identity.Principal, g *fans.Group, customerID int64, on bool) error {
	if p.MerchantID != g.MerchantID {
		return apperr.ErrNotFound
	}
	role := fans.RoleMember
	if on {
		role = fans.RoleModerator
	}
	if err := a.Fans.SetRole(ctx, g.MerchantID, g.ID, customerID, role); err != nil {
		return err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "group.moderator", "group:"+g.Slug, fmt.Sprintf("customer:%d %s", customerID, role))
	return nil
}

// authorOf names who writes: a viewer by their display name, staff as
// the shop (a staff member's login name, or an API token's label, is not
// for the public page).
func (a *App) authorOf(ctx context.Context, p *identity.Principal) (kind, name string) {
	if p.IsStaff() {
		if m, err := a.Users.Merchant(ctx, p.MerchantID); err == nil {
			return "staff", m.Name
		}
		return "staff", "店铺"
	}
	return "customer", p.Name
}

// CreatePost posts in a group (members and staff).
func (a *App) CreatePost(ctx context.Context, p *identity.Principal, g *fans.Group, post *fans.Post) error {
	acc, err := a.GroupAccess(ctx, p, g)
	if err != nil {
		return err
	}
	if p == nil || p.MerchantID != g.MerchantID {
		return apperr.ErrNotFound
	}
	if !acc.Member {
		return fans.ErrNotMember
	}
	if err := post.Validate(); err != nil {
		return err
	}
	post.MerchantID, post.GroupID, post.AuthorID = g.MerchantID, g.ID, p.SubjectID
	post.AuthorKind, post.AuthorName = a.authorOf(ctx, p)
	return a.Fans.CreatePost(ctx, post)
}

// CommentPost replies under a post (members and staff).
func (a *App) CommentPost(ctx context.Context, p *identity.Principal, postID int64, text string) (*fans.Comment, error) {
	post, g, err := a.postGroup(ctx, p, postID)
	if err != nil {
		return nil, err
	}
	acc, err := a.GroupAccess(ctx, p, g)
	if err != nil {
		return nil, err
	}
	if !acc.Member {
		return nil, fans.ErrNotMember
	}
	text = strings.TrimSpace(text)
	if text == "" || len([]rune(text)) > 500 {
		return nil, fans.ErrComment
	}
	c := &fans.Comment{PostID: post.ID, AuthorID: p.SubjectID, Text: text}
	c.AuthorKind, c.AuthorName = a.authorOf(ctx, p)
	return c, a.Fans.AddComment(ctx, g.MerchantID, c)
}

// postGroup loads a post of the caller's shop and its group.
func (a *App) postGroup(ctx context.Context, p *identity.Principal, postID int64) (*fans.Post, *fans.Group, error) {
	if p == nil {
		return nil, nil, apperr.ErrLoginRequired
	}
	post, err := a.Fans.Post(ctx, p.MerchantID, postID)
	if err != nil {
		return nil, nil, err
	}
	g, err := a.groupByID(ctx, p.MerchantID, post.GroupID)
	return post, g, err
}

func (a *App) groupByID(ctx context.Context, merchantID, id int64) (*fans.Group, error) {
	list, err := a.Fans.Groups(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			return &list[i], nil
		}
	}
	return nil, apperr.ErrNotFound
}

// HidePost hides a post (moderators: hosts and trusted fans).
func (a *App) HidePost(ctx context.Context, p *identity.Principal, postID int64) error {
	_, g, err := a.postGroup(ctx, p, postID)
	if err != nil {
		return err
	}
	acc, err := a.GroupAccess(ctx, p, g)
	if err != nil {
		return err
	}
	if !acc.Moderator {
		return fans.ErrNotModerate
	}
	if err := a.Fans.HidePost(ctx, g.MerchantID, postID); err != nil {
		return err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "group.post.hide", "group:"+g.Slug, "post:"+strconv.FormatInt(postID, 10))
	return nil
}

// HideComment hides a comment (moderators).
func (a *App) HideComment(ctx context.Context, p *identity.Principal, commentID int64) error {
	if p == nil {
		return apperr.ErrLoginRequired
	}
	gid, err := a.Fans.CommentGroup(ctx, p.MerchantID, commentID)
	if err != nil {
		return err
	}
	g, err := a.groupByID(ctx, p.MerchantID, gid)
	if err != nil {
		return err
	}
	acc, err := a.GroupAccess(ctx, p, g)
	if err != nil {
		return err
	}
	if !acc.Moderator {
		return fans.ErrNotModerate
	}
	if _, err := a.Fans.HideComment(ctx, g.MerchantID, commentID); err != nil {
		return err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "group.comment.hide", "group:"+g.Slug, "comment:"+strconv.FormatInt(commentID, 10))
	return nil
}

// BuyRecipe puts every ingredient of a recipe that is on sale into one
// order ("一键购买全部食材"): the ordinary buy, with its stock, hold and
// expiry rules. Anyone of the shop may buy, member or not.
func (a *App) BuyRecipe(ctx context.Context, p *identity.Principal, postID int64, req *order.Request, idemKey string) (*order.Order, bool, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, false, apperr.ErrLoginRequired
	}
	post, err := a.Fans.Post(ctx, p.MerchantID, postID)
	if err != nil {
		return nil, false, err
	}
	if post.Recipe == nil || post.Hidden {
		return nil, false, apperr.ErrNotFound
	}
	req.Items = post.Recipe.CartItems()
	if len(req.Items) == 0 {
		return nil, false, fans.ErrNoIngredients
	}
	req.SaleID = 0
	return a.CreateOrder(ctx, p, req, idemKey)
}
