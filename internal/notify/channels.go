package notify

import (
	"context"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cn"
)

// Channels beyond the inbox. The inbox always gets the reminder; a
// channel gets one delivery per inbox message (its key is the message
// and the channel), so a viewer is pushed once per live and lead time
// however many nodes run the job.
const (
	ChannelPush = "push" // Web Push to every browser the viewer subscribed (on unless opted out)
	ChannelSMS  = "sms"  // a text to the account's phone (opt-in)
	// ChannelWxSub is a WeChat mini-program subscribe message (订阅消息):
	// it needs one of the viewer's credits of the live_start template
	// (wechat_mini_grants: each 允许 in the mini-program allows one
	// message) and spends it.
	ChannelWxSub = "wx_sub"
	// ChannelWxTpl is a WeChat official account template message (模板消息)
	// to the openid bound to the viewer (on unless opted out; WeChat
	// delivers it to followers only).
	ChannelWxTpl = "wx_tpl"
)

// AllChannels lists every channel beyond the inbox.
var AllChannels = []string{ChannelPush, ChannelSMS, ChannelWxSub, ChannelWxTpl}

// Quiet hours in China time: no push or text between QuietFrom and
// QuietUntil o'clock; such deliveries wait for the morning (the inbox has
// them at once).
const (
	QuietFrom  = 22
	QuietUntil = 8
)

// Quiet is an install's quiet hours (China time, whole hours); Off sends
// at any hour (SHELFLIVE_QUIET_HOURS=off).
type Quiet struct {
	From, Until int
	Off         bool
}

// DefaultQuiet is 22:00–08:00.
var DefaultQuiet = Quiet{From: QuietFrom, Until: QuietUntil}

// NotBefore is when a channel may deliver something due at t: t, or the
// next Until o'clock when t falls in the quiet hours.
func (q Quiet) NotBefore(t time.Time) time.Time {
	if q.Off || q.From == q.Until {
		return t
	}
	l := t.In(cn.Shanghai)
	h := l.Hour()
	in := h >= q.From || h < q.Until
	if q.From < q.Until {
		in = h >= q.From && h < q.Until
	}
	if !in {
		return t
	}
	day := l
	if h >= q.Until {
		day = l.AddDate(0, 0, 1)
	}
	return time.Date(day.Year(), day.Month(), day.Day(), q.Until, 0, 0, 0, cn.Shanghai).UTC()
}

// NotBefore applies the default quiet hours.
func NotBefore(t time.Time) time.Time { return DefaultQuiet.NotBefore(t) }

// Prefs are a viewer's channel choices.
type Prefs struct {
	Push        bool `json:"push"`          // Web Push (on by default once a browser subscribed)
	SMS         bool `json:"sms"`           // texts (off until the viewer opts in)
	PushDevices int  `json:"push_devices"`  // browsers subscribed
	WxSub       bool `json:"wx_sub"`        // mini-program subscribe messages (on; each needs a grant)
	WxTpl       bool `json:"wx_tpl"`        // official account template messages (on)
	WxSubGrants int  `json:"wx_sub_grants"` // live reminders the viewer allowed in the mini-program and not yet used
	WxBound     bool `json:"wx_bound"`      // an official account openid is bound to the viewer
}

// PushSub is one browser's Web Push subscription.
type PushSub struct {
	ID       int64
	Endpoint string
	P256DH   string
	Auth     string
}

// Delivery is one message to send on one channel, claimed by the sender.
type Delivery struct {
	InboxID    int64
	Channel    string
	MerchantID int64
	CustomerID int64
	Attempts   int
	Message    Message
	Phone      string    // ChannelSMS
	Subs       []PushSub // ChannelPush: the viewer's browsers
	// ChannelWxSub: the mini-program openid and the template whose credit
	// this delivery holds (empty OpenID: no credit left, or no login);
	// ChannelWxTpl: the bound official account openid.
	AppID, OpenID, TemplateID string
	Slug                      string    // the live's slug (links into the mini-program)
	StartsAt                  time.Time // the live's scheduled (or actual) start
}

// Result is what became of a delivery.
type Result struct {
	InboxID int64
	Channel string
	Sent    bool
	Error   string
	Retry   time.Time // zero: final (sent, or given up)
	// Refused: WeChat said the viewer does not accept it (43101: no grant
	// left; 43004: not following). Final; a subscribe credit is spent and
	// the viewer's other credits of the template are dropped.
	Refused bool
}

// Errors of the channel routes.
var (
	ErrBadPushSubscription = apperr.InvalidField("endpoint", "invalid_push_subscription", "浏览器推送订阅无效", "The browser's push subscription is not valid.")
)

// Channels keeps push subscriptions, channel choices and the deliveries.
type Channels interface {
	SavePushSubscription(ctx context.Context, merchantID, customerID int64, s PushSub) error
	DeletePushSubscription(ctx context.Context, merchantID, customerID int64, endpoint string) error
	// RemovePushEndpoint forgets a subscription the push service says is gone.
	RemovePushEndpoint(ctx context.Context, endpoint string) error
	Prefs(ctx context.Context, merchantID, customerID int64) (Prefs, error)
	SetPrefs(ctx context.Context, merchantID, customerID int64, push, sms bool) error
	// SetWeChatPrefs switches the WeChat channels; off drops their unsent
	// deliveries (a subscribe grant they held is freed).
	SetWeChatPrefs(ctx context.Context, merchantID, customerID int64, sub, tpl bool) error
	// ClaimDeliveries takes up to limit due deliveries for lease (another
	// claimer skips them until it runs out) with their messages.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// FinishDeliveries records results in one transaction.
	FinishDeliveries(ctx context.Context, now time.Time, results []Result) error
}
