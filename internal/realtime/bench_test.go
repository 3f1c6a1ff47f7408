package realtime_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/realtime"
)

// subscribeN subscribes n viewers (every 10th with a user key that also comments).
func subscribeN(b *testing.B, h *realtime.LocalHub, topic string, n int) []*realtime.Subscription {
	b.Helper()
	subs := make([]*realtime.Subscription, n)
	for i := range subs {
		s, err := h.Subscribe(realtime.SubscribeOptions{User: fmt.Sprint("u", i), Topics: topics(topic)})
		if err != nil {
			b.Fatal(err)
		}
		subs[i] = s
	}
	b.Cleanup(func() {
		for _, s := range subs {
			s.Close()
		}
	})
	return subs
}

func drainAll(subs []*realtime.Subscription, buf [][]byte) (frames int) {
	for _, s := range subs {
		buf = s.Frames(buf[:0])
		frames += len(buf)
	}
	return frames
}

// BenchmarkTick10k is one room tick at the target load: 10,000 viewers,
// 200 comments/s and 1,000 likes/s at a 100 ms tick = 20 comments and 100 taps per
// tick. One op = build the batch frame once + queue it to 10,000 connections
// (+ own-comment echoes). Draining the queues (the writers' job) is not timed.
func BenchmarkTick10k(b *testing.B) {
	h := realtime.NewLocalHub(realtime.Options{Tick: time.Hour, QueueLen: 1 << 20})
	defer h.Close()
	subs := subscribeN(b, h, "room:1", 10000)
	h.Flush()
	buf := drainAll(subs, nil)
	_ = buf
	var fb [][]byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for c := 0; c < 20; c++ {
			h.PublishComment("room:1", realtime.Comment{ID: fmt.Sprint(i, c), User: fmt.Sprint("u", c*500), Name: "观众**", Text: "这个面包保质期几天？"})
		}
		for l := 0; l < 100; l++ {
			h.AddLikes("room:1", 1)
		}
		h.Flush()
		b.StopTimer()
		drainAll(subs, fb)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/viewer")
}

// BenchmarkPublish10k is one guaranteed event (e.g. stock changed) to 10,000 viewers.
func BenchmarkPublish10k(b *testing.B) {
	h := realtime.NewLocalHub(realtime.Options{Tick: time.Hour, QueueLen: 1 << 20})
	defer h.Close()
	subs := subscribeN(b, h, "room:1", 10000)
	var fb [][]byte
	drainAll(subs, fb)
	data := map[string]any{"product_id": 42, "price_fen": 1990, "stock": 118, "name": "低脂全麦吐司"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.Publish("room:1", "stock.changed", data); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		drainAll(subs, fb)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/viewer")
}

// BenchmarkSubscribe is joining a busy room (snapshot path) and leaving it.
func BenchmarkSubscribe(b *testing.B) {
	h := realtime.NewLocalHub(realtime.Options{Tick: time.Hour, Snapshot: func(string) (any, error) {
		return map[string]any{"pinned": 42}, nil
	}})
	defer h.Close()
	subscribeN(b, h, "room:1", 10000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := h.Subscribe(realtime.SubscribeOptions{User: "x", Topics: topics("room:1")})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
