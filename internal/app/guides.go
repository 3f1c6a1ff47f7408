package app

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/guides"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
)

// Attribute turns a signed share code into what an order keeps: the
// guide's code for a staff sharer who still has one and is not disabled,
// "c<id base 36>" for a viewer who shared (never the buyer themself), ""
// for anything else — a forged, foreign, stale or unsigned code.
func (a *App) Attribute(ctx context.Context, p *identity.Principal, signed string) string {
	if signed == "" || a.Shares == nil {
		return ""
	}
	who, _, ok := a.Shares.Verify(p.MerchantID, signed, a.Now())
	if !ok {
		return ""
	}
	return a.sharerCode(ctx, p, who)
}

func (a *App) sharerCode(ctx context.Context, p *identity.Principal, who guides.Sharer) string {
	switch who.Kind {
	case guides.KindStaff:
		st, err := a.Users.Staff(ctx, p.MerchantID, who.ID)
		if err != nil || st.Disabled || st.GuideCode == "" {
			return ""
		}
		return st.GuideCode
	case guides.KindCustomer:
		if p.Kind == identity.KindCustomer && p.SubjectID == who.ID {
			return "" // no commission on one's own purchases
		}
		return "c" + strconv.FormatInt(who.ID, 36)
	}
	return ""
}

// ShareCode is the signed code p shares room with: a guide's (staff with a
// guide code), a viewer's own, or — for an anonymous re-share — the code
// that brought the visitor (already verified by the caller), so the guide
// keeps the credit.
func (a *App) ShareCode(ctx context.Context, p *identity.Principal, room *live.Room, brought string) (signed, sharer string) {
	if a.Shares == nil {
		return "", ""
	}
	if p != nil && p.MerchantID == room.MerchantID {
		switch p.Kind {
		case identity.KindStaff:
			if st, err := a.Users.Staff(ctx, p.MerchantID, p.SubjectID); err == nil && st.GuideCode != "" && !st.Disabled {
				return a.Shares.Sign(room.MerchantID, guides.Sharer{Kind: guides.KindStaff, ID: st.ID}, a.Now()), st.GuideCode
			}
		case identity.KindCustomer:
			who := guides.Sharer{Kind: guides.KindCustomer, ID: p.SubjectID}
			return a.Shares.Sign(room.MerchantID, who, a.Now()), "c" + strconv.FormatInt(p.SubjectID, 36)
		}
	}
	if brought == "" {
		return "", ""
	}
	who, _, ok := a.Shares.Verify(room.MerchantID, brought, a.Now())
	if !ok {
		return "", ""
	}
	return brought, a.sharerCode(ctx, &identity.Principal{MerchantID: room.MerchantID}, who)
}

// GuideStatement is the month's commission statement ("YYYY-MM", China
// time) of every guide of the shop, or of one guide (guideCode); storeID
// keeps only the orders of one store (staff bound to it).
func (a *App) GuideStatement(ctx context.Context, merchantID int64, month, guideCode string, storeID int64) (*guides.Statement, error) {
	from, to, err := guides.Month(month)
	if err != nil {
		return nil, err
	}
	rates, err := a.Guides.Rates(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	orders, err := a.Guides.StatementOrders(ctx, merchantID, from, to, guideCode)
	if err != nil {
		return nil, err
	}
	if storeID != 0 {
		kept := orders[:0]
		for _, o := range orders {
			if o.StoreID == storeID {
				kept = append(kept, o)
			}
		}
		orders = kept
	}
	st := guides.BuildStatement(month, from, to, orders, rates)
	return &st, nil
}

// SetCommissionRates replaces the shop's commission rates (audited: they
// decide what staff are paid).
func (a *App) SetCommissionRates(ctx context.Context, p *identity.Principal, rates guides.Rates) error {
	if err := a.Guides.SetRates(ctx, p.MerchantID, rates); err != nil {
		return err
	}
	b, _ := json.Marshal(rates)
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "commission.rates", "commission_rates", string(b))
	return nil
}

// GuideMayShare reports whether staff p may share room: one of their
// merchant's, and for staff bound to a store, that store's or the brand's
// own (a room with no store).
func GuideMayShare(p *identity.Principal, room *live.Room) bool {
	if room.MerchantID != p.MerchantID {
		return false
	}
	at := p.AtStore()
	return at == 0 || room.StoreID == 0 || room.StoreID == at
}

// GuideRooms are the rooms the guide page lists for p: those not ended
// that p may share (GuideMayShare).
func (a *App) GuideRooms(ctx context.Context, p *identity.Principal) ([]live.Room, error) {
	rooms, err := a.Live.ListRooms(ctx, p.MerchantID)
	if err != nil {
		return nil, err
	}
	out := rooms[:0]
	for _, room := range rooms {
		if room.Status != live.Ended && GuideMayShare(p, &room) {
			out = append(out, room)
		}
	}
	return out, nil
}

// GuideRoom is the room by slug when p may share it; any other room is
// apperr.ErrNotFound.
func (a *App) GuideRoom(ctx context.Context, p *identity.Principal, slug string) (*live.Room, error) {
	room, err := a.Live.RoomBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	if !GuideMayShare(p, room) {
		return nil, apperr.ErrNotFound
	}
	return room, nil
}

// GuideOrders are the last 50 orders attributed to guideCode in p's
// merchant.
func (a *App) GuideOrders(ctx context.Context, p *identity.Principal, guideCode string) ([]order.Order, error) {
	return a.Orders.List(ctx, order.Filter{MerchantID: p.MerchantID, GuideCode: guideCode, Limit: 50})
}
