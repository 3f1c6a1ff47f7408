package coldchain

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/trace"
)

// Stay is a stretch of time a lot spent at a watched location, with the
// temperatures measured there.
type Stay struct {
	LocationID int64        `json:"location_id"`
	Location   string       `json:"location"`
	LocationEN string       `json:"location_en,omitempty"`
	Kind       string       `json:"kind"`
	From       time.Time    `json:"from"`
	To         time.Time    `json:"to"`
	Points     [][2]float64 `json:"points"` // [unix ms, °C]; 5-minute means when the stay is long
	Exposure   Exposure     `json:"exposure"`
}

// Step is one step of a lot's public timeline.
type Step struct {
	Stage       string    `json:"stage"`
	BizStep     string    `json:"biz_step,omitempty"`
	Disposition string    `json:"disposition,omitempty"`
	Place       string    `json:"place,omitempty"`
	At          time.Time `json:"at"`
}

// LotReport is the cold-chain evidence of a lot: the quality reviewer's
// chart data and the public trace page's timeline and verdict.
type LotReport struct {
	Lot      LotInfo  `json:"lot"`
	Limits   Limits   `json:"limits"`
	Steps    []Step   `json:"steps"`
	Stays    []Stay   `json:"stays"`
	Exposure Exposure `json:"exposure"`
	Verdict  string   `json:"verdict"`
	Alarms   []Alarm  `json:"alarms"`
}

// maxChartPoints bounds a stay's series; longer stays use 5-minute means.
const maxChartPoints = 1500

// LotReport builds a lot's evidence: stays from EPCIS events (bizLocations
// matched to watched locations by GLN) and from the stores that hold the
// lot's stock now; the readings of each stay; the exposure summed over
// stays (MKT, time out of range, unknown time); and its alarms.
func (s *Service) LotReport(ctx context.Context, merchantID, lotID int64) (*LotReport, error) {
	s.startOnce.Do(s.defaults)
	info, err := s.Store.LotInfo(ctx, merchantID, lotID)
	if err != nil {
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, ErrLotNotFound
		}
		return nil, err
	}
	p := ProfileOf(info.Class)
	now := s.Now()
	rep := &LotReport{Lot: *info, Limits: p.Limits(), Steps: []Step{}, Stays: []Stay{}, Alarms: []Alarm{}}

	// 1. Where the EPCIS events put the lot, and the steps they tell.
	spans, epcisEnd, hasOrigin, err := s.epcisSpans(ctx, merchantID, info, now, rep)
	if err != nil {
		return nil, err
	}
	if !hasOrigin {
		rep.Steps = append(rep.Steps, Step{Stage: trace.StageOrigin, Place: info.Origin, At: info.ProducedAt})
	}
	// 2. The stores that hold the lot's stock now and no event placed it in.
	storeLocs, err := s.Store.LocationsForLot(ctx, merchantID, lotID)
	if err != nil {
		return nil, err
	}
	covered := map[int64]bool{}
	for _, sp := range spans {
		covered[sp.loc.ID] = true
	}
	for _, l := range storeLocs {
		if covered[l.ID] {
			continue
		}
		spans = append(spans, lotSpan{l, epcisEnd, now})
		rep.Steps = append(rep.Steps, Step{Stage: trace.StageStore, Place: l.Name, At: epcisEnd})
	}
	sort.SliceStable(rep.Steps, func(i, j int) bool { return rep.Steps[i].At.Before(rep.Steps[j].At) })

	// 3. The readings of each stay and the exposure over all of them.
	total := Accumulator{P: p}
	for _, sp := range spans {
		stay, err := s.stay(ctx, merchantID, p, sp, &total)
		if err != nil {
			return nil, err
		}
		rep.Stays = append(rep.Stays, stay)
	}
	rep.Exposure = total.Result()
	rep.Verdict = Judge(p, rep.Exposure)

	// 4. The alarms, and what their decisions make of the verdict.
	alarms, err := s.Store.Alarms(ctx, AlarmFilter{MerchantID: merchantID, LotID: lotID, Limit: 100})
	if err != nil {
		return nil, err
	}
	rep.Alarms = append(rep.Alarms, alarms...)
	rep.Verdict = verdictWithAlarms(rep.Verdict, alarms, info.Hold)
	return rep, nil
}

