package coldchain_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/stores"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type svcEnv struct {
	svc   *coldchain.Service
	store *sqldb.ColdChainStore
	mer   int64
	loc   *coldchain.Location
	clk   *clock
}

// newSvc is a service on real SQLite with a frozen clock; the background
// loops are not started, the test drives Flush / HandlePending / CheckMissing.
func newSvc(t *testing.T) *svcEnv {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m := &identity.Merchant{Slug: "demo", Name: "x"}
	if err := (&sqldb.IdentityStore{DB: db}).CreateMerchant(ctx, m); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)}
	store := &sqldb.ColdChainStore{DB: db}
	svc := &coldchain.Service{Store: store, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	loc := &coldchain.Location{MerchantID: m.ID, Name: "车", Kind: coldchain.KindTruck, Class: "chilled", GLN: "https://id.gs1.org/414/6901234000024"}
	if err := svc.CreateLocation(ctx, loc); err != nil {
		t.Fatal(err)
	}
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	return &svcEnv{svc: svc, store: store, mer: m.ID, loc: loc, clk: clk}
}

func (e *svcEnv) send(t *testing.T, key string, temp float64) {
	t.Helper()
	body := fmt.Sprintf(`{"ts": %d, "values": {"temperature": %g}}`, e.clk.Now().UnixMilli(), temp)
	if err := e.svc.IngestMQTT(coldchain.Topic("demo", key), []byte(body)); err != nil {
		t.Fatal(err)
	}
}

