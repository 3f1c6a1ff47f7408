package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/compliance"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/presale"
)

// Pre-sales (以销定产). Buyers commit with ordinary orders that reserve no
// stock; the room sees the progress move (presale.progress, at most every
// 250 ms per pre-sale); at the deadline the leader settles each pre-sale
// once (status guard in the database): reached → production order and
// presale.reached, missed → every paid order cancelled one by one, each
// cancel recording its refund in the same transaction, then sent to the
// provider (the reconciler re-sends refunds whose answer was lost), and
// presale.failed. Whoever runs it, however often, each effect happens once.

// presaleDirty holds pre-sales whose paid units changed since the last flush.
type presaleDirty struct {
	mu  sync.Mutex
	ids map[presale.Ref]bool
}

// PresaleInput is what staff send to open a pre-sale.
type PresaleInput struct {
	Title         string     `json:"title"`
	Description   string     `json:"description"`
	SKUID         int64      `json:"sku_id"`
	PriceFen      int64      `json:"price_fen"`
	DepositFen    int64      `json:"deposit_fen"`
	MOQ           int64      `json:"moq"`
	PerBuyerLimit int64      `json:"per_buyer_limit"`
	Deadline      time.Time  `json:"deadline"`
	BalanceDueAt  *time.Time `json:"balance_due_at"`
	ShipBy        time.Time  `json:"ship_by"`
	Supplier      string     `json:"supplier"`
	RoomID        int64      `json:"room_id"`
	GroupID       int64      `json:"group_id"`
}

// CreatePresale opens a pre-sale; a room it belongs to shows it at once.
func (a *App) CreatePresale(ctx context.Context, p *identity.Principal, in PresaleInput) (*presale.Presale, error) {
	ps := presaleFromInput(p, in)
	if err := ps.Validate(a.Now()); err != nil {
		return nil, err
	}
	if err := a.reviewPresale(ctx, p.MerchantID, ps); err != nil {
		return nil, err
	}
	if err := a.Presales.CreatePresale(ctx, ps); err != nil {
		return nil, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "presale.create", fmt.Sprintf("presale:%d", ps.ID), ps.Title)
	if ps.RoomID != 0 {
		a.publish(live.RoomTopic(ps.RoomID), "presale.progress", map[string]any{"presale": ps})
	}
	return ps, nil
}

// presaleFromInput is the pre-sale staff described (times in UTC).
func presaleFromInput(p *identity.Principal, in PresaleInput) *presale.Presale {
	ps := &presale.Presale{MerchantID: p.MerchantID, Title: in.Title, Description: in.Description, SKUID: in.SKUID, PriceFen: in.PriceFen, DepositFen: in.DepositFen,
		MOQ: in.MOQ, PerBuyerLimit: in.PerBuyerLimit, Deadline: in.Deadline.UTC(), BalanceDueAt: in.BalanceDueAt, ShipBy: in.ShipBy.UTC(), Supplier: in.Supplier,
		RoomID: in.RoomID, GroupID: in.GroupID, CreatedBy: p.Name}
	if ps.BalanceDueAt != nil {
		t := ps.BalanceDueAt.UTC()
		ps.BalanceDueAt = &t
	}
	return ps
}

// reviewPresale runs the advertising-law review on the title and text: a
// blocking claim (最好, 治疗 …) is refused, as before a live.
func (a *App) reviewPresale(ctx context.Context, merchantID int64, ps *presale.Presale) error {
	if a.Compliance == nil {
		return nil
	}
	rev, err := a.Compliance.ReviewItems(ctx, merchantID, []compliance.Item{
		{Source: "title", Text: ps.Title, Input: compliance.Input{Context: compliance.CtxTitle}},
		{Source: "description", Text: ps.Description, Input: compliance.Input{Context: compliance.CtxTitle}}})
	if err != nil {
		return err
	}
	if !rev.Blocking {
		return nil
	}
	var terms []string
	for _, tx := range rev.Texts {
		for _, f := range tx.Findings {
			if f.Severity == compliance.Block {
				terms = append(terms, f.Match)
			}
		}
	}
	list := strings.Join(terms, "、")
	return presale.ErrNoncompliant.With("预售标题或说明含有违规用语："+list, "The title or description breaks advertising rules: "+list)
}

// CommitInput is what a buyer sends to join a pre-sale.
type CommitInput struct {
	Quantity   int64            `json:"quantity"`
	Fulfilment order.Fulfilment `json:"fulfilment"`
	StoreID    int64            `json:"store_id,omitempty"`
	Name       string           `json:"contact_name,omitempty"`
	Phone      string           `json:"contact_phone,omitempty"`
	Address    string           `json:"address,omitempty"`
	RoomID     int64            `json:"room_id,omitempty"`
	GuideCode  string           `json:"guide_code,omitempty"`
}

