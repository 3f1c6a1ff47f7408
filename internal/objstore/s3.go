package objstore

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config is a parsed SHELFLIVE_S3_URL:
//
//	s3://ACCESS:SECRET@host:port/bucket?region=us-east-1&tls=false&prefix=shelflive/&path_style=true
//
// Without ACCESS:SECRET the keys come from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY. tls defaults to true. path_style=true addresses
// the bucket as host/bucket (MinIO, most self-hosted servers),
// path_style=false as bucket.host; left out, the client decides (virtual
// host on AWS and Google, path style elsewhere).
type S3Config struct {
	Endpoint  string // host[:port]
	Bucket    string
	Prefix    string // prepended to every key; empty or ending in "/"
	Region    string
	AccessKey string
	SecretKey string
	TLS       bool
	PathStyle *bool // nil: let the client decide
}

// String describes the configuration for logs, without the credentials.
func (c S3Config) String() string {
	scheme := "https"
	if !c.TLS {
		scheme = "http"
	}
	return scheme + "://" + c.Endpoint + "/" + c.Bucket + "/" + c.Prefix
}

// ParseS3URL parses SHELFLIVE_S3_URL. Its errors never contain the URL, so
// they can be shown and logged without leaking the secret key.
func ParseS3URL(raw string) (S3Config, error) {
	var c S3Config
	bad := func(format string, a ...any) (S3Config, error) {
		return S3Config{}, fmt.Errorf("SHELFLIVE_S3_URL: "+format+" (want s3://ACCESS:SECRET@host:port/bucket?region=…&tls=…&prefix=…&path_style=…)", a...)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Say nothing of the parser's words: they quote parts of the URL, and
		// a secret with an unescaped "/" ends up quoted as a "port".
		return bad("not a URL; URL-escape special characters in ACCESS and SECRET (/ as %%2F, + as %%2B, @ as %%40)")
	}
	if u.Scheme != "s3" {
		return bad("scheme must be s3://, not %q", u.Scheme)
	}
	if u.Host == "" {
		return bad("no host")
	}
	if u.Port() != "" {
		if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
			return bad("bad port %q", u.Port())
		}
	}
	c.Endpoint = u.Host
	c.Bucket = strings.Trim(u.Path, "/")
	if c.Bucket == "" || strings.Contains(c.Bucket, "/") {
		return bad("the path must be exactly the bucket name")
	}
	if u.User != nil {
		c.AccessKey = u.User.Username()
		c.SecretKey, _ = u.User.Password()
		if c.AccessKey == "" || c.SecretKey == "" {
			return bad("credentials must be ACCESS:SECRET (URL-escape special characters)")
		}
	}
	c.TLS = true
	q := u.Query()
	for k, v := range q {
		if len(v) != 1 {
			return bad("option %s given %d times", k, len(v))
		}
		val := v[0]
		switch k {
		case "region":
			c.Region = val
		case "prefix":
			p := strings.Trim(val, "/")
			if p != "" {
				if checkKey(p) != nil {
					return bad("prefix %q is not a clean relative path", val)
				}
				c.Prefix = p + "/"
			}
		case "tls":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return bad("tls=%q is not true or false", val)
			}
			c.TLS = b
		case "path_style":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return bad("path_style=%q is not true or false", val)
			}
			c.PathStyle = &b
		default:
			return bad("unknown option %q", k)
		}
	}
	return c, nil
}

// S3 is a Store in an S3-compatible bucket (minio-go client).
type S3 struct {
	cfg    S3Config
	client *minio.Client
}

var _ Store = (*S3)(nil)

