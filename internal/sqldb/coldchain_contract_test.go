package sqldb_test

import (
	"context"
	"math"
	"os"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractColdChain runs the cold-chain store on each database:
// locations and devices, readings (chunks and rollup upserts merging
// min/max), alarms with their lots and decisions, lot lookups, write-off,
// releasing unpaid orders of a held lot, public codes and exports.
func TestContractColdChain(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		cc := &sqldb.ColdChainStore{DB: db}
		// the shop's product is chilled and has a GTIN
		p, err := s.cat.Product(ctx, s.m, s.product)
		must(t, err)
		p.SKUs[0].GTIN = "06901234567892"
		must(t, s.cat.UpdateProduct(ctx, p))
		lot := s.lot(t, s.m, s.sku, s.store, "CC1", 72*time.Hour, 10)

		room := &coldchain.Location{MerchantID: s.m, Name: "冷库", Kind: "cold_room", Class: string(catalog.Chilled), StoreID: s.store, GLN: "https://id.gs1.org/414/6901234000017"}
		must(t, cc.CreateLocation(ctx, room))
		wantCode(t, cc.CreateLocation(ctx, &coldchain.Location{MerchantID: s.m, Name: "x", Kind: "truck", Class: "frozen", StoreID: s.otherStore}), "unknown_store")
		truck := &coldchain.Location{MerchantID: s.m, Name: "冷藏车", Kind: "truck", Class: "frozen"}
		must(t, cc.CreateLocation(ctx, truck))
		got, err := cc.Location(ctx, s.m, room.ID)
		must(t, err)
		if got.StoreID != s.store || got.GLN != room.GLN {
			t.Fatalf("location %+v", got)
		}
		_, err = cc.Location(ctx, s.other, room.ID)
		wantCode(t, err, "not_found")
		byGLN, err := cc.LocationsByGLN(ctx, s.m, []string{room.GLN, "nope"})
		must(t, err)
		if len(byGLN) != 1 || byGLN[0].ID != room.ID {
			t.Fatalf("by GLN %+v", byGLN)
		}
		forLot, err := cc.LocationsForLot(ctx, s.m, lot)
		must(t, err)
		if len(forLot) != 1 || forLot[0].ID != room.ID {
			t.Fatalf("locations for lot %+v", forLot)
		}

		dev := &coldchain.Device{MerchantID: s.m, Key: "probe-1", Name: "探头1", LocationID: room.ID, TokenHash: "th1"}
		must(t, cc.CreateDevice(ctx, dev))
		wantCode(t, cc.CreateDevice(ctx, &coldchain.Device{MerchantID: s.other, Key: "probe-2", LocationID: room.ID, TokenHash: "th2"}), "invalid_location")
		wantCode(t, cc.CreateDevice(ctx, &coldchain.Device{MerchantID: s.m, Key: "probe-1", LocationID: room.ID, TokenHash: "th3"}), "conflict")
		t0 := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC).UnixMilli()
		must(t, cc.TouchDevices(ctx, map[int64]int64{dev.ID: t0}))
		must(t, cc.TouchDevices(ctx, map[int64]int64{dev.ID: t0 - 1000})) // never goes back
		devs, slugs, err := cc.AllDevices(ctx)
		must(t, err)
		if len(devs) != 1 || devs[0].LastSeen == nil || devs[0].LastSeen.UnixMilli() != t0 || slugs[s.m] != "farm" {
			t.Fatalf("devices %+v %v", devs, slugs)
		}

		// two flushes into the same 5-minute bucket merge in the rollup
		read := func(ts int64, temp float64) coldchain.Reading {
			return coldchain.Reading{DevicePK: dev.ID, LocationID: room.ID, MerchantID: s.m, TS: ts, Temp: temp, Hum: 80}
		}
		must(t, cc.AppendReadings(ctx, []coldchain.Reading{read(t0, 3.5), read(t0+10_000, 4.5), read(t0+20_000, 2.0)}))
		must(t, cc.AppendReadings(ctx, []coldchain.Reading{read(t0+30_000, 9.5), read(t0+310_000, 5.0)}))
		pts, err := cc.Points(ctx, s.m, []int64{room.ID}, t0, t0+time.Hour.Milliseconds())
		must(t, err)
		if len(pts[room.ID]) != 5 || pts[room.ID][3].TS != t0+30_000 || math.Abs(pts[room.ID][3].Temp-9.5) > 0.05 {
			t.Fatalf("points %+v", pts)
		}
		if other, _ := cc.Points(ctx, s.other, []int64{room.ID}, t0, t0+time.Hour.Milliseconds()); len(other[room.ID]) != 0 {
			t.Fatalf("other tenant reads points")
		}
		rolls, err := cc.Rollups(ctx, s.m, []int64{room.ID}, t0-time.Hour.Milliseconds(), t0+time.Hour.Milliseconds())
		must(t, err)
		r := rolls[room.ID]
		if len(r) != 2 || r[0].N != 4 || math.Abs(r[0].Min-2.0) > 0.05 || math.Abs(r[0].Max-9.5) > 0.05 || math.Abs(r[0].Sum-19.5) > 0.2 || r[1].N != 1 || r[0].SumArrh <= 0 {
			t.Fatalf("rollups %+v", r)
		}
		n, err := cc.DeleteRawBefore(ctx, t0+300_000)
		must(t, err)
		if n != 1 {
			t.Fatalf("deleted %d chunks", n)
		}

		// alarms
		a := &coldchain.Alarm{MerchantID: s.m, LocationID: room.ID, DevicePK: dev.ID, Kind: "excursion", Rule: "critical", Class: "chilled",
			StartedAt: time.UnixMilli(t0 + 30_000).UTC(), DetectedAt: time.UnixMilli(t0 + 60_000).UTC(), Peak: 9.5, BeyondMS: 30_000, Status: "open"}
		must(t, cc.CreateAlarm(ctx, a))
		lots, err := cc.LotsAtLocation(ctx, s.m, room.ID)
		must(t, err)
		if len(lots) != 1 || lots[0].LotID != lot || lots[0].LotCode != "CC1" {
			t.Fatalf("lots at location %+v", lots)
		}
		lots[0].Held = true
		must(t, cc.AddAlarmLots(ctx, s.m, a.ID, lots))
		must(t, cc.AddAlarmLots(ctx, s.m, a.ID, lots)) // idempotent
		list, err := cc.Alarms(ctx, coldchain.AlarmFilter{MerchantID: s.m, Status: "active", LotID: lot})
		must(t, err)
		if len(list) != 1 || list[0].DeviceKey != "probe-1" || list[0].LocationName != "冷库" || len(list[0].Lots) != 1 || !list[0].Lots[0].Held {
			t.Fatalf("alarms %+v", list)
		}
		if list, _ := cc.Alarms(ctx, coldchain.AlarmFilter{MerchantID: s.other}); len(list) != 0 {
			t.Fatalf("other tenant sees alarms %+v", list)
		}
		if n, err := cc.OtherUndecidedAlarms(ctx, s.m, lot, 0); err != nil || n != 1 {
			t.Fatalf("undecided %d %v", n, err)
		}
		must(t, cc.ClearAlarm(ctx, s.m, a.ID, time.UnixMilli(t0+120_000)))
		must(t, cc.DecideAlarm(ctx, s.m, a.ID, "release", "quality:1", "复检合格", time.UnixMilli(t0+180_000)))
		wantCode(t, cc.DecideAlarm(ctx, s.m, a.ID, "destroy", "quality:1", "", time.UnixMilli(t0+190_000)), "alarm_decided")
		ga, err := cc.Alarm(ctx, s.m, a.ID)
		must(t, err)
		if ga.Status != "resolved" || ga.Decision != "release" || ga.ClearedAt == nil || ga.DecidedAt == nil || len(ga.Lots) != 1 {
			t.Fatalf("decided alarm %+v", ga)
		}

		// lot lookups, public codes
		info, err := cc.LotInfo(ctx, s.m, lot)
		must(t, err)
		if info.Code != "CC1" || info.GTIN != "06901234567892" || info.Class != "chilled" || info.MerchantSlug != "farm" || len(info.StoreIDs) != 1 {
			t.Fatalf("lot info %+v", info)
		}
		_, err = cc.LotInfo(ctx, s.other, lot)
		wantCode(t, err, "not_found")
		code, err := cc.PublicCode(ctx, s.m, lot)
		must(t, err)
		again, err := cc.PublicCode(ctx, s.m, lot)
		must(t, err)
		if code == "" || again != code {
			t.Fatalf("public code %q then %q", code, again)
		}
		_, err = cc.PublicCode(ctx, s.other, lot)
		wantCode(t, err, "lot_not_found")
		if m, l, err := cc.LotByPublicCode(ctx, code); err != nil || m != s.m || l != lot {
			t.Fatalf("by code: %d %d %v", m, l, err)
		}
		if m, l, err := cc.LotByGTIN(ctx, "6901234567892", "CC1"); err != nil || m != s.m || l != lot {
			t.Fatalf("by GTIN: %d %d %v", m, l, err)
		}

		// a held lot: unpaid orders are released, paid ones stay
		unpaid := s.buy(t, 2)
		paid := s.buy(t, 3)
		_, err = s.orders.Transition(ctx, s.m, paid.ID, order.Paid)
		must(t, err)
		ids, err := cc.ReleaseUnpaidOnLot(ctx, s.m, lot)
		must(t, err)
		if len(ids) != 1 || ids[0] != unpaid.ID {
			t.Fatalf("released %v", ids)
		}
		if lv := s.level(t, s.store, lot); lv.Reserved != 3 {
			t.Fatalf("reserved %d after release", lv.Reserved)
		}
		off, err := cc.WriteOffLot(ctx, s.m, lot, 0)
		must(t, err)
		if lv := s.level(t, s.store, lot); off != 7 || lv.OnHand != 3 || lv.Reserved != 3 {
			t.Fatalf("write-off %d, level %+v", off, lv)
		}
		checkStock(t, db)

		// regulator exports
		f := coldchain.ExportFilter{MerchantID: s.m, LotID: lot}
		pr, err := cc.PurchaseRecords(ctx, f)
		must(t, err)
		if len(pr) != 1 || pr[0].LotCode != "CC1" || pr[0].Quantity != 3 {
			t.Fatalf("purchase records %+v", pr)
		}
		sr, err := cc.SaleRecords(ctx, f)
		must(t, err)
		if len(sr) != 1 || sr[0].Quantity != 3 || sr[0].Buyer != "138****5678" {
			t.Fatalf("sale records %+v", sr)
		}
		inRange, err := cc.LotsInRange(ctx, coldchain.ExportFilter{MerchantID: s.m, From: db.Now().Add(-time.Hour), To: db.Now().Add(time.Hour)})
		must(t, err)
		if len(inRange) != 1 || inRange[0] != lot {
			t.Fatalf("lots in range %v", inRange)
		}
		if !apperr.Is(coldchain.ErrLotNotFound, "lot_not_found") {
			t.Fatal("error code")
		}
	})
}

