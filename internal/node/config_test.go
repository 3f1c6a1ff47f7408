package node_test

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestS3URLConfig: SHELFLIVE_S3_URL / -s3-url is checked when the config is
// read, so a typo stops the start with a readable error that does not
// repeat the secret key.
func TestS3URLConfig(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		c, err := node.ParseConfig("test", []string{"-s3-url", "s3://AK:SECRETKEY@minio:9000/shelflive?tls=false&path_style=true"})
		if err != nil || c.S3URL == "" {
			t.Fatalf("%+v, %v", c, err)
		}
	})
	t.Run("DefaultEmpty", func(t *testing.T) {
		t.Setenv("SHELFLIVE_S3_URL", "")
		c, err := node.ParseConfig("test", nil)
		if err != nil || c.S3URL != "" {
			t.Fatalf("%+v, %v", c, err)
		}
	})
	t.Run("ErrFromEnv", func(t *testing.T) {
		t.Setenv("SHELFLIVE_S3_URL", "s3://AK:SECRETKEY@minio:9000/shelflive?tsl=false")
		_, err := node.ParseConfig("test", nil)
		if err == nil || !strings.Contains(err.Error(), `unknown option "tsl"`) || strings.Contains(err.Error(), "SECRETKEY") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrFlag", func(t *testing.T) {
		_, err := node.ParseConfig("test", []string{"-s3-url", "https://AK:SECRETKEY@minio:9000/shelflive"})
		if err == nil || !strings.Contains(err.Error(), "SHELFLIVE_S3_URL") || strings.Contains(err.Error(), "SECRETKEY") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestTrustedProxiesConfig(t *testing.T) {
	c, err := node.ParseConfig("t", []string{"-trusted-proxies", " 10.0.0.0/8, 127.0.0.1 ,::1,192.168.1.7/16"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "127.0.0.1/32", "::1/128", "192.168.0.0/16"}
	if len(c.TrustedProxies) != len(want) {
		t.Fatalf("got %v", c.TrustedProxies)
	}
	for i, p := range c.TrustedProxies {
		if p.String() != want[i] {
			t.Fatalf("prefix %d = %s, want %s", i, p, want[i])
		}
	}
	if _, err := node.ParseConfig("t", []string{"-trusted-proxies", "10.0.0.0/8,nginx"}); err == nil || !strings.Contains(err.Error(), `"nginx"`) {
		t.Fatalf("a host name must be refused with a clear error, got %v", err)
	}
	if c, err := node.ParseConfig("t", nil); err != nil || len(c.TrustedProxies) != 0 {
		t.Fatalf("default must trust no proxy: %v %v", c.TrustedProxies, err)
	}
}

// Outside dev mode an external media server's hooks must carry a secret.
func TestExternalMediaNeedsHookSecret(t *testing.T) {
	if _, err := node.ParseConfig("t", []string{"-dev=false", "-media", "external"}); err == nil || !strings.Contains(err.Error(), "SHELFLIVE_MEDIA_HOOK_SECRET") {
		t.Fatalf("external media without a hook secret in production: %v", err)
	}
	if _, err := node.ParseConfig("t", []string{"-dev=false", "-media", "external", "-media-hook-secret", "s3cret"}); err != nil {
		t.Fatal(err)
	}
	if _, err := node.ParseConfig("t", []string{"-media", "external"}); err != nil {
		t.Fatalf("dev mode may run hooks without a secret: %v", err)
	}
}

// Secrets set in the environment are used, but never printed as flag
// defaults (-help, a mistyped flag); a flag on the command line still wins.
func TestSecretsNotInUsage(t *testing.T) {
	t.Setenv("SHELFLIVE_S3_URL", "s3://AK:TOPSECRETS3@minio:9000/b?tls=false")
	t.Setenv("SHELFLIVE_DATABASE_URL", "postgres://u:TOPSECRETPG@db/x")
	t.Setenv("SHELFLIVE_PAY_SECRET", "TOPSECRETPAY")
	c, err := node.ParseConfig("t", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.S3URL == "" || c.DatabaseURL != "postgres://u:TOPSECRETPG@db/x" || c.PaySecret != "TOPSECRETPAY" {
		t.Fatalf("environment not used: %+v", c)
	}
	if c, _ := node.ParseConfig("t", []string{"-database-url", ""}); c.DatabaseURL != "" {
		t.Fatalf("an explicit empty flag must win over the environment, got %q", c.DatabaseURL)
	}
	// -help prints the usage to stderr; capture it through a pipe.
	r, w, _ := os.Pipe()
	old := os.Stderr
	os.Stderr = w
	node.ParseConfig("t", []string{"-help"})
	os.Stderr = old
	w.Close()
	usage, _ := io.ReadAll(r)
	if len(usage) == 0 || strings.Contains(string(usage), "TOPSECRET") {
		t.Fatalf("usage (%d bytes) prints a secret: %s", len(usage), usage)
	}
}

// TestDebugAddr: the profiler is off by default, listens on loopback only,
// and is never on the public address.
func TestDebugAddr(t *testing.T) {
	if c, err := node.ParseConfig("t", nil); err != nil || c.DebugAddr != "" {
		t.Fatalf("default must be off: %q %v", c.DebugAddr, err)
	}
	for _, bad := range []string{":6060", "0.0.0.0:6060", "10.0.0.5:6060", "example.com:6060", "6060"} {
		if _, err := node.ParseConfig("t", []string{"-debug-addr", bad}); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("-debug-addr %s: want a loopback-only error, got %v", bad, err)
		}
	}
	for _, ok := range []string{"127.0.0.1:6060", "[::1]:6060", "localhost:6060"} {
		if _, err := node.ParseConfig("t", []string{"-debug-addr", ok}); err != nil {
			t.Errorf("-debug-addr %s: %v", ok, err)
		}
	}
	m := testkit.StartNode(t, "", "-debug-addr", "127.0.0.1:0")
	get := func(u string) int {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get("http://" + m.DebugListener.Addr().String() + "/debug/pprof/goroutine?debug=1"); st != 200 {
		t.Fatalf("profiler answered %d", st)
	}
	if st := get(m.URL() + "/debug/pprof/goroutine?debug=1"); st == 200 {
		t.Fatal("the profiler answers on the public address")
	}
}
