package epcis

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func benchDoc(n int) []byte {
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]any, n)
	for k := range evs {
		evs[k] = map[string]any{
			"type": "ObjectEvent", "eventTime": base.Add(time.Duration(k) * time.Second).Format(time.RFC3339), "eventTimeZoneOffset": "+08:00",
			"epcList": []string{fmt.Sprintf("urn:epc:id:sgtin:0614141.1%05d.%d", k%2000, k)}, "action": "OBSERVE",
			"bizStep": "receiving", "disposition": "in_progress",
			"readPoint":          map[string]string{"id": fmt.Sprintf("urn:epc:id:sgln:0614141.%05d.0", k%200)},
			"bizTransactionList": []map[string]string{{"type": "po", "bizTransaction": fmt.Sprintf("urn:epcglobal:cbv:bt:0614141000005:PO%d", k/50)}},
			"sensorElementList": []any{map[string]any{"sensorReport": []any{
				map[string]any{"type": "Temperature", "value": float64(k%100)/10 + 1, "uom": "CEL"}}}},
		}
	}
	b, _ := json.Marshal(map[string]any{
		"@context": []any{ContextURL}, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2025-03-01T00:00:00Z",
		"epcisBody": map[string]any{"eventList": evs},
	})
	return b
}

// BenchmarkParseDocument measures validation + hashing + extraction of a
// 500-event document (the CPU part of a capture).
func BenchmarkParseDocument(b *testing.B) {
	doc := benchDoc(500)
	b.SetBytes(int64(len(doc)))
	for i := 0; i < b.N; i++ {
		if _, err := ParseDocument(doc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*500), "µs/event")
}
