package objstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/objstore"
	"github.com/shelflive/shelflive/internal/objstore/s3test"
)

// TestStoreContract runs the same checks against a Local directory and an
// S3 bucket (gofakes3 over HTTP, real minio-go client).
func TestStoreContract(t *testing.T) {
	stores := map[string]func(t *testing.T) objstore.Store{
		"Local": func(t *testing.T) objstore.Store { return objstore.NewLocal(t.TempDir()) },
		"S3": func(t *testing.T) objstore.Store {
			srv := s3test.Start(t, "media")
			st, err := objstore.Open(srv.URL("shelflive/"), "")
			if err != nil {
				t.Fatal(err)
			}
			if err := st.(*objstore.S3).Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
			return st
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			testContract(t, open(t))
		})
	}
}

func get(t *testing.T, st objstore.Store, key string) ([]byte, objstore.Info) {
	t.Helper()
	rc, info, err := st.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b, info
}

func keys(infos []objstore.Info) string {
	var ks []string
	for _, i := range infos {
		ks = append(ks, i.Key)
	}
	return strings.Join(ks, ",")
}

func testContract(t *testing.T, st objstore.Store) {
	ctx := context.Background()
	put := func(key, body, ctype string) {
		t.Helper()
		if err := st.Put(ctx, key, strings.NewReader(body), int64(len(body)), ctype); err != nil {
			t.Fatalf("Put %s: %v", key, err)
		}
	}

	t.Run("PutGet", func(t *testing.T) {
		put("uploads/a.png", "png bytes", "image/png")
		b, info := get(t, st, "uploads/a.png")
		if string(b) != "png bytes" || info.Size != 9 || info.Key != "uploads/a.png" || info.ModTime.IsZero() || info.ETag == "" {
			t.Fatalf("got %q %+v", b, info)
		}
		if info.ContentType != "image/png" {
			t.Fatalf("content type %q", info.ContentType)
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		put("uploads/a.png", "second version", "image/png")
		if b, _ := get(t, st, "uploads/a.png"); string(b) != "second version" {
			t.Fatalf("got %q", b)
		}
	})

	t.Run("ContentType", func(t *testing.T) {
		put("video/r/rec/000001.ts", "ts", "video/mp2t")
		put("uploads/demo/p01.svg", "<svg/>", "image/svg+xml")
		if _, info := get(t, st, "video/r/rec/000001.ts"); info.ContentType != "video/mp2t" {
			t.Fatalf("ts content type %q", info.ContentType)
		}
		if _, info := get(t, st, "uploads/demo/p01.svg"); info.ContentType != "image/svg+xml" {
			t.Fatalf("svg content type %q", info.ContentType)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, _, err := st.Get(ctx, "uploads/missing.png")
		if !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("ErrInvalidKey", func(t *testing.T) {
		for _, k := range []string{"", "/etc/passwd", "../x", "uploads/../../x", "uploads//x", "uploads/"} {
			if _, _, err := st.Get(ctx, k); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Get %q: %v, want ErrInvalidKey", k, err)
			}
			if err := st.Put(ctx, k, strings.NewReader("x"), 1, ""); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Put %q: %v, want ErrInvalidKey", k, err)
			}
		}
	})

	t.Run("List", func(t *testing.T) {
		put("video/r/rec/journal", "rec", "text/plain")
		put("video/r/rec/000002.ts", "ts2", "video/mp2t")
		put("video/r2/x/journal", "other room", "text/plain")
		list, err := st.List(ctx, "video/r/")
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(list); got != "video/r/rec/000001.ts,video/r/rec/000002.ts,video/r/rec/journal" {
			t.Fatalf("List video/r/ = %s", got)
		}
		if list[1].Size != 3 {
			t.Fatalf("size %d", list[1].Size)
		}
		list, err = st.List(ctx, "video/r2/x/jour")
		if err != nil || keys(list) != "video/r2/x/journal" {
			t.Fatalf("List by partial name = %s, %v", keys(list), err)
		}
		list, err = st.List(ctx, "nothing/here/")
		if err != nil || len(list) != 0 {
			t.Fatalf("List of an empty prefix = %s, %v", keys(list), err)
		}
	})

	t.Run("Dirs", func(t *testing.T) {
		put("video/r/rec2/journal", "rec", "text/plain")
		dirs, err := st.Dirs(ctx, "video/r/")
		if err != nil || strings.Join(dirs, ",") != "rec,rec2" {
			t.Fatalf("Dirs video/r/ = %q, %v", dirs, err)
		}
		dirs, err = st.Dirs(ctx, "video/")
		if err != nil || strings.Join(dirs, ",") != "r,r2" {
			t.Fatalf("Dirs video/ = %q, %v", dirs, err)
		}
		if dirs, err := st.Dirs(ctx, "nothing/"); err != nil || len(dirs) != 0 {
			t.Fatalf("Dirs of an empty prefix = %q, %v", dirs, err)
		}
		if _, err := st.Dirs(ctx, "video"); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Fatalf("Dirs without a trailing slash: %v", err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		if err := st.Delete(ctx, "video/r/rec/000002.ts"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.Get(ctx, "video/r/rec/000002.ts"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
		if err := st.Delete(ctx, "video/r/rec/000002.ts"); err != nil {
			t.Fatalf("deleting a missing object: %v", err)
		}
		list, _ := st.List(ctx, "video/r/rec/")
		if got := keys(list); got != "video/r/rec/000001.ts,video/r/rec/journal" {
			t.Fatalf("List after delete = %s", got)
		}
	})

	t.Run("Large", func(t *testing.T) {
		big := make([]byte, 9<<20+123) // more than one 8 MiB upload part would be
		rand.Read(big)
		if err := st.Put(ctx, "uploads/big.bin", bytes.NewReader(big), int64(len(big)), "application/octet-stream"); err != nil {
			t.Fatal(err)
		}
		rc, info, err := st.Get(ctx, "uploads/big.bin")
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if info.Size != int64(len(big)) {
			t.Fatalf("size %d", info.Size)
		}
		// Range reads: the reader seeks (HTTP handlers serve ranges with it).
		rs, ok := rc.(io.ReadSeeker)
		if !ok {
			t.Fatalf("%T does not seek", rc)
		}
		if _, err := rs.Seek(5<<20, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		part := make([]byte, 1000)
		if _, err := io.ReadFull(rs, part); err != nil || !bytes.Equal(part, big[5<<20:5<<20+1000]) {
			t.Fatalf("read after seek: %v", err)
		}
		if _, err := rs.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		all, err := io.ReadAll(rs)
		if err != nil || !bytes.Equal(all, big) {
			t.Fatalf("full read: %d bytes, %v", len(all), err)
		}
	})

	t.Run("ShortReaderStoresNothing", func(t *testing.T) {
		err := st.Put(ctx, "uploads/short.png", strings.NewReader("abc"), 10, "image/png")
		if err == nil {
			t.Fatal("Put with fewer bytes than size succeeded")
		}
		if _, _, err := st.Get(ctx, "uploads/short.png"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("a failed Put left an object: %v", err)
		}
	})
}

// TestLocalLayout: a Local store is plain files, so an existing data dir
// (uploads/…, video/…) keeps working, and temp files are not objects.
func TestLocalLayout(t *testing.T) {
	dir := t.TempDir()
	st := objstore.NewLocal(dir)
	if err := st.Put(context.Background(), "uploads/x.jpg", strings.NewReader("jpg"), 3, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "uploads", "x.jpg")); err != nil || string(b) != "jpg" {
		t.Fatalf("file = %q, %v", b, err)
	}
	os.WriteFile(filepath.Join(dir, "uploads", ".upload-123"), []byte("partial"), 0o600)
	list, err := st.List(context.Background(), "uploads/")
	if err != nil || keys(list) != "uploads/x.jpg" {
		t.Fatalf("List = %s, %v", keys(list), err)
	}
}

func TestParseS3URL(t *testing.T) {
	c, err := objstore.ParseS3URL("s3://AK:S%2Fcret@minio.local:9000/media?region=us-east-1&tls=false&prefix=shelflive/&path_style=true")
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "minio.local:9000" || c.Bucket != "media" || c.Prefix != "shelflive/" || c.Region != "us-east-1" ||
		c.AccessKey != "AK" || c.SecretKey != "S/cret" || c.TLS || c.PathStyle == nil || !*c.PathStyle {
		t.Fatalf("parsed %+v", c)
	}
	if s := c.String(); strings.Contains(s, "cret") || strings.Contains(s, "AK") {
		t.Fatalf("String() leaks credentials: %s", s)
	}
	c, err = objstore.ParseS3URL("s3://s3.amazonaws.com/bucket")
	if err != nil || !c.TLS || c.PathStyle != nil || c.Prefix != "" || c.AccessKey != "" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	for name, bad := range map[string]string{
		"ErrScheme":     "http://AK:SECRETVALUE@host/bucket",
		"ErrNoBucket":   "s3://AK:SECRETVALUE@host:9000/",
		"ErrDeepPath":   "s3://AK:SECRETVALUE@host:9000/bucket/dir",
		"ErrNoHost":     "s3://AK:SECRETVALUE@/bucket",
		"ErrPort":       "s3://AK:SECRETVALUE@host:99999/bucket",
		"ErrNoSecret":   "s3://AK@host/bucket",
		"ErrOption":     "s3://AK:SECRETVALUE@host/bucket?regoin=x",
		"ErrTLS":        "s3://AK:SECRETVALUE@host/bucket?tls=maybe",
		"ErrPathStyle":  "s3://AK:SECRETVALUE@host/bucket?path_style=yes please",
		"ErrPrefix":     "s3://AK:SECRETVALUE@host/bucket?prefix=../x",
		"ErrNotURL":     "s3://AK:SECRETVALUE@host:port/bucket",
		"ErrControlChr": "s3://AK:SECRETVALUE@host/bucket\x7f",
		"ErrSlashInKey": "s3://AKIAEXAMPLE:wJalrXUtnFEMI/bPxRfiCYEXAMPLEKEY@s3.amazonaws.com/b", // unescaped "/": the parser would quote half of it as a port
	} {
		t.Run(name, func(t *testing.T) {
			_, err := objstore.ParseS3URL(bad)
			if err == nil {
				t.Fatalf("%q accepted", bad)
			}
			if strings.Contains(err.Error(), "SECRETVALUE") || strings.Contains(err.Error(), "wJalrXUtn") || strings.Contains(err.Error(), "bPxRfiCY") {
				t.Fatalf("error leaks the secret: %v", err)
			}
			if !strings.Contains(err.Error(), "SHELFLIVE_S3_URL") {
				t.Fatalf("error does not say which setting: %v", err)
			}
		})
	}
}