// lotSpan is a time the lot spent at one watched location.
type lotSpan struct {
	loc      Location
	from, to time.Time
}

// epcisSpans reads the lot's EPCIS history: it appends a step to rep for
// each event and returns the stays at watched locations (matched by GLN),
// the time of the last event that moved the lot (the lot's production when
// there is none), and whether an event told the lot's origin.
func (s *Service) epcisSpans(ctx context.Context, merchantID int64, info *LotInfo, now time.Time, rep *LotReport) (spans []lotSpan, epcisEnd time.Time, hasOrigin bool, err error) {
	epcisEnd = info.ProducedAt
	if s.Events == nil || info.GTIN == "" {
		return nil, epcisEnd, false, nil
	}
	h, err := (&trace.Service{Events: s.Events}).LotTrace(ctx, merchantID, info.GTIN, info.Code)
	if err != nil && !errors.Is(err, trace.ErrLotNotFound) {
		return nil, epcisEnd, false, err
	}
	if h == nil {
		return nil, epcisEnd, false, nil
	}
	var glns []string
	for _, st := range h.Steps {
		if st.Event.BizLocation != "" {
			glns = append(glns, st.Event.BizLocation)
		}
	}
	locs, err := s.Store.LocationsByGLN(ctx, merchantID, glns)
	if err != nil {
		return nil, epcisEnd, false, err
	}
	byGLN := map[string]Location{}
	for _, l := range locs {
		byGLN[l.GLN] = l
	}
	for i, st := range h.Steps {
		ev := st.Event
		place := ""
		if l, ok := byGLN[ev.BizLocation]; ok {
			place = l.Name
		} else if ev.BizLocation != "" {
			place = shortID(ev.BizLocation)
		}
		stage := st.Stage
		if l, ok := byGLN[ev.BizLocation]; ok && l.StoreID != 0 && (stage == trace.StageTransport || stage == trace.StageStorage) {
			stage = trace.StageStore // received into a store's fridge: the lot is in the shop
		}
		if stage == trace.StageOrigin {
			hasOrigin = true
			if place == "" || strings.HasPrefix(place, "GLN ") {
				place = strings.TrimSpace(info.Origin + " " + place)
			}
		}
		rep.Steps = append(rep.Steps, Step{Stage: stage, BizStep: lastPart(ev.BizStep), Disposition: lastPart(ev.Disposition), Place: place, At: ev.EventTime})
		if stage == trace.StageQuality || stage == trace.StageEnd {
			// An inspection or a disposal (a quality decision on the
			// lot) happens where the lot is; it does not move it. Taken
			// as an arrival, a release would start the lot's stay at
			// the release and drop the excursion it was about from the
			// chart and the verdict.
			continue
		}
		if ev.EventTime.After(epcisEnd) {
			epcisEnd = ev.EventTime
		}
		l, ok := byGLN[ev.BizLocation]
		if !ok {
			continue
		}
		if len(spans) > 0 && spans[len(spans)-1].loc.ID == l.ID {
			continue // still there
		}
		spans = append(spans, lotSpan{l, ev.EventTime, stayEnd(ev, h.Steps[i+1:], now)})
	}
	return spans, epcisEnd, hasOrigin, nil
}

// stayEnd is when the lot left where ev put it: the time of the first later
// event elsewhere in next, or now. Events at the same time elsewhere are the
// lot split (received into several stores at once), and quality decisions
// do not move it.
func stayEnd(ev trace.Event, next []trace.LotStep, now time.Time) time.Time {
	for _, nx := range next {
		if nx.Stage == trace.StageQuality || nx.Stage == trace.StageEnd || !nx.Event.EventTime.After(ev.EventTime) {
			continue
		}
		if nx.Event.BizLocation != "" && nx.Event.BizLocation != ev.BizLocation {
			return nx.Event.EventTime
		}
	}
	return now
}

