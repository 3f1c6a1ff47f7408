//go:build !linux

package fanout

func newPoller(p *pool) (poller, error) { return newGoPoller(p), nil }
