package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/stores"
)

// CatalogStore implements catalog.Store.
type CatalogStore struct{ DB *DB }

var _ catalog.Store = (*CatalogStore)(nil)

const productCols = `id, merchant_id, name, name_en, subtitle, description, image, specs, ingredients, allergens, origin, storage, shelf_days, active, created_at, updated_at, aliases, category, product_type`

func scanProduct(row interface{ Scan(...any) error }) (*catalog.Product, error) {
	var p catalog.Product
	var storage string
	var created, updated int64
	var aliases string
	err := row.Scan(&p.ID, &p.MerchantID, &p.Name, &p.NameEN, &p.Subtitle, &p.Description, &p.Image, &p.Specs, &p.Ingredients, &p.Allergens, &p.Origin, &storage, &p.ShelfDays, &p.Active, &created, &updated, &aliases, &p.Category, &p.ProductType)
	if err != nil {
		return nil, translate(err)
	}
	p.Aliases = catalog.SplitAliases(aliases)
	p.Storage, p.CreatedAt, p.UpdatedAt = catalog.StorageClass(storage), fromMS(created), fromMS(updated)
	return &p, nil
}

func (s *CatalogStore) CreateProduct(ctx context.Context, p *catalog.Product) error {
	return s.CreateProducts(ctx, []*catalog.Product{p})
}

// CreateProducts inserts every product with its SKUs in one transaction: a
// SKU code already taken fails them all (conflict) and nothing is created.
func (s *CatalogStore) CreateProducts(ctx context.Context, ps []*catalog.Product) error {
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			return err
		}
	}
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		for _, p := range ps {
			if err := insertProduct(ctx, tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for _, p := range ps { // rolled back: no ids to hand out
			p.ID = 0
			for i := range p.SKUs {
				p.SKUs[i].ID = 0
			}
		}
	}
	return err
}

// productType is what is stored for a product saved without one (seeds,
// imports that skip Validate): ordinary food, the column's default.
func productType(p *catalog.Product) string {
	if p.ProductType == "" {
		p.ProductType = catalog.OrdinaryFood
	}
	return p.ProductType
}

func insertProduct(ctx context.Context, tx *Tx, p *catalog.Product) (err error) {
	p.CreatedAt, p.UpdatedAt = tx.Now, tx.Now
	p.ID, err = tx.InsertID(ctx, `INSERT INTO products (merchant_id, name, name_en, subtitle, description, image, specs, ingredients, allergens, origin, storage, shelf_days, active, created_at, updated_at, aliases, category, product_type)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.MerchantID, p.Name, p.NameEN, p.Subtitle, p.Description, p.Image, p.Specs, p.Ingredients, p.Allergens, p.Origin, string(p.Storage), p.ShelfDays, p.Active, ms(tx.Now), ms(tx.Now),
		strings.Join(p.Aliases, "\n"), p.Category, productType(p))
	if err != nil {
		return err
	}
	return upsertSKUs(ctx, tx, p)
}

func upsertSKUs(ctx context.Context, tx *Tx, p *catalog.Product) error {
	for i := range p.SKUs {
		k := &p.SKUs[i]
		k.ProductID = p.ID
		if k.ID == 0 {
			id, err := tx.InsertID(ctx, `INSERT INTO skus (merchant_id, product_id, code, name, name_en, gtin, price_fen, list_price_fen, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				p.MerchantID, p.ID, k.Code, k.Name, k.NameEN, k.GTIN, k.PriceFen, k.ListPriceFen, k.Active)
			if err != nil {
				return err
			}
			k.ID = id
			if err := recordPrice(ctx, tx, p.MerchantID, k.ID, k.PriceFen); err != nil {
				return err
			}
			continue
		}
		if err := priceChanging(ctx, tx, p.MerchantID, k.ID, k.PriceFen); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE skus SET code = ?, name = ?, name_en = ?, gtin = ?, price_fen = ?, list_price_fen = ?, active = ? WHERE merchant_id = ? AND product_id = ? AND id = ?`,
			k.Code, k.Name, k.NameEN, k.GTIN, k.PriceFen, k.ListPriceFen, k.Active, p.MerchantID, p.ID, k.ID)
		if err := mustAffect(res, err); err != nil {
			return err
		}
	}
	return nil
}

// recordPrice writes the price a SKU takes from now into its history.
func recordPrice(ctx context.Context, tx *Tx, merchantID, skuID, priceFen int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO sku_prices (merchant_id, sku_id, price_fen, at) VALUES (?, ?, ?, ?)`, merchantID, skuID, priceFen, ms(tx.Now))
	return err
}

