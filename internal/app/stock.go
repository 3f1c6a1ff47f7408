package app

import (
	"context"
	"fmt"
	"github.com/shelflive/shelflive/internal/apperr"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/inventory"
)

// SetStock sets on-hand units and lets rooms showing the product know.
func (a *App) SetStock(ctx context.Context, p *identity.Principal, storeID, lotID, onHand int64) error {
	if err := a.Inventory.SetStock(ctx, p.MerchantID, storeID, lotID, onHand); err != nil {
		return err
	}
	lot, err := a.Inventory.Lot(ctx, p.MerchantID, lotID)
	if err != nil {
		return err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "stock.set", fmt.Sprintf("lot:%s store:%d", lot.Code, storeID), fmt.Sprint(onHand))
	return a.skuChanged(ctx, p.MerchantID, lot.SKUID)
}

// SetHold puts a lot on hold (not sellable) or releases it.
func (a *App) SetHold(ctx context.Context, p *identity.Principal, lotID int64, hold bool, reason string) (*inventory.Lot, error) {
	if err := a.Inventory.SetHold(ctx, p.MerchantID, lotID, hold, reason); err != nil {
		return nil, err
	}
	lot, err := a.Inventory.Lot(ctx, p.MerchantID, lotID)
	if err != nil {
		return nil, err
	}
	action := "lot.release"
	if hold {
		action = "lot.hold"
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, action, "lot:"+lot.Code, reason)
	a.emitLot(p.MerchantID, lot, p, reason)
	a.syncFlashHolds(ctx) // a running sale over the lot pauses or resumes now
	return lot, a.skuChanged(ctx, p.MerchantID, lot.SKUID)
}

// SetStoreHold holds (or releases) a lot's units in one store only: an
// excursion at that store's fridge, or quality's call. Audited, the card
// republished (the store's units leave what the room can sell), a running
// flash sale of that store over the lot pauses.
func (a *App) SetStoreHold(ctx context.Context, p *identity.Principal, lotID, storeID int64, hold bool, reason string) (*inventory.Lot, error) {
	if at := p.AtStore(); at != 0 && at != storeID {
		return nil, apperr.ErrNotFound
	}
	if err := a.Inventory.SetStoreHold(ctx, p.MerchantID, lotID, storeID, hold, reason); err != nil {
		return nil, err
	}
	lot, err := a.Inventory.Lot(ctx, p.MerchantID, lotID)
	if err != nil {
		return nil, err
	}
	if lot.HeldStores, err = a.Inventory.HeldStores(ctx, p.MerchantID, lotID); err != nil {
		return nil, err
	}
	action := "lot.release_store"
	if hold {
		action = "lot.hold_store"
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, action, "lot:"+lot.Code, fmt.Sprintf("store=%d %s", storeID, reason))
	a.emitLot(p.MerchantID, lot, p, reason)
	a.syncFlashHolds(ctx)
	return lot, a.skuChanged(ctx, p.MerchantID, lot.SKUID)
}

func (a *App) skuChanged(ctx context.Context, merchantID, skuID int64) error {
	_, prod, err := a.Catalog.SKU(ctx, merchantID, skuID)
	if err != nil {
		return err
	}
	_, err = a.ProductChanged(ctx, merchantID, prod.ID)
	return err
}

// ImportStock applies a stock count (all rows or none) and republishes the
// SKUs it touched, so rooms show the new availability.
func (a *App) ImportStock(ctx context.Context, p *identity.Principal, rows []inventory.StockRow) (int, error) {
	created, err := a.Inventory.ImportStock(ctx, p.MerchantID, rows)
	if err != nil {
		return 0, err
	}
	a.Audit.Audit(ctx, p.MerchantID, p.Name, "stock.import", "stock", fmt.Sprintf("%d rows, %d new lots", len(rows), created))
	codes := map[string]bool{}
	for _, r := range rows {
		codes[r.SKUCode] = true
	}
	products, err := a.Catalog.ListProducts(ctx, p.MerchantID)
	if err != nil {
		return created, nil // the count is stored; rooms catch up on their next change
	}
	for _, prod := range products {
		for _, k := range prod.SKUs {
			if codes[k.Code] {
				a.skuChangedNoErr(ctx, p.MerchantID, k.ID)
			}
		}
	}
	return created, nil
}
