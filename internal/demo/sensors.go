package demo

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/coldchain"
)

// Sensors are the demo's simulated sensors: the distribution centre, the
// trucks and the store fridges keep reporting in-range temperatures while
// the demo runs, through the same ingest path as a real gateway, so the
// demo's trace pages keep their verdict (a silent sensor would soon read
// as missing data) and a newcomer's own sensor sits beside live ones.
type Sensors struct {
	Ingest interface {
		IngestBatch(ctx context.Context, dev coldchain.Device, items []coldchain.BatchItem) (int, error)
	}
	Store      coldchain.Store
	MerchantID int64
	Lead       func() bool // only the leader reports (one set of readings per cluster)
	Now        func() time.Time
	Every      time.Duration
	Logger     *slog.Logger

	sent map[string]time.Time // last reading sent per device (last_seen is stored lazily)
}

// backfillMax bounds how much history a restart fills in.
const backfillMax = 24 * time.Hour

// Run reports until ctx ends. Each round first fills the gap since a
// sensor's last reading (a restart, a lost lease) at the seeded period.
func (s *Sensors) Run(ctx context.Context) {
	tick := time.NewTicker(s.Every)
	defer tick.Stop()
	for {
		if s.Lead() {
			s.round(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *Sensors) round(ctx context.Context) {
	devs, err := s.Store.ListDevices(ctx, s.MerchantID)
	if err != nil {
		s.Logger.Warn("demo sensors", "err", err)
		return
	}
	locs, err := s.Store.ListLocations(ctx, s.MerchantID)
	if err != nil {
		s.Logger.Warn("demo sensors", "err", err)
		return
	}
	class := map[int64]string{}
	for _, l := range locs {
		class[l.ID] = l.Class
	}
	now := s.Now()
	for _, d := range devs {
		if !strings.HasPrefix(d.Key, DeviceLivePrefix) {
			continue
		}
		from := now.Add(-backfillMax)
		last := s.sent[d.Key]
		if d.LastSeen != nil && d.LastSeen.After(last) {
			last = *d.LastSeen
		}
		if last.After(from) {
			from = last.Add(readingEvery).Truncate(readingEvery)
		}
		var items []coldchain.BatchItem
		for at := from; at.Before(now); at = at.Add(readingEvery) {
			items = append(items, reading(class[d.LocationID], at))
		}
		items = append(items, reading(class[d.LocationID], now))
		if _, err := s.Ingest.IngestBatch(ctx, d, items); err != nil {
			if ctx.Err() == nil {
				s.Logger.Warn("demo sensor", "device", d.Key, "err", err)
			}
			continue
		}
		if s.sent == nil {
			s.sent = map[string]time.Time{}
		}
		s.sent[d.Key] = now
	}
}

// reading is a healthy sensor's value at a time (the same curve as the seed).
func reading(class string, at time.Time) coldchain.BatchItem {
	b, ok := classBase[class]
	if !ok {
		b = classBase["ambient"]
	}
	t := wobble(b[0], b[1], int(at.Unix()/int64(readingEvery.Seconds())))
	var it coldchain.BatchItem
	it.TS = at.UnixMilli()
	it.Values.Temperature = &t
	return it
}