// priceChanging records priceFen when it differs from the SKU's stored
// price (a SKU of another merchant is left to the UPDATE that follows).
func priceChanging(ctx context.Context, tx *Tx, merchantID, skuID, priceFen int64) error {
	var old int64
	err := tx.QueryRow(ctx, `SELECT price_fen FROM skus WHERE merchant_id = ? AND id = ?`, merchantID, skuID).Scan(&old)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && old == priceFen) {
		return nil
	}
	if err != nil {
		return err
	}
	return recordPrice(ctx, tx, merchantID, skuID, priceFen)
}

// PriceHistory is a SKU's prices from since on, with the price in force at
// since first (when it had one), oldest first.
func (s *CatalogStore) PriceHistory(ctx context.Context, merchantID, skuID int64, since time.Time) ([]catalog.PricePoint, error) {
	rows, err := s.DB.Query(ctx, `SELECT price_fen, at FROM sku_prices WHERE merchant_id = ? AND sku_id = ? AND (at > ? OR id = (
			SELECT id FROM sku_prices WHERE merchant_id = ? AND sku_id = ? AND at <= ? ORDER BY at DESC, id DESC LIMIT 1)) ORDER BY at, id`,
		merchantID, skuID, ms(since), merchantID, skuID, ms(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalog.PricePoint
	for rows.Next() {
		var pp catalog.PricePoint
		var at int64
		if err := rows.Scan(&pp.PriceFen, &at); err != nil {
			return nil, err
		}
		pp.At = fromMS(at)
		out = append(out, pp)
	}
	return out, rows.Err()
}

func (s *CatalogStore) UpdateProduct(ctx context.Context, p *catalog.Product) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		p.UpdatedAt = tx.Now
		res, err := tx.Exec(ctx, `UPDATE products SET name = ?, name_en = ?, subtitle = ?, description = ?, image = ?, specs = ?, ingredients = ?, allergens = ?, origin = ?, storage = ?, shelf_days = ?, active = ?, updated_at = ?, aliases = ?, category = ?, product_type = ?
			WHERE merchant_id = ? AND id = ?`, p.Name, p.NameEN, p.Subtitle, p.Description, p.Image, p.Specs, p.Ingredients, p.Allergens, p.Origin, string(p.Storage), p.ShelfDays, p.Active, ms(tx.Now),
			strings.Join(p.Aliases, "\n"), p.Category, productType(p), p.MerchantID, p.ID)
		if err := mustAffect(res, err); err != nil {
			return err
		}
		return upsertSKUs(ctx, tx, p)
	})
}

func (s *CatalogStore) Product(ctx context.Context, merchantID, id int64) (*catalog.Product, error) {
	p, err := scanProduct(s.DB.QueryRow(ctx, `SELECT `+productCols+` FROM products WHERE merchant_id = ? AND id = ?`, merchantID, id))
	if err != nil {
		return nil, err
	}
	list := []catalog.Product{*p}
	if err := s.fillSKUs(ctx, merchantID, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

func (s *CatalogStore) ListProducts(ctx context.Context, merchantID int64) ([]catalog.Product, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+productCols+` FROM products WHERE merchant_id = ? ORDER BY id`, merchantID)
	if err != nil {
		return nil, err
	}
	var out []catalog.Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, *p)
	}
	rows.Close()
	return out, s.fillSKUs(ctx, merchantID, out)
}

