package coldchain

import (
	"encoding/binary"
	"errors"
	"math"
	"sort"
)

// DeltaHOverR is ΔH/R of the mean kinetic temperature formula in kelvin:
// the conventional activation energy ΔH = 83.144 kJ/mol divided by the gas
// constant R = 8.3144 J/(mol·K) (USP <1079.2>, ICH Q1A).
const DeltaHOverR = 10000.0

// Arrhenius is exp(-ΔH/(R·T)) for a temperature in °C: the weight MKT
// averages. Rollups keep its sum so MKT over years needs no raw data.
func Arrhenius(c float64) float64 { return math.Exp(-DeltaHOverR / (c + 273.15)) }

// MKT returns the mean kinetic temperature (°C) of equally weighted
// samples: ΔH/R / −ln(mean(exp(−ΔH/RT))) − 273.15.
func MKT(temps []float64) float64 {
	if len(temps) == 0 {
		return math.NaN()
	}
	var s float64
	for _, t := range temps {
		s += Arrhenius(t)
	}
	return MKTFromSum(s, float64(len(temps)))
}

// MKTFromSum is MKT from a sum of Arrhenius weights over n samples
// (time-weighted when each sample stands for the same duration).
func MKTFromSum(sumArrh, n float64) float64 {
	if n <= 0 || sumArrh <= 0 {
		return math.NaN()
	}
	return DeltaHOverR/(-math.Log(sumArrh/n)) - 273.15
}

// Exposure summarises a series against a profile: what a quality reviewer
// and the public verdict need. Durations are in milliseconds.
type Exposure struct {
	Samples     int     `json:"samples"`
	CoveredMS   int64   `json:"covered_ms"`    // time with data (each sample holds until the next, up to MaxGap)
	UnknownMS   int64   `json:"unknown_ms"`    // gaps longer than MaxGap
	OutTargetMS int64   `json:"out_target_ms"` // outside the target range
	BeyondMS    int64   `json:"beyond_ms"`     // beyond the hard limits
	Critical    bool    `json:"critical"`      // any sample beyond the critical limits
	Min         float64 `json:"min"`
	Max         float64 `json:"max"`
	MKT         float64 `json:"mkt"` // time-weighted mean kinetic temperature, °C
}

// Accumulator folds time-ordered series into an Exposure; a lot's exposure
// is the sum over every stay of the lot (one Accumulator, several series).
type Accumulator struct {
	P       Profile
	e       Exposure
	arrhMS  float64
	started bool
}

// AddSeries folds one location's points in [from, to). The last point holds
// until min(next, to, +MaxGap); before the first point is unknown.
func (a *Accumulator) AddSeries(pts []Point, from, to int64) {
	if !a.started {
		a.e.Min, a.e.Max = math.Inf(1), math.Inf(-1)
		a.started = true
	}
	gap := a.P.MaxGap.Milliseconds()
	if len(pts) == 0 {
		if to > from {
			a.e.UnknownMS += to - from
		}
		return
	}
	if pts[0].TS > from {
		a.e.UnknownMS += pts[0].TS - from
	}
	for i, pt := range pts {
		end := to
		if i+1 < len(pts) {
			end = pts[i+1].TS
		}
		start := max(pt.TS, from)
		if end <= start {
			continue
		}
		dt := end - start
		if dt > gap {
			a.e.UnknownMS += dt - gap
			dt = gap
		}
		a.add(pt.Temp, dt)
	}
}

// AddRollups folds 5-minute aggregates (used when raw readings aged out):
// each bucket counts as RollupPeriod at its mean, and its max/min decide
// the critical flag and the extremes.
func (a *Accumulator) AddRollups(rs []Rollup) {
	if !a.started {
		a.e.Min, a.e.Max = math.Inf(1), math.Inf(-1)
		a.started = true
	}
	for _, r := range rs {
		if r.N == 0 {
			continue
		}
		a.add(r.Avg(), RollupPeriod.Milliseconds())
		a.e.Samples += int(r.N) - 1
		a.e.Min, a.e.Max = math.Min(a.e.Min, r.Min), math.Max(a.e.Max, r.Max)
		if a.P.beyondCritical(r.Max) || a.P.beyondCritical(r.Min) {
			a.e.Critical = true
		}
	}
}

