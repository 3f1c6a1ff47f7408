// Package bench holds ShelfLive's load tools (`shelflive bench …`): real clients
// over loopback, bounded in count and time, printing a human summary and, as the
// last line, one JSON object for docs/BENCHMARKS.md.
package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shelflive/shelflive/internal/realtime"
	"github.com/shelflive/shelflive/internal/realtime/ws"
)

// fanoutChildEnv carries a viewer child's configuration. A child is this same
// executable started with the same arguments, so it reaches RunFanout again
// through whatever command line wired it (`shelflive bench fanout …` or a test).
const fanoutChildEnv = "SHELFLIVE_FANOUT_CHILD"

// fanoutOpts are the command-line options of `bench fanout`.
type fanoutOpts struct {
	viewers       int
	commentsPerS  float64
	likesPerS     float64
	eventsPerS    float64
	duration      time.Duration
	url           string
	room          string
	token         string
	product       int64
	inproc        bool
	serverPID     int
	viewerProcs   int
	sourceIPs     int
	concurrency   int
	tick          time.Duration
	eventType     string
	drain         time.Duration
	commentSample int
	cpuProfile    string
	peer          string // "centrifugo": run the workload against that server at --url instead
}

func parseFanoutFlags(args []string, out io.Writer) (*fanoutOpts, error) {
	o := &fanoutOpts{}
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&o.viewers, "viewers", 1000, "number of WebSocket viewers")
	fs.Float64Var(&o.commentsPerS, "comments-per-s", 200, "comments posted per second")
	fs.Float64Var(&o.likesPerS, "likes-per-s", 1000, "like taps per second")
	fs.Float64Var(&o.eventsPerS, "events-per-s", 5, "commerce events (product pins) per second")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "load duration")
	fs.StringVar(&o.url, "url", "", "base URL of a running ShelfLive server, e.g. http://127.0.0.1:8080")
	fs.StringVar(&o.room, "room", "demo", "room slug (with --url)")
	fs.StringVar(&o.token, "token", os.Getenv("SHELFLIVE_ADMIN_TOKEN"), "bearer token for posting comments/likes/pins (default $SHELFLIVE_ADMIN_TOKEN); a comma-separated list is used round-robin for comments, so per-user rate limits see several users")
	fs.Int64Var(&o.product, "product", 1, "product id to pin (with --url)")
	fs.BoolVar(&o.inproc, "inproc", false, "run against an in-process hub fed directly (no --url needed)")
	fs.IntVar(&o.serverPID, "server-pid", 0, "pid of the server, to report its RSS (with --url)")
	fs.IntVar(&o.viewerProcs, "viewer-procs", -1, "child processes for viewers (default: 1 with --inproc, so that server and clients each get their own file-descriptor limit; 0 with --url)")
	fs.IntVar(&o.sourceIPs, "source-ips", 8, "loopback source addresses 127.0.0.1..N to spread connections over")
	fs.IntVar(&o.concurrency, "connect-concurrency", 256, "concurrent connection attempts")
	fs.DurationVar(&o.tick, "tick", 100*time.Millisecond, "hub batch interval (with --inproc)")
	fs.StringVar(&o.eventType, "event-type", "card.pinned", "type of the commerce event whose latency is measured")
	fs.DurationVar(&o.drain, "drain", 10*time.Second, "how long to wait after the load for late commerce events")
	fs.IntVar(&o.commentSample, "comment-sample", 10, "every Nth viewer measures comment latency")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the load phase to this file (viewer children: file.viewersN)")
	fs.StringVar(&o.peer, "peer", "", "run the same workload against another server at --url: centrifugo (see fanout_centrifugo.go)")
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("fanout: %w", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("fanout: unexpected arguments %q", fs.Args())
	}
	switch {
	case o.viewers < 1 || o.viewers > 200000:
		return nil, errors.New("fanout: --viewers must be 1..200000")
	case o.duration <= 0 || o.duration > time.Hour:
		return nil, errors.New("fanout: --duration must be within (0, 1h]")
	case o.commentsPerS < 0 || o.likesPerS < 0 || o.eventsPerS < 0:
		return nil, errors.New("fanout: rates must not be negative")
	case !o.inproc && o.url == "":
		return nil, errors.New("fanout: give --url of a running server, or --inproc")
	case o.inproc && o.url != "":
		return nil, errors.New("fanout: --inproc and --url exclude each other")
	}
	if o.viewerProcs < 0 {
		o.viewerProcs = 0
		if o.inproc {
			o.viewerProcs = 1
		}
	}
	return o, nil
}