// fillSKUs loads SKUs with their sellable stock for a list of products in one query each.
func (s *CatalogStore) fillSKUs(ctx context.Context, merchantID int64, list []catalog.Product) error {
	if len(list) == 0 {
		return nil
	}
	idx := map[int64]int{}
	for i := range list {
		idx[list[i].ID] = i
		list[i].SKUs = []catalog.SKU{}
	}
	// One product (a card update, a pin) reads only its own SKUs.
	filter, args := "", []any{ms(s.DB.Now()), ms(s.DB.Now()), merchantID}
	if len(list) == 1 {
		filter, args = " AND k.product_id = ?", append(args, list[0].ID)
	}
	rows, err := s.DB.Query(ctx, `SELECT k.id, k.product_id, k.code, k.name, k.name_en, k.gtin, k.price_fen, k.list_price_fen, k.active,
		COALESCE((SELECT SUM(st.on_hand - st.reserved) FROM stock st JOIN lots l ON l.id = st.lot_id
		          WHERE st.sku_id = k.id AND l.hold = FALSE AND st.hold = FALSE AND l.expires_at > ?), 0),
		COALESCE((SELECT SUM(st.on_hand - st.reserved) FROM stock st JOIN lots l ON l.id = st.lot_id
		          WHERE st.sku_id = k.id AND (l.hold = TRUE OR st.hold = TRUE) AND l.expires_at > ?), 0)
		FROM skus k WHERE k.merchant_id = ?`+filter+` ORDER BY k.id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k catalog.SKU
		if err := rows.Scan(&k.ID, &k.ProductID, &k.Code, &k.Name, &k.NameEN, &k.GTIN, &k.PriceFen, &k.ListPriceFen, &k.Active, &k.Available, &k.Held); err != nil {
			return err
		}
		if i, ok := idx[k.ProductID]; ok {
			list[i].SKUs = append(list[i].SKUs, k)
		}
	}
	return rows.Err()
}

func (s *CatalogStore) SKU(ctx context.Context, merchantID, id int64) (*catalog.SKU, *catalog.Product, error) {
	var pid int64
	if err := s.DB.QueryRow(ctx, `SELECT product_id FROM skus WHERE merchant_id = ? AND id = ?`, merchantID, id).Scan(&pid); err != nil {
		return nil, nil, translate(err)
	}
	p, err := s.Product(ctx, merchantID, pid)
	if err != nil {
		return nil, nil, err
	}
	for i := range p.SKUs {
		if p.SKUs[i].ID == id {
			return &p.SKUs[i], p, nil
		}
	}
	return nil, nil, apperr.ErrNotFound
}

func (s *CatalogStore) SetPrice(ctx context.Context, merchantID, skuID, priceFen int64) error {
	if priceFen < 0 || priceFen > 100_000_000 {
		return apperr.ErrInvalidPrice.With("价格须在 0 到 100 万元之间", "Price must be between 0 and ¥1,000,000.")
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if err := priceChanging(ctx, tx, merchantID, skuID, priceFen); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE skus SET price_fen = ? WHERE merchant_id = ? AND id = ?`, priceFen, merchantID, skuID)
		return mustAffect(res, err)
	})
}

// StoreRepo implements stores.Repo.
type StoreRepo struct{ DB *DB }

var _ stores.Repo = (*StoreRepo)(nil)

const storeCols = `id, merchant_id, name, name_en, address, lat, lng, phone, hours, delivery, pickup_window_hours, open_minute, close_minute, slot_minutes, slot_capacity,
	delivery_radius_m, delivery_tiers, delivery_free_over_fen, delivery_slot_capacity`

func scanStore(row interface{ Scan(...any) error }) (*stores.Store, error) {
	var s stores.Store
	var tiers string
	err := row.Scan(&s.ID, &s.MerchantID, &s.Name, &s.NameEN, &s.Address, &s.Lat, &s.Lng, &s.Phone, &s.Hours, &s.Delivery, &s.PickupWindowHours, &s.OpenMinute, &s.CloseMinute, &s.SlotMinutes, &s.SlotCapacity,
		&s.DeliveryRadiusM, &tiers, &s.DeliveryFreeOverFen, &s.DeliverySlotCapacity)
	if err != nil {
		return &s, translate(err)
	}
	if err := json.Unmarshal([]byte(tiers), &s.DeliveryTiers); err != nil || s.DeliveryTiers == nil {
		s.DeliveryTiers = []stores.FeeTier{}
	}
	return &s, nil
}

