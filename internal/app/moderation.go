package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/moderation"
)

// ModTopic is the realtime topic of a merchant's moderation events
// (reports, mutes): the studio of hosts and moderators follows it.
func ModTopic(merchantID int64) string { return "mod:" + strconv.FormatInt(merchantID, 10) }

// AutoMute is how long a viewer who keeps sending refused spam is muted.
const AutoMute = 10 * time.Minute

// restricted refuses a viewer muted in the room or banned in the merchant.
func (a *App) restricted(ctx context.Context, room *live.Room, p *identity.Principal) error {
	if a.Moderation == nil {
		return nil
	}
	r, err := a.Moderation.Restricted(ctx, room.MerchantID, room.ID, p.SubjectID, a.Now())
	if err != nil || r == nil {
		return err
	}
	zh, en := "你已被禁言", "You have been muted in this room."
	if r.Scope == moderation.ScopeMerchant {
		zh, en = "你已被本店所有直播间禁言", "You have been muted in all of this shop's rooms."
	}
	if r.Until != nil {
		l := r.Until.In(cn.Shanghai)
		zh += "，至 " + l.Format("1月2日 15:04")
		en += " Until " + l.Format("2 Jan 15:04") + " (China time)."
	}
	return live.ErrBanned.With(zh, en)
}

// screen applies the merchant's word list and the contact-detail signals
// to a comment the shared filter let through: a blocking word refuses it
// (comment_blocked), masking words are shown as ＊, a phone number or
// WeChat ID refuses it (comment_contact).
func (a *App) screen(ctx context.Context, room *live.Room, text string) (string, error) {
	if a.Words != nil {
		set, err := a.Words.Get(ctx, room.MerchantID)
		if err != nil {
			return "", err
		}
		block, mask := set.Match(text)
		if block != "" {
			return "", live.ErrCommentBlocked
		}
		if len(mask) > 0 {
			masked, ok := moderation.Mask(text, mask)
			if !ok {
				return "", live.ErrCommentBlocked
			}
			text = masked
		}
	}
	if moderation.Contact(text) != "" {
		return "", moderation.ErrContact
	}
	return text, nil
}

// spam says whether a refusal counts as a strike toward the automatic mute:
// blocked words, links, repeats and contact details do. A flood does not:
// its refusal already slows the viewer, and clients that retry after 429
// would otherwise mute themselves.
func spam(err error) bool {
	for _, e := range []error{live.ErrCommentBlocked, live.ErrCommentLink, live.ErrCommentRepeat, moderation.ErrContact} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// strike counts a viewer's refused spam; the Strikes.Limit-th within the
// window mutes the viewer in the room for AutoMute (audited, the studio is
// told). The refusal the viewer gets is the comment's own.
func (a *App) strike(ctx context.Context, room *live.Room, p *identity.Principal) {
	if a.Strikes == nil || a.Moderation == nil {
		return
	}
	now := a.Now()
	if !a.Strikes.Add(strconv.FormatInt(room.MerchantID, 10)+":"+UserKey(p), now) {
		return
	}
	until := now.Add(AutoMute)
	r := &moderation.Restriction{MerchantID: room.MerchantID, CustomerID: p.SubjectID, CustomerName: p.Name, RoomID: room.ID, Scope: moderation.ScopeRoom,
		Until: &until, Reason: "自动禁言：连续发送垃圾信息 auto: repeated spam", By: "自动 auto"}
	if err := a.Moderation.Restrict(ctx, r); err != nil {
		a.Logger.Error("auto mute", "room", room.ID, "customer", p.SubjectID, "err", err)
		return
	}
	r.RoomSlug = room.Slug
	a.Audit.Audit(ctx, room.MerchantID, r.By, "moderation.auto_mute", "room:"+room.Slug, fmt.Sprintf("customer:%d until %s", p.SubjectID, until.UTC().Format(time.RFC3339)))
	a.publish(ModTopic(room.MerchantID), "moderation.restricted", r)
}

// MuteRequest is what a moderator asks for against a comment's author.
type MuteRequest struct {
	Minutes int    `json:"minutes"` // 0: until lifted
	Scope   string `json:"scope"`   // room (default) or merchant (a ban across the shop's rooms)
	Reason  string `json:"reason"`
}

// MuteAuthor restricts the author of a comment in the room (or, scope
// merchant, in every room of the merchant) and removes the comment.
func (a *App) MuteAuthor(ctx context.Context, p *identity.Principal, room *live.Room, commentID int64, req MuteRequest) (*moderation.Restriction, error) {
	if req.Minutes < 0 || req.Minutes > moderation.MaxMinutes {
		return nil, moderation.ErrInvalidMinutes
	}
	if req.Scope == "" {
		req.Scope = moderation.ScopeRoom
	}
	c, err := a.Live.Comment(ctx, p.MerchantID, room.ID, commentID)
	if err != nil {
		return nil, err
	}
	if c.AuthorKind != "customer" {
		return nil, moderation.ErrCannotRestrictStaff
	}
	r := &moderation.Restriction{MerchantID: p.MerchantID, CustomerID: c.AuthorID, CustomerName: c.AuthorName, RoomID: room.ID, Scope: req.Scope, Reason: req.Reason, By: p.Name}
	if req.Minutes > 0 {
		until := a.Now().Add(time.Duration(req.Minutes) * time.Minute)
		r.Until = &until
	}
	if err := a.Moderation.Restrict(ctx, r); err != nil {
		return nil, err
	}
	if r.Scope == moderation.ScopeRoom {
		r.RoomSlug = room.Slug
	}
	if err := a.DeleteComment(ctx, p, room, commentID); err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return nil, err
	}
	action := "moderation.mute"
	if r.Scope == moderation.ScopeMerchant {
		action = "moderation.ban"
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, action, "room:"+room.Slug, fmt.Sprintf("%s (customer:%d) %d min %s", c.AuthorName, c.AuthorID, req.Minutes, req.Reason))
	a.publish(ModTopic(p.MerchantID), "moderation.restricted", r)
	return r, nil
}

