package stores_test

import (
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/stores"
)

func TestStoreValidate(t *testing.T) {
	ok := func() stores.Store {
		return stores.Store{Name: " 静安店 ", Address: " 上海市静安区南京西路1号 ", Lat: 31.23, Lng: 121.45}
	}
	tests := []struct {
		name string
		mut  func(*stores.Store)
		code string
	}{
		{"OK", func(*stores.Store) {}, ""},
		{"OKLongest", func(s *stores.Store) { s.Name = strings.Repeat("店", 60); s.Address = strings.Repeat("路", 200) }, ""},
		{"ErrNoName", func(s *stores.Store) { s.Name = "  " }, "invalid_store"},
		{"ErrNoAddress", func(s *stores.Store) { s.Address = "" }, "invalid_store"},
		{"ErrLongName", func(s *stores.Store) { s.Name = strings.Repeat("店", 61) }, "store_text_too_long"},
		{"ErrLongEnglishName", func(s *stores.Store) { s.NameEN = strings.Repeat("a", 61) }, "store_text_too_long"},
		{"ErrLongAddress", func(s *stores.Store) { s.Address = strings.Repeat("路", 201) }, "store_text_too_long"},
		{"ErrLongHours", func(s *stores.Store) { s.Hours = strings.Repeat("9", 101) }, "store_text_too_long"},
		{"ErrNullIsland", func(s *stores.Store) { s.Lat, s.Lng = 0, 0 }, "invalid_location"},
		{"ErrLatitude", func(s *stores.Store) { s.Lat = 91 }, "invalid_location"},
		{"ErrLongitude", func(s *stores.Store) { s.Lng = -181 }, "invalid_location"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok()
			tt.mut(&s)
			err := s.Validate()
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.Name != strings.TrimSpace(s.Name) || s.Address != strings.TrimSpace(s.Address) {
					t.Fatalf("not trimmed: %q %q", s.Name, s.Address)
				}
				return
			}
			if !apperr.Is(err, tt.code) {
				t.Fatalf("got %v, want %s", err, tt.code)
			}
		})
	}
}

func TestDistanceAndNearest(t *testing.T) {
	// People's Square → the Bund is about 1.5 km; Shanghai → Beijing about 1,070 km.
	if d := stores.DistanceM(31.2304, 121.4737, 31.2400, 121.4900); d < 1500 || d > 2200 {
		t.Fatalf("People's Square → the Bund %.0f m", d)
	}
	if d := stores.DistanceM(31.2304, 121.4737, 39.9042, 116.4074); d < 1_050_000 || d > 1_090_000 {
		t.Fatalf("Shanghai → Beijing %.0f m", d)
	}
	if d := stores.DistanceM(31.2, 121.4, 31.2, 121.4); d != 0 {
		t.Fatalf("same point %.3f m", d)
	}
	list := []stores.Store{
		{ID: 1, Name: "北京店", Lat: 39.9042, Lng: 116.4074},
		{ID: 2, Name: "外滩店", Lat: 31.2400, Lng: 121.4900},
		{ID: 3, Name: "人广店", Lat: 31.2304, Lng: 121.4737},
		{ID: 4, Name: "人广二店", Lat: 31.2304, Lng: 121.4737},
	}
	got := stores.Nearest(list, 31.2304, 121.4737)
	var ids []int64
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	if len(ids) != 4 || ids[0] != 3 || ids[1] != 4 || ids[2] != 2 || ids[3] != 1 {
		t.Fatalf("nearest order %v, want [3 4 2 1] (ties keep their order)", ids)
	}
	if got[0].DistanceM != 0 || got[3].DistanceM < 1_000_000 {
		t.Fatalf("distances %v %v", got[0].DistanceM, got[3].DistanceM)
	}
	if list[0].DistanceM != 0 || list[0].ID != 1 {
		t.Fatal("Nearest changed its input")
	}
}
