package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/mqttingest"
)

// TelemetryResult is the last line of `shelflive bench telemetry`.
type TelemetryResult struct {
	Devices        int     `json:"devices"`
	Readings       int     `json:"readings"`
	QoS            int     `json:"qos"`
	Seconds        float64 `json:"seconds"`
	ReadingsPerSec float64 `json:"readings_per_sec"`
	Alarms         int     `json:"alarms"`
}

// RunTelemetry starts a node on a temp data dir with its embedded MQTT
// broker, registers sensors on a chilled store location, publishes
// readings from one connection per sensor (some excursions included, so
// alarms and holds happen during the run) and stops the clock when every
// reading is stored.
func RunTelemetry(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench telemetry", flag.ContinueOnError)
	devices := fs.Int("devices", 50, "sensor connections")
	readings := fs.Int("readings", 1_000_000, "readings in total")
	qos := fs.Int("qos", 1, "MQTT QoS (0 or 1)")
	dbURL := fs.String("database-url", "", "database URL; empty = SQLite in a temp dir")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "shelflive-telemetry-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	m, err := startNode(ctx, dir, "-mqtt-addr", "127.0.0.1:0", "-rate-limits=false", "-database-url", *dbURL)
	if err != nil {
		return err
	}
	defer m.Close()
	mer, err := m.App.Users.MerchantBySlug(ctx, demo.MerchantSlug)
	if err != nil {
		return err
	}
	sts, err := m.App.Stores.ListStores(ctx, mer.ID)
	if err != nil || len(sts) == 0 {
		return fmt.Errorf("bench telemetry: demo stores: %v", err)
	}
	loc := &coldchain.Location{MerchantID: mer.ID, Name: "压测冷柜 bench fridge", Kind: coldchain.KindDisplayFridge, Class: "chilled", StoreID: sts[len(sts)-1].ID}
	if err := m.ColdChain.CreateLocation(ctx, loc); err != nil {
		return err
	}
	logins := make([]mqttingest.DeviceLogin, *devices)
	for i := range logins {
		key := "bench-" + strconv.Itoa(i)
		tok, err := m.ColdChain.CreateDevice(ctx, &coldchain.Device{MerchantID: mer.ID, Key: key, LocationID: loc.ID})
		if err != nil {
			return err
		}
		logins[i] = mqttingest.DeviceLogin{Merchant: mer.Slug, Key: key, Token: tok}
	}
	per := (*readings + *devices - 1) / *devices
	total := per * *devices
	start0, _ := m.ColdChain.Accepted()
	t0 := time.Now()
	if err := mqttingest.RunLoad(ctx, mqttingest.LoadConfig{Addr: m.MQTT.Addr(), Devices: logins, PerDevice: per, QoS: byte(*qos), Excursions: true}); err != nil {
		return err
	}
	for {
		acc, stored := m.ColdChain.Accepted()
		if acc-start0 >= uint64(total) && stored >= acc {
			break
		}
		if time.Since(t0) > 10*time.Minute {
			return fmt.Errorf("bench telemetry: %d of %d readings stored after 10 minutes", stored-start0, total)
		}
		time.Sleep(2 * time.Millisecond)
	}
	el := time.Since(t0)
	alarms, _ := m.ColdChain.Store.Alarms(ctx, coldchain.AlarmFilter{MerchantID: mer.ID, Limit: 500})
	res := TelemetryResult{Devices: *devices, Readings: total, QoS: *qos, Seconds: el.Seconds(), ReadingsPerSec: float64(total) / el.Seconds(), Alarms: len(alarms)}
	fmt.Fprintf(stdout, "%d readings from %d sensors (QoS %d) stored in %s: %.0f readings/s, %d alarms\n", total, *devices, *qos, el.Round(time.Millisecond), res.ReadingsPerSec, res.Alarms)
	return json.NewEncoder(stdout).Encode(res)
}
