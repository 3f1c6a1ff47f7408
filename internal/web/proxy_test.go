package web_test

import (
	"strconv"
	"testing"

	"github.com/shelflive/shelflive/internal/testkit"
)

// Behind a trusted balancer, per-IP limits apply to each client, not to the
// balancer: one client hitting the OTP limit does not lock the next one out.
// Without trusted proxies the header changes nothing.
func TestTrustedProxyLimits(t *testing.T) {
	exhaust := func(t *testing.T, base, client string) {
		t.Helper()
		for i := range 12 {
			r := send(t, nil, base, "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": "1370000" + client[len(client)-1:] + strconv.Itoa(100+i)}, "", map[string]string{"X-Forwarded-For": client})
			if r.Status == 429 {
				r.wantProblem(t, 429, "rate_limited")
				return
			}
			if r.Status != 200 {
				t.Fatalf("otp %d: %d %s", i, r.Status, r.Body)
			}
		}
		t.Fatalf("client %s never hit the OTP limit", client)
	}
	t.Run("Trusted", func(t *testing.T) {
		m := testkit.StartNode(t, "", "-trusted-proxies", "127.0.0.1")
		exhaust(t, m.URL(), "198.51.100.1")
		r := send(t, nil, m.URL(), "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": "13700002000"}, "", map[string]string{"X-Forwarded-For": "198.51.100.2"})
		if r.Status != 200 {
			t.Fatalf("another client behind the same balancer: %d %s", r.Status, r.Body)
		}
	})
	t.Run("NotTrusted", func(t *testing.T) {
		m := testkit.StartNode(t, "")
		exhaust(t, m.URL(), "198.51.100.1")
		r := send(t, nil, m.URL(), "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": "13700002001"}, "", map[string]string{"X-Forwarded-For": "198.51.100.2"})
		r.wantProblem(t, 429, "rate_limited") // a header anyone can send must not reset the limit
	})
}

// A known API path with another method answers 405 with the methods it takes.
func TestWrongMethod(t *testing.T) {
	m := testkit.StartNode(t, "")
	r := send(t, nil, m.URL(), "DELETE", "/api/v1/orders", nil, testkit.OwnerToken, nil)
	r.wantProblem(t, 405, "method_not_allowed")
	if got := r.Header.Get("Allow"); got != "GET, POST" {
		t.Fatalf("Allow %q, want \"GET, POST\"", got)
	}
	send(t, nil, m.URL(), "GET", "/api/v1/no-such-thing", nil, "", nil).wantProblem(t, 404, "no_route")
}