// stay reads one span's readings (rollups where the raw readings have
// aged out) into its chart and exposure, and adds them to total.
func (s *Service) stay(ctx context.Context, merchantID int64, p Profile, sp lotSpan, total *Accumulator) (Stay, error) {
	from, to := sp.from.UnixMilli(), sp.to.UnixMilli()
	stay := Stay{LocationID: sp.loc.ID, Location: sp.loc.Name, LocationEN: sp.loc.NameEN, Kind: sp.loc.Kind, From: sp.from, To: sp.to, Points: [][2]float64{}}
	acc := Accumulator{P: p}
	raw, err := s.Store.Points(ctx, merchantID, []int64{sp.loc.ID}, from, to)
	if err != nil {
		return Stay{}, err
	}
	pts := raw[sp.loc.ID]
	// Before a location was watched there is nothing to miss: the stay
	// counts from when monitoring began there (the location's creation,
	// or its first reading if a logger uploaded older data).
	if watched := sp.loc.CreatedAt.UnixMilli(); watched > from {
		if len(pts) > 0 && pts[0].TS < watched {
			watched = pts[0].TS
		}
		from = min(watched, to)
	}
	rawFrom := from
	if len(pts) > 0 {
		rawFrom = pts[0].TS
	}
	// Older than the raw retention: the rollups stand in.
	if rawFrom > from {
		rolls, err := s.Store.Rollups(ctx, merchantID, []int64{sp.loc.ID}, from, rawFrom-rawFrom%RollupPeriod.Milliseconds())
		if err != nil {
			return Stay{}, err
		}
		acc.AddRollups(rolls[sp.loc.ID])
		total.AddRollups(rolls[sp.loc.ID])
		for _, r := range rolls[sp.loc.ID] {
			stay.Points = append(stay.Points, [2]float64{float64(r.Bucket), round2(r.Avg())})
		}
		if len(rolls[sp.loc.ID]) > 0 {
			from = rawFrom
		}
	}
	acc.AddSeries(pts, from, to)
	total.AddSeries(pts, from, to)
	stay.Exposure = acc.Result()
	stay.Points = append(stay.Points, downsample(pts)...)
	return stay, nil
}

// verdictWithAlarms is the readings' verdict as the lot's alarms and hold
// leave it: an excursion nobody released breaks it; every excursion
// reviewed and released says so in the headline, in agreement with the
// events listed under it (the readings stay broken); a lot on hold now
// that is not broken is held.
func verdictWithAlarms(verdict string, alarms []Alarm, hold bool) string {
	excursions, released := 0, 0
	for _, a := range alarms {
		if a.Kind != AlarmExcursion {
			continue
		}
		excursions++
		switch a.Decision {
		case DecisionRelease:
			released++
		default: // undecided, or destroyed
			verdict = VerdictBroken
		}
	}
	if excursions > 0 && released == excursions && (verdict == VerdictBroken || verdict == VerdictHeld || verdict == VerdictGaps) {
		verdict = VerdictReleased
	}
	if hold && verdict != VerdictBroken {
		verdict = VerdictHeldNow
	}
	return verdict
}

// downsample keeps at most maxChartPoints points (bucket means).
func downsample(pts []Point) [][2]float64 {
	out := make([][2]float64, 0, min(len(pts), maxChartPoints))
	if len(pts) <= maxChartPoints {
		for _, pt := range pts {
			out = append(out, [2]float64{float64(pt.TS), pt.Temp})
		}
		return out
	}
	step := (len(pts) + maxChartPoints - 1) / maxChartPoints
	for i := 0; i < len(pts); i += step {
		end := min(i+step, len(pts))
		var sum float64
		for _, pt := range pts[i:end] {
			sum += pt.Temp
		}
		out = append(out, [2]float64{float64(pts[i].TS), round2(sum / float64(end-i))})
	}
	return out
}

func lastPart(s string) string {
	for _, pre := range []string{"BizStep-", "Disp-"} {
		if i := strings.LastIndex(s, pre); i >= 0 {
			return s[i+len(pre):]
		}
	}
	if strings.HasPrefix(s, "urn:") {
		return s[strings.LastIndex(s, ":")+1:]
	}
	return s
}

// shortID makes an unregistered GS1 location readable without exposing
// more than the identifier the partner published.
func shortID(id string) string {
	if i := strings.Index(id, "/414/"); i >= 0 {
		return "GLN " + id[i+5:]
	}
	return id
}
