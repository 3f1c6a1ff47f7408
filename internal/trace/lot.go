package trace

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
)

// dlEscaper escapes what GS1 Digital Link wants escaped in a lot beyond
// what url.PathEscape does (table 7-1), so LGTIN matches the identifiers
// trace/epcis derives from EPC class URIs.
var dlEscaper = strings.NewReplacer("!", "%21", "(", "%28", ")", "%29", "*", "%2A", "+", "%2B", ",", "%2C", ":", "%3A")

// LGTIN returns the canonical GS1 Digital Link URI of a lot: the GTIN
// padded to 14 digits, then /10/ and the batch/lot number.
func LGTIN(gtin, lot string) string {
	for len(gtin) < 14 {
		gtin = "0" + gtin
	}
	return "https://id.gs1.org/01/" + gtin + "/10/" + dlEscaper.Replace(url.PathEscape(lot))
}

// Stages of a lot's journey, for the public trace page's timeline.
const (
	StageOrigin     = "origin"     // commissioning: the lot (or its raw material) came into being
	StageProcessing = "processing" // transformation, packing, assembling
	StageStorage    = "storage"    // storing, holding, stocking, cycle counting
	StageTransport  = "transport"  // shipping, departing, transporting, arriving, loading, receiving
	StageStore      = "store"      // retail selling, staging in a store
	StageQuality    = "quality"    // inspecting, sampling, sensor reporting
	StageEnd        = "end"        // destroying, decommissioning, void shipping
	StageOther      = "other"
)

var stageByStep = map[string]string{
	"commissioning": StageOrigin, "creating_class_instance": StageOrigin, "encoding": StageOrigin,
	"assembling": StageProcessing, "packing": StageProcessing, "repackaging": StageProcessing, "unpacking": StageProcessing,
	"disassembling": StageProcessing, "installing": StageProcessing, "repairing": StageProcessing, "replacing": StageProcessing,
	"storing": StageStorage, "holding": StageStorage, "stocking": StageStorage, "cycle_counting": StageStorage, "stock_taking": StageStorage,
	"picking": StageStorage, "staging_outbound": StageStorage, "reserving": StageStorage,
	"shipping": StageTransport, "departing": StageTransport, "transporting": StageTransport, "arriving": StageTransport,
	"loading": StageTransport, "unloading": StageTransport, "receiving": StageTransport, "accepting": StageTransport,
	"collecting": StageTransport, "consigning": StageTransport, "entering_exiting": StageTransport,
	"retail_selling": StageStore, "dispensing": StageStore,
	"inspecting": StageQuality, "sampling": StageQuality, "sensor_reporting": StageQuality,
	"destroying": StageEnd, "decommissioning": StageEnd, "void_shipping": StageEnd, "killing": StageEnd, "removing": StageEnd,
}

// StageOf classifies an event for a lot timeline. Transformation events are
// processing whatever their bizStep says (commissioning the output of a
// transformation is still a processing step of the lot).
func StageOf(ev Event) string {
	if ev.Type == "TransformationEvent" {
		return StageProcessing
	}
	step := ev.BizStep
	if i := strings.LastIndex(step, "BizStep-"); i >= 0 {
		step = step[i+len("BizStep-"):]
	}
	if s, ok := stageByStep[step]; ok {
		return s
	}
	return StageOther
}

// LotStep is one event in a lot's history and why it belongs there.
type LotStep struct {
	Event Event
	Stage string
	Via   string // the identifier that tied the event to the lot (the lot itself, an item of it, a pallet carrying it, an input)
	Link  string // lot, item, container, input
}

// LotHistory is a lot's ordered trace: commissioning → transformation →
// shipping/receiving → store, plus the upstream inputs it was made from.
type LotHistory struct {
	GTIN   string
	Lot    string
	LGTIN  string
	Items  []string // serialised items (SGTIN Digital Links) of the lot
	Inputs []string // identifiers of inputs of the transformations that produced the lot
	Steps  []LotStep
}

// Service is the trace domain's service over an EventStore.
type Service struct {
	Events EventStore
}

// ErrLotNotFound is returned when no event mentions the lot.
var ErrLotNotFound = apperr.New(apperr.NotFound, "trace_lot_not_found", "没有该批次的溯源记录", "No trace events for this lot.")

var reGTIN = regexp.MustCompile(`^\d{8}$|^\d{12,14}$`)

