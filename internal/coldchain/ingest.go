package coldchain

import (
	"context"
	"fmt"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
)

// IngestMQTT accepts one message from topic
// shelflive/<merchant-slug>/devices/<device-id>/telemetry. The device must
// exist and belong to the merchant the topic names.
func (s *Service) IngestMQTT(topic string, payload []byte) error {
	slug, key, ok := ParseTopic(topic)
	if !ok {
		return ErrBadReading
	}
	s.mu.RLock()
	st := s.byKey[key]
	s.mu.RUnlock()
	if st == nil || st.slug != slug {
		return ErrUnknownDevice
	}
	ts, t, h, err := ParsePayload(payload, s.Now())
	if err != nil {
		return err
	}
	_, err = s.ingest(st, ts, t, h)
	return err
}

// DeviceTopicAllowed says whether a device (MQTT username) may publish to a
// topic: only its own telemetry topic.
func (s *Service) DeviceTopicAllowed(key, topic string) bool {
	_, k, ok := ParseTopic(topic)
	if !ok || k != key {
		return false
	}
	s.mu.RLock()
	st := s.byKey[key]
	s.mu.RUnlock()
	return st != nil && topic == Topic(st.slug, key)
}

// ErrBatchSize refuses a batch of 0 or more than 10,000 readings.
var ErrBatchSize = apperr.InvalidField("readings", "invalid_batch", "每批1到10000条读数", "Send 1 to 10,000 readings per batch.")

// IngestBatch accepts readings of one device (HTTP gateways) and returns
// once they are stored, so a 2xx means durable. All are checked first:
// one bad reading refuses the whole batch.
func (s *Service) IngestBatch(ctx context.Context, dev Device, items []BatchItem) (int, error) {
	s.mu.RLock()
	st := s.byKey[dev.Key]
	s.mu.RUnlock()
	if st == nil {
		return 0, ErrUnknownDevice
	}
	if len(items) == 0 || len(items) > 10_000 {
		return 0, ErrBatchSize
	}
	now := s.Now()
	type r struct {
		ts   int64
		t, h float64
	}
	rs := make([]r, len(items))
	for i, it := range items {
		ts, t, h, err := checkReading(it, now)
		if err != nil {
			if e := apperr.As(err); e.Field != "" {
				return 0, e.At(fmt.Sprintf("readings[%d].%s", i, e.Field))
			}
			return 0, err
		}
		rs[i] = r{ts, t, h}
	}
	var last uint64
	for _, x := range rs {
		seq, err := s.ingest(st, x.ts, x.t, x.h)
		if err != nil {
			return 0, err
		}
		last = seq
	}
	return len(rs), s.WaitStored(ctx, last)
}

// ingest evaluates a reading at once and queues it for storage; it returns
// the reading's sequence number for WaitStored.
func (s *Service) ingest(st *devState, ts int64, t, h float64) (uint64, error) {
	s.bufMu.Lock()
	if len(s.buf) >= s.MaxPending {
		s.bufMu.Unlock()
		return 0, ErrBusy
	}
	s.bufMu.Unlock()

	st.mu.Lock()
	evs := st.eval.Add(ts, t, st.scratch[:0])
	if ts > st.lastSeen {
		st.lastSeen = ts
	}
	r := Reading{DevicePK: st.dev.ID, LocationID: st.dev.LocationID, MerchantID: st.dev.MerchantID, TS: ts, Temp: t, Hum: h}
	if len(evs) > 0 {
		s.evMu.Lock()
		for _, ev := range evs {
			s.events = append(s.events, devEvent{st: st, ev: ev})
		}
		s.evMu.Unlock()
		select {
		case s.evKick <- struct{}{}:
		default:
		}
	}
	st.scratch = evs[:0]
	st.mu.Unlock()

	s.bufMu.Lock()
	s.buf = append(s.buf, r)
	s.seq++
	seq, n := s.seq, len(s.buf)
	s.bufMu.Unlock()
	if n >= s.FlushRows {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	return seq, nil
}

// WaitStored blocks until reading seq has been flushed (or ctx ends).
func (s *Service) WaitStored(ctx context.Context, seq uint64) error {
	for {
		s.bufMu.Lock()
		done, ch := s.flushed >= seq, s.flushCh
		s.bufMu.Unlock()
		if done {
			return nil
		}
		select {
		case s.kick <- struct{}{}:
		default:
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Accepted returns how many readings were accepted and stored so far.
func (s *Service) Accepted() (accepted, stored uint64) {
	s.bufMu.Lock()
	defer s.bufMu.Unlock()
	return s.seq, s.flushed
}

func (s *Service) flushLoop(ctx context.Context) {
	tick := time.NewTicker(s.FlushEvery)
	defer tick.Stop()
	lastRetention := time.Time{}
	for {
		select {
		case <-ctx.Done():
			s.Flush(context.Background())
			return
		case <-tick.C:
		case <-s.kick:
		}
		s.Flush(ctx)
		if now := s.Now(); now.Sub(lastRetention) > time.Hour {
			lastRetention = now
			if n, err := s.Store.DeleteRawBefore(ctx, now.Add(-s.RawRetention).UnixMilli()); err != nil {
				s.Logger.Error("coldchain retention", "err", err)
			} else if n > 0 {
				s.Logger.Info("coldchain retention", "chunks", n)
			}
		}
	}
}

// Flush stores the pending readings now. On a database error the batch is
// kept for the next try, up to MaxPending.
func (s *Service) Flush(ctx context.Context) {
	s.bufMu.Lock()
	batch := s.buf
	upto := s.seq
	s.buf = make([]Reading, 0, max(cap(batch), s.FlushRows))
	s.bufMu.Unlock()
	if len(batch) == 0 {
		s.markFlushed(upto)
		return
	}
	if err := s.Store.AppendReadings(ctx, batch); err != nil {
		s.Logger.Error("coldchain flush", "readings", len(batch), "err", err)
		s.bufMu.Lock()
		if len(s.buf)+len(batch) <= s.MaxPending {
			s.buf = append(batch, s.buf...)
			s.bufMu.Unlock()
			return
		}
		s.bufMu.Unlock()
		s.Logger.Error("coldchain flush: readings dropped, no room to keep them for a retry", "readings", len(batch))
	}
	s.markFlushed(upto)
}

func (s *Service) markFlushed(upto uint64) {
	s.bufMu.Lock()
	if upto > s.flushed {
		s.flushed = upto
	}
	close(s.flushCh)
	s.flushCh = make(chan struct{})
	s.bufMu.Unlock()
}