// CommitPresale places the buyer's deposit or full-price order (no stock is
// reserved: the goods are made after the deadline). It is paid like any
// order (POST /api/v1/orders/{id}/pay), by the deadline at the latest.
func (a *App) CommitPresale(ctx context.Context, p *identity.Principal, id int64, in CommitInput, idemKey string) (*order.Order, bool, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, false, apperr.ErrLoginRequired
	}
	ps, err := a.Presales.Presale(ctx, p.MerchantID, id)
	if err != nil {
		return nil, false, err
	}
	req := &order.Request{Items: []order.Item{{SKUID: ps.SKUID, Quantity: in.Quantity}}, Fulfilment: in.Fulfilment, StoreID: in.StoreID,
		Name: in.Name, Phone: in.Phone, Address: in.Address, RoomID: in.RoomID, GuideCode: in.GuideCode}
	if err := req.Validate(); err != nil {
		return nil, false, err
	}
	if idemKey == "" || len(idemKey) > 100 {
		return nil, false, order.ErrIdempotencyKey
	}
	if req.RoomID > 0 {
		if _, err := a.Live.Room(ctx, p.MerchantID, req.RoomID); err != nil {
			if err := apperr.NotFoundAs(err, nil); err != nil {
				return nil, false, err // an outage, not a room that is gone
			}
			req.RoomID = 0 // another shop's room, or none: no attribution
		}
	}
	phone, err := a.contactPhone(ctx, p, req.Phone)
	if err != nil {
		return nil, false, err
	}
	o := &order.Order{MerchantID: p.MerchantID, CustomerID: p.SubjectID, RoomID: req.RoomID, GuideCode: req.GuideCode,
		Fulfilment: req.Fulfilment, StoreID: req.StoreID, ContactName: req.Name, ContactPhone: phone, Address: req.Address,
		IdempotencyKey: idemKey, RequestHash: requestHash(req) + ":presale:" + strconv.FormatInt(id, 10), ReserveExpiresAt: a.Now().Add(a.ReserveFor)}
	created, err := a.Presales.Commit(ctx, ps, o, in.Quantity)
	if err != nil {
		return nil, false, err
	}
	if created {
		a.PublishOrder(o, "order.created", "")
		a.emitOrder(o)
	}
	return o, created, nil
}

// PayBalance returns the buyer's balance order (尾款) of a paid deposit
// order once the pre-sale reached its MOQ, creating it on first ask.
func (a *App) PayBalance(ctx context.Context, p *identity.Principal, id, depositOrderID int64) (*order.Order, error) {
	if p == nil || p.Kind != identity.KindCustomer {
		return nil, apperr.ErrLoginRequired
	}
	ps, err := a.Presales.Presale(ctx, p.MerchantID, id)
	if err != nil {
		return nil, err
	}
	o := &order.Order{MerchantID: p.MerchantID, CustomerID: p.SubjectID, ReserveExpiresAt: a.Now().Add(a.ReserveFor)}
	out, err := a.Presales.BalanceOrder(ctx, ps, depositOrderID, o)
	if err != nil {
		return nil, err
	}
	if out == o {
		a.PublishOrder(o, "order.created", "")
		a.emitOrder(o)
	}
	return out, nil
}

