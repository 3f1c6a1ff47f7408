package node

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/insight"
	"github.com/shelflive/shelflive/internal/mqttingest"
	"github.com/shelflive/shelflive/internal/realtime"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// hubCollector exports the room hub's counters: open WebSocket
// subscriptions, events, frames, drops and slow consumers.
type hubCollector struct {
	hub  interface{ Stats() realtime.Stats }
	desc map[string]*prometheus.Desc
}

func newHubCollector(h interface{ Stats() realtime.Stats }) *hubCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("shelflive_realtime_"+name, help, nil, nil)
	}
	return &hubCollector{hub: h, desc: map[string]*prometheus.Desc{
		"subscriptions":    d("subscriptions", "Open WebSocket subscriptions on this node."),
		"topics":           d("topics", "Room, order and staff topics held."),
		"events":           d("events_total", "Guaranteed (commerce) events published."),
		"frames":           d("frames_queued_total", "Frames queued to connections."),
		"lossy_dropped":    d("lossy_frames_dropped_total", "Comment/like frames dropped for full connection queues."),
		"lossy_replaced":   d("batches_replaced_total", "Unsent comment/like batches replaced by a newer one (a connection's writer was late)."),
		"comments_dropped": d("comments_sampled_out_total", "Comments sampled out of batch frames."),
		"slow":             d("slow_consumers_total", "Connections closed because they could not keep up."),
		"writes":           d("socket_writes_total", "WebSocket writes (each carries one or more frames)."),
	}}
}

func (c *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.desc {
		ch <- d
	}
}

func (c *hubCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.hub.Stats()
	g := func(k string, v float64) { ch <- prometheus.MustNewConstMetric(c.desc[k], prometheus.GaugeValue, v) }
	n := func(k string, v uint64) {
		ch <- prometheus.MustNewConstMetric(c.desc[k], prometheus.CounterValue, float64(v))
	}
	g("subscriptions", float64(s.Subscriptions))
	g("topics", float64(s.Topics))
	n("events", s.Events)
	n("frames", s.FramesQueued)
	n("lossy_dropped", s.LossyDropped)
	n("lossy_replaced", s.LossyReplaced)
	n("comments_dropped", s.CommentsDropped)
	n("slow", s.SlowConsumers)
	n("writes", s.Writes)
}

// dbCollector exports the database pools' use.
type dbCollector struct {
	db               *sqldb.DB
	inUse, waitCount *prometheus.Desc
}

func newDBCollector(db *sqldb.DB) *dbCollector {
	return &dbCollector{db: db,
		inUse:     prometheus.NewDesc("shelflive_db_connections_in_use", "Database connections in use.", []string{"pool"}, nil),
		waitCount: prometheus.NewDesc("shelflive_db_waits_total", "Times a query waited for a free connection.", []string{"pool"}, nil)}
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.inUse; ch <- c.waitCount }

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	w, r := c.db.Stats()
	ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(w.InUse), "write")
	ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(r.InUse), "read")
	ch <- prometheus.MustNewConstMetric(c.waitCount, prometheus.CounterValue, float64(w.WaitCount), "write")
	ch <- prometheus.MustNewConstMetric(c.waitCount, prometheus.CounterValue, float64(r.WaitCount), "read")
}

// mqttCollector exports the embedded broker's counters: readings accepted
// and refused (refused 3.1.1 QoS 1 readings are acknowledged and dropped,
// counted apart so an operator can alert on a device sending garbage), and
// connections refused before authentication.
type mqttCollector struct {
	st    *mqttingest.Stats
	descs map[string]*prometheus.Desc
}

func newMQTTCollector(st *mqttingest.Stats) *mqttCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("shelflive_mqtt_"+name, help, nil, nil)
	}
	return &mqttCollector{st: st, descs: map[string]*prometheus.Desc{
		"accepted":   d("readings_accepted_total", "Readings stored from the embedded MQTT broker."),
		"rejected":   d("readings_rejected_total", "Readings refused (bad payload, unknown device, busy)."),
		"dropped":    d("readings_acked_dropped_total", "Refused QoS 1 readings of MQTT 3.1.1 devices, acknowledged and dropped."),
		"perip":      d("connections_refused_total", "Connections closed at once: too many from one address."),
		"preconnect": d("preconnect_refused_total", "Connections closed before authentication: first packet not a CONNECT within the size limit."),
	}}
}

func (c *mqttCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *mqttCollector) Collect(ch chan<- prometheus.Metric) {
	for k, v := range map[string]uint64{"accepted": c.st.Accepted.Load(), "rejected": c.st.Rejected.Load(), "dropped": c.st.AckedDropped.Load(),
		"perip": c.st.ConnRefused.Load(), "preconnect": c.st.PreConnectRefused.Load()} {
		ch <- prometheus.MustNewConstMetric(c.descs[k], prometheus.CounterValue, float64(v))
	}
}

// newRegistry is /metrics: Go and process figures, the database pool, the
// room hub (or NATS) and the analytics queues.
func (m *Main) newRegistry(db *sqldb.DB, a *app.App) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newDBCollector(db))
	if m.NATS != nil {
		reg.MustRegister(m.NATS) // shelflive_nats_* and shelflive_realtime_* (docs/DEPLOY.md)
	} else if hs, ok := a.Hub.(interface{ Stats() realtime.Stats }); ok {
		reg.MustRegister(newHubCollector(hs))
	}
	if rec := a.Analytics; rec != nil {
		for _, r := range []struct {
			result string
			get    func(insight.RecorderStats) int64
		}{{"written", func(s insight.RecorderStats) int64 { return s.Written }}, {"dropped", func(s insight.RecorderStats) int64 { return s.Dropped }},
			{"failed", func(s insight.RecorderStats) int64 { return s.Failed }}} {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "shelflive_insight_events_total",
				Help: "Analytics events by what became of them (dropped: the bounded queue was full).", ConstLabels: prometheus.Labels{"result": r.result}},
				func() float64 { return float64(r.get(rec.Stats())) }))
		}
	}
	if rd := a.Comments; rd != nil {
		for _, r := range []struct {
			result string
			get    func() int64
		}{{"read", func() int64 { n, _ := rd.Counts(); return n }}, {"dropped", func() int64 { _, n := rd.Counts(); return n }}} {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "shelflive_insight_comments_total",
				Help: "Comments the insight reader classified (read) or could not queue (dropped); none are read before its word dictionary has loaded.", ConstLabels: prometheus.Labels{"result": r.result}},
				func() float64 { return float64(r.get()) }))
		}
	}
	return reg
}
