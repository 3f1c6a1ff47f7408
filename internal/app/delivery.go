package app

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/delivery"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/stores"
)

// Tracking wires shipments to a tracking provider.
type Tracking struct {
	// Store keeps shipments and timelines (nil: shipping by carrier and
	// tracking number is off).
	Store delivery.Store
	// Tracker is the provider the leader polls (nil: manual updates only).
	Tracker delivery.Tracker
	// Every is how often an open parcel is asked about (default 30 min).
	Every time.Duration
	last  time.Time
}

// ShipOrder records the carrier and tracking number of a paid delivery
// order and ships it (once; again with other values: a correction until
// the parcel is delivered). Staff bound to a store ship only that store's
// orders.
func (a *App) ShipOrder(ctx context.Context, p *identity.Principal, orderID int64, carrier, trackingNo string) (*delivery.Shipment, error) {
	if a.Tracking.Store == nil {
		return nil, apperr.ErrNotFound
	}
	sh, err := a.Tracking.Store.Ship(ctx, delivery.Ship{MerchantID: p.MerchantID, OrderID: orderID, StoreID: p.AtStore(), Carrier: carrier, TrackingNo: trackingNo, Actor: p.Name})
	if err != nil {
		return nil, err
	}
	a.shipmentChanged(ctx, sh)
	return sh, nil
}

// RecordTracking adds staff's manual timeline entry; "delivered" closes
// the shipment and completes the order.
func (a *App) RecordTracking(ctx context.Context, p *identity.Principal, orderID int64, e delivery.Event) (*delivery.Shipment, error) {
	if a.Tracking.Store == nil {
		return nil, apperr.ErrNotFound
	}
	o, err := a.Orders.Get(ctx, p.MerchantID, orderID)
	if err != nil {
		return nil, err
	}
	if at := p.AtStore(); at != 0 && o.StoreID != at {
		return nil, apperr.ErrNotFound
	}
	u := delivery.Update{MerchantID: p.MerchantID, OrderID: orderID, StoreID: p.AtStore(), Event: e, Actor: p.Name}
	if err := u.Validate(a.Now()); err != nil {
		return nil, err
	}
	sh, err := a.Tracking.Store.Record(ctx, u)
	if err != nil {
		return nil, err
	}
	a.shipmentChanged(ctx, sh)
	return sh, nil
}

// OrderShipment is an order's shipment and timeline, for its buyer or
// staff (of its store, when bound to one); nil before it is shipped.
func (a *App) OrderShipment(ctx context.Context, p *identity.Principal, orderID int64) (*delivery.Shipment, error) {
	o, err := a.CustomerOrder(ctx, p, orderID)
	if err != nil {
		return nil, err
	}
	if at := p.AtStore(); at != 0 && o.StoreID != at {
		return nil, apperr.ErrNotFound
	}
	if a.Tracking.Store == nil {
		return nil, nil
	}
	sh, err := a.Tracking.Store.Shipment(ctx, p.MerchantID, orderID)
	if errors.Is(err, delivery.ErrNoShipment) {
		return nil, nil
	}
	return sh, err
}

// shipmentChanged tells the order page (its timeline) and the staff
// screens; the order itself when it moved.
func (a *App) shipmentChanged(ctx context.Context, sh *delivery.Shipment) {
	a.publish(live.OrderTopic(sh.OrderID), "shipment.updated", map[string]any{"order_id": sh.OrderID, "stage": sh.Stage, "delivered": sh.Delivered})
	if o, err := a.Orders.Get(ctx, sh.MerchantID, sh.OrderID); err == nil {
		a.orderChanged(o)
	}
}

// fulfilDelivery keeps a delivery order's handover on its shipment:
// "shipped" needs a carrier and tracking number, and "completed" (staff's
// 已送达) is the shipment's delivered entry, which completes the order.
// done says the move was handled here.
func (a *App) fulfilDelivery(ctx context.Context, p *identity.Principal, id int64, next order.Status) (*order.Order, bool, error) {
	if a.Tracking.Store == nil || (next != order.Shipped && next != order.Completed) {
		return nil, false, nil
	}
	o, err := a.Orders.Get(ctx, p.MerchantID, id)
	if err != nil || o.Fulfilment != order.Delivery || (p.AtStore() != 0 && o.StoreID != p.AtStore()) {
		return nil, false, nil // the move reports it
	}
	if next == order.Shipped {
		return nil, true, delivery.ErrShipmentRequired
	}
	if o.Status != order.Shipped {
		return nil, false, nil
	}
	if _, err := a.Tracking.Store.Shipment(ctx, p.MerchantID, id); errors.Is(err, delivery.ErrNoShipment) {
		return nil, false, nil // shipped before shipments were kept
	}
	if _, err := a.RecordTracking(ctx, p, id, delivery.Event{Stage: delivery.StageDelivered, Text: "门店确认已送达 The store confirmed delivery"}); err != nil {
		return nil, true, err
	}
	o, err = a.Orders.Get(ctx, p.MerchantID, id)
	return o, true, err
}