func (e *svcEnv) alarms(t *testing.T, status string) []coldchain.Alarm {
	t.Helper()
	e.svc.HandlePending(context.Background())
	list, err := e.store.Alarms(context.Background(), coldchain.AlarmFilter{MerchantID: e.mer, Status: status})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestMissingData: a silent sensor opens a missing-data alarm after the
// profile's 10 minutes; the next reading resolves it, and the gap counts as
// unknown time, not as in range.
func TestMissingData(t *testing.T) {
	e := newSvc(t)
	ctx := context.Background()
	tok, err := e.svc.CreateDevice(ctx, &coldchain.Device{MerchantID: e.mer, Key: "t-1", LocationID: e.loc.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !e.svc.AuthenticateDevice("t-1", tok) || e.svc.AuthenticateDevice("t-1", tok+"x") || e.svc.AuthenticateDevice("t-2", tok) {
		t.Fatal("device authentication")
	}
	for i := 0; i < 5; i++ {
		e.send(t, "t-1", 3)
		e.clk.Add(time.Minute)
	}
	e.svc.CheckMissing(ctx)
	if a := e.alarms(t, ""); len(a) != 0 {
		t.Fatalf("alarm while reporting: %+v", a)
	}
	e.clk.Add(9 * time.Minute) // 10 min since the last reading: not yet
	e.svc.CheckMissing(ctx)
	if a := e.alarms(t, ""); len(a) != 0 {
		t.Fatalf("alarm at exactly the allowed gap: %+v", a)
	}
	e.clk.Add(2 * time.Minute)
	e.svc.CheckMissing(ctx)
	open := e.alarms(t, coldchain.StatusOpen)
	if len(open) != 1 || open[0].Kind != coldchain.AlarmMissingData || open[0].DeviceKey != "t-1" {
		t.Fatalf("missing-data alarm: %+v", open)
	}
	e.svc.CheckMissing(ctx) // no second alarm for the same silence
	e.clk.Add(time.Minute)
	e.send(t, "t-1", 3) // back: the alarm resolves by itself
	all := e.alarms(t, "")
	if len(all) != 1 || all[0].Status != coldchain.StatusResolved || all[0].ClearedAt == nil || !all[0].ClearedAt.Equal(e.clk.Now()) {
		t.Fatalf("after data returned: %+v", all)
	}
	e.svc.Flush(ctx)
	pts, err := e.store.Points(ctx, e.mer, []int64{e.loc.ID}, 0, e.clk.Now().UnixMilli()+1)
	if err != nil || len(pts[e.loc.ID]) != 6 {
		t.Fatalf("points %d %v", len(pts[e.loc.ID]), err)
	}
	acc := coldchain.Accumulator{P: coldchain.Profiles["chilled"]}
	first := pts[e.loc.ID][0].TS
	acc.AddSeries(pts[e.loc.ID], first, e.clk.Now().UnixMilli())
	// 5 readings 1 min apart, then 13 min silent: 10 min covered by the last
	// reading, 3 min unknown.
	if x := acc.Result(); x.UnknownMS != 3*60_000 {
		t.Fatalf("unknown %d ms, want 3 min", x.UnknownMS)
	}
}

// TestIngestRefusesStrangers: unknown device, wrong merchant in the topic,
// bad payload, and backpressure beyond MaxPending.
func TestIngestRefusesStrangers(t *testing.T) {
	e := newSvc(t)
	ctx := context.Background()
	if _, err := e.svc.CreateDevice(ctx, &coldchain.Device{MerchantID: e.mer, Key: "t-1", LocationID: e.loc.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateDevice(ctx, &coldchain.Device{MerchantID: e.mer, Key: "t-1", LocationID: e.loc.ID}); err == nil {
		t.Fatal("duplicate device id accepted")
	}
	body := []byte(fmt.Sprintf(`{"ts": %d, "values": {"temperature": 3}}`, e.clk.Now().UnixMilli()))
	for name, topic := range map[string]string{"UnknownDevice": coldchain.Topic("demo", "t-9"), "OtherMerchant": coldchain.Topic("rival", "t-1"), "BadTopic": "shelflive/demo/t-1"} {
		if err := e.svc.IngestMQTT(topic, body); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	e.svc.MaxPending = 3
	for i := 0; i < 3; i++ {
		if err := e.svc.IngestMQTT(coldchain.Topic("demo", "t-1"), body); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.IngestMQTT(coldchain.Topic("demo", "t-1"), body); err == nil {
		t.Fatal("backlog beyond MaxPending accepted")
	}
	e.svc.Flush(ctx)
	if err := e.svc.IngestMQTT(coldchain.Topic("demo", "t-1"), body); err != nil {
		t.Fatalf("after flush: %v", err)
	}
}

// restart opens a second service on the same store, as a process restart
// would, with the same clock.
func (e *svcEnv) restart(t *testing.T) *coldchain.Service {
	t.Helper()
	svc := &coldchain.Service{Store: e.store, Now: e.clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := svc.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return svc
}

// TestRestartKeepsRuleState: after a restart the rule state is rebuilt from
// stored readings: an alarm raised before clears after; an excursion whose
// alarm was lost in a crash (readings stored, alarm not yet written) is
// raised; cumulative time above the limit is not forgotten.
func TestRestartKeepsRuleState(t *testing.T) {
	ctx := context.Background()
	t.Run("AlarmClearsAfterRestart", func(t *testing.T) {
		e := newSvc(t)
		e.svc.CreateDevice(ctx, &coldchain.Device{MerchantID: e.mer, Key: "t-1", LocationID: e.loc.ID})
		e.send(t, "t-1", 3)
		e.clk.Add(time.Minute)
		e.send(t, "t-1", 13)
		e.svc.Flush(ctx)
		if a := e.alarms(t, coldchain.StatusOpen); len(a) != 1 {
			t.Fatalf("before restart: %+v", a)
		}
		e.restart(t)
		for i := 0; i < 12; i++ {
			e.clk.Add(time.Minute)
			e.send(t, "t-1", 3)
		}
		if a := e.alarms(t, ""); len(a) != 1 || a[0].Status != coldchain.StatusCleared {
			t.Fatalf("after restart: %+v", a)
		}
	})
	t.Run("LostAlarmRaised", func(t *testing.T) {
		e := newSvc(t)
		e.svc.CreateDevice(ctx, &coldchain.Device{MerchantID: e.mer, Key: "t-1", LocationID: e.loc.ID})
		e.send(t, "t-1", 3)
		e.clk.Add(time.Minute)
		e.send(t, "t-1", 13)
		e.svc.Flush(ctx) // stored, but the crash comes before the alarm worker ran
		e.restart(t)
		a := e.alarms(t, coldchain.StatusOpen)
		if len(a) != 1 || a[0].Rule != coldchain.RuleCritical {
			t.Fatalf("after restart: %+v", a)
		}
	})
	t.Run("CumulativeSurvivesRestart", func(t *testing.T) {
		e := newSvc(t)
		e.svc.CreateDevice(ctx, &coldchain.Device{MerchantID: e.mer, Key: "t-1", LocationID: e.loc.ID})
		for i := 0; i < 20; i++ { // 20 min above 8 °C
			e.send(t, "t-1", 9)
			e.clk.Add(time.Minute)
		}
		e.svc.Flush(ctx)
		e.restart(t)
		for i := 0; i < 12; i++ { // 12 more: 31 in total
			e.send(t, "t-1", 9)
			e.clk.Add(time.Minute)
		}
		if a := e.alarms(t, coldchain.StatusOpen); len(a) != 1 || a[0].Rule != coldchain.RuleCumulative {
			t.Fatalf("after restart: %+v", a)
		}
	})
}

// invHolder holds lots with the real inventory store (the process wiring
// uses app.SetHold, which also republishes the card).
type invHolder struct{ inv *sqldb.InventoryStore }

func (h invHolder) HoldLot(ctx context.Context, m, lot int64, reason string) error {
	return h.inv.SetHold(ctx, m, lot, true, reason)
}
func (h invHolder) ReleaseLot(ctx context.Context, m, lot int64, reason string) error {
	return h.inv.SetHold(ctx, m, lot, false, reason)
}

// TestReleaseKeepsOtherHolds: a lot staff had already put on hold (a
// recall) is not lifted when quality releases a cold-chain alarm; a lot
// the cold chain held is.
func TestReleaseKeepsOtherHolds(t *testing.T) {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := &identity.Merchant{Slug: "demo", Name: "x"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must((&sqldb.IdentityStore{DB: db}).CreateMerchant(ctx, m))
	st := &stores.Store{MerchantID: m.ID, Name: "店", Address: "上海", Lat: 31, Lng: 121}
	must((&sqldb.StoreRepo{DB: db}).CreateStore(ctx, st))
	inv := &sqldb.InventoryStore{DB: db}
	var lots []int64
	for i, name := range []string{"牛奶", "酸奶"} {
		p := &catalog.Product{MerchantID: m.ID, Name: name, Storage: catalog.Chilled, Active: true, SKUs: []catalog.SKU{{Code: fmt.Sprint("K", i), Name: "1", PriceFen: 100, Active: true}}}
		must((&sqldb.CatalogStore{DB: db}).CreateProduct(ctx, p))
		l := &inventory.Lot{MerchantID: m.ID, SKUID: p.SKUs[0].ID, Code: fmt.Sprint("L", i), ProducedAt: time.Now().Add(-time.Hour), ExpiresAt: time.Now().Add(72 * time.Hour)}
		must(inv.CreateLot(ctx, l))
		must(inv.SetStock(ctx, m.ID, st.ID, l.ID, 10))
		lots = append(lots, l.ID)
	}
	must(inv.SetHold(ctx, m.ID, lots[1], true, "召回：供应商通知"))
	store := &sqldb.ColdChainStore{DB: db}
	svc := &coldchain.Service{Store: store, Holder: invHolder{inv}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	loc := &coldchain.Location{MerchantID: m.ID, Name: "冷柜", Kind: coldchain.KindDisplayFridge, Class: "chilled", StoreID: st.ID}
	must(svc.CreateLocation(ctx, loc))
	_, err = svc.CreateDevice(ctx, &coldchain.Device{MerchantID: m.ID, Key: "f-1", LocationID: loc.ID})
	must(err)
	at := time.Now().Add(-30 * time.Minute)
	send := func(temp float64) {
		t.Helper()
		must(svc.IngestMQTT(coldchain.Topic("demo", "f-1"), []byte(fmt.Sprintf(`{"ts": %d, "values": {"temperature": %g}}`, at.UnixMilli(), temp))))
		at = at.Add(time.Minute)
	}
	send(13)
	for i := 0; i < 11; i++ {
		send(3)
	}
	svc.HandlePending(ctx)
	list, err := store.Alarms(ctx, coldchain.AlarmFilter{MerchantID: m.ID})
	must(err)
	if len(list) != 1 || list[0].Status != coldchain.StatusCleared || len(list[0].Lots) != 2 {
		t.Fatalf("alarms %+v", list)
	}
	if _, err := svc.Resolve(ctx, m.ID, list[0].ID, coldchain.DecisionRelease, "品控", ""); err != nil {
		t.Fatal(err)
	}
	milk, _ := inv.Lot(ctx, m.ID, lots[0])
	yog, _ := inv.Lot(ctx, m.ID, lots[1])
	if milk.Hold {
		t.Fatal("the lot the cold chain held was not released")
	}
	if !yog.Hold || yog.HoldReason != "召回：供应商通知" {
		t.Fatalf("the recall hold was lifted or rewritten: %+v", yog)
	}
}
