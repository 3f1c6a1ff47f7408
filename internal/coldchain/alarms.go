package coldchain

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
)

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
			if err := s.holdAt(ctx, dev.MerchantID, lots[i].LotID, &loc, reason); err != nil {
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

// ErrInvalidNote refuses a resolution note over 500 characters.
var ErrInvalidNote = apperr.InvalidField("note", "invalid_note", "备注最多500字", "Note is at most 500 characters.")

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
		return nil, ErrInvalidNote
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
			// Only a hold the cold chain placed is lifted here: the store's
			// (an excursion at a store's fridge holds only there), or the
			// lot's when it still carries the cold chain's reason.
			storeScoped := loc != nil && loc.StoreID != 0
			if _, ok := s.Holder.(StoreHolder); !ok {
				storeScoped = false
			}
			if l.Held && others == 0 && s.Holder != nil && (storeScoped || (info.Hold && IsColdChainHold(info.HoldReason))) {
				if err := s.releaseAt(ctx, merchantID, l.LotID, loc, "冷链复核放行 · released after cold-chain review"); err != nil {
					return nil, err
				}
			}
		case DecisionDestroy:
			// Destroyed where the cold chain broke: the store's units when
			// the location is a store's, else the whole lot.
			var at int64
			if _, ok := s.Holder.(StoreHolder); ok && loc != nil {
				at = loc.StoreID
			}
			if _, err := s.Store.WriteOffLot(ctx, merchantID, l.LotID, at); err != nil {
				return nil, err
			}
			if s.Holder != nil {
				if err := s.holdAt(ctx, merchantID, l.LotID, loc, "冷链不合格已销毁 · destroyed after cold-chain review"); err != nil {
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