// pollShipments asks the tracking provider about open parcels that are
// due (the leader, every few seconds; each parcel every Tracking.Every).
// Entries are added once by their unique key and delivery completes the
// order once, so a poll overlapping another node's changes nothing twice.
func (a *App) pollShipments(ctx context.Context) {
	t := &a.Tracking
	if t.Store == nil || t.Tracker == nil || a.Now().Sub(t.last) < 2*time.Second {
		return
	}
	t.last = a.Now()
	due, err := t.Store.ClaimPolls(ctx, a.Now(), 5*time.Minute, 20)
	if err != nil {
		a.Logger.Error("tracking: claim", "err", err)
		return
	}
	for i := range due {
		a.pollShipment(ctx, &due[i])
	}
}

func (a *App) pollShipment(ctx context.Context, sh *delivery.Shipment) {
	t := &a.Tracking
	tr, err := t.Tracker.Track(ctx, sh.Carrier, sh.TrackingNo, sh.Phone)
	switch {
	case errors.Is(err, delivery.ErrNotFound):
		// Not scanned yet: ask again later, not a failure.
		err = t.Store.Polled(ctx, sh.ID, a.Now(), delivery.PollAt(a.Now(), t.Every, 1), 0, "")
	case err != nil:
		a.Logger.Warn("tracking: provider", "order", sh.OrderNumber, "carrier", sh.Carrier, "err", err)
		err = t.Store.Polled(ctx, sh.ID, a.Now(), delivery.PollAt(a.Now(), t.Every, sh.PollFailures+1), sh.PollFailures+1, err.Error())
	default:
		var got *delivery.Shipment
		got, err = t.Store.AddEvents(ctx, sh.MerchantID, sh.ID, tr.Events, tr.Stage, delivery.TrackerActor)
		if err == nil {
			if !got.Delivered {
				err = t.Store.Polled(ctx, sh.ID, a.Now(), delivery.PollAt(a.Now(), t.Every, 0), 0, "")
			}
			a.shipmentChanged(ctx, got)
		}
	}
	if err != nil {
		a.Logger.Error("tracking: record", "order", sh.OrderNumber, "err", err)
	}
}

// DeliveryQuote is what the buy sheet shows for same-city delivery to a
// point: the store that would deliver, how far, the fee for goods worth
// goodsFen, and its delivery slots with the places left.
type DeliveryQuote struct {
	SameCity    bool             `json:"same_city"` // false: the shop ships by courier (no point, no fee)
	StoreID     int64            `json:"store_id,omitempty"`
	StoreName   string           `json:"store_name,omitempty"`
	StoreNameEN string           `json:"store_name_en,omitempty"`
	DistanceM   int64            `json:"distance_m,omitempty"`
	FeeFen      int64            `json:"fee_fen"`
	FreeOverFen int64            `json:"free_over_fen,omitempty"`
	RadiusM     int64            `json:"radius_m,omitempty"`
	Tiers       []stores.FeeTier `json:"tiers,omitempty"`
	Slots       []stores.Slot    `json:"slots"`
}

// DeliverySlotLister answers which delivery slots a store offers now.
type DeliverySlotLister interface {
	SlotsOf(ctx context.Context, kind stores.SlotKind, merchantID, storeID int64, now time.Time) (*stores.Store, []stores.Slot, error)
}

// QuoteDelivery prices same-city delivery to (lat, lng) as the order's
// transaction will (the nearest store whose radius covers the point;
// beyond_delivery_radius when none does).
func (a *App) QuoteDelivery(ctx context.Context, merchantID int64, lat, lng *float64, goodsFen int64) (*DeliveryQuote, error) {
	list, err := a.Stores.ListStores(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	var delivering []stores.Store
	for _, st := range list {
		if st.Delivery {
			delivering = append(delivering, st)
		}
	}
	q := &DeliveryQuote{Slots: []stores.Slot{}}
	if !slices.ContainsFunc(delivering, func(st stores.Store) bool { return st.SameCity() }) {
		return q, nil
	}
	q.SameCity = true
	if lat == nil || lng == nil {
		return nil, stores.ErrPointRequired
	}
	if *lat < -90 || *lat > 90 || *lng < -180 || *lng > 180 {
		return nil, apperr.ErrInvalidLocation.At("lat")
	}
	st, dist, err := stores.NearestDelivering(delivering, *lat, *lng)
	if err != nil {
		return nil, err
	}
	q.StoreID, q.StoreName, q.StoreNameEN, q.DistanceM = st.ID, st.Name, st.NameEN, int64(math.Round(dist))
	q.FeeFen, _ = st.DeliveryFee(float64(q.DistanceM), goodsFen)
	q.FreeOverFen, q.RadiusM, q.Tiers = st.DeliveryFreeOverFen, st.DeliveryRadiusM, st.DeliveryTiers
	if sl, ok := a.Pickup.(DeliverySlotLister); ok {
		if _, slots, err := sl.SlotsOf(ctx, stores.DeliverySlots, merchantID, st.ID, a.Now()); err == nil {
			q.Slots = slots
		}
	}
	return q, nil
}
