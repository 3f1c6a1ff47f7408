package epcis

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/trace"
)

func TestParseDocumentGS1Examples(t *testing.T) {
	total := 0
	for _, f := range exampleFiles(t) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := ParseDocument(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(doc.Events) == 0 {
			t.Fatalf("%s: no events", f)
		}
		for _, ev := range doc.Events {
			if ev.EventID == "" || ev.EventTime.IsZero() || ev.Type == "" || !strings.HasPrefix(ev.HashID, "ni:///sha-256;") {
				t.Fatalf("%s: incomplete event %+v", f, ev)
			}
			var m map[string]any
			if err := json.Unmarshal(ev.JSON, &m); err != nil || m["eventID"] != ev.EventID {
				t.Fatalf("%s: event JSON lacks eventID: %v", f, err)
			}
		}
		total += len(doc.Events)
	}
	if total != 56 {
		t.Fatalf("%d events in the examples, want 56", total)
	}
}

func TestParseDocumentFields(t *testing.T) {
	raw, _ := os.ReadFile("testdata/gs1examples/Example_9.6.1-ObjectEvent.jsonld")
	doc, err := ParseDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	ev := doc.Events[0]
	if ev.BizStep != "https://ref.gs1.org/cbv/BizStep-shipping" || ev.Disposition != "https://ref.gs1.org/cbv/Disp-in_transit" {
		t.Errorf("vocabulary not expanded: %q %q", ev.BizStep, ev.Disposition)
	}
	if ev.ReadPoint != "https://id.gs1.org/414/0614141073467/254/1234" {
		t.Errorf("readPoint %q", ev.ReadPoint)
	}
	if len(ev.EPCs) != 2 || ev.EPCs[0].ID != "https://id.gs1.org/01/10614141073464/21/2017" || ev.EPCs[0].Role != trace.RoleEPC {
		t.Errorf("epcs %+v", ev.EPCs)
	}
	if len(ev.BizTransactions) != 1 || ev.BizTransactions[0].Type != "https://ref.gs1.org/cbv/BTT-po" {
		t.Errorf("bizTransactions %+v", ev.BizTransactions)
	}
}

