package stores_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/stores"
)

// Each app's link carries the store's position in the order that app
// expects (Amap lng,lat; the others lat,lng) and its name, escaped.
func TestNavLinks(t *testing.T) {
	s := &stores.Store{Name: "鲜食集·静安寺店 & 2F", Address: "南京西路1618号", Lat: 31.224361, Lng: 121.445622}
	links := stores.NavLinks(s)
	want := map[string]struct{ host, param, pos string }{
		"amap":    {"uri.amap.com", "position", "121.445622,31.224361"},
		"tencent": {"apis.map.qq.com", "marker", "coord:31.224361,121.445622;"},
		"baidu":   {"api.map.baidu.com", "location", "31.224361,121.445622"},
		"apple":   {"maps.apple.com", "ll", "31.224361,121.445622"},
	}
	if len(links) != len(want) {
		t.Fatalf("%d links", len(links))
	}
	for _, l := range links {
		w, ok := want[l.App]
		if !ok {
			t.Fatalf("unexpected app %q", l.App)
		}
		u, err := url.Parse(l.URL)
		if err != nil || u.Scheme != "https" || u.Host != w.host {
			t.Fatalf("%s: %q", l.App, l.URL)
		}
		v := u.Query().Get(w.param)
		if !strings.HasPrefix(v, w.pos) {
			t.Errorf("%s: %s=%q, want it to start with %q", l.App, w.param, v, w.pos)
		}
		if !strings.Contains(u.RawQuery, url.QueryEscape("鲜食集·静安寺店 & 2F")) && !strings.Contains(v, s.Name) {
			t.Errorf("%s: store name missing or unescaped in %q", l.App, l.URL)
		}
		if strings.Contains(u.RawQuery, "& 2F") {
			t.Errorf("%s: '&' in the name not escaped: %q", l.App, l.URL)
		}
	}
}
