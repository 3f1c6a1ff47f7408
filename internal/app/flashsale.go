package app

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/batch"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
)

// flashEngine runs flash sales: one in-memory allocator per running sale,
// and one writer that commits winners' orders in batches. A buyer is told
// "yours" only after the batch holding their order committed.
type flashEngine struct {
	mu    sync.Mutex
	sales map[int64]*runningSale
	queue *batch.Queue[*flashReq]
	dirty map[int64]bool // sales whose remaining changed since the last event

	// soldOut is what a node that forwards flash buys learnt from the
	// leader's answers: sale → when the leader last said "sold out".
	soldOut map[int64]time.Time
}

// soldOutFor is how long a forwarding node answers "sold out" itself after
// the leader said so. After the last unit goes, nearly every request of a
// stampede is a loser; without this, each would cost a hop to the leader.
// A unit that comes back (an unpaid order expired) is offered on this node
// again at most this much later.
const soldOutFor = time.Second

// NoteSoldOut records that the leader answered "sold out" for a sale (the
// web layer calls it when a forwarded buy comes back so).
func (a *App) NoteSoldOut(saleID int64) {
	e := a.flash()
	e.mu.Lock()
	if e.soldOut == nil {
		e.soldOut = map[int64]time.Time{}
	}
	e.soldOut[saleID] = a.Now()
	e.mu.Unlock()
}

func (e *flashEngine) soldOutRecently(saleID int64, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	at, ok := e.soldOut[saleID]
	return ok && now.Sub(at) < soldOutFor
}

// soldOutHere answers a buy of a sale the leader just called sold out. A
// retry of an order that won (same Idempotency-Key) still gets its order.
func (a *App) soldOutHere(ctx context.Context, p *identity.Principal, saleID int64, idemKey string) (*order.Order, bool, error) {
	if idemKey != "" {
		return a.wonBefore(ctx, p, saleID, idemKey, flashsale.ErrSoldOut)
	}
	return nil, false, flashsale.ErrSoldOut
}

// wonBefore answers a flash buy that got no unit this time: the order this
// Idempotency-Key already won in the sale, or lost when there is none.
func (a *App) wonBefore(ctx context.Context, p *identity.Principal, saleID int64, idemKey string, lost error) (*order.Order, bool, error) {
	o, err := a.Flash.OrderByKey(ctx, p.MerchantID, p.SubjectID, idemKey)
	if err != nil {
		return nil, false, lost
	}
	if o.SaleID != saleID {
		return nil, false, order.ErrIdempotencyUsed
	}
	return o, false, nil
}

type runningSale struct {
	alloc   *flashsale.Allocator
	product catalog.Product
	sku     catalog.SKU
	topic   string
}

type flashReq struct {
	po    *flashsale.PendingOrder
	alloc *flashsale.Allocator
}

func (a *App) flash() *flashEngine {
	a.flashOnce.Do(func() {
		a.flashEng = &flashEngine{sales: map[int64]*runningSale{}, dirty: map[int64]bool{},
			queue: batch.New(8192, 4096, 256, a.createFlashOrders, func(r *flashReq) { r.po.Err = flashsale.ErrBusy; r.settle() })}
	})
	return a.flashEng
}

// settle ends a Take: units of an order not written (or a duplicate) go back.
func (r *flashReq) settle() {
	if r.po.Err != nil || r.po.Dup {
		r.alloc.GiveBack(r.po.Order.CustomerID, r.po.Takes)
	}
	r.alloc.Settle()
}

// startFlash loads running sales (after a restart the allocators are rebuilt
// from the database) and runs the batch writer until ctx ends.
func (a *App) startFlash(ctx context.Context) {
	e := a.flash()
	if a.Flash == nil {
		return
	}
	if a.Leases == nil {
		a.loadRunningSales(ctx)
	}
	go e.queue.Run(ctx)
}

// loadRunningSales rebuilds the allocators of running sales from the
// database (at start, or when this node becomes the leader).
func (a *App) loadRunningSales(ctx context.Context) {
	if a.Flash == nil {
		return
	}
	sales, quota, claims, err := a.Flash.Running(ctx)
	if err != nil {
		a.Logger.Error("flash sales: load running", "err", err)
	}
	for _, s := range sales {
		if err := a.runSale(ctx, s, quota[s.ID], claims[s.ID]); err != nil {
			a.Logger.Error("flash sale: resume", "sale", s.ID, "err", err)
		}
	}
	a.syncFlashHolds(ctx)
}

