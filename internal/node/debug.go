package node

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"
)

// The profiler on its own listener (SHELFLIVE_DEBUG_ADDR): how the room's
// figures in docs/BENCHMARKS.md were profiled, and what an operator asks a
// developer to look at when a node burns CPU. It is never on the public
// address: ParseConfig allows loopback only.

// loopbackAddr says whether addr (host:port) names a loopback host.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// startDebug serves /debug/pprof/ on DebugAddr until life ends; nothing
// when it is empty.
func (m *Main) startDebug(life context.Context) error {
	if m.Config.DebugAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.DebugAddr)
	if err != nil {
		return fmt.Errorf("debug listen: %w", err)
	}
	m.DebugListener = ln
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close below
	go func() {
		<-life.Done()
		srv.Close()
	}()
	m.Logger.Info("profiler on", "addr", ln.Addr().String())
	return nil
}
