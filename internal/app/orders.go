package app

// An order's life as the use cases see it: created (with its contact phone
// and idempotency), paid, fulfilled, picked up, cancelled, and published to
// the buyer's and the staff's topics.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
)

// requestHash fingerprints an order request so a reused Idempotency-Key with a
// different body is refused instead of silently returning another order.
func requestHash(req *order.Request) string {
	b, _ := json.Marshal(req)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ErrFlashStore refuses a flash-sale order for another store than the sale's.
var ErrFlashStore = apperr.InvalidField("store_id", "flash_store", "秒杀商品只能在指定门店自提", "Flash sale orders are picked up at the sale's store.")

// contactPhone is the phone an order is for: the one the buyer typed
// (normalised), or their account's. The account is read either way: an
// order needs a customer who exists.
func (a *App) contactPhone(ctx context.Context, p *identity.Principal, typed string) (string, error) {
	c, err := a.Users.Customer(ctx, p.MerchantID, p.SubjectID)
	if err != nil {
		return "", err
	}
	if typed == "" {
		return c.Phone, nil
	}
	return identity.NormalizePhone(typed)
}

// CreateOrder reserves stock and creates an order for a logged-in customer.
func (a *App) CreateOrder(ctx context.Context, p *identity.Principal, req *order.Request, idemKey string) (*order.Order, bool, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, false, apperr.ErrLoginRequired
	}
	if req.SaleID != 0 {
		if !a.IsLeader() {
			if a.flash().soldOutRecently(req.SaleID, a.Now()) {
				return a.soldOutHere(ctx, p, req.SaleID, idemKey)
			}
			return nil, false, a.notLeader() // the leader allocates flash sales
		}
		// A flash sale sells from its own store.
		e := a.flash()
		e.mu.Lock()
		rs := e.sales[req.SaleID]
		e.mu.Unlock()
		if rs == nil {
			return nil, false, flashsale.ErrNotRunning
		}
		if req.StoreID == 0 {
			req.StoreID = rs.alloc.Sale().StoreID
		} else if req.StoreID != rs.alloc.Sale().StoreID {
			return nil, false, ErrFlashStore
		}
	}
	// The client names no guide: only a share code this server signed
	// becomes the order's attribution (the sharer's guide code).
	req.GuideCode = a.Attribute(ctx, p, req.GuideCode)
	if err := req.Validate(); err != nil {
		return nil, false, err
	}
	if len(idemKey) > 100 {
		return nil, false, order.ErrIdempotencyKey
	}
	if req.RoomID > 0 {
		if _, err := a.Live.Room(ctx, p.MerchantID, req.RoomID); err != nil {
			req.RoomID = 0 // a stale room id must not fail a purchase
		}
	}
	gateRoom := req.RoomID
	if req.SaleID != 0 {
		gateRoom = a.saleRoom(req.SaleID)
	}
	if err := a.checkAudience(ctx, p, gateRoom); err != nil {
		return nil, false, err // a room for a segment sells to the segment only
	}
	if req.SaleID != 0 {
		return a.createFlashOrder(ctx, p, req, idemKey)
	}
	phone, err := a.contactPhone(ctx, p, req.Phone)
	if err != nil {
		return nil, false, err
	}
	o := &order.Order{MerchantID: p.MerchantID, CustomerID: p.SubjectID, RoomID: req.RoomID, GuideCode: req.GuideCode,
		Fulfilment: req.Fulfilment, StoreID: req.StoreID, ContactName: req.Name, ContactPhone: phone, Address: req.Address,
		IdempotencyKey: idemKey, RequestHash: requestHash(req), ReserveExpiresAt: a.Now().Add(a.ReserveFor), CouponPick: req.Coupon}
	if req.PickupSlot != nil && req.Fulfilment == order.Pickup {
		o.PickupSlotAsked = req.PickupSlot.UTC()
	}
	if req.Fulfilment == order.Delivery {
		o.DeliveryLat, o.DeliveryLng = req.Lat, req.Lng
		if req.DeliverySlot != nil {
			o.PickupSlotAsked = req.DeliverySlot.UTC()
		}
	}
	created, err := a.Orders.Create(ctx, o, req.Items)
	if err != nil {
		return nil, false, err
	}
	if created {
		for _, ln := range o.Lines {
			a.markStock(o.RoomID, ln.ProductID)
		}
		a.PublishOrder(o, "order.created", "")
		a.emitOrder(o)
	}
	return o, created, nil
}

// StaffOrderView is an order as a staff topic carries it: a summary of
// OrderView(nil, o), the view for staff without customer.pii, because every
// subscriber of staff:<merchant> and store:<store> gets the same frame.
func StaffOrderView(o *order.Order) map[string]any {
	v := OrderView(nil, o)
	return map[string]any{"id": v.ID, "number": v.Number, "status": v.Status, "status_label": v.Status.Label(), "total_fen": v.TotalFen,
		"lines": v.Lines, "room_id": v.RoomID, "store_id": v.StoreID, "fulfilment": v.Fulfilment, "contact_phone": v.ContactPhone, "created_at": v.CreatedAt}
}