// syncFlashHolds pauses each running sale with a lot of its quota on hold
// and resumes those whose lots were all released. The hold's own node calls
// it at once (SetHold); the leader's tick calls it every second, so a hold
// set on another node pauses the sale within a second (and a buy that races
// it is refused by the database check anyway).
func (a *App) syncFlashHolds(ctx context.Context) {
	if !a.IsLeader() {
		return
	}
	e := a.flash()
	e.mu.Lock()
	sales := make(map[int64]*runningSale, len(e.sales))
	for id, rs := range e.sales {
		sales[id] = rs
	}
	e.mu.Unlock()
	for id, rs := range sales {
		held, err := a.Inventory.HeldLots(ctx, rs.alloc.Sale().MerchantID, rs.alloc.Sale().StoreID, rs.alloc.LotIDs())
		if err != nil {
			a.Logger.Warn("flash sale: lot holds", "sale", id, "err", err)
			continue
		}
		if rs.alloc.SetPaused(len(held) > 0) {
			e.markDirty(id)
			a.skuChangedNoErr(ctx, rs.alloc.Sale().MerchantID, rs.alloc.Sale().SKUID)
		}
	}
}

func (a *App) runSale(ctx context.Context, s flashsale.Sale, quota []flashsale.Quota, claims []flashsale.Claim) error {
	sku, prod, err := a.Catalog.SKU(ctx, s.MerchantID, s.SKUID)
	if err != nil {
		return err
	}
	e := a.flash()
	e.mu.Lock()
	e.sales[s.ID] = &runningSale{alloc: flashsale.NewAllocator(s, quota, claims), product: *prod, sku: *sku, topic: live.RoomTopic(s.RoomID)}
	e.dirty[s.ID] = true
	e.mu.Unlock()
	return nil
}

// createFlashOrders commits a batch of winners' orders (the queue's writer).
func (a *App) createFlashOrders(batch []*flashReq) {
	pos := make([]*flashsale.PendingOrder, len(batch))
	for i, r := range batch {
		pos[i] = r.po
	}
	// The batch is written even if the requests' contexts end: a buyer who
	// gave up and retries with the same key finds the order.
	if err := a.Flash.CreateBatch(context.Background(), pos); err != nil {
		for _, po := range pos {
			po.Err = err
		}
	}
	for _, r := range batch {
		r.settle()
	}
}

// ErrNotOnSale refuses a flash-sale order for a SKU the sale does not sell.
var ErrNotOnSale = apperr.InvalidField("items", "not_on_sale", "该规格不在本次秒杀中", "This SKU is not part of the flash sale.")

// createFlashOrder is the buy path of a running flash sale.
func (a *App) createFlashOrder(ctx context.Context, p *identity.Principal, req *order.Request, idemKey string) (*order.Order, bool, error) {
	if !a.IsLeader() {
		return nil, false, a.notLeader()
	}
	e := a.flash()
	e.mu.Lock()
	rs := e.sales[req.SaleID]
	e.mu.Unlock()
	if rs == nil || rs.alloc.Sale().MerchantID != p.MerchantID {
		return nil, false, flashsale.ErrNotRunning
	}
	sale := rs.alloc.Sale()
	if len(req.Items) != 1 || req.Items[0].SKUID != sale.SKUID {
		return nil, false, ErrNotOnSale
	}
	qty := req.Items[0].Quantity
	if a.FlashNaive {
		return a.naiveFlashOrder(ctx, p, req, idemKey, rs)
	}
	if e.queue.Busy() {
		return nil, false, flashsale.ErrBusy // shed load: the page shows "try again"
	}
	takes, err := rs.alloc.Take(p.SubjectID, qty)
	if err != nil {
		// A retry of an order that already won lands here (the buyer holds
		// their limit, or it sold out since): answer with that order. Only a
		// buyer who holds units can have one, so losers — the stampede after
		// the last unit — never reach the database.
		if idemKey != "" && rs.alloc.Holds(p.SubjectID) > 0 {
			return a.wonBefore(ctx, p, sale.ID, idemKey, err)
		}
		return nil, false, err
	}
	c, err := a.Users.Customer(ctx, p.MerchantID, p.SubjectID)
	if err != nil {
		rs.alloc.GiveBack(p.SubjectID, takes)
		rs.alloc.Settle()
		return nil, false, err
	}
	o := a.flashOrder(req, idemKey, rs, c.Phone, p.SubjectID, qty)
	r := &flashReq{po: &flashsale.PendingOrder{Order: o, Takes: takes}, alloc: rs.alloc}
	if !e.queue.Do(r) {
		rs.alloc.GiveBack(p.SubjectID, takes)
		rs.alloc.Settle()
		return nil, false, flashsale.ErrBusy
	}
	e.markDirty(sale.ID)
	if errors.Is(r.po.Err, inventory.ErrLotOnHold) {
		// The hold reached the database before this node heard of it (it
		// was set on another node): pause now, the tick resumes on release.
		rs.alloc.SetPaused(true)
		return nil, false, flashsale.ErrPaused
	}
	if r.po.Err != nil {
		return nil, false, r.po.Err
	}
	if r.po.Dup {
		return r.po.Order, false, nil
	}
	a.PublishOrder(o, "order.created", "")
	a.emitOrder(o)
	return o, true, nil
}