// lotTraceLimit bounds the events one trace reads, so a lot shipped in a
// pallet with thousands of others cannot make the trace page slow.
const lotTraceLimit = 2000

var (
	// ErrInvalidGTIN refuses a GTIN that is not 8, 12, 13 or 14 digits.
	ErrInvalidGTIN = apperr.InvalidField("gtin", "trace_invalid_gtin", "GTIN 应为 8、12、13 或 14 位数字", "A GTIN has 8, 12, 13 或 14 digits.")
	// ErrInvalidLot refuses a lot number out of 1..20 characters.
	ErrInvalidLot = apperr.InvalidField("lot", "trace_invalid_lot", "批号应为 1 到 20 个字符", "A lot number has 1 to 20 characters.")
)

// LotTrace builds the ordered history of a lot (GTIN + batch/lot) for a
// merchant: events naming the lot (quantity lists, LGTIN), its serialised
// items (SGTINs assigned to the lot by the commissioning event's ILMD), the
// containers (SSCC) they were aggregated into while aggregated, and the
// inputs of transformations that produced the lot (one level upstream).
func (s *Service) LotTrace(ctx context.Context, merchantID int64, gtin, lot string) (*LotHistory, error) {
	if !reGTIN.MatchString(gtin) {
		return nil, ErrInvalidGTIN
	}
	if strings.TrimSpace(lot) == "" || len(lot) > 20 {
		return nil, ErrInvalidLot
	}
	h := &LotHistory{GTIN: strings.Repeat("0", 14-len(gtin)) + gtin, Lot: lot, LGTIN: LGTIN(gtin, lot)}
	t := &lotTracer{s: s, merchantID: merchantID, h: h, steps: map[string]*LotStep{}, items: map[string]bool{}}
	byClass, byILMD, err := t.lotEvents(ctx)
	if err != nil {
		return nil, err
	}
	itemEvents, err := t.itemEvents(ctx)
	if err != nil {
		return nil, err
	}
	all := append(append(append([]Event{}, byClass...), byILMD...), itemEvents...)
	if err := t.containerEvents(ctx, all); err != nil {
		return nil, err
	}
	if err := t.inputEvents(ctx); err != nil {
		return nil, err
	}
	if len(t.steps) == 0 {
		return nil, ErrLotNotFound
	}
	for _, st := range t.steps {
		h.Steps = append(h.Steps, *st)
	}
	sort.SliceStable(h.Steps, func(i, j int) bool {
		a, b := h.Steps[i].Event, h.Steps[j].Event
		if !a.EventTime.Equal(b.EventTime) {
			return a.EventTime.Before(b.EventTime)
		}
		return a.EventID < b.EventID
	})
	return h, nil
}

// lotTracer holds one LotTrace's state across its four steps: the steps
// found so far (one per event), how many events were read (capped at
// lotTraceLimit) and the lot's serialised items.
type lotTracer struct {
	s          *Service
	merchantID int64
	h          *LotHistory
	steps      map[string]*LotStep
	total      int
	items      map[string]bool
}

// add records events as steps reached via an id, unless already seen.
func (t *lotTracer) add(evs []Event, via, link string) {
	for _, ev := range evs {
		if _, ok := t.steps[ev.EventID]; ok {
			continue
		}
		t.steps[ev.EventID] = &LotStep{Event: ev, Stage: StageOf(ev), Via: via, Link: link}
	}
}

// fetch reads every page of a query, until the trace's event cap.
func (t *lotTracer) fetch(ctx context.Context, f EventFilter) ([]Event, error) {
	f.PerPage, f.WithEPCs = MaxPerPage, true
	var out []Event
	for {
		page, err := t.s.Events.QueryEvents(ctx, t.merchantID, f)
		if err != nil {
			return nil, fmt.Errorf("lot trace: %w", err)
		}
		out = append(out, page.Events...)
		t.total += len(page.Events)
		if page.Next == nil || t.total >= lotTraceLimit {
			return out, nil
		}
		f.After = page.Next
	}
}

// mine says whether an EPC is the lot or one of its items.
func (t *lotTracer) mine(r EPCRef) bool { return t.items[r.ID] || r.ID == t.h.LGTIN }

