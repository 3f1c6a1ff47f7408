package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/sms/smstest"
)

// TestDoctor: a production configuration with everything in place passes
// (PostgreSQL, NATS, SMS against the fake, a merchant; its missing payment
// account is a note); a broken one fails with each problem in plain words.
func TestDoctor(t *testing.T) {
	pg, natsURL := multiNodeEnv(t)
	dbURL := freshSchema(t, pg)
	t.Setenv("SHELFLIVE_OWNER_PASSWORD", "Doctor-Visit-1357")
	mustCLI(t, "", "create", "--slug", "clinic", "--name", "诊所超市", "--owner-login", "clinic-owner", "--database-url", dbURL)
	f := smstest.Aliyun(t, "doc-key", "doc-secret")
	t.Setenv("SHELFLIVE_SMS_KEY_SECRET", f.KeySecret)
	var out bytes.Buffer
	err := runDoctor(context.Background(), []string{"-dev=false", "-secret-key", testSecretKey, "-database-url", dbURL, "-nats-url", natsURL,
		"-sms", "aliyun", "-sms-key-id", f.KeyID, "-sms-sign-name", "诊所超市", "-sms-template", "SMS_1", "-sms-base-url", f.URL, "-data-dir", t.TempDir()}, &out)
	if err != nil {
		t.Fatalf("good configuration: %v\n%s", err, out.String())
	}
	for _, want := range []string{"PostgreSQL (SHELFLIVE_DATABASE_URL) answers; 1 open merchant", "JetStream on", "aliyun configured", "merchant clinic has no WeChat Pay or Alipay account", "No problems found."} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("doctor output lacks %q:\n%s", want, out.String())
		}
	}
	if len(f.Sent()) != 0 {
		t.Fatal("doctor sent an SMS")
	}

	os.Unsetenv("SHELFLIVE_SMS_KEY_SECRET")
	out.Reset()
	err = runDoctor(context.Background(), []string{"-dev=false", "-data-dir", t.TempDir(), "-nats-url", "nats://127.0.0.1:1",
		"-s3-url", "s3://k:s@127.0.0.1:1/bucket?tls=false&path_style=true"}, &out)
	if err == nil || !strings.Contains(err.Error(), "5 problem(s)") {
		t.Fatalf("broken configuration: %v\n%s", err, out.String())
	}
	for _, want := range []string{"SHELFLIVE_SECRET_KEY is not set: the node will not start", "no open merchant exists: run `shelflive merchant create`",
		"SHELFLIVE_NATS_URL cannot be reached", "the bucket of SHELFLIVE_S3_URL does not answer", "no SMS provider: viewers cannot get login codes"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("doctor output lacks %q:\n%s", want, out.String())
		}
	}
}
