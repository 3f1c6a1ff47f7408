package inventory_test

import (
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/inventory"
)

func TestAllocateFEFO(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	levels := []inventory.Level{
		{StoreID: 1, LotID: 3, ExpiresAt: now.Add(72 * time.Hour), OnHand: 10},
		{StoreID: 1, LotID: 1, ExpiresAt: now.Add(24 * time.Hour), OnHand: 5, Reserved: 2},
		{StoreID: 1, LotID: 2, ExpiresAt: now.Add(48 * time.Hour), OnHand: 4, Hold: true},
		{StoreID: 1, LotID: 4, ExpiresAt: now.Add(-time.Hour), OnHand: 50},
	}
	tests := []struct {
		name string
		qty  int64
		want []inventory.Take
		err  error
	}{
		{"EarliestFirst", 2, []inventory.Take{{StoreID: 1, LotID: 1, Qty: 2}}, nil},
		{"SpillsToNextSellableLot", 6, []inventory.Take{{StoreID: 1, LotID: 1, Qty: 3}, {StoreID: 1, LotID: 3, Qty: 3}}, nil},
		{"SkipsHeldAndExpired", 13, []inventory.Take{{StoreID: 1, LotID: 1, Qty: 3}, {StoreID: 1, LotID: 3, Qty: 10}}, nil},
		{"ErrLotOnHoldWhenOnlyHeldUnitsWouldCover", 14, nil, inventory.ErrLotOnHold},
		{"ErrOutOfStock", 18, nil, inventory.ErrOutOfStock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := inventory.AllocateFEFO(levels, tt.qty, now)
			if err != tt.err {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
			}
		})
	}
}

// TestSellable is the one sale rule: held or expired lots are not sold.
func TestSellable(t *testing.T) {
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		hold    bool
		expires time.Time
		want    error
	}{
		{"OK", false, now.Add(time.Hour), nil},
		{"ErrLotOnHold", true, now.Add(time.Hour), inventory.ErrLotOnHold},
		{"ErrLotExpired", false, now, inventory.ErrLotExpired},
		{"HoldWinsOverExpiry", true, now.Add(-time.Hour), inventory.ErrLotOnHold},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := inventory.Sellable(tt.hold, tt.expires, now); got != tt.want {
				t.Fatalf("Sellable = %v, want %v", got, tt.want)
			}
		})
	}
}
