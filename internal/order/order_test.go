package order_test

import (
	"testing"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/order"
)

func TestRequestValidate(t *testing.T) {
	ok := func() order.Request {
		return order.Request{Items: []order.Item{{SKUID: 1, Quantity: 2}}, Fulfilment: order.Pickup, StoreID: 1}
	}
	tests := []struct {
		name string
		mut  func(*order.Request)
		code string
	}{
		{"OK", func(*order.Request) {}, ""},
		{"ErrNoItems", func(r *order.Request) { r.Items = nil }, "invalid_items"},
		{"ErrZeroQuantity", func(r *order.Request) { r.Items[0].Quantity = 0 }, "invalid_quantity"},
		{"ErrNegativeQuantity", func(r *order.Request) { r.Items[0].Quantity = -1 }, "invalid_quantity"},
		{"ErrHugeQuantity", func(r *order.Request) { r.Items[0].Quantity = 100 }, "invalid_quantity"},
		{"ErrUnknownSKU", func(r *order.Request) { r.Items[0].SKUID = 0 }, "unknown_sku"},
		{"ErrDuplicateSKU", func(r *order.Request) { r.Items = append(r.Items, order.Item{SKUID: 1, Quantity: 1}) }, "duplicate_item"},
		{"ErrPickupWithoutStore", func(r *order.Request) { r.StoreID = 0 }, "store_required"},
		{"ErrDeliveryWithoutAddress", func(r *order.Request) { r.Fulfilment = order.Delivery }, "address_required"},
		{"ErrFulfilment", func(r *order.Request) { r.Fulfilment = "drone" }, "invalid_fulfilment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok()
			tt.mut(&r)
			err := r.Validate()
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !apperr.Is(err, tt.code) {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
		})
	}
}

func TestStatusMachine(t *testing.T) {
	legal := [][2]order.Status{{order.PendingPayment, order.Paid}, {order.Paid, order.Ready}, {order.Ready, order.Completed}, {order.Paid, order.Shipped}, {order.Shipped, order.Completed}, {order.PendingPayment, order.Expired}, {order.Paid, order.Cancelled}}
	for _, m := range legal {
		if !order.CanMove(m[0], m[1]) {
			t.Errorf("%s → %s should be legal", m[0], m[1])
		}
	}
	illegal := [][2]order.Status{{order.Completed, order.Cancelled}, {order.Expired, order.Paid}, {order.Cancelled, order.Paid}, {order.Shipped, order.Cancelled}, {order.PendingPayment, order.Completed}, {order.Ready, order.Paid}}
	for _, m := range illegal {
		if order.CanMove(m[0], m[1]) {
			t.Errorf("%s → %s must be refused", m[0], m[1])
		}
	}
}

func TestPickupCode(t *testing.T) {
	for i := 0; i < 100; i++ {
		c := order.NewPickupCode()
		if got, err := order.NormalizePickupCode(c[:4] + " " + c[4:]); err != nil || got != c {
			t.Fatalf("round trip %q: %q %v", c, got, err)
		}
	}
	for _, bad := range []string{"", "1234567", "123456789", "1234abcd", "１２３４５６７８"} {
		if _, err := order.NormalizePickupCode(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzNormalizePickupCode: whatever staff type, the normalizer never panics
// and only ever returns 8 ASCII digits.
func FuzzNormalizePickupCode(f *testing.F) {
	for _, s := range []string{"1234 5678", "00000000", "", "12345678\n", "\xff\xfe", "1 2 3 4 5 6 7 8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := order.NormalizePickupCode(s)
		if err != nil {
			return
		}
		if len(got) != 8 {
			t.Fatalf("%q -> %q", s, got)
		}
		for _, c := range got {
			if c < '0' || c > '9' {
				t.Fatalf("%q -> %q", s, got)
			}
		}
	})
}
