package sqldb_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestColdChainStore runs the cold-chain store on every dialect:
// locations scoped by tenant, unique device ids, compact chunks and
// 5-minute rollups (merged across flushes), retention that keeps rollups,
// alarms with their lots, decisions once, lots at a location, unpaid
// reservations released, write-off, public codes.
func TestColdChainStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		cc := &sqldb.ColdChainStore{DB: db}
		lot := s.lot(t, s.m, s.sku, s.store, "L1", 72*time.Hour, 10)

		loc := &coldchain.Location{MerchantID: s.m, Name: "冷柜", Kind: coldchain.KindDisplayFridge, Class: "chilled", StoreID: s.store}
		must(t, cc.CreateLocation(ctx, loc))
		wantCode(t, cc.CreateLocation(ctx, &coldchain.Location{MerchantID: s.m, Name: "x", Kind: "truck", Class: "chilled", StoreID: s.otherStore}), "unknown_store")
		if _, err := cc.Location(ctx, s.other, loc.ID); err == nil {
			t.Fatal("another tenant sees the location")
		}
		truck := &coldchain.Location{MerchantID: s.m, Name: "车", Kind: coldchain.KindTruck, Class: "chilled", GLN: "https://id.gs1.org/414/6901234000024"}
		must(t, cc.CreateLocation(ctx, truck))
		if got, err := cc.LocationsByGLN(ctx, s.m, []string{truck.GLN}); err != nil || len(got) != 1 || got[0].ID != truck.ID {
			t.Fatalf("by GLN: %+v %v", got, err)
		}

		dev := &coldchain.Device{MerchantID: s.m, Key: "fridge-1", Name: "fridge", LocationID: loc.ID, TokenHash: coldchain.HashToken("t1")}
		must(t, cc.CreateDevice(ctx, dev))
		wantCode(t, cc.CreateDevice(ctx, &coldchain.Device{MerchantID: s.other, Key: "fridge-1", LocationID: loc.ID, TokenHash: "h2"}), "invalid_location")
		wantCode(t, cc.CreateDevice(ctx, &coldchain.Device{MerchantID: s.m, Key: "fridge-1", LocationID: loc.ID, TokenHash: "h3"}), "conflict")
		devs, slugs, err := cc.AllDevices(ctx)
		if err != nil || len(devs) != 1 || slugs[s.m] != "farm" || devs[0].TokenHash != coldchain.HashToken("t1") {
			t.Fatalf("all devices: %+v %v %v", devs, slugs, err)
		}

		// Two flushes into the same 5-minute bucket merge in the rollup.
		b0 := int64(1_800_000_000_000) - int64(1_800_000_000_000)%300_000
		rd := func(ts int64, temp float64) coldchain.Reading {
			return coldchain.Reading{DevicePK: dev.ID, LocationID: loc.ID, MerchantID: s.m, TS: ts, Temp: temp, Hum: math.NaN()}
		}
		must(t, cc.AppendReadings(ctx, []coldchain.Reading{rd(b0+60_000, 3), rd(b0, 2), rd(b0+300_000, 5)}))
		must(t, cc.AppendReadings(ctx, []coldchain.Reading{rd(b0+120_000, 7)}))
		pts, err := cc.Points(ctx, s.m, []int64{loc.ID}, b0, b0+600_000)
		must(t, err)
		if p := pts[loc.ID]; len(p) != 4 || p[0].Temp != 2 || p[1].Temp != 3 || p[2].Temp != 7 || p[3].Temp != 5 {
			t.Fatalf("points %+v", p)
		}
		if other, _ := cc.Points(ctx, s.other, []int64{loc.ID}, b0, b0+600_000); len(other[loc.ID]) != 0 {
			t.Fatal("another tenant reads the readings")
		}
		rolls, err := cc.Rollups(ctx, s.m, []int64{loc.ID}, b0, b0+600_000)
		must(t, err)
		r := rolls[loc.ID]
		if len(r) != 2 || r[0].N != 3 || r[0].Min != 2 || r[0].Max != 7 || r[0].Avg() != 4 || r[1].N != 1 {
			t.Fatalf("rollups %+v", r)
		}
		if mkt := coldchain.MKTFromSum(r[0].SumArrh, float64(r[0].N)); math.Abs(mkt-coldchain.MKT([]float64{2, 3, 7})) > 1e-9 {
			t.Fatalf("rollup MKT %v", mkt)
		}
		n, err := cc.DeleteRawBefore(ctx, b0+400_000)
		must(t, err)
		if n != 2 {
			t.Fatalf("retention deleted %d chunks, want 2", n)
		}
		if pts, _ := cc.Points(ctx, s.m, []int64{loc.ID}, b0, b0+600_000); len(pts[loc.ID]) != 0 {
			t.Fatal("raw readings survived retention")
		}
		if rolls, _ := cc.Rollups(ctx, s.m, []int64{loc.ID}, b0, b0+600_000); len(rolls[loc.ID]) != 2 {
			t.Fatal("rollups did not survive retention")
		}

		// Lots at the location: chilled stock in the store.
		lots, err := cc.LotsAtLocation(ctx, s.m, loc.ID)
		if err != nil || len(lots) != 1 || lots[0].LotID != lot || lots[0].LotCode != "L1" {
			t.Fatalf("lots at location: %+v %v", lots, err)
		}
		if l, err := cc.LocationsForLot(ctx, s.m, lot); err != nil || len(l) != 1 || l[0].ID != loc.ID {
			t.Fatalf("locations for lot: %+v %v", l, err)
		}

		a := &coldchain.Alarm{MerchantID: s.m, LocationID: loc.ID, DevicePK: dev.ID, Kind: coldchain.AlarmExcursion, Rule: coldchain.RuleCritical,
			Class: "chilled", StartedAt: time.UnixMilli(b0), DetectedAt: time.UnixMilli(b0 + 1000), Peak: 13, Status: coldchain.StatusOpen, Lots: lots}
		must(t, cc.CreateAlarm(ctx, a))
		got, err := cc.Alarm(ctx, s.m, a.ID)
		if err != nil || len(got.Lots) != 1 || got.Lots[0].Held || got.DeviceKey != "fridge-1" || got.LocationName != "冷柜" {
			t.Fatalf("alarm %+v %v", got, err)
		}
		lots[0].Held = true
		must(t, cc.AddAlarmLots(ctx, s.m, a.ID, lots))
		if got, _ := cc.Alarm(ctx, s.m, a.ID); !got.Lots[0].Held {
			t.Fatal("held flag not updated")
		}
		if list, _ := cc.Alarms(ctx, coldchain.AlarmFilter{MerchantID: s.m, LotID: lot}); len(list) != 1 {
			t.Fatalf("alarms by lot: %d", len(list))
		}
		if list, _ := cc.Alarms(ctx, coldchain.AlarmFilter{MerchantID: s.other}); len(list) != 0 {
			t.Fatal("another tenant sees the alarm")
		}
		if _, err := cc.Alarm(ctx, s.other, a.ID); err == nil {
			t.Fatal("another tenant reads the alarm")
		}
		a2 := &coldchain.Alarm{MerchantID: s.m, LocationID: truck.ID, Kind: coldchain.AlarmExcursion, Rule: coldchain.RuleCumulative, Class: "chilled",
			StartedAt: time.UnixMilli(b0), DetectedAt: time.UnixMilli(b0), Status: coldchain.StatusOpen, Lots: []coldchain.AlarmLot{{LotID: lot, Held: true}}}
		must(t, cc.CreateAlarm(ctx, a2))
		if n, err := cc.OtherUndecidedAlarms(ctx, s.m, lot, a.ID); err != nil || n != 1 {
			t.Fatalf("other undecided: %d %v", n, err)
		}
		must(t, cc.ClearAlarm(ctx, s.m, a.ID, time.UnixMilli(b0+900_000)))
		if got, _ := cc.Alarm(ctx, s.m, a.ID); got.Status != coldchain.StatusCleared || got.ClearedAt == nil {
			t.Fatalf("cleared: %+v", got)
		}
		must(t, cc.DecideAlarm(ctx, s.m, a.ID, coldchain.DecisionRelease, "品控", "ok", time.UnixMilli(b0+1_000_000)))
		wantCode(t, cc.DecideAlarm(ctx, s.m, a.ID, coldchain.DecisionDestroy, "x", "", time.Now()), "alarm_decided")
		if got, _ := cc.Alarm(ctx, s.m, a.ID); got.Status != coldchain.StatusResolved || got.Decision != "release" {
			t.Fatalf("decided: %+v", got)
		}
		if list, _ := cc.Alarms(ctx, coldchain.AlarmFilter{MerchantID: s.m, Status: "active"}); len(list) != 1 || list[0].ID != a2.ID {
			t.Fatalf("active alarms: %+v", list)
		}

		// Unpaid reservations on the lot are released; paid ones stay.
		paid := s.buy(t, 2)
		_, err = s.orders.Transition(ctx, s.m, paid.ID, order.Paid)
		must(t, err)
		unpaid := s.buy(t, 3)
		ids, err := cc.ReleaseUnpaidOnLot(ctx, s.m, lot)
		must(t, err)
		if len(ids) != 1 || ids[0] != unpaid.ID {
			t.Fatalf("released %v, want [%d]", ids, unpaid.ID)
		}
		if o, _ := s.orders.Get(ctx, s.m, unpaid.ID); o.Status != order.Cancelled {
			t.Fatalf("unpaid order %s", o.Status)
		}
		if lv := s.level(t, s.store, lot); lv.Reserved != 2 || lv.OnHand != 10 {
			t.Fatalf("after release: %+v", lv)
		}
		checkStock(t, db)
		if ids, _ := cc.ReleaseUnpaidOnLot(ctx, s.other, lot); len(ids) != 0 {
			t.Fatal("another tenant released orders")
		}

		// Write-off keeps what paid orders reserve.
		off, err := cc.WriteOffLot(ctx, s.m, lot, 0)
		must(t, err)
		if off != 8 {
			t.Fatalf("wrote off %d, want 8", off)
		}
		if lv := s.level(t, s.store, lot); lv.OnHand != 2 || lv.Reserved != 2 {
			t.Fatalf("after write-off: %+v", lv)
		}
		checkStock(t, db)

		// Public codes: stable, opaque, resolvable; GTIN lookup.
		code, err := cc.PublicCode(ctx, s.m, lot)
		must(t, err)
		if again, _ := cc.PublicCode(ctx, s.m, lot); again != code || len(code) < 10 {
			t.Fatalf("code %q then %q", code, again)
		}
		if m, l, err := cc.LotByPublicCode(ctx, code); err != nil || m != s.m || l != lot {
			t.Fatalf("by code: %d %d %v", m, l, err)
		}
		wantCode(t, func() error { _, err := cc.PublicCode(ctx, s.other, lot); return err }(), "lot_not_found")
		info, err := cc.LotInfo(ctx, s.m, lot)
		if err != nil || info.Code != "L1" || info.Class != "chilled" || info.MerchantSlug != "farm" || len(info.StoreIDs) != 1 {
			t.Fatalf("lot info %+v %v", info, err)
		}

		// Exports.
		recs, err := cc.PurchaseRecords(ctx, coldchain.ExportFilter{MerchantID: s.m, LotID: lot})
		if err != nil || len(recs) != 1 || recs[0].LotCode != "L1" || recs[0].Quantity != 2 {
			t.Fatalf("purchases %+v %v", recs, err)
		}
		sales, err := cc.SaleRecords(ctx, coldchain.ExportFilter{MerchantID: s.m, From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
		if err != nil || len(sales) != 1 || sales[0].Quantity != 2 || sales[0].Buyer != "138****5678" {
			t.Fatalf("sales %+v %v", sales, err)
		}
	})
}
