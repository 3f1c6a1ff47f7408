package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestStudioStreamKeyCookie: the studio reads its room with the host's
// cookie session (X-ShelfLive-As: staff, as every staff console sends) and
// gets the stream key and ingest URL; viewers, the public and staff who may
// not host never do.
func TestStudioStreamKeyCookie(t *testing.T) {
	m := testkit.StartNode(t, "", "-rtmp-addr", "127.0.0.1:0")
	base := m.URL()
	host := staffLogin(t, base, "host", "shelflive-demo")
	guide := staffLogin(t, base, "guide", "shelflive-demo")
	viewer := viewerLogin(t, base, "demo", "13800001111")
	asStaff := func(token string) map[string]string {
		return map[string]string{"Cookie": "sl_staff=" + token, "X-ShelfLive-As": "staff"}
	}
	type roomKeys struct {
		StreamKey string `json:"stream_key"`
		IngestURL string `json:"ingest_url"`
	}
	get := func(name string, hdr map[string]string) (roomKeys, string) {
		r := send(t, nil, base, "GET", "/api/v1/rooms/demo", nil, "", hdr)
		if r.Status != 200 {
			t.Fatalf("%s: GET room %d %s", name, r.Status, r.Body)
		}
		var k roomKeys
		if err := json.Unmarshal(r.Body, &k); err != nil {
			t.Fatal(err)
		}
		return k, string(r.Body)
	}

	t.Run("OK", func(t *testing.T) {
		k, _ := get("host", asStaff(host.Token))
		if k.StreamKey != "demo-stream-key" {
			t.Fatalf("host cookie session: stream_key %q, want the room's key", k.StreamKey)
		}
		if !strings.HasPrefix(k.IngestURL, "rtmp://") || !strings.HasSuffix(k.IngestURL, "/live") {
			t.Fatalf("host cookie session: ingest_url %q", k.IngestURL)
		}
	})
	t.Run("NotForOthers", func(t *testing.T) {
		for name, hdr := range map[string]map[string]string{
			"anonymous":                {},
			"anonymous as staff":       {"X-ShelfLive-As": "staff"},
			"viewer cookie":            {"Cookie": "sl_viewer=" + viewer.Token},
			"viewer cookie as staff":   {"Cookie": "sl_viewer=" + viewer.Token, "X-ShelfLive-As": "staff"},
			"host cookie, no header":   {"Cookie": "sl_staff=" + host.Token},
			"guide (may not host)":     asStaff(guide.Token),
			"bad staff cookie":         asStaff("not-a-session"),
			"viewer token as staff id": asStaff(viewer.Token),
		} {
			k, body := get(name, hdr)
			if k.StreamKey != "" || k.IngestURL != "" || strings.Contains(body, "demo-stream-key") {
				t.Errorf("%s: got the stream key or ingest URL: %+v", name, k)
			}
		}
	})
}

