package epcis

import (
	"encoding/json"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shelflive/shelflive/internal/trace"
)

// Document is a validated EPCIS document ready to capture.
type Document struct {
	Type    string // EPCISDocument or EPCISQueryDocument
	Events  []trace.Event
	Context json.RawMessage // the inline (object) @context entries, as a JSON array
}

// MaxDocumentBytes bounds a capture body (GS1-EPCIS-Capture-File-Size-Limit).
// Parsing and validating a document holds many times its size (a 12 MB one
// peaked near 350 MB of heap), so larger captures are split by the sender;
// the 10,000-event capture limit stays the same.
const MaxDocumentBytes = 8 << 20

// ParseDocument validates an EPCIS 2.0 JSON/JSON-LD document against the GS1
// schema and extracts its events. Any invalid event rejects the whole
// document with an *InvalidDocumentError. Events without an eventID get the
// CBV 2.0 event hash as their ID. More than trace.CaptureLimit events is
// trace.ErrTooManyEvents.
func ParseDocument(raw []byte) (*Document, error) {
	tree, err := parseOrdered(raw)
	if err != nil {
		return nil, invalid(-1, "", "", "not valid JSON: "+err.Error())
	}
	v := toAny(tree)
	root, ok := v.(map[string]any)
	if !ok {
		return nil, invalid(-1, "", "", "the document must be a JSON object")
	}
	typ, _ := root["type"].(string)
	if typ != "EPCISDocument" && typ != "EPCISQueryDocument" {
		return nil, invalid(-1, "", "/type", `type must be "EPCISDocument" (or "EPCISQueryDocument")`)
	}
	list, base := eventList(root)
	if len(list) > trace.CaptureLimit {
		return nil, trace.ErrTooManyEvents
	}
	// The document without its events first; then the events, in parallel:
	// eventList has no constraint across items, so this is the same
	// verdict as validating the whole document at once.
	if err := ValidateJSON(withoutEvents(root)); err != nil {
		return nil, err
	}
	doc := &Document{Type: typ, Context: inlineContext(root["@context"])}
	treeEvents := documentEvents(tree)
	if len(treeEvents) != len(list) {
		return nil, fmt.Errorf("parse: %d events but %d parsed", len(list), len(treeEvents))
	}
	hc := newHashCtx(tree, treeEvents)
	type result struct {
		ev       trace.Event
		problems []Problem
		err      error
	}
	results := make([]result, len(list))
	parallel(len(list), func(i int) {
		r := &results[i]
		obj, _ := list[i].(map[string]any)
		eventID, _ := obj["eventID"].(string)
		ps, err := validateEvent(list[i])
		if err != nil {
			r.err = err
			return
		}
		if ps == nil {
			var p *Problem
			r.ev, p = eventFrom(obj, hashID(prehashEvent(hc, treeEvents[i], nil)))
			if p != nil {
				ps = []Problem{*p}
			}
		}
		for j := range ps {
			ps[j].Event, ps[j].EventID = i, eventID
			ps[j].Pointer = base + "/" + strconv.Itoa(i) + ps[j].Pointer
		}
		r.problems = ps
	})
	var problems []Problem
	for i := range results {
		if results[i].err != nil {
			return nil, results[i].err
		}
		if results[i].problems != nil {
			problems = append(problems, results[i].problems...)
			continue
		}
		ev := results[i].ev
		ev.Context = doc.Context
		doc.Events = append(doc.Events, ev)
	}
	if problems != nil {
		return nil, &InvalidDocumentError{Problems: problems}
	}
	return doc, nil
}

func invalid(ev int, id, ptr, msg string) error {
	return &InvalidDocumentError{Problems: []Problem{{Event: ev, EventID: id, Pointer: ptr, Message: msg}}}
}

