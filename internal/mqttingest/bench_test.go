package mqttingest_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/mqttingest"
)

// BenchmarkMQTTIngest measures readings per second from device connections
// through the embedded broker, parsing, excursion evaluation and batched
// storage on SQLite, until every reading is stored (and checks the stored
// count). QoS 1 waits for each PUBACK with a window of 256 in flight per
// connection.
//
//	go test -run '^$' -bench MQTTIngest -benchtime 1000000x ./internal/mqttingest/
func BenchmarkMQTTIngest(b *testing.B) {
	for _, qos := range []byte{0, 1} {
		b.Run(fmt.Sprintf("qos%d", qos), func(b *testing.B) { benchIngest(b, qos, 50) })
	}
}

func benchIngest(b *testing.B, qos byte, devices int) {
	e := newEnv(b, "bench")
	logins := make([]mqttingest.DeviceLogin, devices)
	for i := range logins {
		key := "sensor-" + strconv.Itoa(i)
		logins[i] = mqttingest.DeviceLogin{Merchant: "bench", Key: key, Token: e.device(b, key)}
	}
	br, err := mqttingest.NewBroker("127.0.0.1:0", e.svc, nil)
	if err != nil {
		b.Fatal(err)
	}
	br.Serve()
	b.Cleanup(func() { br.Close() })
	per := (b.N + devices - 1) / devices
	total := per * devices
	start0, _ := e.svc.Accepted()
	b.ResetTimer()
	t0 := time.Now()
	if err := mqttingest.RunLoad(context.Background(), mqttingest.LoadConfig{Addr: br.Addr(), Devices: logins, PerDevice: per, QoS: qos, Excursions: true}); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		acc, stored := e.svc.Accepted()
		if acc-start0 >= uint64(total) && stored >= acc {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("accepted %d stored %d of %d (rejected %d)", acc-start0, stored, total, br.Stats.Rejected.Load())
		}
		time.Sleep(2 * time.Millisecond)
	}
	el := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(total)/el.Seconds(), "readings/s")
	e.svc.HandlePending(context.Background())
	if br.Stats.Rejected.Load() > 0 {
		b.Fatalf("%d readings rejected", br.Stats.Rejected.Load())
	}
	var stored int64
	if err := e.db.QueryRow(context.Background(), `SELECT COALESCE(SUM(n), 0) FROM cc_chunks`).Scan(&stored); err != nil || stored < int64(total) {
		b.Fatalf("stored %d of %d readings (%v)", stored, total, err)
	}
}

// TestLoadGenerator runs a small load (both QoS) so the generator and the
// broker's acknowledgements stay correct without running the benchmark.
func TestLoadGenerator(t *testing.T) {
	e := newEnv(t, "load")
	logins := []mqttingest.DeviceLogin{{Merchant: "load", Key: "l-1"}, {Merchant: "load", Key: "l-2"}}
	for i := range logins {
		logins[i].Token = e.device(t, logins[i].Key)
	}
	br, err := mqttingest.NewBroker("127.0.0.1:0", e.svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	br.Serve()
	t.Cleanup(func() { br.Close() })
	ctx := context.Background()
	if err := mqttingest.RunLoad(ctx, mqttingest.LoadConfig{Addr: br.Addr(), Devices: logins, PerDevice: 300, QoS: 1, Start: time.Now().Add(-2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := mqttingest.RunLoad(ctx, mqttingest.LoadConfig{Addr: br.Addr(), Devices: logins, PerDevice: 200, QoS: 0, Start: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "1,000 readings stored", func() bool { acc, stored := e.svc.Accepted(); return acc == 1000 && stored == 1000 })
	if n := len(e.points(t)); n != 1000 {
		t.Fatalf("stored %d readings, want 1000", n)
	}
	bad := []mqttingest.DeviceLogin{{Merchant: "load", Key: "l-1", Token: "dev_wrong"}}
	if err := mqttingest.RunLoad(ctx, mqttingest.LoadConfig{Addr: br.Addr(), Devices: bad, PerDevice: 1}); err == nil {
		t.Fatal("a wrong token connected")
	}
}
