package web

import (
	"net/http"

	"github.com/shelflive/shelflive/internal/live"
)

// storeRow is one store side by side with the others: its studio's rooms
// and its trade over the period. Store 0 is the brand's own rooms (rooms
// of no store); orders always belong to a store.
type storeRow struct {
	StoreID    int64  `json:"store_id"`
	Name       string `json:"name"`
	NameEN     string `json:"name_en,omitempty"`
	Rooms      int    `json:"rooms"`
	LiveRooms  int    `json:"live_rooms"`
	Orders     int64  `json:"orders"`
	PaidOrders int64  `json:"paid_orders"`
	GMVFen     int64  `json:"gmv_fen"`
}

// apiStoreReport shows the brand every store side by side (rooms, orders,
// GMV per store, dates in China time like the guide report); staff bound
// to one store see their store's row only.
func (s *Server) apiStoreReport(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	from, to, err := reportDays(r, s.App.Now())
	if err != nil {
		return err
	}
	stores, err := s.App.Stores.ListStores(r.Context(), p.MerchantID)
	if err != nil {
		return err
	}
	rooms, err := s.App.Live.ListRooms(r.Context(), p.MerchantID)
	if err != nil {
		return err
	}
	sales, err := s.App.Orders.StoreSales(r.Context(), p.MerchantID, from, to.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	at := p.AtStore()
	rows := []storeRow{}
	index := map[int64]int{}
	add := func(id int64, name, nameEN string) {
		if at == 0 || id == at {
			index[id] = len(rows)
			rows = append(rows, storeRow{StoreID: id, Name: name, NameEN: nameEN})
		}
	}
	for _, st := range stores {
		add(st.ID, st.Name, st.NameEN)
	}
	for _, room := range rooms {
		if room.StoreID == 0 {
			if _, ok := index[0]; !ok && at == 0 {
				add(0, "", "") // the brand's own rooms: the page names the row
			}
		}
		if i, ok := index[room.StoreID]; ok {
			rows[i].Rooms++
			if room.Status == live.Live {
				rows[i].LiveRooms++
			}
		}
	}
	for _, x := range sales {
		if i, ok := index[x.StoreID]; ok {
			rows[i].Orders, rows[i].PaidOrders, rows[i].GMVFen = x.Orders, x.PaidOrders, x.GMVFen
		}
	}
	var total storeRow
	for _, row := range rows {
		total.Rooms += row.Rooms
		total.LiveRooms += row.LiveRooms
		total.Orders += row.Orders
		total.PaidOrders += row.PaidOrders
		total.GMVFen += row.GMVFen
	}
	return writeJSON(w, 200, map[string]any{"from": from.Format("2006-01-02"), "to": to.Format("2006-01-02"), "stores": rows, "total": total})
}
