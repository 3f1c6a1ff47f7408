package coldchain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/trace"
)

// Service runs the cold chain: a device registry for authentication, the
// ingest pipeline (evaluate each reading in memory at once, store in
// batches), the alarm worker that holds affected lots, the missing-data
// watch, raw-data retention, and the quality use cases.
//
// Readings are evaluated before they are stored, so an excursion puts lots
// on hold within milliseconds of the reading that proves it, whatever the
// flush interval.
type Service struct {
	Store  Store
	Holder Holder           // nil: alarms are recorded but nothing is held (tests of the rules only)
	Events trace.EventStore // optional: EPCIS locations of lots and decision events
	Logger *slog.Logger
	Now    func() time.Time

	FlushEvery   time.Duration // default 200 ms
	FlushRows    int           // flush early at this many pending readings; default 1,000
	MaxPending   int           // refuse readings beyond this backlog; default 500,000
	RawRetention time.Duration // raw readings kept this long; default 30 days (rollups forever)
	CheckEvery   time.Duration // missing-data watch period; default 30 s
	// OnAlarm, when set, is told about every alarm opened, cleared or
	// decided (the wiring publishes it to the staff stream).
	OnAlarm func(a *Alarm)

	mu     sync.RWMutex
	byKey  map[string]*devState
	byHash map[string]*devState

	bufMu   sync.Mutex
	buf     []Reading
	seq     uint64        // readings accepted so far
	flushed uint64        // readings durably stored (or dropped after an error) so far
	flushCh chan struct{} // closed at each flush
	kick    chan struct{}

	evMu   sync.Mutex
	events []devEvent
	evKick chan struct{}

	startOnce sync.Once
	stopped   chan struct{}
	stats     ingestStats
}

type ingestStats struct {
	mu                                 sync.Mutex
	accepted, stored, dropped, refused uint64
}

type devState struct {
	mu           sync.Mutex
	dev          Device
	slug         string
	loc          Location
	eval         Evaluator
	lastSeen     int64
	openAlarm    int64
	missingAlarm int64
	scratch      []Event
}

type devEvent struct {
	st *devState
	ev Event
}

