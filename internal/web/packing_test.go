package web_test

import (
	"strconv"
	"testing"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestPackingListFlagsInsulated: a paid delivery order of strawberries
// (chilled) is on the packing list with its line flagged for the
// insulated box; a pickup order is not on it.
func TestPackingListFlagsInsulated(t *testing.T) {
	s := newShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900000095")
	pay := func(body map[string]any) int64 {
		r := send(t, nil, s.base, "POST", "/api/v1/orders", body, buyer.Token, nil)
		if r.Status != 201 {
			t.Fatalf("order: %d %s", r.Status, r.Body)
		}
		var o orderView
		r.decode(t, &o)
		var in struct {
			Intent string `json:"intent"`
		}
		send(t, nil, s.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/pay", nil, buyer.Token, nil).decode(t, &in)
		if r := send(t, nil, s.base, "POST", "/api/v1/payments/dev/"+in.Intent+"/confirm", nil, "", nil); r.Status != 200 {
			t.Fatalf("pay: %d %s", r.Status, r.Body)
		}
		return o.ID
	}
	items := []any{map[string]any{"sku_id": s.sku1, "quantity": 2}}
	deliv := pay(map[string]any{"items": items, "fulfilment": "delivery", "contact_name": "王女士", "address": "上海市静安区南京西路 1 号"})
	pick := pay(map[string]any{"items": items, "fulfilment": "pickup", "store_id": s.storeID})
	var list struct {
		Orders []struct {
			OrderID   int64 `json:"order_id"`
			Insulated bool  `json:"insulated"`
			Lines     []struct {
				Storage   string `json:"storage"`
				Insulated bool   `json:"insulated"`
				Quantity  int64  `json:"quantity"`
			} `json:"lines"`
		} `json:"orders"`
	}
	r := send(t, nil, s.base, "GET", "/api/v1/packing-list", nil, testkit.OwnerToken, nil)
	if r.Status != 200 {
		t.Fatalf("packing list: %d %s", r.Status, r.Body)
	}
	r.decode(t, &list)
	found := false
	for _, o := range list.Orders {
		if o.OrderID == pick {
			t.Fatal("a pickup order on the packing list")
		}
		if o.OrderID == deliv {
			found = true
			if !o.Insulated || len(o.Lines) != 1 || !o.Lines[0].Insulated || o.Lines[0].Storage != "chilled" || o.Lines[0].Quantity != 2 {
				t.Fatalf("packing %+v", o)
			}
		}
	}
	if !found {
		t.Fatalf("the delivery order is not on the list: %s", r.Body)
	}
}
