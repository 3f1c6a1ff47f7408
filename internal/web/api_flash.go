package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/stores"
)

func (s *Server) apiListFlash(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomOwned(r)
	if err != nil {
		return err
	}
	list, err := s.App.Flash.List(r.Context(), room.MerchantID, room.ID)
	if err != nil {
		return err
	}
	out := []any{}
	for _, sale := range list {
		if v, err := s.App.FlashView(r.Context(), sale); err == nil {
			out = append(out, v)
		}
	}
	return writeJSON(w, 200, map[string]any{"flash_sales": out})
}

func (s *Server) apiCreateFlash(w http.ResponseWriter, r *http.Request) error {
	room, err := s.roomOwned(r)
	if err != nil {
		return err
	}
	var in struct {
		SKUID        int64      `json:"sku_id"`
		StoreID      int64      `json:"store_id"`
		PriceFen     int64      `json:"price_fen"`
		Quantity     int64      `json:"quantity"`
		PerUserLimit int64      `json:"per_user_limit"`
		StartsAt     *time.Time `json:"starts_at"`
		EndsAt       *time.Time `json:"ends_at"`
		DurationS    int64      `json:"duration_s"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sale := &flashsale.Sale{RoomID: room.ID, SKUID: in.SKUID, StoreID: in.StoreID, PriceFen: in.PriceFen, Quantity: in.Quantity, PerUserLimit: in.PerUserLimit}
	if sale.PerUserLimit == 0 {
		sale.PerUserLimit = 1
	}
	if sale.StoreID == 0 {
		list, err := s.App.Stores.ListStores(r.Context(), room.MerchantID)
		if err != nil {
			return err // an outage is not "no store"
		}
		if len(list) == 0 {
			return stores.ErrUnknownStore.With("请先创建门店", "Create a store first.")
		}
		sale.StoreID = list[0].ID
	}
	now := s.App.Now()
	sale.StartsAt = now
	if in.StartsAt != nil {
		sale.StartsAt = in.StartsAt.UTC()
	}
	switch {
	case in.EndsAt != nil:
		sale.EndsAt = in.EndsAt.UTC()
	case in.DurationS > 0:
		sale.EndsAt = sale.StartsAt.Add(time.Duration(in.DurationS) * time.Second)
	default:
		sale.EndsAt = sale.StartsAt.Add(10 * time.Minute)
	}
	v, err := s.App.CreateFlashSale(r.Context(), PrincipalFrom(r.Context()), sale)
	if errors.Is(err, flashsale.ErrQuotaOnStart) {
		return s.shortForSale(r, room.MerchantID, sale)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, 201, v)
}

func (s *Server) apiEndFlash(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	err = s.App.EndFlashSale(r.Context(), PrincipalFrom(r.Context()), id)
	if addr, ok := app.NotLeader(err); ok {
		return s.forward(w, r, addr, nil)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// shortForSale says which store is short for a flash sale and how many units
// it can sell, so the host can lower the quantity or pick another store.
func (s *Server) shortForSale(r *http.Request, merchantID int64, sale *flashsale.Sale) error {
	name, nameEN := fmt.Sprintf("#%d", sale.StoreID), fmt.Sprintf("#%d", sale.StoreID)
	if st, err := s.App.Stores.Store(r.Context(), merchantID, sale.StoreID); err == nil {
		name, nameEN = st.Name, st.Name
		if st.NameEN != "" {
			nameEN = st.NameEN
		}
	}
	var left int64
	if levels, err := s.App.Inventory.Levels(r.Context(), merchantID, sale.SKUID); err == nil {
		now := s.App.Now()
		for _, l := range levels {
			if l.StoreID == sale.StoreID {
				left += l.Available(now)
			}
		}
	}
	return flashsale.ErrQuotaOnStart.At("quantity").With(
		fmt.Sprintf("%s可售库存 %d 件，不足以开启 %d 件的秒杀：请减少数量或换一家门店", name, left, sale.Quantity),
		fmt.Sprintf("%s has %d units to sell, too few for a sale of %d: lower the quantity or pick another store.", nameEN, left, sale.Quantity))
}
