package coldchain

import (
	"math"
	"time"
)

// Profile is the temperature rule set of a storage class. Target is where
// the food should be; beyond Hard it starts to spoil, and spending more than
// HardFor there (summed over one episode) is an excursion; beyond Critical
// one reading is enough. An episode ends only after ClearAfter continuously
// back in the target range (hysteresis), so a fridge flapping around the
// limit keeps accumulating instead of resetting every time it dips back.
// Gaps longer than MaxGap are unknown time: flagged, never counted as in
// range.
type Profile struct {
	Class       string        `json:"storage_class"`
	TargetMin   float64       `json:"-"`
	TargetMax   float64       `json:"-"`
	HardMin     float64       `json:"-"`
	HardMax     float64       `json:"-"`
	HardFor     time.Duration `json:"-"`
	CriticalMin float64       `json:"-"`
	CriticalMax float64       `json:"-"`
	ClearAfter  time.Duration `json:"-"`
	MaxGap      time.Duration `json:"-"`
}

var inf = math.Inf(1)

// Profiles by storage class. Chilled: 0–4 °C target, above 8 °C for more
// than 30 min (cumulative) or above 12 °C at once is an excursion; below
// −2 °C it freezes. Frozen: ≤ −18 °C, above −18 °C for 30 min cumulative or
// above −15 °C at once. Ambient: 5–25 °C, above 30 °C for 2 h or 40 °C at
// once.
var Profiles = map[string]Profile{
	"chilled": {Class: "chilled", TargetMin: 0, TargetMax: 4, HardMin: -2, HardMax: 8, HardFor: 30 * time.Minute,
		CriticalMin: -5, CriticalMax: 12, ClearAfter: 10 * time.Minute, MaxGap: 10 * time.Minute},
	"frozen": {Class: "frozen", TargetMin: -inf, TargetMax: -18, HardMin: -inf, HardMax: -18, HardFor: 30 * time.Minute,
		CriticalMin: -inf, CriticalMax: -15, ClearAfter: 10 * time.Minute, MaxGap: 10 * time.Minute},
	"ambient": {Class: "ambient", TargetMin: 5, TargetMax: 25, HardMin: 0, HardMax: 30, HardFor: 2 * time.Hour,
		CriticalMin: -5, CriticalMax: 40, ClearAfter: 10 * time.Minute, MaxGap: 10 * time.Minute},
}

// ProfileOf returns the profile of a storage class (ambient when unknown).
func ProfileOf(class string) Profile {
	if p, ok := Profiles[class]; ok {
		return p
	}
	return Profiles["ambient"]
}

// Limits is a profile as the chart and the API see it: only finite bounds.
type Limits struct {
	Class       string   `json:"storage_class"`
	TargetMin   *float64 `json:"target_min,omitempty"`
	TargetMax   *float64 `json:"target_max,omitempty"`
	HardMin     *float64 `json:"hard_min,omitempty"`
	HardMax     *float64 `json:"hard_max,omitempty"`
	HardForMin  int      `json:"hard_for_min"`
	CriticalMin *float64 `json:"critical_min,omitempty"`
	CriticalMax *float64 `json:"critical_max,omitempty"`
}

