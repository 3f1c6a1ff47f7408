package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/shelflive/shelflive/internal/objstore"
)

// uploadsPrefix is where product images live in the object store; with the
// local store that is DataDir/uploads, as before object storage.
const uploadsPrefix = "uploads/"

// files is the object store for uploads: Server.Files, or the data dir.
func (s *Server) files() objstore.Store {
	if s.Files == nil {
		return objstore.NewLocal(s.DataDir)
	}
	return s.Files
}

// uploadName reports whether name can be an upload's name: one or two
// segments ("ab12.png", "demo/milk.svg") of letters, digits, "-", "_" and
// dots, none starting with a dot, at most 128 bytes.
func uploadName(name string) bool {
	if len(name) > 128 {
		return false
	}
	segs := strings.Split(name, "/")
	if len(segs) > 2 {
		return false
	}
	for _, seg := range segs {
		if seg == "" || seg[0] == '.' {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return false
			}
		}
	}
	return true
}

// uploadsHandler serves uploaded product images from the object store, so
// every node serves every image. Ranges and conditional requests work
// (both stores' readers seek).
func (s *Server) uploadsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Path
		if !uploadName(name) {
			http.NotFound(w, r) // "..", "a/b", "%00" and other bytes no upload's name has
			return
		}
		rc, info, err := s.files().Get(r.Context(), uploadsPrefix+name)
		if errors.Is(err, objstore.ErrNotFound) || errors.Is(err, objstore.ErrInvalidKey) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			s.Logger.Error("uploads: object store", "name", name, "err", err)
			http.Error(w, "Internal error.", http.StatusInternalServerError)
			return
		}
		defer rc.Close()
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("Content-Disposition", "inline")
		ctype := info.ContentType
		if ctype == "" || ctype == "application/octet-stream" {
			ctype = mime.TypeByExtension(path.Ext(name))
		}
		if ctype != "" {
			h.Set("Content-Type", ctype)
		}
		if info.ETag != "" {
			h.Set("ETag", info.ETag)
		}
		objstore.OneRange(r)
		if rs, ok := rc.(io.ReadSeeker); ok {
			http.ServeContent(w, r, "", info.ModTime, rs)
			return
		}
		h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
		if r.Method != http.MethodHead {
			io.Copy(w, rc)
		}
	})
}
