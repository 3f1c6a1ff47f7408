package app

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/notify"
	"github.com/shelflive/shelflive/internal/wxapi"
	"github.com/shelflive/shelflive/internal/wxmsg"
)

// WeChatReminders are the WeChat reminder channels' settings: the
// install's mini-program (subscribe messages) and the shops' official
// accounts (template messages, the template in each shop's WeChat Pay
// settings).
type WeChatReminders struct {
	// Mini sends subscribe messages; nil without a mini-program with a
	// live_start template (SHELFLIVE_WECHAT_MINIPROGRAM_TEMPLATES).
	Mini MiniMessages
	// MiniPage is the mini-program page a message opens; "?slug=" and the
	// live's slug are appended (default pages/room/room).
	MiniPage string
	// MiniState is formal, trial or developer (which build the card opens).
	MiniState string
	// Tokens caches access tokens for every node (sqldb.WeChatTicketStore).
	Tokens wxapi.Cache
	// PublicURL prefixes template messages' links.
	PublicURL string
}

// MiniMessages is the mini-program's side of subscribe messages (wxmini.Client).
type MiniMessages interface {
	AccessToken(ctx context.Context) (string, time.Duration, error)
	SendSubscribe(ctx context.Context, token string, m wxmsg.Subscribe) error
}

// officialAccount is a shop's official account that sends template
// messages (wechatpay.Client).
type officialAccount interface {
	AppID() string
	CanSignIn() bool
	ReminderTemplate() string
	AccessToken(ctx context.Context) (string, time.Duration, error)
	SendTemplate(ctx context.Context, token string, m wxmsg.Template) error
}

// reminderNote is thing3 of a reminder message.
func reminderNote(kind string) string {
	if kind == notify.KindStarted {
		return "直播已开始，点击进入直播间"
	}
	return "即将开播，点击进入直播间"
}

var errWeChatOff = errors.New("wechat messages are not configured")

// deliverWeChat sends a subscribe or template message. WeChat's refusal
// (no grant left, not following) is final and marked Refused; a token
// problem is retried once with a fresh token; anything else retries later.
func (a *App) deliverWeChat(ctx context.Context, d *notify.Delivery, r notify.Result, retry func(error) notify.Result) notify.Result {
	w := a.Channels.WeChat
	if w == nil || w.Tokens == nil {
		r.Error = errWeChatOff.Error()
		return r // final: the grant (if any) is freed
	}
	if d.OpenID == "" {
		r.Error = "no openid (no subscribe grant left, or not bound)"
		return r
	}
	starts := d.StartsAt
	if starts.IsZero() || starts.Unix() <= 0 {
		starts = d.Message.CreatedAt
	}
	data := wxmsg.ReminderData(d.Message.Title, starts.In(cn.Shanghai), reminderNote(d.Message.Kind))
	var err error
	switch d.Channel {
	case notify.ChannelWxSub:
		if w.Mini == nil {
			r.Error = errWeChatOff.Error()
			return r
		}
		page := w.MiniPage
		if page == "" {
			page = "pages/room/room"
		}
		m := wxmsg.Subscribe{ToUser: d.OpenID, TemplateID: d.TemplateID, Page: page + "?slug=" + url.QueryEscape(d.Slug), State: w.MiniState, Lang: "zh_CN", Data: data}
		err = wxapi.Call(ctx, w.Tokens, "at:"+d.AppID, w.Mini.AccessToken, wxmsg.IsTokenError, func(tok string) error { return w.Mini.SendSubscribe(ctx, tok, m) })
	case notify.ChannelWxTpl:
		p, perr := a.provider(ctx, d.MerchantID, "wechatpay")
		oa, ok := p.(officialAccount)
		if perr != nil || !ok || !oa.CanSignIn() || oa.ReminderTemplate() == "" {
			r.Error = "the shop's official account sends no template messages"
			return r
		}
		base := w.PublicURL
		if base == "" && a.Pay.PublicURL != nil {
			base = a.Pay.PublicURL() // the node's own address (dev, tests)
		}
		link := strings.TrimRight(base, "/") + d.Message.URL
		m := wxmsg.Template{ToUser: d.OpenID, TemplateID: oa.ReminderTemplate(), URL: link, Data: data}
		err = wxapi.Call(ctx, w.Tokens, "at:"+oa.AppID(), oa.AccessToken, wxmsg.IsTokenError, func(tok string) error { return oa.SendTemplate(ctx, tok, m) })
	}
	switch {
	case err == nil:
		r.Sent = true
		return r
	case wxmsg.IsRefused(err):
		r.Refused, r.Error = true, err.Error()
		return r
	}
	return retry(err)
}
