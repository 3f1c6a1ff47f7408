package stores

import (
	"github.com/shelflive/shelflive/internal/apperr"
)

// Same-city delivery (同城配送): a store that sets DeliveryRadiusM > 0
// delivers itself to buyers within that distance of it (straight line from
// the point the buyer chose on the address), for a fee by distance: the
// first tier whose MaxM covers the distance, nothing when the goods come to
// DeliveryFreeOverFen or more. Deliveries are booked into slots of the
// store's opening hours like pickups (DeliverySlotCapacity > 0: slots.go).

// FeeTier is "up to MaxM metres: FeeFen".
type FeeTier struct {
	MaxM   int64 `json:"max_m"`
	FeeFen int64 `json:"fee_fen"`
}

// Limits of a store's delivery settings.
const (
	MaxDeliveryRadiusM = 50_000
	MaxDeliveryFeeFen  = 100_00
	MaxFeeTiers        = 8
)

// Same-city errors.
var (
	ErrDeliverySettings = apperr.InvalidField("delivery_tiers", "invalid_delivery_settings",
		"配送范围最多50公里；运费档位按距离从近到远、最多8档、每档运费0–100元，最后一档须覆盖配送范围",
		"The delivery radius is at most 50 km; fee tiers go from near to far, at most 8, each ¥0–100, and the last covers the radius.")
	ErrBeyondRadius  = apperr.InvalidField("lat", "beyond_delivery_radius", "收货地址超出门店配送范围", "The address is beyond every store's delivery radius.")
	ErrPointRequired = apperr.InvalidField("lat", "delivery_point_required", "同城配送请先在地图上确定收货位置（使用当前位置）", "Same-city delivery needs the address's location: use your current location.")
)

// SameCity says whether the store delivers itself within a radius.
func (s *Store) SameCity() bool { return s.Delivery && s.DeliveryRadiusM > 0 }

// normalizeDelivery checks the same-city settings.
func (s *Store) normalizeDelivery() error {
	if s.DeliveryTiers == nil {
		s.DeliveryTiers = []FeeTier{}
	}
	if s.DeliveryRadiusM < 0 || s.DeliveryRadiusM > MaxDeliveryRadiusM || len(s.DeliveryTiers) > MaxFeeTiers || s.DeliveryFreeOverFen < 0 ||
		s.DeliverySlotCapacity < 0 || s.DeliverySlotCapacity > 1000 {
		return ErrDeliverySettings
	}
	var last int64
	for _, t := range s.DeliveryTiers {
		if t.MaxM <= last || t.FeeFen < 0 || t.FeeFen > MaxDeliveryFeeFen {
			return ErrDeliverySettings
		}
		last = t.MaxM
	}
	if s.DeliveryRadiusM > 0 && last < s.DeliveryRadiusM {
		return ErrDeliverySettings
	}
	return nil
}

// DeliveryFee is the fee to a point distanceM away for goods worth
// goodsFen; ok is false beyond the radius.
func (s *Store) DeliveryFee(distanceM float64, goodsFen int64) (fee int64, ok bool) {
	if !s.SameCity() || distanceM > float64(s.DeliveryRadiusM) {
		return 0, false
	}
	if s.DeliveryFreeOverFen > 0 && goodsFen >= s.DeliveryFreeOverFen {
		return 0, true
	}
	for _, t := range s.DeliveryTiers {
		if distanceM <= float64(t.MaxM) {
			return t.FeeFen, true
		}
	}
	return 0, false
}

// NearestDelivering is the nearest of list that delivers to (lat, lng)
// within its radius, with the distance; ErrBeyondRadius when none does.
func NearestDelivering(list []Store, lat, lng float64) (*Store, float64, error) {
	for _, s := range Nearest(list, lat, lng) {
		if s.SameCity() && s.DistanceM <= float64(s.DeliveryRadiusM) {
			return &s, s.DistanceM, nil
		}
	}
	return nil, 0, ErrBeyondRadius
}
