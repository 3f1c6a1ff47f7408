package mqttingest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/mqttingest"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// env is a cold-chain service on a fresh SQLite database with one merchant
// and one chilled location reached by GLN.
type env struct {
	db       *sqldb.DB
	store    *sqldb.ColdChainStore
	svc      *coldchain.Service
	merchant *identity.Merchant
	loc      *coldchain.Location
}

func newEnv(tb testing.TB, slug string) *env {
	tb.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, "", tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	m := &identity.Merchant{Slug: slug, Name: "测试商户"}
	if err := (&sqldb.IdentityStore{DB: db}).CreateMerchant(ctx, m); err != nil {
		tb.Fatal(err)
	}
	store := &sqldb.ColdChainStore{DB: db}
	svc := &coldchain.Service{Store: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	loc := &coldchain.Location{MerchantID: m.ID, Name: "冷藏车 沪A·12345", Kind: coldchain.KindTruck, Class: "chilled", GLN: "https://id.gs1.org/414/6901234000017"}
	if err := svc.CreateLocation(ctx, loc); err != nil {
		tb.Fatal(err)
	}
	life, cancel := context.WithCancel(context.Background())
	if err := svc.Start(life); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cancel(); <-svc.Stopped() })
	return &env{db: db, store: store, svc: svc, merchant: m, loc: loc}
}

func (e *env) device(tb testing.TB, key string) string {
	tb.Helper()
	tok, err := e.svc.CreateDevice(context.Background(), &coldchain.Device{MerchantID: e.merchant.ID, Key: key, LocationID: e.loc.ID})
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func (e *env) points(tb testing.TB) []coldchain.Point {
	tb.Helper()
	pts, err := e.store.Points(context.Background(), e.merchant.ID, []int64{e.loc.ID}, 0, time.Now().Add(time.Hour).UnixMilli())
	if err != nil {
		tb.Fatal(err)
	}
	return pts[e.loc.ID]
}

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("timed out waiting for %s", what)
}

// dial connects an MQTT 5 client (paho) as a device.
func dial(tb testing.TB, addr, user, pass string) (*paho.Client, *paho.Connack, error) {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	cli := paho.NewClient(paho.ClientConfig{ClientID: "t-" + user, Conn: conn})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cp := &paho.Connect{ClientID: "t-" + user + fmt.Sprint(time.Now().UnixNano()), KeepAlive: 30, CleanStart: true}
	if user != "" {
		cp.Username, cp.UsernameFlag, cp.Password, cp.PasswordFlag = user, true, []byte(pass), true
	}
	ca, err := cli.Connect(ctx, cp)
	if err != nil {
		conn.Close()
		return nil, ca, err
	}
	tb.Cleanup(func() { cli.Disconnect(&paho.Disconnect{}) })
	return cli, ca, nil
}

func publish(tb testing.TB, cli *paho.Client, topic string, body string) (*paho.PublishResponse, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return cli.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(body)})
}

func reading(ts time.Time, t float64) string {
	return fmt.Sprintf(`{"ts": %d, "values": {"temperature": %g, "humidity": 70}}`, ts.UnixMilli(), t)
}

