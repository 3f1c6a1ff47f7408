package app

// Who may read which orders, in one place: a buyer their own, staff their
// merchant's, and staff bound to one store only that store's. The order
// list, one order and the realtime order and store topics all ask here.

import (
	"context"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/stores"
)

// StaffOrders lists the merchant's orders by f; staff bound to one store
// get that store's orders only, whatever store f names.
func (a *App) StaffOrders(ctx context.Context, p *identity.Principal, f order.Filter) ([]order.Order, error) {
	f.MerchantID = p.MerchantID
	if at := p.AtStore(); at != 0 {
		f.StoreID = at
	}
	list, err := a.Orders.List(ctx, f)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []order.Order{}
	}
	return list, nil
}

// MyOrders lists the orders the customer p placed.
func (a *App) MyOrders(ctx context.Context, p *identity.Principal) ([]order.Order, error) {
	return a.Orders.List(ctx, order.Filter{MerchantID: p.MerchantID, CustomerID: p.SubjectID})
}

// ViewOrder loads one order for p: its buyer, or staff who may read orders
// (apperr.ErrForbidden otherwise) and, when bound to a store, only that
// store's (another store's order is apperr.ErrNotFound).
func (a *App) ViewOrder(ctx context.Context, p *identity.Principal, id int64) (*order.Order, error) {
	if p.IsStaff() && !identity.Can(p.Role, identity.PermOrdersRead) {
		return nil, apperr.ErrForbidden
	}
	o, err := a.CustomerOrder(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if at := p.AtStore(); at != 0 && o.StoreID != at {
		return nil, apperr.ErrNotFound
	}
	return o, nil
}

// StaffStore is a store whose orders staff p may follow: one of their
// merchant's, and their own when bound to one. Anything else, or staff
// who may not read orders, is apperr.ErrNotFound.
func (a *App) StaffStore(ctx context.Context, p *identity.Principal, id int64) (*stores.Store, error) {
	if p == nil || !identity.Can(p.Role, identity.PermOrdersRead) || (p.AtStore() != 0 && p.AtStore() != id) {
		return nil, apperr.ErrNotFound
	}
	st, err := a.Stores.Store(ctx, p.MerchantID, id)
	if err != nil {
		return nil, err // another merchant's or no store: not found; an outage stays an outage
	}
	return st, nil
}

// storeRoom lets staff bound to one store reach only what belongs to their
// store's rooms: for them a room of another store, a brand room or no room
// (id 0) is not found, and an outage reading it stays an outage. Staff of
// every store pass without a read.
func (a *App) storeRoom(ctx context.Context, p *identity.Principal, roomID int64) error {
	at := p.AtStore()
	if at == 0 {
		return nil
	}
	room, err := a.Live.Room(ctx, p.MerchantID, roomID)
	if err != nil {
		return err // apperr.ErrNotFound when there is none
	}
	if room.StoreID != at {
		return apperr.ErrNotFound
	}
	return nil
}
