package sqldb_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractColdChainBulkRollups: a long upload (a logger's day, the demo
// history) writes its rollups with multi-row statements; a second upload
// over the same buckets merges into them as live ingest does. Both
// databases agree with rollups computed here.
func TestContractColdChainBulkRollups(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		cc := &sqldb.ColdChainStore{DB: db}
		room := &coldchain.Location{MerchantID: s.m, Name: "冷库", Kind: "cold_room", Class: "chilled", StoreID: s.store}
		must(t, cc.CreateLocation(ctx, room))
		dev := &coldchain.Device{MerchantID: s.m, Key: "logger-1", LocationID: room.ID, TokenHash: "h"}
		must(t, cc.CreateDevice(ctx, dev))
		t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
		type agg struct {
			n      int64
			sum    float64
			mn, mx float64
		}
		want := map[int64]*agg{}
		upload := func(from, every int64, count int, temp func(int) float64) {
			var rs []coldchain.Reading
			for i := range count {
				ts := from + int64(i)*every
				v := temp(i)
				rs = append(rs, coldchain.Reading{DevicePK: dev.ID, LocationID: room.ID, MerchantID: s.m, TS: ts, Temp: v, Hum: math.NaN()})
				b := ts - ts%coldchain.RollupPeriod.Milliseconds()
				a := want[b]
				if a == nil {
					a = &agg{mn: math.Inf(1), mx: math.Inf(-1)}
					want[b] = a
				}
				a.n++
				a.sum += v
				a.mn, a.mx = math.Min(a.mn, v), math.Max(a.mx, v)
			}
			must(t, cc.AppendReadings(ctx, rs))
		}
		upload(t0, 120_000, 720, func(i int) float64 { return 2 + float64(i%7)/2 })      // a day every 2 minutes: 288 buckets
		upload(t0+60_000, 600_000, 144, func(i int) float64 { return 1 + float64(i%5) }) // the same day again, merged
		rolls, err := cc.Rollups(ctx, s.m, []int64{room.ID}, t0, t0+25*time.Hour.Milliseconds())
		must(t, err)
		got := rolls[room.ID]
		if len(got) != len(want) || len(got) != 288 {
			t.Fatalf("%d rollups, want %d", len(got), len(want))
		}
		for _, r := range got {
			w := want[r.Bucket]
			if w == nil || r.N != w.n || math.Abs(r.Sum-w.sum) > 1e-6 || r.Min != w.mn || r.Max != w.mx || r.SumArrh <= 0 {
				t.Fatalf("bucket %d: got %+v, want %+v", r.Bucket, r, w)
			}
		}
	})
}