// lotEvents is step 1: events naming the lot (quantity lists), and
// commissioning events whose ILMD assigns serialised items to it; it
// collects those items.
func (t *lotTracer) lotEvents(ctx context.Context) (byClass, byILMD []Event, err error) {
	h := t.h
	lotMatch := []IDMatch{{ID: h.LGTIN}}
	if byClass, err = t.fetch(ctx, EventFilter{MatchAnyEPCClass: lotMatch}); err != nil {
		return nil, nil, err
	}
	t.add(byClass, h.LGTIN, "lot")
	if byILMD, err = t.fetch(ctx, EventFilter{MatchLot: lotMatch}); err != nil {
		return nil, nil, err
	}
	t.add(byILMD, h.LGTIN, "lot")
	gtinPrefix := "https://id.gs1.org/01/" + h.GTIN + "/21/"
	for _, ev := range byILMD {
		for _, r := range ev.EPCs {
			if (r.Role == RoleEPC || r.Role == RoleOutput || r.Role == RoleChild) && strings.HasPrefix(r.ID, gtinPrefix) {
				t.items[r.ID] = true
			}
		}
	}
	for id := range t.items {
		h.Items = append(h.Items, id)
	}
	sort.Strings(h.Items)
	return byClass, byILMD, nil
}

// itemEvents is step 2: the events of the lot's items, 50 items a query.
func (t *lotTracer) itemEvents(ctx context.Context) ([]Event, error) {
	var itemEvents []Event
	for start := 0; start < len(t.h.Items) && t.total < lotTraceLimit; start += 50 {
		var ms []IDMatch
		for _, id := range t.h.Items[start:min(start+50, len(t.h.Items))] {
			ms = append(ms, IDMatch{ID: id})
		}
		evs, err := t.fetch(ctx, EventFilter{MatchAnyEPC: ms})
		if err != nil {
			return nil, err
		}
		itemEvents = append(itemEvents, evs...)
		for _, ev := range evs {
			t.add([]Event{ev}, firstMatch(ev, t.items), "item")
		}
	}
	return itemEvents, nil
}

// span is a time the lot travelled in a container.
type span struct {
	from, to time.Time
}

// containerEvents is step 3: containers the lot or its items were packed
// into (from the aggregation events among all), and their events while
// the lot was inside.
func (t *lotTracer) containerEvents(ctx context.Context, all []Event) error {
	containers := map[string][]span{}
	sort.Slice(all, func(i, j int) bool { return all[i].EventTime.Before(all[j].EventTime) })
	for _, ev := range all {
		if ev.Type != "AggregationEvent" {
			continue
		}
		parent := ""
		contains := false
		for _, r := range ev.EPCs {
			if r.Role == RoleParent {
				parent = r.ID
			}
			if (r.Role == RoleChild || r.Role == RoleChildQuantity) && t.mine(r) {
				contains = true
			}
		}
		if parent == "" || !contains {
			continue
		}
		sp := containers[parent]
		switch ev.Action {
		case "ADD", "OBSERVE":
			containers[parent] = append(sp, span{from: ev.EventTime, to: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)})
		case "DELETE":
			if n := len(sp); n > 0 {
				sp[n-1].to = ev.EventTime
			}
		}
	}
	for parent, spans := range containers {
		if t.total >= lotTraceLimit {
			break
		}
		evs, err := t.fetch(ctx, EventFilter{MatchAnyEPC: []IDMatch{{ID: parent}}})
		if err != nil {
			return err
		}
		t.closeSpans(parent, spans, evs)
		for _, ev := range evs {
			for _, sp := range spans {
				if !ev.EventTime.Before(sp.from) && !ev.EventTime.After(sp.to) {
					t.add([]Event{ev}, parent, "container")
					break
				}
			}
		}
	}
	return nil
}

// closeSpans ends the lot's time in a container at a DELETE of the
// container naming no children (all removed) or one of ours.
func (t *lotTracer) closeSpans(parent string, spans []span, evs []Event) {
	for _, ev := range evs {
		if ev.Type != "AggregationEvent" || ev.Action != "DELETE" {
			continue
		}
		children, ours := 0, false
		isParent := false
		for _, r := range ev.EPCs {
			switch {
			case r.Role == RoleParent && r.ID == parent:
				isParent = true
			case r.Role == RoleChild || r.Role == RoleChildQuantity:
				children++
				ours = ours || t.mine(r)
			}
		}
		if !isParent || (children > 0 && !ours) {
			continue
		}
		for i := range spans {
			if ev.EventTime.After(spans[i].from) && ev.EventTime.Before(spans[i].to) {
				spans[i].to = ev.EventTime
			}
		}
	}
}

