package stores

import (
	"net/url"
	"strconv"
)

// NavLink opens a map app at the store, for "navigate to the store" (导航到店).
type NavLink struct {
	App  string `json:"app"`  // amap | tencent | baidu | apple
	Name string `json:"name"` // the app's name as shoppers know it
	URL  string `json:"url"`
}

// NavLinks are the URI-API links of the four map apps Chinese shoppers use;
// none needs a key. Stored coordinates are GCJ-02, as Chinese map apps
// (and Apple Maps inside China) give and expect them; Baidu is told so
// with coord_type=gcj02. Each link opens the app when installed, else
// its web page.
func NavLinks(s *Store) []NavLink {
	lat, lng := strconv.FormatFloat(s.Lat, 'f', 6, 64), strconv.FormatFloat(s.Lng, 'f', 6, 64)
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	return []NavLink{
		{App: "amap", Name: "高德地图", URL: "https://uri.amap.com/marker?" + q("position", lng+","+lat, "name", s.Name, "src", "shelflive", "coordinate", "gaode", "callnative", "1")},
		{App: "tencent", Name: "腾讯地图", URL: "https://apis.map.qq.com/uri/v1/marker?" + q("marker", "coord:"+lat+","+lng+";title:"+s.Name+";addr:"+s.Address, "referer", "shelflive")},
		{App: "baidu", Name: "百度地图", URL: "https://api.map.baidu.com/marker?" + q("location", lat+","+lng, "title", s.Name, "content", s.Address, "output", "html", "coord_type", "gcj02", "src", "shelflive")},
		{App: "apple", Name: "Apple 地图", URL: "https://maps.apple.com/?" + q("ll", lat+","+lng, "q", s.Name)},
	}
}
