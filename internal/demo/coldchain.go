package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/stores"
	"github.com/shelflive/shelflive/internal/trace"
	"github.com/shelflive/shelflive/internal/trace/epcis"
)

// A demo lot's cold chain, as the seed writes it: harvested or made at its
// origin (the farm's pre-cooler), packed at the merchant's distribution
// centre, carried by a truck of its storage class, received into every
// store's fridge, freezer or shelf. Offsets are from production.
const (
	atPacking   = 3 * time.Hour
	atShipping  = 5 * time.Hour
	atReceiving = 8 * time.Hour
	// readingEvery is the sensors' sampling period in the seeded history.
	readingEvery = 5 * time.Minute
	// DeviceLivePrefix marks the demo sensors that keep reporting while the
	// demo runs (RunSensors): the centre, the trucks and the stores. Farm
	// pre-coolers only report while a lot is there.
	DeviceLivePrefix = "demo-live-"
)

// seededLot is what the cold-chain seed needs of a lot Seed created.
type seededLot struct {
	id              int64
	code, gtin      string
	class, origin   string
	produced        time.Time
	product, sku    string
	storesWithStock []int64
}

type ccSite struct {
	loc  coldchain.Location
	dev  coldchain.Device
	from time.Time // readings from …
	to   time.Time // … to
	temp func(i int, at time.Time) float64
}

