package coldchain_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/coldchain"
)

const min = int64(time.Minute / time.Millisecond)

// sample is (minute, °C).
type sample struct {
	m int64
	t float64
}

// every returns samples each minute from m0 to m1 inclusive at t.
func every(m0, m1 int64, t float64) []sample {
	var out []sample
	for m := m0; m <= m1; m++ {
		out = append(out, sample{m, t})
	}
	return out
}

func cat(parts ...[]sample) []sample {
	var out []sample
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// got is an event reduced to what the table compares: kind, rule, minute.
type got struct {
	Kind string
	Rule string
	At   int64 // minute of the reading that decided it
	From int64 // minute the episode / gap started
}

func run(p coldchain.Profile, ss []sample) []got {
	e := coldchain.Evaluator{P: p}
	var out []got
	for _, s := range ss {
		for _, ev := range e.Add(s.m*min, s.t, nil) {
			out = append(out, got{ev.Kind, ev.Rule, ev.TS / min, ev.From / min})
		}
	}
	return out
}

func TestEvaluatorRules(t *testing.T) {
	chilled, frozen, ambient := coldchain.Profiles["chilled"], coldchain.Profiles["frozen"], coldchain.Profiles["ambient"]
	tests := []struct {
		name string
		p    coldchain.Profile
		in   []sample
		want []got
	}{
		{"OKInTarget", chilled, every(0, 120, 3), nil},
		{"OKBetweenTargetAndHard", chilled, every(0, 120, 6.5), nil}, // out of target, not beyond the hard limit
		{"OKAboveHardFor30MinExactly", chilled, cat(every(0, 9, 3), every(10, 39, 9), every(40, 60, 3)), nil},
		{"CumulativeAbove8For31Min", chilled, cat(every(0, 9, 3), every(10, 41, 9), every(42, 60, 3)),
			[]got{{"excursion", "cumulative", 41, 10}, {"cleared", "", 52, 10}}},
		{"CriticalAbove12AtOnce", chilled, cat(every(0, 4, 3), []sample{{5, 12.5}}, every(6, 30, 3)),
			[]got{{"excursion", "critical", 5, 5}, {"cleared", "", 16, 5}}},
		{"CriticalTooColdFreezes", chilled, cat(every(0, 4, 2), []sample{{5, -6}}, every(6, 20, 2)),
			[]got{{"excursion", "critical", 5, 5}, {"cleared", "", 16, 5}}},
		// Spikes of 20 min separated by 5 min back in range: the episode does not
		// end (hysteresis 10 min), so the time above 8 °C adds up to > 30 min.
		{"HysteresisAccumulatesFlapping", chilled, cat(every(0, 19, 9), every(20, 24, 3), every(25, 44, 9), every(45, 70, 3)),
			[]got{{"excursion", "cumulative", 36, 0}, {"cleared", "", 55, 0}}},
		// The same spikes 15 min apart: each episode ends before the next.
		{"HysteresisResetsAfterClearTime", chilled, cat(every(0, 19, 9), every(20, 34, 3), every(35, 54, 9), every(55, 80, 3)), nil},
		// Between target and hard (6 °C) is not "back in range": no clearing.
		{"NoClearWhileOutOfTarget", chilled, cat(every(0, 40, 9), every(41, 80, 6)),
			[]got{{"excursion", "cumulative", 31, 0}}},
		{"GapFlagged", chilled, cat(every(0, 10, 3), every(30, 40, 3)), []got{{"gap", "", 30, 10}}},
		// A gap is unknown time: it neither counts above the limit nor as
		// back in range.
		{"GapNotCountedAsBeyond", chilled, cat(every(0, 20, 9), every(40, 49, 9), every(50, 70, 3)),
			[]got{{"gap", "", 40, 20}}},
		{"GapBreaksClearing", chilled, cat(every(0, 40, 9), every(41, 45, 3), every(60, 80, 3)),
			[]got{{"excursion", "cumulative", 31, 0}, {"gap", "", 60, 45}, {"cleared", "", 70, 0}}},
		{"LateReadingIgnored", chilled, cat(every(0, 10, 3), []sample{{5, 30}}, every(11, 20, 3)), nil},
		{"FrozenCriticalAboveMinus15", frozen, cat(every(0, 9, -20), []sample{{10, -14}}, every(11, 30, -19)),
			[]got{{"excursion", "critical", 10, 10}, {"cleared", "", 21, 10}}},
		{"FrozenCumulativeAboveMinus18", frozen, cat(every(0, 9, -20), every(10, 45, -16.5), every(46, 60, -20)),
			[]got{{"excursion", "cumulative", 41, 10}, {"cleared", "", 56, 10}}},
		{"AmbientHotAfternoon", ambient, cat(every(0, 100, 31)), nil},
		{"AmbientHotTooLong", ambient, cat(every(0, 130, 31)), []got{{"excursion", "cumulative", 121, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if g := run(tt.p, tt.in); !reflect.DeepEqual(g, tt.want) {
				t.Fatalf("events = %+v\nwant     %+v", g, tt.want)
			}
		})
	}
}

func TestMKT(t *testing.T) {
	tests := []struct {
		name  string
		temps []float64
		want  float64
	}{
		{"Constant", []float64{5, 5, 5, 5}, 5},
		// MKT weighs warm periods more than the arithmetic mean does:
		// half at 2 °C and half at 12 °C gives ~8.4 °C, not 7.
		{"WarmPeriodsWeighMore", []float64{2, 12}, 8.41},
		{"Frozen", []float64{-18, -20, -19}, -18.97},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := coldchain.MKT(tt.temps); math.Abs(got-tt.want) > 0.02 {
				t.Fatalf("MKT(%v) = %.3f, want %.2f", tt.temps, got, tt.want)
			}
		})
	}
	if !math.IsNaN(coldchain.MKT(nil)) {
		t.Fatal("MKT of nothing must be NaN")
	}
}

