package app

import (
	"context"
	"errors"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
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
