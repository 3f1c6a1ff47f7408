package node

// Reaching people outside the page: login codes and reminders by SMS,
// Web Push and WeChat messages, and the quiet hours they keep.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/notify"
	"github.com/shelflive/shelflive/internal/notify/webpush"
	"github.com/shelflive/shelflive/internal/sms"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/webhooks"
	"github.com/shelflive/shelflive/internal/wxmini"
)

// openSMS picks how login codes reach viewers: a real provider (with each
// shop's own sign name and template where it set them), the dev
// sender (dev mode: code on screen and in the log), or — in production
// without SHELFLIVE_SMS — one that refuses, since a production node must
// never show or log a code.
func (m *Main) openSMS(db *sqldb.DB) (identity.SMS, error) {
	c := m.Config.SMS
	switch {
	case c.Provider == "dev" && m.Config.DevMode:
		return identity.DevSMS{Logger: m.Logger}, nil
	case c.Provider == "dev" || c.Provider == "":
		m.Logger.Warn("SMS is not configured (SHELFLIVE_SMS=aliyun|tencent): viewers cannot get login codes")
		return sms.Off{}, nil
	}
	s, err := sms.New(sms.Config{Provider: c.Provider, KeyID: c.KeyID, KeySecret: c.KeySecret, SignName: c.SignName,
		Template: c.Template, AppID: c.AppID, Region: c.Region, BaseURL: c.BaseURL})
	if err != nil {
		return nil, err
	}
	m.Logger.Info("login codes by SMS", "provider", c.Provider, "sign_name", c.SignName)
	return &sms.PerMerchant{Sender: s, Store: &sqldb.SMSSettingsStore{DB: db}}, nil
}

// openChannels sets up reminders beyond the inbox: Web Push with the
// install's VAPID key (made once from the cluster secret "vapid", so every
// node signs alike) and, with a provider and a reminder template, SMS.
func (m *Main) openChannels(ctx context.Context, db *sqldb.DB, a *app.App) error {
	c := m.Config
	seed, err := db.ClusterSecret(ctx, "vapid")
	if err != nil {
		return fmt.Errorf("cluster secret: %w", err)
	}
	optOut, err := db.ClusterSecret(ctx, "optout")
	if err != nil {
		return fmt.Errorf("cluster secret: %w", err)
	}
	subject := "mailto:webpush@shelflive.dev"
	if strings.HasPrefix(c.PublicURL, "https://") {
		subject = strings.TrimRight(c.PublicURL, "/")
	}
	vapid, err := webpush.NewVAPID(seed, subject)
	if err != nil {
		return fmt.Errorf("vapid: %w", err)
	}
	// Push endpoints come from browsers: outside dev mode only public
	// https addresses (the webhooks' guarded dialer).
	client := webhooks.GuardedClient(c.DevMode, 10*time.Second)
	if tr, ok := client.Transport.(*http.Transport); ok {
		tr.MaxIdleConnsPerHost = 64 // a few push services take every push
	}
	quiet, err := parseQuiet(c.QuietHours)
	if err != nil {
		return err
	}
	if rs, ok := a.Reminders.(*sqldb.ReminderStore); ok {
		rs.Quiet = &quiet
	}
	if hs, ok := a.Household.(*sqldb.HouseholdStore); ok {
		hs.Quiet = &quiet
	}
	if ss, ok := a.Tracking.Store.(*sqldb.ShipmentStore); ok {
		ss.Quiet = &quiet
	}
	if ts, ok := a.Trials.(*sqldb.TrialStore); ok {
		ts.Quiet = &quiet
	}
	ch := &app.Channels{Store: a.Reminders.(notify.Channels), Push: &webpush.Client{VAPID: vapid, HTTP: client, Now: db.Now}, OptOutKey: optOut, Quiet: quiet}
	// WeChat: template messages through each shop's official account, and
	// subscribe messages through the install's mini-program when it has a
	// reminder template. Access tokens are cached for every node.
	ch.WeChat = &app.WeChatReminders{Tokens: &sqldb.WeChatTicketStore{DB: db}, PublicURL: c.PublicURL, MiniPage: c.MiniProgramRoomPage, MiniState: c.MiniProgramState}
	if a.MiniProgram != nil && a.MiniProgram.Templates[wxmini.TemplateLiveStart] != "" {
		ch.WeChat.Mini = a.MiniProgram
		if rs, ok := a.Reminders.(*sqldb.ReminderStore); ok {
			// reminders spend the viewers' credits of this template
			rs.MiniAppID, rs.MiniTemplate = a.MiniProgram.AppID, a.MiniProgram.Templates[wxmini.TemplateLiveStart]
		}
	}
	switch {
	case (c.SMS.Provider == "aliyun" || c.SMS.Provider == "tencent") && c.SMS.ReminderTemplate != "":
		s, err := sms.New(sms.Config{Provider: c.SMS.Provider, KeyID: c.SMS.KeyID, KeySecret: c.SMS.KeySecret, SignName: c.SMS.SignName,
			Template: c.SMS.ReminderTemplate, AppID: c.SMS.AppID, Region: c.SMS.Region, BaseURL: c.SMS.BaseURL})
		if err != nil {
			return fmt.Errorf("sms reminders: %w", err)
		}
		ch.SMS = func(ctx context.Context, phone, text string) error {
			if r := []rune(text); len(r) > 20 {
				text = string(r[:20])
			}
			return s.SendCode(ctx, phone, text, sms.Settings{})
		}
	case c.SMS.Provider == "dev" && c.DevMode:
		ch.SMS = func(ctx context.Context, phone, text string) error {
			m.Logger.Info("dev SMS reminder", "phone", identity.MaskPhone(phone), "text", text)
			return nil
		}
	}
	a.Channels = ch
	return nil
}

// parseQuiet reads "22-8" (China time hours) or "off".
func parseQuiet(v string) (notify.Quiet, error) {
	if v == "off" || v == "" {
		return notify.Quiet{Off: true}, nil
	}
	var q notify.Quiet
	if _, err := fmt.Sscanf(v, "%d-%d", &q.From, &q.Until); err != nil || q.From < 0 || q.From > 23 || q.Until < 0 || q.Until > 23 {
		return q, fmt.Errorf("quiet hours %q: want FROM-UNTIL hours (e.g. 22-8) or off", v)
	}
	return q, nil
}
