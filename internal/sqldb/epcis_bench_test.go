package sqldb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/trace"
	"github.com/shelflive/shelflive/internal/trace/epcis"
)

var (
	benchSteps = []string{"commissioning", "packing", "shipping", "receiving", "storing", "loading", "unloading", "inspecting", "retail_selling", "holding"}
	benchDisps = []string{"active", "in_progress", "in_transit", "sellable_accessible", "needs_replacement"}
)

// synthEvent makes a plausible cold-chain ObjectEvent: two SGTINs of one of
// 2,000 products, one of 200 locations, a purchase order, and on every
// fourth event a temperature report.
func synthEvent(i int, base time.Time) trace.Event {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	gtinItem := r.IntN(2000)
	loc := r.IntN(200)
	step := benchSteps[r.IntN(len(benchSteps))]
	disp := benchDisps[r.IntN(len(benchDisps))]
	t := base.Add(time.Duration(i) * time.Second)
	epc1 := fmt.Sprintf("urn:epc:id:sgtin:0614141.1%05d.%d", gtinItem, i)
	epc2 := fmt.Sprintf("urn:epc:id:sgtin:0614141.1%05d.%d", gtinItem, i+1_000_000_000)
	rp := fmt.Sprintf("urn:epc:id:sgln:0614141.%05d.0", loc)
	po := fmt.Sprintf("urn:epcglobal:cbv:bt:0614141000005:PO%d", i/50)
	m := map[string]any{
		"type": "ObjectEvent", "eventTime": t.Format(time.RFC3339Nano), "eventTimeZoneOffset": "+08:00",
		"epcList": []string{epc1, epc2}, "action": "OBSERVE", "bizStep": step, "disposition": disp,
		"readPoint": map[string]string{"id": rp}, "bizLocation": map[string]string{"id": rp},
		"bizTransactionList": []map[string]string{{"type": "po", "bizTransaction": po}},
	}
	ev := trace.Event{
		EventID: fmt.Sprintf("urn:uuid:bench-%d", i), Type: "ObjectEvent", EventTime: t, EventTimeZoneOffset: "+08:00",
		Action: "OBSERVE", BizStep: epcis.VocabIRI("bizStep", step), Disposition: epcis.VocabIRI("disposition", disp),
		ReadPoint: epcis.NormalizeLocation(rp), BizLocation: epcis.NormalizeLocation(rp),
		EPCs:            []trace.EPCRef{{Role: trace.RoleEPC, ID: epcis.NormalizeEPC(epc1)}, {Role: trace.RoleEPC, ID: epcis.NormalizeEPC(epc2)}},
		BizTransactions: []trace.TypedID{{Type: "https://ref.gs1.org/cbv/BTT-po", ID: po}},
	}
	if i%4 == 0 {
		v := float64(r.IntN(200))/10 - 2 // -2.0 … 17.9 °C
		ev.Sensors = []trace.SensorReport{{Type: "https://gs1.org/voc/Temperature", UOM: "CEL", RawUOM: "CEL", Value: &v, Time: &t}}
		m["sensorElementList"] = []any{map[string]any{"sensorReport": []any{map[string]any{"type": "Temperature", "value": v, "uom": "CEL"}}}}
	}
	m["eventID"] = ev.EventID
	ev.JSON, _ = json.Marshal(m)
	ev.HashID = ev.EventID
	return ev
}

var benchBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func fill(tb testing.TB, s *sqldb.EPCISStore, m int64, from, n, batch int) {
	tb.Helper()
	evs := make([]trace.Event, 0, batch)
	for i := from; i < from+n; i++ {
		evs = append(evs, synthEvent(i, benchBase))
		if len(evs) == batch || i == from+n-1 {
			if _, err := s.Capture(context.Background(), m, evs); err != nil {
				tb.Fatal(err)
			}
			evs = evs[:0]
		}
	}
}

// BenchmarkEPCISCapture measures stored events per second on SQLite, in
// capture calls of 500 events (a typical partner document).
func BenchmarkEPCISCapture(b *testing.B) {
	_, s, m, _ := mustOpenEPCIS(b)
	evs := make([]trace.Event, b.N)
	for i := range evs {
		evs[i] = synthEvent(i, benchBase)
	}
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i += 500 {
		end := min(i+500, b.N)
		if _, err := s.Capture(context.Background(), m, evs[i:end]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	// CPU time per event does not depend on what else the shared machine runs.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
}

// BenchmarkEPCISQuery measures indexed queries on a large store. The size
// is SHELFLIVE_BENCH_EPCIS_EVENTS (default 100,000; the documented figure
// uses 1,000,000). Each sub-benchmark reports p50/p99 latency.
func BenchmarkEPCISQuery(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SHELFLIVE_BENCH_EPCIS_EVENTS")); err == nil && v > 0 {
		n = v
	}
	dir := os.Getenv("SHELFLIVE_BENCH_EPCIS_DB") // reuse a built store between runs
	var s *sqldb.EPCISStore
	var m int64
	if dir != "" {
		db, err := sqldb.OpenSQLite(context.Background(), dir)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		s = sqldb.NewEPCISStore(db)
		var have int
		db.QueryRow(context.Background(), `SELECT count(*) FROM epcis_events`).Scan(&have)
		if have == 0 {
			err = db.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
				var err error
				m, err = tx.InsertID(context.Background(), `INSERT INTO merchants (slug, name, created_at) VALUES ('bench', 'bench', 0)`)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		} else {
			db.QueryRow(context.Background(), `SELECT id FROM merchants WHERE slug = 'bench'`).Scan(&m)
		}
		if have < n {
			start := time.Now()
			fill(b, s, m, have, n-have, 2000)
			b.Logf("built %d events in %s", n-have, time.Since(start))
		}
	} else {
		_, s, m, _ = mustOpenEPCIS(b)
		start := time.Now()
		fill(b, s, m, 0, n, 2000)
		b.Logf("built %d events in %s", n, time.Since(start))
	}
	probe := synthEvent(n/2, benchBase)
	mid := benchBase.Add(time.Duration(n/2) * time.Second)
	queries := []struct{ name, q string }{
		{"MATCH_epc", "MATCH_epc=" + url.QueryEscape(probe.EPCs[0].ID)},
		{"MATCH_anyEPC_class", "MATCH_anyEPC=" + url.QueryEscape(probe.EPCs[0].ID[:len("https://id.gs1.org/01/")+14])},
		{"EQ_bizStep_window", "EQ_bizStep=shipping&GE_eventTime=" + url.QueryEscape(mid.Format(time.RFC3339)) + "&LT_eventTime=" + url.QueryEscape(mid.Add(6*time.Hour).Format(time.RFC3339))},
		{"EQ_readPoint", "EQ_readPoint=" + url.QueryEscape(probe.ReadPoint)},
		{"EQ_bizTransaction", "EQ_bizTransaction_po=" + url.QueryEscape(probe.BizTransactions[0].ID)},
		{"sensor_above_8C", "EQ_type=Temperature&GE_value_FAH=46.4&GE_eventTime=" + url.QueryEscape(mid.Format(time.RFC3339))},
		{"eventTime_page", "GE_eventTime=" + url.QueryEscape(mid.Format(time.RFC3339))},
	}
	for _, q := range queries {
		v, _ := url.ParseQuery(q.q)
		f, err := epcis.ParseQuery(v)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(q.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				page, err := s.QueryEvents(context.Background(), m, f)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				if len(page.Events) == 0 {
					b.Fatalf("%s: no events", q.name)
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
