package web_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/objstore"
	"github.com/shelflive/shelflive/internal/objstore/s3test"
	"github.com/shelflive/shelflive/internal/testkit"
)

// pngImage is a real (small) PNG.
func pngImage(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		img.Set(x, x%48, color.RGBA{R: 200, G: 40, B: uint8(x * 3), A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload posts one file as the owner, as the studio's product form does.
func upload(t *testing.T, m *node.Main, field, name string, data []byte) result {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, err := mw.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	mw.Close()
	return send(t, nil, m.URL(), "POST", "/api/v1/uploads", body.Bytes(), testkit.OwnerToken,
		map[string]string{"Content-Type": mw.FormDataContentType()})
}

func storedKeys(t *testing.T, st objstore.Store) string {
	t.Helper()
	list, err := st.List(context.Background(), "uploads/")
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, o := range list {
		ks = append(ks, o.Key)
	}
	return strings.Join(ks, ",")
}

// TestUploadsSharedStore: two nodes with their own data dirs share one S3
// bucket (gofakes3 over HTTP); an image uploaded on one is served by the
// other, with the same headers as before object storage; refused uploads
// leave the bucket untouched.
func TestUploadsSharedStore(t *testing.T) {
	t.Parallel()
	s3 := s3test.Start(t, "shop")
	s3URL := s3.URL("prod/")
	a := testkit.StartNode(t, "", "-s3-url", s3URL)
	b := testkit.StartNode(t, "", "-s3-url", s3URL)
	bucket, err := objstore.Open(s3URL, "")
	if err != nil {
		t.Fatal(err)
	}
	img := pngImage(t)

	r := upload(t, a, "file", "photo.png", img)
	if r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	var out struct {
		URL string `json:"url"`
	}
	r.decode(t, &out)
	if !strings.HasPrefix(out.URL, "/uploads/") || !strings.HasSuffix(out.URL, ".png") {
		t.Fatalf("url %q", out.URL)
	}
	name := strings.TrimPrefix(out.URL, "/uploads/")

	t.Run("OtherNodeServesIt", func(t *testing.T) {
		got := send(t, nil, b.URL(), "GET", out.URL, nil, "", nil)
		if got.Status != 200 || !bytes.Equal(got.Body, img) {
			t.Fatalf("GET on the other node: %d, %d bytes (want %d)", got.Status, len(got.Body), len(img))
		}
		for h, want := range map[string]string{"Content-Type": "image/png", "Cache-Control": "public, max-age=86400",
			"Content-Disposition": "inline", "X-Content-Type-Options": "nosniff"} {
			if v := got.Header.Get(h); v != want {
				t.Errorf("%s: %q, want %q", h, v, want)
			}
		}
		// not from b's disk: b's data dir never saw the file
		if _, err := os.Stat(filepath.Join(b.Config.DataDir, "uploads", name)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("the file is on the other node's disk: %v", err)
		}
		if got := send(t, nil, a.URL(), "GET", out.URL, nil, "", nil); got.Status != 200 || !bytes.Equal(got.Body, img) {
			t.Fatalf("GET on the uploading node: %d", got.Status)
		}
		etag := got.Header.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		if got := send(t, nil, b.URL(), "GET", out.URL, nil, "", map[string]string{"If-None-Match": etag}); got.Status != http.StatusNotModified {
			t.Fatalf("If-None-Match: %d, want 304", got.Status)
		}
		if got := send(t, nil, b.URL(), "GET", out.URL, nil, "", map[string]string{"Range": "bytes=0-7"}); got.Status != http.StatusPartialContent || !bytes.Equal(got.Body, img[:8]) {
			t.Fatalf("Range: %d %q", got.Status, got.Body)
		}
		// Many ranges would cost one store request each: the whole image comes instead.
		if got := send(t, nil, b.URL(), "GET", out.URL, nil, "", map[string]string{"Range": "bytes=0-0,2-2,4-4"}); got.Status != http.StatusOK || !bytes.Equal(got.Body, img) {
			t.Fatalf("multi-range: %d (%d bytes), want 200 and the whole image", got.Status, len(got.Body))
		}
	})

	t.Run("DemoImagesInTheStore", func(t *testing.T) {
		got := send(t, nil, b.URL(), "GET", "/uploads/demo/p01.svg", nil, "", nil)
		if got.Status != 200 || got.Header.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(got.Body, []byte("<svg")) {
			t.Fatalf("demo image: %d %q", got.Status, got.Header.Get("Content-Type"))
		}
		if _, _, err := bucket.Get(context.Background(), "uploads/demo/p01.svg"); err != nil {
			t.Fatalf("demo image not in the bucket: %v", err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		for _, p := range []string{"/uploads/0123456789abcdef01234567.png", "/uploads/demo/", "/uploads/..%2f..%2fshelflive.db",
			"/uploads/demo/..%2f..%2fnode-id", "/uploads/.tmp-1", "/uploads/"} {
			if got := send(t, nil, b.URL(), "GET", p, nil, "", nil); got.Status != 404 {
				t.Errorf("GET %s: %d, want 404", p, got.Status)
			}
		}
	})

	t.Run("RefusedUploadsStoreNothing", func(t *testing.T) {
		before := storedKeys(t, bucket)
		if !strings.Contains(before, "uploads/"+name) {
			t.Fatalf("bucket lacks the upload: %s", before)
		}
		upload(t, a, "file", "notes.png", []byte("this is plain text, not a picture")).wantProblem(t, 400, "invalid_image")
		upload(t, a, "other", "photo.png", img).wantProblem(t, 400, "invalid_upload")
		big := append(append([]byte(nil), img...), make([]byte, 9<<20)...)
		upload(t, a, "file", "huge.png", big).wantProblem(t, 400, "invalid_upload")
		if after := storedKeys(t, bucket); after != before {
			t.Fatalf("refused uploads changed the bucket:\n%s\nwas\n%s", after, before)
		}
	})

	t.Run("Ready", func(t *testing.T) {
		if got := send(t, nil, a.URL(), "GET", "/readyz", nil, "", nil); got.Status != 200 {
			t.Fatalf("/readyz with the bucket up: %d %s", got.Status, got.Body)
		}
	})
}

// TestUploadsLocalDir: without S3 an upload is a file in the data dir, as
// before (existing data dirs keep working).
func TestUploadsLocalDir(t *testing.T) {
	t.Parallel()
	m := testkit.StartNode(t, "")
	img := pngImage(t)
	r := upload(t, m, "file", "photo.png", img)
	if r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	var out struct {
		URL string `json:"url"`
	}
	r.decode(t, &out)
	disk, err := os.ReadFile(filepath.Join(m.Config.DataDir, filepath.FromSlash(strings.TrimPrefix(out.URL, "/"))))
	if err != nil || !bytes.Equal(disk, img) {
		t.Fatalf("file in the data dir: %v", err)
	}
	got := send(t, nil, m.URL(), "GET", out.URL, nil, "", nil)
	if got.Status != 200 || !bytes.Equal(got.Body, img) || got.Header.Get("Content-Type") != "image/png" ||
		got.Header.Get("Content-Disposition") != "inline" || got.Header.Get("Cache-Control") != "public, max-age=86400" {
		t.Fatalf("GET: %d %v", got.Status, got.Header)
	}
	if got := send(t, nil, m.URL(), "GET", "/uploads/demo/p01.svg", nil, "", nil); got.Status != 200 || got.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("demo image: %d %q", got.Status, got.Header.Get("Content-Type"))
	}
	upload(t, m, "file", "x.png", []byte("GIF? no")).wantProblem(t, 400, "invalid_image")
	ents, _ := os.ReadDir(filepath.Join(m.Config.DataDir, "uploads"))
	if len(ents) != 2 { // demo/ and the one image: no temp file left behind
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("uploads dir = %v", names)
	}
}

// TestObjectStoreReadiness: /readyz fails while the bucket is unreachable
// (a node that cannot serve images and replays takes no traffic).
func TestObjectStoreReadiness(t *testing.T) {
	t.Parallel()
	s3 := s3test.Start(t, "shop")
	m := testkit.StartNode(t, "", "-s3-url", s3.URL(""))
	if got := send(t, nil, m.URL(), "GET", "/readyz", nil, "", nil); got.Status != 200 {
		t.Fatalf("/readyz: %d", got.Status)
	}
	s3.HTTP.Close()
	if got := send(t, nil, m.URL(), "GET", "/readyz", nil, "", nil); got.Status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with the bucket down: %d, want 503", got.Status)
	}
}