// flashOrder builds a winner's order at the sale's price.
func (a *App) flashOrder(req *order.Request, idemKey string, rs *runningSale, phone string, customer, qty int64) *order.Order {
	sale := rs.alloc.Sale()
	return &order.Order{MerchantID: sale.MerchantID, CustomerID: customer, RoomID: sale.RoomID, SaleID: sale.ID, GuideCode: req.GuideCode,
		Fulfilment: req.Fulfilment, StoreID: sale.StoreID, ContactName: req.Name, ContactPhone: phone, Address: req.Address,
		IdempotencyKey: idemKey, RequestHash: requestHash(req), ReserveExpiresAt: a.Now().Add(a.ReserveFor), TotalFen: qty * sale.PriceFen,
		Lines: []order.Line{{SKUID: sale.SKUID, ProductID: rs.product.ID, ProductName: rs.product.Name, ProductNameEN: rs.product.NameEN, SKUName: rs.sku.Name, SKUNameEN: rs.sku.NameEN, Quantity: qty, UnitFen: sale.PriceFen, TotalFen: qty * sale.PriceFen}}}
}

// naiveFlashOrder is the benchmark baseline (-flash-naive): one database
// transaction per attempt on the sale's single row, no allocator.
func (a *App) naiveFlashOrder(ctx context.Context, p *identity.Principal, req *order.Request, idemKey string, rs *runningSale) (*order.Order, bool, error) {
	c, err := a.Users.Customer(ctx, p.MerchantID, p.SubjectID)
	if err != nil {
		return nil, false, err
	}
	po := &flashsale.PendingOrder{Order: a.flashOrder(req, idemKey, rs, c.Phone, p.SubjectID, req.Items[0].Quantity)}
	if err := a.NaiveFlash.NaiveBuy(ctx, po, rs.alloc.Sale().PerUserLimit); err != nil {
		return nil, false, err
	}
	return po.Order, !po.Dup, nil
}

func (e *flashEngine) markDirty(id int64) {
	e.mu.Lock()
	e.dirty[id] = true
	e.mu.Unlock()
}

// FlashView is a running or upcoming sale as viewers see it.
type FlashView struct {
	flashsale.Sale
	ProductName string `json:"product_name"`
	SKUName     string `json:"sku_name"`
	// SKUNameEN is the SKU's English name, empty when it has none.
	SKUNameEN string `json:"sku_name_en,omitempty"`
	ListFen   int64  `json:"list_price_fen"`
	// LotExpiresAt is the expiry of the batch a clearance sale sells, shown
	// on the card; nil for other sales.
	LotExpiresAt *time.Time `json:"lot_expires_at,omitempty"`
}

// flushFlash publishes remaining counts of sales that changed: one event
// per sale per tick however many buyers won or lost.
func (a *App) flushFlash() {
	e := a.flash()
	e.mu.Lock()
	var out []struct {
		topic string
		view  map[string]any
	}
	for id := range e.dirty {
		rs := e.sales[id]
		if rs == nil {
			continue
		}
		rem := rs.alloc.Remaining()
		out = append(out, struct {
			topic string
			view  map[string]any
		}{rs.topic, map[string]any{"sale_id": id, "remaining": rem, "sold_out": rem == 0, "paused": rs.alloc.Paused()}})
	}
	e.dirty = map[int64]bool{}
	e.mu.Unlock()
	for _, o := range out {
		a.publish(a.commerceTopicOf(o.topic), "flash.stock", o.view)
	}
}

