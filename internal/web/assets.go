package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// assetServer serves embedded assets with content hashes in their URLs so
// browsers can cache them forever, gzip-compressed for browsers that take it
// (each file compressed once, on its first request).
type assetServer struct {
	files   fs.FS
	hashes  map[string]string // name -> short hash
	gz      map[string]*gzAsset
	bundles map[string][]byte // name -> the concatenated scripts of a bundle
}

// scriptBundles are scripts served as one file: a phone 150 ms away waits
// one round trip for a bundle instead of a wave per six scripts (HTTP/1.1
// opens at most six connections to a host). Each file is an IIFE starting
// with "use strict", so joining them changes nothing but the request count.
// The live page loads only this bundle: a script for it belongs in the list.
// flv.bundle.js is the HTTP-FLV player (mpegts.js, a minified UMD file, and
// the script that starts it) for rooms whose media server offers FLV but no
// fragmented MP4 (SHELFLIVE_MEDIA=external); with the embedded server the
// live page plays the fMP4 stream with live_mse.js alone.
var scriptBundles = map[string][]string{
	"live.bundle.js": {"common.js", "checkout.js", "live_polls.js", "live_coupons.js", "live_presale.js", "live_trials.js", "cocreate.js", "live_cocreate.js", "live.js", "push.js", "wechat_share.js", "live_remind.js", "live_members.js"},
	"flv.bundle.js":  {"vendor/mpegts/mpegts.js", "live_player.js"},
}

// earlyStreamScript is the one inline script of any page, in the head of a
// room on air (issue 15: tap to first frame). It asks for the stream (the
// fMP4 URL, or HTTP-FLV from an external media server; in its data-url
// attribute) while the page is still arriving, so that the player
// (live_mse.js or flv.bundle.js, loaded async right after the <video>)
// plays a response already under way; and it holds the page's own bundle
// (data-app, downloaded meanwhile by a preload) until the first frame shows,
// so on a slow phone the video does not wait for the chat, cards and sheets
// to be built: window.__slApp() runs it then, when the player cannot start
// or fails, and after 3 s at the latest. Where the browser has no
// MediaSource for H.264/AAC (iPhone Safari, which plays HLS natively) it
// runs the bundle at once and asks for nothing. The CSP allows exactly this
// text by its hash (pageCSP), never inline scripts in general.
const earlyStreamScript = `(function () {
  var s = document.currentScript, u = s.dataset.url, app = s.dataset.app, started = false;
  window.__slApp = function () {
    if (started) return;
    started = true;
    var run = function () { var e = document.createElement("script"); e.src = app; document.body.appendChild(e); };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run); else run();
  };
  var M = window.MediaSource;
  if (!u || !window.fetch || !window.ReadableStream || !M || !M.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"')) { window.__slApp(); return; }
  setTimeout(window.__slApp, 3000);
  var c = window.AbortController ? new AbortController() : null;
  window.__slEarlyStream = { url: u, ctl: c, res: fetch(u, { mode: "cors", credentials: "same-origin", signal: c ? c.signal : undefined }).catch(function () { return null; }) };
})();`

// earlyStreamHash is earlyStreamScript's CSP source expression.
var earlyStreamHash = func() string {
	h := sha256.Sum256([]byte(earlyStreamScript))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}()

// gzAsset is one compressible asset's gzip form, made once.
type gzAsset struct {
	once sync.Once
	body []byte // nil when gzip would not be smaller
}

// compressible are the text assets worth compressing (images are already).
func compressible(name string) bool {
	switch path.Ext(name) {
	case ".js", ".css", ".svg", ".json", ".txt":
		return true
	}
	return false
}

// acceptsGzip reads Accept-Encoding: gzip (or *) unless given q=0.
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		enc = strings.ToLower(strings.TrimSpace(enc))
		if enc != "gzip" && enc != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return !(q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000")
	}
	return false
}

// gzipped returns the gzip form of a compressible asset, or nil.
func (a *assetServer) gzipped(name string) []byte {
	g := a.gz[name]
	if g == nil {
		return nil
	}
	g.once.Do(func() {
		raw, err := a.read(name)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(raw)
		if zw.Close() == nil && buf.Len() < len(raw) {
			g.body = buf.Bytes()
		}
	})
	return g.body
}

// read returns an asset's bytes: a bundle's from memory, a file's from the
// embedded tree.
func (a *assetServer) read(name string) ([]byte, error) {
	if b, ok := a.bundles[name]; ok {
		return b, nil
	}
	return fs.ReadFile(a.files, name)
}

func newAssetServer() *assetServer {
	sub, _ := fs.Sub(embedded, "assets")
	a := &assetServer{files: sub, hashes: map[string]string{}, gz: map[string]*gzAsset{}, bundles: map[string][]byte{}}
	for name, parts := range scriptBundles {
		var b bytes.Buffer
		for _, p := range parts {
			raw, err := fs.ReadFile(sub, p)
			if err != nil {
				panic("web: bundle " + name + ": " + err.Error()) // a name typo fails every test at start
			}
			b.Write(raw)
			b.WriteString("\n;\n")
		}
		h := sha256.Sum256(b.Bytes())
		a.bundles[name], a.hashes[name], a.gz[name] = b.Bytes(), hex.EncodeToString(h[:4]), &gzAsset{}
	}
	fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(sub, p)
		h := sha256.Sum256(b)
		a.hashes[p] = hex.EncodeToString(h[:4])
		if compressible(p) {
			a.gz[p] = &gzAsset{}
		}
		return nil
	})
	return a
}

// URL returns /assets/<name>?v=<hash>.
func (a *assetServer) URL(name string) string {
	return "/assets/" + name + "?v=" + a.hashes[name]
}

func (a *assetServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/assets/")
	if _, ok := a.hashes[name]; !ok {
		http.NotFound(w, r)
		return
	}
	if r.URL.Query().Get("v") != "" {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	if compressible(name) {
		w.Header().Add("Vary", "Accept-Encoding")
		if body := a.gzipped(name); body != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
			ct := mime.TypeByExtension(path.Ext(name))
			if ct == "" {
				ct = "application/octet-stream"
			}
			w.Header().Set("Content-Type", ct)
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("ETag", `"`+a.hashes[name]+`-gz"`)
			http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
			return
		}
		w.Header().Set("ETag", `"`+a.hashes[name]+`"`)
	}
	if b, ok := a.bundles[name]; ok {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
		return
	}
	http.ServeFileFS(w, r, a.files, name)
}
