package web

import (
	"net/http"
	"time"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cocreate"
	"github.com/shelflive/shelflive/internal/fans"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/presale"
	"github.com/shelflive/shelflive/internal/trials"
)

// groupRoutes: topic groups (粉丝群). Reading is public (the link is shared
// in rooms and chats); joining, posting and commenting need the shop's
// viewer login (or staff); hiding needs a moderator.
func (s *Server) groupRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/groups/{slug}", Access: Public, Summary: "A topic group's page: posts, photos, recipes, join (mobile)", handler: s.pageGroup},
		api("GET", "/api/v1/groups", Staff, identity.PermAdminView, "The shop's topic groups", s.apiListGroups),
		api("POST", "/api/v1/groups", Staff, identity.PermRoomsWrite, "Open a topic group (烘焙, 减脂, 地方美食 …)", s.apiCreateGroup),
		api("GET", "/api/v1/groups/{slug}", Public, "", "A topic group and what the caller may do in it", s.apiGroup),
		api("PUT", "/api/v1/groups/{slug}/membership", Customer, "", "Join a topic group (from a room or a link)", s.apiJoinGroup),
		api("DELETE", "/api/v1/groups/{slug}/membership", Customer, "", "Leave a topic group", s.apiLeaveGroup),
		api("PUT", "/api/v1/groups/{slug}/moderators/{customer}", Staff, identity.PermRoomsWrite, "Make a member a moderator (trusted fan), or not", s.apiGroupModerator),
		api("GET", "/api/v1/groups/{slug}/posts", Public, "", "A group's posts, newest first (?before=id)", s.apiGroupPosts),
		api("POST", "/api/v1/groups/{slug}/posts", AnyLogin, "", "Post in a group: text, photos, a recipe (members and staff)", s.apiCreatePost),
		api("POST", "/api/v1/groups/{slug}/photos", Customer, "", "Upload a photo for a post (members; staff use /api/v1/uploads)", s.apiGroupPhoto),
		api("GET", "/api/v1/group-posts/{id}/comments", Public, "", "A post's comments", s.apiPostComments),
		api("POST", "/api/v1/group-posts/{id}/comments", AnyLogin, "", "Comment on a post (members and staff)", s.apiCommentPost),
		api("POST", "/api/v1/group-posts/{id}/hide", AnyLogin, "", "Hide a post (moderators)", s.apiHidePost),
		api("POST", "/api/v1/group-comments/{id}/hide", AnyLogin, "", "Hide a comment (moderators)", s.apiHideComment),
		api("POST", "/api/v1/group-posts/{id}/buy", Customer, "", "Buy all of a recipe's ingredients that are on sale in one order (Idempotency-Key)", s.apiBuyRecipe),
	}
}

// publicGroup loads the group named in the path; a closed shop's groups are gone.
func (s *Server) publicGroup(r *http.Request) (*fans.Group, error) {
	g, err := s.App.Fans.GroupBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		return nil, err
	}
	m, err := s.App.Users.Merchant(r.Context(), g.MerchantID)
	if err != nil {
		return nil, err
	}
	if m.Disabled {
		return nil, identity.ErrShopClosed
	}
	return g, nil
}

// ownGroup is the group named in the path when it is of the caller's shop.
func (s *Server) ownGroup(r *http.Request) (*identity.Principal, *fans.Group, error) {
	g, err := s.publicGroup(r)
	if err != nil {
		return nil, nil, err
	}
	p := PrincipalFrom(r.Context())
	if p == nil || p.MerchantID != g.MerchantID {
		return nil, nil, apperr.ErrNotFound
	}
	return p, g, nil
}

func (s *Server) apiListGroups(w http.ResponseWriter, r *http.Request) error {
	list, err := s.App.Fans.Groups(r.Context(), PrincipalFrom(r.Context()).MerchantID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"groups": list})
}

func (s *Server) apiCreateGroup(w http.ResponseWriter, r *http.Request) error {
	var g fans.Group
	if err := decodeJSON(r, &g); err != nil {
		return err
	}
	g.ID, g.Members, g.Posts = 0, 0, 0
	if err := s.App.CreateGroup(r.Context(), PrincipalFrom(r.Context()), &g); err != nil {
		return err
	}
	return writeJSON(w, 201, g)
}

