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
	files  fs.FS
	hashes map[string]string // name -> short hash
	gz     map[string]*gzAsset
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
		raw, err := fs.ReadFile(a.files, name)
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

func newAssetServer() *assetServer {
	sub, _ := fs.Sub(embedded, "assets")
	a := &assetServer{files: sub, hashes: map[string]string{}, gz: map[string]*gzAsset{}}
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
	http.ServeFileFS(w, r, a.files, name)
}