func eventList(root map[string]any) ([]any, string) {
	body, _ := root["epcisBody"].(map[string]any)
	if l, ok := body["eventList"].([]any); ok {
		return l, "/epcisBody/eventList"
	}
	if qr, ok := body["queryResults"].(map[string]any); ok {
		if rb, ok := qr["resultsBody"].(map[string]any); ok {
			if l, ok := rb["eventList"].([]any); ok {
				return l, "/epcisBody/queryResults/resultsBody/eventList"
			}
		}
	}
	return nil, "/epcisBody/eventList"
}

// inlineContext keeps the object entries of @context: they define the
// prefixes of extension fields, which query results must carry along.
func inlineContext(c any) json.RawMessage {
	var out []any
	switch t := c.(type) {
	case []any:
		for _, e := range t {
			if m, ok := e.(map[string]any); ok && len(m) > 0 {
				out = append(out, m)
			}
		}
	case map[string]any:
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil
	}
	b, _ := json.Marshal(out)
	return b
}

// eventFrom extracts the indexed fields. The schema has checked shapes;
// this reports what it cannot (timestamps Go cannot read). It is long
// because it is the list of indexed fields, one or two lines a field.
func eventFrom(m map[string]any, hashID string) (trace.Event, *Problem) {
	ev := trace.Event{HashID: hashID}
	ev.Type, _ = m["type"].(string)
	ev.EventID, _ = m["eventID"].(string)
	if ev.EventID == "" {
		ev.EventID = hashID
		m["eventID"] = hashID
	}
	ts, _ := m["eventTime"].(string)
	t, err := parseTimestamp(ts)
	if err != nil {
		return ev, &Problem{Pointer: "/eventTime", Message: fmt.Sprintf("eventTime %q is not a valid date-time", ts)}
	}
	ev.EventTime = t.UTC()
	ev.EventTimeZoneOffset, _ = m["eventTimeZoneOffset"].(string)
	ev.Action, _ = m["action"].(string)
	if s, ok := m["bizStep"].(string); ok {
		ev.BizStep = VocabIRI("bizStep", s)
	}
	if s, ok := m["disposition"].(string); ok {
		ev.Disposition = VocabIRI("disposition", s)
	}
	if pd, ok := m["persistentDisposition"].(map[string]any); ok {
		for _, s := range strList(pd["set"]) {
			ev.PersistentSet = append(ev.PersistentSet, VocabIRI("disposition", s))
		}
		for _, s := range strList(pd["unset"]) {
			ev.PersistentUnset = append(ev.PersistentUnset, VocabIRI("disposition", s))
		}
	}
	if rp, ok := m["readPoint"].(map[string]any); ok {
		s, _ := rp["id"].(string)
		ev.ReadPoint = NormalizeLocation(s)
	}
	if bl, ok := m["bizLocation"].(map[string]any); ok {
		s, _ := bl["id"].(string)
		ev.BizLocation = NormalizeLocation(s)
	}
	ev.TransformationID, _ = m["transformationID"].(string)
	addEPCs := func(role string, v any) {
		for _, s := range strList(v) {
			ev.EPCs = append(ev.EPCs, trace.EPCRef{Role: role, ID: NormalizeEPC(s)})
		}
	}
	addEPCs(trace.RoleEPC, m["epcList"])
	addEPCs(trace.RoleChild, m["childEPCs"])
	addEPCs(trace.RoleInput, m["inputEPCList"])
	addEPCs(trace.RoleOutput, m["outputEPCList"])
	if s, ok := m["parentID"].(string); ok {
		ev.EPCs = append(ev.EPCs, trace.EPCRef{Role: trace.RoleParent, ID: NormalizeEPC(s)})
	}
	addQty := func(role string, v any) {
		l, _ := v.([]any)
		for _, e := range l {
			q, _ := e.(map[string]any)
			cls, _ := q["epcClass"].(string)
			ref := trace.EPCRef{Role: role, ID: NormalizeEPC(cls)}
			if n, ok := number(q["quantity"]); ok {
				ref.Quantity = &n
			}
			ref.UOM, _ = q["uom"].(string)
			ev.EPCs = append(ev.EPCs, ref)
		}
	}
	addQty(trace.RoleQuantity, m["quantityList"])
	addQty(trace.RoleChildQuantity, m["childQuantityList"])
	addQty(trace.RoleInputQuantity, m["inputQuantityList"])
	addQty(trace.RoleOutputQuantity, m["outputQuantityList"])
	ev.BizTransactions = typedIDs(m["bizTransactionList"], "bizTransaction", "bizTransactionType")
	ev.Sources = typedIDs(m["sourceList"], "source", "sourceDestType")
	ev.Destinations = typedIDs(m["destinationList"], "destination", "sourceDestType")
	if l, ok := m["sensorElementList"].([]any); ok {
		for i, e := range l {
			se, _ := e.(map[string]any)
			meta, _ := se["sensorMetadata"].(map[string]any)
			metaDevice, _ := meta["deviceID"].(string)
			var metaTime *time.Time
			if s, ok := meta["time"].(string); ok {
				if t, err := parseTimestamp(s); err == nil {
					t = t.UTC()
					metaTime = &t
				}
			}
			reps, _ := se["sensorReport"].([]any)
			for j, r := range reps {
				rep, _ := r.(map[string]any)
				sr, p := sensorReportFrom(rep, metaDevice, metaTime)
				if p != nil {
					p.Pointer = fmt.Sprintf("/sensorElementList/%d/sensorReport/%d%s", i, j, p.Pointer)
					return ev, p
				}
				ev.Sensors = append(ev.Sensors, sr)
			}
		}
	}
	if il, ok := m["ilmd"]; ok {
		ev.ILMD, _ = json.Marshal(il)
		if lot := ilmdLot(il); lot != "" {
			ev.EPCs = append(ev.EPCs, lotRefs(ev.EPCs, lot)...)
		}
	}
	if ed, ok := m["errorDeclaration"].(map[string]any); ok {
		d := &trace.ErrorDeclaration{}
		s, _ := ed["declarationTime"].(string)
		t, err := parseTimestamp(s)
		if err != nil {
			return ev, &Problem{Pointer: "/errorDeclaration/declarationTime", Message: fmt.Sprintf("declarationTime %q is not a valid date-time", s)}
		}
		d.DeclarationTime = t.UTC()
		if r, ok := ed["reason"].(string); ok {
			d.Reason = VocabIRI("reason", r)
		}
		d.CorrectiveEventIDs = strList(ed["correctiveEventIDs"])
		ev.ErrorDeclaration = d
	}
	// recordTime is the repository's to set (EPCIS 2.0 §7.4.1): drop what
	// the client sent; the store adds the capture time when serving.
	delete(m, "recordTime")
	b, err := json.Marshal(m)
	if err != nil {
		return ev, &Problem{Message: "cannot encode event: " + err.Error()}
	}
	ev.JSON = b
	return ev, nil
}

