package node

// The background jobs a started node runs until Close: video ingest, the
// cold chain's readings (demo sensors, MQTT), and the app's loops
// (reservation expiry, stock events, analytics, webhooks, comments).

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/mqttingest"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// startVideo runs the embedded RTMP ingest, if any.
func (m *Main) startVideo(life context.Context) {
	if m.Video != nil {
		m.videoDone = make(chan struct{})
		go func() {
			defer close(m.videoDone)
			if err := m.Video.ListenAndServe(life); err != nil && life.Err() == nil {
				m.Logger.Error("rtmp ingest", "err", err)
			}
		}()
	}
}

// startColdChain starts the cold chain and what feeds it readings: the
// demo's simulated sensors, the embedded MQTT broker, the subscriber to an
// external broker. Only a failed subscription stops the start.
func (m *Main) startColdChain(ctx, life context.Context) error {
	if err := m.ColdChain.Start(life); err != nil {
		return fmt.Errorf("coldchain: %w", err)
	}
	m.coldStarted = true
	if m.Config.Demo && m.Config.DemoColdChain {
		if dm, err := m.App.Users.MerchantBySlug(ctx, demo.MerchantSlug); err == nil {
			sensors := &demo.Sensors{Ingest: m.ColdChain, Store: &sqldb.ColdChainStore{DB: m.DB}, MerchantID: dm.ID, Lead: m.App.IsLeader,
				Now: m.DB.Now, Every: time.Minute, Logger: m.Logger}
			go sensors.Run(life)
		}
	}
	if m.Config.MQTTAddr != "" {
		b, err := mqttingest.NewBroker(m.Config.MQTTAddr, m.ColdChain, m.Logger)
		if err == nil {
			if err = b.Serve(); err != nil {
				b.Close()
			}
		}
		if err != nil {
			// As with video: sensors cannot connect, but the shop opens; the
			// HTTP telemetry endpoint still works.
			m.Logger.Error("embedded MQTT broker is off: cannot listen; set SHELFLIVE_MQTT_ADDR to a free address", "addr", m.Config.MQTTAddr, "err", err)
		} else {
			m.MQTT = b
			if reg := m.Server.Registry; reg != nil {
				reg.MustRegister(newMQTTCollector(b.Stats))
			}
		}
	}
	if m.Config.MQTTURL != "" {
		host, _ := os.Hostname()
		sub, err := mqttingest.Subscribe(life, mqttingest.SubscriberConfig{URL: m.Config.MQTTURL, ClientID: "shelflive-" + host, Shared: "shelflive", Logger: m.Logger}, m.ColdChain)
		if err != nil {
			return fmt.Errorf("mqtt subscribe: %w", err)
		}
		m.mqttSub = sub
	}
	return nil
}

// startJobs runs the app's background loop and the queues beside it.
func (m *Main) startJobs(life context.Context) {
	m.done = make(chan struct{})
	go func() {
		defer close(m.done)
		m.App.Start(life)
	}()
	if m.App.Analytics != nil {
		go m.App.Analytics.Run(life)
	}
	go m.Webhooks.Run(life) // sends on the leader only
	if m.App.Comments != nil {
		go m.App.Comments.Run(life) // loads the word dictionary in the background first
	}
}