// PublishOrder tells every stream that shows o what happened to it: the
// order's own topic (status), the merchant's staff topic and the store's
// (staffType: order.created or order.updated). Each carries the view for
// the least privileged subscriber it may have (OrderView(nil, o)): the
// buyer's page reads the rest from the API. reason, if set, says why
// (e.g. lot_on_hold).
func (a *App) PublishOrder(o *order.Order, staffType, reason string) {
	status := map[string]any{"order": OrderView(nil, o)}
	if reason != "" {
		status["reason"] = reason
	}
	if staffType == "order.updated" {
		a.publish(live.OrderTopic(o.ID), "order.status", status)
	}
	v := StaffOrderView(o)
	a.publish(live.StaffTopic(o.MerchantID), staffType, v)
	a.publish(live.StoreTopic(o.StoreID), staffType, v)
}

// orderChanged tells the buyer's order page, the studio and the room.
func (a *App) orderChanged(o *order.Order) {
	a.PublishOrder(o, "order.updated", "")
	a.emitOrder(o)
	a.presaleOrderChanged(o)
	a.settlePoints(o) // paid: points earned; refunded: taken back
	switch o.Status {
	case order.Cancelled, order.Expired:
		for _, ln := range o.Lines {
			a.markStock(o.RoomID, ln.ProductID)
		}
		a.flashReleased(context.Background(), o)
	}
}

// StartPayment creates (or reuses) a payment intent for an unpaid order
// with the provider and method the buyer's page picked, and asks the
// provider what the page does next (JSAPI parameters, H5 URL, QR code URL).
func (a *App) StartPayment(ctx context.Context, p *identity.Principal, orderID int64, req PayRequest) (*payment.Intent, error) {
	if req.Provider == "" && req.Method == "" {
		req.Provider, req.Method = "dev", payment.MethodPage // pages from before the provider choice
	}
	if !validMethod(req.Provider, req.Method) {
		return nil, payment.ErrBadMethod
	}
	o, err := a.CustomerOrder(ctx, p, orderID)
	if err != nil {
		return nil, err
	}
	if o.Status != order.PendingPayment {
		return nil, order.ErrNotPayable
	}
	if a.Now().After(o.ReserveExpiresAt) {
		return nil, order.ErrExpired
	}
	if req.Method == payment.MethodMiniProgram {
		if req.OpenID, err = a.MiniProgramOpenID(ctx, p); err != nil {
			return nil, err
		}
	}
	prov, err := a.provider(ctx, o.MerchantID, req.Provider)
	if err != nil {
		return nil, err
	}
	in, err := a.Payments.PendingIntent(ctx, o.MerchantID, o.ID, req.Provider, req.Method)
	if err != nil {
		in = &payment.Intent{MerchantID: o.MerchantID, OrderID: o.ID, Provider: req.Provider, Method: req.Method, Intent: payment.NewIntentID(), AmountFen: o.TotalFen}
		if err := a.Payments.CreateIntent(ctx, in); err != nil {
			return nil, err
		}
	}
	sr := payment.StartRequest{Method: req.Method, Description: "订单 " + o.Number, ClientIP: req.ClientIP, OpenID: req.OpenID,
		ReturnURL: req.ReturnURL, ExpiresAt: o.ReserveExpiresAt}
	if req.Provider != "dev" {
		sr.NotifyURL = a.NotifyURL(req.Provider, o.MerchantID)
		if m, err := a.Users.Merchant(ctx, o.MerchantID); err == nil {
			sr.Description = m.Name + " 订单 " + o.Number
		}
	}
	act, err := prov.Start(ctx, in, sr)
	if err != nil {
		return nil, err
	}
	in.Action, in.PayURL = act, act.PayURL
	if act.H5URL != "" {
		in.PayURL = act.H5URL
	}
	return in, nil
}

// CustomerOrder loads an order only for the customer who placed it (or staff of its merchant).
func (a *App) CustomerOrder(ctx context.Context, p *identity.Principal, id int64) (*order.Order, error) {
	if p == nil {
		return nil, apperr.ErrUnauthorized
	}
	o, err := a.Orders.Get(ctx, p.MerchantID, id)
	if err != nil {
		return nil, err
	}
	if p.Kind == identity.KindCustomer && o.CustomerID != p.SubjectID {
		return nil, apperr.ErrNotFound
	}
	return o, nil
}

// PaymentCallback applies a verified provider notification. A payment for
// an order that no longer takes it is kept and refunded (payment.Store.ApplyPaid).
func (a *App) PaymentCallback(ctx context.Context, n *payment.Notification) error {
	return a.applyPaid(ctx, n, a.Provider.Name())
}