func sensorReportFrom(rep map[string]any, device string, t *time.Time) (trace.SensorReport, *Problem) {
	sr := trace.SensorReport{DeviceID: device, Time: t}
	if s, ok := rep["type"].(string); ok {
		sr.Type = VocabIRI("sensorType", s)
	}
	if s, ok := rep["deviceID"].(string); ok {
		sr.DeviceID = s
	}
	if s, ok := rep["time"].(string); ok {
		if tt, err := parseTimestamp(s); err == nil {
			tt = tt.UTC()
			sr.Time = &tt
		}
	}
	sr.RawUOM, _ = rep["uom"].(string)
	sr.UOM = sr.RawUOM
	conv := func(field string) (*float64, *Problem) {
		n, ok := number(rep[field])
		if !ok {
			return nil, nil
		}
		c, unit, err := ToCanonical(n, sr.RawUOM)
		if err != nil {
			return nil, &Problem{Pointer: "/" + field, Message: err.Error()}
		}
		sr.UOM = unit
		return &c, nil
	}
	var p *Problem
	if sr.Value, p = conv("value"); p != nil {
		return sr, p
	}
	if sr.MinValue, p = conv("minValue"); p != nil {
		return sr, p
	}
	if sr.MaxValue, p = conv("maxValue"); p != nil {
		return sr, p
	}
	if sr.MeanValue, p = conv("meanValue"); p != nil {
		return sr, p
	}
	return sr, nil
}

