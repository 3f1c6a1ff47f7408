package web_test

import (
	"strings"
	"testing"
)

// TestOrderPageNavigation: a pickup order's page links to the store in the
// four map apps, with the store's coordinates.
func TestOrderPageNavigation(t *testing.T) {
	s := newShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900000961")
	var o orderView
	send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), buyer.Token, nil).want(t, 201).decode(t, &o)
	r := send(t, nil, s.base, "GET", "/orders/"+itoa(o.ID), nil, buyer.Token, nil).want(t, 200)
	page := string(r.Body)
	for _, app := range []string{"uri.amap.com/marker", "apis.map.qq.com/uri/v1/marker", "api.map.baidu.com/marker", "maps.apple.com/"} {
		if !strings.Contains(page, app) {
			t.Errorf("order page lacks the %s link", app)
		}
	}
	if !strings.Contains(page, `id="nav-links"`) {
		t.Fatal("no navigation links on a pickup order's page")
	}
}