// tickFlash starts and ends sales whose time came.
func (a *App) tickFlash(ctx context.Context) {
	if a.Flash == nil {
		return
	}
	toStart, toEnd, err := a.Flash.Due(ctx, a.Now())
	if err != nil {
		a.Logger.Error("flash sales: due", "err", err)
		return
	}
	for _, s := range toStart {
		a.StartDue(ctx, s)
	}
	for _, s := range toEnd {
		if err := a.endSale(ctx, s); err != nil {
			a.Logger.Error("flash sale: end", "sale", s.ID, "err", err)
		}
	}
}

// StartDue starts a sale whose time came. A sale that cannot get its
// quota is closed; one that something else started meanwhile (the host's
// "start now" racing this tick) is left alone: ending it would hand its
// quota back while its allocator goes on selling.
func (a *App) StartDue(ctx context.Context, s flashsale.Sale) {
	_, err := a.startSale(ctx, s)
	switch {
	case err == nil, errors.Is(err, flashsale.ErrNotRunning):
	default:
		a.Logger.Warn("flash sale: start", "sale", s.ID, "err", err)
		a.Flash.End(ctx, s.MerchantID, s.ID) // cannot run (no stock): close it
		a.publish(a.CommerceTopic(ctx, s.RoomID), "flash.ended", map[string]any{"sale_id": s.ID, "reason": "no_stock"})
	}
}

func (a *App) startSale(ctx context.Context, s flashsale.Sale) (*flashsale.Sale, error) {
	quota, err := a.Flash.Start(ctx, s.MerchantID, s.ID, func(levels []inventory.Level) ([]inventory.Take, error) {
		t, err := inventory.AllocateFEFO(levels, s.Quantity, a.Now())
		if errors.Is(err, inventory.ErrLotOnHold) {
			return nil, err // a sale never starts over a held lot
		}
		if err != nil {
			return nil, flashsale.ErrQuotaOnStart
		}
		return t, nil
	})
	if err != nil {
		return nil, err
	}
	s.Status, s.Remaining = flashsale.Running, s.Quantity
	if err := a.runSale(ctx, s, quota, nil); err != nil {
		return nil, err
	}
	a.skuChangedNoErr(ctx, s.MerchantID, s.SKUID) // the quota left the general stock
	view, _ := a.FlashView(ctx, s)
	a.publish(a.CommerceTopic(ctx, s.RoomID), "flash.started", map[string]any{"sale": view})
	return &s, nil
}

func (a *App) endSale(ctx context.Context, s flashsale.Sale) error {
	e := a.flash()
	e.mu.Lock()
	rs := e.sales[s.ID]
	delete(e.sales, s.ID)
	e.mu.Unlock()
	if rs != nil {
		rs.alloc.Close() // waits for in-flight winners to be written
	}
	if err := a.Flash.End(ctx, s.MerchantID, s.ID); err != nil {
		return err
	}
	a.skuChangedNoErr(ctx, s.MerchantID, s.SKUID)
	a.publish(a.CommerceTopic(ctx, s.RoomID), "flash.ended", map[string]any{"sale_id": s.ID, "reason": "ended"})
	return nil
}

func (a *App) skuChangedNoErr(ctx context.Context, merchantID, skuID int64) {
	if err := a.skuChanged(ctx, merchantID, skuID); err != nil {
		a.Logger.Warn("republish product", "sku", skuID, "err", err)
	}
}

// FlashView returns a sale with its live remaining count and product names.
func (a *App) FlashView(ctx context.Context, s flashsale.Sale) (FlashView, error) {
	v := FlashView{Sale: s}
	e := a.flash()
	e.mu.Lock()
	rs := e.sales[s.ID]
	e.mu.Unlock()
	if a.Clearance != nil {
		v.LotExpiresAt, _ = a.Clearance.SaleExpiry(ctx, s.MerchantID, s.ID)
	}
	if rs != nil {
		v.Remaining, v.Paused = rs.alloc.Remaining(), rs.alloc.Paused()
		v.ProductName, v.SKUName, v.SKUNameEN, v.ListFen = rs.product.Name, rs.sku.Name, rs.sku.NameEN, rs.sku.PriceFen
		return v, nil
	}
	if s.Status == flashsale.Scheduled {
		v.Remaining = s.Quantity
	}
	sku, prod, err := a.Catalog.SKU(ctx, s.MerchantID, s.SKUID)
	if err != nil {
		return v, err
	}
	v.ProductName, v.SKUName, v.SKUNameEN, v.ListFen = prod.Name, sku.Name, sku.NameEN, sku.PriceFen
	return v, nil
}