func (s *Service) defaults() {
	if s.FlushEvery == 0 {
		s.FlushEvery = 200 * time.Millisecond
	}
	if s.FlushRows == 0 {
		s.FlushRows = 1000
	}
	if s.MaxPending == 0 {
		s.MaxPending = 500_000
	}
	if s.RawRetention == 0 {
		s.RawRetention = 30 * 24 * time.Hour
	}
	if s.CheckEvery == 0 {
		s.CheckEvery = 30 * time.Second
	}
	if s.Now == nil {
		s.Now = func() time.Time { return time.Now().UTC() }
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.flushCh == nil {
		s.flushCh = make(chan struct{})
		s.kick = make(chan struct{}, 1)
		s.evKick = make(chan struct{}, 1)
		s.stopped = make(chan struct{})
	}
}

// Load (re)reads the device registry. Start calls it; device creation
// through the service updates it incrementally.
func (s *Service) Load(ctx context.Context) error {
	s.startOnce.Do(s.defaults)
	devs, slugs, err := s.Store.AllDevices(ctx)
	if err != nil {
		return fmt.Errorf("coldchain load: %w", err)
	}
	locs := map[int64]Location{}
	for _, d := range devs {
		if _, ok := locs[d.LocationID]; !ok {
			l, err := s.Store.Location(ctx, d.MerchantID, d.LocationID)
			if err != nil {
				return fmt.Errorf("coldchain load: location %d: %w", d.LocationID, err)
			}
			locs[d.LocationID] = *l
		}
	}
	s.mu.Lock()
	if s.byKey == nil {
		s.byKey, s.byHash = map[string]*devState{}, map[string]*devState{}
	}
	var fresh []*devState
	for _, d := range devs {
		_, known := s.byKey[d.Key]
		s.registerLocked(d, slugs[d.MerchantID], locs[d.LocationID])
		if !known {
			fresh = append(fresh, s.byKey[d.Key])
		}
	}
	s.mu.Unlock()
	return s.prime(ctx, fresh)
}

// prime rebuilds the rule state of newly loaded devices after a restart:
// it replays their recent readings through the evaluator and reconciles
// with the alarms in the database. An episode whose alarm was recorded is
// linked to it (so it clears later); one whose alarm was lost in a crash
// between evaluation and recording is raised now (and its lots held); an
// open alarm whose episode ended meanwhile is cleared.
func (s *Service) prime(ctx context.Context, fresh []*devState) error {
	active := map[int64][]Alarm{} // by device
	seen := map[int64]bool{}
	for _, st := range fresh {
		if seen[st.dev.MerchantID] {
			continue
		}
		seen[st.dev.MerchantID] = true
		list, err := s.Store.Alarms(ctx, AlarmFilter{MerchantID: st.dev.MerchantID, Status: StatusOpen, Limit: 500})
		if err != nil {
			return fmt.Errorf("coldchain prime: %w", err)
		}
		for _, a := range list {
			active[a.DevicePK] = append(active[a.DevicePK], a)
		}
	}
	now := s.Now().UnixMilli()
	for _, st := range fresh {
		p := st.eval.P
		from := now - (2*p.HardFor + p.ClearAfter + time.Hour).Milliseconds()
		pts, err := s.Store.DevicePoints(ctx, st.dev.MerchantID, st.dev.LocationID, st.dev.ID, from, now+5*60_000)
		if err != nil {
			return fmt.Errorf("coldchain prime %s: %w", st.dev.Key, err)
		}
		var evs []Event
		st.mu.Lock()
		for _, pt := range pts {
			evs = st.eval.Add(pt.TS, pt.Temp, evs)
			st.lastSeen = max(st.lastSeen, pt.TS)
		}
		var openEx *Alarm
		for i, a := range active[st.dev.ID] {
			switch a.Kind {
			case AlarmExcursion:
				openEx = &active[st.dev.ID][i]
			case AlarmMissingData:
				if st.lastSeen > a.StartedAt.UnixMilli()+p.MaxGap.Milliseconds() {
					// data came back while we were down
					if err := s.Store.ClearAlarm(ctx, st.dev.MerchantID, a.ID, time.UnixMilli(st.lastSeen).UTC()); err != nil {
						s.Logger.Error("coldchain prime", "err", err)
					}
				} else {
					st.missingAlarm = a.ID
				}
			}
		}
		var queue []Event
		for _, ev := range evs {
			switch ev.Kind {
			case EvExcursion:
				if openEx != nil && st.openAlarm == 0 {
					st.openAlarm = openEx.ID // recorded before the restart
					continue
				}
				queue = append(queue, ev)
			case EvCleared:
				queue = append(queue, ev)
			}
		}
		if openEx != nil && st.openAlarm == 0 {
			if st.eval.Episode() {
				// the episode began before the replay window: still the same alarm
				st.eval.MarkAlarmed()
				st.openAlarm = openEx.ID
			} else if err := s.Store.ClearAlarm(ctx, st.dev.MerchantID, openEx.ID, time.UnixMilli(max(st.lastSeen, openEx.StartedAt.UnixMilli())).UTC()); err != nil {
				// the episode ended while we were down
				s.Logger.Error("coldchain prime", "err", err)
			}
		}
		st.mu.Unlock()
		if len(queue) > 0 {
			s.evMu.Lock()
			for _, ev := range queue {
				s.events = append(s.events, devEvent{st: st, ev: ev})
			}
			s.evMu.Unlock()
			select {
			case s.evKick <- struct{}{}:
			default:
			}
		}
	}
	return nil
}

func (s *Service) registerLocked(d Device, slug string, loc Location) {
	if st, ok := s.byKey[d.Key]; ok {
		st.mu.Lock()
		delete(s.byHash, st.dev.TokenHash)
		st.dev, st.slug, st.loc, st.eval.P = d, slug, loc, ProfileOf(loc.Class)
		st.mu.Unlock()
		s.byHash[d.TokenHash] = st
		return
	}
	st := &devState{dev: d, slug: slug, loc: loc, eval: Evaluator{P: ProfileOf(loc.Class)}}
	if d.LastSeen != nil {
		st.lastSeen = d.LastSeen.UnixMilli()
	}
	s.byKey[d.Key] = st
	s.byHash[d.TokenHash] = st
}

// Start loads the registry and runs the flusher and the alarm worker until
// ctx ends; the last readings are flushed on the way out.
func (s *Service) Start(ctx context.Context) error {
	if err := s.Load(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.flushLoop(ctx) }()
	go func() { defer wg.Done(); s.alarmLoop(ctx) }()
	go func() { wg.Wait(); close(s.stopped) }()
	return nil
}

// Stopped is closed once Start's goroutines have finished after ctx ended.
func (s *Service) Stopped() <-chan struct{} { s.startOnce.Do(s.defaults); return s.stopped }

// AuthenticateDevice checks an MQTT login: username = device id, password =
// token.
func (s *Service) AuthenticateDevice(key, token string) bool {
	s.mu.RLock()
	st := s.byKey[key]
	s.mu.RUnlock()
	return st != nil && token != "" && st.dev.TokenHash == HashToken(token)
}

// DeviceByToken returns the device of an HTTP gateway's bearer token.
func (s *Service) DeviceByToken(token string) (Device, bool) {
	s.mu.RLock()
	st := s.byHash[HashToken(token)]
	s.mu.RUnlock()
	if st == nil || token == "" {
		return Device{}, false
	}
	return st.dev, true
}

// Payload is the JSON a sensor publishes: {"ts": <unix ms>, "values":
// {"temperature": 3.2, "humidity": 71}}.
type Payload struct {
	TS     int64 `json:"ts"`
	Values struct {
		Temperature *float64 `json:"temperature"`
		Humidity    *float64 `json:"humidity"`
	} `json:"values"`
}

// ParsePayload decodes and checks one telemetry message. A reading without
// a time gets the receive time; one too far in the future is refused (a
// clock set wrong would otherwise hide the present).
func ParsePayload(b []byte, now time.Time) (ts int64, temp, hum float64, err error) {
	p, ok := fastPayload(b)
	if !ok {
		p = Payload{}
		if err := json.Unmarshal(b, &p); err != nil {
			return 0, 0, 0, ErrBadReading
		}
	}
	return checkReading(p, now)
}

func checkReading(p Payload, now time.Time) (int64, float64, float64, error) {
	if p.Values.Temperature == nil {
		return 0, 0, 0, apperr.InvalidField("values.temperature", "missing_temperature", "缺少温度值", "values.temperature is required.")
	}
	t := *p.Values.Temperature
	if math.IsNaN(t) || t < -100 || t > 100 {
		return 0, 0, 0, apperr.InvalidField("values.temperature", "invalid_temperature", "温度超出传感器量程", "Temperature out of sensor range (-100..100 °C).")
	}
	h := math.NaN()
	if p.Values.Humidity != nil {
		h = *p.Values.Humidity
		if h < 0 || h > 100 {
			return 0, 0, 0, apperr.InvalidField("values.humidity", "invalid_humidity", "湿度须在0-100之间", "Humidity must be 0..100 %.")
		}
	}
	ts := p.TS
	nowMS := now.UnixMilli()
	if ts == 0 {
		ts = nowMS
	}
	if ts > nowMS+5*60_000 || ts < 946684800000 { // > 5 min ahead, or before 2000
		return 0, 0, 0, apperr.InvalidField("ts", "invalid_ts", "时间戳无效（Unix 毫秒）", "Invalid ts (unix milliseconds).")
	}
	return ts, t, h, nil
}

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

// TopicFilter subscribes to every device's telemetry.
const TopicFilter = "shelflive/+/devices/+/telemetry"

// Topic returns the telemetry topic of a device.
func Topic(merchantSlug, deviceKey string) string {
	return "shelflive/" + merchantSlug + "/devices/" + deviceKey + "/telemetry"
}

// ParseTopic splits a telemetry topic into merchant slug and device id.
func ParseTopic(topic string) (slug, key string, ok bool) {
	rest, ok := strings.CutPrefix(topic, "shelflive/")
	if !ok {
		return "", "", false
	}
	slug, rest, ok = strings.Cut(rest, "/devices/")
	if !ok || slug == "" {
		return "", "", false
	}
	key, ok = strings.CutSuffix(rest, "/telemetry")
	if !ok || key == "" || strings.Contains(key, "/") {
		return "", "", false
	}
	return slug, key, true
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

// BatchItem is one reading of an HTTP gateway batch.
type BatchItem = Payload

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
		return 0, apperr.InvalidField("readings", "invalid_batch", "每批1到10000条读数", "Send 1 to 10,000 readings per batch.")
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
				e2 := *e
				e2.Field = fmt.Sprintf("readings[%d].%s", i, e.Field)
				return 0, &e2
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
		s.stats.mu.Lock()
		s.stats.refused++
		s.stats.mu.Unlock()
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
		s.stats.mu.Lock()
		s.stats.dropped += uint64(len(batch))
		s.stats.mu.Unlock()
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

func (s *Service) alarmLoop(ctx context.Context) {
	tick := time.NewTicker(s.CheckEvery)
	defer tick.Stop()
	touch := time.NewTicker(time.Minute)
	defer touch.Stop()
	for {
		select {
		case <-ctx.Done():
			s.handleEvents(context.Background())
			s.touchDevices(context.Background())
			return
		case <-s.evKick:
			s.handleEvents(ctx)
		case <-tick.C:
			s.handleEvents(ctx)
			s.CheckMissing(ctx)
		case <-touch.C:
			s.touchDevices(ctx)
		}
	}
}

func (s *Service) touchDevices(ctx context.Context) {
	seen := map[int64]int64{}
	s.mu.RLock()
	for _, st := range s.byKey {
		st.mu.Lock()
		if st.lastSeen > 0 {
			seen[st.dev.ID] = st.lastSeen
		}
		st.mu.Unlock()
	}
	s.mu.RUnlock()
	if len(seen) > 0 {
		if err := s.Store.TouchDevices(ctx, seen); err != nil {
			s.Logger.Error("coldchain touch devices", "err", err)
		}
	}
}

// HandlePending processes queued rule events now (tests and benchmarks;
// the alarm worker does this on its own).
func (s *Service) HandlePending(ctx context.Context) { s.handleEvents(ctx) }

func (s *Service) handleEvents(ctx context.Context) {
	for {
		s.evMu.Lock()
		evs := s.events
		s.events = nil
		s.evMu.Unlock()
		if len(evs) == 0 {
			return
		}
		for _, de := range evs {
			if err := s.handleEvent(ctx, de.st, de.ev); err != nil {
				s.Logger.Error("coldchain alarm", "device", de.st.dev.Key, "event", de.ev.Kind, "err", err)
			}
		}
	}
}

func (s *Service) handleEvent(ctx context.Context, st *devState, ev Event) error {
	st.mu.Lock()
	dev, loc := st.dev, st.loc
	st.mu.Unlock()
	switch ev.Kind {
	case EvExcursion:
		a := &Alarm{MerchantID: dev.MerchantID, LocationID: loc.ID, LocationName: loc.Name, DevicePK: dev.ID, DeviceKey: dev.Key,
			Kind: AlarmExcursion, Rule: ev.Rule, Class: loc.Class, StartedAt: time.UnixMilli(ev.From).UTC(), DetectedAt: s.Now(),
			Peak: ev.Peak, BeyondMS: ev.BeyondMS, Status: StatusOpen}
		lots, err := s.lotsAt(ctx, loc)
		if err != nil {
			s.Logger.Error("coldchain lots at location", "location", loc.ID, "err", err)
		}
		a.Lots = lots
		// The alarm and the lots it affects appear together; holding follows.
		if err := s.Store.CreateAlarm(ctx, a); err != nil {
			return err
		}
		st.mu.Lock()
		st.openAlarm = a.ID
		st.mu.Unlock()
		reason := holdReason(a)
		for i := range lots {
			if s.Holder == nil {
				continue
			}
			if info, err := s.Store.LotInfo(ctx, dev.MerchantID, lots[i].LotID); err == nil && info.Hold && !IsColdChainHold(info.HoldReason) {
				// Held for another reason (a recall, say): leave that hold
				// alone, so releasing this alarm cannot lift it.
				continue
			}
			if err := s.Holder.HoldLot(ctx, dev.MerchantID, lots[i].LotID, reason); err != nil {
				s.Logger.Error("coldchain hold lot", "lot", lots[i].LotID, "err", err)
				continue
			}
			lots[i].Held = true
		}
		if err := s.Store.AddAlarmLots(ctx, dev.MerchantID, a.ID, lots); err != nil {
			return err
		}
		a.Lots = lots
		s.notify(a)
	case EvCleared:
		st.mu.Lock()
		id := st.openAlarm
		st.openAlarm = 0
		st.mu.Unlock()
		if id == 0 {
			return nil
		}
		if err := s.Store.ClearAlarm(ctx, dev.MerchantID, id, time.UnixMilli(ev.TS).UTC()); err != nil {
			return err
		}
		s.notifyID(ctx, dev.MerchantID, id)
	case EvGap:
		st.mu.Lock()
		id := st.missingAlarm
		st.missingAlarm = 0
		st.mu.Unlock()
		if id == 0 {
			a := &Alarm{MerchantID: dev.MerchantID, LocationID: loc.ID, LocationName: loc.Name, DevicePK: dev.ID, DeviceKey: dev.Key,
				Kind: AlarmMissingData, Rule: RuleGap, Class: loc.Class, StartedAt: time.UnixMilli(ev.From).UTC(), DetectedAt: s.Now(), Status: StatusOpen}
			if err := s.Store.CreateAlarm(ctx, a); err != nil {
				return err
			}
			id = a.ID
		}
		if err := s.Store.ClearAlarm(ctx, dev.MerchantID, id, time.UnixMilli(ev.TS).UTC()); err != nil {
			return err
		}
		s.notifyID(ctx, dev.MerchantID, id)
	}
	return nil
}

// IsColdChainHold says whether a lot's hold reason is one the cold chain
// placed for review (冷链复核中…), as opposed to a hold staff placed or a
// destroyed lot, which no cold-chain decision may lift.
func IsColdChainHold(reason string) bool { return strings.HasPrefix(reason, "冷链复核中") }

func holdReason(a *Alarm) string {
	what := "超过硬限值累计超时"
	if a.Rule == RuleCritical {
		what = "超过临界温度"
	}
	return fmt.Sprintf("冷链复核中：%s %s（峰值 %.1f℃）· cold chain under review", a.LocationName, what, a.Peak)
}

func (s *Service) notify(a *Alarm) {
	if s.OnAlarm != nil {
		s.OnAlarm(a)
	}
}

func (s *Service) notifyID(ctx context.Context, merchantID, id int64) {
	if s.OnAlarm == nil {
		return
	}
	if a, err := s.Store.Alarm(ctx, merchantID, id); err == nil {
		s.OnAlarm(a)
	}
}

// CheckMissing opens a missing-data alarm for every device silent for
// longer than its profile's MaxGap. The alarm clears when data comes back
// (the evaluator reports the gap).
func (s *Service) CheckMissing(ctx context.Context) {
	now := s.Now().UnixMilli()
	s.mu.RLock()
	var due []*devState
	for _, st := range s.byKey {
		st.mu.Lock()
		if st.lastSeen > 0 && st.missingAlarm == 0 && now-st.lastSeen > st.eval.P.MaxGap.Milliseconds() {
			due = append(due, st)
		}
		st.mu.Unlock()
	}
	s.mu.RUnlock()
	for _, st := range due {
		st.mu.Lock()
		dev, loc, from := st.dev, st.loc, st.lastSeen
		st.mu.Unlock()
		a := &Alarm{MerchantID: dev.MerchantID, LocationID: loc.ID, LocationName: loc.Name, DevicePK: dev.ID, DeviceKey: dev.Key,
			Kind: AlarmMissingData, Rule: RuleGap, Class: loc.Class, StartedAt: time.UnixMilli(from).UTC(), DetectedAt: s.Now(), Status: StatusOpen}
		if err := s.Store.CreateAlarm(ctx, a); err != nil {
			s.Logger.Error("coldchain missing data alarm", "device", dev.Key, "err", err)
			continue
		}
		st.mu.Lock()
		st.missingAlarm = a.ID
		st.mu.Unlock()
		s.notify(a)
	}
}

// CreateLocation validates and stores a location.
func (s *Service) CreateLocation(ctx context.Context, l *Location) error {
	if err := l.Validate(); err != nil {
		return err
	}
	return s.Store.CreateLocation(ctx, l)
}

// CreateDevice registers a sensor and returns its token (shown once).
func (s *Service) CreateDevice(ctx context.Context, d *Device) (string, error) {
	s.startOnce.Do(s.defaults)
	if err := d.Validate(); err != nil {
		return "", err
	}
	loc, err := s.Store.Location(ctx, d.MerchantID, d.LocationID)
	if err != nil {
		return "", apperr.ErrInvalidLocation.With("位置不存在", "Unknown location.")
	}
	token, hash := NewDeviceToken()
	d.TokenHash = hash
	if err := s.Store.CreateDevice(ctx, d); err != nil {
		if errors.Is(err, apperr.ErrConflict) {
			return "", apperr.InvalidField("device_id", "device_id_taken", "设备编号已被使用", "This device id is taken.")
		}
		return "", err
	}
	_, slugs, err := s.Store.AllDevices(ctx)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	if s.byKey == nil {
		s.byKey, s.byHash = map[string]*devState{}, map[string]*devState{}
	}
	s.registerLocked(*d, slugs[d.MerchantID], *loc)
	s.mu.Unlock()
	return token, nil
}

// Resolve records a quality decision on an excursion alarm: release makes
// the lots sellable again (unless another undecided excursion still holds
// them); destroy writes their stock off. Both are recorded as EPCIS
// ObjectEvents with a disposition when an EPCIS store is wired.
func (s *Service) Resolve(ctx context.Context, merchantID, alarmID int64, decision, by, note string) (*Alarm, error) {
	a, err := s.Store.Alarm(ctx, merchantID, alarmID) // first: another tenant's alarm is "not found", whatever the body
	if err != nil {
		return nil, err
	}
	if decision != DecisionRelease && decision != DecisionDestroy {
		return nil, ErrBadDecision
	}
	if len([]rune(note)) > 500 {
		return nil, apperr.InvalidField("note", "invalid_note", "备注最多500字", "Note is at most 500 characters.")
	}
	if a.Kind != AlarmExcursion {
		return nil, ErrNotExcursion
	}
	if a.Decision != "" {
		return nil, ErrAlreadyDecided
	}
	if a.Status == StatusOpen && decision == DecisionRelease {
		return nil, ErrStillOutOfRange
	}
	now := s.Now()
	if err := s.Store.DecideAlarm(ctx, merchantID, alarmID, decision, by, note, now); err != nil {
		return nil, err
	}
	loc, _ := s.Store.Location(ctx, merchantID, a.LocationID)
	for _, l := range a.Lots {
		info, err := s.Store.LotInfo(ctx, merchantID, l.LotID)
		if err != nil {
			return nil, err
		}
		switch decision {
		case DecisionRelease:
			others, err := s.Store.OtherUndecidedAlarms(ctx, merchantID, l.LotID, alarmID)
			if err != nil {
				return nil, err
			}
			// Only a hold the cold chain placed is lifted here.
			if l.Held && others == 0 && s.Holder != nil && info.Hold && IsColdChainHold(info.HoldReason) {
				if err := s.Holder.ReleaseLot(ctx, merchantID, l.LotID, "冷链复核放行 · released after cold-chain review"); err != nil {
					return nil, err
				}
			}
		case DecisionDestroy:
			if _, err := s.Store.WriteOffLot(ctx, merchantID, l.LotID); err != nil {
				return nil, err
			}
			if s.Holder != nil {
				if err := s.Holder.HoldLot(ctx, merchantID, l.LotID, "冷链不合格已销毁 · destroyed after cold-chain review"); err != nil {
					return nil, err
				}
			}
		}
		if s.Events != nil {
			if err := RecordDecision(ctx, s.Events, info, loc, decision, now, alarmID); err != nil {
				return nil, fmt.Errorf("resolve: epcis: %w", err)
			}
		}
	}
	out, err := s.Store.Alarm(ctx, merchantID, alarmID)
	if err == nil {
		s.notify(out)
	}
	return out, err
}
