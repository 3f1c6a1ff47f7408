package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
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
var scriptBundles = map[string][]string{
	"live.bundle.js": {"common.js", "checkout.js", "live_polls.js", "live_coupons.js", "live_presale.js", "live_trials.js", "cocreate.js", "live_cocreate.js", "live.js", "push.js", "wechat_share.js", "live_remind.js", "live_members.js"},
}

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
