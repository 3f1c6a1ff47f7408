package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
	orders   *prometheus.CounterVec
	payments *prometheus.CounterVec
	forwards *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "shelflive_http_request_duration_seconds", Help: "HTTP request latency by route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route", "code"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "shelflive_http_inflight_requests", Help: "Requests being served."}),
		orders:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shelflive_orders_created_total", Help: "Orders created (kind: regular, flash)."}, []string{"kind"}),
		payments: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shelflive_payment_callbacks_total", Help: "Payment callbacks by result (paid, refused)."}, []string{"result"}),
		forwards: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shelflive_leader_forwards_total",
			Help: "Requests this node relayed to the leader, by result (answered: the leader answered; failed: unreachable, answered busy_retry)."}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.inflight, m.orders, m.payments, m.forwards)
	}
	return m
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (m *metrics) instrument(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inflight.Inc()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			m.inflight.Dec()
			code := sw.code
			if code == 0 {
				code = 200
			}
			m.duration.WithLabelValues(route, strconv.Itoa(code)).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r)
	})
}