// NewS3 makes a client; it does not contact the server (see Ping).
// transport may be nil (the default transport).
func NewS3(cfg S3Config, transport http.RoundTripper) (*S3, error) {
	creds := credentials.NewEnvAWS()
	if cfg.AccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle != nil {
		lookup = minio.BucketLookupDNS
		if *cfg.PathStyle {
			lookup = minio.BucketLookupPath
		}
	}
	// A few quick retries, not minio's default ten with backoff: requests
	// (an upload, /readyz) must answer while the store is down, and the
	// recording copier retries on its own.
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: creds, Secure: cfg.TLS, Region: cfg.Region,
		BucketLookup: lookup, Transport: transport, MaxRetries: 3})
	if err != nil {
		return nil, fmt.Errorf("objstore: s3 client: %w", err)
	}
	return &S3{cfg: cfg, client: client}, nil
}

// String names the store in logs (no credentials).
func (s *S3) String() string { return "s3:" + s.cfg.String() }

// Ping checks that the bucket exists and the credentials work; /readyz
// calls it.
func (s *S3) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return fmt.Errorf("objstore: %s: %w", s.cfg.Endpoint, err)
	}
	if !ok {
		return fmt.Errorf("objstore: bucket %q does not exist on %s", s.cfg.Bucket, s.cfg.Endpoint)
	}
	return nil
}

func (s *S3) object(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return s.cfg.Prefix + key, nil
}

// Put implements Store. S3 replaces objects atomically.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	if contentType == "" {
		contentType = typeByName(key)
	}
	if _, err := s.client.PutObject(ctx, s.cfg.Bucket, name, r, size, minio.PutObjectOptions{ContentType: contentType}); err != nil {
		return fmt.Errorf("objstore: put %s: %w", key, err)
	}
	return nil
}

// Get implements Store. The reader is a *minio.Object (it seeks with
// ranged requests).
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, Info{}, err
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, s.getErr(key, err)
	}
	oi, err := obj.Stat() // the request happens here
	if err != nil {
		obj.Close()
		return nil, Info{}, s.getErr(key, err)
	}
	return obj, Info{Key: key, Size: oi.Size, ModTime: oi.LastModified.UTC(), ContentType: oi.ContentType, ETag: quoteETag(oi.ETag)}, nil
}

func (s *S3) getErr(key string, err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("objstore: get %s: %w", key, err)
}

func quoteETag(e string) string {
	if e == "" || strings.HasPrefix(e, `"`) {
		return e
	}
	return `"` + e + `"`
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, name, minio.RemoveObjectOptions{}); err != nil {
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil
		}
		return fmt.Errorf("objstore: delete %s: %w", key, err)
	}
	return nil
}

// List implements Store.
func (s *S3) List(ctx context.Context, prefix string) ([]Info, error) {
	if prefix != "" && checkKey(strings.TrimSuffix(prefix, "/")) != nil {
		return nil, fmt.Errorf("%w: %q", ErrInvalidKey, prefix)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine on an early return
	var out []Info
	for oi := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.cfg.Prefix + prefix, Recursive: true}) {
		if oi.Err != nil {
			return nil, fmt.Errorf("objstore: list %s: %w", prefix, oi.Err)
		}
		key := strings.TrimPrefix(oi.Key, s.cfg.Prefix)
		out = append(out, Info{Key: key, Size: oi.Size, ModTime: oi.LastModified.UTC(), ETag: quoteETag(oi.ETag)})
	}
	return out, nil
}

// Dirs implements Store with a delimited listing (common prefixes).
func (s *S3) Dirs(ctx context.Context, dir string) ([]string, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out []string
	for oi := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.cfg.Prefix + dir}) {
		if oi.Err != nil {
			return nil, fmt.Errorf("objstore: list %s: %w", dir, oi.Err)
		}
		if name, ok := strings.CutSuffix(strings.TrimPrefix(oi.Key, s.cfg.Prefix+dir), "/"); ok && name != "" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Open returns the node's store: S3 when s3URL is set, else a Local store
// in dir.
func Open(s3URL, dir string) (Store, error) {
	if s3URL == "" {
		return NewLocal(dir), nil
	}
	cfg, err := ParseS3URL(s3URL)
	if err != nil {
		return nil, err
	}
	return NewS3(cfg, nil)
}
