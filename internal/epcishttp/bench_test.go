package epcishttp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// benchDocument is an EPCISDocument of n cold-chain ObjectEvents; half
// carry no eventID, so the server computes their CBV 2.0 hash.
func benchDocument(seq, n int) []byte {
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]any, n)
	for i := range evs {
		k := seq*n + i
		ev := map[string]any{
			"type": "ObjectEvent", "eventTime": base.Add(time.Duration(k) * time.Second).Format(time.RFC3339), "eventTimeZoneOffset": "+08:00",
			"epcList": []string{fmt.Sprintf("urn:epc:id:sgtin:0614141.1%05d.%d", k%2000, k)}, "action": "OBSERVE",
			"bizStep": "receiving", "disposition": "in_progress",
			"readPoint":          map[string]string{"id": fmt.Sprintf("urn:epc:id:sgln:0614141.%05d.0", k%200)},
			"bizTransactionList": []map[string]string{{"type": "po", "bizTransaction": fmt.Sprintf("urn:epcglobal:cbv:bt:0614141000005:PO%d", k/50)}},
			"sensorElementList": []any{map[string]any{"sensorReport": []any{
				map[string]any{"type": "Temperature", "value": float64(k%100)/10 + 1, "uom": "CEL"}}}},
		}
		if i%2 == 0 {
			ev["eventID"] = fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", k)
		}
		evs[i] = ev
	}
	doc := map[string]any{
		"@context": []any{"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"},
		"type":     "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2025-03-01T00:00:00Z",
		"epcisBody": map[string]any{"eventList": evs},
	}
	b, _ := json.Marshal(doc)
	return b
}

// BenchmarkHTTPCapture measures POST /epcis/capture end to end on SQLite:
// schema validation, CBV hashing, storage and the capture job, 500 events
// per document.
func BenchmarkHTTPCapture(b *testing.B) {
	const per = 500
	e := newEnv(b)
	docs := make([][]byte, b.N)
	for i := range docs {
		docs[i] = benchDocument(i, per)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		resp, body := e.do(b, "POST", "/epcis/capture", "quality-1", docs[i], "application/json")
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	b.ReportMetric(float64(b.N*per)/time.Since(start).Seconds(), "events/s")
}