// DevPay plays the dev provider: the buyer confirmed on the simulated page,
// so the "provider" sends its signed callback over HTTP.
func (a *App) DevPay(ctx context.Context, intentID string) (*payment.Intent, error) {
	in, err := a.Payments.IntentByID(ctx, intentID)
	if err != nil {
		return nil, err
	}
	if in.Status == "paid" {
		return in, nil
	}
	if o, err := a.Orders.Get(ctx, in.MerchantID, in.OrderID); err == nil && o.Status != order.PendingPayment {
		if o.Status == order.Expired {
			return nil, order.ErrExpired
		}
		return nil, order.ErrNotPayable
	}
	err = a.Provider.Notify(ctx, payment.Notification{Intent: in.Intent, Status: "paid", AmountFen: in.AmountFen, ProviderRef: "dev_" + strconv.FormatInt(a.Now().UnixNano(), 36)}, a.Now())
	if err != nil {
		return nil, err
	}
	return a.Payments.IntentByID(ctx, intentID)
}

// Fulfil moves an order along on behalf of staff and records it. Staff
// bound to a store move only that store's orders; a pickup order is never
// shipped and is completed only through the buyer's code (VerifyPickup); a
// delivery order is shipped with its carrier and number (ShipOrder).
func (a *App) Fulfil(ctx context.Context, p *identity.Principal, id int64, next order.Status) (*order.Order, error) {
	if o, done, err := a.fulfilDelivery(ctx, p, id, next); done {
		return o, err
	}
	return a.move(ctx, order.Move{MerchantID: p.MerchantID, ID: id, To: next, StoreID: p.AtStore(), Actor: p.Name})
}

// move applies m and tells whoever watches the order.
func (a *App) move(ctx context.Context, m order.Move) (*order.Order, error) {
	o, err := a.Orders.Apply(ctx, m)
	if err != nil {
		return nil, err
	}
	if m.To == order.Cancelled && o.PaidAt != nil {
		a.refundsPending(ctx, o) // a real vendor refunds what was paid
	} else if m.To == order.Cancelled {
		a.closeVendorOrders(ctx, o) // an open QR code or cashier page can no longer be paid
	}
	a.orderChanged(o)
	return o, nil
}

// Pickup-code errors.
var (
	ErrOtherStore      = apperr.New(apperr.Conflict, "other_store", "该订单需在其他门店取货", "This order is for pickup at another store.")
	ErrAlreadyPickedUp = apperr.New(apperr.Conflict, "already_picked_up", "该订单已取货", "This order was already picked up.")
)

// VerifyPickup checks a buyer's pickup code at the caller's store and, with
// confirm, hands the order over. The lookup answers what the counter needs
// to hand the right bag over (number, lines, status, the masked contact) and
// never the code itself.
func (a *App) VerifyPickup(ctx context.Context, p *identity.Principal, code string, confirm bool) (*order.Order, error) {
	code, err := order.NormalizePickupCode(code)
	if err != nil {
		return nil, err
	}
	o, err := a.Orders.ByPickupCode(ctx, p.MerchantID, code)
	if err != nil {
		return nil, err
	}
	if at := p.AtStore(); at != 0 && o.StoreID != at {
		return nil, a.otherStore(ctx, o)
	}
	if !confirm {
		// Staff see before they hand anything over that a lot went on hold.
		if o.Status == order.Paid || o.Status == order.Ready {
			if o.HeldLots, err = a.Orders.HeldLots(ctx, p.MerchantID, o.ID); err != nil {
				return nil, err
			}
		}
		return o, nil
	}
	if o.Status == order.Completed {
		return nil, ErrAlreadyPickedUp
	}
	return a.move(ctx, order.Move{MerchantID: p.MerchantID, ID: o.ID, To: order.Completed, From: []order.Status{order.Paid, order.Ready},
		Refuse: order.ErrNotReady, StoreID: p.AtStore(), ByCode: true, Actor: p.Name})
}

// otherStore is ErrOtherStore naming the order's store, so the counter can
// send the customer on.
func (a *App) otherStore(ctx context.Context, o *order.Order) error {
	st, err := a.Stores.Store(ctx, o.MerchantID, o.StoreID)
	if err != nil {
		return ErrOtherStore
	}
	en := st.NameEN
	if en == "" {
		en = st.Name
	}
	return ErrOtherStore.With("该订单需在"+st.Name+"取货", "This order is for pickup at "+en+".")
}

// CancelUnpaid lets a buyer cancel their own unpaid order; stock returns.
// The status is checked in the cancelling transaction: a payment that
// commits first wins, and the buyer is told to ask the store for a refund.
func (a *App) CancelUnpaid(ctx context.Context, p *identity.Principal, id int64) (*order.Order, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, apperr.ErrForbidden
	}
	return a.move(ctx, order.Move{MerchantID: p.MerchantID, ID: id, To: order.Cancelled, CustomerID: p.SubjectID,
		From: []order.Status{order.PendingPayment}, Refuse: order.ErrContactStore})
}

// DevIntent shows the dev provider's page what it is asked to collect.
func (a *App) DevIntent(ctx context.Context, intentID string) (*payment.Intent, *order.Order, string, error) {
	in, err := a.Payments.IntentByID(ctx, intentID)
	if err != nil {
		return nil, nil, "", err
	}
	o, err := a.Orders.Get(ctx, in.MerchantID, in.OrderID)
	if err != nil {
		return nil, nil, "", err
	}
	m, err := a.Users.Merchant(ctx, in.MerchantID)
	if err != nil {
		return nil, nil, "", err
	}
	return in, o, m.Name, nil
}
