package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/payment"
)

// wechatShareRoutes: the JS-SDK configuration of a room page opened inside
// WeChat, so a share from the room carries its title, cover, time and the
// sharer's signed code.
func (s *Server) wechatShareRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/rooms/{slug}/wechat-share", Access: Public, API: true,
			Summary: "wx.config for a room page inside WeChat (signature over the shared jsapi_ticket) and what a share shows, with the caller's signed share code", handler: s.apiWeChatShare},
	}
}

// errForeignPage is a page URL not on this site: nothing is signed for it.
var errForeignPage = apperr.InvalidField("url", "invalid_page_url", "只能为本站页面签名", "Only this site's pages are signed.")

func (s *Server) apiWeChatShare(w http.ResponseWriter, r *http.Request) error {
	st, err := s.App.RoomBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	page := r.URL.Query().Get("url")
	base := s.App.Pay.PublicURL()
	if strings.HasPrefix(page, "/") && !strings.HasPrefix(page, "//") {
		page = base + page // a path on this site
	}
	if u, err := url.Parse(page); err != nil || !strings.HasPrefix(page, base+"/") || u.Host == "" || len(page) > 2048 {
		return errForeignPage
	}
	// A shop without a WeChat official account (AppSecret) has no JS-SDK:
	// config is null and the page shares as any browser does.
	var cfg any
	if c, err := s.App.WeChatShareConfig(r.Context(), st.Room.MerchantID, page); err == nil {
		cfg = c
	} else if !errors.Is(err, payment.ErrNeedOpenID) && !errors.Is(err, payment.ErrNotConfigured) && !errors.Is(err, payment.ErrBadMethod) && !errors.Is(err, apperr.ErrNotFound) {
		return err
	}
	brought := s.attribution(r, st.Room.MerchantID, r.URL.Query().Get("g"))
	code, _ := s.App.ShareCode(r.Context(), PrincipalFrom(r.Context()), st.Room, brought)
	og := s.roomOG(st, langOf(r), code)
	return writeJSON(w, 200, map[string]any{"config": cfg, "js_api_list": []string{"updateAppMessageShareData", "updateTimelineShareData"},
		"share": map[string]string{"title": og.Title, "desc": og.Description, "link": og.URL, "imgUrl": og.Image}})
}