// roomFlash lists a room's running and upcoming sales for its page.
func (a *App) roomFlash(ctx context.Context, merchantID, roomID int64) []FlashView {
	if a.Flash == nil {
		return nil
	}
	list, err := a.Flash.List(ctx, merchantID, roomID)
	if err != nil {
		return nil
	}
	out := []FlashView{}
	for _, s := range list {
		if s.Status == flashsale.Ended {
			continue
		}
		if v, err := a.FlashView(ctx, s); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// CreateFlashSale schedules a sale (or starts it now when it starts now).
func (a *App) CreateFlashSale(ctx context.Context, p *identity.Principal, s *flashsale.Sale) (*FlashView, error) {
	s.MerchantID = p.MerchantID
	if s.StartsAt.IsZero() {
		s.StartsAt = a.Now()
	}
	if err := s.Validate(a.Now()); err != nil {
		return nil, err
	}
	if err := a.Flash.Create(ctx, s); err != nil {
		return nil, err
	}
	a.auditFlashCreate(ctx, p, s)
	if !s.StartsAt.After(a.Now()) && a.IsLeader() {
		started, err := a.startSale(ctx, *s)
		switch {
		case err == nil:
			s = started
		case errors.Is(err, flashsale.ErrNotRunning):
			// The scheduler's tick started it first: it runs; show it as it is.
			if s, err = a.Flash.Get(ctx, p.MerchantID, s.ID); err != nil {
				return nil, err
			}
		default:
			a.Flash.End(ctx, s.MerchantID, s.ID)
			return nil, err
		}
	} else {
		view, _ := a.FlashView(ctx, *s)
		a.publish(a.CommerceTopic(ctx, s.RoomID), "flash.scheduled", map[string]any{"sale": view})
	}
	v, err := a.FlashView(ctx, *s)
	return &v, err
}

func (a *App) auditFlashCreate(ctx context.Context, p *identity.Principal, s *flashsale.Sale) {
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "flash.create", "room:"+itoa64(s.RoomID), itoa64(s.Quantity)+" units at "+catalog.FormatFen(s.PriceFen))
}

// flashCreated follows a stored sale: one whose start has come is started
// here on the leader (one that cannot get its quota is closed, as the
// scheduler's tick would); otherwise its card is announced as scheduled
// and the leader's tick starts it.
func (a *App) flashCreated(ctx context.Context, s *flashsale.Sale) {
	if !s.StartsAt.After(a.Now()) && a.IsLeader() {
		a.StartDue(ctx, *s)
		return
	}
	view, _ := a.FlashView(ctx, *s)
	a.publish(a.CommerceTopic(ctx, s.RoomID), "flash.scheduled", map[string]any{"sale": view})
}

// EndFlashSale stops a running sale now (host action).
func (a *App) EndFlashSale(ctx context.Context, p *identity.Principal, id int64) error {
	if !a.IsLeader() {
		return a.notLeader() // the allocator lives on the leader
	}
	s, err := a.Flash.Get(ctx, p.MerchantID, id)
	if err != nil {
		return err
	}
	if err := a.storeRoom(ctx, p, s.RoomID); err != nil { // a store's host ends only their studio's sales
		return err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "flash.end", "sale:"+itoa64(id), "")
	return a.endSale(ctx, *s)
}

// flashReleased gives an expired or cancelled flash order's units back to
// its running sale.
func (a *App) flashReleased(ctx context.Context, o *order.Order) {
	if o.SaleID == 0 || a.Flash == nil {
		return
	}
	e := a.flash()
	e.mu.Lock()
	rs := e.sales[o.SaleID]
	e.mu.Unlock()
	if rs == nil {
		return
	}
	takes, err := a.Flash.OrderTakes(ctx, o.ID)
	if err != nil {
		a.Logger.Error("flash release", "order", o.ID, "err", err)
		return
	}
	rs.alloc.GiveBack(o.CustomerID, takes)
	e.markDirty(o.SaleID)
}

func itoa64(v int64) string { return strconv.FormatInt(v, 10) }