func tiersJSON(s *stores.Store) string {
	b, _ := json.Marshal(s.DeliveryTiers)
	return string(b)
}

func (r *StoreRepo) CreateStore(ctx context.Context, s *stores.Store) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return r.DB.WriteTx(ctx, func(tx *Tx) (err error) {
		s.ID, err = tx.InsertID(ctx, `INSERT INTO stores (merchant_id, name, name_en, address, lat, lng, phone, hours, delivery, pickup_window_hours,
			open_minute, close_minute, slot_minutes, slot_capacity, created_at, delivery_radius_m, delivery_tiers, delivery_free_over_fen, delivery_slot_capacity)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			s.MerchantID, s.Name, s.NameEN, s.Address, s.Lat, s.Lng, s.Phone, s.Hours, s.Delivery, s.PickupWindowHours,
			s.OpenMinute, s.CloseMinute, s.SlotMinutes, s.SlotCapacity, ms(tx.Now), s.DeliveryRadiusM, tiersJSON(s), s.DeliveryFreeOverFen, s.DeliverySlotCapacity)
		return err
	})
}

func (r *StoreRepo) UpdateStore(ctx context.Context, s *stores.Store) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return r.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE stores SET name = ?, name_en = ?, address = ?, lat = ?, lng = ?, phone = ?, hours = ?, delivery = ?, pickup_window_hours = ?,
			open_minute = ?, close_minute = ?, slot_minutes = ?, slot_capacity = ?,
			delivery_radius_m = ?, delivery_tiers = ?, delivery_free_over_fen = ?, delivery_slot_capacity = ? WHERE merchant_id = ? AND id = ?`,
			s.Name, s.NameEN, s.Address, s.Lat, s.Lng, s.Phone, s.Hours, s.Delivery, s.PickupWindowHours,
			s.OpenMinute, s.CloseMinute, s.SlotMinutes, s.SlotCapacity, s.DeliveryRadiusM, tiersJSON(s), s.DeliveryFreeOverFen, s.DeliverySlotCapacity, s.MerchantID, s.ID)
		return mustAffect(res, err)
	})
}

func (r *StoreRepo) Store(ctx context.Context, merchantID, id int64) (*stores.Store, error) {
	s, err := scanStore(r.DB.QueryRow(ctx, `SELECT `+storeCols+` FROM stores WHERE merchant_id = ? AND id = ?`, merchantID, id))
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (r *StoreRepo) ListStores(ctx context.Context, merchantID int64) ([]stores.Store, error) {
	rows, err := r.DB.Query(ctx, `SELECT `+storeCols+` FROM stores WHERE merchant_id = ? ORDER BY id`, merchantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []stores.Store
	for rows.Next() {
		s, err := scanStore(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, rows.Err()
}

// storeOfMerchant is the one check that a store id is one of the merchant's
// stores, for every write that names a store (stock, orders, flash sales,
// cold-chain locations). Another tenant's store reads as unknown, like no
// store at all; a database failure is returned as itself, so an outage
// never reads as bad input.
func storeOfMerchant(ctx context.Context, tx *Tx, merchantID, storeID int64) error {
	return absentAs(ofMerchant(ctx, tx, "stores", merchantID, storeID), stores.ErrUnknownStore)
}

// ofMerchant is not_found unless table holds row id of the merchant (a
// group, room, SKU, product, lot or location named in a body: another
// shop's looks absent); a database failure is returned as itself. table is
// a literal of the caller's, never input. Wrap it in absentAs to name what
// was absent in the domain's words.
func ofMerchant(ctx context.Context, q querier, table string, merchantID, id int64) error {
	var n int64
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE merchant_id = ? AND id = ?`, merchantID, id).Scan(&n); err != nil {
		return fmt.Errorf("%s of merchant: %w", table, err)
	}
	if n == 0 {
		return apperr.ErrNotFound
	}
	return nil
}

// absentAs returns as when err says the row is not there (sql.ErrNoRows, or
// mustAffect's not found) and err itself otherwise: a lookup's outage is
// not the user's bad input.
func absentAs(err error, as error) error {
	return apperr.NotFoundAs(translate(err), as)
}
