package coldchain

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/trace"
	"github.com/shelflive/shelflive/internal/trace/epcis"
)

// lotsAt returns the lots a location's excursion affects: for a store
// location, lots with stock of its class in that store; for a GLN location
// (truck, DC), lots whose latest EPCIS event puts them at that bizLocation.
func (s *Service) lotsAt(ctx context.Context, loc Location) ([]AlarmLot, error) {
	var out []AlarmLot
	seen := map[int64]bool{}
	if loc.StoreID != 0 {
		lots, err := s.Store.LotsAtLocation(ctx, loc.MerchantID, loc.ID)
		if err != nil {
			return nil, err
		}
		for _, l := range lots {
			seen[l.LotID] = true
			out = append(out, l)
		}
	}
	if loc.GLN != "" && s.Events != nil {
		lots, err := s.lotsAtGLN(ctx, loc)
		if err != nil {
			return out, err
		}
		for _, l := range lots {
			if !seen[l.LotID] {
				seen[l.LotID] = true
				out = append(out, l)
			}
		}
	}
	return out, nil
}

// lotsAtGLN looks at the last 30 days of EPCIS events at the location and
// keeps the lots (LGTINs) whose latest event is still there.
func (s *Service) lotsAtGLN(ctx context.Context, loc Location) ([]AlarmLot, error) {
	gln := epcis.NormalizeLocation(loc.GLN)
	now := s.Now()
	since := now.Add(-30 * 24 * time.Hour)
	page, err := s.Events.QueryEvents(ctx, loc.MerchantID, trace.EventFilter{BizLocations: []string{gln}, GEEventTime: &since, PerPage: trace.MaxPerPage, WithEPCs: true})
	if err != nil {
		return nil, err
	}
	lgtins := map[string]time.Time{}
	for _, ev := range page.Events {
		for _, r := range ev.EPCs {
			if strings.Contains(r.ID, "/01/") && strings.Contains(r.ID, "/10/") {
				if t, ok := lgtins[r.ID]; !ok || ev.EventTime.After(t) {
					lgtins[r.ID] = ev.EventTime
				}
			}
		}
	}
	var out []AlarmLot
	for id, at := range lgtins {
		after := at.Add(time.Millisecond)
		later, err := s.Events.QueryEvents(ctx, loc.MerchantID, trace.EventFilter{MatchAnyEPCClass: []trace.IDMatch{{ID: id}}, GEEventTime: &after, PerPage: trace.MaxPerPage})
		if err != nil {
			return nil, err
		}
		moved := false
		for _, ev := range later.Events {
			if ev.BizLocation != "" && ev.BizLocation != gln {
				moved = true
			}
		}
		if moved {
			continue
		}
		gtin, lot, ok := splitLGTIN(id)
		if !ok {
			continue
		}
		_, lotID, err := s.Store.LotByGTIN(ctx, gtin, lot)
		if err != nil {
			continue // a lot of another system, not sold here
		}
		info, err := s.Store.LotInfo(ctx, loc.MerchantID, lotID)
		if err != nil {
			continue
		}
		out = append(out, AlarmLot{LotID: lotID, LotCode: info.Code, Product: info.Product})
	}
	return out, nil
}

func splitLGTIN(id string) (gtin, lot string, ok bool) {
	_, rest, ok := strings.Cut(id, "/01/")
	if !ok {
		return "", "", false
	}
	gtin, lot, ok = strings.Cut(rest, "/10/")
	if !ok {
		return "", "", false
	}
	if i := strings.IndexAny(lot, "/?"); i >= 0 {
		lot = lot[:i]
	}
	if u, err := unescape(lot); err == nil {
		lot = u
	}
	return gtin, lot, true
}

func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			var v byte
			if _, err := fmt.Sscanf(s[i+1:i+3], "%02x", &v); err != nil {
				return "", err
			}
			b.WriteByte(v)
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

// RecordDecision captures a quality decision as an EPCIS ObjectEvent on the
// lot (LGTIN): release = inspecting / sellable_accessible, destroy =
// destroying / destroyed. The event goes through the same parser and
// validator as partner captures, so it is a valid EPCIS 2.0 event with its
// CBV 2.0 hash as ID, and shows up in /epcis queries and the lot's trace.
func RecordDecision(ctx context.Context, events trace.EventStore, lot *LotInfo, loc *Location, decision string, at time.Time, alarmID int64) error {
	if lot.GTIN == "" {
		return nil // no GS1 identity: nothing an EPCIS partner could match
	}
	ev := DecisionEvent(lot, loc, decision, at, alarmID)
	doc := map[string]any{
		"@context":      []any{"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", map[string]string{"shelflive": "https://shelflive.dev/epcis/"}},
		"type":          "EPCISDocument",
		"schemaVersion": "2.0",
		"creationDate":  at.UTC().Format("2006-01-02T15:04:05.000Z"),
		"epcisBody":     map[string]any{"eventList": []any{ev}},
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	d, err := epcis.ParseDocument(raw)
	if err != nil {
		return fmt.Errorf("decision event: %w", err)
	}
	_, err = events.Capture(ctx, lot.MerchantID, d.Events)
	return err
}

// DecisionEvent is the EPCIS ObjectEvent (JSON-LD) of a quality decision on
// a lot, as RecordDecision captures it; a seed that captures many events at
// once builds them with it.
func DecisionEvent(lot *LotInfo, loc *Location, decision string, at time.Time, alarmID int64) map[string]any {
	step, disp := "inspecting", "sellable_accessible"
	if decision == DecisionDestroy {
		step, disp = "destroying", "destroyed"
	}
	ev := map[string]any{
		"type":                     "ObjectEvent",
		"eventTime":                at.UTC().Format("2006-01-02T15:04:05.000Z"),
		"eventTimeZoneOffset":      "+00:00",
		"action":                   "OBSERVE",
		"epcList":                  []string{},
		"quantityList":             []map[string]any{{"epcClass": trace.LGTIN(lot.GTIN, lot.Code)}},
		"bizStep":                  step,
		"disposition":              disp,
		"shelflive:coldChainAlarm": fmt.Sprint(alarmID),
	}
	if loc != nil && loc.GLN != "" {
		ev["bizLocation"] = map[string]string{"id": loc.GLN}
	}
	return ev
}
