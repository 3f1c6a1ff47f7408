package app

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/wecom"
	"github.com/shelflive/shelflive/internal/wxapi"
)

// WeCom is the merchants' WeCom (企业微信) side: their connections and
// guides' userids (Store), the API client and the shared token cache.
type WeCom struct {
	Store  wecom.Store
	Client *wecom.Client
	Tokens wxapi.Cache // nil: a token per send
}

// WeComSettingsView is what the API shows of a connection: never the secret.
type WeComSettingsView struct {
	Connected bool   `json:"connected"`
	CorpID    string `json:"corp_id"`
	SecretSet bool   `json:"secret_set"`
}

// WeComSettings shows the merchant's connection.
func (a *App) WeComSettings(ctx context.Context, merchantID int64) (WeComSettingsView, error) {
	if a.WeCom == nil {
		return WeComSettingsView{}, nil
	}
	st, err := a.WeCom.Store.WeComSettings(ctx, merchantID)
	if err != nil || st == nil {
		return WeComSettingsView{}, err
	}
	return WeComSettingsView{Connected: true, CorpID: st.CorpID, SecretSet: st.Secret != ""}, nil
}

// SetWeComSettings connects the shop's WeCom; an empty secret keeps the
// stored one (the form never shows it back).
func (a *App) SetWeComSettings(ctx context.Context, p *identity.Principal, corpID, secret string) error {
	if a.WeCom == nil {
		return wecom.ErrOff
	}
	corpID, secret = strings.TrimSpace(corpID), strings.TrimSpace(secret)
	if secret == "" {
		if old, err := a.WeCom.Store.WeComSettings(ctx, p.MerchantID); err == nil && old != nil {
			secret = old.Secret
		}
	}
	if corpID == "" || secret == "" || len(corpID) > 64 || len(secret) > 128 {
		return wecom.ErrInvalid
	}
	if err := a.WeCom.Store.SetWeComSettings(ctx, p.MerchantID, wecom.Settings{CorpID: corpID, Secret: secret}); err != nil {
		return err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "wecom.connect", "wecom:"+corpID, "")
	return nil
}

// SetWeComUserID sets (or, empty, clears) a staff member's WeCom userid.
func (a *App) SetWeComUserID(ctx context.Context, p *identity.Principal, staffID int64, userID string) error {
	if a.WeCom == nil {
		return wecom.ErrOff
	}
	userID = strings.TrimSpace(userID)
	if len(userID) > 64 {
		return wecom.ErrInvalidUserID
	}
	if _, err := a.Users.Staff(ctx, p.MerchantID, staffID); err != nil {
		return err
	}
	if err := a.WeCom.Store.SetWeComUserID(ctx, p.MerchantID, staffID, userID); err != nil {
		return err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "wecom.userid", "staff:"+strconv.FormatInt(staffID, 10), userID)
	return nil
}

// WeComReady says whether the calling staff member can send to WeCom:
// the shop is connected and they have a userid.
func (a *App) WeComReady(ctx context.Context, p *identity.Principal) bool {
	if a.WeCom == nil {
		return false
	}
	st, err := a.WeCom.Store.WeComSettings(ctx, p.MerchantID)
	if err != nil || st == nil {
		return false
	}
	u, err := a.WeCom.Store.WeComUserID(ctx, p.MerchantID, p.SubjectID)
	return err == nil && u != ""
}

// SendWeCom creates a 群发 task in WeCom from the calling guide to their
// external contacts: the room's text and a link carrying the guide's
// signed share code (publicURL + "/live/" + slug + "?g=" + code). Sending
// the same room again the same China day answers the first task.
func (a *App) SendWeCom(ctx context.Context, p *identity.Principal, room *live.Room, publicURL string) (wecom.Result, error) {
	if a.WeCom == nil {
		return wecom.Result{}, wecom.ErrOff
	}
	if room.MerchantID != p.MerchantID {
		return wecom.Result{}, apperr.ErrNotFound
	}
	if room.Status == live.Ended {
		return wecom.Result{}, live.ErrRoomEnded
	}
	set, err := a.WeCom.Store.WeComSettings(ctx, p.MerchantID)
	if err != nil {
		return wecom.Result{}, err
	}
	if set == nil {
		return wecom.Result{}, wecom.ErrOff
	}
	userID, err := a.WeCom.Store.WeComUserID(ctx, p.MerchantID, p.SubjectID)
	if err != nil {
		return wecom.Result{}, err
	}
	if userID == "" {
		return wecom.Result{}, wecom.ErrNoUserID
	}
	day := a.Now().In(cn.Shanghai).Format("2006-01-02")
	if prev, err := a.WeCom.Store.WeComSent(ctx, p.MerchantID, p.SubjectID, room.Slug, day); err != nil {
		return wecom.Result{}, err
	} else if prev != nil {
		prev.Repeated = true
		return *prev, nil
	}
	code, _ := a.ShareCode(ctx, p, room, "")
	link := publicURL + "/live/" + room.Slug
	if code != "" {
		link += "?g=" + url.QueryEscape(code)
	}
	text := "直播预告：" + room.Title
	desc := "点击进入直播间"
	if room.Status == live.Live {
		text, desc = "正在直播："+room.Title, "直播进行中，点击进入"
	} else if room.ScheduledAt != nil {
		desc = "开播时间 " + room.ScheduledAt.In(cn.Shanghai).Format("01-02 15:04")
	}
	pic := room.Poster
	if strings.HasPrefix(pic, "/") {
		pic = publicURL + pic
	}
	msg := wecom.MsgTemplate{ChatType: "single", Sender: userID, Text: wecom.Text{Content: text},
		Attachments: []wecom.Attachment{{MsgType: "link", Link: &wecom.Link{Title: room.Title, Desc: desc, PicURL: pic, URL: link}}}}
	fetch := func(ctx context.Context) (string, time.Duration, error) {
		return a.WeCom.Client.AccessToken(ctx, set.CorpID, set.Secret)
	}
	var res wecom.Result
	send := func(tok string) error {
		var err error
		res, err = a.WeCom.Client.AddMsgTemplate(ctx, tok, msg)
		return err
	}
	if a.WeCom.Tokens != nil {
		err = wxapi.Call(ctx, a.WeCom.Tokens, "wecom:"+set.CorpID, fetch, wecom.IsTokenError, send)
	} else {
		var tok string
		if tok, _, err = fetch(ctx); err == nil {
			err = send(tok)
		}
	}
	var we *wecom.Error
	if errors.As(err, &we) {
		return wecom.Result{}, wecom.ErrWeCom.With("企业微信错误 errcode "+strconv.Itoa(we.Code), "WeCom errcode "+strconv.Itoa(we.Code)).Wrap(err)
	}
	if err != nil {
		return wecom.Result{}, wecom.ErrWeCom.Wrap(err)
	}
	if err := a.WeCom.Store.RecordWeComSent(ctx, p.MerchantID, p.SubjectID, room.Slug, day, res); err != nil {
		return wecom.Result{}, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "wecom.send", "room:"+room.Slug, res.MsgID)
	return res, nil
}