func (a *Accumulator) add(t float64, dt int64) {
	a.e.Samples++
	a.e.CoveredMS += dt
	a.arrhMS += Arrhenius(t) * float64(dt)
	a.e.Min, a.e.Max = math.Min(a.e.Min, t), math.Max(a.e.Max, t)
	if !a.P.inTarget(t) {
		a.e.OutTargetMS += dt
	}
	if a.P.beyondHard(t) {
		a.e.BeyondMS += dt
	}
	if a.P.beyondCritical(t) {
		a.e.Critical = true
	}
}

// Result returns the summary so far.
func (a *Accumulator) Result() Exposure {
	e := a.e
	if e.CoveredMS > 0 {
		e.MKT = round2(MKTFromSum(a.arrhMS, float64(e.CoveredMS)))
	} else {
		e.MKT, e.Min, e.Max = 0, 0, 0
	}
	return e
}

// Verdict is the plain judgement of a lot's cold chain.
const (
	VerdictHeld    = "held"    // 全程冷链达标
	VerdictBroken  = "broken"  // an excursion: time beyond the hard limit over the allowed duration, or critical
	VerdictGaps    = "gaps"    // in range where measured, but data is missing for a while
	VerdictNoData  = "no_data" // no sensor covered the lot
	VerdictHeldNow = "on_hold" // on hold for review
	// VerdictReleased: an excursion happened and every one was released
	// by quality review (the page says both, not "broken" beside "released").
	VerdictReleased = "released"
)

// Judge turns an exposure into a verdict for the profile.
func Judge(p Profile, e Exposure) string {
	switch {
	case e.Samples == 0:
		return VerdictNoData
	case e.Critical || e.BeyondMS > p.HardFor.Milliseconds():
		return VerdictBroken
	case e.UnknownMS > p.MaxGap.Milliseconds()*3:
		return VerdictGaps
	}
	return VerdictHeld
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// Chunk encoding: a device's readings from one flush, sorted by time,
// stored as one row. Times are varint deltas in ms, temperatures are
// zigzag varint deltas in hundredths of a degree, humidity is tenths of a
// percent plus one (0 = none). A reading costs ~4 bytes instead of a row.

// EncodeChunk sorts rs by time (in place) and encodes them.
func EncodeChunk(rs []Reading) []byte {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].TS < rs[j].TS })
	b := make([]byte, 0, 8+len(rs)*5)
	b = binary.AppendUvarint(b, uint64(len(rs)))
	var lastTS, lastT int64
	for i, r := range rs {
		if i == 0 {
			b = binary.AppendVarint(b, r.TS)
		} else {
			b = binary.AppendUvarint(b, uint64(r.TS-lastTS))
		}
		ct := int64(math.Round(r.Temp * 100))
		b = binary.AppendVarint(b, ct-lastT)
		h := uint64(0)
		if !math.IsNaN(r.Hum) && r.Hum >= 0 {
			h = uint64(math.Round(r.Hum*10)) + 1
		}
		b = binary.AppendUvarint(b, h)
		lastTS, lastT = r.TS, ct
	}
	return b
}

var errChunk = errors.New("coldchain: corrupt chunk")

// DecodeChunk appends the points of a chunk to out.
func DecodeChunk(b []byte, out []Point) ([]Point, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return out, errChunk
	}
	b = b[k:]
	var ts, ct int64
	for i := uint64(0); i < n; i++ {
		if i == 0 {
			v, k := binary.Varint(b)
			if k <= 0 {
				return out, errChunk
			}
			ts, b = v, b[k:]
		} else {
			v, k := binary.Uvarint(b)
			if k <= 0 {
				return out, errChunk
			}
			ts, b = ts+int64(v), b[k:]
		}
		d, k := binary.Varint(b)
		if k <= 0 {
			return out, errChunk
		}
		ct, b = ct+d, b[k:]
		h, k := binary.Uvarint(b)
		if k <= 0 {
			return out, errChunk
		}
		b = b[k:]
		hum := math.NaN()
		if h > 0 {
			hum = float64(h-1) / 10
		}
		out = append(out, Point{TS: ts, Temp: float64(ct) / 100, Hum: hum})
	}
	return out, nil
}