// An event without eventID gets the CBV hash; the same event with its
// fields reordered and its EPCs spelled as Digital Links gets the same one.
func TestParseDocumentAssignsHashID(t *testing.T) {
	a := `{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2024-01-01T00:00:00Z","epcisBody":{"eventList":[
	 {"type":"ObjectEvent","eventTime":"2024-03-01T08:00:00.000+08:00","eventTimeZoneOffset":"+08:00","epcList":["urn:epc:id:sgtin:0614141.107346.2017"],"action":"OBSERVE","bizStep":"shipping","readPoint":{"id":"urn:epc:id:sgln:0614141.00777.0"}}]}}`
	b := `{"type":"EPCISDocument","@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"schemaVersion":"2.0","creationDate":"2024-01-01T00:00:00Z","epcisBody":{"eventList":[
	 {"readPoint":{"id":"https://example.com/414/0614141007776"},"bizStep":"shipping","action":"OBSERVE","epcList":["https://example.com/01/10614141073464/21/2017?17=250101"],"eventTimeZoneOffset":"+08:00","eventTime":"2024-03-01T00:00:00Z","type":"ObjectEvent"}]}}`
	da, err := ParseDocument([]byte(a))
	if err != nil {
		t.Fatal(err)
	}
	db, err := ParseDocument([]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	if da.Events[0].EventID != db.Events[0].EventID || !strings.HasPrefix(da.Events[0].EventID, "ni:///sha-256;") {
		t.Fatalf("ids differ: %s vs %s", da.Events[0].EventID, db.Events[0].EventID)
	}
	_, pre, _ := EventHashes([]byte(a))
	want := "eventType=ObjectEventeventTime=2024-03-01T00:00:00.000ZeventTimeZoneOffset=+08:00epcListepc=https://id.gs1.org/01/10614141073464/21/2017action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-shippingreadPointid=https://id.gs1.org/414/0614141007776"
	if pre[0] != want {
		t.Fatalf("prehash\n got %s\nwant %s", pre[0], want)
	}
}

func mutateExample(t testing.TB, file string, idx int, fn func(ev map[string]any)) []byte {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	evs := d["epcisBody"].(map[string]any)["eventList"].([]any)
	fn(evs[idx].(map[string]any))
	out, _ := json.Marshal(d)
	return out
}

// InvalidVariants are broken copies of GS1 examples with the pointer and a
// message fragment the rejection must name. Exported to the HTTP tests via
// the same file names.
func TestParseDocumentRejects(t *testing.T) {
	const f = "testdata/gs1examples/Example_9.6.1-ObjectEvent.jsonld"
	cases := []struct {
		name    string
		fn      func(ev map[string]any)
		pointer string
		msg     string
	}{
		{"BadAction", func(ev map[string]any) { ev["action"] = "JUMP" }, "/epcisBody/eventList/1/action", "OBSERVE"},
		{"BadEventTime", func(ev map[string]any) { ev["eventTime"] = "yesterday" }, "/epcisBody/eventList/1/eventTime", "date-time"},
		{"UnprefixedExtension", func(ev map[string]any) { ev["temperature"] = 5 }, "/epcisBody/eventList/1/temperature", "not allowed"},
		{"MissingAction", func(ev map[string]any) { delete(ev, "action") }, "/epcisBody/eventList/1", "action"},
		{"EPCNotURI", func(ev map[string]any) { ev["epcList"] = []any{"pallet 7"} }, "/epcisBody/eventList/1/epcList/0", "uri"},
		{"ReadPointNumber", func(ev map[string]any) { ev["readPoint"] = map[string]any{"id": 5} }, "/epcisBody/eventList/1/readPoint/id", "string"},
		{"BadBizStep", func(ev map[string]any) { ev["bizStep"] = "ship it" }, "/epcisBody/eventList/1/bizStep", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseDocument(mutateExample(t, f, 1, c.fn))
			var ide *InvalidDocumentError
			if !errors.As(err, &ide) {
				t.Fatalf("want InvalidDocumentError, got %v", err)
			}
			found := false
			for _, p := range ide.Problems {
				if p.Pointer == c.pointer && strings.Contains(p.Message, c.msg) {
					found = true
					if p.Event != 1 || p.EventID == "" {
						t.Errorf("problem does not name the event: %+v", p)
					}
				}
			}
			if !found {
				t.Fatalf("no problem at %s containing %q: %+v", c.pointer, c.msg, ide.Problems)
			}
		})
	}
	t.Run("NotJSON", func(t *testing.T) {
		_, err := ParseDocument([]byte(`{"type":`))
		var ide *InvalidDocumentError
		if !errors.As(err, &ide) || !strings.Contains(ide.Problems[0].Message, "JSON") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("NotADocument", func(t *testing.T) {
		_, err := ParseDocument([]byte(`{"type":"ObjectEvent"}`))
		var ide *InvalidDocumentError
		if !errors.As(err, &ide) || ide.Problems[0].Pointer != "/type" {
			t.Fatalf("got %v", err)
		}
	})
}

func TestSensorUnitConversion(t *testing.T) {
	raw := mutateExample(t, "testdata/gs1examples/WithSensorData/SensorDataExample1.jsonld", 0, func(ev map[string]any) {
		se := ev["sensorElementList"].([]any)[0].(map[string]any)
		se["sensorReport"] = []any{
			map[string]any{"type": "Temperature", "value": 39.2, "uom": "FAH"},
			map[string]any{"type": "Temperature", "value": 277.15, "uom": "KEL"},
			map[string]any{"type": "Temperature", "minValue": 2, "maxValue": 6, "uom": "CEL"},
		}
	})
	doc, err := ParseDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	s := doc.Events[0].Sensors
	if len(s) < 3 || *s[0].Value != 4 || s[0].UOM != "CEL" || s[0].RawUOM != "FAH" || *s[1].Value != 4 || *s[2].MaxValue != 6 {
		t.Fatalf("conversion: %+v", s)
	}
	if s[0].Type != "https://gs1.org/voc/Temperature" {
		t.Fatalf("type %q", s[0].Type)
	}
}

func FuzzParseDocument(f *testing.F) {
	for _, name := range []string{"Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.4-TransformationEvent.jsonld", "WithSensorData/SensorDataExample1.jsonld", "AssociationEvent/AssociationEvent-a.jsonld"} {
		raw, err := os.ReadFile("testdata/gs1examples/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"type":"EPCISDocument"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		doc, err := ParseDocument(raw)
		if err != nil {
			var ide *InvalidDocumentError
			if errors.Is(err, trace.ErrTooManyEvents) {
				return
			}
			if !errors.As(err, &ide) || len(ide.Problems) == 0 {
				t.Fatalf("rejection without problems: %v", err)
			}
			return
		}
		for _, ev := range doc.Events {
			if ev.EventID == "" || !json.Valid(ev.JSON) {
				t.Fatalf("accepted event without ID or JSON")
			}
		}
		if _, _, err := EventHashes(raw); err != nil {
			t.Fatalf("accepted but cannot hash: %v", err)
		}
	})
}

// FuzzParseOrdered checks the hand-written JSON parser against encoding/json.
func FuzzParseOrdered(f *testing.F) {
	f.Add([]byte(`{"a":[1,2.5e3,-0.1,true,false,null,"x\u00e9\n"],"b":{}}`))
	f.Add([]byte(`[01]`))
	f.Add([]byte(`{"a":1,}`))
	f.Add([]byte("\"\xff\""))
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := parseOrdered(raw)
		if (err == nil) != json.Valid(raw) {
			t.Fatalf("parseOrdered err=%v, json.Valid=%v for %q", err, json.Valid(raw), raw)
		}
		if err != nil {
			return
		}
		var want any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(toAny(v))
		b, _ := json.Marshal(want)
		if !bytes.Equal(a, b) {
			t.Fatalf("parsed differently:\n%s\n%s", a, b)
		}
	})
}