// inputEvents is step 4: inputs of transformations that produced the lot
// or its items, and the events of those inputs (where the raw material
// came from).
func (t *lotTracer) inputEvents(ctx context.Context) error {
	h := t.h
	inputs := map[string]bool{}
	for _, st := range t.steps {
		ev := st.Event
		if ev.Type != "TransformationEvent" {
			continue
		}
		produced := false
		for _, r := range ev.EPCs {
			if (r.Role == RoleOutput || r.Role == RoleOutputQuantity) && (t.mine(r) || r.ID == h.LGTIN) {
				produced = true
			}
		}
		if !produced {
			continue
		}
		for _, r := range ev.EPCs {
			if r.Role == RoleInput || r.Role == RoleInputQuantity {
				inputs[r.ID] = true
			}
		}
	}
	for id := range inputs {
		h.Inputs = append(h.Inputs, id)
	}
	sort.Strings(h.Inputs)
	for _, id := range h.Inputs {
		if t.total >= lotTraceLimit {
			break
		}
		f := EventFilter{MatchAnyEPC: []IDMatch{{ID: id}}}
		if strings.Contains(id, "/10/") || !strings.Contains(id, "/21/") {
			f = EventFilter{MatchAnyEPCClass: []IDMatch{{ID: id}}}
		}
		evs, err := t.fetch(ctx, f)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			t.add([]Event{ev}, id, "input")
		}
	}
	return nil
}

func firstMatch(ev Event, ids map[string]bool) string {
	for _, r := range ev.EPCs {
		if ids[r.ID] {
			return r.ID
		}
	}
	return ""
}

// LotOfItem finds the lot a serialised item (canonical SGTIN Digital Link)
// belongs to, from the ILMD of the event that commissioned it.
func (s *Service) LotOfItem(ctx context.Context, merchantID int64, item string) (gtin, lot string, err error) {
	page, err := s.Events.QueryEvents(ctx, merchantID, EventFilter{MatchAnyEPC: []IDMatch{{ID: item}}, WithEPCs: true, PerPage: MaxPerPage})
	if err != nil {
		return "", "", fmt.Errorf("lot of item: %w", err)
	}
	prefix := "https://id.gs1.org/01/"
	for _, ev := range page.Events {
		for _, r := range ev.EPCs {
			if r.Role != RoleLot || !strings.HasPrefix(r.ID, prefix) {
				continue
			}
			rest := r.ID[len(prefix):] // <gtin>/10/<lot>
			g, l, ok := strings.Cut(rest, "/10/")
			if !ok || !strings.HasPrefix(item, prefix+g+"/") {
				continue
			}
			lot, err := url.PathUnescape(l)
			if err != nil {
				continue
			}
			return g, lot, nil
		}
	}
	return "", "", ErrLotNotFound
}

// Stay is where a lot was from one time to the next. Location is the
// event's bizLocation (or its readPoint when it has none), as a canonical
// GS1 Digital Link (…/414/<gln>); it is empty while the lot is in transit
// (shipped, not yet received). To is zero while the lot is still there.
type Stay struct {
	Location string
	From     time.Time
	To       time.Time
}

// Stays turns the lot's own steps (not its inputs') into intervals by
// location, so that cold-chain rules can ask "was the lot in this cold room
// during that excursion?".
func (h *LotHistory) Stays() []Stay {
	var out []Stay
	for _, st := range h.Steps {
		if st.Link == "input" {
			continue
		}
		ev := st.Event
		loc := ev.BizLocation
		if loc == "" {
			loc = ev.ReadPoint
		}
		transit := ev.Disposition == "https://ref.gs1.org/cbv/Disp-in_transit" ||
			strings.HasSuffix(ev.BizStep, "BizStep-shipping") || strings.HasSuffix(ev.BizStep, "BizStep-departing")
		if transit {
			loc = ""
		} else if loc == "" {
			continue
		}
		if n := len(out); n > 0 {
			if out[n-1].Location == loc {
				continue
			}
			out[n-1].To = ev.EventTime
		}
		out = append(out, Stay{Location: loc, From: ev.EventTime})
	}
	return out
}
