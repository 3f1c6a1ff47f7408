package app

import (
	"context"
	"fmt"

	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/identity"
)

// UpdateProduct saves prod over old, a product of the caller's merchant as
// stored (the handler loads it first, so another tenant's product is not
// found before the body is read): every SKU prod names by id must be one of
// old's; each price change is audited once the save has committed; live
// rooms get the new card. Texts it changes of a product a live room shows
// are reviewed first (checkProductEdit): blocking ones need ov.
func (a *App) UpdateProduct(ctx context.Context, p *identity.Principal, old, prod *catalog.Product, ov *Override) (*catalog.Product, error) {
	prod.ID, prod.MerchantID = old.ID, p.MerchantID
	known := map[int64]catalog.SKU{}
	for _, k := range old.SKUs {
		known[k.ID] = k
	}
	var changes []string
	for _, k := range prod.SKUs {
		if k.ID != 0 {
			if _, ok := known[k.ID]; !ok {
				return nil, catalog.ErrUnknownSKU.At("skus").With("规格不属于该商品", "SKU does not belong to this product.")
			}
		}
		if o, ok := known[k.ID]; ok && o.PriceFen != k.PriceFen {
			changes = append(changes, "sku:"+o.Code, fmt.Sprintf("%d -> %d fen", o.PriceFen, k.PriceFen))
		}
	}
	overridden, err := a.checkProductEdit(ctx, p, old, prod, ov)
	if err != nil {
		return nil, err
	}
	if err := a.Catalog.UpdateProduct(ctx, prod); err != nil {
		return nil, err
	}
	a.auditOverride(ctx, overridden)
	for i := 0; i < len(changes); i += 2 {
		a.Audit.Audit(ctx, p.MerchantID, p.Name, "price.change", changes[i], changes[i+1])
	}
	return a.ProductChanged(ctx, p.MerchantID, prod.ID)
}