func typedIDs(v any, idKey, vocabField string) []trace.TypedID {
	l, _ := v.([]any)
	var out []trace.TypedID
	for _, e := range l {
		m, _ := e.(map[string]any)
		id, _ := m[idKey].(string)
		t, _ := m["type"].(string)
		if t != "" {
			t = VocabIRI(vocabField, t)
		}
		out = append(out, trace.TypedID{Type: t, ID: NormalizeEPC(id)})
	}
	return out
}

func strList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}

// NormalizeEPC returns the form identifiers are indexed and matched in: the
// constrained canonical GS1 Digital Link for GS1 keys, otherwise the
// trimmed input.
func NormalizeEPC(s string) string {
	s = strings.TrimSpace(s)
	if dl, ok := NormalizeID(s); ok {
		return dl
	}
	return s
}

// NormalizeLocation is NormalizeEPC for readPoint/bizLocation: an SGLN
// with extension 0 and a plain GLN are the same place.
func NormalizeLocation(s string) string { return NormalizeEPC(s) }

// ilmdLot returns the lot number an event's ILMD assigns (cbvmda:lotNumber,
// or any namespaced lotNumber).
func ilmdLot(il any) string {
	m, _ := il.(map[string]any)
	for k, v := range m {
		if k == "cbvmda:lotNumber" || k == "urn:epcglobal:cbv:mda:lotNumber" || k == "lotNumber" || strings.HasSuffix(k, ":lotNumber") {
			if s, ok := v.(string); ok {
				return strings.TrimSpace(s)
			}
		}
	}
	return ""
}

var reSGTINDL = regexp.MustCompile(`^https://id.gs1.org/01/(\d{14})/21/`)

// lotRefs links each GTIN of the event's serialised EPCs to the lot.
func lotRefs(refs []trace.EPCRef, lot string) []trace.EPCRef {
	seen := map[string]bool{}
	var out []trace.EPCRef
	for _, r := range refs {
		if r.Role != trace.RoleEPC && r.Role != trace.RoleOutput && r.Role != trace.RoleChild {
			continue
		}
		m := reSGTINDL.FindStringSubmatch(r.ID)
		if m == nil {
			continue
		}
		id := trace.LGTIN(m[1], lot)
		if !seen[id] {
			seen[id] = true
			out = append(out, trace.EPCRef{Role: trace.RoleLot, ID: id})
		}
	}
	return out
}

// withoutEvents returns a shallow copy of the document whose event list is
// empty, copying only the maps on the path to it.
func withoutEvents(root map[string]any) map[string]any {
	cp := func(m map[string]any) map[string]any {
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	r := cp(root)
	body, ok := r["epcisBody"].(map[string]any)
	if !ok {
		return r
	}
	body = cp(body)
	r["epcisBody"] = body
	if _, ok := body["eventList"].([]any); ok {
		body["eventList"] = []any{}
		return r
	}
	if qr, ok := body["queryResults"].(map[string]any); ok {
		qr = cp(qr)
		body["queryResults"] = qr
		if rb, ok := qr["resultsBody"].(map[string]any); ok {
			rb = cp(rb)
			qr["resultsBody"] = rb
			if _, ok := rb["eventList"].([]any); ok {
				rb["eventList"] = []any{}
			}
		}
	}
	return r
}

// parallel runs fn(0…n-1) on GOMAXPROCS goroutines: validating and hashing
// events is CPU-bound and independent per event.
func parallel(n int, fn func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}
