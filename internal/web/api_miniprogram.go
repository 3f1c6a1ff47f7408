package web

import (
	"net/http"

	"github.com/shelflive/shelflive/internal/wxmini"
)

// miniProgramRoutes serve the WeChat mini-program (miniprogram/) beyond its
// login: its settings and the viewer's subscribe-message grants.
func (s *Server) miniProgramRoutes() []Route {
	api := func(method, path string, acc Access, summary string, h func(w http.ResponseWriter, r *http.Request) error) Route {
		return Route{Method: method, Path: path, Access: acc, API: true, Summary: summary, handler: h}
	}
	return []Route{
		api("GET", "/api/v1/miniprogram/config", Public, "The install's mini-program: appid and the subscribe-message template ids to ask for", s.apiMiniProgramConfig),
		api("GET", "/api/v1/me/miniprogram/subscriptions", Customer, "What the viewer allowed of the mini-program's subscribe messages (credits per template)", s.apiMiniProgramGrants),
		api("POST", "/api/v1/me/miniprogram/subscriptions", Customer, "Keep the viewer's answers to wx.requestSubscribeMessage (each accept allows one message)", s.apiMiniProgramSubscribe),
	}
}

func (s *Server) apiMiniProgramConfig(w http.ResponseWriter, r *http.Request) error {
	mp := s.App.MiniProgram
	if mp == nil {
		return wxmini.ErrOff
	}
	templates := map[string]string{}
	for k, v := range mp.Templates {
		templates[k] = v
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	return writeJSON(w, 200, map[string]any{"appid": mp.AppID, "templates": templates})
}

func (s *Server) apiMiniProgramGrants(w http.ResponseWriter, r *http.Request) error {
	list, err := s.App.MiniProgramGrants(r.Context(), PrincipalFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"grants": list})
}

func (s *Server) apiMiniProgramSubscribe(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Results map[string]string `json:"results"` // template id → accept | reject | ban | filter
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	list, err := s.App.MiniProgramSubscribe(r.Context(), PrincipalFrom(r.Context()), in.Results)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"grants": list})
}
