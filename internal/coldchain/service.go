package coldchain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
// It is long because replay and reconciliation walk the same devices and
// alarms in one pass.
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

// CreateLocation validates and stores a location.
func (s *Service) CreateLocation(ctx context.Context, l *Location) error {
	if err := l.Validate(); err != nil {
		return err
	}
	return s.Store.CreateLocation(ctx, l)
}

// ErrDeviceIDTaken refuses a device id another device has.
var ErrDeviceIDTaken = apperr.InvalidField("device_id", "device_id_taken", "设备编号已被使用", "This device id is taken.")

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
			return "", ErrDeviceIDTaken
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
