package app

import (
	"context"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/order"
)

// Privacy serves viewers' data requests (export and deletion).
type Privacy interface {
	EraseCustomer(ctx context.Context, merchantID, customerID int64) error
	CustomerComments(ctx context.Context, merchantID, customerID int64) ([]map[string]any, error)
}

// ExportMyData gathers everything ShelfLive keeps about the calling viewer.
func (a *App) ExportMyData(ctx context.Context, p *identity.Principal) (map[string]any, error) {
	c, err := a.Users.Customer(ctx, p.MerchantID, p.SubjectID)
	if err != nil {
		return nil, err
	}
	orders, err := a.Orders.List(ctx, order.Filter{MerchantID: p.MerchantID, CustomerID: p.SubjectID, Limit: 200})
	if err != nil {
		return nil, err
	}
	comments, err := a.Privacy.CustomerComments(ctx, p.MerchantID, p.SubjectID)
	if err != nil {
		return nil, err
	}
	if orders == nil {
		orders = []order.Order{}
	}
	out := map[string]any{"customer": c, "orders": OrderViews(p, orders), "comments": comments, "exported_at": a.Now()}
	if a.Household != nil {
		devices, err := a.Household.Devices(ctx, p.MerchantID, p.SubjectID)
		if err != nil {
			return nil, err
		}
		est, err := a.Household.Estimates(ctx, p.MerchantID, p.SubjectID)
		if err != nil {
			return nil, err
		}
		out["household"] = map[string]any{"devices": devices, "estimates": est}
	}
	if a.Reminders != nil {
		subs, err := a.Reminders.Subscriptions(ctx, p.MerchantID, p.SubjectID)
		if err != nil {
			return nil, err
		}
		inbox, _, err := a.Reminders.Inbox(ctx, p.MerchantID, p.SubjectID, 200)
		if err != nil {
			return nil, err
		}
		rem := map[string]any{"subscriptions": subs, "inbox": inbox}
		if a.Channels != nil && a.Channels.Store != nil {
			prefs, err := a.Channels.Store.Prefs(ctx, p.MerchantID, p.SubjectID)
			if err != nil {
				return nil, err
			}
			rem["channels"] = prefs // how many browsers get pushes; their endpoints are the browsers' own
		}
		out["reminders"] = rem
	}
	if a.WeChatTickets != nil {
		prof, err := a.WeChatTickets.WeChatProfileOf(ctx, p.MerchantID, p.SubjectID)
		if err != nil {
			return nil, err
		}
		out["wechat_profile"] = prof // the shared nickname and consent time (the avatar image: GET /api/v1/me/wechat-profile/avatar)
	}
	return out, nil
}

// EraseMyData deletes the calling viewer's personal data (orders stay, anonymous).
func (a *App) EraseMyData(ctx context.Context, p *identity.Principal) error {
	if err := a.Privacy.EraseCustomer(ctx, p.MerchantID, p.SubjectID); err != nil {
		return err
	}
	a.Identity.Forget(ctx, p.MerchantID, p.SessionID)
	a.Audit.Audit(ctx, p.MerchantID, "customer:"+itoa64(p.SubjectID), "privacy.erase", "customer", "")
	return nil
}
