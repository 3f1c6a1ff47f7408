package coldchain_test

import (
	"context"
	"math"
	"testing"

	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// BenchmarkEvaluator is the rule engine's cost per reading.
func BenchmarkEvaluator(b *testing.B) {
	e := coldchain.Evaluator{P: coldchain.Profiles["chilled"]}
	var out []coldchain.Event
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t := 3 + float64(i%50)/10
		if i%997 > 980 {
			t = 9
		}
		out = e.Add(int64(i)*1000, t, out[:0])
	}
}

// BenchmarkAppendReadings is SQLite storage alone: 1,000-reading flushes
// from 100 devices (chunks + rollup upserts), per reading.
func BenchmarkAppendReadings(b *testing.B) {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, "", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	m := &identity.Merchant{Slug: "bench", Name: "x"}
	if err := (&sqldb.IdentityStore{DB: db}).CreateMerchant(ctx, m); err != nil {
		b.Fatal(err)
	}
	store := &sqldb.ColdChainStore{DB: db}
	batch := make([]coldchain.Reading, 1000)
	ts := int64(1_800_000_000_000)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for i := range batch {
			batch[i] = coldchain.Reading{DevicePK: int64(i % 100), LocationID: 1, MerchantID: m.ID, TS: ts, Temp: 3 + float64(i%7)/10, Hum: math.NaN()}
			if i%100 == 99 {
				ts += 1000
			}
		}
		if err := store.AppendReadings(ctx, batch); err != nil {
			b.Fatal(err)
		}
		n += len(batch)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "readings/s")
}