func (s *Server) apiGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := s.publicGroup(r)
	if err != nil {
		return err
	}
	acc, err := s.App.GroupAccess(r.Context(), PrincipalFrom(r.Context()), g)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"group": g, "access": acc})
}

func (s *Server) apiJoinGroup(w http.ResponseWriter, r *http.Request) error {
	p, g, err := s.ownGroup(r)
	if err != nil {
		return err
	}
	if err := s.App.JoinGroup(r.Context(), p, g); err != nil {
		return err
	}
	g, _ = s.publicGroup(r)
	return writeJSON(w, 200, map[string]any{"group": g, "access": map[string]bool{"member": true}})
}

func (s *Server) apiLeaveGroup(w http.ResponseWriter, r *http.Request) error {
	p, g, err := s.ownGroup(r)
	if err != nil {
		return err
	}
	if err := s.App.LeaveGroup(r.Context(), p, g); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiGroupModerator(w http.ResponseWriter, r *http.Request) error {
	p, g, err := s.ownGroup(r)
	if err != nil {
		return err
	}
	cust, err := pathID(r, "customer")
	if err != nil {
		return err
	}
	var in struct {
		Moderator bool `json:"moderator"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.App.SetGroupModerator(r.Context(), p, g, cust, in.Moderator); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiGroupPosts(w http.ResponseWriter, r *http.Request) error {
	g, err := s.publicGroup(r)
	if err != nil {
		return err
	}
	before, err := queryID(r, "before")
	if err != nil {
		return err
	}
	list, err := s.App.Fans.Posts(r.Context(), g.MerchantID, g.ID, before, 20)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"posts": list})
}

func (s *Server) apiCreatePost(w http.ResponseWriter, r *http.Request) error {
	p, g, err := s.ownGroup(r)
	if err != nil {
		return err
	}
	var post fans.Post
	if err := decodeJSON(r, &post); err != nil {
		return err
	}
	if err := s.limit(w, "group-post:"+identityKey(p), 1, 10); err != nil {
		return err
	}
	post.ID, post.Hidden, post.Comments = 0, false, 0
	if err := s.App.CreatePost(r.Context(), p, g, &post); err != nil {
		return err
	}
	return writeJSON(w, 201, post)
}

func (s *Server) apiGroupPhoto(w http.ResponseWriter, r *http.Request) error {
	p, g, err := s.ownGroup(r)
	if err != nil {
		return err
	}
	acc, err := s.App.GroupAccess(r.Context(), p, g)
	if err != nil {
		return err
	}
	if !acc.Member {
		return fans.ErrNotMember
	}
	if err := s.limit(w, "group-photo:"+identityKey(p), 1, 10); err != nil {
		return err
	}
	url, err := s.storeImage(w, r)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, map[string]string{"url": url})
}

// apiPostComments reads a post's comments: public like the group page,
// the post's id alone names it (in an open shop).
func (s *Server) apiPostComments(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	merchant, err := s.App.Fans.PostShop(r.Context(), id)
	if err != nil {
		return err
	}
	if m, err := s.App.Users.Merchant(r.Context(), merchant); err != nil || m.Disabled {
		return apperr.ErrNotFound
	}
	list, err := s.App.Fans.Comments(r.Context(), merchant, id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"comments": list})
}

func (s *Server) apiCommentPost(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.limit(w, "group-comment:"+identityKey(PrincipalFrom(r.Context())), 1, 10); err != nil {
		return err
	}
	c, err := s.App.CommentPost(r.Context(), PrincipalFrom(r.Context()), id, in.Text)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, c)
}

func (s *Server) apiHidePost(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.App.HidePost(r.Context(), PrincipalFrom(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiHideComment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.App.HideComment(r.Context(), PrincipalFrom(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiBuyRecipe(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	var req order.Request
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.limit(w, "order:"+identityKey(p), 5, 20); err != nil {
		return err
	}
	o, created, err := s.App.BuyRecipe(r.Context(), p, id, &req, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	return writeJSON(w, status, app.OrderView(p, o))
}

// pageGroup is the group's page (shared links, the room's card).
func (s *Server) pageGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := s.publicGroup(r)
	if err != nil {
		return err
	}
	m, err := s.App.Users.Merchant(r.Context(), g.MerchantID)
	if err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	acc, err := s.App.GroupAccess(r.Context(), p, g)
	if err != nil {
		return err
	}
	posts, err := s.App.Fans.Posts(r.Context(), g.MerchantID, g.ID, 0, 20)
	if err != nil {
		return err
	}
	data := map[string]any{"Group": g, "Posts": posts, "Access": acc, "Merchant": m.Slug, "ShopName": m.Name}
	if s.App.Presales != nil {
		// the group's pre-sales (以销定产) with their live progress
		list, err := s.App.Presales.Presales(r.Context(), g.MerchantID, presale.Filter{GroupID: g.ID, Limit: 5})
		if err != nil {
			return err
		}
		data["Presales"] = list
	}
	if s.App.Trials != nil {
		// the group's new-product trials (内测): apply from their page
		list, err := s.App.Trials.List(r.Context(), g.MerchantID, trials.Filter{GroupID: g.ID})
		if err != nil {
			return err
		}
		if len(list) > 5 {
			list = list[:5]
		}
		data["Trials"] = list
	}
	if p != nil && p.Kind == identity.KindCustomer && p.MerchantID == g.MerchantID {
		data["Viewer"] = p
		stores, err := s.App.Stores.ListStores(r.Context(), g.MerchantID)
		if err != nil {
			return err
		}
		data["Stores"] = stores
	}
	if err := s.groupPageExtras(r, g, acc, data); err != nil {
		return err
	}
	if from := r.URL.Query().Get("from"); slugRE.MatchString(from) {
		data["RoomSlug"] = from
	}
	http.SetCookie(w, &http.Cookie{Name: merchantCookie, Value: m.Slug, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return s.render(w, r, 200, "group.html", data)
}

// groupPageExtras adds the group's co-creation drafts (with the fan's
// votes) and, for trusted fans, what the recipe editor needs: the shop's
// products on sale, to link ingredients to. (Pages read the viewer
// session only, so staff post recipes through the API.)
func (s *Server) groupPageExtras(r *http.Request, g *fans.Group, acc app.GroupAccess, data map[string]any) error {
	ctx := r.Context()
	drafts := []cocreate.Draft{}
	mine := map[int64][]int64{}
	if s.App.Cocreate != nil {
		list, err := s.App.Cocreate.Drafts(ctx, g.MerchantID, cocreate.Filter{GroupID: g.ID, Limit: 5})
		if err != nil {
			return err
		}
		for i := range list {
			if list[i].Status == cocreate.Open || list[i].PresaleID != 0 || (list[i].ClosedAt != nil && s.App.Now().Sub(*list[i].ClosedAt) < 7*24*time.Hour) {
				v, err := s.myVotes(r, &list[i])
				if err != nil {
					return err
				}
				drafts, mine[list[i].ID] = append(drafts, list[i]), v
			}
		}
	}
	data["Drafts"], data["DraftVotes"] = drafts, mine
	if acc.Moderator {
		type skuOption struct {
			SKUID    int64  `json:"sku_id"`
			Name     string `json:"name"`
			PriceFen int64  `json:"price_fen"`
		}
		prods, err := s.App.Catalog.ListProducts(ctx, g.MerchantID)
		if err != nil {
			return err
		}
		opts := []skuOption{}
		en := langOf(r) == "en"
		for _, pr := range prods {
			if !pr.Active {
				continue
			}
			name := pr.Name
			if en && pr.NameEN != "" {
				name = pr.NameEN
			}
			for _, k := range pr.SKUs {
				if k.Active {
					opts = append(opts, skuOption{SKUID: k.ID, Name: name + " · " + k.Name, PriceFen: k.PriceFen})
				}
			}
		}
		data["RecipeSKUs"] = opts
	}
	return nil
}