// jsOptions reads the `key: value` pairs of the first object literal after
// marker in a JavaScript source.
func jsOptions(t *testing.T, src, marker string) map[string]string {
	t.Helper()
	i := strings.Index(src, marker)
	if i < 0 {
		t.Fatalf("%q not found", marker)
	}
	rest := src[i+len(marker):]
	open, end := strings.Index(rest, "{"), strings.Index(rest, "}")
	if open < 0 || end < open {
		t.Fatalf("no object literal after %q", marker)
	}
	out := map[string]string{}
	for _, kv := range strings.Split(rest[open+1:end], ",") {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			continue
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

// TestPlayerSettingsMatchBenchmark: the viewer page plays live video with
// the player settings docs/VIDEO.md measures (internal/video/browser_test.go),
// so the documented glass-to-glass figures are what viewers get.
func TestPlayerSettingsMatchBenchmark(t *testing.T) {
	page, err := os.ReadFile("assets/live.js")
	if err != nil {
		t.Fatal(err)
	}
	player, err := os.ReadFile("assets/live_player.js")
	if err != nil {
		t.Fatal(err)
	}
	bench, err := os.ReadFile("../video/browser_test.go")
	if err != nil {
		t.Fatal(err)
	}
	flvShip, flvBench := jsOptions(t, string(player), "const FLV_CONFIG ="), jsOptions(t, string(bench), "mpegts.createPlayer({type: 'flv', isLive: true, url: url},")
	if fmt.Sprint(flvShip) != fmt.Sprint(flvBench) {
		t.Errorf("mpegts.js settings: viewer page %v, benchmark %v", flvShip, flvBench)
	}
	hlsShip, hlsBench := jsOptions(t, string(page), "const HLS_CONFIG ="), jsOptions(t, string(bench), "new Hls(")
	delete(hlsBench, "startPosition") // the replay jump test seeks; live starts at the edge (-1)
	if fmt.Sprint(hlsShip) != fmt.Sprint(hlsBench) {
		t.Errorf("hls.js settings: viewer page %v, benchmark %v", hlsShip, hlsBench)
	}
	if strings.Contains(string(page), "lowLatencyMode") {
		t.Error("the viewer page sets lowLatencyMode, which the benchmark does not measure")
	}
}

// TestFlashSaleShortStockNamesStore: a sale bigger than the store's stock is
// refused with the store's name and what it can sell, in the caller's
// language; nothing starts.
func TestFlashSaleShortStockNamesStore(t *testing.T) {
	m := testkit.StartNode(t, "")
	host := staffLogin(t, m.URL(), "host", "shelflive-demo")
	body := map[string]any{"sku_id": 1, "store_id": 1, "price_fen": 990, "quantity": 100000, "per_user_limit": 1, "duration_s": 300}
	r := send(t, nil, m.URL(), "POST", "/api/v1/rooms/demo/flash-sales", body, host.Token, map[string]string{"Accept-Language": "zh-CN"})
	p := r.wantProblem(t, 409, "insufficient_stock")
	if !strings.Contains(p.Detail, "鲜食集·静安寺店") || !strings.Contains(p.Detail, "100000") || p.Field != "quantity" {
		t.Fatalf("zh problem %+v", p)
	}
	r = send(t, nil, m.URL(), "POST", "/api/v1/rooms/demo/flash-sales", body, host.Token, map[string]string{"Accept-Language": "en"})
	if p := r.wantProblem(t, 409, "insufficient_stock"); !strings.Contains(p.Detail, "Jing'an Temple has ") || strings.ContainsAny(p.Detail, "鲜店") {
		t.Fatalf("en problem %+v", p)
	}
	var list struct {
		FlashSales []struct {
			Status string `json:"status"`
		} `json:"flash_sales"`
	}
	send(t, nil, m.URL(), "GET", "/api/v1/rooms/demo/flash-sales", nil, host.Token, nil).decode(t, &list)
	for _, f := range list.FlashSales {
		if f.Status != "ended" {
			t.Fatalf("a refused sale left a %s sale behind", f.Status)
		}
	}
}

// TestAssetsGzip: text assets go out gzip-compressed to browsers that take
// it (with Vary: Accept-Encoding, the right type and an ETag that revalidates),
// as they are to those that do not; images are sent as they are. The viewer
// page's scripts come as one bundle holding each script whole, in order.
func TestAssetsGzip(t *testing.T) {
	m := testkit.StartNode(t, "")
	page := send(t, nil, m.URL(), "GET", "/live/demo", nil, "", nil)
	src := regexp.MustCompile(`/assets/live\.bundle\.js\?v=[0-9a-f]+`).FindString(string(page.Body))
	if src == "" {
		t.Fatal("no live.bundle.js on the viewer page")
	}
	if n := len(regexp.MustCompile(`<script src=`).FindAllString(string(page.Body), -1)); n != 1 {
		t.Fatalf("the viewer page loads %d scripts, want 1 (the bundle)", n)
	}
	plain := send(t, nil, m.URL(), "GET", src, nil, "", map[string]string{"Accept-Encoding": "identity"})
	if plain.Status != 200 || plain.Header.Get("Content-Encoding") != "" || !strings.Contains(plain.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("identity: %d %v", plain.Status, plain.Header)
	}
	last := -1
	for _, name := range []string{"common.js", "checkout.js", "live.js", "live_members.js"} {
		raw, err := os.ReadFile("assets/" + name)
		if err != nil {
			t.Fatal(err)
		}
		at := bytes.Index(plain.Body, raw)
		if at <= last {
			t.Fatalf("%s is not in the bundle whole and in order (at %d, after %d)", name, at, last)
		}
		last = at
	}
	for _, ae := range []string{"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8"} {
		r := send(t, nil, m.URL(), "GET", src, nil, "", map[string]string{"Accept-Encoding": ae})
		if r.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(r.Header.Get("Vary"), "Accept-Encoding") || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") {
			t.Fatalf("%q: %v", ae, r.Header)
		}
		zr, err := gzip.NewReader(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(zr)
		if !bytes.Equal(got, plain.Body) || len(r.Body) >= len(plain.Body)/2 {
			t.Fatalf("%q: gzip body %d bytes decodes to %d, plain %d", ae, len(r.Body), len(got), len(plain.Body))
		}
		if r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Fatalf("cache: %q", r.Header.Get("Cache-Control"))
		}
		again := send(t, nil, m.URL(), "GET", src, nil, "", map[string]string{"Accept-Encoding": ae, "If-None-Match": r.Header.Get("ETag")})
		if again.Status != 304 {
			t.Fatalf("revalidation: %d", again.Status)
		}
	}
	if r := send(t, nil, m.URL(), "GET", src, nil, "", map[string]string{"Accept-Encoding": "gzip;q=0"}); r.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip;q=0 got gzip")
	}
	icon := regexp.MustCompile(`/assets/icon\.svg\?v=[0-9a-f]+`).FindString(string(page.Body))
	if r := send(t, nil, m.URL(), "GET", icon, nil, "", map[string]string{"Accept-Encoding": "gzip"}); r.Status != 200 {
		t.Fatalf("icon: %d", r.Status)
	}
}
