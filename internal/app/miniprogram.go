package app

import (
	"context"
	"errors"
	"slices"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/notify"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/wxmini"
)

// MiniProgramLogin logs a viewer of the merchant in with the code their
// mini-program got from wx.login: WeChat's jscode2session names the openid,
// which is bound to one customer of this merchant (created on first login).
func (a *App) MiniProgramLogin(ctx context.Context, merchantID int64, code string) (*identity.Customer, string, *identity.Session, error) {
	ws, err := a.MiniProgram.Code2Session(ctx, code)
	if err != nil {
		return nil, "", nil, err
	}
	return a.Identity.LoginWeChatMini(ctx, merchantID, a.MiniProgram.AppID, ws.OpenID, ws.UnionID)
}

// MiniProgramOpenID is the openid the buyer logged into the install's
// mini-program with: a mini-program payment (payment.MethodMiniProgram) is
// made for it. Someone who never logged in there (a phone-only customer,
// staff) has none: openid_required.
func (a *App) MiniProgramOpenID(ctx context.Context, p *identity.Principal) (string, error) {
	if a.MiniProgram == nil {
		return "", wxmini.ErrOff
	}
	if p == nil || p.Kind != identity.KindCustomer {
		return "", payment.ErrNeedOpenID
	}
	openid, err := a.Identity.Store.WeChatMiniOpenID(ctx, p.MerchantID, a.MiniProgram.AppID, p.SubjectID)
	if errors.Is(err, apperr.ErrNotFound) {
		return "", payment.ErrNeedOpenID
	}
	return openid, err
}

// MiniProgramSubscribe keeps what the viewer answered
// wx.requestSubscribeMessage (template id → accept, reject, ban or
// filter): each accept allows one message of that template. Only the
// install's templates are taken; the answer is the viewer's grants.
func (a *App) MiniProgramSubscribe(ctx context.Context, p *identity.Principal, results map[string]string) ([]notify.MiniGrant, error) {
	if a.MiniProgram == nil {
		return nil, wxmini.ErrOff
	}
	known := map[string]bool{}
	for _, id := range a.MiniProgram.Templates {
		known[id] = true
	}
	var accepted []string
	for id, answer := range results {
		if !known[id] {
			return nil, notify.ErrUnknownTemplate.With("订阅消息模板不属于本小程序："+id, "Not one of this mini-program's templates: "+id+".")
		}
		switch answer {
		case notify.MiniAccept:
			accepted = append(accepted, id)
		case notify.MiniReject, notify.MiniBan, notify.MiniFilter:
		default:
			return nil, notify.ErrMiniAnswer
		}
	}
	slices.Sort(accepted) // one lock order for concurrent answers
	if len(accepted) > 0 {
		if err := a.MiniGrants.AddMiniGrants(ctx, p.MerchantID, p.SubjectID, a.MiniProgram.AppID, accepted); err != nil {
			return nil, err
		}
	}
	return a.MiniProgramGrants(ctx, p)
}

// MiniProgramGrants lists the viewer's subscribe-message credits for each
// of the install's templates (0 for one never allowed).
func (a *App) MiniProgramGrants(ctx context.Context, p *identity.Principal) ([]notify.MiniGrant, error) {
	if a.MiniProgram == nil {
		return nil, wxmini.ErrOff
	}
	credits, err := a.MiniGrants.MiniGrantCredits(ctx, p.MerchantID, p.SubjectID, a.MiniProgram.AppID)
	if err != nil {
		return nil, err
	}
	out := []notify.MiniGrant{}
	for _, kind := range []string{wxmini.TemplateLiveStart, wxmini.TemplateOrderReady} {
		if id := a.MiniProgram.Templates[kind]; id != "" {
			out = append(out, notify.MiniGrant{Kind: kind, TemplateID: id, Credits: credits[id]})
		}
	}
	return out, nil
}
