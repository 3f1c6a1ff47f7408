// Package objstore keeps files that every node of a deployment must see:
// product images and live recordings. Store is the contract; Local keeps
// objects in a directory (one node, the default) and S3 in an
// S3-compatible bucket (AWS S3, MinIO, …) shared by several nodes.
//
// Keys are slash-separated relative paths such as "uploads/ab12.jpg" or
// "video/veg-room/20260101T000000.000Z/000001.ts"; both implementations
// refuse keys that are not valid io/fs paths ("..", leading "/", empty
// elements), so a key built from a request can never leave the store.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// ErrNotFound is returned (wrapped, test with errors.Is) by Get for a key
// that does not exist.
var ErrNotFound = errors.New("objstore: not found")

// ErrInvalidKey is returned for a key that is not a clean relative path.
var ErrInvalidKey = errors.New("objstore: invalid key")

// Info describes one stored object.
type Info struct {
	Key         string
	Size        int64
	ModTime     time.Time
	ContentType string
	ETag        string // quoted, usable as an HTTP ETag; may be empty
}

// Store is what ShelfLive needs from a file store.
type Store interface {
	// Put stores size bytes read from r under key, replacing any object
	// there. Readers see the old object or the new one, never a part.
	// size -1 means unknown (read to EOF).
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens an object. The reader also implements io.Seeker (both
	// implementations), so HTTP handlers can serve ranges. A missing
	// object is ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the objects whose key starts with prefix, sorted by key.
	// ContentType is not filled in.
	List(ctx context.Context, prefix string) ([]Info, error)
	// Dirs returns the names of the "directories" directly under dir ("" or
	// ending in "/"): the next path element of every key below it, sorted,
	// without listing every object (a room's recordings without its
	// thousands of segments).
	Dirs(ctx context.Context, dir string) ([]string, error)
}

// checkDir refuses a Dirs argument that is not "" or a clean path plus "/".
func checkDir(dir string) error {
	if dir == "" {
		return nil
	}
	if !strings.HasSuffix(dir, "/") || checkKey(strings.TrimSuffix(dir, "/")) != nil {
		return fmt.Errorf("%w: %q", ErrInvalidKey, dir)
	}
	return nil
}

// checkKey refuses keys that are not clean relative paths.
func checkKey(key string) error {
	if !fs.ValidPath(key) || key == "." {
		return fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	return nil
}

// typeByName guesses a content type from a key's extension; objects in a
// Local store carry no metadata, so this is their content type.
func typeByName(key string) string {
	switch path.Ext(key) {
	case ".ts":
		return "video/mp2t" // not in every mime.types (it is also TypeScript)
	case ".m3u8":
		return "application/vnd.apple.mpegurl"
	case "":
		return "application/octet-stream"
	}
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// OneRange drops a multi-range Range header before http.ServeContent serves
// a store object: every range is a seek, and on S3 every seek is a new
// request, so "bytes=0-0,2-2,…" would turn one request into hundreds. The
// whole object is sent instead, which HTTP allows for any Range request.
func OneRange(r *http.Request) {
	if strings.Contains(r.Header.Get("Range"), ",") {
		r.Header.Del("Range")
	}
}
