package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestProductionStart: with SHELFLIVE_DEV=false a node refuses to start
// without SHELFLIVE_SECRET_KEY; with it, it starts, warns that SMS and the
// merchant's payments are not configured, and serves no dev route (the
// simulated payment page and confirm, codes on screen).
func TestProductionStart(t *testing.T) {
	c, err := node.ParseConfig("test", []string{"-dev=false", "-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-rtmp-addr", "", "-mqtt-addr", ""})
	if err != nil {
		t.Fatal(err)
	}
	m := &node.Main{Config: c}
	if err := m.Open(context.Background()); !errors.Is(err, node.ErrNoSecretKey) {
		m.Close()
		t.Fatalf("production start without a secret key: %v", err)
	}
	if !strings.Contains(node.ErrNoSecretKey.Error(), "SHELFLIVE_SECRET_KEY") {
		t.Fatal("the refusal does not name the setting")
	}

	p, logs := startLogged(t, "-dev=false", "-secret-key", testSecretKey)
	log := logs.String()
	for _, want := range []string{"SMS is not configured", "payments are not configured for this merchant"} {
		if !strings.Contains(log, want) {
			t.Fatalf("start log lacks %q:\n%s", want, log)
		}
	}
	buyer := &testkit.Client{Base: p.URL()}
	for _, rt := range [][2]string{{"GET", "/pay/dev/pi_x"}, {"GET", "/api/v1/payments/dev/pi_x"}, {"POST", "/api/v1/payments/dev/pi_x/confirm"}} {
		if st := buyer.Do(t, rt[0], rt[1], nil, nil); st != 404 {
			t.Fatalf("%s %s in production: %d, want 404", rt[0], rt[1], st)
		}
	}
	var out map[string]any
	if st := buyer.Do(t, "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": "13833334444"}, &out); st == 200 || out["dev_code"] != nil {
		t.Fatalf("production OTP without SMS: %d %v", st, out)
	}
}
