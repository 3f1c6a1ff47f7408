package epcishttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/epcishttp"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/trace"
	"github.com/shelflive/shelflive/internal/trace/epcis"
)

const examplesDir = "../trace/epcis/testdata/gs1examples"

// tokens stands in for the lead's session/API-token lookup.
type tokens map[string]struct {
	merchant int64
	capture  bool
}

func (t tokens) Authorize(r *http.Request) (int64, bool, error) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok == "forbidden" {
		return 0, false, apperr.ErrForbidden
	}
	a, ok := t[tok]
	if !ok {
		return 0, false, apperr.ErrUnauthorized
	}
	return a.merchant, a.capture, nil
}

type env struct {
	srv   *httptest.Server
	store *sqldb.EPCISStore
	m1    int64
	m2    int64
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	ctx := context.Background()
	db, err := sqldb.OpenSQLite(ctx, filepath.Join(tb.TempDir(), "epcis.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	var ids []int64
	err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		for _, slug := range []string{"farm", "bakery"} {
			id, err := tx.InsertID(ctx, `INSERT INTO merchants (slug, name, created_at) VALUES (?, ?, ?)`, slug, slug, time.Now().UnixMilli())
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	store := sqldb.NewEPCISStore(db)
	auth := tokens{
		"quality-1": {ids[0], true},
		"viewer-1":  {ids[0], false},
		"quality-2": {ids[1], true},
	}
	srv := httptest.NewServer(epcishttp.New(store, auth))
	tb.Cleanup(srv.Close)
	return &env{srv: srv, store: store, m1: ids[0], m2: ids[1]}
}

func (e *env) do(tb testing.TB, method, path, token string, body []byte, ctype string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (e *env) capture(tb testing.TB, token string, doc []byte) (*http.Response, map[string]any) {
	tb.Helper()
	resp, b := e.do(tb, "POST", "/epcis/capture", token, doc, "application/ld+json")
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp, m
}

type queryDoc struct {
	Context   []any  `json:"@context"`
	Type      string `json:"type"`
	EpcisBody struct {
		QueryResults struct {
			ResultsBody struct {
				EventList []map[string]any `json:"eventList"`
			} `json:"resultsBody"`
		} `json:"queryResults"`
	} `json:"epcisBody"`
}

// queryAll follows Link headers and returns the eventIDs of all pages; it
// also checks every page against the GS1 schema.
func (e *env) queryAll(tb testing.TB, token, q string) []string {
	tb.Helper()
	var ids []string
	path := "/epcis/events?" + q
	for pages := 0; path != ""; pages++ {
		if pages > 200 {
			tb.Fatal("pagination does not end")
		}
		resp, b := e.do(tb, "GET", path, token, nil, "")
		if resp.StatusCode != 200 {
			tb.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		if err := epcis.Validate(b); err != nil {
			tb.Fatalf("GET %s: response is not a valid EPCISQueryDocument: %v", path, err)
		}
		var d queryDoc
		if err := json.Unmarshal(b, &d); err != nil {
			tb.Fatal(err)
		}
		for _, ev := range d.EpcisBody.QueryResults.ResultsBody.EventList {
			ids = append(ids, ev["eventID"].(string))
		}
		path = ""
		if l := resp.Header.Get("Link"); l != "" {
			if !strings.HasSuffix(l, `>; rel="next"`) || !strings.HasPrefix(l, "<") {
				tb.Fatalf("bad Link header %q", l)
			}
			path = strings.TrimSuffix(strings.TrimPrefix(l, "<"), `>; rel="next"`)
		}
	}
	return ids
}

func exampleFiles(tb testing.TB) []string {
	tb.Helper()
	top, _ := filepath.Glob(filepath.Join(examplesDir, "*.jsonld"))
	sub, _ := filepath.Glob(filepath.Join(examplesDir, "*", "*.jsonld"))
	files := append(top, sub...)
	sort.Strings(files)
	if len(files) != 47 {
		tb.Fatalf("want 47 examples, have %d", len(files))
	}
	return files
}

// stored mirrors what the repository keeps: the first event per eventID.
type stored struct {
	ev       trace.Event
	declared bool
}

// captureExamples posts all 47 GS1 examples and returns the oracle.
func captureExamples(t *testing.T, e *env) map[string]*stored {
	t.Helper()
	oracle := map[string]*stored{}
	for _, f := range exampleFiles(t) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		resp, job := e.capture(t, "quality-1", raw)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("%s: %d %v", f, resp.StatusCode, job)
		}
		loc := resp.Header.Get("Location")
		if !strings.HasPrefix(loc, "/epcis/capture/") {
			t.Fatalf("%s: Location %q", f, loc)
		}
		jr, jb := e.do(t, "GET", loc, "viewer-1", nil, "")
		var j map[string]any
		json.Unmarshal(jb, &j)
		if jr.StatusCode != 200 || j["success"] != true || j["running"] != false {
			t.Fatalf("%s: job %d %s", f, jr.StatusCode, jb)
		}
		doc, err := epcis.ParseDocument(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range doc.Events {
			if s, ok := oracle[ev.EventID]; ok {
				if ev.ErrorDeclaration != nil {
					s.declared = true
				}
				continue
			}
			oracle[ev.EventID] = &stored{ev: ev, declared: ev.ErrorDeclaration != nil}
		}
	}
	return oracle
}

func sameSet(t *testing.T, name string, got []string, want []string) {
	t.Helper()
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %d %v\nwant %d %v", name, len(got), got, len(want), want)
	}
}

func TestCaptureAndQueryGS1Examples(t *testing.T) {
	e := newEnv(t)
	oracle := captureExamples(t, e)

	all := e.queryAll(t, "viewer-1", "perPage=7")
	var want []string
	for id := range oracle {
		want = append(want, id)
	}
	sameSet(t, "all events, paged by 7", all, want)
	if len(all) < 40 {
		t.Fatalf("only %d events stored", len(all))
	}
	// Another merchant sees none of them.
	if n := len(e.queryAll(t, "quality-2", "")); n != 0 {
		t.Fatalf("merchant 2 sees %d events", n)
	}

	has := func(ev trace.Event, role string, id string, prefix bool) bool {
		for _, r := range ev.EPCs {
			if r.Role != role {
				continue
			}
			if r.ID == id || (prefix && strings.HasPrefix(r.ID, id)) {
				return true
			}
		}
		return false
	}
	pick := func(pred func(trace.Event) bool) []string {
		var out []string
		for id, s := range oracle {
			if pred(s.ev) {
				out = append(out, id)
			}
		}
		return out
	}
	// Probe values taken from the examples.
	const sgtin = "urn:epc:id:sgtin:0614141.107346.2017"
	const sgtinDL = "https://id.gs1.org/01/10614141073464/21/2017"
	var parent, input, output, class, sensorMark, bizLoc string
	var src, dst trace.TypedID
	var device string
	for _, s := range oracle {
		if len(s.ev.Sources) > 0 && s.ev.Sources[0].Type != "" {
			src = s.ev.Sources[0]
		}
		if len(s.ev.Destinations) > 0 && s.ev.Destinations[0].Type != "" {
			dst = s.ev.Destinations[0]
		}
		for _, r := range s.ev.Sensors {
			if r.DeviceID != "" {
				device = r.DeviceID
			}
		}
		if s.ev.BizLocation != "" {
			bizLoc = s.ev.BizLocation
		}
		for _, r := range s.ev.EPCs {
			switch r.Role {
			case trace.RoleParent:
				parent = r.ID
			case trace.RoleInput:
				input = r.ID
			case trace.RoleOutput:
				output = r.ID
			case trace.RoleQuantity:
				class = r.ID
			}
		}
		if len(s.ev.Sensors) > 0 {
			sensorMark = s.ev.EventID
		}
	}
	if src.ID == "" || dst.ID == "" || device == "" || bizLoc == "" || parent == "" || input == "" || output == "" || class == "" || sensorMark == "" {
		t.Fatal("examples lack a probe value")
	}
	t0 := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		q    string
		pred func(trace.Event) bool
	}{
		{"eventType", "eventType=AggregationEvent|TransformationEvent", func(ev trace.Event) bool {
			return ev.Type == "AggregationEvent" || ev.Type == "TransformationEvent"
		}},
		{"GE_eventTime+LT_eventTime", "GE_eventTime=" + url.QueryEscape(t0.Format(time.RFC3339)) + "&LT_eventTime=" + url.QueryEscape(t1.Add(-8*time.Hour).In(time.FixedZone("", 8*3600)).Format(time.RFC3339)),
			func(ev trace.Event) bool {
				return !ev.EventTime.Before(t0) && ev.EventTime.Before(t1.Add(-8*time.Hour))
			}},
		{"GE_recordTime", "GE_recordTime=2020-01-01T00:00:00Z", func(trace.Event) bool { return true }},
		{"LT_recordTime", "LT_recordTime=2020-01-01T00:00:00Z", func(trace.Event) bool { return false }},
		{"EQ_action", "EQ_action=ADD", func(ev trace.Event) bool { return ev.Action == "ADD" }},
		{"EQ_bizStep", "EQ_bizStep=shipping|receiving", func(ev trace.Event) bool {
			return ev.BizStep == "https://ref.gs1.org/cbv/BizStep-shipping" || ev.BizStep == "https://ref.gs1.org/cbv/BizStep-receiving"
		}},
		{"EQ_disposition", "EQ_disposition=in_transit", func(ev trace.Event) bool { return ev.Disposition == "https://ref.gs1.org/cbv/Disp-in_transit" }},
		{"EQ_readPoint(URN)", "EQ_readPoint=urn:epc:id:sgln:0614141.07346.1234", func(ev trace.Event) bool {
			return ev.ReadPoint == "https://id.gs1.org/414/0614141073467/254/1234"
		}},
		{"EQ_bizLocation", "EQ_bizLocation=" + url.QueryEscape(bizLoc), func(ev trace.Event) bool { return ev.BizLocation == bizLoc }},
		{"MATCH_epc(URN)", "MATCH_epc=" + sgtin, func(ev trace.Event) bool {
			return has(ev, trace.RoleEPC, sgtinDL, false) || has(ev, trace.RoleChild, sgtinDL, false)
		}},
		{"MATCH_epc(pattern)", "MATCH_epc=urn:epc:idpat:sgtin:0614141.107346.*", func(ev trace.Event) bool {
			return has(ev, trace.RoleEPC, "https://id.gs1.org/01/10614141073464", true) || has(ev, trace.RoleChild, "https://id.gs1.org/01/10614141073464", true)
		}},
		{"MATCH_anyEPC", "MATCH_anyEPC=" + url.QueryEscape(sgtinDL+"|"+parent), func(ev trace.Event) bool {
			for _, r := range []string{trace.RoleEPC, trace.RoleChild, trace.RoleParent, trace.RoleInput, trace.RoleOutput} {
				if has(ev, r, sgtinDL, false) || has(ev, r, parent, false) {
					return true
				}
			}
			return false
		}},
		{"MATCH_parentID", "MATCH_parentID=" + url.QueryEscape(parent), func(ev trace.Event) bool { return has(ev, trace.RoleParent, parent, false) }},
		{"MATCH_inputEPC", "MATCH_inputEPC=" + url.QueryEscape(input), func(ev trace.Event) bool { return has(ev, trace.RoleInput, input, false) }},
		{"MATCH_outputEPC", "MATCH_outputEPC=" + url.QueryEscape(output), func(ev trace.Event) bool { return has(ev, trace.RoleOutput, output, false) }},
		{"MATCH_epcClass", "MATCH_epcClass=" + url.QueryEscape(class), func(ev trace.Event) bool {
			return has(ev, trace.RoleQuantity, class, strings.Count(class, "/") == 4) || has(ev, trace.RoleChildQuantity, class, strings.Count(class, "/") == 4)
		}},
		{"EQ_bizTransaction_po", "EQ_bizTransaction_po=" + url.QueryEscape("http://transaction.acme.com/po/12345678"), func(ev trace.Event) bool {
			for _, bt := range ev.BizTransactions {
				if bt.Type == "https://ref.gs1.org/cbv/BTT-po" && bt.ID == "http://transaction.acme.com/po/12345678" {
					return true
				}
			}
			return false
		}},
		{"MATCH_anyEPCClass", "MATCH_anyEPCClass=" + url.QueryEscape(class), func(ev trace.Event) bool {
			for _, r := range []string{trace.RoleQuantity, trace.RoleChildQuantity, trace.RoleInputQuantity, trace.RoleOutputQuantity} {
				if has(ev, r, class, strings.Count(class, "/") == 4) {
					return true
				}
			}
			return false
		}},
		{"EQ_source_type", "EQ_source_" + src.Type[strings.LastIndex(src.Type, "-")+1:] + "=" + url.QueryEscape(src.ID), func(ev trace.Event) bool {
			for _, x := range ev.Sources {
				if x == src {
					return true
				}
			}
			return false
		}},
		{"EQ_destination_type", "EQ_destination_" + dst.Type[strings.LastIndex(dst.Type, "-")+1:] + "=" + url.QueryEscape(dst.ID), func(ev trace.Event) bool {
			for _, x := range ev.Destinations {
				if x == dst {
					return true
				}
			}
			return false
		}},
		{"EQ_deviceID", "EQ_deviceID=" + url.QueryEscape(device), func(ev trace.Event) bool {
			for _, r := range ev.Sensors {
				if r.DeviceID == device {
					return true
				}
			}
			return false
		}},
		{"EXISTS_sensorElement", "EXISTS_sensorElement", func(ev trace.Event) bool { return len(ev.Sensors) > 0 }},
		{"EQ_type+GE_value_FAH+LT_value", "EQ_type=Temperature&GE_value_FAH=" + url.QueryEscape("78.8") + "&LT_value=27", func(ev trace.Event) bool {
			for _, s := range ev.Sensors { // 78.8 °F = 26 °C
				if s.Type == "https://gs1.org/voc/Temperature" && s.Value != nil && *s.Value >= 26 && *s.Value < 27 && s.UOM == "CEL" {
					return true
				}
			}
			return false
		}},
		{"EQ_type+LT_value_KEL", "EQ_type=Temperature&LT_value_KEL=296.15", func(ev trace.Event) bool {
			for _, s := range ev.Sensors { // 296.15 K = 23 °C
				if s.Type == "https://gs1.org/voc/Temperature" && s.Value != nil && *s.Value < 23 && s.UOM == "CEL" {
					return true
				}
			}
			return false
		}},
		{"EQ_eventID", "EQ_eventID=" + url.QueryEscape(sensorMark), func(ev trace.Event) bool { return ev.EventID == sensorMark }},
		{"EXISTS_errorDeclaration", "EXISTS_errorDeclaration", func(ev trace.Event) bool { return oracle[ev.EventID].declared }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := pick(c.pred)
			if len(want) == 0 && !strings.HasPrefix(c.name, "LT_recordTime") {
				t.Fatalf("probe selects nothing; the test would prove nothing")
			}
			got := e.queryAll(t, "viewer-1", c.q+"&perPage=5")
			sameSet(t, c.q, got, want)
		})
	}
}

func TestCaptureRejects(t *testing.T) {
	e := newEnv(t)
	raw, err := os.ReadFile(filepath.Join(examplesDir, "Example_9.6.1-ObjectEvent.jsonld"))
	if err != nil {
		t.Fatal(err)
	}
	good, err := epcis.ParseDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(fn func(ev map[string]any)) []byte {
		var d map[string]any
		json.Unmarshal(raw, &d)
		evs := d["epcisBody"].(map[string]any)["eventList"].([]any)
		fn(evs[1].(map[string]any))
		b, _ := json.Marshal(d)
		return b
	}
	cases := []struct {
		name, pointer string
		doc           []byte
	}{
		{"ErrAction", "/epcisBody/eventList/1/action", mutate(func(ev map[string]any) { ev["action"] = "SELL" })},
		{"ErrEventTime", "/epcisBody/eventList/1/eventTime", mutate(func(ev map[string]any) { ev["eventTime"] = "2024-13-01" })},
		{"ErrExtensionWithoutPrefix", "/epcisBody/eventList/1/temperature", mutate(func(ev map[string]any) { ev["temperature"] = 4 })},
		{"ErrEPC", "/epcisBody/eventList/1/epcList/0", mutate(func(ev map[string]any) { ev["epcList"] = []any{"box 12"} })},
		{"ErrMissingAction", "/epcisBody/eventList/1", mutate(func(ev map[string]any) { delete(ev, "action") })},
		{"ErrSensorValue", "/epcisBody/eventList/1/sensorElementList/0/sensorReport/0/value", mutate(func(ev map[string]any) {
			ev["sensorElementList"] = []any{map[string]any{"sensorReport": []any{map[string]any{"type": "Temperature", "value": "cold", "uom": "CEL"}}}}
		})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, p := e.capture(t, "quality-1", c.doc)
			if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if p["code"] != "epcis_invalid_document" || p["type"] == "" || p["title"] == "" || p["status"] != float64(400) || p["detail"] == "" {
				t.Fatalf("problem %v", p)
			}
			errs, _ := p["errors"].([]any)
			found := false
			for _, x := range errs {
				m := x.(map[string]any)
				if m["pointer"] == c.pointer && m["event"] == float64(1) && m["eventID"] != "" && m["message"] != "" {
					found = true
				}
			}
			if !found {
				t.Fatalf("no error at %s: %v", c.pointer, errs)
			}
			// The valid first event of the same document was not stored either.
			r, _ := e.do(t, "GET", "/epcis/events/"+url.PathEscape(good.Events[0].EventID), "quality-1", nil, "")
			if r.StatusCode != 404 {
				t.Fatalf("valid event of a rejected document stored: %d", r.StatusCode)
			}
		})
	}
	if n := len(e.queryAll(t, "quality-1", "")); n != 0 {
		t.Fatalf("%d events stored by rejected documents", n)
	}
	t.Run("ErrNotJSON", func(t *testing.T) {
		resp, p := e.capture(t, "quality-1", []byte("<epcis/>"))
		if resp.StatusCode != 400 || p["code"] != "epcis_invalid_document" {
			t.Fatalf("%d %v", resp.StatusCode, p)
		}
	})
	t.Run("ErrCaptureLimit", func(t *testing.T) {
		evs := make([]any, trace.CaptureLimit+1)
		for i := range evs {
			evs[i] = map[string]any{"type": "ObjectEvent", "action": "OBSERVE", "eventTime": "2024-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00", "epcList": []string{}}
		}
		doc, _ := json.Marshal(map[string]any{"@context": []string{epcis.ContextURL}, "type": "EPCISDocument", "schemaVersion": "2.0",
			"creationDate": "2024-01-01T00:00:00Z", "epcisBody": map[string]any{"eventList": evs}})
		resp, p := e.capture(t, "quality-1", doc)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || p["code"] != "epcis_capture_limit" {
			t.Fatalf("%d %v", resp.StatusCode, p)
		}
	})
	t.Run("ErrMediaType", func(t *testing.T) {
		resp, _ := e.do(t, "POST", "/epcis/capture", "quality-1", raw, "text/plain")
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
}

func TestCaptureIdempotentAndByID(t *testing.T) {
	e := newEnv(t)
	raw, _ := os.ReadFile(filepath.Join(examplesDir, "WithSensorData/SensorDataExample1.jsonld"))
	doc, err := epcis.ParseDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	resp, job := e.capture(t, "quality-1", raw)
	if resp.StatusCode != 202 || job["storedEvents"] != float64(len(doc.Events)) {
		t.Fatalf("%d %v", resp.StatusCode, job)
	}
	resp, job = e.capture(t, "quality-1", raw)
	if resp.StatusCode != 202 || job["storedEvents"] != float64(0) || job["duplicateEvents"] != float64(len(doc.Events)) {
		t.Fatalf("recapture %d %v", resp.StatusCode, job)
	}
	if n := len(e.queryAll(t, "quality-1", "")); n != len(doc.Events) {
		t.Fatalf("%d events after recapture, want %d", n, len(doc.Events))
	}
	id := doc.Events[0].EventID
	if !strings.HasPrefix(id, "ni:///") {
		t.Fatalf("example event ID %s", id)
	}
	r, b := e.do(t, "GET", "/epcis/events/"+url.PathEscape(id), "viewer-1", nil, "")
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/ld+json" || r.Header.Get("GS1-EPCIS-Version") == "" {
		t.Fatalf("%d %v %s", r.StatusCode, r.Header, b)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/epcis/events?EQ_eventID="+url.QueryEscape(id), nil)
	req.Header.Set("Authorization", "Bearer viewer-1")
	req.Header.Set("Accept", "application/json")
	if jr, err := e.srv.Client().Do(req); err != nil || jr.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("Accept: application/json: %v %v", err, jr.Header)
	} else {
		jr.Body.Close()
	}
	var d queryDoc
	json.Unmarshal(b, &d)
	if l := d.EpcisBody.QueryResults.ResultsBody.EventList; len(l) != 1 || l[0]["eventID"] != id || l[0]["recordTime"] == nil {
		t.Fatalf("event by id: %s", b)
	}
	if r, _ := e.do(t, "GET", "/epcis/events/"+url.PathEscape(id), "quality-2", nil, ""); r.StatusCode != 404 {
		t.Fatalf("other merchant reads the event: %d", r.StatusCode)
	}
}

func TestAuthAndBadQueries(t *testing.T) {
	e := newEnv(t)
	raw, _ := os.ReadFile(filepath.Join(examplesDir, "Example_9.6.1-ObjectEvent.jsonld"))
	cases := []struct {
		name, method, path, token string
		status                    int
		code                      string
	}{
		{"ErrNoToken", "GET", "/epcis/events", "", 401, "unauthorized"},
		{"ErrForbidden", "GET", "/epcis/events", "forbidden", 403, "forbidden"},
		{"ErrCaptureWithoutQualityRole", "POST", "/epcis/capture", "viewer-1", 403, "epcis_capture_forbidden"},
		{"ErrUnknownParam", "GET", "/epcis/events?MATCH_epcs=urn:x", "viewer-1", 400, "epcis_invalid_query"},
		{"ErrBadTime", "GET", "/epcis/events?GE_eventTime=soon", "viewer-1", 400, "epcis_invalid_query"},
		{"ErrBadToken", "GET", "/epcis/events?nextPageToken=xyz", "viewer-1", 400, "epcis_invalid_query"},
		{"ErrUnknownJob", "GET", "/epcis/capture/cap_nope", "viewer-1", 404, "epcis_capture_not_found"},
		{"ErrUnknownEvent", "GET", "/epcis/events/urn:uuid:nope", "viewer-1", 404, "epcis_event_not_found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body []byte
			if c.method == "POST" {
				body = raw
			}
			resp, b := e.do(t, c.method, c.path, c.token, body, "application/json")
			var p map[string]any
			json.Unmarshal(b, &p)
			if resp.StatusCode != c.status || p["code"] != c.code || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
		})
	}
}
