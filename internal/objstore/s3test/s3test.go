// Package s3test runs a real S3 protocol server (gofakes3, in memory) on a
// free loopback port for tests, so the S3 store is tested over HTTP with
// the real minio-go client rather than against a mock.
package s3test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Access and Secret are the credentials in URLs from Server.URL; gofakes3
// accepts any signature.
const (
	Access = "test-access"
	Secret = "test-secret-key"
)

// Server is a running in-memory S3 server with one bucket.
type Server struct {
	HTTP    *httptest.Server
	Backend *s3mem.Backend
	Bucket  string
}

// Start serves a fresh in-memory S3 with bucket on 127.0.0.1 until the test
// ends.
func Start(tb testing.TB, bucket string) *Server {
	tb.Helper()
	be := s3mem.New()
	if err := be.CreateBucket(bucket); err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(gofakes3.New(be).Server())
	tb.Cleanup(hs.Close)
	return &Server{HTTP: hs, Backend: be, Bucket: bucket}
}

// URL is a SHELFLIVE_S3_URL for the bucket with the given key prefix
// (may be empty): plain HTTP, path-style requests.
func (s *Server) URL(prefix string) string {
	host := strings.TrimPrefix(s.HTTP.URL, "http://")
	u := "s3://" + Access + ":" + Secret + "@" + host + "/" + s.Bucket + "?region=us-east-1&tls=false&path_style=true"
	if prefix != "" {
		u += "&prefix=" + prefix
	}
	return u
}
