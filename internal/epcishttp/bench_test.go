package epcishttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/epcishttp"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/trace"
	"github.com/shelflive/shelflive/internal/trace/epcis"
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
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		resp, body := e.do(b, "POST", "/epcis/capture", "quality-1", docs[i], "application/json")
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	b.ReportMetric(float64(b.N*per)/time.Since(start).Seconds(), "events/s")
	// CPU time per event does not depend on what else the shared machine runs.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N*per), "cpu-µs/event")
}

// BenchmarkHTTPQuery measures GET /epcis/events latency through HTTP
// (parse, SQL, JSON encoding of an EPCISQueryDocument). With
// SHELFLIVE_BENCH_EPCIS_DB pointing at the store built by
// sqldb's BenchmarkEPCISQuery (1,000,000 events) it runs on that; otherwise
// it captures 20,000 events first. Probe values come from a stored event.
func BenchmarkHTTPQuery(b *testing.B) {
	ctx := context.Background()
	var store *sqldb.EPCISStore
	var merchant int64
	if path := os.Getenv("SHELFLIVE_BENCH_EPCIS_DB"); path != "" {
		db, err := sqldb.OpenSQLite(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRow(ctx, `SELECT id FROM merchants WHERE slug = 'bench'`).Scan(&merchant); err != nil {
			b.Fatal("no bench merchant in ", path, ": ", err)
		}
		store = sqldb.NewEPCISStore(db)
	} else {
		e := newEnv(b)
		store, merchant = e.store, e.m1
		for i := 0; i < 40; i++ {
			doc, err := epcis.ParseDocument(benchDocument(i, 500))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := store.Capture(ctx, merchant, doc.Events); err != nil {
				b.Fatal(err)
			}
		}
	}
	srv := httptest.NewServer(epcishttp.New(store, epcishttp.AuthorizerFunc(func(*http.Request) (int64, bool, error) { return merchant, true, nil })))
	defer srv.Close()
	// Probe: an event from the middle of the store.
	all, err := store.QueryEvents(ctx, merchant, trace.EventFilter{PerPage: 1, WithEPCs: true})
	if err != nil || len(all.Events) == 0 {
		b.Fatal("empty store", err)
	}
	first := all.Events[0].EventTime
	probePage, err := store.QueryEvents(ctx, merchant, trace.EventFilter{PerPage: 1, WithEPCs: true, GEEventTime: ptr(first.Add(time.Hour))})
	if err != nil || len(probePage.Events) == 0 {
		b.Fatal("no probe event", err)
	}
	probe := probePage.Events[0]
	mid := probe.EventTime
	var epc string
	for _, r := range probe.EPCs {
		if r.Role == trace.RoleEPC {
			epc = r.ID
		}
	}
	queries := []struct{ name, q string }{
		{"MATCH_epc", "MATCH_epc=" + url.QueryEscape(epc)},
		{"EQ_bizStep_window", "EQ_bizStep=" + url.QueryEscape(probe.BizStep) + "&GE_eventTime=" + url.QueryEscape(mid.Format(time.RFC3339)) + "&LT_eventTime=" + url.QueryEscape(mid.Add(6*time.Hour).Format(time.RFC3339))},
		{"EQ_readPoint", "EQ_readPoint=" + url.QueryEscape(probe.ReadPoint)},
		{"sensor_temperature", "EQ_type=Temperature&GE_value_FAH=41&GE_eventTime=" + url.QueryEscape(mid.Format(time.RFC3339))},
		{"eventTime_page30", "GE_eventTime=" + url.QueryEscape(mid.Format(time.RFC3339))},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				resp, err := srv.Client().Get(srv.URL + "/epcis/events?" + q.q)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(t0))
				if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"eventID"`)) {
					b.Fatalf("%s: %d %.200s", q.name, resp.StatusCode, body)
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

func ptr[T any](v T) *T { return &v }

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