func TestEmbeddedBroker(t *testing.T) {
	e := newEnv(t, "demo")
	tok := e.device(t, "truck-1")
	other := e.device(t, "truck-2")
	_ = other
	b, err := mqttingest.NewBroker("127.0.0.1:0", e.svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })

	t.Run("ErrWrongToken", func(t *testing.T) {
		if _, _, err := dial(t, b.Addr(), "truck-1", "dev_wrong"); err == nil {
			t.Fatal("connected with a wrong token")
		}
		if _, _, err := dial(t, b.Addr(), "", ""); err == nil {
			t.Fatal("connected anonymously")
		}
	})

	cli, _, err := dial(t, b.Addr(), "truck-1", tok)
	if err != nil {
		t.Fatalf("device login: %v", err)
	}
	topic := coldchain.Topic("demo", "truck-1")
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)

	t.Run("OK", func(t *testing.T) {
		for i := 0; i < 5; i++ {
			pr, err := publish(t, cli, topic, reading(base.Add(time.Duration(i)*time.Minute), 3.5))
			if err != nil || pr.ReasonCode >= 0x80 {
				t.Fatalf("publish: %v %+v", err, pr)
			}
		}
		waitFor(t, "5 stored readings", func() bool { return len(e.points(t)) == 5 })
		if p := e.points(t)[0]; p.TS != base.UnixMilli() || p.Temp != 3.5 || p.Hum != 70 {
			t.Fatalf("stored %+v", p)
		}
	})

	t.Run("ErrOtherDevicesTopic", func(t *testing.T) {
		pr, err := publish(t, cli, coldchain.Topic("demo", "truck-2"), reading(base, 3))
		if err == nil && (pr == nil || pr.ReasonCode < 0x80) {
			t.Fatalf("publish to another device's topic accepted: %+v", pr)
		}
	})

	t.Run("ErrOtherMerchantsTopic", func(t *testing.T) {
		pr, err := publish(t, cli, coldchain.Topic("other", "truck-1"), reading(base, 3))
		if err == nil && (pr == nil || pr.ReasonCode < 0x80) {
			t.Fatalf("publish to another merchant's topic accepted: %+v", pr)
		}
	})

	t.Run("ErrBadPayload", func(t *testing.T) {
		pr, err := publish(t, cli, topic, `{"values": {"humidity": 50}}`)
		if pr == nil || pr.ReasonCode != 0x99 {
			t.Fatalf("bad payload: %v %+v, want reason 0x99 payload format invalid", err, pr)
		}
		if n := len(e.points(t)); n != 5 {
			t.Fatalf("a bad payload changed the store: %d readings", n)
		}
	})

	t.Run("ExcursionRaisesAlarm", func(t *testing.T) {
		if _, err := publish(t, cli, topic, reading(base.Add(10*time.Minute), 13)); err != nil {
			t.Fatal(err)
		}
		var alarms []coldchain.Alarm
		waitFor(t, "critical alarm", func() bool {
			alarms, _ = e.store.Alarms(context.Background(), coldchain.AlarmFilter{MerchantID: e.merchant.ID, Status: "active"})
			return len(alarms) == 1
		})
		if a := alarms[0]; a.Rule != coldchain.RuleCritical || a.Peak != 13 || a.DeviceKey != "truck-1" {
			t.Fatalf("alarm %+v", a)
		}
	})
}

// TestExternalMosquitto subscribes to a real external broker named by
// SHELFLIVE_TEST_MQTT (e.g. tcp://127.0.0.1:1883, set by CI) and publishes
// through it. When the variable is set, an unreachable broker fails.
func TestExternalMosquitto(t *testing.T) {
	url := os.Getenv("SHELFLIVE_TEST_MQTT")
	if url == "" {
		t.Skip("SHELFLIVE_TEST_MQTT not set (e.g. tcp://127.0.0.1:1883)")
	}
	slug := fmt.Sprintf("ext%d", time.Now().UnixNano()%1_000_000)
	e := newEnv(t, slug)
	e.device(t, "probe-1")
	sub, err := mqttingest.Subscribe(context.Background(), mqttingest.SubscriberConfig{URL: url, ClientID: "shelflive-test-" + slug}, e.svc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := sub.AwaitSubscribed(ctx); err != nil {
		t.Fatalf("external broker %s: %v", url, err)
	}
	host := url[len("tcp://"):]
	pub, _, err := dial(t, host, "", "")
	if err != nil {
		t.Fatalf("publisher: %v", err)
	}
	base := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	for i := 0; i < 10; i++ {
		if _, err := publish(t, pub, coldchain.Topic(slug, "probe-1"), reading(base.Add(time.Duration(i)*time.Minute), 2.5+float64(i)/10)); err != nil {
			t.Fatal(err)
		}
	}
	// Unknown device on the external broker: refused by ShelfLive.
	if _, err := publish(t, pub, coldchain.Topic(slug, "nobody"), reading(base, 3)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "10 readings via the external broker", func() bool { return len(e.points(t)) == 10 })
	waitFor(t, "the unknown device refused", func() bool { return sub.Stats.Rejected.Load() >= 1 })
	if got := e.points(t)[9].Temp; got != 3.4 {
		t.Fatalf("last reading %v, want 3.4", got)
	}
}

// TestSubscribeURLErrorHidesPassword: a refused broker URL is logged at
// start, so its error names the URL without the password in it.
func TestSubscribeURLErrorHidesPassword(t *testing.T) {
	for _, u := range []string{"mqtts://ingest:s3cret-pw@broker:8883", "ssl://ingest:s3cret-pw@broker:8883"} {
		_, err := mqttingest.Subscribe(context.Background(), mqttingest.SubscriberConfig{URL: u}, nil)
		if err == nil {
			t.Fatalf("%s: no error", u)
		}
		if strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "@broker:8883") {
			t.Errorf("%s: error %q shows the password or hides the host", u, err)
		}
	}
}