// Limits returns the finite bounds of the profile.
func (p Profile) Limits() Limits {
	f := func(v float64) *float64 {
		if math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	return Limits{Class: p.Class, TargetMin: f(p.TargetMin), TargetMax: f(p.TargetMax), HardMin: f(p.HardMin), HardMax: f(p.HardMax),
		HardForMin: int(p.HardFor / time.Minute), CriticalMin: f(p.CriticalMin), CriticalMax: f(p.CriticalMax)}
}

func (p Profile) beyondHard(t float64) bool     { return t > p.HardMax || t < p.HardMin }
func (p Profile) beyondCritical(t float64) bool { return t > p.CriticalMax || t < p.CriticalMin }
func (p Profile) inTarget(t float64) bool       { return t >= p.TargetMin && t <= p.TargetMax }

// Event kinds the evaluator emits.
const (
	EvExcursion = "excursion" // an alarm must open now
	EvCleared   = "cleared"   // the alarmed episode ended (hysteresis satisfied)
	EvGap       = "gap"       // data was missing between From and TS
)

// Event is what one reading changed.
type Event struct {
	Kind     string
	Rule     string // for EvExcursion
	TS       int64  // when it was decided (the reading's time)
	From     int64  // episode start (excursion) or gap start
	Peak     float64
	BeyondMS int64
}

// Evaluator runs the excursion rules over one device's readings in time
// order. It is a small value with no locks: the caller serialises calls per
// device. Each reading's value holds until the next reading (sample and
// hold), unless the next one comes after more than MaxGap.
type Evaluator struct {
	P Profile

	has        bool
	lastTS     int64
	lastT      float64
	episode    bool
	epStart    int64
	beyondMS   int64
	peak       float64
	alarmed    bool
	inRangeAt  int64 // start of the current stretch back in target during an episode; 0 = not in range
	inRangeSet bool
}

// Alarmed reports whether the current episode raised an alarm that has not
// cleared yet.
func (e *Evaluator) Alarmed() bool { return e.alarmed }

// Episode reports whether the device is in an excursion episode (beyond
// the hard limits, not yet back in range for ClearAfter).
func (e *Evaluator) Episode() bool { return e.episode }

// MarkAlarmed records that the current episode already has an alarm (one
// raised before a restart), so it is not raised twice.
func (e *Evaluator) MarkAlarmed() {
	if e.episode {
		e.alarmed = true
	}
}

// LastTS is the time of the last reading evaluated (0 before any).
func (e *Evaluator) LastTS() int64 { return e.lastTS }

// Add evaluates one reading and appends what it changed to out. Readings
// at or before the last one evaluated (duplicates, late arrivals) are
// stored by the caller but do not move the state machine.
func (e *Evaluator) Add(ts int64, t float64, out []Event) []Event {
	if math.IsNaN(t) || math.IsInf(t, 0) {
		return out
	}
	p := e.P
	if e.has {
		if ts <= e.lastTS {
			return out
		}
		dt := ts - e.lastTS
		if dt > p.MaxGap.Milliseconds() {
			out = append(out, Event{Kind: EvGap, TS: ts, From: e.lastTS})
			e.inRangeSet = false // nobody knows it stayed in range
		} else if e.episode && p.beyondHard(e.lastT) {
			e.beyondMS += dt
		}
	}
	e.has, e.lastTS, e.lastT = true, ts, t
	switch {
	case p.beyondHard(t) || p.beyondCritical(t):
		if !e.episode {
			e.episode, e.epStart, e.beyondMS, e.peak, e.alarmed = true, ts, 0, t, false
		}
		if math.Abs(t-mid(p)) > math.Abs(e.peak-mid(p)) {
			e.peak = t
		}
		e.inRangeSet = false
	case e.episode && p.inTarget(t):
		if !e.inRangeSet {
			e.inRangeSet, e.inRangeAt = true, ts
		}
	default:
		e.inRangeSet = false
	}
	if e.episode && !e.alarmed {
		rule := ""
		if p.beyondCritical(t) {
			rule = RuleCritical
		} else if e.beyondMS > p.HardFor.Milliseconds() {
			rule = RuleCumulative
		}
		if rule != "" {
			e.alarmed = true
			out = append(out, Event{Kind: EvExcursion, Rule: rule, TS: ts, From: e.epStart, Peak: e.peak, BeyondMS: e.beyondMS})
		}
	}
	if e.episode && e.inRangeSet && ts-e.inRangeAt >= p.ClearAfter.Milliseconds() {
		if e.alarmed {
			out = append(out, Event{Kind: EvCleared, TS: ts, From: e.epStart, Peak: e.peak, BeyondMS: e.beyondMS})
		}
		e.episode, e.alarmed, e.inRangeSet, e.beyondMS = false, false, false, 0
	}
	return out
}

// mid is the middle of the target range, to tell which extreme is worse.
func mid(p Profile) float64 {
	lo, hi := p.TargetMin, p.TargetMax
	if math.IsInf(lo, -1) {
		lo = hi - 10
	}
	return (lo + hi) / 2
}