// RunFanout is `shelflive bench fanout`: it opens N real WebSocket viewers on one
// room, posts comments, likes and commerce events at the given rates for the
// given time, and measures what the viewers receive. With --inproc it serves the
// room itself (an in-process hub behind ws.Serve on loopback, fed directly) and
// runs the viewers in a child process, so the server's RSS is this process's.
// The last line written to stdout is one JSON object.
func RunFanout(ctx context.Context, args []string, stdout io.Writer) error {
	if cfg := os.Getenv(fanoutChildEnv); cfg != "" {
		return runFanoutChild(ctx, cfg, stdout)
	}
	o, err := parseFanoutFlags(args, stdout)
	if err != nil {
		return err
	}
	fanoutRaiseNoFile()
	if o.peer != "" {
		return runFanoutPeer(ctx, o, stdout)
	}

	var tgt fanoutTarget
	if o.inproc {
		tgt, err = newFanoutInproc(o)
	} else {
		tgt, err = newFanoutRemote(ctx, o)
	}
	if err != nil {
		return err
	}
	defer tgt.close()
	fmt.Fprintf(stdout, "fanout: %s, %d viewers on %s, %g comments/s, %g likes/s, %g events/s for %v\n",
		tgt.mode(), o.viewers, tgt.wsURL(), o.commentsPerS, o.likesPerS, o.eventsPerS, o.duration)

	fanoutSettleMemory()
	rssIdle, _ := tgt.rssKiB()

	// Viewers.
	groups, err := startFanoutGroups(ctx, o, tgt)
	defer func() {
		for _, g := range groups {
			g.close()
		}
	}()
	if err != nil {
		return err
	}
	if n := tgt.viewers(); n >= 0 {
		deadline := time.Now().Add(60 * time.Second)
		for tgt.viewers() < o.viewers && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(time.Second) // presence batches of the joins go out
	fanoutSettleMemory()
	rssConnected, haveRSS := tgt.rssKiB()
	fmt.Fprintf(stdout, "fanout: %d viewers connected\n", o.viewers)

	// Load.
	for _, g := range groups {
		g.begin()
	}
	cpu0, self0 := tgt.cpuTime(), fanoutCPUSeconds("self")
	writes0 := uint64(0)
	if st, ok := tgt.(interface{ stats() realtime.Stats }); ok {
		writes0 = st.stats().Writes
	}
	busy0, total0 := fanoutMachineCPU()
	stopProfile := fanoutCPUProfile(o.cpuProfile)
	gen := runFanoutGenerators(ctx, o, tgt)
	stopProfile()
	busy1, total1 := fanoutMachineCPU()
	cpu1, self1 := tgt.cpuTime(), fanoutCPUSeconds("self")
	rssLoad, _ := tgt.rssKiB()
	var (
		res  fanoutChildResult
		pins = newFanoutHist()
		coms = newFanoutHist()
	)
	resCh := make(chan fanoutChildResult, len(groups))
	errCh := make(chan error, len(groups))
	for _, g := range groups {
		go func() {
			r, err := g.end(gen.pinSent, o.drain)
			if err != nil {
				errCh <- err
				return
			}
			resCh <- r
		}()
	}
	for range groups {
		select {
		case r := <-resCh:
			res.add(r)
			pins.merge(r.PinHist)
			coms.merge(r.CommentHist)
		case err := <-errCh:
			return err
		}
	}

	secs := o.duration.Seconds()
	sum := fanoutSummary{
		Mode:                  tgt.mode(),
		Viewers:               o.viewers,
		ViewersConnected:      res.Connected,
		DurationS:             fanoutRound(secs, 1),
		CommerceEventsSent:    len(gen.pinSent),
		CommerceEventsLost:    res.PinLost,
		CommerceP50Ms:         fanoutRound(pins.quantile(0.50), 1),
		CommerceP99Ms:         fanoutRound(pins.quantile(0.99), 1),
		CommerceMaxMs:         fanoutRound(pins.quantile(1), 1),
		CommentBatchP50Ms:     fanoutRound(coms.quantile(0.50), 1),
		CommentBatchP99Ms:     fanoutRound(coms.quantile(0.99), 1),
		FramesPerS:            fanoutRound(float64(res.Frames)/secs, 0),
		CommentsDeliveredPerS: fanoutRound(float64(res.Comments)/secs, 0),
		MessagesPerS:          fanoutRound(float64(res.Comments+res.Events+res.Batches)/secs, 0),
		CommentsSent:          gen.comments,
		CommentsRejected:      gen.commentErrs,
		LikesSent:             gen.likes,
		Reconnects:            res.Reconnects,
		SlowConsumerCloses:    res.SlowByes,
		DialErrors:            res.DialErrors,
	}
	if haveRSS {
		sum.ServerRSSMiB = fanoutRound(float64(rssLoad)/1024, 1)
		sum.ServerRSSIdleMiB = fanoutRound(float64(rssIdle)/1024, 1)
		sum.ServerKiBPerViewer = fanoutRound(float64(rssConnected-rssIdle)/float64(o.viewers), 1)
	}
	// CPU: this process (+ viewer children, + a remote server with --server-pid).
	// With --inproc this process is the server (and, with --viewer-procs 0, the
	// viewers too); with --url it runs the viewers unless they are in children.
	self := self1 - self0
	serverCPU := -1.0
	if cpu1 >= 0 && cpu0 >= 0 {
		serverCPU = cpu1 - cpu0
		sum.ServerCPUPct = fanoutRound(100*serverCPU/secs, 0)
	}
	viewersCPU := res.CPUSeconds
	if !o.inproc && o.viewerProcs == 0 {
		viewersCPU += self
	}
	sum.ViewersCPUPct = fanoutRound(100*viewersCPU/secs, 0)
	if total1 > total0 {
		// Share of all cores busy during the load, and how much of it was neither
		// the server nor our viewers: other work on the machine skews the figures.
		sum.MachineBusyPct = fanoutRound(100*(busy1-busy0)/(total1-total0), 0)
		own := self + res.CPUSeconds
		if !o.inproc && serverCPU > 0 {
			own += serverCPU
		}
		other := (busy1 - busy0) - own
		sum.OtherCPUPct = fanoutRound(max(0, 100*other/secs), 0)
	}
	if st, ok := tgt.(interface{ stats() realtime.Stats }); ok {
		s := st.stats()
		sum.HubLossyDropped = s.LossyDropped
		if w := s.Writes - writes0; w > 0 && serverCPU > 0 {
			sum.ServerWritesPerS = fanoutRound(float64(w)/secs, 0)
			sum.ServerUsPerWrite = fanoutRound(serverCPU*1e6/float64(w), 2)
		}
		// Server-side share of the latency: queued → written to the socket.
		sum.ServerEventQueueP99Ms = fanoutDelayMs(realtime.DelayQuantile(s.ReliableDelay, 0.99))
		sum.ServerBatchQueueP99Ms = fanoutDelayMs(realtime.DelayQuantile(s.LossyDelay, 0.99))
	}

	fmt.Fprintf(stdout, "fanout: commerce events: %d sent, %d lost, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		sum.CommerceEventsSent, sum.CommerceEventsLost, sum.CommerceP50Ms, sum.CommerceP99Ms, sum.CommerceMaxMs)
	fmt.Fprintf(stdout, "fanout: comment batches: p50 %.1f ms, p99 %.1f ms; %d comments sent (%d rejected), %.0f delivered/s\n",
		sum.CommentBatchP50Ms, sum.CommentBatchP99Ms, sum.CommentsSent, sum.CommentsRejected, sum.CommentsDeliveredPerS)
	fmt.Fprintf(stdout, "fanout: %.0f frames/s, %.0f messages/s to viewers; %d reconnects, %d slow-consumer closes\n",
		sum.FramesPerS, sum.MessagesPerS, sum.Reconnects, sum.SlowConsumerCloses)
	if sum.ServerEventQueueP99Ms > 0 {
		fmt.Fprintf(stdout, "fanout: server side (queued → socket write) p99 ≤ %.0f ms for events, ≤ %.0f ms for batches\n",
			sum.ServerEventQueueP99Ms, sum.ServerBatchQueueP99Ms)
	}
	fmt.Fprintf(stdout, "fanout: CPU (100%% = one core): server %.0f%%, viewers %.0f%%, other processes %.0f%%; machine %.0f%% busy\n",
		sum.ServerCPUPct, sum.ViewersCPUPct, sum.OtherCPUPct, sum.MachineBusyPct)
	if haveRSS {
		fmt.Fprintf(stdout, "fanout: server RSS %.1f MiB idle, %.1f MiB under load, %.1f KiB per connected viewer, CPU %.0f%%\n",
			sum.ServerRSSIdleMiB, sum.ServerRSSMiB, sum.ServerKiBPerViewer, sum.ServerCPUPct)
	}
	line, _ := json.Marshal(sum)
	fmt.Fprintln(stdout, string(line))
	return nil
}

// fanoutSummary is the last line of the output.
type fanoutSummary struct {
	Mode                  string  `json:"mode"`
	Viewers               int     `json:"viewers"`
	ViewersConnected      int64   `json:"viewers_connected"`
	DurationS             float64 `json:"duration_s"`
	CommerceEventsSent    int     `json:"commerce_events_sent"`
	CommerceEventsLost    uint64  `json:"commerce_events_lost"`
	CommerceP50Ms         float64 `json:"commerce_p50_ms"`
	CommerceP99Ms         float64 `json:"commerce_p99_ms"`
	CommerceMaxMs         float64 `json:"commerce_max_ms"`
	CommentBatchP50Ms     float64 `json:"comment_batch_p50_ms"`
	CommentBatchP99Ms     float64 `json:"comment_batch_p99_ms"`
	FramesPerS            float64 `json:"frames_per_s"`
	CommentsDeliveredPerS float64 `json:"comments_delivered_per_s"`
	MessagesPerS          float64 `json:"messages_per_s"`
	CommentsSent          int64   `json:"comments_sent"`
	CommentsRejected      int64   `json:"comments_rejected"`
	LikesSent             int64   `json:"likes_sent"`
	Reconnects            uint64  `json:"reconnects"`
	SlowConsumerCloses    uint64  `json:"slow_consumer_closes"`
	DialErrors            uint64  `json:"dial_errors"`
	HubLossyDropped       uint64  `json:"hub_lossy_frames_dropped,omitempty"`
	ServerWritesPerS      float64 `json:"server_writes_per_s,omitempty"`
	ServerUsPerWrite      float64 `json:"server_cpu_us_per_write,omitempty"`   // server CPU per socket write
	ServerEventQueueP99Ms float64 `json:"server_event_queue_p99_ms,omitempty"` // bucket bound: ≤ this
	ServerBatchQueueP99Ms float64 `json:"server_batch_queue_p99_ms,omitempty"`
	ServerRSSMiB          float64 `json:"server_rss_mib"`
	ServerRSSIdleMiB      float64 `json:"server_rss_idle_mib,omitempty"`
	ServerKiBPerViewer    float64 `json:"server_kib_per_viewer,omitempty"`
	ServerCPUPct          float64 `json:"server_cpu_pct,omitempty"`
	ViewersCPUPct         float64 `json:"viewers_cpu_pct,omitempty"`
	MachineBusyPct        float64 `json:"machine_busy_pct"`
	OtherCPUPct           float64 `json:"other_cpu_pct"` // CPU used by other processes (100 = one core)
}

func fanoutDelayMs(d time.Duration) float64 {
	if d < 0 {
		return 99999
	}
	return float64(d) / float64(time.Millisecond)
}

func fanoutRound(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// ---- targets -------------------------------------------------------------

// fanoutTarget is the server under test: where viewers connect and how load is fed.
type fanoutTarget interface {
	mode() string
	wsURL() string
	topic() string
	comment(k int, text string) error
	likes(n int) error
	pin(k int, sentNS int64) error
	likesPerTap() bool // true: one likes() call per tap; false: batch taps per request
	viewers() int      // connected viewers as the server counts them; -1 unknown
	rssKiB() (int64, bool)
	cpuTime() float64 // server CPU seconds so far; -1 unknown
	close()
}

type fanoutInproc struct {
	o   *fanoutOpts
	hub *realtime.LocalHub
	srv *http.Server
	ln  net.Listener
}

func newFanoutInproc(o *fanoutOpts) (*fanoutInproc, error) {
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
	return &fanoutInproc{o: o, hub: hub, srv: srv, ln: ln}, nil
}

func (t *fanoutInproc) mode() string  { return "inproc" }
func (t *fanoutInproc) topic() string { return "room:1" }
func (t *fanoutInproc) wsURL() string {
	return "ws://" + t.ln.Addr().String() + "/api/v1/ws?sub=room:1"
}
func (t *fanoutInproc) comment(k int, text string) error {
	// Authors spread over the viewers, so own-comment echoes happen as in a real room.
	author := "bench" + strconv.Itoa((k*7919)%t.o.viewers)
	t.hub.PublishComment("room:1", realtime.Comment{ID: "b" + strconv.Itoa(k), User: author, Name: "观众**", Text: text})
	return nil
}
func (t *fanoutInproc) likes(n int) error { t.hub.AddLikes("room:1", n); return nil }
func (t *fanoutInproc) pin(k int, sentNS int64) error {
	_, err := t.hub.Publish("room:1", t.o.eventType, map[string]any{
		"product_id": t.o.product, "bench_k": k, "sent_ns": sentNS,
		"card": map[string]any{"name": "低脂全麦吐司 400g", "price_fen": 1290, "stock": 500 - k%500},
	})
	return err
}
func (t *fanoutInproc) likesPerTap() bool     { return true }
func (t *fanoutInproc) viewers() int          { return t.hub.Viewers("room:1") }
func (t *fanoutInproc) rssKiB() (int64, bool) { return fanoutRSSKiB("self") }
func (t *fanoutInproc) cpuTime() float64      { return fanoutCPUSeconds("self") }
func (t *fanoutInproc) stats() realtime.Stats { return t.hub.Stats() }
func (t *fanoutInproc) close()                { t.hub.Close(); t.srv.Close() }

type fanoutRemote struct {
	o      *fanoutOpts
	base   string
	roomID int64
	client *http.Client
}

func newFanoutRemote(ctx context.Context, o *fanoutOpts) (*fanoutRemote, error) {
	base := strings.TrimRight(o.url, "/")
	if !strings.HasPrefix(base, "http://") {
		return nil, fmt.Errorf("fanout: --url %q: only http:// is supported", o.url)
	}
	t := &fanoutRemote{o: o, base: base, client: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128},
	}}
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/rooms/"+o.room, nil)
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fanout: get room: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("fanout: get room %s: %s: %s", o.room, resp.Status, b)
	}
	var body struct {
		ID   int64 `json:"id"`
		Room struct {
			ID int64 `json:"id"`
		} `json:"room"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("fanout: get room: decode: %w", err)
	}
	t.roomID = body.ID
	if t.roomID == 0 {
		t.roomID = body.Room.ID
	}
	if t.roomID == 0 {
		return nil, fmt.Errorf("fanout: room %s: no id in response", o.room)
	}
	return t, nil
}

func (t *fanoutRemote) mode() string  { return "remote" }
func (t *fanoutRemote) topic() string { return "room:" + strconv.FormatInt(t.roomID, 10) }
func (t *fanoutRemote) wsURL() string {
	return "ws://" + strings.TrimPrefix(t.base, "http://") + "/api/v1/ws?sub=" + t.topic()
}

func (t *fanoutRemote) post(path string, body any) error { return t.postAs(0, path, body) }

// postAs posts with the k-th token of --token (round-robin).
func (t *fanoutRemote) postAs(k int, path string, body any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", t.base+"/api/v1/rooms/"+t.o.room+path, strings.NewReader(string(b)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if t.o.token != "" {
		tokens := strings.Split(t.o.token, ",")
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tokens[k%len(tokens)]))
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, b)
	}
	io.Copy(io.Discard, resp.Body)
	return nil
}

func (t *fanoutRemote) comment(k int, text string) error {
	return t.postAs(k, "/comments", map[string]string{"text": text})
}
func (t *fanoutRemote) likes(n int) error { return t.post("/likes", map[string]int{"count": n}) }
func (t *fanoutRemote) pin(k int, sentNS int64) error {
	return t.post("/pin", map[string]int64{"product_id": t.o.product})
}
func (t *fanoutRemote) likesPerTap() bool { return false }
func (t *fanoutRemote) viewers() int      { return -1 }
func (t *fanoutRemote) rssKiB() (int64, bool) {
	if t.o.serverPID <= 0 {
		return 0, false
	}
	return fanoutRSSKiB(strconv.Itoa(t.o.serverPID))
}
func (t *fanoutRemote) cpuTime() float64 {
	if t.o.serverPID <= 0 {
		return -1
	}
	return fanoutCPUSeconds(strconv.Itoa(t.o.serverPID))
}
func (t *fanoutRemote) close() { t.client.CloseIdleConnections() }

// ---- load generators ------------------------------------------------------

type fanoutGen struct {
	pinSent     []int64 // send time (Unix ns) of commerce event k
	comments    int64
	commentErrs int64
	likes       int64
	likeErrs    int64
	pinErrs     int64
}

// runFanoutGenerators feeds comments, likes and commerce events for o.duration.
func runFanoutGenerators(ctx context.Context, o *fanoutOpts, tgt fanoutTarget) *fanoutGen {
	res := &fanoutGen{}
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var wg sync.WaitGroup
	var comments, commentErrs, likes, likeErrs atomic.Int64
	sem := make(chan struct{}, 64) // bounded in-flight HTTP requests

	paced := func(rate float64, step time.Duration, emit func(n int)) {
		defer wg.Done()
		if rate <= 0 {
			return
		}
		tk := time.NewTicker(step)
		defer tk.Stop()
		start := time.Now()
		done := 0
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tk.C:
				due := int(rate * now.Sub(start).Seconds())
				if due > done {
					emit(due - done)
					done = due
				}
			}
		}
	}
	wg.Add(3)
	go paced(o.commentsPerS, 10*time.Millisecond, func(n int) {
		for i := 0; i < n; i++ {
			k := int(comments.Add(1))
			text := "bench " + strconv.FormatInt(time.Now().UnixNano(), 10) + " 这个面包保质期几天？"
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if err := tgt.comment(k, text); err != nil {
					commentErrs.Add(1)
				}
			}()
		}
	})
	likeStep := 10 * time.Millisecond
	if !tgt.likesPerTap() {
		likeStep = 100 * time.Millisecond // a phone batches taps too
	}
	go paced(o.likesPerS, likeStep, func(n int) {
		likes.Add(int64(n))
		if tgt.likesPerTap() {
			for i := 0; i < n; i++ {
				tgt.likes(1)
			}
			return
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := tgt.likes(n); err != nil {
				likeErrs.Add(1)
			}
		}()
	})
	// Commerce events one at a time, in order, like a host pinning cards.
	go paced(o.eventsPerS, 5*time.Millisecond, func(n int) {
		for i := 0; i < n; i++ {
			k := len(res.pinSent)
			now := time.Now().UnixNano()
			res.pinSent = append(res.pinSent, now)
			if err := tgt.pin(k, now); err != nil {
				res.pinErrs++
				res.pinSent = res.pinSent[:k]
			}
		}
	})
	wg.Wait()
	res.comments, res.commentErrs = comments.Load(), commentErrs.Load()
	res.likes, res.likeErrs = likes.Load(), likeErrs.Load()
	return res
}

// ---- viewer groups: in this process or in child processes ----------------

// fanoutChildResult is what a viewer group measured.
type fanoutChildResult struct {
	Connected   int64       `json:"connected"`
	Frames      uint64      `json:"frames"`
	Batches     uint64      `json:"batches"`
	Comments    uint64      `json:"comments"`
	Events      uint64      `json:"events"`
	Reconnects  uint64      `json:"reconnects"`
	SlowByes    uint64      `json:"slow_byes"`
	DialErrors  uint64      `json:"dial_errors"`
	PinLost     uint64      `json:"pin_lost"`
	CPUSeconds  float64     `json:"cpu_s"` // viewer process CPU during the load
	PinHist     [][2]uint64 `json:"pin_hist"`
	CommentHist [][2]uint64 `json:"comment_hist"`
}

func (r *fanoutChildResult) add(o fanoutChildResult) {
	r.Connected += o.Connected
	r.Frames += o.Frames
	r.Batches += o.Batches
	r.Comments += o.Comments
	r.Events += o.Events
	r.Reconnects += o.Reconnects
	r.SlowByes += o.SlowByes
	r.DialErrors += o.DialErrors
	r.PinLost += o.PinLost
	r.CPUSeconds += o.CPUSeconds
}

type fanoutGroup interface {
	begin()                                                           // the load starts: reset counters
	end(sent []int64, drain time.Duration) (fanoutChildResult, error) // the load stopped: measure
	close()
}

func startFanoutGroups(ctx context.Context, o *fanoutOpts, tgt fanoutTarget) ([]fanoutGroup, error) {
	base := fanoutViewerConfig{
		WSURL: tgt.wsURL(), Topic: tgt.topic(), SourceIPs: o.sourceIPs, Concurrency: o.concurrency,
		EventType: o.eventType, CommentSample: o.commentSample,
	}
	if o.cpuProfile != "" {
		base.CPUProfile = o.cpuProfile + ".viewers"
	}
	var groups []fanoutGroup
	if o.viewerProcs == 0 {
		cfg := base
		cfg.Viewers = o.viewers
		g, err := newFanoutLocalGroup(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return []fanoutGroup{g}, nil
	}
	per := (o.viewers + o.viewerProcs - 1) / o.viewerProcs
	type started struct {
		g   fanoutGroup
		err error
	}
	ch := make(chan started, o.viewerProcs)
	n := 0
	for off := 0; off < o.viewers; off += per {
		cfg := base
		cfg.Offset, cfg.Viewers = off, min(per, o.viewers-off)
		if cfg.CPUProfile != "" {
			cfg.CPUProfile += strconv.Itoa(n)
		}
		n++
		go func() {
			g, err := newFanoutProcGroup(ctx, cfg)
			ch <- started{g, err}
		}()
	}
	var firstErr error
	for i := 0; i < n; i++ {
		s := <-ch
		if s.err != nil && firstErr == nil {
			firstErr = s.err
		}
		if s.g != nil {
			groups = append(groups, s.g)
		}
	}
	return groups, firstErr
}

// fanoutLocalGroup runs viewers in this process.
type fanoutLocalGroup struct {
	p                                     *fanoutPool
	frames0, batches0, comments0, events0 uint64
	cpu0                                  float64
	ownProcess                            bool // the group is a whole (child) process: report its CPU
}

func newFanoutLocalGroup(ctx context.Context, cfg fanoutViewerConfig) (*fanoutLocalGroup, error) {
	p, err := newFanoutPool(cfg)
	if err != nil {
		return nil, err
	}
	if err := p.connectAll(ctx); err != nil {
		p.close()
		return nil, err
	}
	return &fanoutLocalGroup{p: p}, nil
}

func (g *fanoutLocalGroup) begin() {
	g.frames0, g.batches0 = g.p.frames.Load(), g.p.batches.Load()
	g.comments0, g.events0 = g.p.comments.Load(), g.p.events.Load()
	g.cpu0 = fanoutCPUSeconds("self")
}

func (g *fanoutLocalGroup) end(sent []int64, drain time.Duration) (fanoutChildResult, error) {
	p := g.p
	r := fanoutChildResult{
		Connected: p.connected.Load(),
		Frames:    p.frames.Load() - g.frames0,
		Batches:   p.batches.Load() - g.batches0,
		Comments:  p.comments.Load() - g.comments0,
		Events:    p.events.Load() - g.events0,
	}
	if g.ownProcess {
		r.CPUSeconds = fanoutCPUSeconds("self") - g.cpu0
	}
	deadline := time.Now().Add(drain)
	for !p.pinsComplete(len(sent)) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	h := newFanoutHist()
	_, r.PinLost = p.pinLatencies(sent, h)
	r.PinHist = h.sparse()
	r.CommentHist = p.commentLat.sparse()
	r.Reconnects, r.SlowByes, r.DialErrors = p.reconnects.Load(), p.slowByes.Load(), p.dialErrors.Load()
	return r, nil
}

func (g *fanoutLocalGroup) close() { g.p.close() }

// fanoutProcGroup runs viewers in a child process (this executable, same arguments,
// configuration in the environment), talking over its stdin/stdout.
type fanoutProcGroup struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	once  sync.Once
}

func newFanoutProcGroup(ctx context.Context, cfg fanoutViewerConfig) (*fanoutProcGroup, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("fanout: child: %w", err)
	}
	b, _ := json.Marshal(cfg)
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), fanoutChildEnv+"="+string(b))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("fanout: start child: %w", err)
	}
	g := &fanoutProcGroup{cmd: cmd, in: in, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "FANOUT-") {
				g.lines <- line
			}
		}
		close(g.lines)
	}()
	select {
	case line, ok := <-g.lines:
		if !ok || !strings.HasPrefix(line, "FANOUT-READY") {
			g.close()
			return nil, fmt.Errorf("fanout: child did not connect its viewers (%q)", line)
		}
	case <-ctx.Done():
		g.close()
		return nil, ctx.Err()
	case <-time.After(5 * time.Minute):
		g.close()
		return nil, errors.New("fanout: child: timeout connecting viewers")
	}
	return g, nil
}

func (g *fanoutProcGroup) begin() { fmt.Fprintln(g.in, "START") }

func (g *fanoutProcGroup) end(sent []int64, drain time.Duration) (fanoutChildResult, error) {
	b, _ := json.Marshal(struct {
		Sent  []int64       `json:"sent"`
		Drain time.Duration `json:"drain"`
	}{sent, drain})
	fmt.Fprintf(g.in, "STOP %s\n", b)
	for line := range g.lines {
		if rest, ok := strings.CutPrefix(line, "FANOUT-RESULT "); ok {
			var r fanoutChildResult
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				return r, fmt.Errorf("fanout: child result: %w", err)
			}
			return r, nil
		}
	}
	return fanoutChildResult{}, errors.New("fanout: child ended without a result")
}

func (g *fanoutProcGroup) close() {
	g.once.Do(func() {
		g.in.Close() // the child closes its viewers and exits
		done := make(chan struct{})
		go func() { g.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			g.cmd.Process.Kill()
			<-done
		}
	})
}

// runFanoutChild is the child side of fanoutProcGroup.
func runFanoutChild(ctx context.Context, cfgJSON string, stdout io.Writer) error {
	var cfg fanoutViewerConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		return fmt.Errorf("fanout child: config: %w", err)
	}
	fanoutRaiseNoFile()
	g, err := newFanoutLocalGroup(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stdout, "FANOUT-ERROR %v\n", err)
		return err
	}
	g.ownProcess = true
	defer g.close()
	fmt.Fprintf(stdout, "\nFANOUT-READY %d\n", cfg.Viewers)
	stopProfile := func() {}
	defer func() { stopProfile() }()
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "START":
			g.begin()
			stopProfile = fanoutCPUProfile(cfg.CPUProfile)
		case strings.HasPrefix(line, "STOP "):
			var stop struct {
				Sent  []int64       `json:"sent"`
				Drain time.Duration `json:"drain"`
			}
			if err := json.Unmarshal([]byte(line[5:]), &stop); err != nil {
				return fmt.Errorf("fanout child: stop: %w", err)
			}
			stopProfile()
			stopProfile = func() {}
			r, _ := g.end(stop.Sent, stop.Drain)
			b, _ := json.Marshal(r)
			fmt.Fprintf(stdout, "\nFANOUT-RESULT %s\n", b)
		}
	}
	return nil
}

// ---- process helpers -----------------------------------------------------

// fanoutCPUProfile profiles this process until the returned func is called.
func fanoutCPUProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// fanoutRaiseNoFile lifts the soft open-files limit to the hard one (10,000 viewers need
// 10,000 descriptors on each side).
func fanoutRaiseNoFile() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func fanoutSettleMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// fanoutRSSKiB reads VmRSS of /proc/<pid>/status.
func fanoutRSSKiB(pid string) (int64, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// fanoutMachineCPU returns busy and total CPU seconds of all cores from /proc/stat
// (busy excludes idle and iowait), scaled so that one core-second = 1.
func fanoutMachineCPU() (busy, total float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		if i >= 8 { // guest time is already counted in user
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy / 100, total / 100
}

// fanoutCPUSeconds reads utime+stime of /proc/<pid>/stat (clock ticks of 1/100 s).
func fanoutCPUSeconds(pid string) float64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return -1
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return -1
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}
