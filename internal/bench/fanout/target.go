package fanout

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/bench/proc"
	"github.com/shelflive/shelflive/internal/realtime"
	"github.com/shelflive/shelflive/internal/realtime/ws"
)

// target is the server under test: where viewers connect and how load is fed.
type target interface {
	mode() string
	viewerConfig() viewerConfig // Proto, WSURL, Topic (and Secret)
	// comment posts comment k; id is the comment's id as viewers see it.
	comment(ctx context.Context, k int, text string) (id int64, err error)
	// likes sends n like taps (one batch, as a phone sends them).
	likes(ctx context.Context, n int) error
	// pin pins a product; pinID is what the event carries to match the request.
	pin(ctx context.Context, k int) (pinID string, err error)
	viewers() int // connected viewers as the server counts them; -1 unknown
	rssKiB() (int64, bool)
	cpuTime() float64 // server CPU seconds so far; -1 unknown
	writes() uint64   // server socket writes so far; 0 unknown
	endLoad()         // the generators stopped: send what is queued
	close()
}

// inprocTarget serves the room itself: an in-process hub behind ws.Serve on
// loopback, fed directly (no HTTP API, no storage, no moderation): a
// microbenchmark of the hub and its WebSocket adapter.
type inprocTarget struct {
	o   *opts
	hub *realtime.LocalHub
	srv *http.Server
	ln  net.Listener
}

func newInprocTarget(o *opts) (*inprocTarget, error) {
	hub := realtime.NewLocalHub(realtime.Options{
		Tick: o.tick,
		Snapshot: func(topic string) (any, error) {
			return map[string]any{"room": topic, "title": "压测直播间 / load test room"}, nil
		},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		hub.Close()
		return nil, fmt.Errorf("fanout: listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/ws", func(w http.ResponseWriter, r *http.Request) {
		subs, err := ws.ParseResume(r.URL.Query()["sub"])
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ws.Serve(w, r, hub, ws.Options{User: r.URL.Query().Get("u"), Topics: subs})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return &inprocTarget{o: o, hub: hub, srv: srv, ln: ln}, nil
}

func (t *inprocTarget) mode() string { return "inproc" }
func (t *inprocTarget) viewerConfig() viewerConfig {
	return viewerConfig{Proto: protoShelfLive, WSURL: "ws://" + t.ln.Addr().String() + "/api/v1/ws?sub=room:1", Topic: "room:1"}
}
func (t *inprocTarget) comment(_ context.Context, k int, text string) (int64, error) {
	// Authors spread over the viewers, so own-comment echoes happen as in a real room.
	author := "bench" + strconv.Itoa((k*7919)%t.o.viewers)
	t.hub.PublishComment("room:1", realtime.Comment{ID: strconv.Itoa(k), User: author, Name: "观众**", Text: text})
	return int64(k), nil
}
func (t *inprocTarget) likes(_ context.Context, n int) error { t.hub.AddLikes("room:1", n); return nil }
func (t *inprocTarget) pin(_ context.Context, k int) (string, error) {
	id := "k" + strconv.Itoa(k)
	_, err := t.hub.Publish("room:1", t.o.eventType, map[string]any{
		"pin_id": id, "product": map[string]any{"id": t.o.product, "name": "低脂全麦吐司 400g", "price_fen": 1290, "stock": 500 - k%500},
	})
	return id, err
}
func (t *inprocTarget) viewers() int          { return t.hub.Viewers("room:1") }
func (t *inprocTarget) rssKiB() (int64, bool) { return proc.RSSKiB("self") }
func (t *inprocTarget) cpuTime() float64      { return proc.CPUSeconds("self") }
func (t *inprocTarget) writes() uint64        { return t.hub.Stats().Writes }
func (t *inprocTarget) endLoad()              {}
func (t *inprocTarget) close()                { t.hub.Close(); t.srv.Close() }
func (t *inprocTarget) stats() realtime.Stats { return t.hub.Stats() }
