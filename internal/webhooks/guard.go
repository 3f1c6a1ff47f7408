package webhooks

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// hostIsPrivate reports whether a literal host is an address we never send
// to; names are checked again at connect time by GuardedClient.
func hostIsPrivate(host string) bool {
	if host == "localhost" || len(host) > 10 && host[len(host)-10:] == ".localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && addrIsPrivate(a)
}

// addrIsPrivate: loopback, private (RFC 1918, fc00::/7), link-local
// (169.254/16 with the cloud metadata address, fe80::/10), unspecified,
// multicast and CGNAT (100.64/10).
func addrIsPrivate(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() ||
		cgnat.Contains(a) || thisNet.Contains(a)
}

// Parsed once: addrIsPrivate runs on every delivery's dial.
var cgnat, thisNet = netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("0.0.0.0/8")

var errPrivateAddr = errors.New("refused: private, loopback or link-local address")

// GuardedClient is the HTTP client deliveries use. The address check runs
// in the dialer's Control hook on the IP actually connected to, so a name
// that resolves (or re-resolves) to an internal address is refused too.
// Redirects are not followed: a receiver answers, it does not send us on.
func GuardedClient(allowPrivate bool, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || addrIsPrivate(ap.Addr()) {
				return errPrivateAddr
			}
			return nil
		}
	}
	tr := &http.Transport{
		DialContext:           func(ctx context.Context, n, a string) (net.Conn, error) { return dialer.DialContext(ctx, n, a) },
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		Proxy:                 nil, // never via an environment proxy: the guard must see the real peer
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