// gln is a GS1 Digital Link for location ref of the demo's company prefix
// (6901234, like its GTINs), with its check digit.
func gln(ref int) string {
	body := fmt.Sprintf("6901234%05d", ref)
	sum := 0
	for i := range body {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return "https://id.gs1.org/414/" + body + fmt.Sprint((10-sum%10)%10)
}

// wobble is a sensor's small, deterministic variation around base.
func wobble(base, amp float64, i int) float64 {
	v := base + amp*math.Sin(float64(i)/7) + amp*0.4*math.Sin(float64(i)*1.7+1)
	return math.Round(v*10) / 10
}

// classBase is where a healthy sensor of each storage class reads.
var classBase = map[string][2]float64{"chilled": {2.8, 0.6}, "frozen": {-20.5, 0.9}, "ambient": {19, 2.5}}

// seedColdChain writes the demo's cold chain in a few bulk writes: the
// locations and sensors, several days of readings, one past excursion at
// the 静安寺店 fridge that quality released, and the EPCIS events of every
// lot, so each trace page shows its journey, chart and verdict. It is long
// because it is one story told in order (sites, readings, the excursion,
// the journeys) whose steps share the sites and times made at the top.
func seedColdChain(ctx context.Context, d Deps, merchantID int64, shops []stores.Store, lots []seededLot) error {
	now := d.Now.Truncate(time.Minute)
	first := now
	for _, l := range lots {
		first = minTime(first, l.produced)
	}
	start := first.Add(-time.Hour)
	var sites []*ccSite
	add := func(loc coldchain.Location, key, name string, from, to time.Time, temp func(int, time.Time) float64) *ccSite {
		loc.MerchantID = merchantID
		s := &ccSite{loc: loc, dev: coldchain.Device{MerchantID: merchantID, Key: key, Name: name}, from: from, to: to, temp: temp}
		sites = append(sites, s)
		return s
	}
	// Each sensor reads a little differently (its own offset and rhythm),
	// so the stores' curves do not hide each other on a chart.
	nSteady := 0
	steady := func(class string) func(int, time.Time) float64 {
		b := classBase[class]
		nSteady++
		off, phase := float64(nSteady%5-2)*b[1]*0.35, nSteady*11
		return func(i int, _ time.Time) float64 { return wobble(b[0]+off, b[1], i+phase) }
	}
	type chain struct{ dc, truck *ccSite }
	classes := map[string]chain{}
	names := map[string][4]string{
		"chilled": {"华东配送中心 冷藏库", "East China DC, chilled room", "冷藏车 沪A·D3921", "Reefer truck SH-A D3921"},
		"frozen":  {"华东配送中心 冷冻库", "East China DC, freezer room", "冷冻车 沪A·F5102", "Freezer truck SH-A F5102"},
		"ambient": {"华东配送中心 常温库", "East China DC, dry store", "配送车 沪A·C2088", "Delivery van SH-A C2088"},
	}
	kinds := map[string][2]string{"chilled": {coldchain.KindColdRoom, coldchain.KindDisplayFridge}, "frozen": {coldchain.KindFreezer, coldchain.KindFreezer}, "ambient": {coldchain.KindWarehouse, coldchain.KindShelf}}
	storeKind := map[string][2]string{"chilled": {"冷藏柜", "fridge"}, "frozen": {"冷冻柜", "freezer"}, "ambient": {"常温货架", "shelf"}}
	ref := 10000
	for _, class := range []string{"chilled", "frozen", "ambient"} {
		n := names[class]
		ref++
		dc := add(coldchain.Location{Name: n[0], NameEN: n[1], Kind: kinds[class][0], Class: class, GLN: gln(ref)}, DeviceLivePrefix+"dc-"+class, n[0]+" 温度探头", start, now, steady(class))
		ref++
		truck := add(coldchain.Location{Name: n[2], NameEN: n[3], Kind: coldchain.KindTruck, Class: class, GLN: gln(ref)}, DeviceLivePrefix+"truck-"+class, n[2]+" 车载记录仪", start, now, steady(class))
		classes[class] = chain{dc, truck}
	}
	storeSite := map[[2]any]*ccSite{}
	var jingan *ccSite
	for i, st := range shops {
		for _, class := range []string{"chilled", "frozen", "ambient"} {
			ref++
			short := strings.TrimPrefix(st.Name, "鲜食集·")
			s := add(coldchain.Location{Name: short + " " + storeKind[class][0], NameEN: st.NameEN + " " + storeKind[class][1], Kind: kinds[class][1], Class: class, StoreID: st.ID, GLN: gln(ref)},
				fmt.Sprintf("%sstore%d-%s", DeviceLivePrefix, i+1, class), short+" "+storeKind[class][0]+" 探头", start, now, steady(class))
			storeSite[[2]any{st.ID, class}] = s
			if i == 0 && class == "chilled" {
				jingan = s
			}
		}
	}
	// The past excursion: the 静安寺店 fridge door left ajar for about 40
	// minutes 14 hours ago (peak 9.4 ℃); quality checked the goods and
	// released them.
	exStart := now.Add(-14 * time.Hour)
	exEnd := exStart.Add(40 * time.Minute)
	base := jingan.temp
	jingan.temp = func(i int, at time.Time) float64 {
		if at.Before(exStart) || !at.Before(exEnd.Add(20*time.Minute)) {
			return base(i, at)
		}
		m := at.Sub(exStart).Minutes()
		switch {
		case m < 10:
			return math.Round((3+m*0.6)*10) / 10
		case at.Before(exEnd):
			return math.Round((9.4-max(0, math.Abs(m-25)-5)*0.1)*10) / 10
		default:
			return math.Round((8-(m-40)*0.22)*10) / 10
		}
	}
	// One pre-cooler per origin, reporting while its lots were there.
	farms := map[string]*ccSite{}
	for _, l := range lots {
		if f, ok := farms[l.origin+"|"+l.class]; ok {
			f.from, f.to = minTime(f.from, l.produced.Add(-30*time.Minute)), maxTime(f.to, l.produced.Add(atPacking+30*time.Minute))
			continue
		}
		ref++
		kind := coldchain.KindColdRoom
		name, en := l.origin+" 基地预冷库", "Farm pre-cooler, "+l.origin
		if l.class == "ambient" {
			kind, name, en = coldchain.KindWarehouse, l.origin+" 基地仓库", "Farm store, "+l.origin
		}
		farms[l.origin+"|"+l.class] = add(coldchain.Location{Name: name, NameEN: en, Kind: kind, Class: l.class, GLN: gln(ref)},
			fmt.Sprintf("demo-farm-%d", ref), name+" 记录仪", l.produced.Add(-30*time.Minute), l.produced.Add(atPacking+30*time.Minute), steady(l.class))
	}

	lastSeen := map[int64]int64{}
	var readings []coldchain.Reading
	for _, s := range sites {
		if err := d.ColdChain.CreateLocation(ctx, &s.loc); err != nil {
			return fmt.Errorf("location %s: %w", s.loc.Name, err)
		}
		s.dev.LocationID = s.loc.ID
		_, s.dev.TokenHash = coldchain.NewDeviceToken() // demo sensors report in-process; nobody holds the token
		if err := d.ColdChain.CreateDevice(ctx, &s.dev); err != nil {
			return fmt.Errorf("device %s: %w", s.dev.Key, err)
		}
		i := 0
		for at := s.from.Truncate(readingEvery); !at.After(s.to); at = at.Add(readingEvery) {
			readings = append(readings, coldchain.Reading{DevicePK: s.dev.ID, LocationID: s.loc.ID, MerchantID: merchantID, TS: at.UnixMilli(), Temp: s.temp(i, at), Hum: math.NaN()})
			lastSeen[s.dev.ID] = at.UnixMilli()
			i++
		}
	}
	if err := d.ColdChain.AppendReadings(ctx, readings); err != nil {
		return fmt.Errorf("readings: %w", err)
	}
	if err := d.ColdChain.TouchDevices(ctx, lastSeen); err != nil {
		return err
	}

	// EPCIS: every lot's journey in one capture.
	var events []map[string]any
	ev := func(l seededLot, step, disp, loc string, at time.Time, qty int) map[string]any {
		return map[string]any{"type": "ObjectEvent", "eventTime": at.UTC().Format("2006-01-02T15:04:05.000Z"), "eventTimeZoneOffset": "+08:00", "action": "OBSERVE",
			"epcList": []string{}, "quantityList": []map[string]any{{"epcClass": trace.LGTIN(l.gtin, l.code), "quantity": qty, "uom": "EA"}},
			"bizStep": step, "disposition": disp, "bizLocation": map[string]string{"id": loc}}
	}
	var affected []seededLot
	for _, l := range lots {
		c := classes[l.class]
		commission := ev(l, "commissioning", "active", farms[l.origin+"|"+l.class].loc.GLN, l.produced, 120)
		commission["action"] = "ADD"
		events = append(events, commission,
			ev(l, "packing", "in_progress", c.dc.loc.GLN, l.produced.Add(atPacking), 120),
			ev(l, "shipping", "in_transit", c.truck.loc.GLN, l.produced.Add(atShipping), 120))
		for _, sid := range l.storesWithStock {
			events = append(events, ev(l, "receiving", "sellable_accessible", storeSite[[2]any{sid, l.class}].loc.GLN, l.produced.Add(atReceiving), 40))
		}
		if l.class == "chilled" && l.produced.Add(atReceiving).Before(exStart) {
			affected = append(affected, l)
		}
	}
	decisions, err := seedExcursion(ctx, d, merchantID, jingan, exStart, exEnd, affected)
	if err != nil {
		return err
	}
	events = append(events, decisions...)
	doc, err := json.Marshal(map[string]any{"@context": []any{"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", map[string]string{"shelflive": "https://shelflive.dev/epcis/"}}, "type": "EPCISDocument",
		"schemaVersion": "2.0", "creationDate": now.UTC().Format("2006-01-02T15:04:05.000Z"), "epcisBody": map[string]any{"eventList": events}})
	if err != nil {
		return err
	}
	parsed, err := epcis.ParseDocument(doc)
	if err != nil {
		return fmt.Errorf("epcis: %w", err)
	}
	if _, err := d.Events.Capture(ctx, merchantID, parsed.Events); err != nil {
		return fmt.Errorf("epcis capture: %w", err)
	}
	return nil
}

// seedExcursion records the fridge's past excursion as the cold chain would
// have: an alarm with the lots it held, cleared when the fridge was back in
// range, released by quality. It returns the release's EPCIS inspecting
// events (one per lot), captured with the rest of the journey.
func seedExcursion(ctx context.Context, d Deps, merchantID int64, s *ccSite, from, to time.Time, lots []seededLot) ([]map[string]any, error) {
	a := &coldchain.Alarm{MerchantID: merchantID, LocationID: s.loc.ID, LocationName: s.loc.Name, DevicePK: s.dev.ID, DeviceKey: s.dev.Key,
		Kind: coldchain.AlarmExcursion, Rule: coldchain.RuleCumulative, Class: s.loc.Class, StartedAt: from.Add(5 * time.Minute), DetectedAt: to.Add(-5 * time.Minute),
		Peak: 9.4, BeyondMS: (30 * time.Minute).Milliseconds(), Status: coldchain.StatusOpen}
	for _, l := range lots {
		a.Lots = append(a.Lots, coldchain.AlarmLot{LotID: l.id})
	}
	if err := d.ColdChain.CreateAlarm(ctx, a); err != nil {
		return nil, fmt.Errorf("excursion: %w", err)
	}
	if err := d.ColdChain.ClearAlarm(ctx, merchantID, a.ID, to.Add(20*time.Minute)); err != nil {
		return nil, err
	}
	decided := to.Add(50 * time.Minute)
	if err := d.ColdChain.DecideAlarm(ctx, merchantID, a.ID, coldchain.DecisionRelease, "品控张工", "复检：中心温度 4.1℃，感官正常，放行", decided); err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, l := range lots {
		out = append(out, coldchain.DecisionEvent(&coldchain.LotInfo{ID: l.id, MerchantID: merchantID, Code: l.code, GTIN: l.gtin}, &s.loc, coldchain.DecisionRelease, decided, a.ID))
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
