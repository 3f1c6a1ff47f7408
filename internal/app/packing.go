package app

import (
	"context"

	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/order"
)

// PackLine is one line of a delivery order to pack.
type PackLine struct {
	ProductName   string               `json:"product_name"`
	ProductNameEN string               `json:"product_name_en,omitempty"` // the order line's, for the English console
	SKUName       string               `json:"sku_name"`
	SKUNameEN     string               `json:"sku_name_en,omitempty"` // the order line's, for the English console
	Quantity      int64                `json:"quantity"`
	Storage       catalog.StorageClass `json:"storage"`
	// Insulated: chilled or frozen food goes into an insulated box with
	// ice packs (冷藏/冷冻 → 保温箱+冰袋), never loose in the bag.
	Insulated bool `json:"insulated"`
}

// PackOrder is a paid delivery order waiting to be packed and shipped.
type PackOrder struct {
	OrderID   int64      `json:"order_id"`
	Number    string     `json:"number"`
	StoreID   int64      `json:"store_id"`
	Address   string     `json:"address"`
	Insulated bool       `json:"insulated"` // any line needs the insulated box
	Lines     []PackLine `json:"lines"`
}

// PackingList lists the paid delivery orders of a store (staff bound to a
// store: theirs) with each line flagged for insulated packing by its
// product's storage class. The address is shown as staff may see it.
func (a *App) PackingList(ctx context.Context, p *identity.Principal, storeID int64) ([]PackOrder, error) {
	if at := p.AtStore(); at != 0 {
		storeID = at
	}
	list, err := a.Orders.List(ctx, order.Filter{MerchantID: p.MerchantID, StoreID: storeID, Status: order.Paid, Limit: 200})
	if err != nil {
		return nil, err
	}
	storage := map[int64]catalog.StorageClass{}
	out := []PackOrder{}
	for i := range list {
		o := OrderView(p, &list[i])
		if o.Fulfilment != order.Delivery {
			continue
		}
		po := PackOrder{OrderID: o.ID, Number: o.Number, StoreID: o.StoreID, Address: o.Address, Lines: []PackLine{}}
		for _, ln := range o.Lines {
			st, ok := storage[ln.ProductID]
			if !ok {
				st = catalog.Chilled // unknown: treat as fresh
				if prod, err := a.Catalog.Product(ctx, p.MerchantID, ln.ProductID); err == nil {
					st = prod.Storage
				}
				storage[ln.ProductID] = st
			}
			ins := st == catalog.Chilled || st == catalog.Frozen
			po.Insulated = po.Insulated || ins
			po.Lines = append(po.Lines, PackLine{ProductName: ln.ProductName, ProductNameEN: ln.ProductNameEN, SKUName: ln.SKUName, SKUNameEN: ln.SKUNameEN, Quantity: ln.Quantity, Storage: st, Insulated: ins})
		}
		out = append(out, po)
	}
	return out, nil
}