// Unmute lifts a restriction now.
func (a *App) Unmute(ctx context.Context, p *identity.Principal, id int64) (*moderation.Restriction, error) {
	r, err := a.Moderation.Lift(ctx, p.MerchantID, id, p.Name, a.Now())
	if err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "moderation.unmute", fmt.Sprintf("restriction:%d", id), fmt.Sprintf("%s (customer:%d)", r.CustomerName, r.CustomerID))
	a.publish(ModTopic(p.MerchantID), "moderation.lifted", r)
	return r, nil
}

// Restrictions lists the merchant's restrictions (active ones, or all).
func (a *App) Restrictions(ctx context.Context, p *identity.Principal, activeOnly bool) ([]moderation.Restriction, error) {
	return a.Moderation.Restrictions(ctx, p.MerchantID, activeOnly, a.Now())
}

// ReportComment records a viewer's report of a comment in the room and
// tells the merchant's moderators.
func (a *App) ReportComment(ctx context.Context, p *identity.Principal, room *live.Room, commentID int64, reason, note string) (*moderation.Report, error) {
	if p == nil || p.IsStaff() {
		return nil, apperr.ErrLoginRequired.With("登录后才能举报", "Log in to report.")
	}
	if p.MerchantID != room.MerchantID {
		return nil, apperr.ErrNotFound
	}
	c, err := a.Live.Comment(ctx, room.MerchantID, room.ID, commentID)
	if err != nil {
		return nil, err
	}
	if c.AuthorKind == "customer" && c.AuthorID == p.SubjectID {
		return nil, moderation.ErrCannotReportOwn
	}
	r := &moderation.Report{MerchantID: room.MerchantID, RoomID: room.ID, RoomSlug: room.Slug, CommentID: c.ID, CommentBody: c.Body, AuthorID: c.AuthorID, AuthorName: c.AuthorName,
		ReporterID: p.SubjectID, Reason: reason, Note: note}
	if err := a.Moderation.AddReport(ctx, r); err != nil {
		return nil, err
	}
	a.publish(ModTopic(room.MerchantID), "moderation.report", r)
	return r, nil
}

// Reports lists the merchant's reports with a status ("" for all).
func (a *App) Reports(ctx context.Context, p *identity.Principal, status string) ([]moderation.Report, error) {
	switch status {
	case "", moderation.ReportOpen, moderation.ReportUpheld, moderation.ReportDismissed:
	default:
		return nil, apperr.ErrInvalidStatus.With("状态须为 open、upheld 或 dismissed", "status must be open, upheld or dismissed.")
	}
	return a.Moderation.Reports(ctx, p.MerchantID, status, 200)
}

// DecideReport settles every open report of a comment: uphold removes the
// comment, dismiss keeps it.
func (a *App) DecideReport(ctx context.Context, p *identity.Principal, id int64, decision string) (*moderation.Report, error) {
	// An unknown decision is refused by the store once the report is found
	// (another tenant's report is not found, whatever the body says).
	status := map[string]string{"uphold": moderation.ReportUpheld, "dismiss": moderation.ReportDismissed}[decision]
	r, err := a.Moderation.DecideReports(ctx, p.MerchantID, id, status, p.Name, a.Now())
	if err != nil {
		return nil, err
	}
	if status == moderation.ReportUpheld {
		room, err := a.Live.Room(ctx, p.MerchantID, r.RoomID)
		if err != nil {
			return nil, err
		}
		if err := a.DeleteComment(ctx, p, room, r.CommentID); err != nil && !errors.Is(err, apperr.ErrNotFound) {
			return nil, err
		}
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "moderation.report."+decision, fmt.Sprintf("comment:%d", r.CommentID), r.Reason)
	a.publish(ModTopic(p.MerchantID), "moderation.decided", r)
	return r, nil
}

// ModerationWords returns the merchant's word list.
func (a *App) ModerationWords(ctx context.Context, p *identity.Principal) ([]moderation.Word, error) {
	return a.Moderation.Words(ctx, p.MerchantID)
}

// SetModerationWords replaces the merchant's word list; this node's
// comment path sees it at once, other nodes within the cache's TTL.
func (a *App) SetModerationWords(ctx context.Context, p *identity.Principal, words []moderation.Word) ([]moderation.Word, error) {
	words, err := moderation.CleanWords(words)
	if err != nil {
		return nil, err
	}
	if err := a.Moderation.SetWords(ctx, p.MerchantID, words); err != nil {
		return nil, err
	}
	if a.Words != nil {
		a.Words.Invalidate(p.MerchantID)
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "moderation.words", "words", fmt.Sprintf("%d words", len(words)))
	return words, nil
}
