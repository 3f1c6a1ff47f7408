//go:build !linux

package bench

func newFanoutPoller(p *fanoutPool) (fanoutPoller, error) { return newFanoutGoPoller(p), nil }