// presaleOrderChanged marks the pre-sale of a paid, cancelled or expired
// order dirty, so the room sees its progress within 250 ms.
func (a *App) presaleOrderChanged(o *order.Order) {
	if a.Presales == nil {
		return
	}
	switch o.Status {
	case order.Paid, order.Cancelled, order.Expired:
	default:
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	id, err := a.Presales.OfOrder(ctx, o.MerchantID, o.ID)
	if err != nil || id == 0 {
		return
	}
	a.presalesDirty.mu.Lock()
	if a.presalesDirty.ids == nil {
		a.presalesDirty.ids = map[presale.Ref]bool{}
	}
	a.presalesDirty.ids[presale.Ref{MerchantID: o.MerchantID, ID: id}] = true
	a.presalesDirty.mu.Unlock()
}

// flushPresales publishes presale.progress once per changed pre-sale.
func (a *App) flushPresales(ctx context.Context) {
	a.presalesDirty.mu.Lock()
	dirty := a.presalesDirty.ids
	a.presalesDirty.ids = nil
	a.presalesDirty.mu.Unlock()
	for r := range dirty {
		ps, err := a.Presales.Presale(ctx, r.MerchantID, r.ID)
		if err != nil {
			continue
		}
		a.publishPresale(ps, "presale.progress")
	}
}

// publishPresale tells the pre-sale's room and the pre-sale's own page.
func (a *App) publishPresale(ps *presale.Presale, typ string) {
	data := map[string]any{"presale": ps}
	if ps.RoomID != 0 {
		a.publish(live.RoomTopic(ps.RoomID), typ, data)
	}
	a.publish(PresaleTopic(ps.ID), typ, data)
}

// PresaleTopic is the realtime topic of a pre-sale's page.
func PresaleTopic(id int64) string { return "presale:" + strconv.FormatInt(id, 10) }

// roomPresale is the room's open pre-sale, or the one settled last (for a
// day), for the room's snapshot.
func (a *App) roomPresale(ctx context.Context, r *live.Room) *presale.Presale {
	if a.Presales == nil {
		return nil
	}
	list, err := a.Presales.Presales(ctx, r.MerchantID, presale.Filter{RoomID: r.ID, Limit: 5})
	if err != nil {
		return nil
	}
	for i := range list {
		if list[i].Status == presale.Open {
			return &list[i]
		}
	}
	for i := range list {
		if list[i].SettledAt != nil && a.Now().Sub(*list[i].SettledAt) < 24*time.Hour {
			return &list[i]
		}
	}
	return nil
}

// presaleTick runs the deadline work on the leader: settle, refund, the
// deposit rule, and webhooks not yet queued. Every step is guarded in the
// database, so a second node running it (failover) or a crash between
// steps neither repeats nor skips an effect.
func (a *App) presaleTick(ctx context.Context) {
	if a.Presales == nil {
		return
	}
	due, err := a.Presales.DueSettle(ctx, a.Now(), 20)
	if err != nil {
		a.Logger.Error("presale: due", "err", err)
	}
	for _, r := range due {
		ps, changed, err := a.Presales.Settle(ctx, r.MerchantID, r.ID)
		if err != nil {
			a.Logger.Error("presale: settle", "presale", r.ID, "err", err)
			continue
		}
		if changed {
			a.Logger.Info("presale settled", "presale", ps.ID, "status", ps.Status, "committed", ps.Committed, "moq", ps.MOQ)
			a.publishPresale(ps, "presale.settled")
		}
	}
	a.refundFailedPresales(ctx)
	expired, err := a.Presales.ForfeitDue(ctx, a.Now(), 20)
	if err != nil {
		a.Logger.Error("presale: forfeit", "err", err)
	}
	for i := range expired {
		a.orderChanged(&expired[i])
	}
	a.notifyPresales(ctx)
}

// refundFailedPresales cancels the paid orders of missed pre-sales (the
// cancel records the refund) and sends the refunds to the provider.
func (a *App) refundFailedPresales(ctx context.Context) {
	due, err := a.Presales.RefundDue(ctx, 20)
	if err != nil {
		a.Logger.Error("presale: refunds due", "err", err)
		return
	}
	for _, r := range due {
		cancelled, err := a.Presales.CancelPaid(ctx, r.MerchantID, r.ID, 100)
		if err != nil {
			a.Logger.Error("presale: cancel paid", "presale", r.ID, "err", err)
		}
		for i := range cancelled {
			a.refundsPending(ctx, &cancelled[i])
			o, err := a.Orders.Get(ctx, r.MerchantID, cancelled[i].ID)
			if err != nil {
				o = &cancelled[i]
			}
			a.orderChanged(o)
		}
		if len(cancelled) > 0 {
			a.Logger.Info("presale refunds", "presale", r.ID, "orders", len(cancelled))
		}
	}
}

// notifyPresales queues presale.reached / presale.failed for decided
// pre-sales, then marks them: a crash in between queues again, and the
// webhook key makes that one delivery.
func (a *App) notifyPresales(ctx context.Context) {
	refs, err := a.Presales.Unnotified(ctx, 20)
	if err != nil {
		a.Logger.Error("presale: unnotified", "err", err)
		return
	}
	for _, r := range refs {
		ps, err := a.Presales.Presale(ctx, r.MerchantID, r.ID)
		if err != nil {
			continue
		}
		data := map[string]any{"presale": webhookPresale(ps)}
		typ := "presale." + string(ps.Status)
		if ps.Status == presale.Reached {
			if prod, err := a.Presales.Production(ctx, r.MerchantID, r.ID); err == nil {
				data["production"] = map[string]any{"units": prod.Units, "lines": prod.Lines, "supplier": ps.Supplier, "ship_by": ps.ShipBy,
					"csv": fmt.Sprintf("/api/v1/presales/%d/production.csv", ps.ID), "xlsx": fmt.Sprintf("/api/v1/presales/%d/production.xlsx", ps.ID)}
			}
		}
		a.emit(r.MerchantID, typ, typ+":"+strconv.FormatInt(ps.ID, 10), data)
		if err := a.Presales.MarkNotified(ctx, r.MerchantID, r.ID); err != nil {
			a.Logger.Error("presale: mark notified", "presale", r.ID, "err", err)
		}
	}
}

func webhookPresale(ps *presale.Presale) map[string]any {
	return map[string]any{"id": ps.ID, "title": ps.Title, "product_id": ps.ProductID, "sku_id": ps.SKUID, "status": ps.Status, "moq": ps.MOQ,
		"committed": ps.Committed, "buyers": ps.Buyers, "price_fen": ps.PriceFen, "deposit_fen": ps.DepositFen, "deadline": ps.Deadline,
		"balance_due_at": ps.BalanceDueAt, "ship_by": ps.ShipBy, "supplier": ps.Supplier, "settled_at": ps.SettledAt}
}