// TestContractReleaseUnpaidRace (PostgreSQL): a buyer pays while the lot's
// unpaid orders are being released. The paid order is left alone and the
// release still succeeds for the others. (SQLite runs one writer at a time,
// so this interleaving cannot happen there.)
func TestContractReleaseUnpaidRace(t *testing.T) {
	if os.Getenv(postgresEnv) == "" {
		t.Skip(postgresEnv + " not set: the interleaving needs concurrent writers")
	}
	t.Parallel()
	db := mustOpenDB(t, sqldb.Postgres)
	ctx := context.Background()
	s := newShop(t, db)
	cc := &sqldb.ColdChainStore{DB: db}
	lot := s.lot(t, s.m, s.sku, s.store, "R", 48*time.Hour, 10)
	paying := s.buy(t, 2)
	other := s.buy(t, 3)

	locked := make(chan int64)
	release := make(chan struct{})
	payErr := make(chan error, 1)
	go func() {
		payErr <- db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			var pid int64
			if err := tx.QueryRow(ctx, `SELECT pg_backend_pid() FROM orders WHERE id = ? FOR UPDATE`, paying.ID).Scan(&pid); err != nil {
				return err
			}
			locked <- pid
			<-release
			_, err := tx.Exec(ctx, `UPDATE orders SET status = 'paid', paid_at = ? WHERE id = ?`, db.Now().UnixMilli(), paying.ID)
			return err
		})
	}()
	pid := <-locked
	type result struct {
		ids []int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		ids, err := cc.ReleaseUnpaidOnLot(ctx, s.m, lot)
		done <- result{ids, err}
	}()
	waitBlocked(t, db, pid) // the release waits behind the paying transaction
	close(release)
	must(t, <-payErr)
	r := <-done
	if r.err != nil {
		t.Fatalf("release failed because one buyer paid meanwhile: %v", r.err)
	}
	if len(r.ids) != 1 || r.ids[0] != other.ID {
		t.Fatalf("released %v, want only %d", r.ids, other.ID)
	}
	got, err := s.orders.Get(ctx, s.m, paying.ID)
	must(t, err)
	if got.Status != order.Paid {
		t.Fatalf("paying order %s", got.Status)
	}
	if lv := s.level(t, s.store, lot); lv.Reserved != 2 {
		t.Fatalf("reserved %d, want the paid order's 2", lv.Reserved)
	}
	checkStock(t, db)
}
