package web

import (
	"net/http"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/notify"
	"github.com/shelflive/shelflive/internal/notify/webpush"
)

// pushRoutes: reminders by Web Push and SMS — the install's VAPID key, a
// browser's subscription, the viewer's channel choices, one-tap opt-out
// and the service worker.
func (s *Server) pushRoutes() []Route {
	api := func(method, path string, acc Access, summary string, h func(w http.ResponseWriter, r *http.Request) error) Route {
		return Route{Method: method, Path: path, Access: acc, API: true, Summary: summary, handler: h}
	}
	return []Route{
		api("GET", "/api/v1/push/key", Public, "The install's VAPID public key (applicationServerKey) for PushManager.subscribe", s.apiPushKey),
		api("POST", "/api/v1/me/push-subscriptions", Customer, "Keep this browser's Web Push subscription (PushSubscription.toJSON())", s.apiSavePush),
		api("DELETE", "/api/v1/me/push-subscriptions", Customer, "Forget this browser's Web Push subscription", s.apiDeletePush),
		api("GET", "/api/v1/me/notify-prefs", Customer, "The viewer's reminder channels: Web Push (on by default), SMS (opt-in), WeChat subscribe and template messages", s.apiNotifyPrefs),
		api("PUT", "/api/v1/me/notify-prefs", Customer, "Choose reminder channels; turning one off drops its unsent reminders", s.apiSetNotifyPrefs),
		{Method: "GET", Path: "/notify/off/{token}", Access: Public, Summary: "One-tap opt-out of a reminder channel (the link in every push and text)", handler: s.pageOptOut},
		{Method: "GET", Path: "/sw.js", Access: Public, Summary: "The service worker that shows reminder pushes", handler: s.handleServiceWorker},
	}
}

func (s *Server) channels() (*notifyChannels, error) {
	if s.App.Channels == nil || s.App.Channels.Push == nil {
		return nil, apperr.ErrNotFound
	}
	return &notifyChannels{store: s.App.Channels.Store, vapid: s.App.Channels.Push.VAPID}, nil
}

type notifyChannels struct {
	store notify.Channels
	vapid *webpush.VAPID
}

func (s *Server) apiPushKey(w http.ResponseWriter, r *http.Request) error {
	c, err := s.channels()
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	return writeJSON(w, 200, map[string]any{"public_key": c.vapid.PublicKey()})
}

// pushSubscriptionJSON is PushSubscription.toJSON().
type pushSubscriptionJSON struct {
	Endpoint       string   `json:"endpoint"`
	ExpirationTime *float64 `json:"expirationTime"`
	Keys           struct {
		P256DH string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

func (s *Server) apiSavePush(w http.ResponseWriter, r *http.Request) error {
	c, err := s.channels()
	if err != nil {
		return err
	}
	var in pushSubscriptionJSON
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sub := webpush.Subscription{Endpoint: in.Endpoint, P256DH: in.Keys.P256DH, Auth: in.Keys.Auth}
	if err := sub.Check(s.DevMode); err != nil {
		return notify.ErrBadPushSubscription.With("浏览器推送订阅无效："+err.Error(), "The browser's push subscription is not valid: "+err.Error()+".")
	}
	p := PrincipalFrom(r.Context())
	if err := c.store.SavePushSubscription(r.Context(), p.MerchantID, p.SubjectID, notify.PushSub{Endpoint: sub.Endpoint, P256DH: sub.P256DH, Auth: sub.Auth}); err != nil {
		return err
	}
	return s.apiNotifyPrefs(w, r)
}

func (s *Server) apiDeletePush(w http.ResponseWriter, r *http.Request) error {
	c, err := s.channels()
	if err != nil {
		return err
	}
	var in struct {
		Endpoint string `json:"endpoint"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	if err := c.store.DeletePushSubscription(r.Context(), p.MerchantID, p.SubjectID, in.Endpoint); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiNotifyPrefs(w http.ResponseWriter, r *http.Request) error {
	c, err := s.channels()
	if err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	prefs, err := c.store.Prefs(r.Context(), p.MerchantID, p.SubjectID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"push": prefs.Push, "sms": prefs.SMS, "push_devices": prefs.PushDevices,
		"sms_available": s.App.Channels.SMS != nil, "quiet_hours": map[string]int{"from": notify.QuietFrom, "until": notify.QuietUntil},
		"wx_sub": prefs.WxSub, "wx_sub_grants": prefs.WxSubGrants, "wx_tpl": prefs.WxTpl, "wx_bound": prefs.WxBound})
}

func (s *Server) apiSetNotifyPrefs(w http.ResponseWriter, r *http.Request) error {
	c, err := s.channels()
	if err != nil {
		return err
	}
	var in struct {
		Push  *bool `json:"push"`
		SMS   *bool `json:"sms"`
		WxSub *bool `json:"wx_sub"`
		WxTpl *bool `json:"wx_tpl"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	cur, err := c.store.Prefs(r.Context(), p.MerchantID, p.SubjectID)
	if err != nil {
		return err
	}
	if in.Push != nil {
		cur.Push = *in.Push
	}
	if in.SMS != nil {
		cur.SMS = *in.SMS
	}
	if err := c.store.SetPrefs(r.Context(), p.MerchantID, p.SubjectID, cur.Push, cur.SMS); err != nil {
		return err
	}
	if in.WxSub != nil || in.WxTpl != nil {
		if in.WxSub != nil {
			cur.WxSub = *in.WxSub
		}
		if in.WxTpl != nil {
			cur.WxTpl = *in.WxTpl
		}
		if err := c.store.SetWeChatPrefs(r.Context(), p.MerchantID, p.SubjectID, cur.WxSub, cur.WxTpl); err != nil {
			return err
		}
	}
	return s.apiNotifyPrefs(w, r)
}

// pageOptOut turns one channel off for the link's customer, no login.
func (s *Server) pageOptOut(w http.ResponseWriter, r *http.Request) error {
	c, err := s.channels()
	if err != nil {
		return err
	}
	merchantID, customerID, channel, ok := notify.ParseOptOut(s.App.Channels.OptOutKey, r.PathValue("token"))
	if !ok {
		return apperr.ErrNotFound // a forged or mangled link
	}
	cur, err := c.store.Prefs(r.Context(), merchantID, customerID)
	if err != nil {
		return err
	}
	var err2 error
	switch channel {
	case notify.ChannelPush:
		err2 = c.store.SetPrefs(r.Context(), merchantID, customerID, false, cur.SMS)
	case notify.ChannelSMS:
		err2 = c.store.SetPrefs(r.Context(), merchantID, customerID, cur.Push, false)
	case notify.ChannelWxSub:
		err2 = c.store.SetWeChatPrefs(r.Context(), merchantID, customerID, false, cur.WxTpl)
	case notify.ChannelWxTpl:
		err2 = c.store.SetWeChatPrefs(r.Context(), merchantID, customerID, cur.WxSub, false)
	}
	if err2 != nil {
		return err2
	}
	return s.render(w, r, 200, "optout.html", map[string]any{"Channel": channel})
}

// handleServiceWorker serves sw.js at the root so its scope is the site.
func (s *Server) handleServiceWorker(w http.ResponseWriter, r *http.Request) error {
	b, err := embedded.ReadFile("assets/sw.js")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Service-Worker-Allowed", "/")
	_, err = w.Write(b)
	return err
}