func pts(ss []sample) []coldchain.Point {
	var out []coldchain.Point
	for _, s := range ss {
		out = append(out, coldchain.Point{TS: s.m * min, Temp: s.t})
	}
	return out
}

func TestExposure(t *testing.T) {
	chilled := coldchain.Profiles["chilled"]
	tests := []struct {
		name              string
		in                []sample
		from, to          int64 // minutes
		beyond, outTarget int64 // minutes
		unknown           int64
		verdict           string
	}{
		{"Held", every(0, 59, 3), 0, 60, 0, 0, 0, coldchain.VerdictHeld},
		{"TwentyMinutesWarm", cat(every(0, 19, 3), every(20, 39, 9), every(40, 59, 3)), 0, 60, 20, 20, 0, coldchain.VerdictHeld},
		{"FortyMinutesWarm", cat(every(0, 9, 3), every(10, 49, 9), every(50, 59, 3)), 0, 60, 40, 40, 0, coldchain.VerdictBroken},
		{"SixDegrees", every(0, 59, 6), 0, 60, 0, 60, 0, coldchain.VerdictHeld},
		// 10 min at the start before the first reading and a 40 min gap
		// (10 min of it is still covered by the last reading).
		{"Gaps", cat(every(10, 20, 3), every(60, 69, 3)), 0, 70, 0, 0, 10 + 30, coldchain.VerdictGaps},
		{"NoData", nil, 0, 60, 0, 0, 60, coldchain.VerdictNoData},
		{"Critical", cat(every(0, 9, 3), []sample{{10, 13}}, every(11, 59, 3)), 0, 60, 1, 1, 0, coldchain.VerdictBroken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := coldchain.Accumulator{P: chilled}
			a.AddSeries(pts(tt.in), tt.from*min, tt.to*min)
			e := a.Result()
			if e.BeyondMS != tt.beyond*min || e.OutTargetMS != tt.outTarget*min || e.UnknownMS != tt.unknown*min {
				t.Fatalf("beyond %d out %d unknown %d min, want %d %d %d", e.BeyondMS/min, e.OutTargetMS/min, e.UnknownMS/min, tt.beyond, tt.outTarget, tt.unknown)
			}
			if v := coldchain.Judge(chilled, e); v != tt.verdict {
				t.Fatalf("verdict %s, want %s", v, tt.verdict)
			}
		})
	}
}

func TestChunkRoundTrip(t *testing.T) {
	rs := []coldchain.Reading{
		{TS: 1_700_000_060_000, Temp: 3.21, Hum: 71.5},
		{TS: 1_700_000_000_000, Temp: -18.5, Hum: math.NaN()},
		{TS: 1_700_000_030_000, Temp: 12.0, Hum: 0},
	}
	b := coldchain.EncodeChunk(rs)
	if len(b) > 30 {
		t.Fatalf("chunk of 3 readings is %d bytes; want compact", len(b))
	}
	p, err := coldchain.DecodeChunk(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		ts   int64
		t, h float64
	}{{1_700_000_000_000, -18.5, math.NaN()}, {1_700_000_030_000, 12, 0}, {1_700_000_060_000, 3.21, 71.5}}
	for i, w := range want {
		if p[i].TS != w.ts || p[i].Temp != w.t || (math.IsNaN(w.h) != math.IsNaN(p[i].Hum)) || (!math.IsNaN(w.h) && p[i].Hum != w.h) {
			t.Fatalf("point %d = %+v, want %+v", i, p[i], w)
		}
	}
	if _, err := coldchain.DecodeChunk(b[:len(b)-2], nil); err == nil {
		t.Fatal("truncated chunk decoded without error")
	}
}

func TestParseTopicAndPayload(t *testing.T) {
	slug, key, ok := coldchain.ParseTopic("shelflive/demo/devices/fridge-1/telemetry")
	if !ok || slug != "demo" || key != "fridge-1" {
		t.Fatalf("ParseTopic = %q %q %v", slug, key, ok)
	}
	for _, bad := range []string{"shelflive/demo/devices//telemetry", "other/demo/devices/x/telemetry", "shelflive/demo/devices/a/b/telemetry", "shelflive/demo/devices/x"} {
		if _, _, ok := coldchain.ParseTopic(bad); ok {
			t.Errorf("ParseTopic(%q) accepted", bad)
		}
	}
	now := time.UnixMilli(1_800_000_000_000)
	ts, temp, hum, err := coldchain.ParsePayload([]byte(`{"ts": 1799999999000, "values": {"temperature": 3.2, "humidity": 71}}`), now)
	if err != nil || ts != 1799999999000 || temp != 3.2 || hum != 71 {
		t.Fatalf("ParsePayload = %d %v %v %v", ts, temp, hum, err)
	}
	for name, body := range map[string]string{
		"NoTemperature": `{"ts": 1799999999000, "values": {"humidity": 71}}`,
		"Future":        `{"ts": 1800000999000, "values": {"temperature": 3}}`,
		"OutOfRange":    `{"ts": 1799999999000, "values": {"temperature": 300}}`,
		"Humidity":      `{"ts": 1799999999000, "values": {"temperature": 3, "humidity": 120}}`,
		"NotJSON":       `temp=3`,
	} {
		if _, _, _, err := coldchain.ParsePayload([]byte(body), now); err == nil {
			t.Errorf("%s: accepted %s", name, body)
		}
	}
}
