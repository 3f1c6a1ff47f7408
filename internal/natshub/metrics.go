package natshub

import "github.com/prometheus/client_golang/prometheus"

// Metric descriptions: what an operator watches on a cluster node (see
// docs/DEPLOY.md "What to monitor").
var (
	descConnected  = prometheus.NewDesc("shelflive_nats_connected", "1 while the node is connected to NATS.", nil, nil)
	descPublished  = prometheus.NewDesc("shelflive_nats_events_published_total", "Guaranteed room events this node appended to the JetStream stream.", nil, nil)
	descConflicts  = prometheus.NewDesc("shelflive_nats_append_conflicts_total", "Appends refused because another node appended to the topic first (retried).", nil, nil)
	descPubErrors  = prometheus.NewDesc("shelflive_nats_publish_errors_total", "Guaranteed events that could not be appended (NATS down, timeout); viewers catch up at their next snapshot.", nil, nil)
	descApplied    = prometheus.NewDesc("shelflive_nats_events_applied_total", "Guaranteed events delivered to this node's viewers' hub.", nil, nil)
	descResets     = prometheus.NewDesc("shelflive_nats_topic_resets_total", "Topics restarted under a new epoch after an event could not be appended (their viewers resync).", nil, nil)
	descPrimes     = prometheus.NewDesc("shelflive_nats_topic_loads_total", "Topic histories loaded from the stream for a first local viewer.", nil, nil)
	descRelayOut   = prometheus.NewDesc("shelflive_nats_relay_sent_total", "Lossy relay messages (comments, likes, personal, presence) sent.", nil, nil)
	descRelayIn    = prometheus.NewDesc("shelflive_nats_relay_received_total", "Lossy relay messages received from other nodes.", nil, nil)
	descNodes      = prometheus.NewDesc("shelflive_nats_remote_nodes", "Other nodes whose presence reports are current.", nil, nil)
	descTopics     = prometheus.NewDesc("shelflive_nats_followed_topics", "Topics whose events this node follows.", nil, nil)
	descSubs       = prometheus.NewDesc("shelflive_realtime_subscriptions", "Live WebSocket subscriptions on this node.", nil, nil)
	descSlow       = prometheus.NewDesc("shelflive_realtime_slow_consumers_total", "Connections ended with slow_consumer on this node.", nil, nil)
	descFrames     = prometheus.NewDesc("shelflive_realtime_frames_queued_total", "Frames queued to connections on this node.", nil, nil)
	descLossyDrops = prometheus.NewDesc("shelflive_realtime_lossy_dropped_total", "Batch frames dropped for full connection queues on this node.", nil, nil)
)

// Describe implements prometheus.Collector.
func (h *Hub) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConnected, descPublished, descConflicts, descPubErrors, descApplied, descPrimes, descResets,
		descRelayOut, descRelayIn, descNodes, descTopics, descSubs, descSlow, descFrames, descLossyDrops} {
		ch <- d
	}
}

// Collect implements prometheus.Collector, so the node registers the hub
// itself: reg.MustRegister(hub).
func (h *Hub) Collect(ch chan<- prometheus.Metric) {
	st := h.Stats()
	conn := 0.0
	if st.Connected {
		conn = 1
	}
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	c := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	g(descConnected, conn)
	c(descPublished, st.Published)
	c(descConflicts, st.Conflicts)
	c(descPubErrors, st.PublishErrors)
	c(descApplied, st.Applied)
	c(descPrimes, st.Primes)
	c(descResets, st.Resets)
	c(descRelayOut, st.RelayOut)
	c(descRelayIn, st.RelayIn)
	g(descNodes, float64(st.RemoteNodes))
	g(descTopics, float64(st.TrackedTopics))
	g(descSubs, float64(st.Subscriptions))
	c(descSlow, st.SlowConsumers)
	c(descFrames, st.FramesQueued)
	c(descLossyDrops, st.LossyDropped)
}
