package app

import (
	"context"

	"github.com/shelflive/shelflive/internal/identity"
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
