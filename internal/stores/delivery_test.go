package stores_test

import (
	"errors"
	"testing"

	"github.com/shelflive/shelflive/internal/stores"
)

// The fee is the first tier covering the distance, nothing over the free
// amount, and no delivery beyond the radius; the nearest store covering a
// point delivers.
func TestDeliveryFee(t *testing.T) {
	s := stores.Store{Name: "店", Address: "地址", Lat: 31.2, Lng: 121.4, Delivery: true, DeliveryRadiusM: 5000, DeliveryFreeOverFen: 9900,
		DeliveryTiers: []stores.FeeTier{{MaxM: 3000, FeeFen: 500}, {MaxM: 5000, FeeFen: 800}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		m     float64
		goods int64
		fee   int64
		ok    bool
	}{{2999, 100, 500, true}, {3000, 100, 500, true}, {3001, 100, 800, true}, {5000, 9899, 800, true}, {4000, 9900, 0, true}, {5001, 100, 0, false}} {
		if fee, ok := s.DeliveryFee(c.m, c.goods); fee != c.fee || ok != c.ok {
			t.Errorf("%v m, goods %d: %d %v, want %d %v", c.m, c.goods, fee, ok, c.fee, c.ok)
		}
	}
	for _, bad := range [][]stores.FeeTier{{{MaxM: 3000, FeeFen: 500}}, {{MaxM: 5000, FeeFen: 500}, {MaxM: 3000, FeeFen: 800}}, {{MaxM: 5000, FeeFen: -1}}} {
		b := s
		b.DeliveryTiers = bad
		if err := b.Validate(); !errors.Is(err, stores.ErrDeliverySettings) {
			t.Errorf("tiers %+v: %v", bad, err)
		}
	}
	far := s
	far.ID, far.Lat = 2, 31.24
	near := s
	near.ID, near.DeliveryRadiusM, near.DeliveryTiers = 1, 1000, []stores.FeeTier{{MaxM: 1000, FeeFen: 300}}
	got, _, err := stores.NearestDelivering([]stores.Store{far, near}, 31.2+0.018, 121.4) // 2 km from near: beyond its 1 km
	if err != nil || got.ID != 2 {
		t.Fatalf("nearest delivering: %+v %v", got, err)
	}
	if _, _, err := stores.NearestDelivering([]stores.Store{near}, 31.25, 121.4); !errors.Is(err, stores.ErrBeyondRadius) {
		t.Fatalf("beyond: %v", err)
	}
}
