// Package stores holds physical stores: pickup points with a location, and
// the ones that ship delivery orders.
package stores

import (
	"context"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
)

// ErrUnknownStore is a store id that is not one of the merchant's stores.
var ErrUnknownStore = apperr.InvalidField("store_id", "unknown_store", "门店不存在", "Unknown store.")

// Store is a shop with an address and coordinates (GCJ-02 as shown on Chinese maps).
type Store struct {
	ID         int64   `json:"id"`
	MerchantID int64   `json:"-"`
	Name       string  `json:"name"`
	NameEN     string  `json:"name_en,omitempty"`
	Address    string  `json:"address"`
	Lat        float64 `json:"lat"`
	Lng        float64 `json:"lng"`
	Phone      string  `json:"phone,omitempty"`
	Hours      string  `json:"hours,omitempty"`
	Delivery   bool    `json:"delivery"`
	// PickupWindowHours is how long a paid pickup order waits in the store
	// (from ready, or paid when never marked ready) before it is cancelled
	// and refunded in full; 0 when stored means DefaultPickupWindowHours.
	PickupWindowHours int `json:"pickup_window_hours"`
	// Opening hours (minutes after midnight, China time; default 08:00 to
	// 22:00) and pickup slots (slots.go): SlotCapacity 0 means no slots.
	OpenMinute   int     `json:"open_minute"`
	CloseMinute  int     `json:"close_minute"`
	SlotMinutes  int     `json:"slot_minutes"`
	SlotCapacity int64   `json:"slot_capacity"`
	DistanceM    float64 `json:"distance_m,omitempty"` // set by Nearest
	// Same-city delivery (delivery.go): radius (0: none), fee tiers by
	// distance, free over an order amount, orders per delivery slot.
	DeliveryRadiusM      int64     `json:"delivery_radius_m"`
	DeliveryTiers        []FeeTier `json:"delivery_tiers"`
	DeliveryFreeOverFen  int64     `json:"delivery_free_over_fen"`
	DeliverySlotCapacity int64     `json:"delivery_slot_capacity"`
}

// Validate checks a store before it is stored.
// Length limits: a store's name and address are shown on every pickup
// choice and order page (a 1 MB name was accepted once).
const (
	MaxNameRunes    = 60
	MaxAddressRunes = 200
)

// Pickup window: how long a paid pickup order is kept for the buyer.
const (
	DefaultPickupWindowHours = 48
	MaxPickupWindowHours     = 168
)

// ErrTooLong refuses a store name or address over the limits.
var ErrTooLong = apperr.InvalidField("name", "store_text_too_long", "门店名称最多60字，地址最多200字，电话32位，营业时间100字", "A store name is at most 60 characters, its address 200, phone 32, hours 100.")

var (
	// ErrInvalidStore refuses a store without name or address.
	ErrInvalidStore = apperr.InvalidField("name", "invalid_store", "门店名称和地址必填", "Store name and address are required.")
	// ErrPickupWindow refuses a pickup window out of 1..168 hours.
	ErrPickupWindow = apperr.InvalidField("pickup_window_hours", "invalid_pickup_window", "自提保留时间须为 1 到 168 小时", "The pickup window is 1 to 168 hours.")
)

func (s *Store) Validate() error {
	s.Name, s.Address = strings.TrimSpace(s.Name), strings.TrimSpace(s.Address)
	if s.Name == "" || s.Address == "" {
		return ErrInvalidStore
	}
	if utf8.RuneCountInString(s.Name) > MaxNameRunes || utf8.RuneCountInString(s.NameEN) > MaxNameRunes || utf8.RuneCountInString(s.Address) > MaxAddressRunes ||
		len(s.Phone) > 32 || utf8.RuneCountInString(s.Hours) > 100 {
		return ErrTooLong
	}
	if err := s.normalizeHours(); err != nil {
		return err
	}
	if err := s.normalizeDelivery(); err != nil {
		return err
	}
	if s.PickupWindowHours == 0 {
		s.PickupWindowHours = DefaultPickupWindowHours
	}
	if s.PickupWindowHours < 1 || s.PickupWindowHours > MaxPickupWindowHours {
		return ErrPickupWindow
	}
	if s.Lat < -90 || s.Lat > 90 || s.Lng < -180 || s.Lng > 180 || (s.Lat == 0 && s.Lng == 0) {
		return apperr.ErrInvalidLocation.At("lat").With("门店坐标无效", "Store coordinates are invalid.")
	}
	return nil
}

// DistanceM is the great-circle distance in metres (haversine).
func DistanceM(lat1, lng1, lat2, lng2 float64) float64 {
	const r = 6371000.0
	rad := math.Pi / 180
	dLat, dLng := (lat2-lat1)*rad, (lng2-lng1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

// Nearest sorts stores by distance from (lat, lng), nearest first.
func Nearest(list []Store, lat, lng float64) []Store {
	out := append([]Store(nil), list...)
	for i := range out {
		out[i].DistanceM = math.Round(DistanceM(lat, lng, out[i].Lat, out[i].Lng))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DistanceM < out[j].DistanceM })
	return out
}

// Repo persists stores, scoped by merchant.
type Repo interface {
	CreateStore(ctx context.Context, s *Store) error
	UpdateStore(ctx context.Context, s *Store) error
	Store(ctx context.Context, merchantID, id int64) (*Store, error)
	ListStores(ctx context.Context, merchantID int64) ([]Store, error)
}
