package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// The client address is the TCP peer unless the peer is a trusted proxy;
// then it is the nearest untrusted address in X-Forwarded-For, so a client
// cannot choose its own address by sending the header itself.
func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	for _, c := range []struct {
		name, peer string
		xff        []string
		trust      []netip.Prefix
		want       string
	}{
		{"no proxies configured: header ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, nil, "203.0.113.9"},
		{"untrusted peer: header ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, trusted, "203.0.113.9"},
		{"trusted proxy: client from the header", "10.1.2.3:5000", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"client-written entries left of the proxy's are skipped", "10.1.2.3:5000", []string{"6.6.6.6, 198.51.100.1"}, trusted, "198.51.100.1"},
		{"chain of trusted proxies", "127.0.0.1:5000", []string{"198.51.100.1, 10.9.9.9"}, trusted, "198.51.100.1"},
		{"several header lines", "10.1.2.3:5000", []string{"6.6.6.6", "198.51.100.1, 10.0.0.7"}, trusted, "198.51.100.1"},
		{"garbage stops the walk at the last vouched address", "10.1.2.3:5000", []string{"not-an-ip, 10.0.0.8"}, trusted, "10.0.0.8"},
		{"trusted proxy without header", "10.1.2.3:5000", nil, trusted, "10.1.2.3"},
		{"IPv6 client", "10.1.2.3:5000", []string{"2001:db8::1"}, trusted, "2001:db8::1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		s := &Server{TrustedProxies: c.trust}
		if got := s.clientIP(r); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}
